"""Extractive answers: quote the sentences of the top passages that most probably answer the question.

Every sentence of the best passages gets the features of
:func:`assistant.answer.features.sentence_features` and the fitted scorer's
probability that it holds the answer. The most probable one is quoted with
``[1]``; a second one when it too is probable enough and the two stay short.
A question-level model then gives the probability that the documents answer
the question at all; below its threshold (chosen on held-out development data
for at most 5% false abstentions) the answer is :data:`CANNOT_ANSWER` instead
of an unrelated quote.

Citations are sentence spans in the source text, so the quote can be checked
against the file: ``source_text[start:end] == citation.text``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answer.features import SentenceInput, answerable_features, sentence_features
from assistant.answer.reader import PASSAGES_READ, Reader, Reading
from assistant.answer.retrieve import Retrieval, fill_sentence_vectors
from assistant.answer.scorer import Scorer
from assistant.index.embed import Embedder
from assistant.text.quotable import quotable, quotable_row
from assistant.types import CANNOT_ANSWER, AnswerSpan, Chunk, Citation, line_at, sentence_texts

MAX_WORDS = 60
"""A second sentence is quoted only if the answer stays within this many words (answers are quotes, not pages)."""


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence of a top passage, located in its document."""

    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    line: int
    rank: int
    same_language: bool
    page: int | None = None
    section: str | None = None
    position: int = -1
    """Its index among its chunk's sentences."""
    header: str | None = None
    """The header row of its table, when the sentence is a table row."""


def candidate_sentences(retrieval: Retrieval, scorer: Scorer, embedder: Embedder) -> tuple[list[Sentence], np.ndarray]:
    """The sentences of the top passages and their feature rows (shared by the answerer and the trainer)."""
    top = retrieval.ranked[: scorer.passages_considered]
    missing = [c.chunk for c in top if c.sentence_vectors is None]
    embedded: dict[str, np.ndarray] = {}
    fill_sentence_vectors(embedder, missing, embedded)
    found: list[Sentence] = []
    inputs: list[SentenceInput] = []
    for rank, candidate in enumerate(top):
        chunk = candidate.chunk
        cosines = candidate.sentence_cos
        if cosines is None and chunk.id in embedded:
            cosines = embedded[chunk.id] @ retrieval.vector + candidate.shift
        if cosines is None or len(cosines) != len(chunk.sentences):
            continue
        for i, (span, text) in enumerate(zip(chunk.sentences, sentence_texts(chunk), strict=True)):
            row = chunk.table_row(span.start, span.end)
            header = row[2] if row else None
            if not (quotable_row(text) if header else quotable(text, chunk.section)):
                continue
            line = line_at(chunk, span.start)
            found.append(Sentence(chunk.id, chunk.source, span.start, span.end, text, line, rank, candidate.same_language,
                                  chunk.page_at(span.start), chunk.section, i, header))
            inputs.append(SentenceInput(text, float(cosines[i]), candidate.score, rank, i == 0))
    return found, sentence_features(retrieval.question, inputs)


@dataclass(frozen=True)
class Decision:
    """What the scorer made of one question's sentences."""

    best: int
    """Index of the most probable sentence (-1 when there is none)."""
    answerable: float
    """P(the documents answer the question), from the abstention model."""
    threshold: float
    probabilities: np.ndarray
    """P(sentence holds the answer), per sentence."""
    margin: float = np.inf
    """The reader's best span score over its best no-answer score (``inf``: no reader)."""
    margin_threshold: float = -np.inf
    span: tuple[int, int] | None = None
    """The reader's answer phrase (document characters): its best span inside the best sentence."""
    combined: tuple[float, float] | None = None
    """``(weight, below)``: abstain on ``logit(answerable) + weight x margin < below`` instead of the two thresholds."""

    @property
    def abstains(self) -> bool:
        if self.best < 0:
            return True
        if self.combined is not None:
            weight, below = self.combined
            return combined_score(self.answerable, self.margin, weight) < below
        return self.answerable < self.threshold or self.margin < self.margin_threshold


def combined_score(answerable: float, margin: float, weight: float) -> float:
    """``logit(answerable) + weight x margin``: the calibrated model and the reader's no-answer margin as one score.

    >>> round(combined_score(0.5, -8.0, 0.1), 3), round(combined_score(0.9, -8.0, 0.1), 3)
    (-0.8, 1.397)
    """
    p = min(max(answerable, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)) + weight * margin)


def decide(found: list[Sentence], features: np.ndarray, retrieval: Retrieval, scorer: Scorer, min_confidence: float | None = None,
           readings: Sequence[Reading] | None = None) -> Decision:
    """Score the sentences and the question: the best sentence and whether the documents answer.

    Without ``readings`` the sentence scorer picks the sentence. With them (the reader, :mod:`.reader`), the
    sentence holding the reader's best span is quoted (table rows are left to the sentence scorer: the reader
    learnt from prose only, and read the rows of a two-row table the wrong way round), and the question is
    abstained on when either the calibrated model or the reader's no-answer margin falls below its threshold (both
    chosen on development data). The margin is over the passages read in the question's language, and gates only
    a sentence in that language: across languages it hardly tells answerable questions from the others
    (:mod:`training.cross_language_look`, :mod:`training.abstain_look`). Where both judge (that sentence, and the
    same-language model), weights with ``read_abstain`` make them one score (:func:`combined_score`) with one
    threshold. ``min_confidence`` replaces them all: a probability for the first, and no reader gate.
    """
    if not found:
        return Decision(-1, 0.0, 1.0, np.zeros(0))
    logits = scorer.sentence_logits(features, retrieval.vector)
    best = int(np.argmax(logits))
    row = answerable_features(features, logits, best, retrieval.top_chunk_cos, retrieval.top_chunk_margin)
    same = found[best].same_language
    threshold = scorer.abstain_below["same" if same else "cross"] if min_confidence is None else min_confidence
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    if not readings:
        return Decision(best, scorer.answerable(row, same), threshold, probabilities)
    if found[best].header is None:  # a table row the sentence model put first stays: the reader never saw a table
        weights = scorer.reader_weights(np.array([s.same_language for s in found]))
        best = reader_choice(logits, sentence_reads(found, readings), weights, best)
    own = {c.chunk.id for c in retrieval.ranked if c.same_language}
    mine = [r for r in readings if r.chunk_id in own]  # its margin means something in one language only
    margin = max(r.span.score for r in mine or readings) - max(r.span.null for r in mine or readings)
    gates = scorer.reader_margin if scorer.reader_margin is not None and min_confidence is None else {}
    gate = gates.get("same", -np.inf) if found[best].same_language and mine else -np.inf
    combined = scorer.read_abstain if np.isfinite(gate) and same and min_confidence is None else None
    return Decision(best, scorer.answerable(row, same), threshold, probabilities, margin, gate, phrase_in(found[best], readings, retrieval), combined)


def phrase_in(sentence: Sentence, readings: Sequence[Reading], retrieval: Retrieval) -> tuple[int, int] | None:
    """The reader's best span inside ``sentence`` (document characters), or ``None`` (a table row; not read)."""
    reading = next((r for r in readings if r.chunk_id == sentence.chunk_id), None)
    if reading is None or sentence.header is not None or reading.phrases[sentence.position][0] < 0:
        return None
    chunk_start = next((c.chunk.start for c in retrieval.ranked if c.chunk.id == sentence.chunk_id), 0)
    begin, finish = (chunk_start + int(x) for x in reading.phrases[sentence.position])
    return (begin, finish) if sentence.start <= begin < finish <= sentence.end else None


def passages_to_read(retrieval: Retrieval) -> list[Chunk]:
    """The top passages the reader reads: the first :data:`PASSAGES_READ`, in any language.

    The reader learnt from questions and passages in one language (PIAF, SQuAD); until 2026-12-02 passages in
    another language were left to the sentence model. On the development questions machine-translated into another
    language (:mod:`training.cross_language_look`) reading them too chose the answer sentence more often on every
    route (0.41-0.52 -> 0.44-0.56); its no-answer margin is not used there (:func:`decide`).
    """
    return [c.chunk for c in retrieval.ranked[:PASSAGES_READ]]


def same_language(retrieval: Retrieval, passages: Sequence[Chunk]) -> list[bool]:
    """Per passage read, whether it is in the question's language (the others go to the across-language reader)."""
    same = {c.chunk.id: c.same_language for c in retrieval.ranked}
    return [same.get(c.id, True) for c in passages]


def reading_focus(found: list[Sentence], logits: np.ndarray, passages: Sequence[Chunk]) -> list[tuple[int, int] | None]:
    """Where the reader would read each passage (:meth:`Reader.windows`): the first whole (``None``), each other one
    around the sentence the sentence model scores best in it (characters of the chunk text; its start when it has
    no candidate sentence). On development questions this chose the answer sentence as often as reading every
    passage whole, in 0.79x the time (README, The reader, "Reading less of the other passages, and the reader's weight";
    ``eval/bench/reading.py``).

    >>> s = [Sentence("b", "d", 110, 120, "x", 1, 1, True), Sentence("b", "d", 130, 150, "y", 1, 1, True)]
    >>> a, b = Chunk("a", "d", 0, 50, "t"), Chunk("b", "d", 100, 200, "t")
    >>> reading_focus(s, np.array([0.0, 1.0]), [a, b]), reading_focus(s, np.array([0.0, 1.0]), [b, a])
    ([None, (30, 50)], [None, (0, 0)])
    """
    best: dict[str, int] = {}
    for i, sentence in enumerate(found):
        if sentence.chunk_id not in best or logits[i] > logits[best[sentence.chunk_id]]:
            best[sentence.chunk_id] = i
    return [None if n == 0 else (found[best[c.id]].start - c.start, found[best[c.id]].end - c.start) if c.id in best else (0, 0)
            for n, c in enumerate(passages)]


def sentence_reads(found: list[Sentence], readings: Sequence[Reading]) -> np.ndarray:
    """The reader's score of each candidate sentence (``-inf`` for sentences of passages it did not read, and for
    table rows: it learnt from prose only)."""
    by_chunk = {r.chunk_id: r for r in readings}
    return np.array([by_chunk[s.chunk_id].sentence_scores[s.position] if s.chunk_id in by_chunk and s.header is None else -np.inf
                     for s in found])


def reader_choice(logits: np.ndarray, read: np.ndarray, weight: float | np.ndarray | None, fallback: int) -> int:
    """The sentence to quote given the sentence model's logits and the reader's scores (``-inf``: not read).

    ``weight`` ``None``: the reader's best; else the best of ``logits + weight x read`` (one weight, or one per
    sentence), sentences not read scored as the least of those read.

    >>> logits, read = np.array([2.0, 0.0, 1.0]), np.array([1.0, 3.0, -np.inf])
    >>> reader_choice(logits, read, None, 0), reader_choice(logits, read, 0.5, 0), reader_choice(logits, read, 2.0, 0)
    (1, 0, 1)
    >>> reader_choice(logits, read, np.array([0.5, 2.0, 0.5]), 0)
    1
    """
    seen = np.isfinite(read)
    if not seen.any():
        return fallback
    if weight is None:
        return int(np.argmax(read))
    return int(np.argmax(logits + weight * np.where(seen, read, read[seen].min())))


def answer_extractive(
    retrieval: Retrieval, scorer: Scorer, embedder: Embedder, min_confidence: float | None = None,
    reader: Callable[[], Reader | None] | None = None,
) -> tuple[str, list[Citation], bool, AnswerSpan | None]:
    """Return ``(answer text, citations, abstained, answer phrase)``.

    ``min_confidence`` replaces the fitted abstention thresholds (a probability). ``reader``: gives the reader that
    reads the top passages (used when the weights were fitted with one), called only when there is a passage for it
    to read (loading it takes a fifth of a second); its time goes to ``retrieval.timings``.
    """
    found, features = candidate_sentences(retrieval, scorer, embedder)
    readings = None
    passages = passages_to_read(retrieval)
    loaded = reader() if reader is not None and scorer.reader_margin is not None and found and passages else None
    if loaded is not None:
        started = time.perf_counter()
        focus = reading_focus(found, scorer.sentence_logits(features, retrieval.vector), passages)
        readings = loaded.read(retrieval.question.text, passages, focus, same_language(retrieval, passages))
        retrieval.timings["read_ms"] = (time.perf_counter() - started) * 1000
    decision = decide(found, features, retrieval, scorer, min_confidence, readings)
    chosen = choose(found, decision, scorer.second_from)
    if not chosen:
        return CANNOT_ANSWER, [], True, None
    quoted = sorted(chosen, key=lambda s: (s.rank, s.start))
    citations = [Citation(n, s.source, s.start, s.end, s.text, s.chunk_id, s.line, s.page, s.section, header=s.header)
                 for n, s in enumerate(quoted, start=1)]
    text = " ".join(f"“{c.text}” [{c.n}]" for c in citations)
    phrase = None
    if decision.span is not None:
        holder = next(c for c in citations if c.start <= decision.span[0] and decision.span[1] <= c.end)
        begin, finish = decision.span
        phrase = AnswerSpan(holder.n, holder.source, begin, finish, holder.text[begin - holder.start : finish - holder.start], holder.page)
    return text, citations, False, phrase


def choose(found: list[Sentence], decision: Decision, second_from: float) -> list[Sentence]:
    """The sentences to quote: the best one if the question is judged answerable, and a distinct, probable second one.

    >>> s = [Sentence("c", "d", 0, 5, "Yes.", 1, 0, True), Sentence("c", "d", 6, 9, "No.", 1, 0, True)]
    >>> [x.text for x in choose(s, Decision(0, 0.9, 0.5, np.array([0.9, 0.2])), second_from=0.5)]
    ['Yes.']
    """
    if decision.abstains:
        return []
    best = found[decision.best]
    chosen = [best]
    for i in np.argsort(-decision.probabilities, kind="stable"):
        if i == decision.best:
            continue
        if decision.probabilities[i] < second_from:
            break
        other = found[i]
        if _distinct(best, other):
            if len(best.text.split()) + len(other.text.split()) <= MAX_WORDS:
                chosen.append(other)
            break
    return chosen


def _distinct(a: Sentence, b: Sentence) -> bool:
    """Not the same sentence (overlapping chunks repeat sentences) and not a duplicate."""
    if a.source == b.source and a.start < b.end and b.start < a.end:
        return False
    return a.text != b.text
