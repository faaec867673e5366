"""Development metrics of a weights file over the rows built in a work folder (nothing is fitted).

    .venv/bin/python training/score_weights.py WEIGHTS.json WORKDIR [--split dev|test|small-dev|small-test]

What it is for: weights fitted on stores built one way, scored on stores built another way (a store written
before a change of how chunk vectors are made, read with the weights fitted after it). ``WORKDIR`` is a
``python -m training.train_answerer --workdir`` folder; its rows are reused as they are.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import Reader  # noqa: E402
from assistant.answer.scorer import parse_weights  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.answerer_metrics import metrics  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--split", default="dev", choices=["dev", "test", "small-dev", "small-test"],
                        help="test: reporting only, once per change, never to choose by; small-: the questions asked in small stores")
    args = parser.parse_args()
    scorer = parse_weights(json.loads(args.weights.read_text(encoding="utf-8")))
    with (args.workdir / "examples.pkl").open("rb") as f:  # as built, even if the code that built them changed since
        examples = [e for e in pickle.load(f)["examples"] if e.group == args.split]
    shifted(examples, scorer)
    rows = sentence_rows(examples, scorer)
    read = None
    if scorer.reader_margin is not None:  # weights fitted with the reader are scored with it (the shipped reader file)
        reader = Reader(E5Encoder())
        read = readings(rows, reader, cached_lower(args.workdir, reader.frozen), scorer)
    print(json.dumps({"weights": str(args.weights), "rows": str(args.workdir), args.split: metrics(rows, scorer, read)}, indent=1))


if __name__ == "__main__":
    main()
