"""OpenAI's chat-completion shapes for our answers: request messages in, completions and stream chunks out.

Citations travel as ``annotations`` on the message, the way OpenAI's own API carries web citations: each
is a ``url_citation`` whose ``start_index``/``end_index`` locate its ``[n]`` marker in the content and whose
``url`` names the file and the quoted characters (``file:///…/doc.txt#char=535,770``, RFC 5147), so any
OpenAI client can show them; the same annotation also carries ``citation``, with the source, page, section,
start, end and quoted text exactly as ``assistant ask --json`` gives them. The full ``ask --json`` object
travels beside the choices as ``assistant``. The README documents the shapes.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

from assistant.types import Answer, Citation

MODEL = "assistant"
"""The model name clients see in ``/v1/models`` (answers come from the documents, whichever LLM phrases them)."""


class BadRequest(ValueError):
    """A request the client must change: the message says what and how."""


def conversation(messages: Any, max_chars: int) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the earlier (question, answer) turns from OpenAI ``messages``."""
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list of {role, content} objects")
    turns: list[tuple[str, str]] = []
    asked: str | None = None
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant"):
            raise BadRequest(f"messages[{n}] must be an object with a role of system, developer, user or assistant")
        text = _text(message.get("content"), n)
        if message["role"] == "user":
            if asked is not None:
                turns.append((asked, ""))
            asked = text
        elif message["role"] == "assistant" and asked is not None:
            turns.append((asked, text))
            asked = None
    if asked is None:
        raise BadRequest("the last message must come from the user: it is the question")
    question = asked.strip()
    if not question:
        raise BadRequest("the question (the last user message) is empty")
    if len(question) > max_chars:
        raise BadRequest(f"the question is {len(question)} characters long; the limit is {max_chars} (ASSISTANT_MAX_QUESTION_CHARS)")
    return question, turns


def _text(content: Any, n: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    raise BadRequest(f"messages[{n}].content must be a string or a list of text parts")


def citation_annotations(answer: Answer) -> list[dict[str, Any]]:
    """One ``url_citation`` per ``[n]`` marker in the answer's text (each also carrying our ``citation``)."""
    by_number = {c.n: c for c in answer.citations}
    found = []
    for marker in re.finditer(r"\[(\d+)\]", answer.text):
        cited = by_number.get(int(marker.group(1)))
        if cited is not None:
            found.append(_annotation(cited, marker.start(), marker.end()))
    markers = {int(m.group(1)) for m in re.finditer(r"\[(\d+)\]", answer.text)}
    found += [_annotation(c, len(answer.text), len(answer.text)) for c in answer.citations if c.n not in markers]
    return found


def _annotation(cited: Citation, start: int, end: int) -> dict[str, Any]:
    where = Path(cited.source)
    url = (where.as_uri() if where.is_absolute() else where.as_posix()) + f"#char={cited.start},{cited.end}"
    title = where.name + (f", page {cited.page}" if cited.page else "") + (f", {cited.section}" if cited.section else "")
    return {
        "type": "url_citation",
        "url_citation": {"start_index": start, "end_index": end, "url": url, "title": title},
        "citation": cited.to_dict(),
    }


def completion(answer: Answer, ask_json: dict[str, Any]) -> dict[str, Any]:
    """A ``chat.completion`` object for a finished answer."""
    message = {"role": "assistant", "content": answer.text, "refusal": None, "annotations": citation_annotations(answer)}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(answer), "assistant": ask_json,
    }


def _usage(answer: Answer) -> dict[str, int]:
    prompt, completion_tokens = answer.usage.get("prompt_tokens", 0), answer.usage.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


class Chunks:
    """``chat.completion.chunk`` objects of one streamed answer, all with the same id."""

    def __init__(self) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": MODEL, "choices": [choice], **extra}

    def final(self, answer: Answer, streamed: str, ask_json: dict[str, Any]) -> list[dict[str, Any]]:
        """What follows the streamed text: a correction when the checked answer differs, then the citations.

        The model's words reach the client as it writes them; when checking then falls back to the extractive
        answer (or drops citations), that answer follows under a notice, as in the terminal chat.
        """
        out = []
        if answer.text != streamed:
            shown = answer.text if not streamed else f"\n\n{answer.notice or 'The answer as checked against the passages:'}\n{answer.text}"
            out.append(self.chunk({"role": "assistant", "content": shown} if not streamed else {"content": shown}))
            offset = len(streamed) + len(shown) - len(answer.text)
        else:
            offset = 0
        notes = [dict(a, url_citation=dict(a["url_citation"], start_index=a["url_citation"]["start_index"] + offset,
                                             end_index=a["url_citation"]["end_index"] + offset)) for a in citation_annotations(answer)]
        out.append(self.chunk({"annotations": notes}, "stop", usage=_usage(answer), assistant=ask_json))
        return out
