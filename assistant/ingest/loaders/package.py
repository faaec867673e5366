"""Checks shared by the zipped formats (.docx, .pptx, .epub, .odt, .odp) before their reader opens them.

Each failure names what the file really is and what to do: a password-protected
Office file is an OLE container holding an ``EncryptionInfo`` stream, an old
binary .doc/.ppt renamed is an OLE container without one, anything else that
is not a zip or lacks the format's main part is damaged or misnamed.
"""

from __future__ import annotations

import io
import zipfile

from assistant.ingest.loaders.document import UnreadableFile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_package(data: bytes, member: str, kind: str) -> zipfile.ZipFile:
    """The zip of a ``kind`` file that must hold ``member``; raises :class:`UnreadableFile` otherwise.

    >>> open_package(b"hello", "word/document.xml", "Word (.docx)")
    Traceback (most recent call last):
    ...
    assistant.ingest.loaders.document.UnreadableFile: not a real Word (.docx) file (not a zip archive); is it damaged or misnamed?
    """
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise UnreadableFile(f"{kind} file is password-protected; save a copy without a password and ingest that")
        raise UnreadableFile(f"old binary Office format under a {kind} name; open it and save it as {kind}, then ingest again")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UnreadableFile(f"not a real {kind} file (not a zip archive); is it damaged or misnamed?") from None
    if member not in package.namelist():
        package.close()
        raise UnreadableFile(f"not a real {kind} file: the zip has no {member}")
    return package


def damaged(kind: str, exc: Exception) -> UnreadableFile:
    return UnreadableFile(f"damaged {kind} file ({type(exc).__name__}: {exc})")
