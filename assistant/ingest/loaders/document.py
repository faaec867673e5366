"""What a loader returns: the document's text, where its pages start, where its titled sections start, its table rows.

Loaders build it block by block with :class:`DocumentBuilder`, which keeps the
layout rules in one place: lines trimmed, runs of spaces collapsed, empty lines
dropped, blocks (paragraphs, table rows, slide parts) separated by a line
break, pages by a blank line. Offsets are character offsets into ``text``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from assistant.types import TableRow

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


class UnreadableFile(Exception):
    """The file cannot be turned into text; ``str(error)`` is the reason, said so a person can act on it."""


@dataclass(frozen=True)
class Document:
    """Extracted text with its structure.

    ``pages[i]`` is the offset where page ``i + 1`` starts (an empty page starts
    where the next one does); ``()`` for formats without pages. ``sections`` are
    ``(offset, title)`` pairs in order. ``rows`` are the table rows, in order, as
    :data:`TableRow` ``(start, end, header)``: ``text[start:end]`` is the row (cells joined by `` | ``),
    ``header`` its table's first row (``None`` for that first row itself, or a table of one row).
    """

    text: str
    pages: tuple[int, ...] = ()
    sections: tuple[tuple[int, str], ...] = ()
    rows: tuple[TableRow, ...] = ()

    def rows_in(self, start: int, end: int) -> tuple[TableRow, ...]:
        """The table rows lying inside ``[start, end)``: a chunk keeps them, as it keeps its page marks.

        >>> Document("A | B\\nx | 1\\ny | 2", rows=((0, 5, None), (6, 11, "A | B"), (12, 17, "A | B"))).rows_in(6, 17)
        ((6, 11, 'A | B'), (12, 17, 'A | B'))
        """
        at = bisect.bisect_left(self.rows, start, key=lambda row: row[0])
        found = []
        for row in self.rows[at:]:
            if row[0] >= end:
                break
            if row[1] <= end:
                found.append(row)
        return tuple(found)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset`` (``None`` when the format has no pages).

        >>> Document("one\\n\\ntwo", pages=(0, 5)).page_at(6)
        2
        """
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))

    def page_marks(self, start: int, end: int) -> tuple[tuple[int, int], ...]:
        """``(offset, page)`` for the page at ``start`` and every page that starts inside ``(start, end)``.

        A chunk keeps these, so any span inside it finds its page without the document.

        >>> Document("aa\\n\\nbb\\n\\ncc", pages=(0, 4, 8)).page_marks(1, 9)
        ((1, 1), (4, 2), (8, 3))
        """
        first = self.page_at(start)
        if first is None:
            return ()
        marks = [(start, first)]
        for index in range(first, len(self.pages)):
            offset = self.pages[index]
            if offset >= end:
                break
            if offset > start:
                marks.append((offset, index + 1))
        return tuple(marks)

    def section_at(self, offset: int) -> str | None:
        """Title of the section holding ``offset``, if the format has titled sections."""
        at = bisect.bisect_right(self.sections, offset, key=lambda section: section[0])
        return self.sections[at - 1][1] if at else None


class DocumentBuilder:
    """Assemble a :class:`Document` block by block.

    >>> b = DocumentBuilder()
    >>> b.new_page(); b.add("Title"); b.add("  Body   text. "); b.new_page(); b.add("Next page.")
    >>> d = b.build()
    >>> d.text, d.pages
    ('Title\\nBody text.\\n\\nNext page.', (0, 18))
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._pages: list[int | None] = []
        self._sections: list[tuple[int | None, str]] = []
        self._rows: list[TableRow] = []
        self._page_break = False

    def new_page(self) -> None:
        """Start the next page; blocks added from now on belong to it."""
        self._pages.append(None)
        self._page_break = bool(self._length)

    def section(self, title: str) -> None:
        """Blocks added from now on belong to the section ``title``."""
        title = " ".join(title.split())
        if title:
            self._sections.append((None, title))

    def add(self, block: str) -> None:
        """Append a block of text (a paragraph, a slide part...): normalised, skipped when blank."""
        self._append(block)

    def _append(self, block: str) -> tuple[int, int] | None:
        lines = (_SPACES.sub(" ", line).strip() for line in block.splitlines())
        text = "\n".join(line for line in lines if line)
        if not text:
            return None
        if self._length:
            separator = "\n\n" if self._page_break else "\n"
            self._parts.append(separator)
            self._length += len(separator)
        self._page_break = False
        self._fill(self._length)
        self._parts.append(text)
        self._length += len(text)
        return self._length - len(text), self._length

    def table(self, rows: list[list[str]]) -> None:
        """Append a table, one line per row, its non-empty cells joined by `` | ``; the first row is the header.

        >>> b = DocumentBuilder(); b.table([["Action", "Owner"], ["Migrate billing", "Alice"], ["", ""]]); b.build().rows
        ((0, 14, None), (15, 38, 'Action | Owner'))
        """
        lines = [" | ".join(" ".join(cell.split()) for cell in row if cell.strip()) for row in rows]
        lines = [line for line in lines if line]
        header = lines[0] if len(lines) > 1 else None
        for i, line in enumerate(lines):
            span = self._append(line)
            if span is not None:
                self._rows.append((*span, header if i else None))

    def _fill(self, offset: int) -> None:
        self._pages = [offset if p is None else p for p in self._pages]
        self._sections = [(offset if o is None else o, t) for o, t in self._sections]

    def build(self) -> Document:
        self._fill(self._length)
        sections = tuple((o, t) for o, t in self._sections if o is not None)
        return Document("".join(self._parts), tuple(p for p in self._pages if p is not None), sections, tuple(self._rows))


def inside_pipes(text: str, a: int, b: int) -> tuple[int, int]:
    """``[a, b)`` without surrounding spaces and one outer ``|`` each side: a Markdown table row's cells.

    >>> inside_pipes("| Owner | Due |", 0, 15)
    (2, 13)
    """
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a < b and text[a] == "|":
        a += 1
    if b > a and text[b - 1] == "|":
        b -= 1
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
