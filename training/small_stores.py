"""Small stores: a split's articles cut into pieces and packed into stores of 30-60 paragraphs.

The abstention model was first fitted in one store of 1,455 paragraphs; in stores of 30-60 it abstained on 8.7-10%
of answerable development questions, twice what its thresholds allow, because question-level features such as how
far the best passage stands out from the rest depend on the store's size. Users' folders are often that small, so
the fitting rows (:mod:`training.answerer_data`) and the measurement (``eval/small_stores.py``) both use these.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from training.answerer_data import QA, Article

PIECE = 20
"""At most this many consecutive paragraphs of one article per piece (SQuAD articles hold about 70)."""
SMALLEST, LARGEST = 30, 60
SEED = 0
"""The packing the fitting rows use (``eval/small_stores.py`` takes the same by default)."""


@dataclass(frozen=True)
class Piece:
    article: Article
    first: int
    last: int
    """Paragraphs ``first`` to ``last - 1`` of the article."""

    @property
    def size(self) -> int:
        return self.last - self.first

    def questions(self) -> list[QA]:
        return [qa for qa in self.article.questions if self.first <= qa.paragraph < self.last]


def pack(articles: list[Article], seed: int, sizes: tuple[int, int] = (SMALLEST, LARGEST)) -> list[list[Piece]]:
    """The articles' pieces, shuffled by ``seed``, packed into stores of ``sizes`` (smallest, largest) paragraphs; a
    piece is at most :data:`PIECE` paragraphs, and at most the largest store.

    >>> stores = pack([Article("piaf", "t", ["p"] * 45, []), Article("piaf", "u", ["p"] * 40, [])], 0)
    >>> [sum(p.size for p in store) for store in stores], max(p.size for store in stores for p in store)
    ([45, 40], 20)
    >>> tiny = pack([Article("piaf", "t", ["p"] * 45, [])], 0, (3, 8))
    >>> min(sum(p.size for p in store) for store in tiny) >= 3, max(sum(p.size for p in store) for store in tiny) <= 8
    (True, True)
    """
    smallest, largest = sizes
    cut = min(PIECE, largest)
    pieces = [Piece(a, at, min(at + cut, len(a.paragraphs))) for a in articles for at in range(0, len(a.paragraphs), cut)]
    random.Random(seed).shuffle(pieces)
    packed: list[list[Piece]] = [[]]
    for piece in pieces:
        held = sum(p.size for p in packed[-1])
        if held >= smallest or held + piece.size > largest:
            packed.append([])
        packed[-1].append(piece)
    if len(packed) > 1 and sum(p.size for p in packed[-1]) < smallest:  # a short last store: its pieces join others with room
        for piece in packed.pop():
            room = [s for s in packed if sum(p.size for p in s) + piece.size <= largest]
            (min(room, key=lambda s: sum(p.size for p in s)) if room else packed[-1]).append(piece)
    return packed
