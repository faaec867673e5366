"""How the reader's pass is shared between the encoder's threads: each layer shared by rows and heads, or each window
given whole to one thread; side by side in one run, interleaved question by question.

    .venv/bin/python eval/bench/reading.py [--docs 200] [--questions 60] [--repeat 3]

SciFact abstracts (one .txt each, as ``run.py`` ingests them) go into a temporary store; for each claim, the three
passages ``ask()`` would read are the pairs read. Timed: the encoder's pass over those question-passage windows
(the bulk of reading; the readings made from its states are the same either way), ``hidden(windows)`` (one batch, its
layers shared: what ``ask()`` runs since 2026-12-02, fourth session) against ``hidden(windows, batch_tokens=64)``
(every window a batch of its own, the threads taking whole windows: what ran before). Reported: p50 and mean per
way, their ratio, and the largest difference between the two ways' states. Writes eval/results/reading-DATE.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from run import machine
from workers import ROOT, write_corpus

from assistant import Assistant
from assistant.answer.extractive import passages_to_read

WAYS = {"layers shared by rows and heads": 2048, "whole windows per thread (before)": 64}
"""Each way's ``batch_tokens``: a batch that holds every window is shared layer by layer; 64 gives each window its own."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the questions")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"reading-{datetime.date.today()}.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        claims = list(write_corpus(Path(tmp) / "docs", args.docs))[: args.questions]
        with Assistant(store=Path(tmp) / "store") as bot:
            bot.ingest([Path(tmp) / "docs"])
            reader = bot.reader
            assert reader is not None, "the reader is off: set reader = true"
            encoder, layers = reader.encoder, reader.encoder.layers[: reader.frozen] + reader.layers
            pairs = [[w.ids for _, w in reader.windows(c, passages_to_read(bot._retrieval(c, None)))] for c in claims]
            times: dict[str, list[float]] = {way: [] for way in WAYS}
            differences = []
            for _ in range(args.repeat):
                for windows in pairs:
                    states = {}
                    for way, batch_tokens in WAYS.items():
                        started = time.perf_counter()
                        states[way] = encoder.hidden(windows, layers, batch_tokens=batch_tokens)
                        times[way].append((time.perf_counter() - started) * 1000)
                    first, second = states.values()
                    differences.append(max(float(np.abs(a - b).max()) for a, b in zip(first, second, strict=True)))
    shared, whole = (statistics.median(times[w]) for w in WAYS)
    result = {
        "command": " ".join(["python", "eval/bench/reading.py", *sys.argv[1:]]),
        "date": str(datetime.date.today()),
        "machine": machine(),
        "questions": len(pairs),
        "tokens_per_question_p50": statistics.median(sum(len(w) + 2 for w in p) for p in pairs),
        "ms": {w: {"p50": round(statistics.median(t), 1), "mean": round(statistics.mean(t), 1)} for w, t in times.items()},
        "shared_over_whole_p50": round(shared / whole, 3),
        "largest_state_difference": max(differences),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
