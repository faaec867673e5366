"""Hybrid retrieval: dense (Chroma, cosine) and lexical (FTS5 BM25) candidates, ranked by a fitted fusion.

Candidates are the union of the dense and the BM25 top lists. Each gets the
features of :func:`assistant.answer.features.passage_features` (chunk and best-sentence
cosine, BM25, shared numbers and names, each also relative to the best
candidate) and is ranked by the fitted scorer: one linear model when question
and passage share a language, another, without BM25, across languages, where
BM25 matches little but names and numbers (which the shared-anchor feature
counts anyway). The weights are fitted on public training data
(``training/train_answerer.py``), not set by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np

from assistant.answer.features import Question, passage_features
from assistant.answer.scorer import Scorer
from assistant.index.embed import Embedder
from assistant.index.store import Store
from assistant.text.language import LANGUAGE_PREFIX, language
from assistant.types import Chunk, Passage, sentence_texts


@dataclass
class Candidate:
    """One chunk considered for a question, with what the answerer needs (no store access later)."""

    chunk: Chunk
    chunk_cos: float
    """Cosine of question and chunk, plus the cross-language shift when their languages differ."""
    sentence_cos: np.ndarray | None
    """Cosine of the question with each sentence, shifted likewise (``None`` when the chunk has no stored sentence vectors)."""
    sentence_vectors: np.ndarray | None
    bm25: float
    dense_rank: int | None
    lexical_rank: int | None
    same_language: bool
    score: float = 0.0
    language: str = ""
    shift: float = 0.0
    """What was added to the cosines (see :func:`shift_cosines`)."""

    @property
    def raw_chunk_cos(self) -> float:
        return self.chunk_cos - self.shift


@dataclass
class Retrieval:
    """Candidates for one question, ranked best first; ``passages`` are the public view of the first ``k``."""

    question: Question
    ranked: list[Candidate]
    passages: list[Passage]
    top_chunk_cos: float
    top_chunk_margin: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def vector(self) -> np.ndarray:
        return self.question.vector


Shift = Callable[[Question, str], float]
"""The cross-language shift for a question and a passage language."""


def gather(
    store: Store, embedder: Embedder, question: str, shift: Shift, depth: int
) -> tuple[Question, list[Candidate], np.ndarray, dict[str, float]]:
    """Every candidate chunk for ``question`` with its passage features (one row each), unranked.

    Cosines of candidates in another language than the question's are raised by
    ``shift(question, passage language)`` here, once, for everything downstream.
    """
    started = time.perf_counter()
    vector = _beside(lambda: embedder.embed_query(question))  # a first question loads the encoder,
    identified = _beside(lambda: language(question))  # the language identifier,
    store.prepare_dense_search()  # and Chroma: side by side, a one-shot ask waits for the longest, not their sum
    q = Question.of(question, vector.result(), identified.result())
    embedded = time.perf_counter()
    dense_hits = store.dense_search(q.vector, depth)
    lexical_hits = store.lexical_search(question, depth)
    dense = dict(dense_hits)
    lexical = dict(lexical_hits)
    ids = list(dict.fromkeys([cid for cid, _ in dense_hits] + [cid for cid, _ in lexical_hits]))
    stored, vectors = store.chunks_with_vectors(ids)  # ids the manifest does not know are orphans of a crashed write: ignored
    floor = min(dense.values(), default=0.0)
    dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense_hits, start=1)}
    lexical_rank = {cid: rank for rank, (cid, _) in enumerate(lexical_hits, start=1)}
    candidates = []
    for cid in ids:
        if cid not in stored:
            continue
        matrix = vectors.get(cid)
        cos = matrix @ q.vector if matrix is not None and len(matrix) else None
        lang = stored[cid].language or language(stored[cid].text[:LANGUAGE_PREFIX])  # chunks stored before languages were
        candidates.append(Candidate(stored[cid], dense.get(cid, floor), cos, matrix, lexical.get(cid, 0.0), dense_rank.get(cid),
                                    lexical_rank.get(cid), lang == q.language, language=lang))
    shifted = [shift_cosines(c, shift(q, c.language)) for c in candidates]
    return q, shifted, candidate_features(q, shifted), {"embed_ms": (embedded - started) * 1000}


T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _beside(work: Callable[[], T]) -> Future[T]:
    """Run ``work`` on another thread (numpy, onnxruntime and lzma release the GIL while Chroma's import holds it)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(4, thread_name_prefix="question")
    return _pool.submit(work)


def refocus(retrieval: Retrieval, question: Question) -> Retrieval:
    """The same ranked passages, their sentences now compared with ``question``: a follow-up's own words.

    A follow-up ("And for international trips?") is retrieved joined to the question before it, which finds
    the passage; choosing the sentence by the joined question would quote the previous answer again.
    """
    ranked = [replace(c, sentence_cos=c.sentence_vectors @ question.vector + c.shift if c.sentence_vectors is not None else None)
              for c in retrieval.ranked]
    return replace(retrieval, question=question, ranked=ranked)


def shift_cosines(candidate: Candidate, shift: float) -> Candidate:
    """A copy whose cosines are raised by ``shift`` if the candidate is in another language than the question."""
    if candidate.same_language or not shift:
        return candidate
    cos = candidate.sentence_cos + shift if candidate.sentence_cos is not None else None
    return replace(candidate, chunk_cos=candidate.chunk_cos + shift, sentence_cos=cos, shift=shift)


def candidate_features(question: Question, candidates: list[Candidate]) -> np.ndarray:
    """:func:`assistant.answer.features.passage_features` of the candidates."""
    return passage_features(
        question, [c.chunk_cos for c in candidates],
        [float(c.sentence_cos.max()) if c.sentence_cos is not None else c.chunk_cos for c in candidates],
        [c.bm25 for c in candidates], [c.chunk.text for c in candidates], [c.chunk.anchors for c in candidates],
    )


def rank(question: Question, candidates: list[Candidate], features: np.ndarray, scorer: Scorer) -> Retrieval:
    """Score and sort the candidates (ties by chunk id, so ranks are reproducible)."""
    scores = scorer.passage_scores(features, np.array([c.same_language for c in candidates], dtype=bool))
    for candidate, score in zip(candidates, scores, strict=True):
        candidate.score = float(score)
    ranked = sorted(candidates, key=lambda c: (-c.score, c.chunk.id))
    cosines = sorted((c.chunk_cos for c in candidates if c.dense_rank is not None), reverse=True)
    top = cosines[0] if cosines else 0.0
    margin = top - float(np.mean(cosines[:10])) if cosines else 0.0
    return Retrieval(question, ranked, [], top, margin)


def retrieve(store: Store, embedder: Embedder, question: str, k: int, scorer: Scorer, depth: int) -> Retrieval:
    """The candidates for ``question`` (``depth`` from each search) ranked by the fitted fusion; ``passages`` holds the best ``k``."""
    started = time.perf_counter()
    q, candidates, features, timings = gather(store, embedder, question, scorer.shift, depth)
    retrieval = rank(q, candidates, features, scorer)
    retrieval.passages = [
        Passage(c.chunk.id, c.chunk.source, c.chunk.start, c.chunk.end, c.chunk.text, round(c.score, 6), c.raw_chunk_cos if c.dense_rank else None,
                c.dense_rank, c.lexical_rank, c.chunk.page_at(c.chunk.start), c.chunk.section, c.chunk.line, c.chunk.sentences, c.chunk.pages,
                c.sentence_vectors)
        for c in retrieval.ranked[:k]
    ]
    timings["search_ms"] = (time.perf_counter() - started) * 1000 - timings["embed_ms"]
    retrieval.timings = timings
    return retrieval


def fill_sentence_vectors(embedder: Embedder, chunks: list[Chunk], into: dict[str, np.ndarray]) -> None:
    """Embed the sentences of ``chunks`` (those stored without sentence vectors) into ``into``, by chunk id."""
    texts = [text for chunk in chunks for text in sentence_texts(chunk)]
    if not texts:
        return
    vectors, at = embedder.embed_passages(texts), 0
    for chunk in chunks:
        into[chunk.id] = vectors[at : at + len(chunk.sentences)]
        at += len(chunk.sentences)
