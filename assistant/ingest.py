"""Ingestion: paths -> files -> text -> chunks -> vectors -> store, incrementally.

A file whose size and modification time match the store is not even read; one
whose bytes hash the same is not re-embedded. Changed files replace their old
chunks atomically; with ``prune``, documents whose files are gone are removed.
Bad files are skipped with a reason; the others are stored.

Work is batched across small files (embedding and store writes both like big
batches) and reported through an optional progress callback.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.chunking import iter_chunks
from assistant.embed import Embedder
from assistant.features import passage_language
from assistant.loaders import SUPPORTED_SUFFIXES, UnreadableFile, load_document, read_bytes, unsupported
from assistant.settings import Settings
from assistant.store import Store, StoredDocument
from assistant.types import Chunk, IngestReport, Skipped, sentence_texts

BATCH_CHUNKS = 64


@dataclass
class Progress:
    """Sent to the progress callback after each file, and after each batch of a large file."""

    files_done: int
    files_total: int
    chunks_done: int
    path: str
    page: int | None = None
    """In a large paged file (PDF, slides): the page reached so far, out of ``pages``."""
    pages: int | None = None


ProgressCallback = Callable[[Progress], None]


def discover(paths: Sequence[str | Path], report: IngestReport, exclude: Path | None = None) -> list[Path]:
    """Files to consider, in a stable order. Missing paths and loops land in ``report.skipped``."""
    found: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not os.path.lexists(path):
            report.skipped.append(Skipped(str(path), "no such file or directory"))
        elif path.is_dir():
            for file in _walk(path, report, exclude):
                found.setdefault(str(file), file)
        elif path.is_file():
            resolved = path.resolve()
            found.setdefault(str(resolved), resolved)
        else:
            report.skipped.append(Skipped(str(path), "not a regular file (broken link, loop or device)"))
    return list(found.values())


def _walk(root: Path, report: IngestReport, exclude: Path | None) -> Iterator[Path]:
    seen: set[str] = set()
    for directory, subdirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen or (exclude is not None and Path(real) == exclude):
            if real in seen:
                report.skipped.append(Skipped(directory, "symlink loop; directory already visited"))
            subdirs[:] = []
            continue
        seen.add(real)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            file = Path(directory, name)
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.skipped.append(Skipped(str(file), unsupported(file.suffix.lower())))
                continue
            if not file.is_file():
                report.skipped.append(Skipped(str(file), "not a regular file (broken link, loop or device)"))
                continue
            yield file.resolve()


def ingest(
    store: Store,
    embedder: Embedder,
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    prune: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the store up to date with ``paths``. The caller holds the store's write lock."""
    started = time.perf_counter()
    report = IngestReport()
    store.check_embedder(embedder.name)
    files = discover(paths, report, exclude=store.path.resolve())
    known = store.documents()
    writer = _Writer(store, embedder, report, settings.sentence_vectors)
    store.mark_dirty()
    for done, file in enumerate(files, start=1):
        source = str(file)
        try:
            stat = file.stat()
            old = known.get(source)
            if old and old.size == stat.st_size and old.mtime_ns == stat.st_mtime_ns:
                report.unchanged.append(source)
                continue
            data = read_bytes(file)
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            document = StoredDocument(source, digest, stat.st_size, stat.st_mtime_ns)
            if old and old.content_hash == digest:
                store.touch(document)
                report.unchanged.append(source)
                continue
            loaded = load_document(file, data)
            del data
            chunks = (
                replace(c, language=passage_language(c.text))
                for c in iter_chunks(source, loaded, digest, settings.chunk_size, settings.chunk_overlap)
            )
            first = list(itertools.islice(chunks, BATCH_CHUNKS + 1))
            if not first:
                raise UnreadableFile("no text in file")
        except UnreadableFile as exc:
            report.skipped.append(Skipped(source, str(exc)))
            continue
        except OSError as exc:
            report.skipped.append(Skipped(source, f"cannot read file: {exc.strerror or exc}"))
            continue
        finally:
            if progress:
                progress(Progress(done, len(files), writer.chunks_done, source))
        existed = old is not None
        if len(first) <= BATCH_CHUNKS:
            writer.add_small(document, first, existed)
        else:  # a big file: streamed in batches inside one transaction, memory stays bounded
            writer.flush()
            tick = functools.partial(_tick, progress, done, len(files), source, len(loaded.pages) or None) if progress else None
            writer.write_large(document, itertools.chain(first, chunks), existed, tick)
    writer.flush()
    if prune:
        gone = [source for source in known if not os.path.exists(source)]
        store.remove(gone)
        report.removed.extend(gone)
    store.record_embedder(embedder.name)
    store.mark_clean()
    report.seconds = time.perf_counter() - started
    return report


def _tick(progress: ProgressCallback, done: int, total: int, source: str, pages: int | None, chunks: int, last: Chunk) -> None:
    progress(Progress(done, total, chunks, source, last.page_at(last.end - 1) if pages else None, pages))


class _Writer:
    """Embeds chunks (and, with ``sentence_vectors``, their sentences) and commits whole documents.

    Small documents are gathered until ``BATCH_CHUNKS`` so embedding calls and
    Chroma writes stay large; each flush is one transaction of whole documents.
    """

    def __init__(self, store: Store, embedder: Embedder, report: IngestReport, sentence_vectors: bool) -> None:
        self.store = store
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors
        self.report = report
        self.pending: list[tuple[StoredDocument, list[Chunk], bool]] = []
        self.chunks_done = 0

    def add_small(self, document: StoredDocument, chunks: list[Chunk], existed: bool) -> None:
        self.pending.append((document, chunks, existed))
        if sum(len(c) for _, c, _ in self.pending) >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        vectors, sentence_vectors = self._embed([c for _, chunks, _ in batch for c in chunks])
        stale: list[str] = []
        at = 0
        with self.store.transaction():
            for document, chunks, _ in batch:
                stale += self.store.delete_document(document.source)
                end = at + len(chunks)
                self.store.add_chunks(chunks, 0, vectors[at:end], sentence_vectors[at:end])
                self.store.put_document(document, len(chunks))
                at = end
        self._done(batch, stale)

    def write_large(
        self, document: StoredDocument, chunks: Iterator[Chunk], existed: bool, tick: Callable[[int, Chunk], None] | None
    ) -> None:
        with self.store.transaction():
            stale = self.store.delete_document(document.source)
            count = 0
            while batch := list(itertools.islice(chunks, BATCH_CHUNKS)):
                vectors, sentence_vectors = self._embed(batch)
                self.store.add_chunks(batch, count, vectors, sentence_vectors)
                count += len(batch)
                if tick:
                    tick(self.chunks_done + count, batch[-1])
            self.store.put_document(document, count)
        self._done([(document, [], existed)], stale, count)

    def _embed(self, chunks: list[Chunk]) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """One embedding call for the chunks and (unless switched off) all their sentences."""
        texts: list[str] = []
        for chunk in chunks:
            texts.append(chunk.text)
            if self.sentence_vectors:
                texts.extend(sentence_texts(chunk))
        vectors = self.embedder.embed_passages(texts)
        if not self.sentence_vectors:
            return vectors, [None] * len(chunks)
        chunk_rows: list[np.ndarray] = []
        sentence_vectors: list[np.ndarray | None] = []
        at = 0
        for chunk in chunks:
            chunk_rows.append(vectors[at])
            sentence_vectors.append(vectors[at + 1 : at + 1 + len(chunk.sentences)])
            at += 1 + len(chunk.sentences)
        return np.asarray(chunk_rows), sentence_vectors

    def _done(self, batch: list[tuple[StoredDocument, list[Chunk], bool]], stale: list[str], extra: int = 0) -> None:
        new = {c.id for _, chunks, _ in batch for c in chunks}
        self.store.drop_vectors([cid for cid in stale if cid not in new])
        embedded = sum(len(chunks) for _, chunks, _ in batch) + extra
        self.chunks_done += embedded
        self.report.chunks_embedded += embedded
        for document, _, existed in batch:
            (self.report.updated if existed else self.report.added).append(document.source)
