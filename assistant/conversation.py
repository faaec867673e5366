"""Conversations: follow-up questions understood in the context of earlier turns.

Before retrieval, a follow-up ("and who set it?") becomes a standalone
question: the LLM rewrites it with ``prompts/condense.txt`` when one is
configured; otherwise (or if that fails) it is joined to the previous
questions, which is what retrieval and sentence scoring need.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.api import Assistant

HISTORY_TURNS = 4
COMBINED_QUESTIONS = 2


class Conversation:
    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.turns: list[Answer] = []
        self.notice: str | None = None

    def reset(self) -> None:
        self.turns.clear()

    def standalone(self, question: str) -> str:
        """The question to retrieve with, given the conversation so far."""
        question = self.assistant.clean_question(question)
        self.notice = None
        if not self.turns:
            return question
        model = self.assistant.chat_model
        if model is not None:
            from assistant.llm import LLMError
            from assistant.prompts import prompt

            history = "\n".join(f"User: {t.question}\nAssistant: {t.text}" for t in self.turns[-HISTORY_TURNS:])
            message = prompt("condense").render(history=history, question=question)
            try:
                rewritten = model.complete([{"role": "user", "content": message}], 96).text.strip().strip('"')
                if rewritten:
                    return self.assistant.clean_question(rewritten.splitlines()[0])
            except LLMError as error:
                self.notice = f"{error}; joined the follow-up to the previous question instead"
        previous = [t.question for t in self.turns[-COMBINED_QUESTIONS:]]
        return self.assistant.clean_question(" ".join([*previous, question]))

    def stream(self, question: str, k: int | None = None) -> Iterator[str | Answer]:
        """Like :meth:`Assistant.stream`, in the context of the conversation."""
        return self._events(question, k, stream=True)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Like :meth:`Assistant.ask`, in the context of the conversation."""
        return self.assistant._final(self._events(question, k, stream=False))

    def _events(self, question: str, k: int | None, *, stream: bool) -> Iterator[str | Answer]:
        standalone = self.standalone(question)
        for event in self.assistant.answer_events(question, k, stream=stream, retrieval_question=standalone):
            if isinstance(event, Answer):
                event.standalone_question = standalone if standalone != self.assistant.clean_question(question) else None
                event.notice = event.notice or self.notice
                self.turns.append(event)
            yield event
