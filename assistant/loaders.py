"""Read a file into plain text: ``.txt``/``.md`` (any common encoding), ``.html``, ``.pdf``.

Every citation offset points into the text returned here, so the same file must
always give the same text (the extraction is deterministic). Bad files raise
:class:`UnreadableFile` with a reason a person can act on; the caller skips them.

Left out: OCR of scanned PDFs, office formats.
"""

from __future__ import annotations

import re
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


class UnreadableFile(Exception):
    """The file cannot be turned into text; ``str(error)`` is the reason."""


def load_text(path: Path, data: bytes | None = None) -> str:
    """Return the text of ``path`` (``data`` is its bytes when the caller already read them)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type {suffix or '(no extension)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    if data is None:
        data = read_bytes(path)
    if suffix in PDF_SUFFIXES:
        text = _pdf_text(data)
    elif suffix in HTML_SUFFIXES:
        text = _html_text(decode(data))
    else:
        text = decode(data)
    text = normalise_newlines(text)
    if not text.strip():
        raise UnreadableFile("no text in file (empty or only whitespace)")
    return text


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


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls / min(len(text), 65536)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _html_text(html: str) -> str:
    """Visible text of an HTML page: scripts, styles and templates dropped, blocks on their own lines."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe"]):
        tag.decompose()
    text = soup.get_text(separator="\n")
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFile("PDF is encrypted; decrypt it and ingest again")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableFile(f"corrupted or unreadable PDF ({type(exc).__name__}: {exc})") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())
