"""Plain text (``.txt``, ``.md``, ``.rst``...) in any common encoding, kept exactly as written.

Offsets into plain text are offsets into the file's decoded text (newlines
normalised to ``\n``), so a citation can be found in the file itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.ingest.loaders.document import Document, UnreadableFile, inside_pipes
from assistant.types import TableRow


def load_plain(data: bytes) -> Document:
    """Plain text, kept as written; a first line that reads as a title names the document's section (:func:`title`)."""
    text = normalise_newlines(decode(data))
    return Document(text, sections=title(text))


_TITLE = re.compile(r"\A[ \t]*([^\n]*[^\s.!?;:,…。！？।۔።])[ \t]*\n[ \t]*\n\s*\S")
"""A first line that does not end a sentence, a blank line, then more text."""


def title(text: str) -> tuple[tuple[int, str], ...]:
    """The title of a plain-text document as its one section, or none: a first line of at most 80 characters and 12 words,
    without a sentence's closing punctuation, with a blank line and more text after it.

    Named as a section, it is shown beside the quotes under it and never quoted as an answer itself
    (:func:`assistant.text.quotable.quotable`), as headings in other formats are.

    >>> title("Politique de congés\\n\\nLes employés ont droit à 25 jours.")
    ((0, 'Politique de congés'),)
    >>> [title(t) for t in ["Le report est limité.\\n\\nSuite.", "Politique\\nLes employés.", "Politique de congés\\n\\n"]]
    [(), (), ()]
    """
    found = _TITLE.match(text)
    if found is None or not titled(found.group(1)):
        return ()
    return ((found.start(1), " ".join(found.group(1).split())),)


def titled(line: str) -> bool:
    """Whether a line reads as a title: at most 80 characters and 12 words, one line, no sentence's closing punctuation.

    >>> [titled(t) for t in ["Politique de congés", "The committee met on 3 March.", "Two\\nlines"]]
    [True, False, False]
    """
    line = line.strip()
    return 0 < len(line) <= 80 and len(line.split()) <= 12 and "\n" not in line and line[-1] not in ".!?;:,…。！？।۔።"


def load_markdown(data: bytes) -> Document:
    """Markdown, kept as written; parsed by markdown-it-py (CommonMark, with GitHub's pipe tables): its headings
    (``# Title``, and a line underlined with ``===`` or ``---`` when it reads as a title, :func:`titled`: a sentence
    written over a rule stays a sentence) name the sections under them, its tables give their rows
    (:func:`_rows`); code blocks hold neither.

    >>> load_markdown(b"# Plan\\n\\nText.\\n\\n```\\n# not a heading\\n```\\n## Budget ##\\nMore.").sections
    ((0, 'Plan'), (39, 'Budget'))
    >>> load_markdown("Politique de congés\\n===\\n\\nTexte.\\n\\n---\\n\\nSuite.".encode()).sections
    ((0, 'Politique de congés'),)
    >>> document = load_markdown(b"| Action | Owner |\\n|---|---|\\n| Migrate billing | Alice |\\n\\nAfter.")
    >>> [(document.text[a:b], header) for a, b, header in document.rows]
    [('Action | Owner', None), ('Migrate billing | Alice', 'Action | Owner')]
    """
    text = normalise_newlines(decode(data))
    tokens = _parse(text)
    starts = _line_starts(text)
    sections = tuple((starts[heading.map[0]], " ".join(inline.content.split()))
                     for heading, inline in zip(tokens, tokens[1:], strict=False) if heading.type == "heading_open" and heading.map
                     and (heading.markup.startswith("#") or titled(inline.content)))
    return Document(text, sections=sections, rows=tuple(_rows(text, tokens, starts)))


def load_rst(data: bytes) -> Document:
    """reStructuredText, kept as written; parsed by docutils: its section titles (a line under, or between, lines of
    one punctuation character) name the sections under them; a literal block's lines are not titles; grid and simple
    tables give their rows (:func:`_table_rows`).

    >>> load_rst(b"=====\\nGuide\\n=====\\n\\nIntro.\\n\\nSetup\\n-----\\n\\nRun it.\\n\\n::\\n\\n   Code\\n   ----\\n").sections
    ((6, 'Guide'), (27, 'Setup'))
    """
    import io

    from docutils import nodes  # imported when a .rst file is read, not at start-up
    from docutils.core import publish_doctree

    text = normalise_newlines(decode(data))
    quiet = {"report_level": 5, "halt_level": 5, "warning_stream": io.StringIO(), "file_insertion_enabled": False,
             "raw_enabled": False, "doctitle_xform": False}
    starts = _line_starts(text)
    sections = []
    try:
        tree = publish_doctree(text, settings_overrides=quiet)
    except Exception:  # docutils' own failures (deep nesting...) cost the titles, never the text
        return Document(text)
    for heading in tree.findall(nodes.title):
        name = " ".join(heading.astext().split())
        line = (heading.line or 0) - 2  # docutils gives the underline's line, counted from 1
        if isinstance(heading.parent, nodes.section) and 0 <= line < len(starts) - 1 and text.startswith(name, starts[line]):
            sections.append((starts[line], name))
    return Document(text, sections=tuple(sections), rows=tuple(_table_rows(text, tree, starts, nodes)))


def _table_rows(text: str, tree: Any, starts: list[int], nodes: Any) -> Iterator[TableRow]:
    """The one-line rows of reStructuredText grid tables (``| cell | cell |``) and simple tables (cells apart by
    spaces, under a rule of ``=``), with their header row's cells; rows whose cells wrap over several lines stay
    plain text, and so do list and CSV tables (not one line a row).

    >>> text = "=======  =====\\nLibrary  Opens\\n=======  =====\\nLyon     09:00\\nNantes   10:00\\n         (Sun)\\n=======  =====\\n"
    >>> [(text[a:b], header) for a, b, header in load_rst(text.encode()).rows]
    [('Library  Opens', None), ('Lyon     09:00', 'Library | Opens')]
    """
    for table in tree.findall(nodes.table):
        header: str | None = None
        for row in table.findall(nodes.row):
            cells = [entry.astext() for entry in row.findall(nodes.entry)]
            lines = {paragraph.line for entry in row.findall(nodes.entry) for paragraph in entry.findall(nodes.paragraph)}
            if len(lines) != 1 or not isinstance(line := lines.pop(), int) or not 0 < line < len(starts):
                continue
            a, b = inside_pipes(text, starts[line - 1], starts[line] - 1)
            if all(" ".join(cell.split()) in " ".join(text[a:b].split()) for cell in cells):  # else: a cell wraps
                yield a, b, header if isinstance(row.parent, nodes.tbody) else None
                if isinstance(row.parent, nodes.thead):
                    header = " | ".join(" ".join(cell.split()) for cell in cells)


def _parse(text: str) -> list[Any]:
    from markdown_it import MarkdownIt  # imported when a Markdown file is read, not at start-up

    return MarkdownIt("commonmark").enable("table").parse(text)


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text)), len(text) + 1]


def _rows(text: str, tokens: list[Any], starts: list[int]) -> Iterator[TableRow]:
    """The rows of the tables in ``tokens``: each line's span without its outer pipes, the header row's cells as header;
    GitHub's rows, but for a line without a ``|``: GitHub makes a line written right under a table its last
    row; it reads as a sentence, and stays one."""
    header: str | None = None
    for token in tokens:
        if token.type == "table_open":
            header = None
        elif token.type == "tr_open" and token.map:
            line = starts[token.map[0]], starts[token.map[0] + 1] - 1
            a, b = inside_pipes(text, *line)
            if a < b and "|" in text[line[0] : line[1]]:
                yield a, b, header
                header = header or " | ".join(cell.strip() for cell in text[a:b].split("|"))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise UnreadableFile("permission denied; make the file readable (chmod +r) and ingest again") from None
    except IsADirectoryError:
        raise UnreadableFile("is a directory") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None


def decode(data: bytes) -> str:
    """Decode bytes of unknown encoding: UTF-8 (with or without BOM) first, else detect.

    >>> decode("é".encode("latin-1"))
    'é'
    """
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise UnreadableFile(f"starts like {codec} text but does not decode as {codec}") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("looks like a binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=None).best()
    if best is None:
        raise UnreadableFile("not text in any known encoding (binary file?)")
    text = str(best)
    # cp1252 is a superset of latin-1 for printable text; detectors sometimes pick
    # an exotic codepage for short French text, so prefer cp1252 when it decodes.
    if best.encoding not in {"cp1252", "latin_1", "iso8859_15"} and not best.encoding.startswith("utf"):
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if _control_ratio(text) > 0.05:
        raise UnreadableFile("looks like a binary file (too many control characters), not text")
    return text


_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mostly_utf8(data: bytes) -> str | None:
    r"""UTF-8 text with a few broken bytes (a bad copy, a truncated download) decoded with U+FFFD in their place.

    Taken as UTF-8 when its broken sequences number at most a tenth of its well-formed multi-byte
    characters; text in a legacy encoding (cp1252, latin-1) has almost none of those.

    >>> _mostly_utf8(("Le délai du 8 août, à Genève, était fixé. " * 5).encode() + b"\xff fin.").endswith("\ufffd fin.")
    True
    >>> _mostly_utf8("déjà".encode("cp1252")) is None
    True
    """
    text = data.decode("utf-8-sig", errors="replace")
    broken = text.count("\ufffd") - data.count("\ufffd".encode())
    return text if broken * 10 <= len(_MULTIBYTE.findall(data)) else None


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls / min(len(text), 65536)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
