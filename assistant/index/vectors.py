"""Chunk vectors in Chroma (embedded, or a Chroma server): one vector per chunk id, our own embeddings only.

The client and collection are opened here; vectors are written and deleted through llama-index's Chroma integration
(:class:`assistant.llama.ChromaVectors`, so a llama-index ``VectorStoreIndex`` reads the collection) and searched
through Chroma's own query, so that answering a question never imports llama-index.

Embedded Chroma keeps its HNSW index in files that a writing process rewrites in place, and a process that opens
the collection reads them; Chroma does not coordinate processes (chroma-core/chroma#3792, #7040). A reader
that loads the files while an ingest rewrites them fails, or worse reads a torn index. So every use of an
embedded collection holds ``vectors.lock`` (filelock's SQLite reader/writer lock): readers share it, a write
(one batch of vectors, seconds at most) holds it alone. Readers thus wait for at most one batch, never for the
whole ingest, which commits batch by batch. A Chroma server coordinates its clients itself: no lock then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import ConfigError, StoreError
from assistant.llama import ChromaVectors
from assistant.settings import Settings, prepare_offline

LOCK = "vectors.lock"
REOPEN_EVERY_S = 2.0
"""A reader sees vectors another process wrote within this long (reopening loads Chroma's index again)."""
LOCK_WAIT_S = 120.0
_REOPENING = threading.Lock()
"""How long a reader waits for a batch being written (or a writer for readers) before saying so."""


class VectorIndex:
    """Opened on first use; ``damaged(what)`` words the error when it cannot be."""

    def __init__(self, settings: Settings, path: Path, damaged: Callable[[str], str]) -> None:
        self.settings = settings
        self.path = path
        self.damaged = damaged
        self._collection: Any = None
        self._client: Any = None
        self._system: Any = None
        self._vectors: ChromaVectors | None = None
        self._lock: Any = None
        self._held = threading.local()  # what this thread holds: nested uses do not lock again
        self._generation: int | None = None
        self._opened_at = 0.0

    @contextmanager
    def holding(self, mode: str) -> Iterator[None]:
        """Hold ``vectors.lock`` for reading or writing (embedded Chroma only; see the module's docstring)."""
        held = getattr(self._held, "mode", None)
        if held == "read" and mode == "write":
            raise RuntimeError("vectors written while the read lock is held")
        if self.settings.chroma_url or held:  # a server; or this thread holds it already
            yield
            return
        from filelock import ReadWriteLock, Timeout

        if self._lock is None:
            self._lock = ReadWriteLock(self.path.parent / LOCK, timeout=LOCK_WAIT_S, is_singleton=False)
        try:
            self._lock.acquire_read() if mode == "read" else self._lock.acquire_write()
        except Timeout:
            doing = "writing vectors" if mode == "read" else "reading vectors"
            raise StoreError(
                f"another process has been {doing} in store {self.path.parent} for over {LOCK_WAIT_S:.0f} s; try again when it finishes"
            ) from None
        self._held.mode = mode
        try:
            yield
        finally:
            self._held.mode = None
            self._lock.release()

    @property
    def collection(self) -> Any:
        if self._collection is None:
            with self.holding("read"):
                self._collection = self._open()
                self._opened_at = time.monotonic()
        return self._collection

    def _open(self) -> Any:
        prepare_offline()
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        url = self.settings.chroma_url
        try:
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
            self._client, self._system = client, getattr(client, "_system", None)  # Chroma's per-path cache entry
            return client.get_or_create_collection(
                self.settings.collection,
                embedding_function=None,  # never let Chroma's default (downloading) embedder run
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            if url:
                raise ConfigError(f"Chroma server at {url} does not answer ({type(exc).__name__}); start `chroma run` or unset ASSISTANT_CHROMA_URL") from None
            raise StoreError(self.damaged(f"Chroma cannot open it ({type(exc).__name__}: {exc})")) from None

    def _reopen(self) -> None:
        """A new client loads the index afresh; if that fails, the old one (still valid) keeps answering."""
        from chromadb.api.shared_system_client import SharedSystemClient

        with _REOPENING:  # one thread of this process at a time: the client cache is shared
            old = self._collection, self._vectors, self._client, self._system
            SharedSystemClient.clear_system_cache()
            self._collection = self._vectors = self._client = self._system = None
            try:
                self._collection = self._open()
            except Exception:
                self._collection, self._vectors, self._client, self._system = old
            self._opened_at = time.monotonic()

    def close(self) -> None:
        """Release Chroma's files (its per-path client cache keeps them open until the last client closes)."""
        client, system = self._client, self._system
        self._client = self._system = self._collection = self._vectors = None
        if client is not None:
            from chromadb.api.shared_system_client import SharedSystemClient

            # After a reopen emptied the cache, the path may map to a newer system than this client's: closing
            # would then stop that one. The garbage collector frees this one once nothing refers to it.
            if SharedSystemClient._identifier_to_system.get(client._identifier) is system:
                client.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def vectors(self) -> ChromaVectors:
        if self._vectors is None:
            self._vectors = ChromaVectors(self.collection)
        return self._vectors

    def _max_batch(self) -> int:
        try:
            self.collection  # noqa: B018 - opens the client
            return int(self._client.get_max_batch_size())
        except Exception:
            return 5000

    def count(self) -> int:
        with self.holding("read"):
            try:
                return int(self.collection.count())
            except StoreError:
                raise
            except Exception as exc:  # chromadb raises many types; all mean "cannot read"
                raise StoreError(self.damaged(f"the vector index failed ({type(exc).__name__}: {exc})")) from None

    def query(self, vector: np.ndarray, n: int, generation: int | None = None) -> list[tuple[str, float]]:
        """The ``n`` nearest chunk ids with cosine similarity, best first.

        ``generation`` changes when another process commits to the store (SQLite's ``data_version``): Chroma caches
        its index per process, so a long-lived reader (chat, serve) would never find vectors written after it opened
        (chroma-core/chroma#3792). It then reopens the collection, at most every ``REOPEN_EVERY_S`` seconds.
        """
        with self.holding("read"):
            if generation is not None and generation != self._generation and not self.settings.chroma_url:
                if self._generation is None:
                    self._generation = generation
                elif time.monotonic() - self._opened_at >= REOPEN_EVERY_S:
                    self._reopen()
                    self._generation = generation
            try:  # Chroma itself, not the integration: asking then never imports llama-index (~1 s of a one-shot ask)
                found = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
                return [(i, 1.0 - float(d)) for i, d in zip(found["ids"][0], found["distances"][0], strict=True)]  # cosine space
            except Exception as exc:
                raise StoreError(self.damaged(f"the vector index failed ({type(exc).__name__}: {exc})")) from None

    def upsert(self, ids: list[str], vectors: np.ndarray, sources: list[str]) -> None:
        step = self._max_batch()
        with self.holding("write"):
            for i in range(0, len(ids), step):
                self.vectors.write(ids[i : i + step], np.asarray(vectors[i : i + step], dtype=np.float32).tolist(), sources[i : i + step])

    def delete(self, ids: list[str]) -> None:
        step = self._max_batch()
        with self.holding("write"):
            for i in range(0, len(ids), step):
                self.vectors.delete(ids[i : i + step])

    def ids(self) -> list[str]:
        """Every stored id, read page by page."""
        found: list[str] = []
        step = self._max_batch()
        offset = 0
        with self.holding("read"):
            while True:
                page = self.collection.get(include=[], limit=step, offset=offset)["ids"]
                found += page
                if len(page) < step:
                    return found
                offset += step
