"""Word-level helpers shared by lexical search, sentence features and evaluation.

No stemming and no stop-word lists on purpose: documents and questions come in
many languages, an English stemmer mangles French, and a word's weight comes
from how rare it is where it is searched (BM25's IDF over the store, coverage
weighted by rarity among candidate sentences). Accents are folded so "aout"
finds "août".
"""

from __future__ import annotations

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
