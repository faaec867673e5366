"""Extractive answers: quote the sentences of the retrieved passages that best answer the question.

Each sentence of the top passages is scored by the cosine similarity of its
(ingest-time) embedding with the question's, plus a small bonus for shared
words, numbers and names. The best one is quoted with ``[1]``; a second is
added when it is nearly as good and says something else. When even the best
sentence is below ``min_relevance`` the answer abstains with
:data:`CANNOT_ANSWER` instead of quoting something unrelated.

Citations are sentence spans in the source text, so the quote can be checked
against the file: ``source_text[start:end] == citation.text``.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.lexicon import content_words
from assistant.retrieve import Retrieval
from assistant.store import Store
from assistant.types import CANNOT_ANSWER, Citation

PASSAGES_CONSIDERED = 3
SECOND_SENTENCE_MARGIN = 0.012
LEXICAL_BONUS = 0.03
RANK_PENALTY = 0.004


@dataclass(frozen=True)
class Candidate:
    score: float
    similarity: float
    passage_rank: int
    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    line: int


def candidates(store: Store, retrieval: Retrieval) -> list[Candidate]:
    """Every sentence of the top passages, best first."""
    passages = retrieval.passages[:PASSAGES_CONSIDERED]
    vectors = store.sentence_vectors([p.chunk_id for p in passages])
    chunks = store.chunks_by_id([p.chunk_id for p in passages])
    question_words = content_words(retrieval.question)
    found: list[Candidate] = []
    for rank, passage in enumerate(passages):
        chunk = chunks.get(passage.chunk_id)
        matrix = vectors.get(passage.chunk_id)
        if chunk is None or matrix is None or len(matrix) != len(chunk.sentences):
            continue
        similarities = matrix @ retrieval.vector
        for span, similarity in zip(chunk.sentences, similarities, strict=True):
            text = chunk.text[span.start - chunk.start : span.end - chunk.start]
            words = content_words(text)
            overlap = len(question_words & words) / len(question_words) if question_words else 0.0
            score = float(similarity) + LEXICAL_BONUS * overlap - RANK_PENALTY * rank
            line = chunk.line + chunk.text.count("\n", 0, span.start - chunk.start)
            found.append(Candidate(score, float(similarity), rank, chunk.id, chunk.source, span.start, span.end, text, line))
    found.sort(key=lambda c: -c.score)
    return found


def answer_extractive(store: Store, retrieval: Retrieval, min_relevance: float) -> tuple[str, list[Citation], bool]:
    """Return ``(answer text, citations, abstained)``."""
    ranked = candidates(store, retrieval)
    if not ranked or ranked[0].similarity < min_relevance:
        return CANNOT_ANSWER, [], True
    chosen = [ranked[0]]
    for other in ranked[1:]:
        if other.score < ranked[0].score - SECOND_SENTENCE_MARGIN or other.similarity < min_relevance:
            break
        if all(_distinct(other, c) for c in chosen):
            chosen.append(other)
            break
    chosen.sort(key=lambda c: (c.passage_rank, c.start))
    citations = [Citation(n, c.source, c.start, c.end, c.text, c.chunk_id, c.line) for n, c in enumerate(chosen, start=1)]
    text = " ".join(f"“{c.text}” [{c.n}]" for c in citations)
    return text, citations, False


def _distinct(a: Candidate, b: Candidate) -> bool:
    """Not the same sentence (overlapping chunks repeat sentences) and not a near-duplicate."""
    if a.source == b.source and a.start < b.end and b.start < a.end:
        return False
    return a.text != b.text
