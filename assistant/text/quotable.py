"""Which sentences can be quoted as an answer on their own: real words, not headings, menus or fragments."""

from __future__ import annotations

import re

_LETTER_WORD = re.compile(r"[^\W\d_]+")
_SEPARATORS = re.compile(r"[|•]")
"""Menu and breadcrumb separators (not « », used as quotes in French, nor ·, a letter joiner in Catalan)."""
SPACELESS_CHARACTERS = "\u0e00-\u109f\u1780-\u17ff\u2e80-\u9fff\uf900-\ufaff"
"""Thai, Lao, Khmer, Myanmar, CJK and kana: scripts written without spaces between words (a regular expression's class)."""
_SPACELESS = re.compile(f"[{SPACELESS_CHARACTERS}]")
SECTION_PATH = " › "
"""Joins the titles of a section holding nothing but its heading and the section it joins, as in ``Policy › Meals``
(:func:`assistant.ingest.chunking.iter_chunks`)."""


def quotable(text: str, section: str | None = None) -> bool:
    """Whether a sentence can be an answer on its own: real words, not a heading, a menu or a fragment.

    It takes at least three words and eight letters in all (or, in
    scripts written without spaces, six characters), and it must not be its section's heading (nor any of the headings
    of a joined section, ``Policy › Meals``).
    Text with two or more ``|`` or ``•`` separators is a menu unless it reads as a table row (how
    .docx and .odt tables arrive, a row per line): a cell of three words or more, or two cells of
    two words or more and a number. The others stay in passages as context.

    >>> [quotable(t) for t in ["The deadline is 8 August.", "Summary.", "---", "Privacy | Cookies | Terms", "東京は日本の首都。", "Il a plu."]]
    [True, False, False, False, True, False]
    >>> [quotable(t) for t in ["Migrate the billing service | Alice Martin | 30 June", "Home | About us | Contact us", "Action | Owner | Due"]]
    [True, False, False]
    >>> quotable("Vacances d'été", section="Vacances d'été")
    False
    >>> quotable("Travel and expenses policy", section="Travel and expenses policy › Meals")
    False
    """
    cells = _SEPARATORS.split(text)
    if len(cells) > 2:
        sizes = [len(_LETTER_WORD.findall(cell)) for cell in cells]
        if not (max(sizes) >= 3 or (sum(n >= 2 for n in sizes) >= 2 and any(c.isdigit() for c in text))):
            return False
    if section is not None and " ".join(text.strip(" #:.").split()) in section.split(SECTION_PATH):
        return False
    if len(_SPACELESS.findall(text)) >= 6:
        return True
    words = _LETTER_WORD.findall(text)
    return len(words) >= 3 and sum(len(w) for w in words) >= 8


def spaceless(ch: str) -> bool:
    """Whether a character belongs to a script written without spaces between words (:data:`_SPACELESS`)."""
    return _SPACELESS.match(ch) is not None


def quotable_row(text: str) -> bool:
    """Whether a table's body row (known as one from the document's structure) can be quoted: two cells or more, a word.
    Cells are apart by ``|`` or ``•``, or in a row with neither (a reStructuredText simple table), by two spaces or more.

    >>> [quotable_row(t) for t in ["Alice Martin | 30 June", "Total | 42", "12 | 14", "Notes", "Lyon     09:00", "Lyon 09:00"]]
    [True, True, False, False, True, False]
    """
    cells = _SEPARATORS.split(text) if _SEPARATORS.search(text) else re.split(r"\s{2,}", text)
    return len([c for c in cells if c.strip()]) >= 2 and bool(_LETTER_WORD.search(text))
