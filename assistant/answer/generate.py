"""LLM answers: pack passages into the prompt, call the model, check its citations, fall back when needed.

The flow for one question, given retrieved passages:

1. :func:`pack` numbers the best passages ``[1]..[m]`` and keeps as many as fit
   the context window minus the answer budget (tiktoken counts); the rest are
   recorded as left out.
2. The model answers (streamed or not) from ``prompts/answer_*.txt``.
3. :func:`assistant.answer.citations.check_answer` removes out-of-range markers and
   tests every sentence against what it cites; a citation no sentence of its passage is close enough to carry is
   narrowed to the sentence holding the reader's answer phrase when the answer says that phrase
   (:func:`reader_phrases`: the reader reads the top passages then, as the extractive answer does).
4. An answer with no supported sentence is not shown as an answer: the
   extractive answer is returned instead, with a notice saying why. Any model
   failure ends the same way.

:func:`llm_answer_events` runs the whole flow on a retrieval's passages; it
never opens the store (passages carry their sentence vectors).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.citations import CheckResult, Phrases, check_answer
from assistant.answer.prompts import prompt
from assistant.answer.reader import PASSAGES_READ, Reader
from assistant.index.embed import Embedder
from assistant.ingest.chunking import count_tokens
from assistant.llm import ChatModel, Completion, LLMError, Message
from assistant.settings import Settings
from assistant.types import CANNOT_ANSWER, Answer, Citation, Passage, line_at, page_at, sentence_texts


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




def reader_phrases(retrieval: Any, passages: list[Passage], reader: Callable[[], Reader | None]) -> Callable[[int], Phrases]:
    """Passage number (in ``passages``) -> the reader's phrase in each of its sentences, best sentence first; empty
    for a passage the reader does not read (it reads the first :data:`PASSAGES_READ` of the ranking, as for the
    extractive answer). The reading happens once, at the first call."""
    found: dict[str, list[tuple[int, str]]] | None = None

    def phrases(n: int) -> Phrases:
        nonlocal found
        if found is None:
            found = {}
            chunks = [c.chunk for c in retrieval.ranked[:PASSAGES_READ]]
            loaded = reader() if chunks else None
            for chunk, reading in zip(chunks, loaded.read(retrieval.question.text, chunks) if loaded else [], strict=False):
                order = np.argsort(-reading.sentence_scores, kind="stable")
                found[chunk.id] = [(int(i), chunk.text[int(reading.phrases[i][0]) : int(reading.phrases[i][1])]) for i in order
                                   if reading.phrases[i][0] >= 0]
        return found.get(passages[n - 1].chunk_id, [])

    return phrases


def llm_answer_events(
    question: str, retrieval: Any, model: ChatModel, embedder: Embedder, settings: Settings, stream: bool, started: float,
    fallback: Callable[[str], Answer], min_support: float, reader: Callable[[], Reader | None] | None = None,
) -> Iterator[str | Answer]:
    """Text deltas as the model writes (when ``stream``), then the checked :class:`Answer`.

    An answer sentence counts as supported when its cosine with a sentence of a passage it cites reaches ``min_support``.
    ``reader``: gives the trained reader (or ``None``), whose phrases narrow citations no sentence is close enough to.

    ``fallback(notice)`` gives the extractive answer shown instead when the model fails or
    none of its sentences is supported by the passages it cites.
    """
    packed = pack(retrieval.question.text, retrieval.passages, settings.llm_context_window, settings.llm_answer_tokens)
    try:
        completion: Completion | None = None
        for item in generate(model, packed, settings.llm_answer_tokens, stream):
            if isinstance(item, str):
                yield item
            else:
                completion = item
        assert completion is not None
        result = check_answer(
            completion.text,
            [p.text for p in packed.passages],
            sentence_vectors(packed.passages, embedder),
            embedder.embed_passages,
            min_support,
            [sentence_texts(p) for p in packed.passages],
            reader_phrases(retrieval, packed.passages, reader) if reader is not None else None,
        )
    except LLMError as error:
        yield fallback(f"{error}; showing the extractive answer instead")
        return
    usage = estimated_usage(packed, completion)
    if not result.abstained and not result.any_supported:
        answer = fallback("no sentence of the model's answer is supported by the passages it cites; showing the extractive answer instead")
        answer.unsupported, answer.removed_citations, answer.usage = result.unsupported, result.removed, usage
        yield answer
        return
    yield Answer(
        question,
        CANNOT_ANSWER if result.abstained else result.text,
        [] if result.abstained else citations_for(result, packed.passages),
        retrieval.passages,
        result.abstained,
        "llm",
        dict(retrieval.timings, total_ms=(time.perf_counter() - started) * 1000),
        unsupported=result.unsupported,
        removed_citations=result.removed,
        left_out=[f"{p.source}:{p.start}-{p.end}" for p in packed.left_out],
        usage=usage,
    )


def sentence_vectors(passages: list[Passage], embedder: Embedder) -> list[np.ndarray | None]:
    """Each passage's sentence vectors: as stored, or (stores built without them) embedded now, a few passages at most."""
    missing = [p for p in passages if p.vectors is None and p.sentences]
    rows = iter(embedder.embed_passages([t for p in missing for t in sentence_texts(p)]) if missing else ())
    embedded = {id(p): np.asarray([next(rows) for _ in p.sentences]) for p in missing}
    return [p.vectors if p.vectors is not None else embedded.get(id(p)) for p in passages]
