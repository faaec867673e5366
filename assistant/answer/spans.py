"""The reader's answer spans: the best start and end pair of a window, and a span's characters trimmed.

Pure functions of logits and text, shared by :mod:`assistant.answer.reader` and the trainer's evaluation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from assistant.text.quotable import spaceless

MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class Span:
    """The reader's best answer in one window: characters in the passage, and its score against no answer."""

    start: int
    end: int
    score: float
    """Best span's start + end logits."""
    null: float
    """``<s>``'s start + end logits."""


def best_pair(s: np.ndarray, e: np.ndarray) -> tuple[int, int, float]:
    """The start and end token (end not before start, at most :data:`MAX_ANSWER_TOKENS` apart) with the best
    start + end logits, and that score."""
    n = len(s)
    scores = s[:, None] + e[None, :]
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
    scores[(offsets < 0) | (offsets >= MAX_ANSWER_TOKENS)] = -np.inf
    i, j = divmod(int(np.argmax(scores)), n)
    return i, j, float(scores[i, j])


_OPENERS = {"(": ")", "[": "]", "«": "»", "“": "”", '"': '"', "'": "'", "‘": "’"}
_TRAILING = ",;:.!?"


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """A span's characters without the spaces and punctuation its tokens carry at its edges (``" (1991,"`` -> ``1991``),
    and widened to whole words where it cuts one (:func:`whole_words`).

    A bracket or quote stays when its partner is inside the span; a final full stop stays after an abbreviation.

    >>> t = ' (14,2 milliards) en 2006, "le plan" et les U.S.'
    >>> [t[slice(*trim(t, a, b))] for a, b in [(0, 16), (20, 26), (26, 36), (39, len(t))]]
    ['14,2 milliards', '2006', '"le plan"', 'les U.S.']
    """
    start, end = whole_words(text, start, end)
    while start < end:
        ch = text[start]
        if ch.isspace() or (ch in _OPENERS and _OPENERS[ch] not in text[start + 1 : end]):
            start += 1
        else:
            break
    while end > start:
        ch = text[end - 1]
        closer_alone = ch in _OPENERS.values() and not any(o in text[start : end - 1] for o, c in _OPENERS.items() if c == ch)
        abbreviation = ch == "." and "." in text[start : end - 1]
        if ch.isspace() or closer_alone or (ch in _TRAILING and not abbreviation):
            end -= 1
        else:
            break
    return start, end


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``start`` moved back and ``end`` on to the edges of the words they cut, in scripts written with spaces.

    A reader's span starts and ends at tokens, and a token may be part of a word: in a language the reader never
    learnt (Arabic "لمدة يومين", two days, read as "▁لمدة ▁يوم ين") its best span can be the piece ``ين``, which is
    not an answer anyone can read. Letters, marks and digits on both sides of an edge are one word, except in scripts
    written without spaces (Chinese, Japanese, Thai: :func:`assistant.text.quotable.spaceless`), where a character
    may be a word of its own.

    >>> t = "لمدة يومين في الأسبوع; shipped 1991-1993; 国际出差为五十美元"
    >>> [t[slice(*whole_words(t, a, b))] for a, b in [(8, 10), (24, 27), (32, 34), (47, 49)]]
    ['يومين', 'shipped', '1991', '五十']
    """
    while 0 < start < end and _inside_word(text[start - 1], text[start]):
        start -= 1
    while start < end < len(text) and _inside_word(text[end - 1], text[end]):
        end += 1
    return start, end


def _inside_word(before: str, after: str) -> bool:
    return all(unicodedata.category(c)[0] in "LMN" and not spaceless(c) for c in (before, after))


def best_ends(e: np.ndarray) -> np.ndarray:
    """Per start token, the best end logit within :data:`MAX_ANSWER_TOKENS` of it."""
    n = len(e)
    out = np.full(n, -np.inf)
    for offset in range(min(MAX_ANSWER_TOKENS, n)):
        np.maximum(out[: n - offset], e[offset:], out=out[: n - offset])
    return out
