"""Word-level helpers shared by lexical search, sentence features and evaluation.

No stemming and no stop-word lists on purpose: documents and questions come in
many languages, an English stemmer mangles French, and a word's weight comes
from how rare it is where it is searched (BM25's IDF over the store, coverage
weighted by rarity among candidate sentences). Accents are folded so "aout"
finds "août". Where a question's words are looked for in a sentence (coverage),
another form of a word counts (:func:`same_word`: "cookie" in "cookies",
"fixée" in "fixé"), judged by shared first letters, in any language.
"""

from __future__ import annotations

import os
import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case and strip accents.

    >>> fold("Août")
    'aout'
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(text: str) -> list[str]:
    """Distinct folded words worth searching for, in order (single letters dropped, digits kept).

    >>> search_terms("What did the US do? Août 8")
    ['what', 'did', 'the', 'us', 'do', 'aout', '8']
    """
    found = re.findall(r"\w+", fold(text))
    return list(dict.fromkeys(w for w in found if len(w) > 1 or w.isdigit()))


def words(text: str) -> set[str]:
    """Words that can carry meaning: three letters or more, or numbers.

    >>> sorted(words("Le 8 août, les USA"))
    ['8', 'aout', 'les', 'usa']
    """
    return {w for w in search_terms(text) if len(w) > 2 or w.isdigit()}


STEM = 4
"""Two words are forms of one when they share at least this many first letters ..."""
ENDING = 3
"""... and neither goes on for more than this many letters after what they share."""


def same_word(a: str, b: str) -> bool:
    """Whether two folded words look like forms of one word (plural, gender, tense), in any language: no stemmer.

    >>> [same_word(a, b) for a, b in [("cookie", "cookies"), ("policy", "policies"), ("fixee", "fixe"), ("informal", "information"), ("date", "data")]]
    [True, True, True, False, False]
    """
    if a == b:
        return True
    if a.isdigit() or b.isdigit() or a[:STEM] != b[:STEM]:
        return False
    shared = len(os.path.commonprefix((a, b)))
    return len(a) - shared <= ENDING and len(b) - shared <= ENDING


def matched(asked: frozenset[str], found: frozenset[str]) -> frozenset[str]:
    """The asked words found in ``found``, as themselves or another form (:func:`same_word`).

    >>> sorted(matched(frozenset({"cookie", "policy", "what"}), frozenset({"functional", "cookies", "intranet"})))
    ['cookie']
    """
    exact = asked & found
    if len(exact) == len(asked):
        return exact
    stems: dict[str, list[str]] = {}
    for w in found:
        stems.setdefault(w[:STEM], []).append(w)
    return exact | {w for w in asked - exact if any(same_word(w, v) for v in stems.get(w[:STEM], ()))}
