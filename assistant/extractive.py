"""Extractive answers: quote the sentences of the retrieved passages that best answer the question.

Each sentence of the top passages is scored by the cosine similarity of its
embedding (stored at ingest) with the question's, plus a small bonus for shared
words, numbers and names. The best one is quoted with ``[1]``; a second is
added when it is nearly as good and says something else. When even the best
sentence is below ``min_relevance`` the answer abstains with
:data:`CANNOT_ANSWER` instead of quoting something unrelated.

Citations are sentence spans in the source text, so the quote can be checked
against the file: ``source_text[start:end] == citation.text``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from assistant.embed import Embedder
from assistant.lexicon import content_words, guess_language
from assistant.retrieve import Retrieval, sentence_matrices
from assistant.store import Store
from assistant.types import CANNOT_ANSWER, Citation

PASSAGES_CONSIDERED = 3
SECOND_SENTENCE_MARGIN = 0.012
LEXICAL_WEIGHT = 0.1
RANK_PENALTY = 0.004
SAME_LANGUAGE_MARGIN = 0.02
"""e5 scores a question against text in its own language higher than across languages;
the abstention threshold rises by this much when both are in the same language."""


@dataclass(frozen=True)
class Sentence:
    rank: int
    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    line: int
    words: frozenset[str]
    language: str | None


@dataclass(frozen=True)
class Candidate:
    """A sentence scored for one question; quoted only if ``similarity >= threshold``."""

    score: float
    similarity: float
    threshold: float
    sentence: Sentence


def sentences(store: Store, retrieval: Retrieval, embedder: Embedder) -> tuple[list[Sentence], np.ndarray]:
    """Every sentence of the top passages, with its embedding (one row each)."""
    passages = retrieval.passages[:PASSAGES_CONSIDERED]
    vectors = sentence_matrices(store, embedder, [p.chunk_id for p in passages])
    chunks = store.chunks_by_id([p.chunk_id for p in passages])
    found: list[Sentence] = []
    rows: list[np.ndarray] = []
    for rank, passage in enumerate(passages):
        chunk = chunks.get(passage.chunk_id)
        matrix = vectors.get(passage.chunk_id)
        if chunk is None or matrix is None or len(matrix) != len(chunk.sentences):
            continue
        for span, row in zip(chunk.sentences, matrix, strict=True):
            text = chunk.text[span.start - chunk.start : span.end - chunk.start]
            line = chunk.line + chunk.text.count("\n", 0, span.start - chunk.start)
            found.append(Sentence(rank, chunk.id, chunk.source, span.start, span.end, text, line,
                                   frozenset(content_words(text)), guess_language(text)))
            rows.append(row)
    return found, (np.vstack(rows) if rows else np.zeros((0, len(retrieval.vector)), dtype=np.float32))


def rank_sentences(found: list[Sentence], matrix: np.ndarray, question: str, vector: np.ndarray, min_relevance: float) -> list[Candidate]:
    """Score sentences for one question: cosine similarity plus IDF-weighted word coverage.

    Coverage counts question words found in the sentence, each weighted by how
    rare it is among the candidate sentences, so "informé" outweighs "Trump" when
    Trump is in every sentence. Words found in no candidate (another language)
    still count in the denominator, so cross-lingual questions get a small bonus.
    """
    question_words = content_words(question)
    df = {w: sum(1 for s in found if w in s.words) for w in question_words}
    idf = {w: math.log(1 + len(found) / (1 + df[w])) for w in question_words}
    total = sum(idf.values())
    language = guess_language(question)
    out = []
    for sentence, similarity in zip(found, matrix @ vector, strict=True):
        coverage = sum(idf[w] for w in question_words & sentence.words) / total if total else 0.0
        same = language is not None and language == sentence.language
        score = float(similarity) + LEXICAL_WEIGHT * coverage - RANK_PENALTY * sentence.rank
        threshold = min_relevance + (SAME_LANGUAGE_MARGIN if same else 0.0)
        out.append(Candidate(score, float(similarity), threshold, sentence))
    out.sort(key=lambda c: -c.score)
    return out


def question_parts(question: str) -> list[str]:
    """Split a multi-part question at "and"/"et" before a question word.

    >>> question_parts("Who met in Moscow, and how long did their meeting last?")
    ['Who met in Moscow', 'how long did their meeting last?']
    """
    parts = [p.strip(" ,;") for p in _PART_BREAK.split(question)]
    return parts if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts) else [question]


_PART_BREAK = re.compile(
    r"(?:,|;)?\s+(?:and|et)\s+(?=(?:who|what|when|where|why|how|which|qui|que|quoi|quand|où|comment|combien|pourquoi|quel|quelle)\b)",
    re.IGNORECASE,
)


def answer_extractive(
    store: Store, retrieval: Retrieval, min_relevance: float, embedder: Embedder
) -> tuple[str, list[Citation], bool]:
    """Return ``(answer text, citations, abstained)``.

    The best sentence for the question is quoted, plus a second one when it is
    nearly as good. A multi-part question ("who ..., and how long ...?") also
    gets the best sentence for each part. Below its threshold nothing is quoted.
    """
    found, matrix = sentences(store, retrieval, embedder)
    ranked = rank_sentences(found, matrix, retrieval.question, retrieval.vector, min_relevance)
    chosen: list[Candidate] = []
    if ranked and ranked[0].similarity >= ranked[0].threshold:
        chosen.append(ranked[0])
        for other in ranked[1:]:
            if other.score < ranked[0].score - SECOND_SENTENCE_MARGIN or other.similarity < other.threshold:
                break
            if all(_distinct(other, c) for c in chosen):
                chosen.append(other)
                break
    parts = question_parts(retrieval.question)
    if len(parts) > 1:
        for part in parts:
            best = rank_sentences(found, matrix, part, embedder.embed_query(part), min_relevance)[:1]
            if best and best[0].similarity >= best[0].threshold and all(_distinct(best[0], c) for c in chosen):
                chosen.append(best[0])
    if not chosen:
        return CANNOT_ANSWER, [], True
    quoted = sorted((c.sentence for c in chosen), key=lambda s: (s.rank, s.start))
    citations = [Citation(n, s.source, s.start, s.end, s.text, s.chunk_id, s.line) for n, s in enumerate(quoted, start=1)]
    text = " ".join(f"“{c.text}” [{c.n}]" for c in citations)
    return text, citations, False


def _distinct(first: Candidate, second: Candidate) -> bool:
    """Not the same sentence (overlapping chunks repeat sentences) and not a duplicate."""
    a, b = first.sentence, second.sentence
    if a.source == b.source and a.start < b.end and b.start < a.end:
        return False
    return a.text != b.text
