"""The reader's pairs: labels on the answer's tokens, and training questions asked in a translation (Apertium)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answer.retrieve import Candidate
from assistant.index.encoder import E5Encoder
from assistant.types import Chunk
from training import reader_data
from training.answerer_data import QA, Article, Example

PASSAGE = "Le traité fut signé à Versailles en 1919. Il mit fin à la guerre. La Société des Nations naquit la même année."
ANSWER = "Versailles"


def _row(split: str, question_id: str, question: str, passage: str = PASSAGE) -> Example:
    chunk = Chunk(f"c-{question_id}", "piaf/a/p000.txt", 0, len(passage), passage)
    candidate = Candidate(chunk, 0.9, None, None, 1.0, 0, 0, True)
    return Example(split, "answerable", "piaf", question_id, (ANSWER,), [candidate], np.zeros((1, 1)),
                   gold_source=chunk.source, question=SimpleNamespace(text=question))


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder()


def test_a_translated_training_question_keeps_its_passage_and_answer_tokens(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row("train", "q1", "Où le traité fut-il signé ?"), _row("dev", "q2", "Où le traité fut-il signé ?")]
    article = Article("piaf", "a", [PASSAGE], [QA(q, "", 0, ((ANSWER, PASSAGE.index(ANSWER)),)) for q in ("q1", "q2")])
    monkeypatch.setattr(reader_data, "load_articles", lambda: [article])
    plain, plain_ids = reader_data.pairs(rows, encoder)
    asked = {"q1": ("en", "Where was the treaty signed?"), "q2": ("en", "Where was the treaty signed?")}
    found, ids = reader_data.pairs(rows, encoder, asked)

    assert [p.question_id for p in found] == ["q1@en", "q2"]  # development questions are never translated
    passage = encoder.tokenizer.tokenize(PASSAGE, "passage")
    at = PASSAGE.index(ANSWER)
    answer = passage.ids[(passage.starts >= 0) & (passage.starts < at + len(ANSWER)) & (passage.ends > at)].tolist()
    for p, window in zip(found, ids, strict=True):
        assert p.start > 0 and window[p.start - 1 : p.end].tolist() == answer, p.question_id
        assert window[p.passage_at - 1 :].tolist() == passage.ids.tolist()
    assert ids[1].tolist() == plain_ids[1].tolist()
    assert ids[0].tolist() != plain_ids[0].tolist()  # the English question's tokens, not the French one's
    with pytest.raises(ValueError, match="q1@en"):
        reader_data.windows_of(rows, found)

    both, both_ids = reader_data.pairs(rows, encoder, asked, beside=True)  # the translation added, not substituted
    assert [p.question_id for p in both] == ["q1", "q1@en", "q2"]
    assert [w.tolist() for w in both_ids] == [plain_ids[0].tolist(), ids[0].tolist(), plain_ids[1].tolist()]
    assert (both[0].start, both[0].end) == (plain[0].start, plain[0].end)


def _training_and_development_rows(monkeypatch: pytest.MonkeyPatch, question: str, passage: str) -> list[Example]:
    """A training row and a development row asking ``question`` of ``passage`` (cut in sentences at each full stop)."""
    from assistant.types import Span

    sentences = tuple(Span(m.start(), m.end()) for m in re.finditer(r"[^ .][^.]*\.", passage))
    rows = [_row(split, q, question, passage) for split, q in (("train", "q1"), ("dev", "q2"))]
    for row in rows:
        row.candidates = [replace(c, chunk=replace(c.chunk, sentences=sentences)) for c in row.candidates]
    article = Article("piaf", "a", [passage], [QA(q, "", 0, ((ANSWER, passage.index(ANSWER)),)) for q in ("q1", "q2")])
    monkeypatch.setattr(reader_data, "load_articles", lambda: [article])
    return rows


def test_pairs_cached_from_other_rows_are_refused_with_what_to_do(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row("dev", "q1", "Où le traité fut-il signé ?")]
    article = Article("piaf", "a", [PASSAGE], [QA("q1", "", 0, ((ANSWER, PASSAGE.index(ANSWER)),))])
    monkeypatch.setattr(reader_data, "load_articles", lambda: [article])
    found, _ = reader_data.pairs(rows, encoder)
    assert [w.ids for _, w in reader_data.windows_of(rows, found)]  # the rows they were built from
    rebuilt = [_row("dev", "q1", "Où le traité fut-il signé ?")]
    rebuilt[0].candidates[0].chunk = Chunk("c-other", "piaf/a/p000.txt", 0, len(PASSAGE), PASSAGE)  # its passage's chunk id moved
    with pytest.raises(ValueError, match="pair cache was built from other rows"):
        reader_data.windows_of(rebuilt, found)
    with pytest.raises(ValueError, match="latest-frozen"):
        reader_data.windows_of([_row("dev", "q9", "?")], found)  # another question at that row


def test_a_training_passage_is_also_read_without_its_answer_sentence_as_no_answer(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _training_and_development_rows(monkeypatch, "Où le traité fut-il signé ?", PASSAGE)
    plain, _ = reader_data.pairs(rows, encoder)
    found, ids = reader_data.pairs(rows, encoder, cut=1.0)

    assert found[:1] + found[2:] == plain, "the pairs as before, development's untouched"
    cut = found[1]
    assert (cut.question_id, cut.kind, cut.chunk_id, cut.start, cut.end) == ("q1", "cut", "c-q1#cut", 0, 0)
    left = encoder.tokenizer.tokenize("Il mit fin à la guerre. La Société des Nations naquit la même année.", "passage")
    assert ids[1][cut.passage_at - 1 :].tolist() == left.ids.tolist()
    assert reader_data.pairs(rows, encoder, cut=0.0)[0] == plain


def test_a_training_question_is_also_asked_with_a_year_swapped_as_no_answer(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    passage = "Le traité fut signé à Versailles en 1919. Il mit fin à la guerre. En 1920, la Société des Nations naquit à Genève."
    rows = _training_and_development_rows(monkeypatch, "Où le traité fut-il signé en 1919 ?", passage)
    plain, plain_ids = reader_data.pairs(rows, encoder)
    found, ids = reader_data.pairs(rows, encoder, swap=1.0)

    assert found[:1] + found[2:] == plain, "the pairs as before, development's untouched"
    swapped = found[1]
    assert (swapped.question_id, swapped.kind, swapped.chunk_id, swapped.start, swapped.end) == ("q1#swap", "swapped", "c-q1", 0, 0)
    asked = encoder.tokenizer.tokenize("Où le traité fut-il signé en 1920 ?", "query").ids.tolist()
    assert ids[1][: swapped.passage_at - 3].tolist() == asked, "the question with the year outside the answer's sentence"
    assert ids[1][swapped.passage_at - 1 :].tolist() == plain_ids[0][plain[0].passage_at - 1 :].tolist(), "the same passage"
    with pytest.raises(ValueError, match="q1#swap"):
        reader_data.windows_of(rows, found)


def test_a_second_cache_copies_the_pairs_an_earlier_one_holds(tmp_path: Path, encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row("train", "q1", "Où le traité fut-il signé ?"), _row("dev", "q2", "Quand le traité fut-il signé ?")]
    article = Article("piaf", "a", [PASSAGE], [QA(q, "", 0, ((ANSWER, PASSAGE.index(ANSWER)),)) for q in ("q1", "q2")])
    monkeypatch.setattr(reader_data, "load_articles", lambda: [article])
    monkeypatch.setattr(reader_data, "examples", lambda workdir, scorer=None: rows)
    monkeypatch.setattr(reader_data, "translated_asking", lambda rows, share: {"q1": ("en", "Where was the treaty signed?")})
    run = []
    hidden = E5Encoder.hidden
    monkeypatch.setattr(E5Encoder, "hidden", lambda self, windows, layers: run.append(len(windows)) or hidden(self, windows, layers))

    _, first, first_folder = reader_data.cache(tmp_path, log=False, frozen=1)
    _, second, folder = reader_data.cache(tmp_path, log=False, frozen=1, translated=0.5, beside=True)

    assert [p.question_id for p in second] == ["q1", "q1@en", "q2"] and folder != first_folder
    assert run == [2, 1]  # the second cache ran only the translated pair through the encoder
    fresh = hidden(encoder, reader_data.pairs(rows, encoder, {"q1": ("en", "Where was the treaty signed?")}, True)[1], encoder.layers[:1])
    for states, expected in zip(reader_data.load_states(folder, second), fresh, strict=True):
        np.testing.assert_allclose(states.astype(np.float32), expected, atol=2e-2)


def test_a_share_of_training_questions_is_asked_in_a_translation() -> None:
    """Needs Apertium (scripts/test.sh installs it)."""
    rows = [_row("train", f"piaf-{i}", "Qui est mort en juillet ?") for i in range(200)]
    rows += [_row("dev", f"piaf-dev-{i}", "Qui est mort en juillet ?") for i in range(50)]
    asked = reader_data.translated_asking(rows, 0.5)

    assert 70 < len(asked) < 130
    assert all(qid.startswith("piaf-") and not qid.startswith("piaf-dev") for qid in asked)
    assert {language for language, _ in asked.values()} == {"en", "es"}
    assert all(text != "Qui est mort en juillet ?" and text for _, text in asked.values())
    assert reader_data.translated_asking(rows, 0.5) == asked  # the same questions, languages and texts every run
    assert set(reader_data.translated_asking(rows, 0.25)) < set(asked)
