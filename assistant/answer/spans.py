"""The reader's answer spans: the best start and end pair of a window, and a span's characters trimmed.

Pure functions of logits and text, shared by :mod:`assistant.answer.reader` and the trainer's evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    """A span's characters without the spaces and punctuation its tokens carry at its edges (``" (1991,"`` -> ``1991``).

    A bracket or quote stays when its partner is inside the span; a final full stop stays after an abbreviation.

    >>> t = ' (14,2 milliards) en 2006, "le plan" et les U.S.'
    >>> [t[slice(*trim(t, a, b))] for a, b in [(0, 16), (20, 26), (26, 36), (39, len(t))]]
    ['14,2 milliards', '2006', '"le plan"', 'les U.S.']
    """
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


def best_ends(e: np.ndarray) -> np.ndarray:
    """Per start token, the best end logit within :data:`MAX_ANSWER_TOKENS` of it."""
    n = len(e)
    out = np.full(n, -np.inf)
    for offset in range(min(MAX_ANSWER_TOKENS, n)):
        np.maximum(out[: n - offset], e[offset:], out=out[: n - offset])
    return out
