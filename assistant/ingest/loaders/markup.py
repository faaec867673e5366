"""HTML (``.html``, ``.htm``, ``.xhtml``; also EPUB chapters): the text a reader would read.

Web pages go through trafilatura's main-content extraction: navigation, headers,
footers, cookie banners, sidebars, scripts and styles are dropped; headings
(``<h1>``..) name the section of the paragraphs under them; list items and table
rows are blocks of their own. Inline elements (``<b>``, ``<a>``, ``<code>``...)
stay inside their sentence. A page trafilatura finds no main content in (a bare
fragment, a link list) is read whole, as EPUB chapters are, through html-text,
which also keeps inline elements inline.

Chosen by measurement (``eval/bench/html_extractors.py``, 80 real mdBook and
rustdoc pages): trafilatura kept 0.989 of the article's sentences whole and let
0.008 of the navigation through; beautifulsoup's ``get_text`` (used before) kept
0.697 whole (inline tags split sentences) and all the navigation.

The result is the text citations point into, not the file's markup, so
citations of HTML files carry no line number.
"""

from __future__ import annotations

from typing import Any

from assistant.ingest.loaders.document import Document, DocumentBuilder
from assistant.ingest.loaders.plain import decode, normalise_newlines

_BLOCKS = {"p", "quote", "item", "code"}


def load_html(data: bytes) -> Document:
    html = normalise_newlines(decode(data))
    main = _main_content(html)
    if main is None:
        return Document(html_text(html))
    builder = DocumentBuilder()
    _walk(main, builder)
    document = builder.build()
    if "\n" in document.text:
        return document
    whole = html_text(html)  # nothing, or one block: trafilatura's fallback for small pages runs blocks together
    return Document(whole) if not document.text or "\n" in whole else document


def _main_content(html: str) -> Any:
    """trafilatura's XML of the main content (``<main>`` of ``<head>``, ``<p>``, ``<list>``, ``<table>``...), or ``None``."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(html, output_format="xml", include_tables=True, include_comments=False, favor_recall=True)
    if not xml:
        return None
    return etree.fromstring(xml.encode("utf-8")).find("main")


def _walk(element: Any, builder: DocumentBuilder) -> None:
    for child in element:
        tag = child.tag
        if tag == "head":
            title = _text(child)
            builder.section(title)
            builder.add(title)
        elif tag == "table" and any(row.tag == "row" for row in child):
            builder.table([[_text(cell) for cell in row] for row in child.iter("row")])
        elif tag == "row":
            builder.add(" | ".join(cell for cell in (_text(c) for c in child) if cell))
        elif tag in _BLOCKS or not len(child):
            builder.add(_text(child))
        else:  # list, table, div-like containers: their children are the blocks
            _walk(child, builder)
        if tag in ("list", "table") and child.tail and child.tail.strip():
            builder.add(child.tail)


def _text(element: Any) -> str:
    return " ".join("".join(element.itertext()).split())


def html_text(html: str | bytes) -> str:
    """All visible text of an HTML page or fragment, blocks on their own lines, inline elements inline.

    >>> html_text("<html><head><title>T</title></head><body><p>One <b>bold</b> word</p><script>x()</script><p>Two</p></body></html>")
    'One bold word\\nTwo'
    """
    import html_text as extractor

    tree = extractor.parse_html(html if isinstance(html, str) else decode(html))
    for head in tree.xpath("//head"):
        head.getparent().remove(head)
    text = extractor.extract_text(tree, guess_layout=True)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_title(html: str | bytes) -> str | None:
    """The first heading of a page, else its ``<title>``: what names an EPUB chapter.

    >>> html_title("<html><head><title>Book</title></head><body><h2>Chapter  One</h2><p>x</p></body></html>")
    'Chapter One'
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for names in (["h1", "h2", "h3"], ["title"]):
        for tag in soup.find_all(names):
            title = " ".join(tag.get_text(" ").split())
            if title:
                return title
    return None
