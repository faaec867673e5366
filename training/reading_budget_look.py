"""Would reading less of each passage cost the sentence choice? A look on development questions (nothing is fitted).

    .venv/bin/python -m training.reading_budget_look [--budgets 96 128 160] [--first-whole] [--every 3] [--workdir DIR] [--out FILE]

Reading is most of an extractive ``ask()`` (three question-passage windows through twelve layers; README, The
reader, Cost), and its cost grows with the tokens read. Here each passage read at run time
(:func:`assistant.answer.extractive.passages_to_read`) is read whole, as today, and cut to ``BUDGET`` passage
tokens: one contiguous stretch around the sentence the sentence model scores best in that passage (the reader
learnt from windows cut anywhere, so a stretch reads like one); sentences outside it count as not read. For each
way, the share of answerable questions whose chosen sentence holds the answer per reader weight
(:func:`training.thresholds.choose_reader_weight`, the trainer's rule), and the tokens read per question. Only the
sentence choice is looked at, not abstention (the no-answer margin over fewer tokens would need its gate chosen
again). What it found on 2026-12-04: the first passage whole, the others cut to 128 tokens, chose as well
(:data:`assistant.answer.reader.READ_AROUND`, ``--first-whole``; what ``ask()`` runs since 2026-12-04: README, The reader,
"Reading less of the other passages, and the reader's weight").
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import passages_to_read, reading_focus  # noqa: E402
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.thresholds import choose_reader_weight  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402


def read(reader: Reader, question: str, chunks: list[Any], focus: list[tuple[int, int] | None], budget: int | None,
         first_whole: bool = False) -> tuple[list[Reading], int]:
    """The readings of ``chunks`` (each cut to ``budget`` tokens around its ``focus``; ``None``: whole; the first
    passage whole with ``first_whole``), and the tokens read."""
    encoder = reader.encoder
    at = None if budget is None else [None if first_whole and n == 0 else f or (0, 0) for n, f in enumerate(focus)]
    windows = reader.windows(question, chunks, at, budget or 0)
    states = encoder.hidden([w.ids for _, w in windows], encoder.layers[: reader.frozen] + reader.layers)
    return reader.readings(chunks, windows, states), sum(len(w.ids) + 2 for _, w in windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--budgets", type=int, nargs="+", default=[96, 128, 160])
    parser.add_argument("--every", type=int, default=1, help="every Nth answerable development question")
    parser.add_argument("--first-whole", action="store_true", help="the budget only for the second and third passages")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer()
    with (args.workdir / "examples.pkl").open("rb") as f:
        examples = [e for e in pickle.load(f)["examples"] if e.group == "dev" and e.kind == "answerable"][:: args.every]
    shifted(examples, scorer)
    rows = [r for r in sentence_rows(examples, scorer) if r[2] and passages_to_read(r[1])]
    reader = Reader(E5Encoder())
    ways: list[int | None] = [None, *args.budgets]
    readings: dict[str, list[list[Reading] | None]] = {str(b): [] for b in ways}
    tokens: dict[str, list[int]] = {str(b): [] for b in ways}
    seconds: dict[str, float] = {str(b): 0.0 for b in ways}
    started = time.monotonic()
    for i, (e, retrieval, found, features, _) in enumerate(rows):
        chunks = passages_to_read(retrieval)
        # every passage's best sentence, the first's too (reading_focus leaves only its first passage whole)
        focus = reading_focus(found, scorer.sentence_logits(features, retrieval.vector), [chunks[0], *chunks])[1:]
        for budget in ways:  # interleaved, so that a noisy moment hits every way alike
            t = time.perf_counter()
            got, n = read(reader, e.question.text, chunks, focus, budget, args.first_whole)
            seconds[str(budget)] += time.perf_counter() - t
            readings[str(budget)].append(got)
            tokens[str(budget)].append(n)
        if i % 100 == 0:
            print(f"{i}/{len(rows)} questions, {time.monotonic() - started:.0f} s", flush=True)
    report: dict[str, Any] = {"split": "dev", "every": args.every, "first_whole": args.first_whole, "questions": len(rows)}
    for budget in ways:
        key = str(budget)
        report["whole" if budget is None else f"budget_{budget}"] = {
            **choose_reader_weight(rows, scorer, readings[key]),
            "tokens_per_question_p50": float(np.median(tokens[key])), "reading_s_per_question": round(seconds[key] / len(rows), 4)}
        print(key, json.dumps(report["whole" if budget is None else f"budget_{budget}"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
