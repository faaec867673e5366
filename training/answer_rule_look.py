"""Two choices around the reader, measured (nothing is fitted): how the false-abstention budget is split between the
reader's margin gate and the probability threshold, and which span is named as the answer phrase.

    .venv/bin/python -m training.answer_rule_look [--reader FILE] [--split dev|test] [--out F]

``dev`` (the default) runs the training command's own steps (:func:`training.train_answerer.train`) and keeps what
:func:`training.thresholds.choose_reader_thresholds` is given: for each share of the 5% budget given to the gate
(0-5% of answerable margins), the threshold that keeps every store within 5% and the unanswerable development
questions caught, then the phrase rules on the full store's development questions. ``test`` (reporting only, once
per change) scores the shipped answer weights on the test rows and compares the phrase rules there.

Phrase rules, over answered answerable questions: *top* names the reader's best span when it lies in the quoted
sentence (until 2026-12-02), *inside* its best span inside the quoted sentence (:func:`assistant.answer.extractive.phrase_in`).
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import training.thresholds as thresholds
import training.train_answerer as trainer
from assistant.answer.extractive import choose, decide
from assistant.answer.reader import Reader
from assistant.answer.scorer import Scorer, parse_weights
from assistant.evaluation.gold import contains
from assistant.index.encoder import E5Encoder
from training.reader_data import cached_lower
from training.reader_rows import readings
from training.text_metrics import f1, normalise
from training.train_answerer import ROOT, sentence_rows, shifted, train

WORKDIR = ROOT / ".cache" / "answerer"


def ridge(groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """Per share of the budget given to the gate: gate, threshold, unanswerable questions caught per group."""
    out = []
    for share in np.linspace(0.0, thresholds.FALSE_ABSTENTION, 11):
        gate, threshold = thresholds.gate_and_threshold(groups, float(share))
        out.append({"gate_share": round(float(share), 4), "gate": round(gate, 3), "threshold": round(threshold, 4),
                    "caught": [int((~yes & ((m < gate) | (p < threshold))).sum()) for m, p, yes in groups]})
    return out


def phrase_rules(rows: Sequence[Any], read: Sequence[Any], scorer: Scorer) -> dict[str, float]:
    """Both phrase rules over answered answerable questions, and over those whose quote holds the answer."""
    acc: dict[str, list[float]] = defaultdict(list)
    for (e, retrieval, found, features, *_), r in zip(rows, read, strict=True):
        if e.kind != "answerable" or not found:
            continue
        d = decide(found, features, retrieval, scorer, None, r)
        chosen = choose(found, d, scorer.second_from)
        if not chosen:
            continue
        holder = found[d.best]
        right = any(contains(" ".join(s.text for s in chosen), a) for a in e.answers)
        top = None
        if r:
            best = max(r, key=lambda x: x.span.score)
            at = next((c.chunk.start for c in retrieval.ranked if c.chunk.id == best.chunk_id), 0)
            span = (at + best.span.start, at + best.span.end)
            top = span if best.chunk_id == holder.chunk_id and holder.start <= span[0] and span[1] <= holder.end else None
        for name, span in (("top", top), ("inside", d.span)):
            phrase = holder.text[span[0] - holder.start : span[1] - holder.start] if span else None
            exact = max(float(normalise(phrase) == normalise(a)) for a in e.answers) if phrase else 0.0
            for where in ("answered", "quote_right") if right else ("answered",):
                acc[f"{name}/{where}/shown"].append(float(phrase is not None))
                acc[f"{name}/{where}/exact"].append(exact)
                acc[f"{name}/{where}/f1"].append(max(f1(phrase, a) for a in e.answers) if phrase else 0.0)
    return {k: round(float(np.mean(v)), 4) for k, v in sorted(acc.items())} | {"answered": len(acc["top/answered/shown"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, help="a reader weights file (default: the shipped one)")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    reader = Reader(E5Encoder(), args.reader)
    report: dict[str, Any] = {"split": args.split, "reader": str(args.reader or "shipped")}
    if args.split == "dev":
        given: list[Any] = []

        def keep(groups: Any, scorer: Scorer) -> dict[str, Any]:
            given.append((groups, scorer))
            return thresholds.choose_reader_thresholds(groups, scorer)

        trainer.choose_reader_thresholds = keep  # type: ignore[assignment]  # the trainer's own inputs, kept
        weights, _ = train(WORKDIR, reader)
        groups, scorer = given[0]
        report |= {"chosen": weights["thresholds"], "ridge": ridge(thresholds.reader_groups(groups, scorer)),
                   "phrases": phrase_rules(*groups[0], parse_weights(weights))}  # decided as the weights written decide
    else:
        scorer = parse_weights(json.loads((ROOT / "assistant" / "weights" / "answerer.json").read_text(encoding="utf-8")))
        with (WORKDIR / "examples.pkl").open("rb") as f:
            examples = [e for e in pickle.load(f)["examples"] if e.group == args.split]
        shifted(examples, scorer)
        rows = sentence_rows(examples, scorer)
        report["phrases"] = phrase_rules(rows, readings(rows, reader, cached_lower(WORKDIR, reader.frozen), scorer), scorer)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
