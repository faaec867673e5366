"""A look, not a fit: the reader's sentence scores as they are, or each over its passage's own no-answer score?

Since 2026-12-04 the quoted sentence is the best of the sentence model's logit + 1 x the reader's score for sentences
in the question's language and + 0.25 x for the others. For a question whose article is absent the reader's
scores are negative, and 1 x pulls its own-language sentences further down than 0.25 x pulls the others: a
sentence in another language, which the reader's margin does not gate, is quoted more often, and articles left out
were abstained on less (README, The reader, "Then two weights"). Scores counted over their passage's ``<s>`` score
would compare alike across languages (across languages the reader's no-answer score is high). Tried on 2026-12-02
for same-language reading only, and reverted after test; so this look decides on development data alone.

For each way, on development questions of the full store and their machine translations (:mod:`training.translated`),
both weights chosen as the trainer does (:func:`training.thresholds.choose_reader_weights`), then the gate and the
same-language threshold (:func:`training.thresholds.gate_and_threshold` over :func:`training.thresholds.reader_groups`,
the full store only; the shipped cross-language threshold), and what they give: answer sentence quoted, and
answerable, absent-article and impossible questions abstained on.

What it found on 2026-12-04 (``--every 2``): the same weights either way, quotes equal, and articles left out
abstained on less over the no-answer score (0.688 -> 0.668): not changed (README, The reader).

    .venv/bin/python -m training.score_scale_look [--every 2] [--out eval/results/FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import decide  # noqa: E402
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training import answerer_data  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import choose_reader_weights, gate_and_threshold, reader_groups  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402
from training.translated import translated_examples  # noqa: E402


def over_null(read: list[list[Reading] | None]) -> list[list[Reading] | None]:
    """Each sentence's score minus its passage's no-answer score (the margin and phrases unchanged)."""
    return [None if got is None else [replace(r, sentence_scores=r.sentence_scores - r.span.null) for r in got] for got in read]


def outcome(rows: list[Any], read: list[list[Reading] | None], scorer: Any) -> dict[str, dict[str, float]]:
    """Per kind of question: how many, abstained on, and (answerable) quoted a sentence holding the answer."""
    out: dict[str, dict[str, float]] = {}
    for (e, retrieval, found, features, labels), got in zip(rows, read, strict=True):
        entry = out.setdefault(e.kind, {"n": 0, "abstained": 0, "contained": 0})
        entry["n"] += 1
        if not found:
            entry["abstained"] += 1
            continue
        d = decide(found, features, retrieval, scorer, None, got)
        entry["abstained"] += d.abstains
        entry["contained"] += e.kind == "answerable" and not d.abstains and bool(labels[d.best])
    return {k: {x: v if x == "n" else round(v / c["n"], 4) for x, v in c.items()} for k, c in sorted(out.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer()
    reader = Reader(E5Encoder(threads=2))
    dev = [e for e in answerer_data.build(args.workdir) if e.split == "dev" and e.store == "full"][:: args.every]
    across = [e for e in translated_examples(args.workdir, "dev", log=False) if e.store == "full" and e.kind == "answerable"][:: args.every]
    shifted(dev, scorer)
    shifted(across, scorer)
    rows, rows_across = sentence_rows(dev, scorer), sentence_rows(across, scorer)
    started = time.time()
    read, read_across = readings(rows, reader, {}, scorer), readings(rows_across, reader, {}, scorer)
    print(f"read {len(rows)} + {len(rows_across)} questions in {time.time() - started:.0f} s", flush=True)
    report: dict[str, Any] = {"command": " ".join(["python -m training.score_scale_look", *sys.argv[1:]]), "split": "dev",
                              "every": args.every, "date": time.strftime("%Y-%m-%d")}
    for way, (mine, theirs) in {"as_they_are": (read, read_across), "over_null": (over_null(read), over_null(read_across))}.items():
        weighing = choose_reader_weights((rows, mine), (rows_across, theirs), scorer)
        weighed = replace(scorer, reader_weight=weighing["reader_weight"], reader_weight_across=weighing["reader_weight_across"])
        gate, threshold = gate_and_threshold(reader_groups([(rows, mine)], weighed))
        chosen = replace(weighed, reader_margin={"same": gate}, abstain_below={**scorer.abstain_below, "same": threshold})
        report[way] = {"weights": [weighing["reader_weight"], weighing["reader_weight_across"]], "gate": round(gate, 3),
                       "threshold": round(threshold, 4), "same_language": outcome(rows, mine, chosen),
                       "translated": outcome(rows_across, theirs, chosen)}
        print(way, json.dumps(report[way]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
