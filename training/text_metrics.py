"""Answer phrase scores as SQuAD computes them: exact match and token F1 after normalisation."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the|le|la|les|l'|un|une|des|du|de)\b")


def normalise(text: str) -> str:
    """SQuAD's answer normalisation (lower case, no punctuation or articles, single spaces), French articles too.

    >>> normalise("L'Assemblée  nationale.")
    'assemblée nationale'
    """
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    text = _ARTICLES.sub(" ", text)
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return " ".join(text.split())


def f1(prediction: str, gold: str) -> float:
    a, b = normalise(prediction).split(), normalise(gold).split()
    common = sum((Counter(a) & Counter(b)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)
