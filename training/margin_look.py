"""A look, not a fit: which reader no-answer margin tells answerable questions from the others?

Today's margin (``decide``) is the best span score over the passages read minus the highest no-answer (``<s>``)
score over them: one passage clearly off the subject, read beside the one holding the answer, lowers it. The other
way asked about: the best of each passage's own margin (span minus its own ``<s>``), "does some passage hold an
answer?". For each, on development questions (full store and small stores), the rule the trainer uses
(:func:`training.thresholds.gate_and_threshold`: half the 5% false-abstention budget to the gate, the probability
threshold re-chosen with it) and what it abstains on: answerable, absent-article and impossible questions.

``--across`` also asks which quoted sentences the gate should apply to. Today it gates only a sentence in the question's
language (the margin comes from the passages read in that language); the other rule gates any quoted sentence
whenever passages in the question's language were read (a French question whose article is absent can have an
English sentence quoted, which today's rule lets through). Both with the shipped gate and threshold, on the same
development questions and on the machine-translated ones (:mod:`training.translated`, questions over passages in
another language), whose answers the other rule may abstain on.

    .venv/bin/python -m training.margin_look [--every 3] [--across] [--out eval/results/FILE.json]

``--every N`` reads every N-th development example only (the reading is the slow part: ~0.4 s a question here).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import decide  # noqa: E402
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training import answerer_data  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import gate_and_threshold  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402

READER = ROOT / "assistant" / "weights" / "reader.npz"
SCORER = ROOT / "assistant" / "weights" / "answerer.json"


def per_passage(readings: list[Reading], own: set[str]) -> float:
    """The best of each read passage's own margin, over the passages in the question's language (as ``decide``)."""
    mine = [r for r in readings if r.chunk_id in own] or readings
    return max(r.span.score - r.span.null for r in mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--across", action="store_true", help="also compare the gate rules, on the translated questions too")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer(SCORER)
    examples = [e for e in answerer_data.build(args.workdir) if e.split == "dev"][:: args.every]
    shifted(examples, scorer)
    reader = Reader(E5Encoder(threads=2), READER)
    margins: dict[str, dict[str, list[tuple[float, float, str]]]] = {}
    rules: dict[str, Any] = {}
    for store in ("full", "small"):
        rows = sentence_rows([e for e in examples if e.store == store], scorer)
        started = time.time()
        read = readings(rows, reader, {}, scorer)
        print(f"{store}: read {len(rows)} questions in {time.time() - started:.0f} s", flush=True)
        if args.across:
            rules[f"same_language/{store}"] = gate_rules(rows, read, scorer)
        kept = margins.setdefault(store, {"today": [], "per_passage": []})
        for (e, retrieval, found, features, _), got in zip(rows, read, strict=True):
            if not found or got is None:
                continue
            d = decide(found, features, retrieval, scorer, None, got)
            if not found[d.best].same_language:
                continue
            own = {c.chunk.id for c in retrieval.ranked if c.same_language}
            kept["today"].append((d.margin, d.answerable, e.kind))
            kept["per_passage"].append((per_passage(got, own), d.answerable, e.kind))
    report: dict[str, Any] = {"command": " ".join(["python -m training.margin_look", *sys.argv[1:]]), "split": "dev",
                              "every": args.every, "date": time.strftime("%Y-%m-%d")}
    for way in ("today", "per_passage"):
        groups = []
        for store in ("full", "small"):
            items = margins[store][way]
            groups.append((np.array([m for m, _, _ in items]), np.array([p for _, p, _ in items]), np.array([k == "answerable" for _, _, k in items])))
        gate, threshold = gate_and_threshold(groups)
        entry: dict[str, Any] = {"gate": round(gate, 3), "threshold": round(threshold, 4)}
        for store in ("full", "small"):
            items = margins[store][way]
            answerable = np.array([k == "answerable" for _, _, k in items])
            values = np.array([m for m, _, _ in items])
            auc = _auc(values[answerable], values[~answerable])
            entry[store] = {"margin_auc_answerable_vs_other": round(auc, 4)}
            for kind in ("answerable", "absent", "impossible"):
                mine = [(m, p) for m, p, k in items if k == kind]
                if mine:
                    entry[store][kind] = {"n": len(mine), "abstained": round(float(np.mean([m < gate or p < threshold for m, p in mine])), 4)}
        report[way] = entry
    if args.across:
        from training.translated import translated_examples

        translated = translated_examples(args.workdir, "dev", log=False)[:: args.every]
        shifted(translated, scorer)
        for store in ("full", "small"):
            rows = sentence_rows([e for e in translated if e.store == store], scorer)
            rules[f"translated/{store}"] = gate_rules(rows, readings(rows, reader, {}, scorer), scorer)
        report["gate_rules"] = rules
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def gate_rules(rows: list[Any], read: list[list[Reading] | None], scorer: Any) -> dict[str, Any]:
    """Per kind of question, abstained on with today's rule and with the gate applied to any quoted sentence whenever
    passages in the question's language were read (shipped gate and thresholds)."""
    gate = (scorer.reader_margin or {}).get("same", -np.inf)
    out: dict[str, dict[str, float]] = {}
    for (e, retrieval, found, features, labels), got in zip(rows, read, strict=True):
        if not found or got is None:
            continue
        d = decide(found, features, retrieval, scorer, None, got)
        own = {c.chunk.id for c in retrieval.ranked if c.same_language}
        read_own = any(r.chunk_id in own for r in got)
        entry = out.setdefault(e.kind, {"n": 0, "today": 0, "any_sentence": 0, "contained_today": 0, "contained_any_sentence": 0})
        other = d.best < 0 or d.answerable < d.threshold or (read_own and d.margin < gate)
        held = e.kind == "answerable" and bool(labels[d.best])
        entry["n"] += 1
        entry["today"] += d.abstains
        entry["any_sentence"] += other
        entry["contained_today"] += held and not d.abstains
        entry["contained_any_sentence"] += held and not other
    return {kind: {k: v if k == "n" else round(v / c["n"], 4) for k, v in c.items()} for kind, c in sorted(out.items())}


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(an answerable question's margin is above another's), ties counted half."""
    if not len(positive) or not len(negative):
        return float("nan")
    above = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(above + 0.5 * ties)


if __name__ == "__main__":
    main()
