"""Conversations: follow-up questions understood in the context of earlier turns.

Before retrieval, a follow-up ("and who set it?") becomes a standalone
question: the LLM rewrites it with ``prompts/condense.txt`` when one is
configured; otherwise (or if that fails) a question that reads as a follow-up
(:func:`is_follow_up`) is joined to the previous standalone question, which is
what retrieval and sentence scoring need, and a question that stands on its
own is asked as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from assistant.llm import ChatModel
from assistant.types import Answer, final_answer


class Answerer(Protocol):
    """What a conversation needs from :class:`assistant.Assistant` (named here, so neither module imports the other)."""

    @property
    def chat_model(self) -> ChatModel | None: ...

    def clean_question(self, question: str) -> str: ...

    def answer_events(self, question: str, k: int | None, *, stream: bool, retrieval_question: str | None = None) -> Iterator[str | Answer]: ...

_WORD = re.compile(r"[^\W_][\w'’-]*")
HISTORY_TURNS = 4
FOLLOW_UP_WORDS = 5
"""Questions this short lean on the conversation ("and when was that?", "et avec qui ?")."""
CONTEXT_WORDS = 40
"""At most this many words of the previous standalone question go before a follow-up."""
CONNECTORS = frozenset({"and", "but", "so", "also", "then", "et", "mais", "puis", "alors", "aussi", "y", "pero", "und", "aber", "e", "ma"})
"""A question opening with one of these continues the previous one, however long it is."""


def is_follow_up(question: str) -> bool:
    """Whether a question needs the conversation to be understood (without an LLM to rewrite it).

    Words are runs of letters and digits: French puts a space before "?", which is not a word.
    Measured on follow-ups made from the development split: README, *Chat*.

    >>> [is_follow_up(q) for q in ["and when was that?", "Combien de temps a duré la réunion ?", "And what did they decide about the sanctions?"]]
    [True, False, True]
    >>> is_follow_up("Et pour les trajets en train ?")
    True
    """
    words = _WORD.findall(question)
    return len(words) <= FOLLOW_UP_WORDS or (bool(words) and words[0].lower() in CONNECTORS)


def joined(previous: str, question: str) -> str:
    """A follow-up after the last :data:`CONTEXT_WORDS` words of the question before it (a long conversation must
    not push the follow-up out).

    >>> joined("What is the daily meal allowance?", "And for international trips?")
    'What is the daily meal allowance? And for international trips?'
    """
    return " ".join([*previous.split()[-CONTEXT_WORDS:], question])


class Conversation:
    def __init__(self, assistant: Answerer) -> None:
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
            from assistant.answer.prompts import prompt
            from assistant.llm import LLMError

            history = "\n".join(f"User: {t.question}\nAssistant: {t.text}" for t in self.turns[-HISTORY_TURNS:])
            message = prompt("condense").render(history=history, question=question)
            try:
                rewritten = model.complete([{"role": "user", "content": message}], 96).text.strip().strip('"')
                if rewritten:
                    return self.assistant.clean_question(rewritten.splitlines()[0])
            except LLMError as error:
                self.notice = f"{error}; joined the follow-up to the previous question instead"
        if not is_follow_up(question):
            return question
        last = self.turns[-1]
        previous = last.standalone_question or self.assistant.clean_question(last.question)
        return self.assistant.clean_question(joined(previous, question))

    def stream(self, question: str, k: int | None = None) -> Iterator[str | Answer]:
        """Like :meth:`Assistant.stream`, in the context of the conversation."""
        return self._events(question, k, stream=True)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Like :meth:`Assistant.ask`, in the context of the conversation."""
        return final_answer(self._events(question, k, stream=False))

    def _events(self, question: str, k: int | None, *, stream: bool) -> Iterator[str | Answer]:
        standalone = self.standalone(question)
        for event in self.assistant.answer_events(question, k, stream=stream, retrieval_question=standalone):
            if isinstance(event, Answer):
                event.standalone_question = standalone if standalone != self.assistant.clean_question(question) else None
                event.notice = event.notice or self.notice
                self.turns.append(event)
            yield event
