"""A look, not a fit: how far false abstention moves from one set of articles to another.

The thresholds keep each fitting set's answerable development questions abstained on at most 5% (full store and
small stores apart, :func:`training.train_answerer.train`); held out, French questions in small stores were
abstained on 0.084 of the time (test, 2026-12-06) against 0.049 on development. Is that a shift in kind, or what
drawing other articles does? With the shipped weights and reader, on the development split only, this resamples
each fitting set's articles with replacement (their questions with them) and reports the spread of the false
abstention rate, the share of resamples over 5%, and the articles that spend the most of it.

    .venv/bin/python -m training.abstain_spread_look [--draws 2000] [--out eval/results/FILE.json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import decide  # noqa: E402
from assistant.answer.reader import Reader  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training import answerer_data  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402


def article(source: str) -> str:
    """The article of a gold source (``.../dataset/slug/pNNN.txt``).

    >>> article("/work/.cache/docs/piaf/1a2b3c4d/p007.txt")
    'piaf/1a2b3c4d'
    """
    return "/".join(Path(source).parts[-3:-1])


def spread(per_article: dict[str, list[bool]], draws: int, seed: int = 0) -> dict[str, Any]:
    """Abstention rate over every question, and over ``draws`` resamples of the articles (with replacement).

    >>> out = spread({"a": [True, False], "b": [False, False]}, 200)
    >>> out["rate"], out["articles"], 0.0 <= out["low"] <= out["rate"] <= out["high"] <= 0.5
    (0.25, 2, True)
    """
    names = sorted(per_article)
    abstained = np.array([sum(per_article[n]) for n in names], dtype=float)
    asked = np.array([len(per_article[n]) for n in names], dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(names), size=(draws, len(names)))
    rates = abstained[picks].sum(1) / asked[picks].sum(1)
    return {"rate": round(float(abstained.sum() / asked.sum()), 4), "articles": len(names), "questions": int(asked.sum()),
            "low": round(float(np.quantile(rates, 0.025)), 4), "high": round(float(np.quantile(rates, 0.975)), 4),
            "over_5_percent": round(float(np.mean(rates > 0.05)), 4),
            "most": [(n, int(abstained[i]), int(asked[i])) for i in np.argsort(-abstained, kind="stable")[:5] for n in [names[i]]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = load_scorer()
    cache = args.workdir / "abstain-spread-look.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            rows, read = pickle.load(f)
    else:
        reader = Reader(E5Encoder(threads=2))
        asked = [e for e in answerer_data.build(args.workdir) if e.group in ("dev", "small-dev") and e.kind == "answerable"]
        shifted(asked, scorer)
        rows = sentence_rows(asked, scorer)
        started = time.time()
        read = readings(rows, reader, cached_lower(args.workdir, reader.frozen), scorer)
        print(f"read {len(rows)} questions in {time.time() - started:.0f} s", flush=True)
        with cache.open("wb") as f:
            pickle.dump((rows, read), f, protocol=pickle.HIGHEST_PROTOCOL)
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for (e, retrieval, found, features, _), got in zip(rows, read, strict=True):
        abstains = not found or bool(decide(found, features, retrieval, scorer, None, got).abstains)
        groups[f"{e.store}/{e.dataset}"][article(e.gold_source)].append(abstains)
    report: dict[str, Any] = {"command": " ".join(["python -m training.abstain_spread_look", *sys.argv[1:]]),
                              "date": time.strftime("%Y-%m-%d"), "split": "dev", "draws": args.draws,
                              "groups": {name: spread(per, args.draws) for name, per in sorted(groups.items())}}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
