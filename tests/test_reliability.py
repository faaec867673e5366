"""Crash safety, concurrent use, damaged stores and big files: tests that try to break the store."""

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import StoreError
from assistant.index.fts import register
from assistant.index.store import Store
from assistant.settings import load_settings
from tests.conftest import ROOT, HashEmbedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKER = [sys.executable, str(ROOT / "tests" / "ingest_worker.py")]
QUESTIONS = ["date limite sanctions", "réunion Moscou trois heures", "sous-marins nucléaires", "document 17"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred small documents, some long enough to need several chunks."""
    folder = tmp_path_factory.mktemp("corpus")
    rng = random.Random(7)
    words = "date limite août rencontre réunion Moscou Kremlin sanctions paix guerre accord président sous-marins".split()
    for i in range(300):
        sentences = [" ".join(rng.choices(words, k=10)).capitalize() + f" document {i}." for _ in range(rng.choice([2, 5, 40]))]
        (folder / f"doc{i:03d}.txt").write_text(" ".join(sentences), encoding="utf-8")
    return folder


def ingest(store: Path, docs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WORKER, "ingest", str(store), str(docs)], capture_output=True, text=True, timeout=600)


def query(store: Path) -> list[list[str]]:
    done = subprocess.run([*WORKER, "query", str(store), *QUESTIONS], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"a reader failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
    return answers(done.stdout)


def answers(out: str) -> list[list[str]]:
    return [json.loads(line) for line in out.splitlines() if line != "ready"]


def check_consistent(store_path: Path) -> tuple[int, int]:
    """Every document fully present (its chunk count matches), the BM25 index agrees with the chunks."""
    db = sqlite3.connect(store_path / "manifest.sqlite3")
    register(db)  # the function the BM25 index reads chunks through
    for source, expected in db.execute("SELECT source, chunks FROM documents"):
        assert db.execute("SELECT count(*) FROM chunks WHERE source = ?", (source,)).fetchone()[0] == expected, source
    orphan_rows = db.execute("SELECT count(*) FROM chunks WHERE source NOT IN (SELECT source FROM documents)").fetchone()[0]
    assert orphan_rows == 0, "chunks without their document"
    db.execute("INSERT INTO fts(fts) VALUES ('integrity-check')")  # raises if BM25 index and chunks disagree
    documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    db.close()
    return documents, chunks


@pytest.fixture(scope="module")
def clean(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, tuple[int, int], list[list[str]]]:
    store = tmp_path_factory.mktemp("clean") / "store"
    started = time.monotonic()
    assert ingest(store, corpus).returncode == 0
    return store, time.monotonic() - started, check_consistent(store), query(store)


def test_sigkill_at_any_moment_leaves_a_store_that_the_next_ingest_completes(corpus: Path, clean: tuple, tmp_path: Path) -> None:
    _, _, clean_counts, clean_results = clean
    rng = random.Random(42)
    partial = 0
    files = len(list(corpus.iterdir()))
    for run in range(20):
        store = tmp_path / f"store{run}"
        proc = subprocess.Popen([*WORKER, "ingest", str(store), str(corpus)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if run < 2:  # while it starts (opening the store, listing files)
            time.sleep(rng.uniform(0.3, 1.0))
        else:  # once it has read a random number of files, plus a moment: mid-ingest whatever the machine's load
            target = rng.randint(1, files - 1)
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("files ") and int(line.split()[1]) >= target:
                    break
            time.sleep(rng.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (store / "manifest.sqlite3").exists():
            documents, chunks = check_consistent(store)  # consistent even right after the kill
            assert documents <= clean_counts[0]
            partial += 0 < documents < clean_counts[0]
        result = ingest(store, corpus)  # the next command repairs and completes
        assert result.returncode == 0, result.stderr
        assert check_consistent(store) == clean_counts
        with Store(load_settings(store=str(store)), create=False) as opened:
            assert opened.collection.count() == clean_counts[1], "no orphan or missing vectors"
        assert query(store) == clean_results
    assert partial >= 5, f"only {partial} of 20 kills landed in the middle of the ingest"


def test_a_second_writer_is_refused_and_readers_keep_answering(corpus: Path, clean: tuple, tmp_path: Path, busy: None) -> None:
    store = tmp_path / "store"
    writer = subprocess.Popen([*WORKER, "ingest", str(store), str(corpus)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the writer has committed something: it holds the lock
            if (store / "manifest.sqlite3").exists():
                with sqlite3.connect(store / "manifest.sqlite3") as db:
                    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'documents'").fetchone()[0] and \
                            db.execute("SELECT count(*) FROM documents").fetchone()[0] > 0:
                        break
            time.sleep(0.1)
        assert writer.poll() is None, "the first ingest finished before the test could race it"
        second = ingest(store, corpus)
        assert second.returncode == 2
        assert "another process is writing" in second.stderr
        answered = 0
        while writer.poll() is None:
            results = query(store)  # a reader during the ingest: answers from what is committed
            assert len(results) == len(QUESTIONS)
            answered += 1
        assert answered >= 1
    finally:
        writer.wait(timeout=600)
    assert writer.returncode == 0
    assert check_consistent(store) == clean[2]


def test_a_reader_waits_for_a_vector_write_in_progress(clean: tuple, tmp_path: Path) -> None:
    """Chroma rewrites its index files in place; a reader that loads them mid-write fails or reads a torn index.

    Here the test is the writer: it holds the vectors' write lock, as an ingest does around each batch, and
    leaves an index file half written. The reader must wait, then answer exactly as from the clean store.
    """
    store_path, _, _, clean_results = clean
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    index_file = next((store / "chroma").glob("*/index_metadata.pickle"))
    saved = index_file.read_bytes()
    with Store(load_settings(store=str(store)), create=False) as opened, opened.vectors.holding("write"):
        index_file.write_bytes(saved[: len(saved) // 3])
        reader = subprocess.Popen([*WORKER, "query", str(store), *QUESTIONS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read() if reader.stderr else ""
        time.sleep(3)  # the search itself takes well under a second: by now the reader has read the files, or waits
        assert reader.poll() is None, f"the reader did not wait for the write: {reader.stderr.read() if reader.stderr else ''}"
        index_file.write_bytes(saved)
    out, err = reader.communicate(timeout=300)
    assert reader.returncode == 0, err
    assert answers(out) == clean_results


def test_a_store_being_created_never_shows_an_empty_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader opening a store while the first ingest creates it must find no manifest or a whole one, never the
    empty file it would call damaged: checked each time the manifest's SQLite file is opened during creation."""
    store = tmp_path / "store"
    manifest = store / "manifest.sqlite3"
    sizes: list[int | None] = []
    connect = sqlite3.connect

    def watched(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(*args, **kwargs)  # type: ignore[arg-type]
        sizes.append(manifest.stat().st_size if manifest.exists() else None)
        return db

    monkeypatch.setattr(sqlite3, "connect", watched)
    created = [Store(load_settings(store=str(store)), create=True) for _ in range(2)]
    monkeypatch.undo()
    try:
        assert sizes and 0 not in sizes, sizes
        assert not list(store.glob(".manifest*")), "nothing left aside"
        with Store(load_settings(store=str(store)), create=False) as reader:
            assert reader.status().documents == 0
    finally:
        for opened in created:
            opened.close()


def test_a_long_lived_reader_finds_what_another_process_ingests(tmp_path: Path) -> None:
    """chat and serve keep the store open: vectors another process writes must reach their dense search (Chroma
    caches its index per process, chroma-core/chroma#3792)."""
    from assistant.index.vectors import REOPEN_EVERY_S

    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    (first / "a.txt").write_text("Le Kremlin a confirmé la rencontre de trois heures à Moscou.", encoding="utf-8")
    text = "Les pingouins de l'Antarctique nagent trois cents kilomètres pour trouver du krill."
    (later / "b.txt").write_text(text, encoding="utf-8")
    store = tmp_path / "store"
    assert ingest(store, first).returncode == 0
    with Assistant(store=str(store), embedder=HashEmbedder(), min_confidence=0.0) as reader:
        reader.retrieve("rencontre")  # the reader has its index loaded
        assert ingest(store, later).returncode == 0  # another process writes
        time.sleep(REOPEN_EVERY_S)
        (new,) = [c.id for c in reader.store.chunks_of(str((later / "b.txt").resolve()))]
        assert new in [i for i, _ in reader.store.dense_search(HashEmbedder().embed_query(text), 2)]


def test_damaged_stores_give_a_clear_error(corpus: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in sorted(corpus.iterdir())[:5]:
        (docs / path.name).write_bytes(path.read_bytes())
    store = tmp_path / "store"
    assert ingest(store, docs).returncode == 0

    manifest = store / "manifest.sqlite3"
    saved = manifest.read_bytes()
    manifest.write_bytes(saved[:100])  # truncated
    with pytest.raises(StoreError, match="damaged.*Rebuild it"):
        Assistant(store=str(store), embedder=HashEmbedder()).retrieve("date")
    manifest.write_bytes(saved)

    import shutil

    shutil.rmtree(store / "chroma")  # the vectors are gone: never answer as if the documents were not there
    with pytest.raises(StoreError, match="damaged.*vectors"):
        Assistant(store=str(store), embedder=HashEmbedder()).retrieve("date")


def test_a_50_mb_file_is_ingested_with_bounded_memory_and_progress(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    rng = random.Random(3)
    words = "le la une date limite août rencontre réunion Moscou Kremlin sanctions paix guerre accord président".split()
    with open(folder / "big.txt", "w", encoding="utf-8") as out:
        written = i = 0
        while written < 50_000_000:
            paragraph = " ".join(" ".join(rng.choices(words, k=12)).capitalize() + f" numéro {i}." for _ in range(6)) + "\n\n"
            out.write(paragraph)
            written += len(paragraph.encode())
            i += 1
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from assistant import Assistant
from tests.conftest import HashEmbedder
ticks = []
with Assistant(store={str(tmp_path / "store")!r}, embedder=HashEmbedder()) as bot:
    report = bot.ingest([{str(folder)!r}], progress=lambda p: ticks.append(p.chunks_done))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child started by a big pytest
# process would report the parent's peak; VmHWM belongs to the child's own memory map.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"added": len(report.added), "chunks": report.chunks_embedded, "ticks": len(ticks), "peak_mb": peak / 1024}}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["added"] == 1 and data["chunks"] > 30_000
    assert data["ticks"] > 100, "progress moves while one big file is ingested"
    assert data["peak_mb"] < 800, f"peak memory {data['peak_mb']:.0f} MB for a 50 MB file"
    counts = check_consistent(tmp_path / "store")
    assert counts == (1, data["chunks"])
