"""Hybrid retrieval: dense (Chroma, cosine), sentence-level rerank, and lexical (FTS5 BM25), fused by score.

Candidates are the union of the dense and the BM25 top lists. Each is scored
by its chunk's and its best sentence's similarity to the question (sentence
vectors are stored at ingest), plus normalised BM25 when the question and the
passage are in the same language: there BM25 rescues exact names, numbers and
rare words that a small embedding model blurs; across languages it only adds
noise. Reciprocal rank fusion was measured and dropped: it lets weak BM25 hits
reorder dense ranks that differ by a hair (see eval/results/).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from assistant.embed import Embedder
from assistant.lexicon import guess_language
from assistant.store import Store
from assistant.types import Passage

CHUNK_WEIGHT = 0.5
"""Dense score = CHUNK_WEIGHT * cos(question, chunk) + (1 - CHUNK_WEIGHT) * max cos(question, sentence):
the best single sentence often pins the answer better than the whole chunk (XQuAD hit@1 0.84 -> 0.89)."""
LEXICAL_WEIGHT = 0.1
"""Weight of normalised BM25 when question and passage are in the same language. Across languages BM25
matches little but names and numbers and only adds noise (XQuAD hit@1 drops from 0.84 to 0.72 with RRF)."""


@dataclass
class Retrieval:
    """Passages for one question, with what the answerer needs to reuse (the question vector)."""

    question: str
    vector: np.ndarray
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)


def fuse(
    dense: dict[str, float], sentence_best: dict[str, float], lexical: dict[str, float], same_language: dict[str, bool]
) -> list[tuple[str, float]]:
    """Combine the signals for every candidate chunk; best first.

    ``dense``: cosine of question and chunk; ``sentence_best``: best cosine of a
    sentence of the chunk; ``lexical``: BM25 normalised to [0, 1] by the best hit.

    >>> fuse({"a": 0.8, "b": 0.8}, {"a": 0.9, "b": 0.8}, {}, {})[0][0]
    'a'
    """
    floor = min(dense.values(), default=0.0)
    scores = {}
    for cid in set(dense) | set(lexical):
        chunk = dense.get(cid, floor)
        best = sentence_best.get(cid, chunk)
        score = CHUNK_WEIGHT * chunk + (1 - CHUNK_WEIGHT) * best
        if same_language.get(cid):
            score += LEXICAL_WEIGHT * lexical.get(cid, 0.0)
        scores[cid] = score
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def sentence_matrices(store: Store, embedder: Embedder, ids: list[str]) -> dict[str, np.ndarray]:
    """Sentence vectors (one row per sentence) of the given chunks.

    Stored at ingest; chunks ingested with ``sentence_vectors`` off have none,
    and theirs are embedded now (so only call this for a few top passages).
    """
    matrices = store.sentence_vectors(ids)
    missing = list(store.chunks_by_id([cid for cid in ids if cid not in matrices]).values())
    texts = [c.text[s.start - c.start : s.end - c.start] for c in missing for s in c.sentences]
    if texts:
        vectors, at = embedder.embed_passages(texts), 0
        for chunk in missing:
            matrices[chunk.id] = vectors[at : at + len(chunk.sentences)]
            at += len(chunk.sentences)
    return matrices


def retrieve(store: Store, embedder: Embedder, question: str, k: int) -> Retrieval:
    started = time.perf_counter()
    vector = embedder.embed_query(question)
    embedded = time.perf_counter()
    depth = max(4 * k, 40)
    dense_hits = store.dense_search(vector, depth)
    lexical_hits = store.lexical_search(question, depth)
    dense = dict(dense_hits)
    top_bm25 = lexical_hits[0][1] if lexical_hits else 1.0
    lexical = {cid: score / top_bm25 for cid, score in lexical_hits} if top_bm25 > 0 else {}
    ids = list(dict.fromkeys([cid for cid, _ in dense_hits] + [cid for cid, _ in lexical_hits]))
    stored = store.chunks_by_id(ids)  # ids the manifest does not know are orphans of a crashed write: ignored
    vectors = store.sentence_vectors(list(stored))
    sentence_best = {cid: float(np.max(m @ vector)) for cid, m in vectors.items() if len(m)}
    question_language = guess_language(question)
    # only a BM25 hit needs its language known
    same_language = {cid: question_language is not None and guess_language(stored[cid].text) == question_language
                     for cid in lexical if cid in stored}
    fused = [(cid, score) for cid, score in fuse(dense, sentence_best, lexical, same_language) if cid in stored]
    dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense_hits, start=1)}
    lexical_rank = {cid: rank for rank, (cid, _) in enumerate(lexical_hits, start=1)}
    passages = []
    for cid, score in fused[:k]:
        chunk = stored[cid]
        passages.append(
            Passage(cid, chunk.source, chunk.start, chunk.end, chunk.text, round(score, 6),
                    dense.get(cid), dense_rank.get(cid), lexical_rank.get(cid))
        )
    done = time.perf_counter()
    timings = {"embed_ms": (embedded - started) * 1000, "search_ms": (done - embedded) * 1000}
    return Retrieval(question, vector, passages, timings)
