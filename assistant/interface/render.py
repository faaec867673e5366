"""Terminal rendering of answers and sources with rich (plain text when not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from assistant.types import Answer, Citation, Passage

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
        console.print(answer_text(answer))
    if answer.removed_citations:
        removed = ", ".join(f"[{n}]" for n in answer.removed_citations)
        console.print(Text(f"  ⚠ removed citations to passages that do not exist: {removed}", style="red"))
    if answer.unsupported:
        for sentence in answer.unsupported:
            console.print(Text(f"  ⚠ not supported by the cited passages: {shorten(sentence, 160)}", style="red"))
    render_sources(console, answer, show_path, full)


def answer_text(answer: Answer) -> Text:
    """The answer in bold, the reader's answer phrase (when there is one) underlined inside its quote.

    >>> from assistant.types import AnswerSpan
    >>> c = Citation(1, "a.txt", 10, 30, "The deadline is 8 August.")
    >>> a = Answer("q", "“The deadline is 8 August.” [1]", [c], [], False, "extractive", answer_span=AnswerSpan(1, "a.txt", 26, 34, "8 August"))
    >>> t = answer_text(a); [(t.plain[s.start:s.end], str(s.style)) for s in t.spans]
    [('8 August', 'bold underline')]
    """
    if answer.abstained:
        return Text(answer.text, style="italic")
    text = Text(answer.text, style="bold")
    span = answer.answer_span
    cited = next((c for c in answer.citations if span is not None and c.n == span.citation), None)
    if span is not None and cited is not None:
        quote = answer.text.find(f"“{cited.text}”")
        if quote >= 0:
            at = quote + 1 + span.start - cited.start
            if answer.text[at : at + len(span.text)] == span.text:
                text.stylize("bold underline", at, at + len(span.text))
    return text


def source_label(citation: Citation, show_path: Callable[[str], str]) -> str:
    """Where to look: ``report.pdf p. 37`` (pages, slides), ``book.epub § Chapter 2``, ``notes.md:12`` (a line of a text file).

    >>> source_label(Citation(1, "a.pdf", 0, 5, "Hello", page=3, section="Plan"), str)
    'a.pdf p. 3 § Plan'
    >>> source_label(Citation(1, "notes.md", 0, 5, "Hello", line=12), str), source_label(Citation(1, "page.html", 0, 5, "Hello", line=9), str)
    ('notes.md:12', 'page.html')
    """
    from assistant.ingest.loaders import PLAIN_SUFFIXES

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
        if c.header:  # a table row: its columns say what each cell is
            console.print(Text(f"    table: {shorten(c.header)}", style="dim"))
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
            if q.get("phrase"):
                line.append(" phrase: ")
                line.append(str(q["phrase"]), style="bold underline")
            console.print(line)
    if regressions:
        console.print(Text("regressions against the baseline:", style="bold red"))
        for item in regressions:
            console.print(Text(f"  {item}", style="red"))
    elif gated:
        console.print(Text("no regression against the baseline", style="green"))
