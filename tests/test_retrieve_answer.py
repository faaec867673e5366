"""Retrieval fusion and extractive answers with the fake embedder."""

from pathlib import Path

import numpy as np
import pytest

from assistant import CANNOT_ANSWER, Assistant
from assistant.answer.features import PASSAGE_FEATURES
from assistant.answer.scorer import load_scorer
from assistant.errors import QuestionError, StoreError
from assistant.ingest.loaders import load_text
from tests.conftest import FakeEmbedder


def test_fitted_fusion_weighs_sentences_and_bm25_only_within_a_language() -> None:
    scorer = load_scorer()
    column = {name: i for i, name in enumerate(PASSAGE_FEATURES)}

    def row(chunk: float, sentence: float, bm25: float) -> np.ndarray:
        r = np.zeros(len(PASSAGE_FEATURES))
        r[column["chunk_cos"]], r[column["sentence_cos"]], r[column["bm25"]], r[column["bm25_hit"]] = chunk, sentence, bm25, float(bm25 > 0)
        return r

    plain, close_sentence, lexical = row(0.80, 0.82, 0.0), row(0.80, 0.88, 0.0), row(0.80, 0.82, 1.0)
    same = scorer.passage_scores(np.vstack([plain, close_sentence, lexical]), np.array([True, True, True]))
    assert same[1] > same[0], "a chunk with one very close sentence wins"
    assert same[2] > same[0], "BM25 counts within a language"
    cross = scorer.passage_scores(np.vstack([plain, lexical]), np.array([False, False]))
    assert cross[0] == cross[1], "across languages BM25 is not a feature"


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
    store = bot.store
    hits = store.lexical_search("metres", 5)
    assert hits and "330 mètres" in store.chunks_by_id([hits[0][0]])[hits[0][0]].text


def test_html_scripts_are_not_indexed(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot.store
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


def test_below_the_confidence_threshold_the_answer_abstains(fake_embedder: FakeEmbedder, tmp_path: Path, docs: Path) -> None:
    # with real embeddings the fitted threshold decides (tests/test_seed_integration.py); the fake embedder's
    # cosines mean nothing to the fitted scorer, so here the threshold is set to refuse everything
    with Assistant(embedder=fake_embedder, store=str(tmp_path / "strict"), min_confidence=1.0) as strict:
        strict.ingest([docs])
        answer = strict.ask("How many hours a day do cats sleep?")
    assert answer.abstained and answer.text == CANNOT_ANSWER and answer.citations == []
    assert answer.passages, "the passages are still returned for inspection"


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
    asked = bot._retrieval("cats sleep\x07 hours " * 6000, None).question.text
    assert len(asked) == bot.settings.max_question_chars, "retrieval saw the question cut to max_question_chars"
    assert "\x07" not in asked and asked.startswith("cats sleep hours cats sleep")


def test_asking_without_a_store_says_how_to_make_one(tmp_path: Path, fake_embedder: object) -> None:
    with pytest.raises(StoreError, match="assistant ingest"):
        Assistant(embedder=fake_embedder, store=str(tmp_path / "none")).ask("hello?")  # type: ignore[arg-type]


def test_without_sentence_vectors_ingest_embeds_only_chunks_and_answers_the_same(
    docs: Path, tmp_path: Path, fake_embedder: FakeEmbedder, bot: Assistant
) -> None:
    question = "How many hours a day do cats sleep?"
    bot.ingest([docs])
    with_vectors = bot.ask(question)
    with Assistant(embedder=fake_embedder, store=str(tmp_path / "fast"), min_confidence=0.0, sentence_vectors=False) as fast:
        fake_embedder.embedded = 0
        report = fast.ingest([docs])
        assert fake_embedder.embedded == report.chunks_embedded, "one text per chunk, no sentences"
        store = fast.store
        assert store.sentence_vectors([cid for (cid,) in store.db.execute("SELECT id FROM chunks")]) == {}
        fake_embedder.embedded = 0
        answer = fast.ask(question)
        assert fake_embedder.embedded > 0, "the top passages' sentences are embedded when answering"
    assert answer.text == with_vectors.text and answer.citations == with_vectors.citations
