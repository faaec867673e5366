"""Split a document's text into sentence-aware chunks with exact character spans.

llama-index's ``SentenceSplitter`` decides where chunks break (sentences first,
token budget counted with tiktoken ``cl100k_base``). It may trim whitespace, so
each chunk is then located in the source text and its text *re-cut from the
source*: ``text[start:end] == chunk.text`` holds by construction. Sentence spans
inside each chunk are cut as the chunk's language is (:mod:`assistant.text.sentences`:
NLTK's trained Punkt for English, French, German and sixteen more, sentencex for the
others), then split again at line breaks so headings and list items stand alone.

Very long texts are processed in windows cut at paragraph breaks, so memory
stays bounded whatever the file size.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from assistant.ingest.loaders.document import Document, inside_pipes
from assistant.llama import sentence_splitter
from assistant.settings import prepare_offline
from assistant.text.language import passage_language
from assistant.text.quotable import SECTION_PATH
from assistant.text.sentences import sentence_bounds
from assistant.types import Chunk, Span

WINDOW_CHARS = 200_000


@lru_cache(maxsize=1)
def encoding() -> Any:
    """The tiktoken ``cl100k_base`` encoding, loaded offline from llama-index's bundled cache."""
    prepare_offline()
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


@lru_cache(maxsize=4)
def _splitter(chunk_size: int, chunk_overlap: int) -> Callable[[str], list[str]]:
    def tokenize(text: str) -> list[int]:
        return encoding().encode(text, disallowed_special=())

    return sentence_splitter(chunk_size, chunk_overlap, tokenize)


_MARKER = re.compile(r"(?:[-*+•▪◦‣]|#{1,6}|>)[ \t]+")
"""List bullets, Markdown heading marks and quote marks that open a line."""


SENTENCE_CUTTING = "punkt-or-mended-sentencex-of-the-chunk-language; lone headings joined"
"""How documents are cut, recorded in each store: documents cut another way are read again at the next ingest
(until 2026-12-06 every language went through the untrained Punkt; that day, ``"punkt-of-the-chunk-language"``:
languages without a trained Punkt model still did, then ``"punkt-or-sentencex-of-the-chunk-language"``; since
2026-12-06 (twenty-fifth session) sentencex's cuts are mended in Thai, Lao, Khmer and after abbreviations it does not know;
since 2026-12-07 (thirty-first session) a section holding nothing but its heading joins the next: :func:`_section_bounds`)."""


def sentence_spans(text: str, offset: int = 0, language: str | None = None) -> list[Span]:
    """Sentence spans of ``text`` (shifted by ``offset``), whitespace trimmed, lines kept apart, list bullets left out;
    cut as ``language`` is (:func:`assistant.text.sentences.sentence_bounds`).

    >>> sentence_spans("One. Two!\\nThree")
    [Span(start=0, end=4), Span(start=5, end=9), Span(start=10, end=15)]
    >>> sentence_spans("## Plan\\n- Buy milk.")
    [Span(start=3, end=7), Span(start=10, end=19)]
    >>> sentence_spans("| Owner | Due |")
    [Span(start=2, end=13)]
    """
    spans: list[Span] = []
    for start, end in sentence_bounds(text, language):
        for line in re.finditer(r"[^\n]+", text[start:end]):
            s, e = start + line.start(), start + line.end()
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e == s:
                continue
            marker = _MARKER.match(text, s, e)
            if marker and marker.end() < e:  # "- item", "# Heading", "> quote": the mark is layout, not the sentence
                s = marker.end()
            if text[s] == "|" or text[e - 1] == "|":  # a Markdown table row: "| cell | cell |"
                s, e = inside_pipes(text, s, e)
            if e > s:
                spans.append(Span(offset + s, offset + e))
    return spans


def iter_chunks(source: str, document: Document | str, content_hash: str, chunk_size: int, chunk_overlap: int) -> Iterator[Chunk]:
    """Chunks of the document's text in order, one window at a time; ``text[c.start:c.end] == c.text`` for each.

    Each chunk carries the page marks and the section title of where it lies, and its language.
    """
    if isinstance(document, str):
        document = Document(document)
    text = document.text
    splitter = _splitter(chunk_size, chunk_overlap)
    bounds, joined = _section_bounds(document)
    line, counted_to = 1, 0  # line numbers counted incrementally: chunks come in order
    for window_start, window in _windows(text, bounds):
        pieces = splitter(window)
        for start, end in _locate(window, pieces):
            a, b = window_start + start, window_start + end
            line += text.count("\n", counted_to, a)
            counted_to = a
            chunk_id = _chunk_id(source, content_hash, a, b)
            language = passage_language(text[a:b])
            sentences = tuple(sentence_spans(text[a:b], a, language))
            section = joined.get(bounds[bisect.bisect_right(bounds, a) - 1]) or document.section_at(a)
            yield Chunk(chunk_id, source, a, b, text[a:b], sentences, line, document.page_marks(a, b), section,
                        language=language, table_rows=document.rows_in(a, b))


def chunk_text(source: str, text: Document | str, content_hash: str, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    return list(iter_chunks(source, text, content_hash, chunk_size, chunk_overlap))


def _chunk_id(source: str, content_hash: str, start: int, end: int) -> str:
    return hashlib.blake2b(f"{source}\0{content_hash}\0{start}\0{end}".encode(), digest_size=12).hexdigest()


def _section_bounds(document: Document) -> tuple[list[int], dict[int, str]]:
    """Where windows must break, and the titles of joined sections: a chunk never straddles two titled sections
    (chapters, headings, slides), except that a section holding nothing but its heading (a document's title right over
    its first subsection, a title-only slide) joins the next; their window is titled by both, ``Title › Subsection``.
    Alone, such a heading was a chunk of its own, which matched every question sharing a word with the title and held
    nothing to quote.

    >>> doc = Document("# Policy\\n\\n## Meals\\nMeals are paid.\\n## Hotels\\nBooked early.", sections=((0, "Policy"), (10, "Meals"), (35, "Hotels")))
    >>> _section_bounds(doc)
    ([0, 35, 58], {0: 'Policy › Meals'})
    """
    text = document.text
    titles = dict(document.sections)
    edges = [0, *sorted({offset for offset in titles if 0 < offset < len(text)}), len(text)]
    bounds: list[int] = []
    joined: dict[int, str] = {}
    run: list[str] = []
    for start, stop in zip(edges, edges[1:], strict=False):
        if not run:
            bounds.append(start)
        if start in titles:
            run.append(titles[start])
        if start in titles and stop < len(text) and _heading_alone(text[start:stop]):
            continue  # it joins the next section
        if len(run) > 1:
            joined[bounds[-1]] = SECTION_PATH.join(run)
        run = []
    return [*bounds, len(text)], joined


def _heading_alone(section: str) -> bool:
    """Whether a section's text is one line, its heading, and nothing else.

    >>> _heading_alone("# Policy\\n\\n"), _heading_alone("## Meals\\nMeals are paid.\\n")
    (True, False)
    """
    return bool(section.strip()) and "\n" not in section.strip()


def _windows(text: str, bounds: list[int]) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into windows of about ``WINDOW_CHARS``, never across ``bounds``, preferably at paragraph breaks.

    >>> [w for _, w in _windows("ab\\ncd", [0, 3, 5])]
    ['ab\\n', 'cd']
    """
    for start, stop in zip(bounds, bounds[1:], strict=False):
        while start < stop:
            end = min(stop, start + WINDOW_CHARS)
            if end < stop:
                cut = max(text.rfind("\n\n", start, end), text.rfind("\n", start, end))
                if cut <= start + WINDOW_CHARS // 2:
                    cut = text.rfind(" ", start, end)
                end = cut + 1 if cut > start else end
            yield start, text[start:end]
            start = end


def _locate(source: str, pieces: list[str]) -> Iterator[tuple[int, int]]:
    """Yield the span of each piece in ``source``, in order.

    Exact search first; if the splitter changed whitespace, match the piece's
    non-whitespace characters instead and take the covering span.
    """
    hint, bound = 0, _next_non_space(source, 0)
    index: _NonSpaceIndex | None = None
    for piece in pieces:
        stripped = piece.strip()
        if not stripped:
            continue
        # The true start is at most the first character after the previous chunk; in
        # repetitive text prefer the latest match up to there, so coverage has no holes.
        found = source.rfind(stripped, hint, bound + len(stripped))
        if found < 0:
            found = source.find(stripped, hint)
        if found >= 0:
            span = (found, found + len(stripped))
        else:
            index = index or _NonSpaceIndex(source)
            located = index.find(stripped, hint)
            if located is None:
                continue  # the splitter invented text: never cite what is not in the source
            span = located
        hint, bound = span[0] + 1, _next_non_space(source, span[1])
        yield span


def _next_non_space(text: str, position: int) -> int:
    match = re.compile(r"\S").search(text, position)
    return match.start() if match else len(text)


class _NonSpaceIndex:
    """Find a string in ``source`` while ignoring all whitespace differences."""

    def __init__(self, source: str) -> None:
        self.positions = [i for i, ch in enumerate(source) if not ch.isspace()]
        self.squeezed = "".join(source[i] for i in self.positions)

    def find(self, piece: str, hint: int) -> tuple[int, int] | None:
        needle = "".join(piece.split())
        at = self.squeezed.find(needle, bisect.bisect_left(self.positions, hint))
        if at < 0 or not needle:
            return None
        return self.positions[at], self.positions[at + len(needle) - 1] + 1
