"""Retrieval fusion and extractive answers with the fake embedder."""

from pathlib import Path

import pytest

from assistant import CANNOT_ANSWER, Assistant
from assistant.errors import QuestionError, StoreError
from assistant.loaders import load_text
from assistant.retrieve import fuse


def test_fuse_rewards_agreement_and_respects_weights() -> None:
    fused = fuse([(["a", "b", "c"], 1.0), (["c", "b"], 1.0)])
    assert [cid for cid, _ in fused][-1] == "a", "ids found by both lists beat one found by one"
    assert fuse([(["a"], 1.0), (["b"], 0.5)])[0][0] == "a"


def test_retrieve_returns_passages_with_exact_spans(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    passages = bot.retrieve("How tall is the Eiffel tower? 330", k=2)
    assert len(passages) == 2
    assert "330 mètres" in passages[0].text
    top = passages[0]
    assert load_text(Path(top.source))[top.start : top.end] == top.text
    assert top.score >= passages[1].score
    assert top.lexical_rank == 1


def test_lexical_search_folds_accents(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot._open_store(create=False)
    hits = store.lexical_search("metres", 5)
    assert hits and "330 mètres" in store.chunks_by_id([hits[0][0]])[hits[0][0]].text


def test_html_scripts_are_not_indexed(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot._open_store(create=False)
    assert store.lexical_search("secret index", 5) == []


def test_extractive_answer_quotes_and_cites_the_sentence(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    answer = bot.ask("How many hours a day do cats sleep?")
    assert answer.mode == "extractive" and not answer.abstained
    assert answer.citations, answer
    first = answer.citations[0]
    assert first.text == "Cats sleep for about sixteen hours a day."
    assert load_text(Path(first.source))[first.start : first.end] == first.text
    assert f"“{first.text}” [1]" in answer.text


def test_unrelated_question_abstains(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    answer = bot.ask("quantum chromodynamics lattice gauge")
    assert answer.abstained and answer.text == CANNOT_ANSWER and answer.citations == []


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01\x02", "\n\t"])
def test_empty_questions_are_refused(bot: Assistant, docs: Path, question: str) -> None:
    bot.ingest([docs])
    with pytest.raises(QuestionError, match="empty"):
        bot.ask(question)


def test_huge_question_with_control_characters_is_truncated_not_fatal(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    answer = bot.ask("cats sleep\x07 hours " * 6000)  # ~100 KB
    assert len(answer.question) > 100_000  # the Answer keeps what was asked
    assert answer.mode == "extractive"


def test_asking_without_a_store_says_how_to_make_one(tmp_path: Path, fake_embedder: object) -> None:
    with pytest.raises(StoreError, match="assistant ingest"):
        Assistant(embedder=fake_embedder, store=str(tmp_path / "none")).ask("hello?")  # type: ignore[arg-type]
