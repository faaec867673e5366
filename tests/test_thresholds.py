"""Choices made on development data: thresholds that hold in every kind of store, and the small stores themselves."""

from __future__ import annotations

import numpy as np

from training.answerer_data import Article
from training.small_stores import LARGEST, PIECE, SMALLEST, pack
from training.thresholds import FALSE_ABSTENTION, MARGIN_WEIGHTS, gate_and_threshold, weight_gate_and_threshold


def _group(rng: np.random.Generator, answerable_mean: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yes = np.r_[np.ones(400, bool), np.zeros(400, bool)]
    p = np.clip(np.r_[rng.normal(answerable_mean, 0.15, 400), rng.normal(0.3, 0.15, 400)], 0, 1)
    margins = np.r_[rng.normal(2.0, 2.0, 400), rng.normal(-3.0, 2.0, 400)]
    return margins, p, yes


def test_false_abstention_stays_within_five_percent_in_every_group() -> None:
    rng = np.random.default_rng(0)
    big, small = _group(rng, 0.8), _group(rng, 0.6)  # in small stores answerable questions look less sure
    gate, threshold = gate_and_threshold([big, small])
    for margins, p, yes in (big, small):
        abstained = yes & ((margins < gate) | (p < threshold))
        assert abstained.sum() / yes.sum() <= FALSE_ABSTENTION
    alone_gate, alone = gate_and_threshold([big])  # chosen on the big store alone, the small one abstains far more
    margins, p, yes = small
    assert (yes & ((margins < alone_gate) | (p < alone))).sum() / yes.sum() > 2 * FALSE_ABSTENTION


def _blend(rng: np.random.Generator, margin_spread: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two noisy views of one hidden answerability: the model's probability, and the reader's margin (its noise
    ``margin_spread``); the margin alone is too noisy to gate well, so only adding it to the logit helps."""
    yes = np.r_[np.ones(600, bool), np.zeros(600, bool)]
    hidden = np.where(yes, 1.0, -1.0)
    logit = hidden + rng.normal(0, 1.2, len(yes))
    return 4 * hidden + rng.normal(0, margin_spread, len(yes)), 1 / (1 + np.exp(-logit)), yes


def test_the_margin_joins_the_abstention_logit_when_it_tells_unanswerable_questions_apart() -> None:
    rng = np.random.default_rng(1)
    groups = [_blend(rng, 6.0), _blend(rng, 6.0)]
    weight, gate, threshold, caught = weight_gate_and_threshold(groups)
    assert weight > 0 and caught[str(weight)] > caught["0.0"], caught
    for margins, p, yes in groups:
        moved = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + weight * margins)))
        assert (yes & ((margins < gate) | (moved < threshold))).sum() / yes.sum() <= FALSE_ABSTENTION
    noise = [(rng.normal(0, 5, len(yes)), p, yes) for _, p, yes in groups]  # a margin that knows nothing
    assert weight_gate_and_threshold(noise)[0] in (0.0, MARGIN_WEIGHTS[1]), "a margin that carries no signal gets (almost) no weight"


def test_small_stores_hold_every_paragraph_once_in_30_to_60() -> None:
    articles = [Article("piaf", f"a{i}", [f"p{i}-{j}" for j in range(n)], []) for i, n in enumerate([3, 70, 12, 25, 8, 41, 5, 19])]
    stores = pack(articles, seed=0)
    held = [p.article.paragraphs[j] for store in stores for p in store for j in range(p.first, p.last)]
    assert sorted(held) == sorted(x for a in articles for x in a.paragraphs)
    assert all(SMALLEST <= sum(p.size for p in store) <= LARGEST for store in stores)
    assert all(p.size <= PIECE for store in stores for p in store)
    assert pack(articles, seed=0) == stores and pack(articles, seed=1) != stores
