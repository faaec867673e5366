"""A look, development split only: would abstention thresholds or a feature that follow the store's size help?

    .venv/bin/python -m training.store_size_look [--workdir DIR]

Fits the scorer without the reader (:func:`training.train_answerer.train`), then, on same-language rows, the
abstention model again with and without a store-size feature: the log of the paragraphs stored (the full store and
its folds, 1,010-1,455 paragraphs, counted as 1,300; the small stores, 30-49, as 40), alone or times the top-chunk
features or times every feature. For each, the threshold keeping false abstention within 5% in each kind of store
(:func:`training.thresholds.gate_and_threshold`, as the trainer chooses it) and what it abstains on there. Prints
each group's own threshold too: when they agree, a threshold that follows the store's size changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.features import ANSWERABLE_FEATURES  # noqa: E402
from assistant.answer.scorer import Linear, parse_weights  # noqa: E402
from training.thresholds import answerable_rows, gate_and_threshold  # noqa: E402
from training.train_answerer import fit_linear, sentence_rows, train  # noqa: E402

PARAGRAPHS = {"train": 1300, "dev": 1300, "small-train": 40, "small-dev": 40}
TOP = [ANSWERABLE_FEATURES.index("top_chunk_cos"), ANSWERABLE_FEATURES.index("top_chunk_margin")]


def design(features: np.ndarray, paragraphs: int, variant: str) -> np.ndarray:
    """The abstention model's inputs with the store-size terms of ``variant``."""
    size = np.full((len(features), 1), np.log(paragraphs))
    extra = {"none": [], "size": [size], "size x top chunk": [size, size * features[:, TOP]], "size x all": [size, size * features]}
    return np.hstack([features, *extra[variant]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    args = parser.parse_args()
    weights, splits = train(args.workdir, None)
    scorer = parse_weights(weights)
    rows = {}
    for group in PARAGRAPHS:
        scored = sentence_rows(splits[group], scorer)
        features, same, labels = answerable_rows(scored, scorer)
        kinds = np.array([e.kind for e, _, found, _, _ in scored if found])
        rows[group] = (features[same], labels[same], kinds[same])
    for variant in ("none", "size", "size x top chunk", "size x all"):
        x = np.vstack([design(rows[g][0], PARAGRAPHS[g], variant) for g in ("train", "small-train")])
        y = np.concatenate([rows[g][1] for g in ("train", "small-train")])
        model = Linear.of(fit_linear(x, y))
        p = {g: 1.0 / (1.0 + np.exp(-model.logits(design(rows[g][0], PARAGRAPHS[g], variant)))) for g in ("dev", "small-dev")}
        seen = {g: (np.zeros(len(p[g])), p[g], rows[g][1] == 1) for g in p}  # no reader: no margin to gate on
        own = {g: gate_and_threshold([seen[g]])[1] for g in p}
        threshold = gate_and_threshold(list(seen.values()))[1]
        abstained = {f"{g}/{kind}": round(float((p[g][rows[g][2] == kind] < threshold).mean()), 3)
                     for g in p for kind in ("answerable", "absent", "impossible")}
        print(json.dumps({"variant": variant, "own thresholds": {g: round(t, 3) for g, t in own.items()},
                          "threshold": round(threshold, 3), "abstained": abstained}))


if __name__ == "__main__":
    main()
