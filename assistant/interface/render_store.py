"""Terminal rendering of the store side: the ingest progress bar, the ingest summary, the documents listing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.settings import ENV_PREFIX, Settings
from assistant.types import IngestReport, StoredFile, StoreStatus


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
                TextColumn("{task.fields[files]} · {task.fields[chunks]} chunks · {task.fields[rate]}"),
                TimeElapsedColumn(),  # reads "0:00:24 · 0:18:48 left": elapsed, then what is left
                TextColumn("·"),
                TimeRemainingColumn(),
                TextColumn("left"),
                TextColumn("{task.fields[where]}", style="dim"),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("ingest", total=None, files="finding files", chunks=0, rate="", where="")
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
        # files count when committed (a batch of small files at once); chunks move while a batch embeds
        files = f"{progress.files_done}/{progress.files_total} files stored" if progress.files_total else "finding files"
        self._bar.update(
            self._task, total=max(progress.bytes_total, 1), completed=progress.bytes_done, files=files,
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
    if report.found_nothing:
        console.print(Text(f"no files found under the given paths; supported: {' '.join(sorted(SUPPORTED_SUFFIXES))}", style="yellow"))
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

    from rich.filesize import decimal
    from rich.table import Table

    if not documents:
        console.print("The store holds no documents; add some with `assistant ingest PATH...`.")
        return
    table = Table("document", "chunks", "size", "added", show_edge=False)
    for d in documents:
        added = datetime.fromtimestamp(d.added).strftime("%Y-%m-%d %H:%M")
        table.add_row(show_path(d.source), str(d.chunks), decimal(d.size), added)
    console.print(table)
    console.print(Text(f"{len(documents)} documents, {sum(d.chunks for d in documents)} chunks", style="dim"))


def render_status(console: Console, info: StoreStatus, settings: Settings) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("store", info.store)
    table.add_row("embedder", info.embedder or "(nothing ingested yet)")
    table.add_row("documents", str(info.documents))
    table.add_row("chunks", str(info.chunks))
    table.add_row("vectors", f"Chroma server {settings.chroma_url}" if settings.chroma_url else "embedded Chroma")
    table.add_row("answers", f"LLM {settings.llm_model}" if settings.llm_model else "extractive (no LLM configured)")
    console.print(table)


def render_settings(console: Console, current: Settings, dotenv: Path, embedder: str) -> None:
    """Every setting with its variable, value (keys hidden) and meaning; then where they were read from and the tuning."""
    from rich.table import Table

    from assistant.tuning import tuning_for

    table = Table("variable", "value", "meaning")
    for name, field in Settings.model_fields.items():
        value = getattr(current, name)
        shown = "(set)" if "key" in name and value is not None else str(value)
        table.add_row(f"{ENV_PREFIX}{name.upper()}", shown, field.description or "")
    console.print(table)
    console.print(f"Read from the environment and {'from ' + str(dotenv) if dotenv.exists() else 'a .env file here (none now)'}; "
                  "OPENAI_API_KEY / OPENAI_BASE_URL fill the key and base URL settings left unset.", markup=False, highlight=False)
    tuning, own = tuning_for(embedder)
    numbers = f"weights {tuning.weights}, min_support {tuning.min_support}, depth {tuning.depth}"
    if own:
        console.print(f"Tuned for the embedder {embedder} (assistant/tuning.py): {numbers}.", markup=False, highlight=False)
    else:
        console.print(f"No tuning for the embedder {embedder}: using the numbers fitted for {tuning.embedder} ({numbers}); "
                      "its abstention thresholds were not fitted for this embedder's similarities.", markup=False, highlight=False)
