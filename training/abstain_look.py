"""A look, not a fit: two ways the readers' no-answer margins could abstain more, against today's rule.

Today (:func:`assistant.answer.extractive.decide`) a question is abstained on when the calibrated model's probability
falls below its threshold, or, when the quoted sentence is in the question's language and passages in that language
were read, when the first reader's no-answer margin falls below its gate (half the 5% false-abstention budget each,
:func:`training.thresholds.gate_and_threshold`; so until the one score of item 3 shipped on 2026-12-05, which
``eval/results/abstain-look-2026-12-05-dev.json`` predates: re-run with later weights, "today" is theirs). With the
shipped scorer and both shipped readers:

1. ``across_gate`` (machine-translated development questions, :mod:`training.translated`; full and small stores):
   a gate on the second reader's margin for a quoted sentence in another language than the question's, at the 1%,
   2.5% and 5% quantiles of answerable questions' margins, against spending the same extra false abstentions on a
   higher probability threshold instead. Margins: ``all``, over every passage read in another language; ``own``, the
   quoted sentence's passage's own.
2. ``either_rule``: the first reader's gate whenever the calibrated model judged in the question's language (its best
   sentence in that language), even when the reader's choice quoted one in another language.
3. ``combined`` (same-language development questions, full store and small stores): one score instead of two
   thresholds where the gate applies, ``logit(P) + w x margin``, its threshold the highest keeping every group's
   answerable questions abstained on at most 5% (the other questions decided as today), per weight ``w``
   (:func:`training.thresholds.choose_read_abstain`, which the trainer has used since; groups: full store, small).

    .venv/bin/python -m training.abstain_look [--workdir DIR] [--out eval/results/FILE.json]

The readings are the slow part (~16 minutes for the 4,899 development rows from the cached lower-layer states, ~37
for the 9,798 translated ones, which have none); they are cached in ``--workdir`` per weights files and questions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import decide  # noqa: E402
from assistant.answer.reader import ACROSS, Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.answerer_data import build  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import choose_read_abstain_from  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402
from training.translated import translated_examples  # noqa: E402

WEIGHTS = ROOT / "assistant" / "weights"
KINDS = ("answerable", "absent", "impossible")


def cached_readings(rows: list[Any], read: Callable[[], list[list[Reading] | None]], workdir: Path, name: str) -> list[list[Reading] | None]:
    """``read()``, cached in ``workdir`` under the shipped weights files' and the rows' questions' digest."""
    key = hashlib.sha256()
    for path in (WEIGHTS / "reader.npz", WEIGHTS / ACROSS, WEIGHTS / "answerer.json"):
        key.update(path.read_bytes())
    key.update("\n".join(f"{e.question_id}:{e.kind}:{e.store}:{e.group}" for e, *_ in rows).encode())
    cached = workdir / f"abstain-look-{name}-{key.hexdigest()[:16]}.pkl"
    if cached.exists():
        with cached.open("rb") as f:
            return list(pickle.load(f))
    started = time.time()
    out = read()
    print(f"{name}: read {len(rows)} questions in {time.time() - started:.0f} s", flush=True)
    with cached.open("wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    return out


def records(rows: list[Any], read: list[list[Reading] | None], scorer: Any) -> list[dict[str, Any]]:
    """Per question with a sentence to quote: what ``decide`` made of it and the margins the rules would use."""
    same_t, gate = scorer.abstain_below["same"], scorer.reader_margin["same"]
    out = []
    for (e, retrieval, found, features, _), got in zip(rows, read, strict=True):
        if not found:
            continue
        d = decide(found, features, retrieval, scorer, None, got)
        own = {c.chunk.id for c in retrieval.ranked if c.same_language}
        theirs = [r for r in got or [] if r.chunk_id not in own]
        holder = [r for r in got or [] if r.chunk_id == found[d.best].chunk_id]
        judged_same = d.threshold == same_t
        out.append({
            "group": e.group, "store": e.store, "kind": e.kind, "abstained": bool(d.abstains), "p": d.answerable, "threshold": d.threshold,
            "margin": d.margin, "gated": bool(np.isfinite(d.margin_threshold)) and judged_same,
            "across": bool(got) and not found[d.best].same_language,
            "either": any(r.chunk_id in own for r in got or []) and judged_same and d.margin < gate,
            "all": max(r.span.score for r in theirs) - max(r.span.null for r in theirs) if theirs else np.inf,
            "own": holder[0].span.score - holder[0].span.null if holder else np.inf,
        })
    return out


def share(items: list[dict[str, Any]], kind: str, abstains: Callable[[dict[str, Any]], bool]) -> float:
    return round(float(np.mean([abstains(x) for x in items if x["kind"] == kind])), 4)


def across_gate(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Item 1 of the module's list, for one group of translated questions."""
    answerable = [x for x in group if x["kind"] == "answerable"]
    out: dict[str, Any] = {"n": {k: sum(x["kind"] == k for x in group) for k in KINDS}, "today": {k: share(group, k, lambda x: x["abstained"]) for k in KINDS},
                           "either_rule": {k: share(group, k, lambda x: x["abstained"] or x["either"]) for k in KINDS}}
    lift = np.sort([x["p"] - x["threshold"] for x in answerable if not x["abstained"]])
    for margin in ("all", "own"):
        kept = np.array([x[margin] for x in answerable if x["across"] and not x["abstained"]])
        for q in (0.01, 0.025, 0.05):
            gate = float(np.quantile(kept, q, method="lower"))
            extra = int((kept < gate).sum())
            up = float(lift[extra])
            def gated(x: dict[str, Any], g: float = gate, m: str = margin) -> bool:
                return bool(x["abstained"] or (x["across"] and x[m] < g))

            def raised(x: dict[str, Any], u: float = up) -> bool:
                return bool(x["abstained"] or x["p"] - x["threshold"] < u)

            out[f"{margin}@{q}"] = {"gate": round(gate, 2), "gated": {k: share(group, k, gated) for k in KINDS},
                                    "same_extra_on_threshold": {k: share(group, k, raised) for k in KINDS}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the report to this JSON file")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer", help="the trainer's cache (rows, states)")
    args = parser.parse_args()
    scorer, reader = load_scorer(), Reader(E5Encoder(), WEIGHTS / "reader.npz", WEIGHTS / ACROSS)
    dev = [e for e in build(args.workdir) if e.group in ("dev", "small-dev")]
    translated = translated_examples(args.workdir, "dev", log=False)
    shifted(dev, scorer)
    shifted(translated, scorer)
    dev_rows, translated_rows = sentence_rows(dev, scorer), sentence_rows(translated, scorer)
    lower = cached_lower(args.workdir, reader.frozen)
    dev_read = cached_readings(dev_rows, lambda: readings(dev_rows, reader, lower, scorer), args.workdir, "dev")
    translated_read = cached_readings(translated_rows, lambda: readings(translated_rows, reader, {}, scorer), args.workdir, "translated-dev")
    same = records(dev_rows, dev_read, scorer)
    across = records(translated_rows, translated_read, scorer)
    groups = [[x for x in same if x["group"] == g] for g in ("dev", "small-dev")]
    report: dict[str, Any] = {
        "command": " ".join(["python -m training.abstain_look", *sys.argv[1:]]), "date": time.strftime("%Y-%m-%d"), "split": "dev",
        "across_gate": {store: across_gate([x for x in across if x["store"] == store]) for store in ("full", "small")},
        "same_language": {g[0]["group"]: {"today": {k: share(g, k, lambda x: x["abstained"]) for k in KINDS},
                                          "either_rule": {k: share(g, k, lambda x: x["abstained"] or x["either"]) for k in KINDS}} for g in groups},
        "combined": choose_read_abstain_from([[(x["kind"], x["abstained"], x["gated"], x["p"], x["margin"]) for x in g] for g in groups]),
    }
    print(json.dumps(report, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
