"""The ``assistant`` command: a thin typer + rich face over :class:`assistant.Assistant`.

Each command builds settings from its flags, calls the Python API and renders the result. Errors a user can fix
print one line and exit 2 (``chat``: when a question failed); ``ingest`` exits 1 when it skipped files, 130 after
Ctrl-C. Heavy modules are imported inside commands so ``assistant --help`` starts fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from assistant.errors import AssistantError, IngestInterrupted

app = typer.Typer(
    name="assistant",
    help="Answers questions from your own documents, citing the exact passages it used.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Store directory \\[env: ASSISTANT_STORE; default: .assistant].", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
answered: list[str] = []
"""Questions answered by this process's ``ask`` command."""
KOpt = Annotated[int | None, typer.Option("-k", "--top-k", help="Passages to retrieve \\[env: ASSISTANT_TOP_K; default: 5].", min=1, max=100)]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    piped = not sys.stdout.isatty()  # off a terminal, 80 columns would cut table cells (paths, variable names)
    return Console(stderr=stderr, highlight=False, soft_wrap=piped, width=240 if piped else None)


def _bot(one_question: bool = False, **overrides: Any) -> Any:
    from assistant.api import Assistant
    from assistant.settings import load_settings

    settings = load_settings(**overrides)  # one question under auto: numpy's pass (onnxruntime's session costs more)
    return Assistant(settings.model_copy(update={"encoder_engine": "numpy"}) if one_question and settings.encoder_engine == "auto" else settings)


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
    """Add documents (.txt .md .rst .html .pdf .docx .pptx .odt .odp .epub); unchanged files are not re-embedded.

    Shows a progress bar on a terminal and a summary table at the end. Exit code 1
    when some files were skipped (the others are stored); 130 after Ctrl-C (what was
    stored stays; run the same command to continue).

    [b]Examples[/]

      assistant ingest seeds/
      assistant ingest ~/notes report.pdf --prune
      assistant ingest docs/ --json
    """
    from assistant.interface.render_store import IngestProgress, render_ingest_report

    console = _console()
    try:
        with _bot(store=store) as bot, IngestProgress(console, _show_path, quiet=as_json) as progress:
            report = bot.ingest(paths, prune=prune, progress=progress.update)
    except AssistantError as error:
        _fail(error)
    except KeyboardInterrupt as stop:  # IngestInterrupted says what was stored; before the first file, nothing was
        message = str(stop) if isinstance(stop, IngestInterrupted) else "interrupted: 0 files stored; run the same command to continue"
        _console(stderr=True).print(message, markup=False, highlight=False)
        raise typer.Exit(130) from None
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        render_ingest_report(console, report, _show_path)
    raise typer.Exit(1 if report.skipped or report.found_nothing else 0)


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
    from assistant.interface.render import render_answer, stream_answer

    console = _console()
    try:
        with _bot(one_question=True, store=store, top_k=k) as bot:
            if as_json or not console.is_terminal or bot.chat_model is None:
                answer = bot.ask(question)
            else:
                answer = stream_answer(console, bot.stream(question))
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        render_answer(console, answer, _show_path, streamed=answer.mode == "llm" and console.is_terminal)
    answered.append(question)  # the process may leave at once (assistant.__main__)


@app.command()
def status(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Show the store: where it is, which embedder built it, how many documents and chunks.

    [b]Examples[/]

      assistant status
      assistant status --json
    """
    try:
        bot = _bot(store=store)
        info = bot.status()
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps(info.to_dict(), ensure_ascii=False))
        return
    from assistant.interface.render_store import render_status

    render_status(_console(), info, bot.settings)


@app.command()
def documents(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """List the stored documents: path, chunks, size and when each was added.

    [b]Examples[/]

      assistant documents --json
    """
    try:
        with _bot(store=store) as bot:
            stored = bot.documents()
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps([d.to_dict() for d in stored], ensure_ascii=False))
        return
    from assistant.interface.render_store import render_documents

    render_documents(_console(), stored, _show_path)


@app.command()
def forget(
    paths: Annotated[list[Path], typer.Argument(help="Files, or folders whose documents to remove.", show_default=False)],
    store: StoreOpt = None,
) -> None:
    """Remove documents from the store (the files themselves are not touched).

    [b]Examples[/]

      assistant forget notes/old.md
      assistant forget archive/
    """
    try:
        with _bot(store=store) as bot:
            removed = bot.forget(paths)
    except AssistantError as error:
        _fail(error)
    console = _console()
    if not removed:
        console.print("No stored document matches; `assistant documents` lists what the store holds.")
        raise typer.Exit(1)
    for source in removed:
        console.print(f"forgot {_show_path(source)}", markup=False)


@app.command()
def sources(
    question: Annotated[str, typer.Argument(help="The question to retrieve passages for.", show_default=False)],
    k: KOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the passages retrieved for a question, with their scores (for debugging retrieval).

    [b]Examples[/]

      assistant sources "What deadline did the US set?" -k 10
    """
    try:
        with _bot(store=store, top_k=k) as bot:
            passages = bot.retrieve(question)
    except AssistantError as error:
        _fail(error)
    if as_json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False))
        return
    from assistant.interface.render import render_passages

    render_passages(_console(), passages, _show_path)


@app.command()
def chat(k: KOpt = None, store: StoreOpt = None, follow_ups: Annotated[bool, typer.Option(help="Piped lines may follow up earlier ones.")] = False) -> None:
    """Talk with your documents: answers with sources, follow-up questions, history.

    Commands inside: /help, /sources, /reset, /k N, /quit. With standard input not a terminal, answers each line, each
    on its own (unless --follow-ups), and exits. Exit code 2 when a question failed with an error (the others are answered).

    [b]Examples[/]

      assistant chat
      echo "What deadline did the US set?" | assistant chat
    """
    from assistant.interface.chat import run_chat

    try:
        with _bot(store=store, top_k=k) as bot:
            errors = run_chat(bot, _console(), _show_path, follow_ups)
    except AssistantError as error:
        _fail(error)
    if errors:
        raise typer.Exit(2)


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold questions, JSON lines (see eval/gold/seeds.jsonl).", show_default=False)],
    docs: Annotated[list[Path] | None, typer.Option("--docs", help="Documents to ingest \\[default: seeds/].", show_default=False)] = None,
    store: Annotated[Path | None, typer.Option("--store", help="Store to use \\[default: a fresh temporary one].", show_default=False)] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.", show_default=False)] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Earlier report: exit 1 if a quality metric is lower.", show_default=False)] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Allowed drop per metric before it counts as a regression.", min=0.0)] = 0.0,
    k: KOpt = None,
    judge: Annotated[bool, typer.Option("--judge", help="Add LLM-graded correctness and faithfulness (needs an LLM).")] = False,
) -> None:
    """Score answers, retrieval and citations against gold answers; gate on regressions.

    [b]Examples[/]

      assistant eval eval/gold/seeds.jsonl
      assistant eval eval/gold/seeds.jsonl --baseline eval/baselines/seeds.json --report /tmp/report.json
    """
    from assistant.evaluation.harness import evaluate as run
    from assistant.interface.render import EvalProgress, render_eval

    console = _console()
    try:
        with EvalProgress(console) as progress:
            result, regressions = run(
                gold, list(docs) if docs else None, store=store, baseline=baseline, tolerance=tolerance, judge=judge,
                progress=progress.update, top_k=k,
            )
    except AssistantError as error:
        _fail(error)
    if report:
        report.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    render_eval(console, result, regressions, baseline is not None)
    raise typer.Exit(1 if regressions else 0)


@app.command("settings")
def list_settings() -> None:
    """List every setting with its environment variable, current value and meaning."""
    from assistant.interface.render_store import render_settings

    try:
        bot = _bot()
        embedder = bot.embedder.name
    except AssistantError as error:
        _fail(error)
    render_settings(_console(), bot.settings, Path(".env").resolve(), embedder)


from assistant.interface.serve_cli import serve  # noqa: E402 - in its own module, registered here

app.command()(serve)
