"""PowerPoint (.pptx) through python-pptx: one page per slide, in slide order.

A slide gives its title, then the text of its other shapes top to bottom, left
to right (grouped shapes opened, tables one line per row), then its speaker
notes after a ``Speaker notes:`` line. The slide title names the section.

Left out: text inside charts and SmartArt, hidden slides' state (they are read like the others).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from assistant.ingest.loaders.document import Document, DocumentBuilder, UnreadableFile
from assistant.ingest.loaders.package import damaged, open_package
from assistant.ingest.loaders.word import table_cells

KIND = "PowerPoint (.pptx)"
NOTES = "Speaker notes:"


def load_pptx(data: bytes) -> Document:
    open_package(data, "ppt/presentation.xml", KIND).close()
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        builder = DocumentBuilder()
        for slide in deck.slides:
            builder.new_page()
            title = slide.shapes.title
            if title is not None and title.has_text_frame:
                builder.section(title.text_frame.text)
                builder.add(title.text_frame.text)
            for shape in _reading_order(slide.shapes):
                if title is not None and shape.shape_id == title.shape_id:
                    continue
                for block in shape_text(shape):
                    if isinstance(block, str):
                        builder.add(block)
                    else:
                        builder.table(block)
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = slide.notes_slide.notes_text_frame.text
                if notes.strip():
                    builder.add(NOTES)
                    builder.add(notes)
        return builder.build()
    except UnreadableFile:
        raise
    except Exception as exc:  # python-pptx and lxml raise many types on a damaged part
        raise damaged(KIND, exc) from None


def _reading_order(shapes: Any) -> list[Any]:
    return sorted(shapes, key=lambda s: ((s.top or 0) // 100_000, s.left or 0))  # ~0.1 inch rows: same-line shapes left to right


def shape_text(shape: Any) -> Iterator[str | list[list[str]]]:
    """Blocks of text in one shape: paragraphs of a text frame, a table's cells row by row, members of a group."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        for member in _reading_order(shape.shapes):
            yield from shape_text(member)
    elif getattr(shape, "has_table", False) and shape.has_table:
        yield table_cells(shape.table)
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            yield paragraph.text
