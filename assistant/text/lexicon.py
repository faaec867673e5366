"""Word-level helpers shared by lexical search, sentence features and evaluation.

No stemming and no stop-word lists on purpose: documents and questions come in
many languages, an English stemmer mangles French, and a word's weight comes
from how rare it is where it is searched (BM25's IDF over the store, coverage
weighted by rarity among candidate sentences). Accents are folded so "aout"
finds "août". Scripts written without spaces between words (Chinese, Japanese,
Thai, ...) have no words to split on: their runs are cut into overlapping pairs of
characters, as search engines' CJK analysers do, so that "出差" in a question finds
"出差前必须..." in a passage.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text.quotable import SPACELESS_CHARACTERS

_MARKS = re.compile("[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670]")
"""What folding removes: accents (Latin, Greek, Cyrillic) and the vowel points of Arabic and Hebrew. Marks that
tell words apart elsewhere stay: a Devanagari virama, Thai tone marks, the kana voicing marks (ガ is not カ)."""
_WORD = re.compile(r"\w+")
_SPACELESS_RUN = re.compile(f"[{SPACELESS_CHARACTERS}]+")


def fold(text: str) -> str:
    """Lower-case, strip accents (:data:`_MARKS`) and write compatibility forms plainly (ﬁ as fi, full-width as ASCII).

    >>> fold("Août")
    'aout'
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed))  # NFC: Hangul syllables and kana with their marks whole again


def index_text(text: str) -> str:
    """The text as the BM25 index reads it: folded, and each run of a script written without spaces cut into
    overlapping pairs of characters (a run of one kept whole). The index and the questions' :func:`search_terms`
    go through the same function, so they always agree.

    >>> " ".join(index_text("Le 8 août. 国内出差，ガス iPhone手机").split())
    'le 8 aout. 国内 内出 出差 , ガス iphone 手机'
    """
    return _SPACELESS_RUN.sub(_pairs, fold(text))


def _pairs(run: re.Match[str]) -> str:
    chars = run.group()
    return " " + " ".join(chars[i : i + 2] for i in range(max(1, len(chars) - 1))) + " "  # apart from letters beside them


def search_terms(text: str) -> list[str]:
    """Distinct folded words worth searching for, in order (single letters dropped, digits kept).

    >>> search_terms("What did the US do? Août 8")
    ['what', 'did', 'the', 'us', 'do', 'aout', '8']
    >>> search_terms("国内出差的补贴")
    ['国内', '内出', '出差', '差的', '的补', '补贴']
    """
    found = _WORD.findall(index_text(text))
    return list(dict.fromkeys(w for w in found if len(w) > 1 or w.isdigit() or _SPACELESS_RUN.match(w)))


def words(text: str) -> set[str]:
    """Words that can carry meaning: three letters or more, numbers, or pairs of characters of a script written
    without spaces.

    >>> sorted(words("Le 8 août, les USA"))
    ['8', 'aout', 'les', 'usa']
    >>> sorted(words("出差补贴"))
    ['出差', '差补', '补贴']
    """
    return {w for w in search_terms(text) if len(w) > 2 or w.isdigit() or _SPACELESS_RUN.match(w)}
