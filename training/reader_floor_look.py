"""A look, not a fit: should the reader's sentence scores count across languages only where it sees an answer?

Across languages the reader (which never learnt from a question and passage in two languages) often scores every
sentence far below its no-answer score, and its preference among them still moves the quote: the seed question
asked in Spanish quotes the sentence that starts with "Les États-Unis" instead of the one with the deadline (a
symptom, not a figure: the seed was written here). Here a sentence in another language than the question's scores
its best span over its passage's no-answer score, raised to a *floor* (``None``: the raw score, as shipped), so that
below the floor the reader's preferences stop counting; each floor is weighed with the sentence model at several
weights, by the share of answerable questions whose chosen sentence holds the answer, on the development questions
machine-translated (:mod:`training.translated`, full store: the across-language case the weight is chosen on;
and those of them none of whose candidate sentences is in the question's language, where raw and floored scores
never meet), with the shipped scorer and reader. Tried 2026-12-04 and not shipped: every floor chose worse than none
(README, The reader, "Tried, not shipped: a floor under the reader's scores across languages").

    .venv/bin/python -m training.reader_floor_look [--out eval/results/FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import reader_choice  # noqa: E402
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.cross_language_look import READER, read_across  # noqa: E402
from training.thresholds import choose_reader_weight  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402
from training.translated import translated_examples  # noqa: E402

FLOORS: tuple[float | None, ...] = (None, 0.0, -2.0, -4.0, -6.0, -8.0, -10.0)
WEIGHTS = (0.1, 0.25, 0.5, 1.0, 2.0)


def floored(found: Sequence[Any], read: Sequence[Reading], floor: float | None) -> np.ndarray:
    """Each sentence's reader score; in another language than the question's, over its passage's no-answer score and
    at least ``floor`` (``None``: raw, as shipped). ``-inf``: not read (and table rows, as at run time)."""
    by_chunk = {r.chunk_id: r for r in read}
    out = np.full(len(found), -np.inf)
    for i, s in enumerate(found):
        r = by_chunk.get(s.chunk_id)
        if r is None or s.header is not None or not np.isfinite(r.sentence_scores[s.position]):
            continue
        score = float(r.sentence_scores[s.position])
        out[i] = score if floor is None or s.same_language else max(score - r.span.null, floor)
    return out


def shares(rows: Sequence[Any], read: Sequence[list[Reading] | None], scorer: Any, own: float) -> dict[str, Any]:
    """Per floor and weight across languages (``own``: the shipped same-language weight), the answer-sentence share."""
    hits: dict[str, dict[str, list[float]]] = {str(f): {str(w): [] for w in WEIGHTS} for f in FLOORS}
    for (e, retrieval, found, features, labels), r in zip(rows, read, strict=True):
        if not found or not r or e.kind != "answerable":
            continue
        logits = scorer.sentence_logits(features, retrieval.vector)
        same = np.array([s.same_language for s in found])
        for f in FLOORS:
            scores = floored(found, r, f)
            for w in WEIGHTS:
                hits[str(f)][str(w)].append(float(labels[reader_choice(logits, scores, np.where(same, own, w), int(np.argmax(logits)))]))
    out: dict[str, Any] = {f: {w: round(float(np.mean(v)), 4) for w, v in row.items()} for f, row in hits.items()}
    alone = choose_reader_weight(rows, scorer, read)["answer_sentence_share"]["0.0"]  # weight 0: the sentence model's choice
    return out | {"questions": len(hits["None"][str(WEIGHTS[0])]), "sentence_model_alone": alone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer()
    own = float(scorer.reader_weight) if scorer.reader_weight is not None else 1.0
    translated = [e for e in translated_examples(args.workdir, "dev") if e.store == "full"]
    shifted(translated, scorer)
    rows = sentence_rows(translated, scorer)
    across = read_across(rows, Reader(E5Encoder(), READER), scorer, args.workdir, "dev")
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "split": "dev", "questions_from": "training.translated (full store)",
              "reader": str(READER.relative_to(ROOT)), "shipped": {"reader_weight": scorer.reader_weight, "reader_weight_across": scorer.reader_weight_across},
              "answer_sentence_share_by_floor_and_weight_across": shares(rows, across, scorer, own)}
    alone = [n for n, (_, _, found, *_) in enumerate(rows) if found and not any(s.same_language for s in found)]
    report["questions_with_no_sentence_in_their_language"] = shares([rows[n] for n in alone], [across[n] for n in alone], scorer, own)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
