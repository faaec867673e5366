"""Retrieval fusion and extractive answers with the fake embedder."""

from pathlib import Path

import pytest

from assistant import CANNOT_ANSWER, Assistant
from assistant.errors import QuestionError, StoreError
from assistant.loaders import load_text
from assistant.retrieve import fuse
from tests.conftest import FakeEmbedder


def test_fusion_weighs_sentences_and_bm25_only_within_a_language() -> None:
    dense = {"a": 0.80, "b": 0.79}
    assert fuse(dense, {}, {}, {})[0][0] == "a"
    assert fuse(dense, {"a": 0.80, "b": 0.90}, {}, {})[0][0] == "b", "a chunk with one very close sentence wins"
    lexical = {"b": 1.0}
    assert fuse(dense, {}, lexical, {"b": False})[0][0] == "a", "cross-language BM25 does not count"
    assert fuse(dense, {}, lexical, {"b": True})[0][0] == "b"
    assert [cid for cid, _ in fuse(dense, {}, {"c": 1.0}, {"c": True})] == ["c", "a", "b"], "BM25-only hits are candidates too"


def test_retrieve_returns_passages_with_exact_spans(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    passages = bot.retrieve("Combien mesure la tour Eiffel ? 330", k=2)
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


def test_without_sentence_vectors_ingest_embeds_only_chunks_and_answers_the_same(
    docs: Path, tmp_path: Path, fake_embedder: FakeEmbedder, bot: Assistant
) -> None:
    question = "How many hours a day do cats sleep?"
    bot.ingest([docs])
    with_vectors = bot.ask(question)
    with Assistant(embedder=fake_embedder, store=str(tmp_path / "fast"), min_relevance=0.3, sentence_vectors=False) as fast:
        fake_embedder.embedded = 0
        report = fast.ingest([docs])
        assert fake_embedder.embedded == report.chunks_embedded, "one text per chunk, no sentences"
        store = fast._open_store(create=False)
        assert store.sentence_vectors([cid for (cid,) in store.db.execute("SELECT id FROM chunks")]) == {}
        fake_embedder.embedded = 0
        answer = fast.ask(question)
        assert fake_embedder.embedded > 0, "the top passages' sentences are embedded when answering"
    assert answer.text == with_vectors.text and answer.citations == with_vectors.citations
