"""Read a file into text, with its pages and sections: one small loader per format.

``load_document(path)`` picks the loader by extension and returns a
:class:`Document`. Every citation offset points into ``Document.text``, so a
file must always give the same text (every loader is deterministic).
Paged formats (PDF pages, slides) record where each page starts; EPUB records
where each chapter starts and its title. Bad files raise :class:`UnreadableFile`
with a reason a person can act on; the caller skips them and goes on.

| extension | loader | library |
|---|---|---|
| .txt .md .markdown .text .rst | :mod:`.plain` | charset-normalizer (non-UTF-8 files); markdown-it-py (Markdown: headings, tables), docutils (.rst titles) |
| .html .htm .xhtml | :mod:`.markup` | trafilatura (main content), html-text (whole pages, EPUB chapters) |
| .pdf | :mod:`.pdf` | pypdf |
| .docx | :mod:`.word` | python-docx |
| .pptx | :mod:`.slides` | python-pptx |
| .epub | :mod:`.epub` | zipfile + lxml (EPUB is zipped XHTML), text through :mod:`.markup` |
| .odt .odp | :mod:`.opendocument` | odfpy |

Left out: OCR of scanned PDFs, legacy binary Office files (.doc, .ppt), spreadsheets, CSV and JSON.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from assistant.ingest.loaders.document import Document, DocumentBuilder, UnreadableFile
from assistant.ingest.loaders.plain import read_bytes

__all__ = [
    "Document", "DocumentBuilder", "UnreadableFile", "PLAIN_SUFFIXES", "SUPPORTED_SUFFIXES", "load_document", "load_text", "read_bytes",
]

PLAIN_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".rst"})
"""Formats whose extracted text is the file's own text: a line number points into the file."""
LOADERS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(PLAIN_SUFFIXES, ("plain", "load_plain")),
    **dict.fromkeys((".md", ".markdown"), ("plain", "load_markdown")),
    ".rst": ("plain", "load_rst"),
    **dict.fromkeys((".html", ".htm", ".xhtml"), ("markup", "load_html")),
    ".pdf": ("pdf", "load_pdf"),
    ".docx": ("word", "load_docx"),
    ".pptx": ("slides", "load_pptx"),
    ".epub": ("epub", "load_epub"),
    ".odt": ("opendocument", "load_odt"),
    ".odp": ("opendocument", "load_odp"),
}
"""Extension -> (module, function): each reader's library is imported only when a file needs it."""
SUPPORTED_SUFFIXES = frozenset(LOADERS)
HINTS = {
    ".doc": "old binary Word format; save it as .docx and ingest again",
    ".ppt": "old binary PowerPoint format; save it as .pptx and ingest again",
    ".rtf": "save it as .docx or .txt and ingest again",
}


def unsupported(suffix: str) -> str:
    """The reason a file of this extension is skipped.

    >>> unsupported(".doc")
    'unsupported file type .doc: old binary Word format; save it as .docx and ingest again'
    """
    hint = HINTS.get(suffix, f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return f"unsupported file type {suffix or '(no extension)'}: {hint}"


def load_document(path: Path, data: bytes | None = None) -> Document:
    """The text of ``path`` with its pages and sections (``data``: its bytes, when the caller already read them)."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise UnreadableFile(unsupported(suffix))
    if data is None:
        data = read_bytes(path)
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    module, function = LOADERS[suffix]
    loader: Callable[[bytes], Document] = getattr(importlib.import_module(f"assistant.ingest.loaders.{module}"), function)
    document = loader(data)
    if not document.text.strip():
        raise UnreadableFile("no text in file (empty or only whitespace)")
    return document


def load_text(path: Path, data: bytes | None = None) -> str:
    """Just the text of ``path``: what every citation's offsets point into."""
    return load_document(path, data).text
