"""EPUB through the standard library's zipfile and lxml: chapters in spine order, each named by its title.

An EPUB is a zip of XHTML files listed in a package document (``.opf``) whose
spine gives the reading order. Each chapter's text comes from
:func:`~assistant.ingest.loaders.markup.html_text`, as for ``.html`` files; its title
comes from the table of contents (EPUB 3 ``nav`` or EPUB 2 ``toc.ncx``), else its
first heading, and becomes the ``section`` of its passages.

Why no EPUB library: ebooklib, the common one, is AGPL-licensed, and reading
needs only the container, the package document and the spine.

Left out: DRM-protected books (refused with a reason), footnote pop-ups, images' alt text.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import Any
from urllib.parse import unquote

from assistant.ingest.loaders.document import Document, DocumentBuilder, UnreadableFile
from assistant.ingest.loaders.markup import html_text, html_title
from assistant.ingest.loaders.package import damaged, open_package

KIND = "EPUB (.epub)"
NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "x": "http://www.w3.org/1999/xhtml",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}


def load_epub(data: bytes) -> Document:
    with open_package(data, "META-INF/container.xml", KIND) as book:
        try:
            return _read(book)
        except UnreadableFile:
            raise
        except Exception as exc:  # lxml and zipfile raise many types on a damaged book
            raise damaged(KIND, exc) from None


def _xml(book: zipfile.ZipFile, name: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    return etree.fromstring(book.read(name), parser)


def _read(book: zipfile.ZipFile) -> Document:
    rootfile = _xml(book, "META-INF/container.xml").find(".//c:rootfile", NS)
    if rootfile is None:
        raise UnreadableFile(f"not a real {KIND} file: META-INF/container.xml names no package document")
    opf_path = rootfile.get("full-path")
    base = posixpath.dirname(opf_path)
    package = _xml(book, opf_path)
    items = {
        item.get("id"): (posixpath.normpath(posixpath.join(base, unquote(item.get("href", "")))), item)
        for item in package.iterfind(".//opf:manifest/opf:item", NS)
    }
    spine = [
        items[ref.get("idref")][0]
        for ref in package.iterfind(".//opf:spine/opf:itemref", NS)
        if ref.get("idref") in items and "nav" not in (items[ref.get("idref")][1].get("properties") or "").split()
    ]  # the navigation document is the table of contents, not a chapter
    _refuse_drm(book, set(spine))
    titles = _toc_titles(book, package, items)
    builder = DocumentBuilder()
    for name in spine:
        if name not in book.namelist():
            continue
        content = book.read(name)
        title = titles.get(name) or html_title(content)
        if title:
            builder.section(title)
        builder.add(html_text(content))
    return builder.build()


def _refuse_drm(book: zipfile.ZipFile, chapters: set[str]) -> None:
    """Font obfuscation is harmless; an encrypted chapter means DRM."""
    if "META-INF/encryption.xml" not in book.namelist():
        return
    for data in _xml(book, "META-INF/encryption.xml").iterfind(".//enc:EncryptedData", NS):
        method = data.find("enc:EncryptionMethod", NS)
        reference = data.find(".//enc:CipherReference", NS)
        if reference is None or (method is not None and method.get("Algorithm") in FONT_OBFUSCATION):
            continue
        if posixpath.normpath(unquote(reference.get("URI", ""))) in chapters:
            raise UnreadableFile("EPUB is DRM-protected (its chapters are encrypted); only DRM-free books can be read")


def _toc_titles(book: zipfile.ZipFile, package: Any, items: dict[str, tuple[str, Any]]) -> dict[str, str]:
    """Chapter file -> title, from the EPUB 3 navigation document or the EPUB 2 NCX (first entry per file wins)."""
    titles: dict[str, str] = {}

    def note(base: str, href: str | None, label: str) -> None:
        label = " ".join(label.split())
        if href and label:
            titles.setdefault(posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0]))), label)

    for path, item in items.values():
        if "nav" in (item.get("properties") or "").split() and path in book.namelist():
            for link in _xml(book, path).iterfind(".//x:nav//x:a", NS):
                note(posixpath.dirname(path), link.get("href"), "".join(link.itertext()))
    spine = package.find(".//opf:spine", NS)
    ncx = items.get(spine.get("toc")) if spine is not None else None
    if ncx and ncx[0] in book.namelist():
        for point in _xml(book, ncx[0]).iterfind(".//ncx:navPoint", NS):
            label, content = point.find("ncx:navLabel/ncx:text", NS), point.find("ncx:content", NS)
            if label is not None and content is not None:
                note(posixpath.dirname(ncx[0]), content.get("src"), label.text or "")
    return titles
