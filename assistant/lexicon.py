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
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(text: str) -> list[str]:
    """Distinct words worth searching for, in order: ``search_terms("What did the US do?") == ["us"]``."""
    words = re.findall(r"\w+", fold(text))
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())))


def content_words(text: str) -> set[str]:
    """Words that carry meaning (three letters or more, or numbers)."""
    return {w for w in search_terms(text) if len(w) > 2 or w.isdigit()}


_LANGUAGE_HINTS = {
    "en": "the and is are was were what who how did does of to with for that this which when where why has have been from",
    "fr": "le la les et est sont que qui quoi quel quelle comment combien des du une un pour sur dans avec pas ce cette ou quand ont aux",
    "de": "der die das und ist sind war wer wie was nicht mit fur auf von den dem des ein eine einer zu im wurde auch sich bei",
    "es": "el la los las y es son que quien como cuando donde del con para por una un se no al fue",
    "it": "il lo la gli le e sono che chi come quando dove del della con per una un non di nel fu",
    "pt": "o a os as e sao que quem como quando onde do da dos das com para por uma um nao em foi",
}
_HINT_SETS = {lang: frozenset(words.split()) for lang, words in _LANGUAGE_HINTS.items()}


def guess_language(text: str) -> str | None:
    """A language code from common function words, or ``None`` when unsure.

    Cheap on purpose (it runs on every retrieved passage); enough to tell whether
    a question and a passage share a language.

    >>> guess_language("Qui est le porte-parole du Kremlin ?"), guess_language("Who is the spokesman?")
    ('fr', 'en')
    >>> guess_language("Die Normannen waren ein Volk, das in der Normandie lebte.")
    'de'
    """
    words = re.findall(r"\w+", fold(text[:300]))
    counts = sorted(((sum(1 for w in words if w in hints), lang) for lang, hints in _HINT_SETS.items()), reverse=True)
    (best, lang), (second, _) = counts[0], counts[1]
    return lang if best >= 1 and best > second else None
