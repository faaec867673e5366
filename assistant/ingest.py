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
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking import chunk_text
from assistant.embed import Embedder
from assistant.loaders import SUPPORTED_SUFFIXES, UnreadableFile, load_text, read_bytes
from assistant.settings import Settings
from assistant.store import Store, StoredDocument
from assistant.types import Chunk, IngestReport, Skipped

BATCH_CHUNKS = 64


@dataclass
class Progress:
    """Sent to the progress callback after each file."""

    files_done: int
    files_total: int
    chunks_done: int
    path: str


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
                report.skipped.append(Skipped(str(file), f"unsupported file type {file.suffix or '(none)'}"))
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
    pending: list[tuple[StoredDocument, list[Chunk], bool]] = []
    pending_chunks = 0
    chunks_done = 0

    def flush() -> None:
        nonlocal pending, pending_chunks, chunks_done
        if pending:
            _embed_and_write(store, embedder, pending, report)
            chunks_done += pending_chunks
            pending, pending_chunks = [], 0

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
            text = load_text(file, data)
            del data
            chunks = chunk_text(source, text, digest, settings.chunk_size, settings.chunk_overlap)
            if not chunks:
                raise UnreadableFile("no text in file")
        except UnreadableFile as exc:
            report.skipped.append(Skipped(source, str(exc)))
            continue
        except OSError as exc:
            report.skipped.append(Skipped(source, f"cannot read file: {exc.strerror or exc}"))
            continue
        finally:
            if progress:
                progress(Progress(done, len(files), chunks_done + pending_chunks, source))
        pending.append((document, chunks, old is not None))
        pending_chunks += len(chunks)
        if pending_chunks >= BATCH_CHUNKS:
            flush()
    flush()
    if prune:
        gone = [source for source in known if not os.path.exists(source)]
        store.remove(gone)
        report.removed.extend(gone)
    store.record_embedder(embedder.name)
    report.seconds = time.perf_counter() - started
    return report


def _embed_and_write(
    store: Store, embedder: Embedder, batch: list[tuple[StoredDocument, list[Chunk], bool]], report: IngestReport
) -> None:
    """Embed chunks and their sentences in one call, then write whole documents."""
    texts: list[str] = []
    for _, chunks, _ in batch:
        for chunk in chunks:
            texts.append(chunk.text)
            texts.extend(chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences)
    vectors = embedder.embed_passages(texts)
    at = 0
    items = []
    for document, chunks, _ in batch:
        chunk_vectors, sentence_vectors = [], []
        for chunk in chunks:
            chunk_vectors.append(vectors[at])
            sentence_vectors.append(vectors[at + 1 : at + 1 + len(chunk.sentences)])
            at += 1 + len(chunk.sentences)
        items.append((document, chunks, np.asarray(chunk_vectors), sentence_vectors))
    store.record_embedder(embedder.name)
    store.write(items)
    report.chunks_embedded += sum(len(chunks) for _, chunks, _ in batch)
    for document, _, existed in batch:
        (report.updated if existed else report.added).append(document.source)
