"""Re-train everything the offline answer ships, from the public fitting data, in one command:

    .venv/bin/python -m training [--workdir DIR] [--epochs N] [--lr LR] [--precision auto|bf16|float32] [--test]

1. the scorer's rows (:mod:`training.answerer_data`: stores, retrieval candidates; cached in ``--workdir``);
2. the scorer without the reader, whose passage ranking picks the passages the reader learns from;
3. the reader's pairs and their lower-layer states (:mod:`training.reader_data`; cached shard by shard);
4. the reader (:mod:`training.train_reader`; checkpointed, resumed on a re-run; its weights averaged over the
   checkpoints of its last two epochs) -> ``assistant/weights/reader.npz``;
   then the across-language reader, trained one epoch further from it with half the questions asked in an Apertium
   translation (``--across``; pair states again, for the translated questions) -> ``assistant/weights/reader-across.npz``,
   stored as a delta of the first;
5. the scorer again, its abstention thresholds chosen with the reader on development data, across languages on
   the development questions machine-translated by Apertium (:mod:`training.translated`, about 2 minutes;
   :mod:`training.train_answerer`);
6. the answer weights written (``assistant/weights/answerer.json``): the ones fitted with the reader if its answers
   hold the answer more often on development questions (at the same 5% false abstention), else the plain ones
   (and the reader files are removed: nothing would read them).

Every step reuses what an interrupted run left, so running it again after a stop picks up where it was. Measured
from nothing on 2 cores with bfloat16 (2026-12-07, README *One command, end to end, measured*): rows 10 minutes, the
reader 85 (pair states after layer 6 16, 2,024 steps of 1.85 s 62), the across-language reader 36, the scorer with
the readers 25: 2 h 36 min, then the test split's report.
``--test`` also prints the test split (reporting only).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from assistant.answer.reader import ACROSS, FROZEN
from training.reader_model import PRECISIONS, bf16_wanted
from training.train_answerer import DEFAULT_OUT, ROOT, main_report, train
from training.train_reader import fit_across, fit_reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--frozen", type=int, default=FROZEN, help="encoder layers run as they ship; the reader trains the ones above")
    parser.add_argument("--translated", type=float, default=0.0, help="share of the reader's training questions asked in an Apertium translation")
    parser.add_argument("--reader-out", type=Path, default=ROOT / "assistant" / "weights" / "reader.npz")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--test", action="store_true", help="also report the test split (reporting only)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="both readers' forward pass (auto: bfloat16 where the CPU multiplies it natively, else float32)")
    args = parser.parse_args()
    bf16 = bf16_wanted(args.precision)
    began = lapped = time.time()
    from assistant.answer.reader import Reader
    from assistant.answer.scorer import parse_weights
    from assistant.index.encoder import E5Encoder

    def lap(step: str) -> None:  # each step's minutes in this run (a resumed run counts only what it redid)
        nonlocal lapped
        print(json.dumps({"step": step, "minutes": round((time.time() - lapped) / 60, 1)}), flush=True)
        lapped = time.time()

    plain, splits = train(args.workdir, None)
    lap("rows and the scorer without the reader")
    fit_reader(args.workdir, args.reader_out, args.epochs, args.lr, parse_weights(plain), frozen=args.frozen,
               translated=args.translated, bf16=bf16)
    lap("the reader: pair states and training")
    across = args.reader_out.with_name(ACROSS)
    fit_across(args.workdir, args.reader_out, across, args.frozen, bf16=bf16)
    lap("the across-language reader: pair states and training")
    reader = Reader(E5Encoder(), args.reader_out, across)
    read, _ = train(args.workdir, reader)
    lap("the scorer with the readers")
    contained = {name: w["header"]["development"]["all/answerable"]["contained"] for name, w in (("plain", plain), ("reader", read))}
    better = contained["reader"] > contained["plain"]
    print(json.dumps({"development contained": contained, "shipping": "reader" if better else "plain"}))
    if not better:  # a reader file the answer weights do not use would only weigh on the install
        args.reader_out.unlink()
        across.unlink()
    main_report(read if better else plain, splits, args.out, args.test, None, reader if better else None, args.workdir)
    print(json.dumps({"minutes": round((time.time() - began) / 60, 1)}))


if __name__ == "__main__":
    main()
