"""Our own small value types. Framework types (llama-index, chromadb) stop at module boundaries.

Data flows one way: files -> :class:`Chunk` -> store -> :class:`Passage` ->
:class:`Answer` with :class:`Citation` s. Offsets are character offsets into the
document's extracted text, so ``source_text[start:end] == text`` always holds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

CANNOT_ANSWER = "I cannot answer this from the documents."
"""The one phrase used when the documents do not support an answer (prompts, tests and eval share it)."""


@dataclass(frozen=True)
class Span:
    """A character range ``[start, end)`` in a document's text."""

    start: int
    end: int


class HasSentences(Protocol):
    """A chunk as written (:class:`Chunk`) or as read back from the store."""

    @property
    def start(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def sentences(self) -> tuple[Span, ...]: ...


def sentence_texts(chunk: HasSentences) -> list[str]:
    """The text of each sentence of ``chunk`` (its spans are offsets into the document).

    >>> sentence_texts(Chunk("c", "doc.txt", 10, 19, "Hi. Bye.", (Span(10, 13), Span(14, 18))))
    ['Hi.', 'Bye.']
    """
    return [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences]


PageMarks = tuple[tuple[int, int], ...]
TableRow = tuple[int, int, "str | None"]
"""``(start, end, header)`` of a table row (cells joined by `` | ``); header: its table's first row, else ``None``."""
"""``(offset, page)`` pairs: the page at a chunk's start, then each page that starts inside it."""


def page_at(marks: PageMarks, offset: int) -> int | None:
    """The page holding ``offset`` (``None`` for formats without pages).

    >>> page_at(((100, 4), (180, 5)), 150), page_at(((100, 4), (180, 5)), 180), page_at((), 3)
    (4, 5, None)
    """
    if not marks:
        return None
    at = bisect.bisect_right(marks, offset, key=lambda mark: mark[0])
    return marks[max(at, 1) - 1][1]


class Located(Protocol):
    """A piece of a document that knows its first line: a chunk, a passage."""

    @property
    def start(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def line(self) -> int: ...


def line_at(piece: Located, offset: int) -> int:
    """Line of the document's text at ``offset``, an offset inside ``piece``.

    >>> line_at(Chunk("c", "d", 10, 20, "ab\\ncd\\nef", line=3), 16)
    5
    """
    return piece.line + piece.text.count("\n", 0, offset - piece.start)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document ready to embed (or read back from the store): ``doc_text[start:end] == text``.

    ``sentences`` are spans relative to the document text, covering the chunk's
    sentences. ``pages`` locates page breaks inside the chunk (empty for formats
    without pages); ``section`` is the title of the chapter or slide it starts in.
    """

    id: str
    source: str
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...] = ()
    line: int = 1
    pages: PageMarks = ()
    section: str | None = None
    language: str | None = None
    """ISO 639-1 code of the chunk's text, found once at ingest (``None``: not known yet)."""
    anchors: frozenset[str] | None = None
    """Numbers and names in the text (:func:`assistant.text.language.anchors`), stored at ingest; ``None``: not stored."""
    table_rows: tuple[TableRow, ...] = ()
    """The table rows inside the chunk (document offsets) with their headers."""

    def page_at(self, offset: int) -> int | None:
        return page_at(self.pages, offset)

    def table_row(self, start: int, end: int) -> TableRow | None:  # the row that is exactly [start, end), if any
        return next((row for row in self.table_rows if row[0] == start and row[1] == end), None)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused relevance score (higher is better)."""

    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    score: float
    similarity: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    page: int | None = None
    """1-based page (PDF page, slide) on which the passage starts; ``None`` for formats without pages."""
    section: str | None = None
    """Title of the chapter or slide the passage starts in, where the format has them."""
    line: int = 1
    """Line of the extracted text on which the passage starts."""
    sentences: tuple[Span, ...] = ()
    """The passage's sentences, as document offsets (what a citation can narrow to)."""
    pages: PageMarks = ()
    vectors: Any = field(default=None, repr=False, compare=False)
    """Sentence vectors (one row per sentence) as stored at ingest, ``None`` when the store keeps none:
    what the LLM citation check needs, so it never goes back to the store."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "page": self.page, "section": self.section,
            "start": self.start, "end": self.end, "text": self.text, "score": self.score,
        }


@dataclass(frozen=True)
class Citation:
    """A quoted span that supports part of an answer: ``source_text[start:end] == text``."""

    n: int
    source: str
    start: int
    end: int
    text: str
    chunk_id: str = ""
    line: int = 1
    page: int | None = None
    """1-based page (PDF page, slide) on which the quoted span starts; ``None`` for formats without pages."""
    section: str | None = None
    """Title of the chapter or slide the span is in, where the format has them."""
    scope: Literal["sentence", "passage"] = "sentence"
    """``sentence``: the span is the sentence(s) that support the claim; ``passage``: no single sentence
    carries it (an LLM answer drawing on the passage as a whole), so the whole passage is cited."""
    header: str | None = None
    """When the quote is a table row: its table's header row (cells joined by `` | ``), shown for context."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "source": self.source, "page": self.page, "section": self.section,
            "start": self.start, "end": self.end, "text": self.text, "scope": self.scope, "header": self.header,
        }


@dataclass(frozen=True)
class AnswerSpan:
    """The answer phrase the reader found, inside the quoted sentence it cites: ``source_text[start:end] == text``."""

    citation: int
    """The ``n`` of the citation whose quote holds it."""
    source: str
    start: int
    end: int
    text: str
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"citation": self.citation, "source": self.source, "page": self.page, "start": self.start, "end": self.end, "text": self.text}


@dataclass
class Answer:
    """What ``Assistant.ask`` returns."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    abstained: bool
    mode: Literal["extractive", "llm"]
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None
    unsupported: list[str] = field(default_factory=list)
    removed_citations: list[int] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    standalone_question: str | None = None
    answer_span: AnswerSpan | None = None
    """The phrase that answers, when the reader found one in a quoted sentence (extractive answers)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "answer_span": self.answer_span.to_dict() if self.answer_span else None,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
        }
        if self.mode == "llm" or self.notice:
            data.update(unsupported=self.unsupported, removed_citations=self.removed_citations, notice=self.notice)
        if self.mode == "llm":
            data.update(left_out=self.left_out, usage=self.usage)
        return data


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Stored from the given paths, their files now gone, kept (``--prune`` removes them)."""
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def files_stored(self) -> int:
        """Documents added or updated by this run."""
        return len(self.added) + len(self.updated)

    @property
    def found_nothing(self) -> bool:
        """No file at all under the given paths (an empty folder, or only hidden files)."""
        return not (self.added or self.updated or self.unchanged or self.removed or self.skipped or self.missing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoredFile:
    """One document in the store, as ``assistant documents`` lists it."""

    source: str
    chunks: int
    size: int
    """Bytes of the file when it was stored."""
    added: float
    """When its current content was stored (Unix time)."""

    def to_dict(self) -> dict[str, Any]:
        added = datetime.fromtimestamp(self.added, tz=UTC).isoformat(timespec="seconds")
        return {"source": self.source, "chunks": self.chunks, "size": self.size, "added": added}


@dataclass(frozen=True)
class StoreStatus:
    store: str
    embedder: str | None
    documents: int
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "embedder": self.embedder, "documents": self.documents, "chunks": self.chunks}


def final_answer(events: Iterable[str | Answer]) -> Answer:
    """The :class:`Answer` at the end of an answer's events (text deltas before it are skipped)."""
    final = next((event for event in reversed(list(events)) if isinstance(event, Answer)), None)
    if final is None:
        raise RuntimeError("the answer pipeline ended without an answer")
    return final
