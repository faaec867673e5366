"""Features of a candidate passage or sentence for one question: the inputs of the fitted scorer.

One pure function per stage, used both by the trainer (``training/train_answerer.py``)
and at run time, so the two cannot drift. Nothing here is a tuned constant: the
weights that turn these numbers into a score live in the weights file
(:mod:`assistant.answer.scorer`). What is deliberately absent: word lists per language.
Lexical evidence that survives translation (numbers, capitalised names) is found
by its shape, and the kind of answer a question wants ("how long", "quand",
"wer") is learned from the question's multilingual embedding, not from a list of
question words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.text.language import anchors, language, names, numbers, with_digits
from assistant.text.lexicon import words

PASSAGE_FEATURES = (
    "chunk_cos",  # cosine of question and chunk (for a BM25-only hit: the worst dense score of the list)
    "sentence_cos",  # best cosine of a sentence of the chunk (chunk_cos when sentences have no vectors)
    "chunk_cos_gap",  # chunk_cos minus the best chunk_cos of the candidates
    "sentence_cos_gap",  # sentence_cos minus the best sentence_cos of the candidates
    "bm25",  # BM25 divided by the best BM25 of the candidates (0 when not a BM25 hit)
    "bm25_hit",  # 1 when BM25 found it
    "anchor_share",  # share of the question's numbers and names found in the chunk
)
"""Passage features, in order. Cosines of a passage in another language than the question's are first
raised by the fitted cross-language shift (e5 scores pairs across languages lower); the cross-language
model uses only :data:`CROSS_LANGUAGE_PASSAGE`."""

CROSS_LANGUAGE_PASSAGE = ("chunk_cos", "sentence_cos", "chunk_cos_gap", "sentence_cos_gap", "anchor_share")
"""Across languages BM25 matches only names and numbers, which ``anchor_share`` already counts by shape."""

ANSWER_SHAPES = ("number", "year", "name", "quantity")
"""What a sentence may hold that the question does not: a new number, a year, a new capitalised name, a number with a unit or %."""

SENTENCE_FEATURES = (
    "cos",  # cosine of question and sentence (shifted when their languages differ)
    "cos_gap",  # cos minus the best cos among the candidate sentences
    "passage_score",  # the fused passage score (logit) of the sentence's passage
    "passage_gap",  # passage_score minus the best passage score
    "rank_1",
    "rank_2",  # 1 when the passage is second / third or later
    "first_sentence",  # 1 for the first sentence of its chunk
    "coverage",  # question words in the sentence, each weighted by its rarity among the candidates
    "anchor_share",  # share of the question's numbers and names that the sentence holds
    "log_length",  # log of the sentence's length in words
) + tuple(f"has_{shape}" for shape in ANSWER_SHAPES)
"""Sentence features, in order; the scorer adds the answer-type terms: P(the answer is a number | question) x has_number, ..."""

ANSWERABLE_FEATURES = (
    "best_logit",  # the sentence model's logit for the best sentence
    "logit_gap",  # best minus second-best logit
    "best_cos",  # cosine of the best sentence (shifted across languages)
    "cos_lift",  # best sentence's cos minus the mean cos of the candidate sentences
    "top_chunk_cos",  # best chunk cosine of all candidates (does anything in the store match?)
    "top_chunk_margin",  # best chunk cosine minus the mean of the first ten (does it stand out?)
    "best_coverage",  # question words in the best sentence (rarity-weighted)
    "best_anchor_share",  # question numbers and names in the best sentence
    "best_passage_score",  # fused score of the best sentence's passage
)
"""Question-level features of the abstention model (is the question answered by what was found?)."""

CROSS_LANGUAGE_ANSWERABLE = ("best_cos", "cos_lift", "top_chunk_cos", "top_chunk_margin", "best_anchor_share")
"""When the best sentence is in another language than the question: no word-overlap evidence to expect."""

_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_QUANTITY = re.compile(r"\d\s*(?:%|[^\W\d_]{1,12}\b)")


@dataclass(frozen=True)
class Question:
    """What the features need to know about the question."""

    text: str
    vector: np.ndarray
    language: str
    words: frozenset[str] = field(default=frozenset())
    anchors: frozenset[str] = field(default=frozenset())

    @classmethod
    def of(cls, text: str, vector: np.ndarray, lang: str | None = None) -> Question:
        """``lang``: the text's language when already identified (else identified here)."""
        return cls(text, vector, lang or language(text), frozenset(words(text)), anchors(with_digits(text)))


def shapes(text: str, question: Question) -> list[float]:
    """1/0 for each of :data:`ANSWER_SHAPES` that ``text`` holds and the question does not (numbers in words count)."""
    text = with_digits(text)
    new_numbers = numbers(text) - question.anchors
    years = set(_YEAR.findall(text)) - question.anchors
    new_names = names(text) - question.anchors - question.words
    quantity = bool(_QUANTITY.search(text)) and bool(new_numbers)
    return [float(bool(new_numbers)), float(bool(years)), float(bool(new_names)), float(quantity)]


def passage_features(
    question: Question, chunk_cos: Sequence[float], sentence_cos: Sequence[float], bm25: Sequence[float], texts: Sequence[str],
    chunk_anchors: Sequence[frozenset[str] | None] | None = None,
) -> np.ndarray:
    """One row of :data:`PASSAGE_FEATURES` per candidate chunk (``bm25`` raw, 0 for dense-only hits; cosines already shifted).

    ``chunk_anchors``: each text's :func:`anchors` as stored at ingest (``None`` where not stored: computed here).
    """
    n = len(texts)
    if n == 0:
        return np.zeros((0, len(PASSAGE_FEATURES)), dtype=np.float32)
    chunk = np.asarray(chunk_cos, dtype=np.float32)
    sentence = np.asarray(sentence_cos, dtype=np.float32)
    lexical = np.asarray(bm25, dtype=np.float32)
    top_lexical = float(lexical.max())
    known = chunk_anchors or [None] * n
    share = [_share(question.anchors, a if a is not None else anchors(t)) for t, a in zip(texts, known, strict=True)]
    return np.column_stack(
        [chunk, sentence, chunk - chunk.max(), sentence - sentence.max(),
         lexical / top_lexical if top_lexical > 0 else lexical, (lexical > 0).astype(np.float32), np.asarray(share, dtype=np.float32)]
    ).astype(np.float32)


@dataclass(frozen=True)
class SentenceInput:
    """A sentence of a top passage, as the sentence features see it."""

    text: str
    cos: float
    """Already shifted when the sentence's language differs from the question's."""
    passage_score: float
    rank: int
    first: bool


def sentence_features(question: Question, sentences: Sequence[SentenceInput]) -> np.ndarray:
    """One row of :data:`SENTENCE_FEATURES` per candidate sentence."""
    if not sentences:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
    word_sets = [frozenset(words(s.text)) for s in sentences]
    asked = question.words
    df = {w: sum(1 for ws in word_sets if w in ws) for w in asked}
    idf = {w: math.log(1 + len(sentences) / (1 + df[w])) for w in asked}
    total = sum(idf.values())
    best_cos = max(s.cos for s in sentences)
    best_passage = max(s.passage_score for s in sentences)
    rows = []
    for s, ws in zip(sentences, word_sets, strict=True):
        coverage = sum(idf[w] for w in asked & ws) / total if total else 0.0
        rows.append(
            [s.cos, s.cos - best_cos, s.passage_score, s.passage_score - best_passage, float(s.rank == 1), float(s.rank >= 2),
             float(s.first), coverage, _share(question.anchors, anchors(s.text)), math.log(1 + len(ws)), *shapes(s.text, question)]
        )
    return np.asarray(rows, dtype=np.float32)


def answerable_features(sentence_rows: np.ndarray, logits: np.ndarray, best: int, top_chunk_cos: float, top_chunk_margin: float) -> np.ndarray:
    """One row of :data:`ANSWERABLE_FEATURES` for the question, given its sentences' features and logits."""
    column = {name: sentence_rows[:, i] for i, name in enumerate(SENTENCE_FEATURES)}
    second = float(np.partition(logits, -2)[-2]) if len(logits) > 1 else float(logits[best])
    cos = column["cos"]
    return np.array([logits[best], logits[best] - second, cos[best], cos[best] - cos.mean(), top_chunk_cos, top_chunk_margin,
                     column["coverage"][best], column["anchor_share"][best], column["passage_score"][best]], dtype=np.float64)


def _share(asked: frozenset[str], found: frozenset[str]) -> float:
    return len(asked & found) / len(asked) if asked else 0.0
