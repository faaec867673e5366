"""Terminal rendering of answers and sources with rich (plain text when not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from assistant.types import Answer, Citation, IngestReport, Passage, StoredFile

QUOTE_CHARS = 300


def mode_label(answer: Answer) -> str:
    if answer.mode == "llm":
        return "Answer (written by the language model, citations checked)"
    return "Answer (extractive: sentences quoted from your documents; no language model used)"


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """Cut long quotes at a word boundary: ``shorten("a b c", 3) == "a b…"``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + "…"


def stream_answer(console: Console, events: Iterator[str | Answer]) -> Answer:
    """Print model text as it arrives; return the final checked answer."""
    final: Answer | None = None
    started = False
    for event in events:
        if isinstance(event, str):
            if not started:
                console.print(Text("Answer (the language model is writing; citations are checked at the end)", style="dim"))
                started = True
            console.print(event, end="", markup=False, highlight=False, soft_wrap=True)
        else:
            final = event
    if started:
        console.print()
    assert final is not None
    return final


def render_answer(
    console: Console, answer: Answer, show_path: Callable[[str], str], full: bool = False, streamed: bool = False
) -> None:
    """The answer, its checks and its numbered sources. ``streamed``: the LLM text is already on screen."""
    if answer.notice:
        console.print(Text(f"note: {answer.notice}", style="yellow"))
    if not streamed:
        console.print(Text(mode_label(answer), style="dim"))
        console.print(Text(answer.text, style="bold" if not answer.abstained else "italic"))
    if answer.removed_citations:
        removed = ", ".join(f"[{n}]" for n in answer.removed_citations)
        console.print(Text(f"  ⚠ removed citations to passages that do not exist: {removed}", style="red"))
    if answer.unsupported:
        for sentence in answer.unsupported:
            console.print(Text(f"  ⚠ not supported by the cited passages: {shorten(sentence, 160)}", style="red"))
    render_sources(console, answer, show_path, full)


def source_label(citation: Citation, show_path: Callable[[str], str]) -> str:
    """Where to look: ``report.pdf p. 37`` (pages, slides), ``book.epub § Chapter 2``, ``notes.md:12`` (a line of a text file).

    >>> source_label(Citation(1, "a.pdf", 0, 5, "Hello", page=3, section="Plan"), str)
    'a.pdf p. 3 § Plan'
    >>> source_label(Citation(1, "notes.md", 0, 5, "Hello", line=12), str), source_label(Citation(1, "page.html", 0, 5, "Hello", line=9), str)
    ('notes.md:12', 'page.html')
    """
    from assistant.loaders import PLAIN_SUFFIXES

    label = show_path(citation.source)
    if citation.page is not None:
        label += f" p. {citation.page}"
    elif Path(citation.source).suffix.lower() in PLAIN_SUFFIXES:
        label += f":{citation.line}"
    return label + (f" § {citation.section}" if citation.section else "")


def render_sources(console: Console, answer: Answer, show_path: Callable[[str], str], full: bool = False) -> None:
    """The numbered quotes; ``full``: the whole passage behind each citation, its quoted spans underlined."""
    if not answer.citations:
        return
    console.print()
    console.print(Text("Sources", style="bold underline"))
    if full:
        _render_passages_of(console, answer, show_path)
        return
    for c in answer.citations:
        head = Text(f"[{c.n}] ", style="bold cyan")
        head.append(source_label(c, show_path), style="cyan")
        head.append(f"  (chars {c.start}-{c.end})", style="dim")
        console.print(head)
        console.print(Text(f"    “{c.text if full else shorten(c.text)}”"))


def _render_passages_of(console: Console, answer: Answer, show_path: Callable[[str], str]) -> None:
    by_chunk = {p.chunk_id: p for p in answer.passages}
    shown: dict[str, list[Citation]] = {}
    for c in answer.citations:
        shown.setdefault(c.chunk_id if c.chunk_id in by_chunk else f"{c.source}:{c.start}", []).append(c)
    for key, citations in shown.items():
        passage = by_chunk.get(key)
        numbers = "".join(dict.fromkeys(f"[{c.n}]" for c in citations))
        head = Text(f"{numbers} ", style="bold cyan")
        head.append(source_label(citations[0], show_path), style="cyan")
        if passage is None:  # a citation without its passage (not produced by the answerers): the quote is all there is
            console.print(head)
            console.print(Text(f"    “{citations[0].text}”"))
            continue
        head.append(f"  (passage, chars {passage.start}-{passage.end})", style="dim")
        console.print(head)
        body = Text(passage.text)
        for c in citations:
            body.stylize("bold underline", max(0, c.start - passage.start), max(0, c.end - passage.start))
        console.print(Padding(body, (0, 0, 0, 4)))


class IngestProgress:
    """A rich progress bar for ingestion on a terminal; one quiet line per file otherwise.

    The bar measures bytes of the files found (unchanged files count at once, the
    others as their chunks are embedded), so the time left comes from the measured
    embedding rate. ``quiet`` prints nothing (``--json`` output must stay one object).
    """

    def __init__(self, console: Console, show_path: Callable[[str], str], quiet: bool = False) -> None:
        self.console = console
        self.show_path = show_path
        self.quiet = quiet
        self._bar: Any = None
        self._task: Any = None
        self._last_line = ""

    def __enter__(self) -> IngestProgress:
        if self.console.is_terminal and not self.quiet:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]ingesting"),
                BarColumn(),
                TextColumn("{task.fields[files]} files · {task.fields[chunks]} chunks · {task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[where]}", style="dim"),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("ingest", total=None, files="0/0", chunks=0, rate="", where="")
        return self

    def update(self, progress: Any) -> None:
        if self.quiet:
            return
        where = self.show_path(progress.path) + (f" p. {progress.page}/{progress.pages}" if progress.page else "")
        if self._bar is None:
            line = f"[{progress.files_done}/{progress.files_total}] {where}"
            if line != self._last_line:  # progress also comes after each embedded slice: one line per file (or page)
                self.console.print(line, markup=False, highlight=False)
                self._last_line = line
            return
        elapsed = self._bar.tasks[0].elapsed or 0.0
        rate = f"{progress.chunks_done / elapsed:.1f} chunks/s" if elapsed > 0 and progress.chunks_done else "starting"
        self._bar.update(
            self._task, total=max(progress.bytes_total, 1), completed=progress.bytes_done, files=f"{progress.files_done}/{progress.files_total}",
            chunks=progress.chunks_done, rate=rate, where=where,
        )

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def render_ingest_report(console: Console, report: IngestReport, show_path: Callable[[str], str]) -> None:
    from rich.table import Table

    table = Table(title="ingest summary", title_justify="left", show_edge=False)
    table.add_column("added", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("unchanged", justify="right")
    table.add_column("removed", justify="right")
    table.add_column("skipped", justify="right")
    table.add_column("chunks embedded", justify="right")
    table.add_column("time", justify="right")
    table.add_row(
        str(len(report.added)), str(len(report.updated)), str(len(report.unchanged)), str(len(report.removed)),
        str(len(report.skipped)), str(report.chunks_embedded), f"{report.seconds:.1f}s",
    )
    console.print(table)
    if report.skipped:
        skipped = Table("skipped file", "reason", title="skipped", title_justify="left", show_edge=False)
        for item in report.skipped:
            skipped.add_row(show_path(item.path), item.reason)
        console.print(skipped)
    if report.missing:
        names = ", ".join(show_path(p) for p in report.missing[:5]) + (f" and {len(report.missing) - 5} more" if len(report.missing) > 5 else "")
        console.print(
            Text(f"{len(report.missing)} stored document(s) from these paths are gone from disk and still answered from: {names}. "
                 "Run the same command with --prune to remove them.", style="yellow")
        )


def render_documents(console: Console, documents: list[StoredFile], show_path: Callable[[str], str]) -> None:
    """``assistant documents``: one row per stored document, then the totals."""
    from datetime import datetime

    from rich.table import Table

    if not documents:
        console.print("The store holds no documents; add some with `assistant ingest PATH...`.")
        return
    table = Table("document", "chunks", "size", "added", show_edge=False)
    for d in documents:
        added = datetime.fromtimestamp(d.added).strftime("%Y-%m-%d %H:%M")
        table.add_row(show_path(d.source), str(d.chunks), _size(d.size), added)
    console.print(table)
    console.print(Text(f"{len(documents)} documents, {sum(d.chunks for d in documents)} chunks", style="dim"))


def _size(n: int) -> str:
    """``_size(512) == "512 B"``, ``_size(2048) == "2.0 KB"``."""
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def render_passages(console: Console, passages: list[Passage], show_path: Callable[[str], str]) -> None:
    from rich.table import Table

    if not passages:
        console.print("No passages: the store is empty or nothing matched.")
        return
    table = Table("#", "score", "dense", "bm25", "source and passage", show_lines=True)
    for n, p in enumerate(passages, start=1):
        where = f"{show_path(p.source)} p. {p.page}" if p.page else show_path(p.source)
        cell = Text(f"{where}  chars {p.start}-{p.end}\n", style="cyan", overflow="fold")
        cell.append(shorten(p.text, 400), style="default")
        table.add_row(str(n), f"{p.score:.4f}", _rank(p.dense_rank, p.similarity), _rank(p.lexical_rank, None), cell)
    console.print(table)


def _rank(rank: int | None, similarity: float | None) -> str:
    if rank is None:
        return "-"
    return f"#{rank}" + (f" ({similarity:.3f})" if similarity is not None else "")


class EvalProgress:
    """A progress bar over gold questions on a terminal; silent otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> EvalProgress:
        if self.console.is_terminal:
            from rich.progress import Progress

            self._bar = Progress(console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("evaluating", total=None)
        return self

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def render_eval(console: Console, report: dict[str, Any], regressions: list[str], gated: bool) -> None:
    from rich.table import Table

    table = Table("metric", "value", title=f"evaluation of {report.get('gold')}", title_justify="left")
    for name, value in report["metrics"].items():
        table.add_row(name, f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}")
    console.print(table)
    failing = [q for q in report["questions"] if q.get("problem")]
    if failing:
        console.print(Text(f"{len(failing)} question(s) failed:", style="bold"))
        for q in failing:
            line = Text(f"  {q['id']} ", style="bold")
            line.append(f"{q['problem']}: ", style="red")
            line.append(f"{q['question']} → {shorten(q['answer'], 120)}")
            console.print(line)
    if regressions:
        console.print(Text("regressions against the baseline:", style="bold red"))
        for item in regressions:
            console.print(Text(f"  {item}", style="red"))
    elif gated:
        console.print(Text("no regression against the baseline", style="green"))
