"""The store: Chroma for vectors, a SQLite manifest for documents, chunks and the lexical index.

The SQLite manifest (WAL mode) is the source of truth. A document is present
exactly when its row is committed there, together with its chunks and their
FTS5 entries (BM25, ``unicode61`` with diacritics folded, no stemming, so
French is not fed to an English stemmer). Chroma holds one vector per chunk.

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

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import ConfigError, EmbedderMismatchError, StoreError
from assistant.lexicon import search_terms
from assistant.settings import Settings, prepare_offline
from assistant.types import Chunk, Span, StoredFile, StoreStatus

SCHEMA_VERSION = "2"
MAX_TERMS = 6
MAX_POSTINGS = 10_000
"""Lexical search reads at most about this many index entries: its cost stays bounded as the store grows."""
MANIFEST = "manifest.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, content_hash TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, ord INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, line INTEGER NOT NULL, text TEXT NOT NULL,
    sentences TEXT NOT NULL, sentence_vectors BLOB, pages TEXT, section TEXT, language TEXT);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source, ord);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    text, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO fts(rowid, text) VALUES (new.rowid, new.text); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO fts(fts, rowid, text) VALUES ('delete', old.rowid, old.text); END;
"""

_CHUNK_COLUMNS = "id, source, start, end, text, sentences, line, pages, section, language"
_REEXTRACT = ("pdf",)
"""Formats whose extraction gained pages in schema 2: their documents are read again at the next ingest."""


@dataclass(frozen=True)
class StoredDocument:
    source: str
    content_hash: str
    size: int
    mtime_ns: int


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
        manifest = self.path / MANIFEST
        new_manifest = not manifest.exists()
        if new_manifest and (self.path / "chroma").exists():
            raise StoreError(self._damaged(f"its manifest {MANIFEST} is missing"))
        if not new_manifest and manifest.stat().st_size == 0:
            raise StoreError(self._damaged("its manifest is empty"))
        try:
            self.db = sqlite3.connect(manifest, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if new_manifest:
                os.chmod(manifest, 0o600)
            self.db.executescript(_SCHEMA)
            version = self.meta("schema_version")
            if version is None:
                self.set_meta("schema_version", SCHEMA_VERSION)
            elif version == "1":
                self._migrate_from_1()
            elif version == SCHEMA_VERSION:
                self._add_columns()
            else:
                raise StoreError(f"store {self.path} has schema {version}, this version reads {SCHEMA_VERSION}; rebuild it")
        except sqlite3.DatabaseError as exc:
            raise StoreError(self._damaged(f"its manifest cannot be read ({exc})")) from None
        self._collection: Any = None
        self._lock: Any = None
        self._verified = False
        self._count, self._count_key = 0, (-1, -1)
        self._frequency: dict[str, int] = {}
        self._frequency_key = (-1, -1)

    def _migrate_from_1(self) -> None:
        """Schema 1 -> 2: chunks gain page marks, a section and their language. Nothing stored is lost.

        PDFs were stored without pages; forgetting their size and hash makes the
        next ingest extract them again (with pages) instead of skipping them.
        """
        with self.transaction():
            if self.meta("schema_version") != "1":  # another process migrated first
                return
            self._add_columns()
            for suffix in _REEXTRACT:
                self.db.execute("UPDATE documents SET size = -1, content_hash = '' WHERE lower(source) LIKE ?", (f"%.{suffix}",))
            self.set_meta("schema_version", SCHEMA_VERSION)

    def _add_columns(self) -> None:
        """Columns added to schema 2 after it first shipped (nullable: readers fill the gaps)."""
        present = {row[1] for row in self.db.execute("PRAGMA table_info(chunks)")}
        for column in ("pages", "section", "language"):
            if column not in present:
                try:
                    self.db.execute(f"ALTER TABLE chunks ADD COLUMN {column} TEXT")
                except sqlite3.OperationalError as exc:  # another process added it a moment ago
                    if "duplicate column" not in str(exc):
                        raise

    def _damaged(self, what: str) -> str:
        return (
            f"store {self.path} is damaged: {what}. Rebuild it: move it aside and run "
            f"`assistant ingest PATH... --store {self.path}` again"
        )

    # ---- metadata -------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def check_embedder(self, name: str) -> None:
        """Raise if the store was built by another embedder (its vectors would be meaningless)."""
        built = self.meta("embedder")
        if built is not None and built != name and self.chunk_count() > 0:
            raise EmbedderMismatchError(
                f"store {self.path} was built with embedder {built!r} but {name!r} is configured; "
                f"set ASSISTANT_EMBEDDER/ASSISTANT_EMBED_MODEL back, or use another --store"
            )

    # ---- Chroma ---------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
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
                client = chromadb.PersistentClient(path=str(self.path / "chroma"), settings=chroma_settings)
            return client.get_or_create_collection(
                self.settings.collection,
                embedding_function=None,  # never let Chroma's default (downloading) embedder run
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            if url:
                raise ConfigError(f"Chroma server at {url} does not answer ({type(exc).__name__}); start `chroma run` or unset ASSISTANT_CHROMA_URL") from None
            raise StoreError(self._damaged(f"Chroma cannot open it ({type(exc).__name__}: {exc})")) from None

    def _max_batch(self) -> int:
        try:
            return int(self.collection._client.get_max_batch_size())
        except Exception:
            return 5000

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
    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute("SELECT source, content_hash, size, mtime_ns FROM documents")
        return {row[0]: StoredDocument(*row) for row in rows}

    def listing(self) -> list[StoredFile]:
        rows = self.db.execute("SELECT source, chunks, size, ingested_at FROM documents ORDER BY source")
        return [StoredFile(source, int(chunks), int(size), float(added)) for source, chunks, size, added in rows]

    def chunk_count(self) -> int:
        """Cached until this or another connection writes: counting 100k rows costs a millisecond per question."""
        key = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        if key != self._count_key:
            self._count = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
            self._count_key = key
        return self._count

    def status(self) -> StoreStatus:
        documents = int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])
        return StoreStatus(str(self.path), self.meta("embedder"), documents, self.chunk_count())

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", list(ids))
        return {row[0]: _stored_chunk(row) for row in rows}

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE source = ? ORDER BY ord", (source,))
        return [_stored_chunk(row) for row in rows]

    def chunks_with_vectors(self, ids: Sequence[str]) -> tuple[dict[str, Chunk], dict[str, np.ndarray]]:
        """:meth:`chunks_by_id` and :meth:`sentence_vectors` in one read (the blob sits before later columns)."""
        if not ids:
            return {}, {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS}, sentence_vectors FROM chunks WHERE id IN ({marks})", list(ids))
        chunks, vectors, dim = {}, {}, self.dim()
        for row in rows:
            chunks[row[0]] = _stored_chunk(row[:-1])
            if row[-1]:
                vectors[row[0]] = _matrix(row[-1], dim)
        return chunks, vectors

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, sentence_vectors FROM chunks WHERE id IN ({marks})", list(ids))
        dim = self.dim()
        return {chunk_id: _matrix(blob, dim) for chunk_id, blob in rows if blob}

    def dim(self) -> int:
        return int(self.meta("dim") or 0)

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Chunk ids with cosine similarity, best first."""
        total = self.chunk_count()
        if total == 0:
            return []
        self._verify(total)
        try:
            result = self.collection.query(query_embeddings=[vector.tolist()], n_results=min(n, total), include=["distances"])
        except Exception as exc:
            raise StoreError(self._damaged(f"the vector index failed ({type(exc).__name__}: {exc})")) from None
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def _selective_terms(self, terms: list[str]) -> list[str]:
        """The rarest terms: at most MAX_TERMS, none in over a tenth of the chunks, MAX_POSTINGS in all.

        Common terms barely change BM25 ranks but make FTS5 score most of the index:
        on a 100k-chunk store they made a long question's lexical search ~10x slower.
        The postings budget only binds past about 17k chunks (6 terms x a tenth).
        """
        if not terms:
            return []
        frequency = self._frequencies(terms)
        limit = max(50, self.chunk_count() // 10)
        present = sorted((frequency[t], t) for t in terms if t in frequency and frequency[t] <= limit)
        chosen: list[str] = []
        postings = 0
        for count, term in present[:MAX_TERMS]:
            if chosen and postings + count > MAX_POSTINGS:
                break
            chosen.append(term)
            postings += count
        return chosen

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (absent terms left out), cached until the store changes.

        fts5vocab counts a term's documents by reading its whole posting list, and it
        answers ``term IN (...)`` by scanning the vocabulary: 11 ms per question at 100k
        chunks, most of it spent on the same common words question after question.
        """
        self.chunk_count()  # refreshes _count_key
        if self._frequency_key != self._count_key:
            self._frequency, self._frequency_key = {}, self._count_key
        for term in terms:
            if term not in self._frequency:
                row = self.db.execute("SELECT doc FROM fts_vocab WHERE term = ?", (term,)).fetchone()
                self._frequency[term] = int(row[0]) if row else 0
        return {t: self._frequency[t] for t in terms if self._frequency[t]}

    def _verify(self, chunks: int) -> None:
        """Once per open: the vector index must hold a vector for every chunk, or answers would silently miss documents."""
        if self._verified:
            return
        vectors = self.collection.count()
        if vectors < chunks:
            raise StoreError(self._damaged(f"its vectors are missing ({vectors} in Chroma for {chunks} chunks)"))
        self._verified = True

    def lexical_search(self, question: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids with BM25 scores (higher is better), best first."""
        terms = self._selective_terms(search_terms(question))
        if not terms:
            return []
        query = " OR ".join(f'"{t}"' for t in terms)
        # rank in FTS5 alone, then join the top n: joining every match first made this 3x slower at 100k chunks
        rows = self.db.execute(
            "SELECT chunks.id, hit.s FROM (SELECT rowid, bm25(fts) AS s FROM fts WHERE fts MATCH ? ORDER BY s LIMIT ?) AS hit "
            "JOIN chunks ON chunks.rowid = hit.rowid ORDER BY hit.s, chunks.id",
            (query, n),
        )
        return [(cid, -float(score)) for cid, score in rows]

    # ---- writing (hold the write lock) ----------------------------------------------------
    def transaction(self) -> _Transaction:
        """``with store.transaction():`` groups manifest changes; all or nothing."""
        return _Transaction(self.db)

    def mark_dirty(self) -> None:
        """Record, durably, that Chroma may get ahead of the manifest until :meth:`mark_clean`."""
        if self.meta("dirty") != "1":
            self.set_meta("dirty", "1")

    def mark_clean(self) -> None:
        self.db.execute("DELETE FROM meta WHERE key = 'dirty'")

    def delete_document(self, source: str) -> list[str]:
        """In a transaction: drop a document's rows; returns its chunk ids (their vectors go after commit)."""
        ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE source = ?", (source,))]
        self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
        self.db.execute("DELETE FROM documents WHERE source = ?", (source,))
        return ids

    def add_chunks(
        self, chunks: Sequence[Chunk], first_ord: int, vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray | None]
    ) -> None:
        """In a transaction: vectors to Chroma, chunk rows (and their BM25 entries) to the manifest.

        ``sentence_vectors[i]`` is ``None`` when sentences are not embedded at ingest.
        """
        if not chunks:
            return
        self._set_dim(vectors.shape[1])
        self._chroma_upsert([c.id for c in chunks], vectors, [c.source for c in chunks])
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks(id, source, ord, start, end, line, text, sentences, sentence_vectors, pages, section, language)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (c.id, c.source, first_ord + i, c.start, c.end, c.line, c.text, json.dumps([(s.start, s.end) for s in c.sentences]),
                 None if sv is None else sv.astype(np.float16).tobytes(), json.dumps(c.pages) if c.pages else None, c.section, c.language)
                for i, (c, sv) in enumerate(zip(chunks, sentence_vectors, strict=True))
            ],
        )

    def put_document(self, document: StoredDocument, chunks: int) -> None:
        """In a transaction: the document row that makes its chunks visible as a whole."""
        self.db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?)",
            (document.source, document.content_hash, document.size, document.mtime_ns, chunks, time.time()),
        )

    def touch(self, document: StoredDocument) -> None:
        """Record a new size/mtime for a document whose content did not change."""
        self.db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE source = ?", (document.size, document.mtime_ns, document.source))

    def remove(self, sources: Sequence[str]) -> None:
        self.mark_dirty()
        with self.transaction():
            stale = [cid for source in sources for cid in self.delete_document(source)]
        self.drop_vectors(stale)
        self.mark_clean()

    def repair(self) -> int:
        """After a crashed write: delete vectors that no committed chunk owns. Returns how many."""
        if self.meta("dirty") != "1":
            return 0
        known = {row[0] for row in self.db.execute("SELECT id FROM chunks")}
        stored: list[str] = []
        step = self._max_batch()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=step, offset=offset)["ids"]
            stored += page
            if len(page) < step:
                break
            offset += step
        orphans = [cid for cid in stored if cid not in known]
        self.drop_vectors(orphans)
        self.mark_clean()
        return len(orphans)

    def record_embedder(self, name: str) -> None:
        if self.meta("embedder") != name:
            self.set_meta("embedder", name)

    def _set_dim(self, dim: int) -> None:
        if self.meta("dim") != str(dim):
            self.set_meta("dim", str(dim))

    def _chroma_upsert(self, ids: list[str], vectors: np.ndarray, sources: list[str]) -> None:
        step = self._max_batch()
        for i in range(0, len(ids), step):
            self.collection.upsert(
                ids=ids[i : i + step],
                embeddings=np.asarray(vectors[i : i + step], dtype=np.float32),
                metadatas=[{"source": s} for s in sources[i : i + step]],
            )

    def drop_vectors(self, ids: list[str]) -> None:
        step = self._max_batch()
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    def close(self) -> None:
        self.release_write_lock()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _stored_chunk(row: tuple[Any, ...]) -> Chunk:
    chunk_id, source, start, end, text, sentences, line, pages, section, language = row
    marks = tuple((int(o), int(p)) for o, p in json.loads(pages)) if pages else ()
    spans = tuple(Span(a, b) for a, b in json.loads(sentences))
    return Chunk(chunk_id, source, start, end, text, spans, line, marks, section, language)


def _matrix(blob: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).reshape(-1, dim).astype(np.float32)
