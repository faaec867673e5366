"""HTML (``.html``, ``.htm``, ``.xhtml``; also EPUB chapters): the visible text, one block per line.

Scripts, styles, templates and the ``<head>`` are dropped. The result is the
text the citations point into, not the file's markup.

Left out: telling main content from navigation and boilerplate.
"""

from __future__ import annotations

import re

from assistant.loaders.document import Document
from assistant.loaders.plain import decode, normalise_newlines

_INVISIBLE = ["script", "style", "noscript", "template", "head", "svg", "iframe"]


def load_html(data: bytes) -> Document:
    return Document(html_text(normalise_newlines(decode(data))))


def html_text(html: str | bytes) -> str:
    """Visible text of an HTML page, blocks on their own lines.

    >>> html_text("<html><head><title>T</title></head><body><p>One</p><script>x()</script><p>Two</p></body></html>")
    'One\\nTwo'
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    text = soup.get_text(separator="\n")
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
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
