"""What a loader returns: the document's text, where its pages start and where its titled sections start.

Loaders build it block by block with :class:`DocumentBuilder`, which keeps the
layout rules in one place: lines trimmed, runs of spaces collapsed, empty lines
dropped, blocks (paragraphs, table rows, slide parts) separated by a line
break, pages by a blank line. Offsets are character offsets into ``text``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


class UnreadableFile(Exception):
    """The file cannot be turned into text; ``str(error)`` is the reason, said so a person can act on it."""


@dataclass(frozen=True)
class Document:
    """Extracted text with its structure.

    ``pages[i]`` is the offset where page ``i + 1`` starts (an empty page starts
    where the next one does); ``()`` for formats without pages. ``sections`` are
    ``(offset, title)`` pairs in order.
    """

    text: str
    pages: tuple[int, ...] = ()
    sections: tuple[tuple[int, str], ...] = ()

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
        """Append a block of text (a paragraph, a table row...): normalised, skipped when blank."""
        lines = (_SPACES.sub(" ", line).strip() for line in block.splitlines())
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if self._length:
            separator = "\n\n" if self._page_break else "\n"
            self._parts.append(separator)
            self._length += len(separator)
        self._page_break = False
        self._fill(self._length)
        self._parts.append(text)
        self._length += len(text)

    def _fill(self, offset: int) -> None:
        self._pages = [offset if p is None else p for p in self._pages]
        self._sections = [(offset if o is None else o, t) for o, t in self._sections]

    def build(self) -> Document:
        self._fill(self._length)
        sections = tuple((o, t) for o, t in self._sections if o is not None)
        return Document("".join(self._parts), tuple(p for p in self._pages if p is not None), sections)
