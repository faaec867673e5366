"""How much reading costs when only the first passage is read whole: side by side in one run, interleaved question by
question, against every passage read whole.

    .venv/bin/python eval/bench/reading.py [--docs 200] [--questions 60] [--repeat 3]

SciFact abstracts (one .txt each, as ``run.py`` ingests them) go into a temporary store; for each claim, the three
passages ``ask()`` would read are the pairs read. Timed: the encoder's pass over those question-passage windows
(the bulk of reading), the first passage whole and the others :data:`assistant.answer.reader.READ_AROUND` tokens
around the sentence the sentence model puts first in each (``extractive.reading_focus``; what ``ask()`` runs since
2026-12-04) against every passage whole (what it ran before). Reported: p50 and mean per way, their ratio,
and the tokens read per question. Writes eval/results/reading-DATE.json. (Until 2026-12-04 it compared the threads
sharing each layer with whole windows per thread: ``eval/results/reading-2026-12-02.json``.)
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
from assistant.answer.extractive import candidate_sentences, passages_to_read, reading_focus

WAYS = ("first passage whole, the others around their best sentence", "every passage whole (ask() until 2026-12-04)")


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
            pairs: dict[str, list[list[np.ndarray]]] = {way: [] for way in WAYS}
            for claim in claims:
                retrieval = bot._retrieval(claim, None)
                passages = passages_to_read(retrieval)
                found, features = candidate_sentences(retrieval, bot.scorer, bot.embedder)
                focus = reading_focus(found, bot.scorer.sentence_logits(features, retrieval.vector), passages)
                for way, at in zip(WAYS, (focus, None), strict=True):
                    pairs[way].append([w.ids for _, w in reader.windows(claim, passages, at)])
            times: dict[str, list[float]] = {way: [] for way in WAYS}
            for _ in range(args.repeat):
                for n in range(len(claims)):
                    for way in WAYS:
                        started = time.perf_counter()
                        encoder.hidden(pairs[way][n], layers)
                        times[way].append((time.perf_counter() - started) * 1000)
    around, whole = (statistics.median(times[w]) for w in WAYS)
    result = {
        "command": " ".join(["python", "eval/bench/reading.py", *sys.argv[1:]]),
        "date": str(datetime.date.today()),
        "machine": machine(),
        "questions": len(claims),
        "tokens_per_question_p50": {w: statistics.median(sum(len(x) + 2 for x in p) for p in pairs[w]) for w in WAYS},
        "ms": {w: {"p50": round(statistics.median(t), 1), "mean": round(statistics.mean(t), 1)} for w, t in times.items()},
        "around_over_whole_p50": round(around / whole, 3),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
