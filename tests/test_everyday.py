"""Everyday use with the fake embedder: Ctrl-C during ingest, progress, the documents listing, gone files, chat."""

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from assistant import Assistant
from assistant.errors import IngestInterrupted
from assistant.ingest.pipeline import Progress
from assistant.interface.chat import ChatSession
from assistant.settings import Settings
from tests.conftest import FakeEmbedder


class InterruptingEmbedder(FakeEmbedder):
    """Raises KeyboardInterrupt (as Ctrl-C would) on its ``at``-th call."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls + 1 == self.at:
            self.calls += 1
            raise KeyboardInterrupt
        return super().embed_passages(texts)


def write_notes(folder: Path, n: int, sentences: int = 40) -> list[Path]:
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(n):
        text = " ".join(f"Note {i} line {j} says the colour of box {i * 100 + j} is shade {j * 7 % 13}." for j in range(sentences))
        files.append(folder / f"note{i:02}.txt")
        files[-1].write_text(text, encoding="utf-8")
    return files


def test_ctrl_c_early_in_an_ingest_of_many_small_files_keeps_the_first_ones(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_notes(docs, 300, sentences=2)  # 300 one-chunk files: at 64 chunks a batch, Ctrl-C in the first kept nothing
    with Assistant(store=str(tmp_path / "store"), embedder=InterruptingEmbedder(at=3)) as bot:
        with pytest.raises(IngestInterrupted) as caught:
            bot.ingest([docs])
        assert caught.value.report.files_stored > 0, "the first documents were already stored when Ctrl-C came"
        assert {d.source for d in bot.documents()} == set(caught.value.report.added)


def test_ctrl_c_keeps_the_files_of_a_batch_embedded_before_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_notes(docs, 300, sentences=2)  # 300 one-chunk files: batches of 8, 16, 32, then 64 chunks
    counting = FakeEmbedder()
    with Assistant(store=str(tmp_path / "dry-run"), embedder=counting) as bot:
        bot.ingest([docs])
    with Assistant(store=str(tmp_path / "store"), embedder=InterruptingEmbedder(at=counting.calls)) as bot:  # the last call
        with pytest.raises(IngestInterrupted) as caught:
            bot.ingest([docs])
        stored = caught.value.report.files_stored
        whole_batches = 8 + 16 + 32 + 64 * 3  # the last batch holds the 52 files left: all were lost before
        assert whole_batches < stored < 300, f"{stored} files stored: the files embedded before Ctrl-C in its batch are kept"
        assert {d.source for d in bot.documents()} == set(caught.value.report.added)
        raw = bot.store
        assert raw.collection.count() == raw.chunk_count()


def test_ctrl_c_keeps_whole_documents_and_the_same_ingest_completes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    files = write_notes(docs, 40)  # 40 files x ~3 chunks: two batches, each embedded in many slices
    counting = FakeEmbedder()
    with Assistant(store=str(tmp_path / "dry-run"), embedder=counting) as bot:
        bot.ingest([docs])
    store = str(tmp_path / "store")
    with Assistant(store=store, embedder=InterruptingEmbedder(at=counting.calls)) as bot:  # Ctrl-C in the last slice
        with pytest.raises(IngestInterrupted) as caught:
            bot.ingest([docs])
        report = caught.value.report
        assert str(caught.value) == f"interrupted: {report.files_stored} files stored; run the same command to continue"
        assert 0 < report.files_stored < len(files), "stopped midway, after at least one committed batch"
        assert isinstance(caught.value, KeyboardInterrupt), "code that stops on Ctrl-C still does"
        listed = {d.source for d in bot.documents()}
        assert listed == set(report.added), "exactly the committed documents are stored, none half-written"
    with Assistant(store=store, embedder=FakeEmbedder()) as bot:
        again = bot.ingest([docs])
        assert sorted(again.added) == sorted(str(f.resolve()) for f in files if str(f.resolve()) not in report.added)
        assert len(again.unchanged) == report.files_stored
        raw = bot.store
        assert raw.collection.count() == raw.chunk_count(), "vectors of the rolled-back batch were cleaned up"
        (hit, _), = raw.lexical_search("3905", 1)
        assert raw.chunks_by_id([hit])[hit].source.endswith("note39.txt"), "the last file is indexed"


def test_ctrl_c_inside_a_large_document_rolls_it_back(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (big,) = write_notes(docs, 1, sentences=2500)  # > 64 chunks: written in batches inside one transaction
    store = str(tmp_path / "store")
    with Assistant(store=store, embedder=InterruptingEmbedder(at=30)) as bot:
        with pytest.raises(IngestInterrupted) as caught:
            bot.ingest([docs])
        assert caught.value.report.files_stored == 0
        assert bot.documents() == [] and bot.store.chunk_count() == 0
    with Assistant(store=store, embedder=FakeEmbedder()) as bot:
        assert bot.ingest([docs]).added == [str(big.resolve())]


def test_progress_moves_while_a_batch_is_embedded_and_ends_at_all_bytes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    files = write_notes(docs, 3)
    events: list[Progress] = []
    with Assistant(store=str(tmp_path / "store"), embedder=FakeEmbedder()) as bot:
        bot.ingest([docs], progress=events.append)
        stored_chunks = bot.status().chunks
    # all three files are read before their one batch is embedded: chunks move after the last file is read
    after_reading = [e for e in events if e.files_done == len(files)]
    chunk_counts = [e.chunks_done for e in after_reading]
    assert len(set(chunk_counts)) > 2 and chunk_counts == sorted(chunk_counts), "chunk count rises slice by slice"
    assert events[-1].chunks_done == stored_chunks
    total = sum(f.stat().st_size for f in files)
    assert events[-1].bytes_total == total and events[-1].bytes_done == total
    assert [e.bytes_done for e in events] == sorted(e.bytes_done for e in events)


def test_documents_lists_what_the_store_holds(bot: Assistant, docs: Path) -> None:
    assert bot.documents() == []
    bot.ingest([docs])
    listed = bot.documents()
    assert [Path(d.source).name for d in listed] == ["cats.txt", "paris.md", "volcano.html"]
    assert sum(d.chunks for d in listed) == bot.status().chunks
    for d in listed:
        assert d.size == Path(d.source).stat().st_size and d.chunks > 0
        assert set(d.to_dict()) == {"source", "chunks", "size", "added"}


def test_gone_files_are_named_with_the_prune_hint_and_prune_stays_within_the_paths(bot: Assistant, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    (first, _kept), (other,) = write_notes(a, 2, 3), write_notes(b, 1, 3)
    bot.ingest([a, b])
    first.unlink()
    other.unlink()
    report = bot.ingest([a])
    assert report.missing == [str(first.resolve())], "only files stored from the paths given are reported"
    assert report.removed == [] and bot.status().documents == 3
    console = Console(record=True, width=200)
    from assistant.interface.render_store import render_ingest_report

    render_ingest_report(console, report, str)
    shown = " ".join(console.export_text().split())
    assert "--prune" in shown and str(first.resolve()) in shown
    report = bot.ingest([a], prune=True)
    assert report.removed == [str(first.resolve())] and report.missing == []
    assert str(other.resolve()) in {d.source for d in bot.documents()}, "--prune on a/ leaves b/'s documents alone"


def test_sources_in_chat_show_the_full_passages(bot: Assistant, docs: Path) -> None:
    bot.ingest([docs])
    console = Console(record=True, width=300)
    session = ChatSession(bot, console, str)
    session.handle("How many hours a day do cats sleep?")
    answer = session.last
    assert answer is not None and answer.citations
    console.export_text()  # clear
    session.handle("/sources")
    shown = console.export_text()
    cited = {c.chunk_id for c in answer.citations}
    for passage in (p for p in answer.passages if p.chunk_id in cited):
        assert " ".join(passage.text.split()) in " ".join(shown.split())
    assert any(len(p.text) > len(c.text) for p in answer.passages for c in answer.citations if c.chunk_id == p.chunk_id)


def test_sources_after_an_abstention_say_so(fake_embedder: FakeEmbedder, docs: Path, tmp_path: Path) -> None:
    strict = Assistant(embedder=fake_embedder, store=str(tmp_path / "strict"), min_confidence=1.0)  # abstains on everything
    strict.ingest([docs])
    console = Console(record=True, width=300)
    session = ChatSession(strict, console, str)
    session.handle("/sources")
    assert "ask a question first" in console.export_text()
    session.handle("What is the boiling point of mercury on Mars?")
    assert session.last is not None and session.last.abstained
    console.export_text()  # clear
    session.handle("/sources")
    shown = console.export_text()
    assert "nothing in the documents answered it" in shown and "ask a question first" not in shown


@pytest.mark.parametrize("follow_ups", [False, True])
def test_piped_lines_stand_alone_unless_follow_ups(bot: Assistant, docs: Path, follow_ups: bool) -> None:
    bot.ingest([docs])
    session = ChatSession(bot, Console(record=True, width=300), str, follow_ups=follow_ups)
    session.run_lines(["How many hours a day do cats sleep?\n", "And dogs?\n"])
    assert session.last is not None
    joined = session.last.standalone_question
    if follow_ups:
        assert joined is not None and "cats sleep" in joined, "a follow-up is read with the question before it"
    else:
        assert joined is None, "a piped line is asked on its own"


def test_the_progress_bar_says_what_it_counts() -> None:
    from assistant.interface.render_store import IngestProgress

    console = Console(record=True, width=200, force_terminal=True)
    with IngestProgress(console, str) as bar:
        console.print(bar._bar.get_renderable())
        assert "finding files" in console.export_text() and "0/0" not in console.export_text()
        bar.update(Progress(files_done=3, files_total=10, chunks_done=40, path="a.txt", bytes_done=30, bytes_total=100))
        console.print(bar._bar.get_renderable())
        line = " ".join(console.export_text().split())
        assert "3/10 files stored" in line
        assert re.search(r"\d:\d\d:\d\d · (\d:\d\d:\d\d|-:--:--) left", line), line  # elapsed, then the time left, labelled


def test_help_shows_the_real_defaults() -> None:
    from assistant.interface.cli import app

    defaults = Settings.model_fields
    runner = CliRunner()
    for command in ("ingest", "ask", "status", "documents", "forget", "sources", "chat"):
        out = " ".join(runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output.split())
        assert f"Store directory [env: ASSISTANT_STORE; default: {defaults['store'].default}]" in out, command
        if command in ("ask", "sources", "chat"):
            assert f"Passages to retrieve [env: ASSISTANT_TOP_K; default: {defaults['top_k'].default}]" in out, command
    out = " ".join(runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "Documents to ingest [default: seeds/]" in out and "[default: a fresh temporary one]" in out
