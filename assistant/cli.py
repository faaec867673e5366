"""The ``assistant`` command: a thin typer + rich face over :class:`assistant.Assistant`.

Each command builds settings from its flags, calls the Python API and renders
the result. Errors a user can fix print one line and exit 2; ``ingest`` exits 1
when it skipped files. Heavy modules are imported inside commands so that
``assistant --help`` starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from assistant.errors import AssistantError

app = typer.Typer(
    name="assistant",
    help="Answers questions from your own documents, citing the exact passages it used.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Store directory [env: ASSISTANT_STORE; default: .assistant].", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
KOpt = Annotated[int | None, typer.Option("-k", "--top-k", help="Passages to retrieve [env: ASSISTANT_TOP_K; default: 5].", show_default=False, min=1, max=100)]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=not sys.stdout.isatty())


def _bot(**overrides: Any) -> Any:
    from assistant.api import Assistant

    return Assistant(**overrides)


def _fail(error: AssistantError) -> NoReturn:
    _console(stderr=True).print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
    raise typer.Exit(2)


def _show_path(source: str) -> str:
    """Paths under the working directory are shown relative to it."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive) to add or update.", show_default=False)],
    prune: Annotated[bool, typer.Option("--prune", help="Also remove documents whose files are gone.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add documents to the store (.txt, .md, .html, .pdf); unchanged files are not re-embedded.

    [b]Examples[/]

      assistant ingest seeds/
      assistant ingest ~/notes report.pdf --prune
    """
    try:
        with _bot(store=store) as bot:
            report = bot.ingest(paths, prune=prune)
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        console = _console()
        console.print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
            f"removed {len(report.removed)}, skipped {len(report.skipped)} "
            f"({report.chunks_embedded} chunks embedded in {report.seconds:.1f}s)"
        )
        for skipped in report.skipped:
            console.print(f"  skipped {_show_path(skipped.path)}: {skipped.reason}", markup=False)
    raise typer.Exit(1 if report.skipped else 0)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in any language.", show_default=False)],
    k: KOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the store, with numbered cited passages.

    [b]Examples[/]

      assistant ask "What deadline did the US set?"
      assistant ask "Combien de temps a duré la réunion ?" --json
    """
    from assistant.render import render_answer, stream_answer

    console = _console()
    try:
        with _bot(store=store, top_k=k) as bot:
            if as_json or not console.is_terminal or bot.chat_model is None:
                answer = bot.ask(question)
            else:
                answer = stream_answer(console, bot.stream(question))
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    render_answer(console, answer, _show_path, streamed=answer.mode == "llm" and console.is_terminal)


@app.command()
def status(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Show the store: where it is, which embedder built it, how many documents and chunks."""
    try:
        info = _bot(store=store).status()
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps(info.to_dict(), ensure_ascii=False))
        return
    console = _console()
    console.print(f"store     {info.store}", markup=False)
    console.print(f"embedder  {info.embedder or '(none yet)'}", markup=False)
    console.print(f"documents {info.documents}")
    console.print(f"chunks    {info.chunks}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
