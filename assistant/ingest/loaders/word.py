"""Word (.docx) through python-docx: paragraphs and tables in reading order.

Each paragraph is a block; a table gives one line per row, cells joined by
`` | `` (a merged cell counted once). Headings ("Heading 1"..., "Title") stay in
the text and name the section of the paragraphs that follow them.

Left out: headers and footers (page furniture), footnotes, comments, text boxes.
"""

from __future__ import annotations

import io
from typing import Any

from assistant.ingest.loaders.document import Document, DocumentBuilder
from assistant.ingest.loaders.package import damaged, open_package

KIND = "Word (.docx)"


def load_docx(data: bytes) -> Document:
    open_package(data, "word/document.xml", KIND).close()
    import docx
    from docx.table import Table

    try:
        word = docx.Document(io.BytesIO(data))
        builder = DocumentBuilder()
        for item in word.iter_inner_content():
            if isinstance(item, Table):
                builder.table(table_cells(item))
                continue
            style = item.style.name if item.style is not None else ""
            if style.startswith(("Heading", "Title")):
                builder.section(item.text)
            builder.add(item.text)
        return builder.build()
    except Exception as exc:  # python-docx and lxml raise many types on a damaged part
        raise damaged(KIND, exc) from None


def table_cells(table: Any) -> list[list[str]]:
    """Each row's distinct cells (python-docx repeats a merged cell in every position it spans)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text)
        rows.append(cells)
    return rows
