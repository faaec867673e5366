"""A look, not a fit: both reader weights on one grid, each sentence weighed as run time weighs it.

The trainer chooses the weight of the reader's sentence score in the question's language on the development
questions with that one weight for every sentence, then the weight across languages on their machine translations
(:func:`training.thresholds.choose_reader_weights`); at run time :func:`assistant.answer.extractive.decide` gives each
sentence the weight of its own language. On 2026-12-06's rows 0.5 and 1.0 tied on the first share. This look scores
every pair (same language x across) as ``decide`` weighs them, on the full store's answerable development questions
and their machine translations (:mod:`training.translated`): the share whose chosen sentence holds the answer, and,
for a few pairs, the answer quoted (not abstained on, the sentence holding it) with the shipped thresholds.

``--mass``: each sentence's reader score is the log-sum-exp of the span scores starting in it (the reader's mass on
the sentence) instead of the best one (:func:`assistant.answer.reader._sentence_scores`).

    .venv/bin/python -m training.reader_weight_look [--mass] [--out eval/results/FILE.json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer import reader as reader_module  # noqa: E402
from assistant.answer.extractive import decide, reader_choice, sentence_reads  # noqa: E402
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import Scorer, load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training import answerer_data  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import READER_WEIGHTS  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402
from training.translated import translated_examples  # noqa: E402

PAIRS_QUOTED = ((0.5, 0.5), (1.0, 0.5), (1.0, 0.25), (1.0, 1.0))


def mass_scores(logits: np.ndarray, window: Any, chunk: Any, into: np.ndarray) -> None:
    """Like :func:`assistant.answer.reader._sentence_scores`, with the log-sum-exp of the span scores starting in
    each sentence (one window's; windows of one passage are combined by their maximum, as there)."""
    s, e = reader_module._passage_logits(logits[:, 0], logits[:, 1], window)
    scores = s + reader_module.best_ends(e)
    absolute = chunk.start + window.starts
    for i, sentence in enumerate(chunk.sentences):
        inside = (window.starts >= 0) & (absolute >= sentence.start) & (absolute < sentence.end) & np.isfinite(scores)
        if inside.any():
            top = float(scores[inside].max())
            into[i] = max(into[i], top + float(np.log(np.exp(scores[inside] - top).sum())))


def share(rows: list[Any], read: list[list[Reading] | None], scorer: Scorer, weights: tuple[float | None, float]) -> float:
    """Of the answerable rows read, the share whose sentence chosen as ``decide`` weighs it holds the answer."""
    same_weight, across_weight = weights
    hits = []
    for (_, retrieval, found, features, labels), got in zip(rows, read, strict=True):
        if not found or got is None:
            continue
        logits = scorer.sentence_logits(features, retrieval.vector)
        same = np.array([s.same_language for s in found])
        weight = None if same_weight is None else np.where(same, same_weight, across_weight)
        hits.append(float(labels[reader_choice(logits, sentence_reads(found, got), weight, int(np.argmax(logits)))]))
    return round(float(np.mean(hits)), 4)


def quoted(rows: list[Any], read: list[list[Reading] | None], scorer: Scorer) -> dict[str, float]:
    """Answer quoted (the sentence holding it, not abstained on) and abstained on, over the answerable rows."""
    contained = abstained = 0
    for (_, retrieval, found, features, labels), got in zip(rows, read, strict=True):
        d = decide(found, features, retrieval, scorer, None, got) if found else None
        abstained += d is None or d.abstains
        contained += d is not None and not d.abstains and bool(labels[d.best])
    return {"quoted": round(contained / len(rows), 4), "abstained": round(abstained / len(rows), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--mass", action="store_true", help="sentence scores as the reader's mass on the sentence")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer()
    if args.mass:
        reader_module._sentence_scores = mass_scores  # type: ignore[assignment]
    cache = args.workdir / f"reader-weight-look{'-mass' if args.mass else ''}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            rows, read, rows_across, read_across = pickle.load(f)
    else:
        reader = Reader(E5Encoder(threads=2))
        dev = [e for e in answerer_data.build(args.workdir) if e.group == "dev" and e.kind == "answerable"]
        across = [e for e in translated_examples(args.workdir, "dev", log=False) if e.store == "full" and e.kind == "answerable"]
        shifted(dev, scorer)
        shifted(across, scorer)
        rows, rows_across = sentence_rows(dev, scorer), sentence_rows(across, scorer)
        started = time.time()
        read = readings(rows, reader, cached_lower(args.workdir, reader.frozen), scorer)
        read_across = readings(rows_across, reader, {}, scorer)
        print(f"read {len(rows)} + {len(rows_across)} questions in {time.time() - started:.0f} s", flush=True)
        with cache.open("wb") as f:
            pickle.dump((rows, read, rows_across, read_across), f, protocol=pickle.HIGHEST_PROTOCOL)
    grid = {}
    for same_weight in READER_WEIGHTS:
        for across_weight in [w for w in READER_WEIGHTS if w is not None][: 1 if same_weight is None else None]:
            pair = (same_weight, across_weight)
            grid[f"{same_weight}/{across_weight}"] = {"development": share(rows, read, scorer, pair),
                                                      "translated": share(rows_across, read_across, scorer, pair)}
    report: dict[str, Any] = {"command": " ".join(["python -m training.reader_weight_look", *sys.argv[1:]]), "date": time.strftime("%Y-%m-%d"),
                              "split": "dev", "answerable": [len(rows), len(rows_across)], "answer_sentence_share": grid,
                              "best_by_mean": max(grid, key=lambda k: (grid[k]["development"] + grid[k]["translated"]) / 2)}
    report["quoted_with_shipped_thresholds"] = {
        f"{a}/{b}": {"development": quoted(rows, read, replace(scorer, reader_weight=a, reader_weight_across=b)),
                     "translated": quoted(rows_across, read_across, replace(scorer, reader_weight=a, reader_weight_across=b))}
        for a, b in PAIRS_QUOTED}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
