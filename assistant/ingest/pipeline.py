"""Ingestion: paths -> files -> text -> chunks -> vectors -> store, incrementally.

A file whose size and modification time match the store is not even read; one
whose bytes hash the same is not re-embedded. Changed files replace their old
chunks atomically; with ``prune``, documents whose files are gone are removed.
Bad files are skipped with a reason; the others are stored.

Work is batched across small files (embedding and store writes both like big
batches) and reported through an optional progress callback.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.errors import IngestInterrupted
from assistant.index.embed import Embedder
from assistant.index.store import Store, StoredDocument
from assistant.ingest.chunking import SENTENCE_CUTTING, iter_chunks
from assistant.ingest.discover import discover, under
from assistant.ingest.embedding import SLICE_CHARS, embed_chunks
from assistant.ingest.loaders import UnreadableFile, load_document, read_bytes
from assistant.settings import Settings
from assistant.text.language import anchors
from assistant.types import Chunk, IngestReport, Skipped

BATCH_CHUNKS = 64
FIRST_BATCH_CHUNKS = 8
"""Small documents are committed in batches that start this small and double up to ``BATCH_CHUNKS``: the
first documents are stored within seconds, so Ctrl-C early in a long ingest still keeps something."""
@dataclass
class Progress:
    """Sent to the progress callback after each file is read and after each slice of texts is embedded."""

    files_done: int
    files_total: int
    chunks_done: int
    """Chunks embedded so far (stored, or in the batch being embedded)."""
    path: str
    page: int | None = None
    """In a large paged file (PDF, slides): the page reached so far, out of ``pages``."""
    pages: int | None = None
    bytes_done: int = 0
    """Bytes of the files handled so far (unchanged ones count at once, others as their chunks are embedded)."""
    bytes_total: int = 0
    """Bytes of every file found: the measure of the work left, for a time-left estimate."""


ProgressCallback = Callable[[Progress], None]


class _Meter:
    """The counters behind :class:`Progress`; one per ingest run."""

    def __init__(self, callback: ProgressCallback | None, files: list[Path]) -> None:
        self.callback = callback
        self.files_total = len(files)
        self.bytes_total = sum(_size(f) for f in files) if callback else 0
        self.files_done = self.bytes_done = self.chunks_done = 0
        self.path = ""

    def file_read(self, path: str, settled_bytes: int = 0) -> None:
        """A file was looked at; ``settled_bytes`` when it needs no embedding (unchanged, skipped)."""
        self.files_done += 1
        self.path = path
        self.bytes_done += settled_bytes
        self.send()

    def send(self, chunks: int = 0, nbytes: int = 0, page: int | None = None, pages: int | None = None) -> None:
        """Report, counting ``chunks`` and ``nbytes`` of the batch being embedded on top of what is done."""
        if self.callback:
            self.callback(Progress(self.files_done, self.files_total, self.chunks_done + chunks, self.path, page, pages,
                                   min(self.bytes_done + nbytes, self.bytes_total), self.bytes_total))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def ingest(
    store: Store,
    embedder: Embedder,
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    prune: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the store up to date with ``paths``. The caller holds the store's write lock.

    Ctrl-C (``KeyboardInterrupt``) stops it within about a second, as :class:`IngestInterrupted`
    carrying the report so far: documents already committed stay, small documents already embedded
    are committed, the rest of the batch and a large document in flight are rolled back, and running
    the same ingest again completes the work.
    """
    started = time.perf_counter()
    report = IngestReport()
    try:
        _update(store, embedder, settings, paths, prune, progress, report)
    except KeyboardInterrupt:
        raise IngestInterrupted(report) from None
    finally:
        report.seconds = time.perf_counter() - started
    return report


def _update(
    store: Store, embedder: Embedder, settings: Settings, paths: Sequence[str | Path], prune: bool,
    progress: ProgressCallback | None, report: IngestReport,
) -> None:
    store.check_embedder(embedder.name)
    files = discover(paths, report, exclude=store.path.resolve())
    known = store.documents(SENTENCE_CUTTING)  # documents cut into sentences another way are read again
    meter = _Meter(progress, files)
    writer = _Writer(store, embedder, report, settings.sentence_vectors, meter)
    store.mark_dirty()
    for file in files:
        source = str(file)
        size, pending = 0, False
        try:
            stat = file.stat()
            size = stat.st_size
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
                replace(c, anchors=anchors(c.text))  # iter_chunks found its language
                for c in iter_chunks(source, loaded, digest, settings.chunk_size, settings.chunk_overlap)
            )
            first = list(itertools.islice(chunks, BATCH_CHUNKS + 1))
            if not first:
                raise UnreadableFile("no text in file")
            pending = True
        except UnreadableFile as exc:
            report.skipped.append(Skipped(source, str(exc)))
            continue
        except OSError as exc:
            report.skipped.append(Skipped(source, f"cannot read file: {exc.strerror or exc}"))
            continue
        finally:
            if not pending:  # unchanged or skipped: its bytes are done with
                meter.file_read(source, size)
        meter.file_read(source)
        existed = old is not None
        if len(first) <= BATCH_CHUNKS:
            writer.add_small(document, first, existed)
        else:  # a big file: streamed in batches inside one transaction, memory stays bounded
            writer.flush()
            writer.write_large(document, itertools.chain(first, chunks), existed, len(loaded.text), len(loaded.pages) or None)
    writer.flush()
    gone = sorted(source for source in under(known, paths) if not os.path.exists(source))
    if prune:
        store.remove(gone)
        report.removed.extend(gone)
    else:
        report.missing.extend(gone)
    store.record_embedder(embedder.name)
    store.mark_clean()


Pending = tuple[StoredDocument, list[Chunk], bool]
"""A document waiting to be written: its chunks, and whether it replaces a stored version."""
Embedded = tuple[list[Pending], np.ndarray, list["np.ndarray | None"]]
"""Documents embedded together: their chunk vectors and sentence vectors."""


def _groups(batch: list[Pending], budget: int) -> Iterator[list[Pending]]:
    """Consecutive whole documents of ``batch``, about ``budget`` characters of chunk text each."""
    group: list[Pending] = []
    size = 0
    for item in batch:
        group.append(item)
        size += sum(len(c.text) for c in item[1])
        if size >= budget:
            yield group
            group, size = [], 0
    if group:
        yield group


class _Writer:
    """Embeds chunks (and, with ``sentence_vectors``, their sentences) and commits whole documents.

    Small documents are gathered (up to ``BATCH_CHUNKS``, from ``FIRST_BATCH_CHUNKS``) so Chroma writes stay
    large; each flush is one transaction of whole documents. Embedding goes in groups of whole documents of about
    ``SLICE_CHARS``, reporting progress after each slice.
    """

    def __init__(self, store: Store, embedder: Embedder, report: IngestReport, sentence_vectors: bool, meter: _Meter) -> None:
        self.store = store
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors
        self.report = report
        self.meter = meter
        self.pending: list[Pending] = []
        self.limit = FIRST_BATCH_CHUNKS

    def add_small(self, document: StoredDocument, chunks: list[Chunk], existed: bool) -> None:
        self.pending.append((document, chunks, existed))
        if sum(len(c) for _, c, _ in self.pending) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Embed the pending documents a group of whole documents at a time (about ``SLICE_CHARS`` each) and commit
        them in one transaction; on Ctrl-C, first commit the groups already embedded, so finished files are kept."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.limit = min(BATCH_CHUNKS, self.limit * 2)
        embedded: list[Embedded] = []
        try:
            for group in _groups(batch, SLICE_CHARS):
                chunks = [c for _, cs, _ in group for c in cs]
                done_chunks = sum(len(cs) for g, _, _ in embedded for _, cs, _ in g)
                done_bytes = sum(d.size for g, _, _ in embedded for d, _, _ in g)

                def report(f: float, n: int = len(chunks), b: int = sum(d.size for d, _, _ in group), c0: int = done_chunks,
                           b0: int = done_bytes) -> None:
                    self.meter.send(c0 + int(f * n), b0 + int(f * b))

                embedded.append((group, *self._embed(chunks, report)))
        except KeyboardInterrupt:
            self._commit(embedded)
            raise
        self._commit(embedded)

    def _commit(self, embedded: list[Embedded]) -> None:
        """One transaction of whole documents with their vectors."""
        if not embedded:
            return
        batch = [item for group, _, _ in embedded for item in group]
        chunks = [c for _, cs, _ in batch for c in cs]
        vectors = np.vstack([v for _, v, _ in embedded])
        sentence_vectors = [s for _, _, sv in embedded for s in sv]
        stale: list[str] = []
        at = 0
        with self.store.transaction():
            for document, _, _ in batch:
                stale += self.store.delete_document(document.source)
            self.store.add_vectors(chunks, vectors)  # one Chroma write for the batch: ~25 ms per call saved per document
            for document, cs, _ in batch:
                end = at + len(cs)
                self.store.add_rows(cs, 0, sentence_vectors[at:end])
                self.store.put_document(document, len(cs))
                at = end
        self._done(batch, stale)

    def write_large(self, document: StoredDocument, chunks: Iterator[Chunk], existed: bool, length: int, pages: int | None) -> None:
        """One document in batches inside one transaction; progress by the offset reached in its text."""
        with self.store.transaction():
            stale = self.store.delete_document(document.source)
            count = 0
            while batch := list(itertools.islice(chunks, BATCH_CHUNKS)):
                first, last = batch[0], batch[-1]

                def report(fraction: float, first: Chunk = first, last: Chunk = last, count: int = count, n: int = len(batch)) -> None:
                    offset = first.start + fraction * (last.end - first.start)
                    page = last.page_at(int(offset)) if pages else None
                    self.meter.send(count + int(fraction * n), int(document.size * offset / max(length, 1)), page, pages)

                vectors, sentence_vectors = self._embed(batch, report)
                self.store.add_chunks(batch, count, vectors, sentence_vectors)
                count += len(batch)
            self.store.put_document(document, count)
        self._done([(document, [], existed)], stale, count)

    def _embed(self, chunks: list[Chunk], progress: Callable[[float], None]) -> tuple[np.ndarray, list[np.ndarray | None]]:
        return embed_chunks(self.embedder, chunks, self.sentence_vectors, progress)

    def _done(self, batch: list[Pending], stale: list[str], extra: int = 0) -> None:
        new = {c.id for _, chunks, _ in batch for c in chunks}
        self.store.drop_vectors([cid for cid in stale if cid not in new])
        embedded = sum(len(chunks) for _, chunks, _ in batch) + extra
        self.meter.chunks_done += embedded
        self.meter.bytes_done += sum(document.size for document, _, _ in batch)
        self.report.chunks_embedded += embedded
        for document, _, existed in batch:
            (self.report.updated if existed else self.report.added).append(document.source)
