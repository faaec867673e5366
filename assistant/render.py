"""Terminal rendering of answers and sources with rich (plain text when not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.console import Console
from rich.text import Text

from assistant.types import Answer

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


def render_sources(console: Console, answer: Answer, show_path: Callable[[str], str], full: bool = False) -> None:
    if not answer.citations:
        return
    console.print()
    console.print(Text("Sources", style="bold underline"))
    for c in answer.citations:
        head = Text(f"[{c.n}] ", style="bold cyan")
        head.append(f"{show_path(c.source)}:{c.line}", style="cyan")
        head.append(f"  (chars {c.start}-{c.end})", style="dim")
        console.print(head)
        console.print(Text(f"    “{c.text if full else shorten(c.text)}”"))
