"""Ingestion with the fake embedder and real embedded Chroma: incremental, atomic, honest reports."""

import os
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import EmbedderMismatchError, StoreError
from assistant.ingest.loaders import load_text
from tests.conftest import FakeEmbedder


def test_first_ingest_reports_added_and_stores_every_chunk(bot: Assistant, docs: Path) -> None:
    report = bot.ingest([docs])
    assert sorted(Path(p).name for p in report.added) == ["cats.txt", "paris.md", "volcano.html"]
    assert report.skipped == [] and report.updated == [] and report.unchanged == []
    status = bot.status()
    assert status.documents == 3
    assert status.chunks == report.chunks_embedded >= 3
    assert status.embedder == FakeEmbedder.name


def test_chunks_map_back_to_the_extracted_text(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot.store
    for source in store.documents():
        text = load_text(Path(source))
        for chunk in store.chunks_of(source):
            assert text[chunk.start : chunk.end] == chunk.text


def test_reingest_unchanged_files_embeds_nothing(bot: Assistant, docs: Path, fake_embedder: FakeEmbedder) -> None:
    bot.ingest([docs])
    before = fake_embedder.embedded
    report = bot.ingest([docs])
    assert fake_embedder.embedded == before
    assert len(report.unchanged) == 3 and not report.added and not report.updated
    # touched but identical content: hashed, not re-embedded
    cats = docs / "cats.txt"
    os.utime(cats, ns=(time.time_ns(), time.time_ns() + 10**9))
    report = bot.ingest([docs])
    assert fake_embedder.embedded == before
    assert len(report.unchanged) == 3


def test_documents_cut_into_sentences_another_way_are_read_again(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot.store
    store.manifest.set_meta("sentence_cutting", "untrained-punkt")  # as a store ingested before 2026-12-06
    kept = {c.id: c.text for s in store.documents() for c in store.chunks_of(s)}
    report = bot.ingest([docs])
    assert len(report.updated) == 3 and not report.unchanged  # unchanged files, cut anew
    assert {c.id: c.text for s in store.documents() for c in store.chunks_of(s)} == kept  # nothing lost
    assert store.collection.count() == store.chunk_count()
    assert len(bot.ingest([docs]).unchanged) == 3  # once only


def test_changed_file_replaces_its_chunks(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    cats = docs / "cats.txt"
    cats.write_text("Dogs bark at the postman every single morning.", encoding="utf-8")
    report = bot.ingest([docs])
    assert report.updated == [str(cats.resolve())]
    store = bot.store
    texts = [c.text for c in store.chunks_of(str(cats.resolve()))]
    assert texts == ["Dogs bark at the postman every single morning."]
    assert store.collection.count() == store.chunk_count(), "old vectors are deleted from Chroma"
    assert "purrs" not in " ".join(p.text for p in bot.retrieve("cat purrs content", k=5))


def test_prune_removes_documents_whose_files_are_gone(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    (docs / "paris.md").unlink()
    report = bot.ingest([docs])
    assert report.removed == [] and bot.status().documents == 3  # without --prune nothing is removed
    report = bot.ingest([docs], prune=True)
    assert [Path(p).name for p in report.removed] == ["paris.md"]
    assert bot.status().documents == 2
    store = bot.store
    assert store.collection.count() == store.chunk_count()


def test_bad_files_are_skipped_with_reasons_and_good_ones_stored(bot: Assistant, docs: Path, tmp_path: Path) -> None:
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "photo.png").write_bytes(b"\x89PNG....")
    (docs / "bad.pdf").write_bytes(b"%PDF-1.7 garbage")
    latin = docs / "latin.txt"
    latin.write_bytes("Le délai expire le 8 août à Moscou.".encode("latin-1"))
    loop = docs / "loop"
    loop.symlink_to(docs, target_is_directory=True)
    report = bot.ingest([docs, tmp_path / "missing-dir"])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "empty file (0 bytes)" in reasons["empty.txt"]
    assert "binary" in reasons["blob.txt"]
    assert "unsupported file type .png" in reasons["photo.png"]
    assert "PDF" in reasons["bad.pdf"]
    assert "no such file" in reasons["missing-dir"]
    assert "loop" in reasons["loop"]
    assert len(report.added) == 4  # cats, paris, volcano, latin
    store = bot.store
    assert "août" in store.chunks_of(str(latin.resolve()))[0].text


def test_unreadable_file_is_skipped(bot: Assistant, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = docs / "secret.txt"
    secret.write_text("hidden")
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = Path.read_bytes

        def denied(self: Path) -> bytes:
            if self.name == "secret.txt":
                raise PermissionError(13, "Permission denied")
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", denied)
    report = bot.ingest([docs])
    assert any("permission denied" in s.reason for s in report.skipped)


def test_store_remembers_its_embedder(bot: Assistant, docs: Path, tmp_path: Path) -> None:
    bot.ingest([docs])
    bot.close()

    class OtherEmbedder(FakeEmbedder):
        name = "other/model"

    other = Assistant(embedder=OtherEmbedder(), store=str(tmp_path / "store"))
    with pytest.raises(EmbedderMismatchError, match="fake/bag-of-words-64.*other/model"):
        other.ask("cats")
    with pytest.raises(EmbedderMismatchError):
        other.ingest([docs])


def test_store_directory_is_private(bot: Assistant, docs: Path, tmp_path: Path) -> None:
    bot.ingest([docs])
    assert (tmp_path / "store").stat().st_mode & 0o077 == 0
    assert (tmp_path / "store" / "manifest.sqlite3").stat().st_mode & 0o077 == 0


def test_second_writer_is_refused_clearly(bot: Assistant, docs: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    bot.ingest([docs])
    store = bot.store
    store.acquire_write_lock()
    try:
        other = Assistant(embedder=fake_embedder, store=str(tmp_path / "store"))
        with pytest.raises(StoreError, match="another process is writing"):
            other.ingest([docs])
    finally:
        store.release_write_lock()


def test_forget_removes_documents(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    removed = bot.forget([docs / "cats.txt"])
    assert [Path(p).name for p in removed] == ["cats.txt"]
    assert bot.status().documents == 2
    assert all("cats.txt" not in p.source for p in bot.retrieve("cat sleep hours", k=5))


def test_orphan_vectors_from_a_crash_are_repaired(bot: Assistant, docs: Path) -> None:
    import numpy as np

    bot.ingest([docs])
    store = bot.store
    # simulate a crash between the Chroma write and the manifest commit
    store.mark_dirty()
    store.collection.upsert(ids=["orphan-1"], embeddings=np.ones((1, 64), dtype=np.float32))
    assert store.collection.count() == store.chunk_count() + 1
    assert all(p.chunk_id != "orphan-1" for p in bot.retrieve("anything at all", k=10))
    assert store.repair() == 1
    assert store.collection.count() == store.chunk_count()


def test_a_reader_sees_chunk_counts_change_when_another_process_writes(bot: Assistant, docs: Path, tmp_path: Path) -> None:
    from assistant.index.store import Store
    from assistant.settings import load_settings

    bot.ingest([docs])
    with Store(load_settings(store=str(tmp_path / "store")), create=False) as reader:
        before = reader.chunk_count()
        assert before == bot.status().chunks
        (docs / "more.txt").write_text("Owls hunt at night.\n\nThey turn their heads far around.", encoding="utf-8")
        added = bot.ingest([docs]).chunks_embedded
        assert added > 0
        assert reader.chunk_count() == before + added, "the cached count follows other connections' commits"
        bot.forget([docs / "more.txt"])
        assert reader.chunk_count() == before


def test_a_reader_finds_words_another_process_added_after_it_searched(bot: Assistant, docs: Path, tmp_path: Path) -> None:
    from assistant.index.store import Store
    from assistant.settings import load_settings

    bot.ingest([docs])
    with Store(load_settings(store=str(tmp_path / "store")), create=False) as reader:
        assert reader.lexical_search("owls", 5) == [], "no owls yet (and the reader remembers how rare the word is)"
        (docs / "more.txt").write_text("Owls hunt at night.\n\nThey turn their heads far around.", encoding="utf-8")
        bot.ingest([docs])
        hits = reader.lexical_search("owls", 5)
        assert hits and "Owls hunt" in reader.chunks_by_id([hits[0][0]])[hits[0][0]].text


def test_lexical_search_reads_a_bounded_number_of_postings(bot: Assistant, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.index.lexical as lexical_module

    bot.ingest([docs])
    store = bot.store
    terms = ["cats", "sleep", "hours"]
    frequency = dict(store.db.execute("SELECT term, doc FROM fts_vocab WHERE term IN ('cats', 'sleep', 'hours')").fetchall())
    assert set(store.lexical.selective_terms(terms)) == set(terms)
    monkeypatch.setattr(lexical_module, "MAX_POSTINGS", 1)
    rarest = min(terms, key=lambda t: (frequency[t], t))
    assert store.lexical.selective_terms(terms) == [rarest], "the rarest term alone when the budget is tiny"


def test_each_chunk_keeps_its_language_and_older_stores_still_answer(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    store = bot.store
    languages = {Path(source).name: {c.language for c in store.chunks_of(source)} for source in store.documents()}
    assert languages["cats.txt"] == {"en"} and languages["paris.md"] == {"fr"}
    store.db.execute("UPDATE chunks SET language = NULL")  # as stored before languages were kept
    assert {c.language for c in store.chunks_of(next(iter(store.documents())))} == {None}
    answer = bot.ask("How long do cats sleep?")
    assert "sixteen hours" in answer.text, "the language is then found when answering"


def test_lexical_hits_do_not_depend_on_the_order_documents_were_written(fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    docs = tmp_path / "same"
    docs.mkdir()
    for i in range(60):  # forty chunks with the same BM25 score for "alpha": a tie far past the 5 hits asked for
        (docs / f"d{i:02}.txt").write_text(f"{'alpha' if i % 3 else 'delta'} beta gamma. Note {i}.", encoding="utf-8")
    results = []
    for order in (["all"], ["late", "all"]):  # the second store writes d30..d59 first: other rowids, same content
        with Assistant(embedder=fake_embedder, store=str(tmp_path / "-".join(order))) as bot:
            for step in order:
                bot.ingest([docs] if step == "all" else sorted(docs.iterdir())[30:])
            results.append(bot.store.lexical_search("alpha", 5))
    assert len(results[0]) == 5 and len({score for _, score in results[0]}) == 1, "five tied hits"
    assert results[0] == results[1]
    assert [cid for cid, _ in results[0]] == sorted(cid for cid, _ in results[0]), "ties in chunk-id order"


def test_each_chunk_keeps_its_numbers_and_names_and_older_stores_rank_the_same(bot: Assistant, docs: Path) -> None:
    from assistant.text.language import anchors

    bot.ingest([docs])
    store = bot.store
    chunks = [c for source in store.documents() for c in store.chunks_of(source)]
    assert all(c.anchors == anchors(c.text) for c in chunks) and any(c.anchors for c in chunks)
    question = "When was the Eiffel Tower built, 1889?"
    before = [(p.chunk_id, p.score) for p in bot.retrieve(question, k=3)]
    store.db.execute("UPDATE chunks SET anchors = NULL")  # as stored before anchors were kept
    assert [(p.chunk_id, p.score) for p in bot.retrieve(question, k=3)] == before, "computed when not stored: same features"
