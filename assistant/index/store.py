"""The store: vectors in Chroma (:mod:`.vectors`), documents and chunks in a SQLite manifest (:mod:`.manifest`),
BM25 over the manifest's FTS5 index (:mod:`.lexical`); :class:`Store` keeps their writes consistent.

The manifest is the source of truth: a document is present exactly when its row
is committed there, together with its chunks and their FTS5 entries (``unicode61``
with diacritics folded, no stemming, so French is not fed to an English stemmer).
Chroma holds one vector per chunk.

Crash safety without a distributed transaction: a writer first records a
``dirty`` flag (committed), then writes vectors to Chroma and commits each
document's rows in one SQLite transaction, and deletes replaced vectors only
after that commit. A crash can thus leave only *extra* vectors in Chroma,
never a document with missing chunks; the next writer sees the flag and
:meth:`Store.repair` deletes every vector the manifest does not know. Readers
only trust ids the manifest knows, so they never see half-written documents.
Writers hold ``write.lock``; a second writer is refused.

Left out: sharding the manifest; one SQLite file serves 100k+ chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import EmbedderMismatchError, StoreError
from assistant.index.lexical import LexicalIndex
from assistant.index.manifest import MANIFEST, Manifest, StoredDocument, Transaction
from assistant.index.vectors import VectorIndex
from assistant.settings import Settings
from assistant.types import Chunk, StoredFile, StoreStatus

__all__ = ["MANIFEST", "Store", "StoredDocument"]


class Store:
    """One store directory: open it, read it, and (holding the write lock) change it."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        self.settings = settings
        self.path = Path(settings.store).expanduser()
        if not self.path.exists():
            if not create:
                raise StoreError(f"no store at {self.path}; run `assistant ingest PATH` first")
            self.path.mkdir(mode=0o700, parents=True)
        elif not self.path.is_dir():
            raise StoreError(f"store path {self.path} is not a directory; choose another --store")
        if not (self.path / MANIFEST).exists() and (self.path / "chroma").exists():
            raise StoreError(self._damaged(f"its manifest {MANIFEST} is missing"))
        self.manifest = Manifest(self.path / MANIFEST, self._damaged)
        self.vectors = VectorIndex(settings, self.path / "chroma", self._damaged)
        self.lexical = LexicalIndex(self.manifest)
        self._lock: Any = None
        self._verified = False

    def _damaged(self, what: str) -> str:
        return (
            f"store {self.path} is damaged: {what}. Rebuild it: move it aside and run "
            f"`assistant ingest PATH... --store {self.path}` again"
        )

    @property
    def db(self) -> Any:
        """The manifest's SQLite connection (for tests and tools that inspect it)."""
        return self.manifest.db

    @property
    def collection(self) -> Any:
        """The Chroma collection (for tests and tools that inspect it)."""
        return self.vectors.collection

    # ---- metadata -------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        return self.manifest.meta(key)

    def check_embedder(self, name: str) -> None:
        """Raise if the store was built by another embedder (its vectors would be meaningless)."""
        built = self.manifest.meta("embedder")
        if built is not None and built != name and self.chunk_count() > 0:
            raise EmbedderMismatchError(
                f"store {self.path} was built with embedder {built!r} but {name!r} is configured; "
                f"set ASSISTANT_EMBEDDER/ASSISTANT_EMBED_MODEL back, or use another --store"
            )

    def record_embedder(self, name: str) -> None:
        if self.manifest.meta("embedder") != name:
            self.manifest.set_meta("embedder", name)

    # ---- locking --------------------------------------------------------------------------
    def acquire_write_lock(self) -> None:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path / "write.lock"), mode=0o600)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise StoreError(
                f"another process is writing to store {self.path} (ingest or forget); wait for it to finish and try again"
            ) from None
        self._lock = lock
        self.repair()

    def release_write_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ---- reading --------------------------------------------------------------------------
    def documents(self, cutting: str | None = None) -> dict[str, StoredDocument]:
        """The stored documents; with ``cutting`` (ingest's sentence cutting), those cut another way as changed."""
        if cutting is not None:
            self.manifest.recut_unless(cutting)
        return self.manifest.documents()

    def listing(self) -> list[StoredFile]:
        return self.manifest.listing()

    def chunk_count(self) -> int:
        return self.manifest.chunk_count()

    def status(self) -> StoreStatus:
        return StoreStatus(str(self.path), self.manifest.meta("embedder"), self.manifest.document_count(), self.chunk_count())

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        return self.manifest.chunks_by_id(ids)

    def chunks_of(self, source: str) -> list[Chunk]:
        return self.manifest.chunks_of(source)

    def chunks_with_vectors(self, ids: Sequence[str]) -> tuple[dict[str, Chunk], dict[str, np.ndarray]]:
        return self.manifest.chunks_with_vectors(ids)

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self.manifest.sentence_vectors(ids)

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Chunk ids with cosine similarity, best first."""
        total = self.chunk_count()
        if total == 0:
            return []
        self._verify(total)
        return self.vectors.query(vector, min(n, total), generation=self.manifest.state()[0])

    def prepare_dense_search(self) -> None:
        """Open the vector index (and check it, once) ahead of :meth:`dense_search`."""
        total = self.chunk_count()
        if total:
            self._verify(total)

    def lexical_search(self, question: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids with BM25 scores (higher is better), best first."""
        return self.lexical.search(question, n)

    def _verify(self, chunks: int) -> None:
        """Once per open: the vector index must hold a vector for every chunk, or answers would silently miss documents."""
        if self._verified:
            return
        vectors = self.vectors.count()
        if vectors < chunks:
            raise StoreError(self._damaged(f"its vectors are missing ({vectors} in Chroma for {chunks} chunks)"))
        self._verified = True

    # ---- writing (hold the write lock) ----------------------------------------------------
    def transaction(self) -> Transaction:
        """``with store.transaction():`` groups manifest changes; all or nothing."""
        return self.manifest.transaction()

    def mark_dirty(self) -> None:
        """Record, durably, that Chroma may get ahead of the manifest until :meth:`mark_clean`."""
        if self.manifest.meta("dirty") != "1":
            self.manifest.set_meta("dirty", "1")

    def mark_clean(self) -> None:
        self.manifest.db.execute("DELETE FROM meta WHERE key = 'dirty'")

    def delete_document(self, source: str) -> list[str]:
        """In a transaction: drop a document's rows; returns its chunk ids (their vectors go after commit)."""
        return self.manifest.delete_document(source)

    def add_chunks(
        self, chunks: Sequence[Chunk], first_ord: int, vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray | None]
    ) -> None:
        """In a transaction: vectors to Chroma first, then chunk rows (and their BM25 entries) to the manifest.

        ``sentence_vectors[i]`` is ``None`` when sentences are not embedded at ingest.
        """
        self.add_vectors(chunks, vectors)
        self.add_rows(chunks, first_ord, sentence_vectors)

    def add_vectors(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """In a transaction, before the chunks' rows: their vectors (chunks of several documents in one Chroma write)."""
        if not chunks:
            return
        if self.manifest.meta("dim") != str(vectors.shape[1]):
            self.manifest.set_meta("dim", str(vectors.shape[1]))
        self.vectors.upsert([c.id for c in chunks], vectors, [c.source for c in chunks])

    def add_rows(self, chunks: Sequence[Chunk], first_ord: int, sentence_vectors: Sequence[np.ndarray | None]) -> None:
        """In a transaction, after :meth:`add_vectors`: the chunks' rows and BM25 entries."""
        self.manifest.insert_chunks(chunks, first_ord, sentence_vectors)

    def put_document(self, document: StoredDocument, chunks: int) -> None:
        """In a transaction: the document row that makes its chunks visible as a whole."""
        self.manifest.put_document(document, chunks)

    def touch(self, document: StoredDocument) -> None:
        """Record a new size/mtime for a document whose content did not change."""
        self.manifest.touch(document)

    def remove(self, sources: Sequence[str]) -> None:
        self.mark_dirty()
        with self.transaction():
            stale = [cid for source in sources for cid in self.delete_document(source)]
        self.drop_vectors(stale)
        self.mark_clean()

    def repair(self) -> int:
        """After a crashed write: delete vectors that no committed chunk owns. Returns how many."""
        if self.manifest.meta("dirty") != "1":
            return 0
        known = self.manifest.chunk_ids()
        orphans = [cid for cid in self.vectors.ids() if cid not in known]
        self.drop_vectors(orphans)
        self.mark_clean()
        return len(orphans)

    def drop_vectors(self, ids: list[str]) -> None:
        self.vectors.delete(ids)

    def close(self) -> None:
        self.release_write_lock()
        self.vectors.close()
        self.manifest.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
