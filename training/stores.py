"""The fitting stores: which paragraphs each holds, and which questions are asked over it, as what.

One plan for every builder of rows (:mod:`training.answerer_data` for the questions as written,
:mod:`training.translated` for the same questions machine-translated), so that both ask the same questions
over the same stores:

- ``full`` holds every article and asks all their questions (answerable, or impossible when they have no answer);
- ``minus-F`` holds every article outside fold ``F`` and asks every other question of fold ``F``'s articles,
  which are absent from it;
- ``small-SPLIT-N`` holds the pieces :func:`training.small_stores.pack` gave it (30-60 paragraphs of its split)
  and asks their questions, then every other question of the next small store of its split, absent here.

>>> from training.answerer_data import QA, Article
>>> qa = [QA(str(n), "?", 0, (("a", 0),)) for n in range(4)]
>>> one, two = Article("piaf", "t", ["p"] * 35, qa, "dev", 0), Article("piaf", "u", ["p"] * 35, qa, "dev", 1)
>>> [(s.name, len(s.paragraphs), [(a.title, len(q), kind) for a, q, kind in s.asked]) for s in plan([one, two])][:3]
[('full', 70, [('t', 4, ''), ('u', 4, '')]), ('minus-0', 35, [('t', 2, 'absent')]), ('minus-1', 35, [('u', 2, 'absent')])]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.answerer_data import FOLDS, QA, Article
from training.small_stores import SEED, pack

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PlannedStore:
    name: str
    where: str
    """``full`` (the whole store and the folds left out of it) or ``small``: the rows' ``store``."""
    paragraphs: list[tuple[Article, int]]
    """What the store holds: (article, paragraph index)."""
    asked: list[tuple[Article, list[QA], str]]
    """(article, its questions asked here, their kind: ``absent``, or ``""`` for answerable or impossible by their answers)."""


def plan(articles: list[Article]) -> list[PlannedStore]:
    """The stores over ``articles`` in the order rows are built: ``full``, ``minus-0..3``, then each split's small stores."""
    stores = [PlannedStore("full", "full", _whole(articles), [(a, a.questions, "") for a in articles])]
    for fold in range(FOLDS):
        kept = [a for a in articles if a.fold != fold]
        stores.append(PlannedStore(f"minus-{fold}", "full", _whole(kept), [(a, a.questions[::2], "absent") for a in articles if a.fold == fold]))
    for split in SPLITS:
        packed = [pieces for pieces in pack([a for a in articles if a.split == split], SEED) if pieces]  # none: the split is not given
        for n, (pieces, others) in enumerate(zip(packed, packed[1:] + packed[:1], strict=True)):
            stores.append(PlannedStore(f"small-{split}-{n}", "small", [(p.article, i) for p in pieces for i in range(p.first, p.last)],
                                       [(p.article, p.questions(), "") for p in pieces] + [(p.article, p.questions()[::2], "absent") for p in others]))
    return stores


def _whole(articles: list[Article]) -> list[tuple[Article, int]]:
    return [(a, i) for a in articles for i in range(len(a.paragraphs))]


def fill(bot: Any, files: Sequence[Path]) -> Any:
    """Ingest ``files`` into a fitting store (an open :class:`assistant.Assistant`), which then holds them and nothing
    else; the ingest report. Documents stored under other paths are forgotten first: a work folder moved or renamed
    keeps its stores' old paths, which ``prune`` (only under the paths ingested) leaves, and rows built there would
    meet every paragraph twice (2026-12-06)."""
    wanted = {str(f) for f in files}
    if others := [d.source for d in bot.documents() if d.source not in wanted]:
        bot.forget(others)
    return bot.ingest(files, prune=True)
