"""A look, not a fit: should the reader read passages in another language than the question's?

On the translated questions of :mod:`training.translated` (development split unless told), with the shipped scorer
and reader, it compares today's answers (passages in another language left to the sentence model) with the reader
reading them too, abstention unchanged (full store's questions): answer containment per route, the answer sentence chosen per reader weight
(:data:`training.thresholds.READER_WEIGHTS`), and the reader's no-answer margin across languages for answerable,
impossible and absent questions (is it any use as an abstention gate there?).

    .venv/bin/python -m training.cross_language_look [--split dev] [--reader FILE.npz] [--out eval/results/FILE.json]
    .venv/bin/python -m training.cross_language_look --cross-models     # the abstention model fitted on translations
"""

from __future__ import annotations

import argparse
import hashlib
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
from assistant.answer.reader import Reader, Reading  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.answerer_metrics import metrics  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import choose_reader_weight  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402
from training.translated import translated_examples  # noqa: E402

READER = ROOT / "assistant" / "weights" / "reader.npz"
SCORER = ROOT / "assistant" / "weights" / "answerer.json"


def read_across(rows: list[Any], reader: Reader, scorer: Any, workdir: Path, split: str, path: Path = READER) -> list[list[Reading] | None]:
    """Every row's readings of its top passages in any language by the reader in ``path`` (cached beside the translated rows)."""
    asked = "\n".join(f"{e.question_id}:{e.kind}:{e.store}" for e, *_ in rows).encode()
    key = hashlib.sha256(path.read_bytes() + SCORER.read_bytes() + asked + b"read-around").hexdigest()[:16]
    cached = workdir / f"translated-{split}-readings-{key}.pkl"
    if cached.exists():
        with cached.open("rb") as f:
            return list(pickle.load(f))
    started = time.time()
    out = readings(rows, reader, {}, scorer)
    print(f"read {len(rows)} questions across languages in {time.time() - started:.0f} s", flush=True)
    with cached.open("wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    return out


def same_only(rows: list[Any], read: list[list[Reading] | None]) -> list[list[Reading] | None]:
    """The readings as they were until 2026-12-02 ("today" in the decision file): of the same rows' readings, those of
    passages in the question's language (a passage is read alone, so its reading does not depend on the others)."""
    out: list[list[Reading] | None] = []
    for (_, retrieval, *_), r in zip(rows, read, strict=True):
        same = {c.chunk.id for c in retrieval.ranked if c.same_language}
        kept = [x for x in r or [] if x.chunk_id in same]
        out.append(kept or None)
    return out


def margins(rows: list[Any], read: list[list[Reading] | None], scorer: Any) -> dict[str, Any]:
    """Quantiles of the reader's no-answer margin on questions whose quoted sentence is in another language."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    for (e, retrieval, found, features, _), r in zip(rows, read, strict=True):
        if not found or not r:
            continue
        d = decide(found, features, retrieval, scorer, None, r)
        if not found[d.best].same_language:
            by_kind[e.kind].append(float(d.margin))
    qs = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9)
    return {kind: {"n": len(v)} | {f"q{q}": round(float(np.quantile(v, q)), 2) for q in qs} for kind, v in sorted(by_kind.items())}


def cross_models(workdir: Path, scorer: Any) -> dict[str, Any]:
    """The cross-language abstention model fitted on the training questions machine-translated (tried 2026-12-02)
    against the shipped one (fitted on same-language rows with their cosines lowered, ``training.thresholds.lowered``):
    how well each tells answerable translated development questions from the others (AUC, questions whose best
    sentence is in another language), and what each abstains on at 5% false abstention, per kind of store."""
    from sklearn.metrics import roc_auc_score

    from assistant.answer.features import ANSWERABLE_FEATURES, CROSS_LANGUAGE_ANSWERABLE
    from assistant.answer.scorer import Linear
    from training.thresholds import FALSE_ABSTENTION, answerable_rows
    from training.train_answerer import fit_linear

    columns = [ANSWERABLE_FEATURES.index(n) for n in CROSS_LANGUAGE_ANSWERABLE]

    def table(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        examples = translated_examples(workdir, split, log=False)
        shifted(examples, scorer)
        rows = sentence_rows(examples, scorer)
        features, same, labels = answerable_rows(rows, scorer)
        kinds = np.array([e.kind for e, _, found, *_ in rows if found])
        stores = np.array([e.store for e, _, found, *_ in rows if found])
        return features[~same][:, columns], labels[~same], kinds[~same], stores[~same]

    x, y, _, _ = table("train")
    fitted = Linear.of(fit_linear(x, y))
    x, y, kinds, stores = table("dev")
    out: dict[str, Any] = {}
    for name, model in (("shipped", scorer.answerable_cross), ("fitted_on_translated_training_questions", fitted)):
        p = 1.0 / (1.0 + np.exp(-model.logits(x)))
        row: dict[str, Any] = {"auc": round(float(roc_auc_score(y, p)), 4)}
        for store in ("full", "small"):
            here = stores == store
            threshold = float(np.quantile(p[here & (y == 1)], FALSE_ABSTENTION, method="lower"))
            row[store] = {"threshold_at_5pct": round(threshold, 4), "n": int(here.sum())}
            row[store] |= {f"{kind}_abstained": round(float((p[here & (kinds == kind)] < threshold).mean()), 4) for kind in ("absent", "impossible")}
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--reader", type=Path, default=READER, help="the reader weights file to read with (default: the shipped one)")
    parser.add_argument("--cross-models", action="store_true", help="only compare the cross-language abstention models (development)")
    args = parser.parse_args()
    scorer = load_scorer()
    if args.cross_models:
        text = json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "cross_language_abstention": cross_models(args.workdir, scorer)}, indent=1)
        print(text)
        if args.out:
            args.out.write_text(text + "\n", encoding="utf-8")
        return
    examples = [e for e in translated_examples(args.workdir, args.split) if e.store == "full"]
    shifted(examples, scorer)
    rows = sentence_rows(examples, scorer)
    across = read_across(rows, Reader(E5Encoder(), args.reader), scorer, args.workdir, args.split, args.reader)
    today = same_only(rows, across)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "split": args.split, "questions": "training.translated", "reader": str(args.reader)}
    for lang in sorted({e.question_id.rsplit("@", 1)[1] for e, *_ in rows}):
        pick = [n for n, (e, *_) in enumerate(rows) if e.question_id.endswith("@" + lang)]
        sub = [rows[n] for n in pick]
        report[lang] = {
            "today": metrics(sub, scorer, [today[n] for n in pick]),
            "read_across": metrics(sub, scorer, [across[n] for n in pick]),
            "answer_sentence_by_weight": choose_reader_weight(sub, scorer, [across[n] for n in pick])["answer_sentence_share"],
        }
    report["answer_sentence_by_weight_all"] = choose_reader_weight(rows, scorer, across)["answer_sentence_share"]
    report["cross_language_margins"] = margins(rows, across, scorer)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
