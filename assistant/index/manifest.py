"""The SQLite manifest: documents, chunks (text, sentence spans and vectors, pages, section, language), metadata.

It is the store's source of truth: a document is present exactly when its row is
committed here together with its chunks (and, through triggers, their FTS5 entries:
see :mod:`assistant.index.lexical`). WAL mode, so readers never block the writer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import StoreError
from assistant.index.fts import INDEX, OLD_INDEX, register
from assistant.types import Chunk, Span, StoredFile

SCHEMA_VERSION = "3"
MANIFEST = "manifest.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, content_hash TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, ord INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, line INTEGER NOT NULL, text TEXT NOT NULL,
    sentences TEXT NOT NULL, sentence_vectors BLOB, pages TEXT, section TEXT, language TEXT, anchors TEXT,
    table_rows TEXT);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source, ord);
"""
_SCHEMA_AND_INDEX = _SCHEMA + ";\n".join(INDEX) + ";"
"""What a new manifest is created with, and what opening one makes sure of (every statement ``IF NOT EXISTS``)."""

_CHUNK_COLUMNS = "id, source, start, end, text, sentences, line, pages, section, language, anchors, table_rows"
_REEXTRACT = ("pdf",)
"""Formats whose extraction gained pages in schema 2: their documents are read again at the next ingest."""


@dataclass(frozen=True)
class StoredDocument:
    source: str
    content_hash: str
    size: int
    mtime_ns: int


class Manifest:
    """One manifest file; ``damaged(what)`` words the error when it cannot be read."""

    def __init__(self, path: Path, damaged: Callable[[str], str]) -> None:
        if not path.exists():
            _create(path)
        if path.stat().st_size == 0:
            raise StoreError(damaged("its manifest is empty"))
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            register(self.db)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA_AND_INDEX)
            version = self.meta("schema_version")
            if version is None:
                self.set_meta("schema_version", SCHEMA_VERSION)
            elif version == "1":
                self._migrate_from_1()
            elif version == "2":
                self._migrate_from_2()
            elif version == SCHEMA_VERSION:
                self._add_columns()
            else:
                raise StoreError(f"store {path.parent} has schema {version}, this version reads {SCHEMA_VERSION}; rebuild it")
        except sqlite3.DatabaseError as exc:
            raise StoreError(damaged(f"its manifest cannot be read ({exc})")) from None
        self._count, self._count_key = 0, (-1, -1)

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
            self._reindex()

    def _migrate_from_2(self) -> None:
        """Schema 2 -> 3: the BM25 index reads chunks through :func:`assistant.text.lexicon.index_text` (folded as
        questions are; Chinese, Japanese, Thai, ... cut into pairs of characters). It is built again from the stored
        chunks, in one transaction; nothing else changes."""
        with self.transaction():
            if self.meta("schema_version") != "2":  # another process migrated first
                return
            self._add_columns()
            self._reindex()

    def _reindex(self) -> None:
        """In a transaction: the BM25 index as this schema defines it, built from the chunks; the schema version set."""
        for statement in (*OLD_INDEX, *INDEX):
            self.db.execute(statement)
        self.db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        self.set_meta("schema_version", SCHEMA_VERSION)

    def _add_columns(self) -> None:
        """Columns added to schema 2 after it first shipped (nullable: readers fill the gaps)."""
        present = {row[1] for row in self.db.execute("PRAGMA table_info(chunks)")}
        for column in ("pages", "section", "language", "anchors", "table_rows"):
            if column not in present:
                try:
                    self.db.execute(f"ALTER TABLE chunks ADD COLUMN {column} TEXT")
                except sqlite3.OperationalError as exc:  # another process added it a moment ago
                    if "duplicate column" not in str(exc):
                        raise

    # ---- metadata -------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def dim(self) -> int:
        return int(self.meta("dim") or 0)

    # ---- reading --------------------------------------------------------------------------
    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute("SELECT source, content_hash, size, mtime_ns FROM documents")
        return {row[0]: StoredDocument(*row) for row in rows}

    def recut_unless(self, cutting: str) -> None:
        """Unless the documents were cut into sentences by ``cutting``, forget their times and hashes so that the next
        ingest reads them again (as :meth:`_migrate_from_1` does for PDFs; sizes kept for listings); nothing stored is
        lost until then."""
        if self.meta("sentence_cutting") != cutting:
            with self.transaction():
                self.db.execute("UPDATE documents SET mtime_ns = -1, content_hash = ''")
                self.set_meta("sentence_cutting", cutting)

    def listing(self) -> list[StoredFile]:
        rows = self.db.execute("SELECT source, chunks, size, ingested_at FROM documents ORDER BY source")
        return [StoredFile(source, int(chunks), int(size), float(added)) for source, chunks, size, added in rows]

    def document_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def state(self) -> tuple[int, int]:
        """Changes when this or another connection writes (what caches key on)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes

    def chunk_count(self) -> int:
        """Cached until this or another connection writes: counting 100k rows costs a millisecond per question."""
        key = self.state()
        if key != self._count_key:
            self._count = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
            self._count_key = key
        return self._count

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}

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

    # ---- writing ----------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        """``with manifest.transaction():`` groups changes; all or nothing."""
        return Transaction(self.db)

    def delete_document(self, source: str) -> list[str]:
        """In a transaction: drop a document's rows; returns its chunk ids."""
        ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE source = ?", (source,))]
        self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
        self.db.execute("DELETE FROM documents WHERE source = ?", (source,))
        return ids

    def insert_chunks(self, chunks: Sequence[Chunk], first_ord: int, sentence_vectors: Sequence[np.ndarray | None]) -> None:
        """In a transaction: chunk rows (their BM25 entries follow through triggers)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks(id, source, ord, start, end, line, text, sentences, sentence_vectors, pages, section, language, anchors,"
            " table_rows) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (c.id, c.source, first_ord + i, c.start, c.end, c.line, c.text, json.dumps([(s.start, s.end) for s in c.sentences]),
                 None if sv is None else sv.astype(np.float16).tobytes(), json.dumps(c.pages) if c.pages else None, c.section, c.language,
                 None if c.anchors is None else json.dumps(sorted(c.anchors), ensure_ascii=False),
                 json.dumps(c.table_rows, ensure_ascii=False) if c.table_rows else None)
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

    def close(self) -> None:
        self.db.close()


class Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _create(path: Path) -> None:
    """Create the manifest whole: its schema is written aside and linked into place, so that a reader opening
    the store meanwhile finds no manifest or a complete one, never an empty file. When two processes create
    it at once, the first link wins and both use that file."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.new")
    db = sqlite3.connect(aside, isolation_level=None)
    try:
        os.chmod(aside, 0o600)
        register(db)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA_AND_INDEX)
        db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    finally:
        db.close()
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: rename (the last creator's file wins, all are empty)
        os.replace(aside, path)
        return
    aside.unlink()


def _stored_chunk(row: tuple[Any, ...]) -> Chunk:
    chunk_id, source, start, end, text, sentences, line, pages, section, language, stored_anchors, rows = row
    marks = tuple((int(o), int(p)) for o, p in json.loads(pages)) if pages else ()
    spans = tuple(Span(a, b) for a, b in json.loads(sentences))
    found = frozenset(json.loads(stored_anchors)) if stored_anchors is not None else None  # chunks stored before anchors were
    table_rows = tuple((int(a), int(b), h) for a, b, h in json.loads(rows)) if rows else ()
    return Chunk(chunk_id, source, start, end, text, spans, line, marks, section, language, found, table_rows)


def _matrix(blob: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).reshape(-1, dim).astype(np.float32)
