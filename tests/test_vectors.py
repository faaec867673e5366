"""Chunk vectors in a real embedded Chroma: written through llama-index's Chroma integration, searched through Chroma's own query."""

from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.index.vectors import VectorIndex
from assistant.settings import Settings


def _unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def index(tmp_path: Path) -> VectorIndex:
    return VectorIndex(Settings(), tmp_path / "chroma", damaged=lambda what: f"damaged: {what}")


def test_nearest_reports_cosine_similarity_best_first(index: VectorIndex) -> None:
    vectors = np.stack([_unit(1, 0, 0), _unit(1, 1, 0), _unit(0, 0, 1)])
    index.upsert(["a", "b", "c"], vectors, ["x.txt", "x.txt", "y.txt"])
    found = index.query(_unit(1, 0, 0), 3)
    assert [i for i, _ in found] == ["a", "b", "c"]
    assert [round(cos, 4) for _, cos in found] == [1.0, round(float(vectors[1] @ vectors[0]), 4), 0.0]


def test_writing_an_id_again_replaces_its_vector(index: VectorIndex) -> None:
    index.upsert(["a", "b"], np.stack([_unit(1, 0, 0), _unit(0, 1, 0)]), ["x.txt", "x.txt"])
    index.upsert(["a"], np.stack([_unit(0, 0, 1)]), ["x.txt"])
    assert index.count() == 2
    assert index.query(_unit(0, 0, 1), 1) == [("a", pytest.approx(1.0, abs=1e-5))]


def test_rows_written_before_the_integration_are_still_found(index: VectorIndex) -> None:
    index.collection.upsert(ids=["old"], embeddings=[_unit(0, 1, 0).tolist()], metadatas=[{"source": "old.txt"}])
    index.upsert(["new"], np.stack([_unit(1, 0, 0)]), ["new.txt"])
    assert [i for i, _ in index.query(_unit(0, 1, 0), 2)] == ["old", "new"]
    index.delete(["old"])
    assert index.ids() == ["new"]


def test_a_stored_collection_is_readable_by_llama_index(bot: Assistant, docs: Path) -> None:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    bot.ingest([docs])
    store = bot.store
    ids = store.vectors.ids()
    assert len(ids) == store.chunk_count() > 0
    nodes = ChromaVectorStore(chroma_collection=store.collection).get_nodes(node_ids=ids)
    assert sorted(n.node_id for n in nodes) == sorted(ids)
    assert {Path(n.metadata["source"]).name for n in nodes} == {"cats.txt", "paris.md", "volcano.html"}
    # written as llama-index nodes (not rows it can only read through its legacy fallback), without a second copy of the text
    stored = store.collection.get(ids=ids, include=["metadatas", "documents"])
    assert {m["_node_type"] for m in stored["metadatas"]} == {"TextNode"}
    assert set(stored["documents"]) == {""}


def test_asking_does_not_import_llama_index(bot: Assistant, docs: Path) -> None:
    """A one-shot `assistant ask` pays every import: llama-index (~1 s here) is for ingest, not for answering."""
    import subprocess
    import sys

    bot.ingest([docs])
    code = ("import sys\nfrom assistant import Assistant\nfrom tests.conftest import FakeEmbedder\n"
            f"bot = Assistant(store={str(bot.settings.store)!r}, embedder=FakeEmbedder(), min_confidence=0.0)\n"
            "print(bot.ask('How many hours a day do cats sleep?').text)\n"
            "print(sorted(m for m in sys.modules if m.startswith('llama_index')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    answer, imported = done.stdout.strip().splitlines()[-2:]
    assert "sleep" in answer and imported == "[]"


def test_closing_releases_chromas_files_and_a_reopened_index_still_answers(tmp_path: Path) -> None:
    """Chroma caches a client per path until the last one closes: a long run (a server, a test session) that opened
    store after store once kept every store's files open and ran out of descriptors for select()."""
    import gc
    import os

    def open_files() -> set[str]:
        return {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}

    before = open_files()
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        index = VectorIndex(Settings(), tmp_path / name / "chroma", damaged=lambda what: f"damaged: {what}")
        index.upsert(["a"], np.stack([_unit(1, 0, 0)]), ["x.txt"])
        index.close()
    gc.collect()
    assert not {f for f in open_files() - before if str(tmp_path) in f}, "a closed index holds no file of its store"

    reader = VectorIndex(Settings(), tmp_path / "one" / "chroma", damaged=lambda what: f"damaged: {what}")
    other = VectorIndex(Settings(), tmp_path / "one" / "chroma", damaged=lambda what: f"damaged: {what}")
    assert reader.count() == other.count() == 1
    reader._reopen()  # as after another process wrote: the path's cached client is replaced
    other.close()  # its client is no longer the path's: closing it must not stop the reader's
    assert reader.query(_unit(1, 0, 0), 1) == [("a", pytest.approx(1.0, abs=1e-5))]
    reader.close()
