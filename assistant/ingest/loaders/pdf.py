"""PDF through pypdf: one page of the document per PDF page, lines joined back into paragraphs.

A PDF stores lines, not paragraphs: a sentence wrapped over two lines would be
cut in two by the sentence splitter. Lines are joined with a space unless the
line is short (a heading or a paragraph's last line) or the next one starts a
list item; a word hyphenated at a line end is joined without the space.

pypdf is pure Python and was already here; pypdfium2 extracts about 5x faster
(``eval/bench/formats.py`` prints both), but extraction is a small part of
ingesting a PDF (embedding its text takes ~100x longer), so pypdf stays.

Left out: OCR (a scanned PDF without a text layer is refused with a hint), page labels ("iv", "A-3").
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterator

from assistant.ingest.loaders.document import Document, DocumentBuilder, UnreadableFile

SHORT_LINE = 0.7
"""A line shorter than this share of the page's wide lines ends its paragraph."""
_LIST_ITEM = re.compile(r"^\s*(?:[-•▪◦*–]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
NO_TEXT_LAYER = "no text layer (a scanned PDF?); run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, and ingest the result"


def load_pdf(data: bytes) -> Document:
    builder = DocumentBuilder()
    for page_text in pdf_pages(data):
        builder.new_page()
        for paragraph in paragraphs(page_text):
            builder.add(paragraph)
    document = builder.build()
    if not document.text.strip():
        raise UnreadableFile(NO_TEXT_LAYER)
    return document


def pdf_pages(data: bytes) -> Iterator[str]:
    """The raw text of each page, in order; one page in memory at a time."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repair notes ("invalid pdf header") are not the user's business:
    # a PDF it cannot read is skipped with our one-line reason

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # many PDFs are "encrypted" with an empty password
            raise UnreadableFile("PDF is password-protected; save an unprotected copy and ingest that")
        for page in reader.pages:
            yield page.extract_text() or ""
    except UnreadableFile:
        raise
    except FileNotDecryptedError:
        raise UnreadableFile("PDF is password-protected; save an unprotected copy and ingest that") from None
    except DependencyError as exc:
        raise UnreadableFile(f"PDF uses encryption this install cannot read ({exc}); `pip install cryptography`") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise UnreadableFile(f"damaged or unreadable PDF ({type(exc).__name__}: {exc})") from None


def paragraphs(page_text: str) -> list[str]:
    """Join a page's lines back into paragraphs.

    >>> paragraphs("Introduction\\nThe committee set a deadline of eight days for the\\nbudget and agreed to meet again in Geneva next\\nmonth.\\n- first item")
    ['Introduction', 'The committee set a deadline of eight days for the budget and agreed to meet again in Geneva next month.', '- first item']
    """
    lines = [" ".join(line.split()) for line in page_text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return []
    lengths = sorted(len(line) for line in lines)
    wide = lengths[math.ceil(0.9 * (len(lengths) - 1))]
    out: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        if not current:
            current = line
        elif current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[:1].islower():
            current += line  # hyphenated at the line end: "exam-" + "ple"
        else:
            current += " " + line
        last = i + 1 == len(lines)
        if last or len(line) < SHORT_LINE * wide or _LIST_ITEM.match(lines[i + 1]):
            out.append(current)
            current = ""
    return out
