"""The interactive chat: a loop over a :class:`~assistant.answer.conversation.Conversation`.

:class:`ChatSession` handles one input line at a time (a question or a
``/command``) and writes to a rich console, so it can be driven without a
terminal. :func:`run_chat` adds the terminal: prompt_toolkit line editing with
history kept in the store directory, Ctrl-C to cancel an answer, Ctrl-D or
``/quit`` to leave. When standard input is not a terminal it answers each line
and exits, printing plain text.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.interface.render import render_answer, render_sources, stream_answer
from assistant.types import Answer

HELP = """Commands:
  /help       this help
  /sources    the full passages behind the last answer
  /reset      forget the conversation (follow-ups start afresh)
  /k N        retrieve N passages per question (now {k})
  /quit       leave (Ctrl-D works too)
Anything else is a question. Follow-up questions use the conversation.
Ctrl-C cancels an answer without leaving."""


class ChatSession:
    def __init__(self, bot: Assistant, console: Console, show_path: Callable[[str], str], follow_ups: bool = True) -> None:
        self.bot = bot
        self.follow_ups = follow_ups
        """False: every question stands alone (piped lines are independent unless --follow-ups)."""
        self.console = console
        self.show_path = show_path
        self.conversation = bot.chat()
        self.k = bot.settings.top_k
        self.last: Answer | None = None
        self.errors = 0
        """Questions that failed with an error: the chat then exits with code 2."""

    def banner(self) -> None:
        status = self.bot.status()
        model = self.bot.settings.llm_model
        mode = f"LLM ({model} at {self.bot.settings.llm_base_url or 'the OpenAI API'})" if model else "extractive (quotes sentences; no LLM configured)"
        lines = [
            f"store      {status.store}",
            f"documents  {status.documents} ({status.chunks} chunks)",
            f"embedder   {status.embedder or self.bot.embedder.name}",
            f"answers    {mode}",
        ]
        self.console.print(Text("assistant chat", style="bold"))
        for line in lines:
            self.console.print(Text(line, style="dim"))
        if status.documents == 0:
            self.console.print(Text("The store is empty: add documents with `assistant ingest PATH...` first.", style="yellow"))
        self.console.print(Text("Type a question, /help for commands, /quit to leave.", style="dim"))

    def handle(self, line: str) -> bool:
        """Act on one input line; return False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self.command(line)
        if not self.follow_ups:
            self.conversation.reset()
        try:
            if self.bot.chat_model is not None and self.console.is_terminal:
                answer = stream_answer(self.console, self.conversation.stream(line, self.k))
                render_answer(self.console, answer, self.show_path, streamed=answer.mode == "llm")
            else:
                answer = self.conversation.ask(line, self.k)
                render_answer(self.console, answer, self.show_path)
        except AssistantError as error:
            self.errors += 1
            self.console.print(Text(f"error: {error}", style="red"))
            return True
        self.last = answer
        self.console.print()
        return True

    def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/help":
            self.console.print(HELP.format(k=self.k), markup=False)
        elif name == "/sources":
            if self.last is None:
                self.console.print("No sources yet: ask a question first.")
            elif not self.last.citations:
                self.console.print("The last answer quotes no passage: nothing in the documents answered it.")
            else:
                render_sources(self.console, self.last, self.show_path, full=True)
        elif name == "/reset":
            self.conversation.reset()
            self.last = None
            self.console.print("Conversation forgotten; the next question starts afresh.")
        elif name == "/k":
            if arg.strip().isdigit() and 1 <= int(arg) <= 100:
                self.k = int(arg)
                self.console.print(f"Retrieving {self.k} passages per question.")
            else:
                self.console.print(f"Usage: /k N with N from 1 to 100 (now {self.k}).")
        else:
            self.console.print(f"Unknown command {name}; /help lists them.", markup=False)
        return True

    def run_lines(self, lines: Iterable[str]) -> None:
        """Piped mode: echo each question, answer it, stop at /quit or the end of input."""
        for line in lines:
            if line.strip():
                self.console.print(f"› {line.strip()}", markup=False)
            if not self.handle(line):
                break


def run_chat(bot: Assistant, console: Console, show_path: Callable[[str], str], follow_ups: bool = False) -> int:
    """Run the chat until /quit or the end of input; return how many questions failed with an error.

    Piped lines are independent questions (as ``llm`` and ``llamaindex-cli`` read them) unless ``follow_ups``.
    """
    if not sys.stdin.isatty():
        session = ChatSession(bot, console, show_path, follow_ups)
        session.run_lines(sys.stdin)
        return session.errors
    session = ChatSession(bot, console, show_path)
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    session.banner()
    history = Path(bot.settings.store).expanduser() / "chat_history"
    history.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    history.touch(mode=0o600, exist_ok=True)
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    while True:
        try:
            line = prompt.prompt("› ")
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line
        except EOFError:
            break
        try:
            if not session.handle(line):
                break
        except KeyboardInterrupt:
            console.print(Text("\n(answer cancelled)", style="yellow"))
    console.print(Text("bye", style="dim"))
    return session.errors
