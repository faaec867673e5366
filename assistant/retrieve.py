"""Hybrid retrieval: dense (Chroma, cosine) and lexical (FTS5 BM25) lists fused by reciprocal rank.

Dense retrieval carries meaning across languages (an English question finds a
French passage); BM25 rescues exact names, numbers and rare words that a small
embedding model blurs. Reciprocal rank fusion needs no score calibration
between the two: each list contributes ``weight / (RRF_K + rank)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from assistant.embed import Embedder
from assistant.store import Store
from assistant.types import Passage

RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.5


@dataclass
class Retrieval:
    """Passages for one question, with what the answerer needs to reuse (the question vector)."""

    question: str
    vector: np.ndarray
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)


def fuse(ranked_lists: list[tuple[list[str], float]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of ranked id lists, each with a weight.

    >>> fuse([(["a", "b"], 1.0), (["b", "c"], 1.0)])[0][0]
    'b'
    """
    scores: dict[str, float] = {}
    for ids, weight in ranked_lists:
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def retrieve(store: Store, embedder: Embedder, question: str, k: int) -> Retrieval:
    started = time.perf_counter()
    vector = embedder.embed_query(question)
    embedded = time.perf_counter()
    depth = max(4 * k, 20)
    dense = store.dense_search(vector, depth)
    lexical = store.lexical_search(question, depth)
    fused = fuse([([i for i, _ in dense], DENSE_WEIGHT), ([i for i, _ in lexical], LEXICAL_WEIGHT)])
    similarity = dict(dense)
    dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense, start=1)}
    lexical_rank = {cid: rank for rank, (cid, _) in enumerate(lexical, start=1)}
    top = fused[: k * 2]  # a few spare in case some ids are orphans of a crashed write
    stored = store.chunks_by_id([cid for cid, _ in top])
    passages = []
    for cid, score in top:
        chunk = stored.get(cid)
        if chunk is None:
            continue
        passages.append(
            Passage(cid, chunk.source, chunk.start, chunk.end, chunk.text, round(score, 6),
                    similarity.get(cid), dense_rank.get(cid), lexical_rank.get(cid))
        )
        if len(passages) == k:
            break
    done = time.perf_counter()
    timings = {"embed_ms": (embedded - started) * 1000, "search_ms": (done - embedded) * 1000}
    return Retrieval(question, vector, passages, timings)
