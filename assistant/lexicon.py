"""Word-level helpers shared by lexical search, sentence scoring and evaluation.

No stemming on purpose: documents and questions come in several languages and
an English stemmer mangles French. Accents are folded so "aout" finds "août".
"""

from __future__ import annotations

import re
import unicodedata

# Words too common to help ranking in the two languages we see most; they only slow OR queries.
STOPWORDS = frozenset(
    """a an and are as at be by did do does for from had has have how in is it its of on or that the this
    to was were what when where which who whom whose why will with au aux avec ce ces dans de des du elle en
    est et il ils la le les leur lui mais ne nous on ou par pas pour qu que qui sa se ses son sur un une vous
    quel quelle quels quelles comment pourquoi combien ont ete""".split()
)


def fold(text: str) -> str:
    """Lower-case and strip accents.

    >>> fold("Août")
    'aout'
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(text: str) -> list[str]:
    """Distinct words worth searching for, in order: ``search_terms("What did the US do?") == ["us"]``."""
    words = re.findall(r"\w+", fold(text))
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())))


def content_words(text: str) -> set[str]:
    """Words that carry meaning (three letters or more, or numbers)."""
    return {w for w in search_terms(text) if len(w) > 2 or w.isdigit()}
