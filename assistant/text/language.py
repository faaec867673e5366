"""What a text says whatever its language: which language it is, and its numbers and names.

Numbers and capitalised names read the same across languages, so they are the lexical evidence that survives
translation (a French passage answering an English question still carries "2025" and "Witkoff").
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.text.lexicon import fold

_NUMBER = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W_][\w'’-]*")


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's identifier; its model read from the decompressed copy in the cache when there is one."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from assistant.cache import derived

    kept = derived("langid-model.npz", MODEL_DIR / MODEL_FILE, _decompress)
    if kept is not None:
        import zipfile

        from py3langid.modelio import _to_array

        try:  # as py3langid.modelio.load_model reads it, minus LZMA, and mapped: a question touches a few pages of 68 MB
            model = _mapped(kept)
            return LanguageIdentifier(model["ptc"], model["pc"], model["classes"].tolist(), memoryview(model["nextmove"]),
                                      model["out_feat"].tolist(), tk_row=_to_array(model["nextmove_row"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged copy: drop it, use the packed model
            kept.unlink(missing_ok=True)
    return LanguageIdentifier.from_model_file(MODEL_FILE)


def _mapped(path: Path) -> dict[str, Any]:
    """The arrays of an uncompressed ``.npz`` (as ``np.savez`` writes it), each memory-mapped where it lies in the zip.

    ``np.load`` reads every array whole (0.1-0.2 s for the language model, on every start); mapping reads only the
    pages used. The copy is never changed in place (:mod:`assistant.cache` writes aside and renames), so a mapping
    cannot see it shrink.
    """
    import struct
    import zipfile

    import numpy as np

    arrays: dict[str, Any] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for member in archive.infolist():
            if member.compress_type != zipfile.ZIP_STORED or not member.filename.endswith(".npy"):
                raise ValueError(f"{path}: {member.filename} is not an uncompressed array")
            raw.seek(member.header_offset + 26)  # the local header: its name and extra field lengths, then the data
            name_length, extra_length = struct.unpack("<HH", raw.read(4))
            raw.seek(member.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(raw)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(raw)
            arrays[member.filename[: -len(".npy")]] = np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape,
                                                                order="F" if fortran else "C")
    return arrays


def _decompress(path: Path) -> None:
    import lzma
    import shutil

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    with lzma.open(MODEL_DIR / MODEL_FILE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out, length=1 << 20)


@lru_cache(maxsize=65536)
def language(text: str) -> str:
    """ISO 639-1 code from py3langid (97 languages, naive Bayes over byte n-grams).

    >>> language("Qui est le porte-parole du Kremlin ?"), language("Who is the spokesman?")
    ('fr', 'en')
    """
    return _classify(text)


def _classify(text: str) -> str:
    return str(_identifier().classify(text[:400])[0])


LANGUAGE_PREFIX = 300
"""A passage's language is identified on its first characters."""


def passage_language(text: str) -> str:
    """The language of a chunk, found once at ingest and stored: not cached (a big file would fill the cache).

    Equal to ``language(text[:LANGUAGE_PREFIX])``, the cached form retrieval uses for chunks stored without it.
    """
    return _classify(text[:LANGUAGE_PREFIX])


def anchors(text: str) -> frozenset[str]:
    """Numbers and capitalised words not opening a sentence, folded: evidence that reads the same in any language.

    >>> sorted(anchors("Le 6 août 2025, Witkoff a rencontré Poutine à Moscou."))
    ['2025', '6', 'moscou', 'poutine', 'witkoff']
    """
    return frozenset(numbers(text) | names(text))


def numbers(text: str) -> set[str]:
    """Numbers written with digits, separators dropped: ``numbers("3,500 or 1.5")`` is ``{"3500", "15"}``."""
    return {n.replace(" ", "").replace(",", "").replace(".", "") for n in _NUMBER.findall(text)}


def names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence, folded.

    >>> sorted(names("Hier, Paris a vu Macron. Il pleut."))
    ['macron', 'paris']
    """
    found = set()
    for match in _WORD.finditer(text):
        word, i = match.group(), match.start() - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        if word[0].isupper() and len(word) > 1 and i >= 0 and text[i] not in ".!?:¿¡\"«“":
            found.add(fold(word))
    return found


NUMBER_WORD_LANGUAGES = frozenset({"en", "fr", "es", "de", "pt", "nl", "da", "it"})
"""Languages whose numbers written as words text2num turns into digits ("trois heures" -> "3 heures")."""


@lru_cache(maxsize=65536)
def with_digits(text: str) -> str:
    """``text`` with numbers written as words turned into digits, in the languages text2num reads.

    >>> with_digits("La réunion a duré environ trois heures.")
    'La réunion a duré environ 3 heures.'
    """
    lang = language(text)
    if lang not in NUMBER_WORD_LANGUAGES:
        return text
    from text_to_num import alpha2digit

    try:
        return str(alpha2digit(text, lang))
    except (ValueError, RuntimeError):
        return text
