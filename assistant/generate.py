"""LLM answers: pack passages into the prompt, call the model, check its citations, fall back when needed.

The flow for one question, given retrieved passages:

1. :func:`pack` numbers the best passages ``[1]..[m]`` and keeps as many as fit
   the context window minus the answer budget (tiktoken counts); the rest are
   recorded as left out.
2. The model answers (streamed or not) from ``prompts/answer_*.txt``.
3. :func:`assistant.citations.check_answer` removes out-of-range markers and
   tests every sentence against what it cites.
4. An answer with no supported sentence is not shown as an answer: the
   extractive answer is returned instead, with a notice saying why. Any model
   failure ends the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking import count_tokens
from assistant.citations import CheckResult
from assistant.llm import ChatModel, Completion, LLMError, Message
from assistant.prompts import prompt
from assistant.types import CANNOT_ANSWER, Citation, Passage, line_at, page_at


@dataclass
class Packed:
    messages: list[Message]
    passages: list[Passage]
    left_out: list[Passage]


def passage_block(n: int, passage: Passage) -> str:
    """One passage as quoted data. Angle brackets inside are neutralised so text cannot close the tag."""
    body = passage.text.replace("<", "‹").replace(">", "›")
    name = Path(passage.source).name.replace('"', "'")
    return f'<passage n="{n}" source="{name}">\n{body}\n</passage>'


def pack(question: str, passages: list[Passage], context_window: int, answer_tokens: int) -> Packed:
    system = prompt("answer_system").render(cannot_answer=CANNOT_ANSWER)
    budget = context_window - answer_tokens - count_tokens(system) - 16  # 16: chat-format overhead
    budget -= count_tokens(prompt("answer_user").render(passages="", question=question, count=len(passages)))
    kept: list[Passage] = []
    blocks: list[str] = []
    left_out: list[Passage] = []
    for passage in passages:
        block = passage_block(len(kept) + 1, passage)
        cost = count_tokens(block) + 2
        if cost <= budget:
            kept.append(passage)
            blocks.append(block)
            budget -= cost
        else:
            left_out.append(passage)
    user = prompt("answer_user").render(passages="\n\n".join(blocks), question=question, count=len(kept))
    return Packed([{"role": "system", "content": system}, {"role": "user", "content": user}], kept, left_out)


def generate(model: ChatModel, packed: Packed, answer_tokens: int, stream: bool) -> Iterator[str | Completion]:
    """Text deltas (when streaming) and finally the :class:`Completion`. Raises :class:`LLMError`."""
    if not packed.passages:
        raise LLMError("no passage fits in the model's context window; raise ASSISTANT_LLM_CONTEXT_WINDOW")
    if stream:
        yield from model.stream(packed.messages, answer_tokens)
    else:
        yield model.complete(packed.messages, answer_tokens)


def citations_for(result: CheckResult, passages: list[Passage]) -> list[Citation]:
    """The citations behind each ``[n]``: the sentence spans of passage n that carry the answer sentences citing it.

    When a supported sentence citing ``[n]`` is carried by no sentence of n alone,
    or no supported sentence cites it, ``[n]`` cites the whole passage instead
    (``scope="passage"``). Unsupported sentences are flagged on their own and do
    not widen the citation of the sentences that are supported.
    """
    out = []
    for n in result.cited:
        p = passages[n - 1]
        supports = [s.support.get(n) for s in result.sentences if n in s.cited and s.supported]
        if not p.sentences or not supports or None in supports:
            out.append(Citation(n, p.source, p.start, p.end, p.text, p.chunk_id, p.line, p.page, p.section, "passage"))
            continue
        for first, last in sorted({span for span in supports if span is not None}):
            start, end = p.sentences[first].start, p.sentences[last].end
            line = line_at(p, start)
            text = p.text[start - p.start : end - p.start]
            out.append(Citation(n, p.source, start, end, text, p.chunk_id, line, page_at(p.pages, start), p.section, "sentence"))
    return out


def estimated_usage(packed: Packed, completion: Completion) -> dict[str, int]:
    """The server's usage numbers when it sent them, else tiktoken counts."""
    if completion.usage:
        return completion.usage
    prompt_tokens = sum(count_tokens(m["content"]) for m in packed.messages)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(completion.text)}

