"""The shipped answer weights are what the training command produces from the public data."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, SHARED_DATASETS

WEIGHTS = ROOT / "assistant" / "weights" / "answerer.json"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_training_reproduces_the_shipped_weights() -> None:
    if not (SHARED_DATASETS / "piaf").exists() or not (SHARED_DATASETS / "squad2-train").exists():
        pytest.skip(f"training data not found at {SHARED_DATASETS}: put ../shared/datasets beside the project to re-train")
    from assistant.answer.reader import Reader
    from assistant.index.encoder import E5Encoder
    from training.train_answerer import train

    shipped = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    reader = Reader(E5Encoder()) if "reader_margin" in shipped["thresholds"] else None  # fitted with the shipped reader
    # the work folder keeps stores, embeddings and rows between runs (a fresh clone builds them: ~10 minutes, and
    # reads the development questions' passages with the reader, in the full store and in the small ones: ~20 more,
    # and those of their machine translations, to choose the reader's weight: ~6 more)
    weights, splits = train(ROOT / ".cache" / "answerer", reader)
    if reader is not None:  # the weights of the reader's score: each candidate's share of answer sentences, within noise
        again, before = weights["header"]["reader_weight_choice"], shipped["header"]["reader_weight_choice"]
        for case in ("same_language", "across_languages"):  # in the question's language, then across languages
            for weight, share in before[case].items():
                assert again[case][weight] == pytest.approx(share, abs=0.02), f"{case} {weight}"
    assert weights["header"]["data"] == shipped["header"]["data"], "the shipped weights came from other data files"
    assert weights["header"]["examples"] == shipped["header"]["examples"]
    assert {e.split for e in splits["dev"]} == {"dev"} and not {e.question_id for e in splits["dev"]} & {e.question_id for e in splits["train"]}
    assert weights["cross_language_shift"] == pytest.approx(shipped["cross_language_shift"], abs=0.002)
    for name, value in shipped["thresholds"]["abstain_below"].items():
        assert weights["thresholds"]["abstain_below"][name] == pytest.approx(value, abs=0.02), name
    assert {e.store for e in splits["dev"]} == {"full"} and {e.store for e in splits["small-dev"]} == {"small"}
    for stores in ("development", "development_small_stores"):  # the full store's questions, then the small stores'
        for group, values in shipped["header"][stores].items():
            n = values["n"]
            assert weights["header"][stores][group]["n"] == n, group
            for metric, value in values.items():
                # a fresh clone re-embeds everything: float noise flips a few near-ties, so "the same" means
                # within two standard errors of a proportion over the group's questions (and never more than 0.05)
                noise = min(0.05, max(0.01, 2 * (value * (1 - value) / n) ** 0.5)) if metric != "n" else 0
                assert weights["header"][stores][group][metric] == pytest.approx(value, abs=noise), f"{stores} {group} {metric}"
