"""Where sentences end, in any language.

Languages with a trained Punkt model bundled by llama-index-core (:data:`assistant.llama.PUNKT_MODELS`: English,
French, German and sixteen more) are cut by it: it learnt their abbreviations and ordinals from text. Every other
language is cut by sentencex (Wikimedia, MIT), whose rules know the full stops Punkt does not: Chinese and Japanese
``。！？`` with no space after them, Hindi and Bengali ``।``, Arabic ``؟``, Urdu ``۔``, Amharic ``።``, and the
abbreviations of about 300 languages. Until 2026-12-06 these went through the untrained Punkt, which ends a sentence
only at ``.``, ``?`` or ``!`` followed by a space, so a Chinese or Japanese paragraph was one "sentence".

Since 2026-12-06 (twenty-fifth session) four gaps of sentencex are mended here, each by how the script is written
rather than by a word list (there is no data in these languages to fit one on):

- Thai and Lao end a sentence with a space, never with a full stop (``พ.ศ.`` is an abbreviation, "Buddhist era");
  sentencex cut only at the stops, so a Thai paragraph was one "sentence" but for a cut inside each abbreviation.
- Khmer's full stop ``។`` was not one; nor, for Greek's Punkt model, the Greek question mark ``;`` (2026-12-07).
- An abbreviation sentencex does not know ended its sentence: Hindi "डॉ." (Dr), Arabic "د.", Vietnamese "GS."
  (professor), an initial. A cut after a word of one letter (one syllable, in scripts without capitals) or of one or
  two capitals is undone, unless a number comes before that word ("1950 م.", a year) or a line ends there. So is a
  cut before a small letter (no sentence starts with one): Hungarian's ordinal dates, "1873. november 17-én".
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

from assistant.llama import PUNKT_MODELS, punkt_bounds

_SPACE_ENDS = {"th": "\u0e01-\u0e4f", "lo": "\u0e81-\u0ecf"}
"""Languages whose sentences end at a space before one of their letters, after a letter or a digit (a regular
expression's class of the letters: "ปี 2325", the year 2325, goes on): Thai and Lao."""
_STOPS = {"km": r"[។៕]\s*", "el": r";\s+"}
"""Full stops the cutters do not know, per language (a regular expression; the cut comes after what it matches): Khmer's
``។`` for sentencex, Greek's question mark ``;`` (what it is in Greek, whose semicolon is ``·``) for its Punkt model."""


def sentence_bounds(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text`` in ``language`` (ISO 639-1; ``None``: the untrained Punkt).

    >>> text = "公司差旅报销制度。国内出差的每日餐费补贴为一百元！"
    >>> [text[a:b] for a, b in sentence_bounds(text, "zh")]
    ['公司差旅报销制度。', '国内出差的每日餐费补贴为一百元！']
    >>> text = "เมืองนี้ก่อตั้งขึ้นในปี พ.ศ. 2325 แม่น้ำไหลผ่านใจกลางเมือง"
    >>> [text[a:b] for a, b in sentence_bounds(text, "th")]
    ['เมืองนี้ก่อตั้งขึ้นในปี พ.ศ. 2325 ', 'แม่น้ำไหลผ่านใจกลางเมือง']
    >>> text = "उन्होंने डॉ. शर्मा से बात की। बजट बड़ा है।"
    >>> [text[a:b] for a, b in sentence_bounds(text, "hi")]
    ['उन्होंने डॉ. शर्मा से बात की। ', 'बजट बड़ा है।']
    """
    if language is None or language in PUNKT_MODELS:
        return _titles_joined(text, _stopped(text, punkt_bounds(text, language), language))
    if language in _SPACE_ENDS:
        return _at_spaces(text, _SPACE_ENDS[language])
    from sentencex import get_sentence_boundaries

    bounds = [(int(s["start_index"]), int(s["end_index"])) for s in get_sentence_boundaries(language, text) if not s["is_paragraph_break"]]
    return _titles_joined(text, _abbreviations_joined(text, _stopped(text, bounds, language)))


def _titles_joined(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``bounds`` with a piece that is one short word and its full stop ("Dr.", "Bpk.", "Dl.", "திரு.": a title
    cut off the sentence it opens) joined to the piece after it on the same line, when that piece is more than one
    word (a title opens a name and what the sentence says of it: "One. Two!" stays two).

    >>> text = "Toplantı Ankara'da yapıldı. Dr. Yılmaz toplantıyı düzenledi."
    >>> [text[a:b] for a, b in _titles_joined(text, [(0, 27), (28, 31), (32, len(text))])]
    ["Toplantı Ankara'da yapıldı.", 'Dr. Yılmaz toplantıyı düzenledi.']
    >>> text = "Summary.\\nThe budget grew."
    >>> len(_titles_joined(text, [(0, 8), (9, len(text))]))
    2
    >>> len(_titles_joined("One. Two!", [(0, 4), (5, 9)]))
    2
    """
    joined: list[tuple[int, int]] = []
    for start, end in bounds:
        if joined and _title(text[slice(*joined[-1])]) and "\n" not in text[joined[-1][1] : start] and len(text[start:end].split()) > 1:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _title(piece: str) -> bool:
    """Whether ``piece`` is one word of at most four letters (its marks aside) and a full stop, not small-lettered."""
    word = piece.strip()
    if not word.endswith(".") or word.endswith(".."):
        return False
    letters = word[:-1]
    return _lettered(letters) and sum(c.isalpha() for c in letters) <= 4 and not letters[0].islower()


def _lettered(word: str) -> bool:
    """Whether ``word`` is letters and their combining marks only (Tamil's "திரு" holds two of each), and not empty."""
    return bool(word) and all(c.isalpha() or unicodedata.category(c).startswith("M") for c in word)


def _stopped(text: str, bounds: list[tuple[int, int]], language: str | None) -> list[tuple[int, int]]:
    """``bounds`` cut again after the language's own full stops (:data:`_STOPS`).

    >>> text = "Ποιος οργάνωσε τη συνάντηση; Ο κ. Παπαδόπουλος, στις 3 Μαρτίου."
    >>> [text[a:b] for a, b in _stopped(text, [(0, len(text))], "el")]
    ['Ποιος οργάνωσε τη συνάντηση; ', 'Ο κ. Παπαδόπουλος, στις 3 Μαρτίου.']
    """
    if language not in _STOPS:
        return bounds
    return [piece for a, b in bounds for piece in _after(text, a, b, _STOPS[language])]


def _at_spaces(text: str, letters: str) -> list[tuple[int, int]]:
    """Pieces of ``text`` ending at each run of spaces between two ``letters``, or a digit and a letter (not before an abbreviation such as
    "พ.ศ.") or after ``?`` and ``!``; a piece shorter than six characters, which :func:`~assistant.text.quotable.quotable`
    would never quote (a surname after its given name, a closing particle), stays with the piece before it."""
    cuts = [m.end() for m in re.finditer(rf"(?<=[{letters}0-9])[ \t\u00a0]+(?=[{letters}])(?![{letters}]{{1,3}}\.)|[?!][ \t\u00a0]+", text)]
    edges = [0, *(c for c in cuts if 0 < c < len(text)), len(text)]
    bounds: list[tuple[int, int]] = []
    for start, end in pairwise(edges):
        if bounds and (len(text[start:end].strip()) < 6 or len(text[slice(*bounds[-1])].strip()) < 6):
            bounds[-1] = (bounds[-1][0], end)
        else:
            bounds.append((start, end))
    return [(a, b) for a, b in bounds if a < b]


def _after(text: str, start: int, end: int, stop: str) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after each match of ``stop`` (a regular expression)."""
    cuts = [m.end() for m in re.finditer(stop, text[start:end])]
    edges = sorted({start, *(start + c for c in cuts), end})
    return list(pairwise(edges))


def _abbreviations_joined(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``bounds`` with each cut after an abbreviation undone (the module's docstring says which)."""
    joined: list[tuple[int, int]] = []
    for start, end in bounds:
        if joined and joined[-1][1] == start and (_ends_abbreviated(text[joined[-1][0] : start]) or _starts_small(text[start:end])):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _starts_small(piece: str) -> bool:
    """Whether ``piece`` opens with a small letter (after any quotes or brackets), on the line before's end."""
    opening = piece.lstrip(" \t\u00a0\"'«“‘(")
    return bool(opening) and opening[0].islower()


def _ends_abbreviated(piece: str) -> bool:
    """Whether ``piece`` (a sentence as cut, with its trailing spaces) ends with an abbreviation's full stop.

    >>> [_ends_abbreviated(p) for p in ["قال د. ", "GS. ", "Sau đó ông đi. ", "그는 갔다. ", "ولد عام 1950 م. ", "Dr.\\n"]]
    [True, True, False, False, False, False]
    """
    text = piece.rstrip()
    if "\n" in piece[len(text) :] or not text.endswith(".") or text.endswith(".."):
        return False
    *before, last = text.split()
    word = last[:-1]
    if not _lettered(word):
        return False
    if before and any(c.isdigit() for c in before[-1]):
        return False
    if any(c.isupper() or c.islower() for c in word):  # a script with capitals: an initial or "GS", "TP"
        return word.isupper() and sum(c.isalpha() for c in word) <= 2
    return _syllables(word) == 1


def _syllables(word: str) -> int:
    """Letters of ``word`` not joined to the one before by a virama (Devanagari's "प्र" is one), in caseless scripts."""
    return sum(c.isalpha() and not (i and unicodedata.name(word[i - 1], "").endswith("VIRAMA")) for i, c in enumerate(word))
