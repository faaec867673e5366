"""OpenDocument text (.odt) and presentations (.odp) through odfpy.

``.odt``: headings, paragraphs, lists and tables (one line per row, cells
joined by `` | ``) in document order; a heading names the section after it.
``.odp``: one page per slide, its frames in document order, then its speaker
notes after a ``Speaker notes:`` line; the title frame names the section.
Both come from the same library and the same walk, so ``.odp`` costs little.

Left out: spreadsheets (.ods), tracked changes, annotations.
"""

from __future__ import annotations

import io
from typing import Any

from assistant.ingest.loaders.document import Document, DocumentBuilder, UnreadableFile
from assistant.ingest.loaders.package import damaged, open_package
from assistant.ingest.loaders.slides import NOTES

TEXT_KIND = "OpenDocument text (.odt)"
SLIDES_KIND = "OpenDocument presentation (.odp)"


def load_odt(data: bytes) -> Document:
    document = _open(data, TEXT_KIND)
    builder = DocumentBuilder()
    try:
        _walk(document.text, builder)
    except Exception as exc:  # odfpy raises many types on a damaged part
        raise damaged(TEXT_KIND, exc) from None
    return builder.build()


def load_odp(data: bytes) -> Document:
    from odf.namespaces import DRAWNS, PRESENTATIONNS

    document = _open(data, SLIDES_KIND)
    builder = DocumentBuilder()
    try:
        for page in _children(document.presentation):
            if page.qname != (DRAWNS, "page"):
                continue
            builder.new_page()
            notes = [n for n in _children(page) if n.qname == (PRESENTATIONNS, "notes")]
            for frame in _children(page):
                if frame.qname == (PRESENTATIONNS, "notes"):
                    continue
                if frame.getAttrNS(PRESENTATIONNS, "class") == "title":
                    builder.section(_text(frame))
                _walk(frame, builder)
            for note in notes:
                spoken = DocumentBuilder()
                _walk(note, spoken)
                if text := spoken.build().text:
                    builder.add(NOTES)
                    builder.add(text)
    except Exception as exc:  # odfpy raises many types on a damaged part
        raise damaged(SLIDES_KIND, exc) from None
    return builder.build()


def _open(data: bytes, kind: str) -> Any:
    with open_package(data, "content.xml", kind) as package:
        manifest = package.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in package.namelist() else b""
    if b"encryption-data" in manifest:
        raise UnreadableFile(f"{kind} file is password-protected; save a copy without a password and ingest that")
    from odf.opendocument import load

    try:
        return load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises many types on damaged XML
        raise damaged(kind, exc) from None


def _children(node: Any) -> list[Any]:
    return [child for child in node.childNodes if child.nodeType == child.ELEMENT_NODE]


def _text(node: Any) -> str:
    from odf import teletype

    return str(teletype.extractText(node))


def _walk(node: Any, builder: DocumentBuilder) -> None:
    """Headings and paragraphs become blocks, tables become rows; everything else is opened."""
    from odf.namespaces import TABLENS, TEXTNS

    for child in _children(node):
        if child.qname == (TEXTNS, "h"):
            builder.section(_text(child))
            builder.add(_text(child))
        elif child.qname == (TEXTNS, "p"):
            builder.add(_text(child))
        elif child.qname == (TABLENS, "table"):
            builder.table(_rows(child))
        else:
            _walk(child, builder)


def _cell(cell: Any) -> str:
    return " ".join(" ".join(_text(paragraph).split()) for paragraph in _children(cell)).strip()


def _rows(table: Any) -> list[list[str]]:
    from odf.namespaces import TABLENS

    rows = []
    for child in _children(table):
        if child.qname == (TABLENS, "table-row"):
            rows.append([_cell(cell) for cell in _children(child) if cell.qname == (TABLENS, "table-cell")])
        elif child.qname[0] == TABLENS and child.qname[1].endswith("rows"):  # header-rows, rows groups
            rows.extend(_rows(child))
    return rows
