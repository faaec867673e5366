"""Trainer: fit the answer scorer on the training split, choose its thresholds on the development split.

    .venv/bin/python -m training.train_answerer [--workdir DIR] [--out assistant/weights/answerer.json] [--test]

1. Rows come from :mod:`training.answerer_data` (built and cached in ``--workdir``).
2. Passage fusion: logistic regression on :data:`assistant.answer.features.PASSAGE_FEATURES`
   (same language) and on its cross-language subset (all rows), positives = chunks
   holding the answer, answerable training questions only.
3. Sentence scorer: the training questions' candidates are ranked with that
   fusion, the sentences of the top passages get
   :func:`assistant.answer.features.sentence_features` (the run-time function) and the
   answer-type terms (question vector projected on its first principal
   directions, times the answer shapes a sentence holds); logistic regression,
   positives = sentences holding the answer start, every sentence of an
   impossible or absent question negative.
4. Thresholds on the development split: ``abstain_below`` leaves at most 5% of
   answerable questions unanswered, in each fitting set (French, English) and store size apart (across
   languages: of the development questions machine-translated into
   another language, :mod:`training.translated`); ``second_from`` is the lowest probability at
   which a second quoted sentence holds the answer at least half the time.

It prints the development metrics and writes them, with the data files' hashes,
the seed and the commit, into the weights file's header. ``--test`` also prints
the test split (reporting only: look once per change, never choose by it).
Evaluation-only sets (XQuAD, SciFact validation) are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.extractive import candidate_sentences  # noqa: E402
from assistant.answer.features import (  # noqa: E402
    ANSWER_SHAPES,
    ANSWERABLE_FEATURES,
    CROSS_LANGUAGE_ANSWERABLE,
    CROSS_LANGUAGE_PASSAGE,
    PASSAGE_FEATURES,
    SENTENCE_FEATURES,
    shapes,
)
from assistant.answer.reader import Reader  # noqa: E402
from assistant.answer.retrieve import candidate_features, rank, shift_cosines  # noqa: E402
from assistant.answer.scorer import Scorer, parse_weights  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from assistant.index.store import Store  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.text.language import passage_language  # noqa: E402
from training.answerer_data import Example, build, header, per_dataset  # noqa: E402
from training.answerer_metrics import metrics  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import (  # noqa: E402
    answerable_rows,
    choose_read_abstain,
    choose_reader_thresholds,
    choose_reader_weights,
    choose_thresholds,
    lowered,
)
from training.translated import check_apertium, translated_examples  # noqa: E402

PASSAGES_CONSIDERED = 3
C = 1.0
DEFAULT_OUT = ROOT / "assistant" / "weights" / "answerer.json"


class NoEmbedder:
    """The builder stores sentence vectors; anything asking to embed here is a bug."""

    name = "none"

    def embed_passages(self, texts: Any) -> np.ndarray:
        raise RuntimeError("sentence vectors missing from a training store")

    def embed_query(self, text: str) -> np.ndarray:
        raise RuntimeError("question vectors come from the builder")


def fit_linear(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Standardise, fit a logistic regression, return the numbers :class:`assistant.answer.scorer.Linear` applies."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0])}


def cross_language_shift(train: list[Example], workdir: Path) -> float:
    """How much lower e5 scores a question against text in another language than in its own.

    Measured on the training corpus (the full store): per training question, its
    cosine with the mean sentence vector of the corpus's text in its own language
    minus the same for the other language; the mean over questions.
    """
    means: dict[str, list[np.ndarray]] = defaultdict(list)
    with Store(load_settings(store=str(workdir / "stores" / "full")), create=False) as store:
        ids = [row[0] for row in store.db.execute("SELECT id FROM chunks ORDER BY rowid")]
        chunks, vectors = store.chunks_by_id(ids), store.sentence_vectors(ids)
    for chunk_id, matrix in vectors.items():
        means[passage_language(chunks[chunk_id].text)].append(matrix.mean(axis=0))
    centre = {lang: np.mean(rows, axis=0) for lang, rows in means.items() if len(rows) >= 50}
    gaps = [float(e.question.vector @ centre[e.question.language] - e.question.vector @ centre[other])  # type: ignore[attr-defined]
            for e in train if e.question.language in centre for other in centre if other != e.question.language]  # type: ignore[attr-defined]
    return round(float(np.mean(gaps)), 4)


def shifted(examples: list[Example], scorer: Scorer) -> None:
    """Apply the cross-language shift to the builder's raw cosines and recompute passage features (in place)."""
    for e in examples:
        q = e.question
        e.candidates = [shift_cosines(c, scorer.shift(q, c.language)) for c in e.candidates]  # type: ignore[arg-type]
        e.features = candidate_features(q, e.candidates)  # type: ignore[arg-type]


def fit_passages(train: list[Example]) -> dict[str, dict[str, Any]]:
    rows = [e for e in train if e.kind == "answerable" and e.positive_chunks]
    x = np.vstack([e.features for e in rows])
    y = np.concatenate([[c.chunk.id in e.positive_chunks for c in e.candidates] for e in rows]).astype(int)
    same = np.concatenate([[c.same_language for c in e.candidates] for e in rows]).astype(bool)
    cross_columns = [PASSAGE_FEATURES.index(n) for n in CROSS_LANGUAGE_PASSAGE]
    return {"same_language": fit_linear(x[same], y[same]), "cross_language": fit_linear(x[:, cross_columns], y)}


def fit_answer_types(train: list[Example]) -> dict[str, Any]:
    """One logistic regression per answer shape: does this question's gold answer hold a number, a year, a name...?"""
    rows = [e for e in train if e.kind == "answerable"]
    x = np.vstack([e.question.vector for e in rows])  # type: ignore[attr-defined]
    y = np.array([shapes(e.answers[0], e.question) for e in rows])  # type: ignore[arg-type]
    fits = [fit_linear(x, y[:, j]) for j in range(len(ANSWER_SHAPES))]
    return {"mean": fits[0]["mean"], "scale": fits[0]["scale"], "coef": np.array([f["coef"] for f in fits]).T.round(6).tolist(),
            "intercept": [f["intercept"] for f in fits], "base_rates": y.mean(axis=0).round(4).tolist()}


Row = tuple[Example, Any, list[Any], np.ndarray, np.ndarray]


def sentence_rows(examples: list[Example], scorer: Scorer) -> list[Row]:
    """Per example: its retrieval, candidate sentences, their feature rows and labels."""
    out = []
    for e in examples:
        retrieval = rank(e.question, e.candidates, e.features, scorer)  # type: ignore[arg-type]
        found, features = candidate_sentences(retrieval, scorer, NoEmbedder())  # type: ignore[arg-type]
        chunks = {c.chunk.id: c.chunk for c in e.candidates}
        starts = {(cid, chunks[cid].sentences[i].start) for cid, i in e.positive_sentences}
        labels = np.array([(s.chunk_id, s.start) in starts for s in found], dtype=int)
        out.append((e, retrieval, found, features, labels))
    return out


def make_scorer(parts: dict[str, Any], header: dict[str, Any]) -> Scorer:
    """A scorer from fitted parts; parts not fitted yet are neutral (zero weights)."""
    def blank(width: int) -> dict[str, Any]:
        return {"mean": [0.0] * width, "scale": [1.0] * width, "coef": [0.0] * width, "intercept": 0.0}

    data = {
        "header": header,
        "cross_language_shift": parts["cross_language_shift"],
        "passage": parts["passage"],
        "answer_types": parts["answer_types"],
        "sentence": parts.get("sentence") or blank(len(SENTENCE_FEATURES) + len(ANSWER_SHAPES)),
        "answerable": parts.get("answerable") or {"same_language": blank(len(ANSWERABLE_FEATURES)),
                                                  "cross_language": blank(len(CROSS_LANGUAGE_ANSWERABLE))},
        "thresholds": parts.get("thresholds") or {"abstain_below": {"same": 0.5, "cross": 0.5}, "second_from": 0.5},
        "passages_considered": PASSAGES_CONSIDERED,
    }
    return parse_weights(data)


def train(workdir: Path, reader: Reader | None = None) -> tuple[dict[str, Any], dict[str, list[Example]]]:
    """Fit every part on the training split, choose thresholds on dev; the weights file's content and the splits.

    The passage and sentence models are fitted on the full store's rows; the abstention model on the full store's
    and the small stores' together, and its thresholds are the highest that keep false abstention within 5% in each,
    for each fitting set apart (:mod:`training.answerer_data`, :func:`training.answerer_data.per_dataset`). With
    ``reader``, the weights of its sentence score are chosen on the development questions (for sentences in the
    question's language) and their machine translations (for the others;
    :func:`training.thresholds.choose_reader_weights`), the same-language abstention threshold and the reader's margin gate together on dev
    (:func:`training.thresholds.choose_reader_thresholds`), then one score of both where both judge
    (:func:`training.thresholds.choose_read_abstain`), and the development metrics are the reader's answers.
    The splits returned hold the full store's examples, then ``small-dev``/``small-test``.
    """
    check_apertium(workdir, "dev")  # before the rows are built, not after
    splits: dict[str, list[Example]] = defaultdict(list)
    for e in build(workdir):
        splits[e.group].append(e)
    translated = translated_examples(workdir, "dev")  # development questions in another language (thresholds only)
    base = header({})  # git is asked once; every provisional scorer shares it
    parts: dict[str, Any] = {"cross_language_shift": cross_language_shift(splits["train"], workdir)}
    parts["passage"] = fit_passages(splits["train"])  # on raw cosines, only to build a scorer for shift(); refitted below
    parts["answer_types"] = fit_answer_types(splits["train"])
    for items in [*splits.values(), translated]:
        shifted(items, make_scorer(parts, base))
    parts["passage"] = fit_passages(splits["train"])
    provisional = make_scorer(parts, base)
    train_rows = sentence_rows(splits["train"], provisional)
    x = np.vstack([provisional.sentence_inputs(f, e.question.vector) for e, _, found, f, _ in train_rows if found])  # type: ignore[attr-defined]
    y = np.concatenate([labels for _, _, found, _, labels in train_rows if found])
    parts["sentence"] = fit_linear(x, y)
    fitted = make_scorer(parts, base)
    features, same, labels = answerable_rows(train_rows + sentence_rows(splits["small-train"], fitted), fitted)
    cross_columns = [ANSWERABLE_FEATURES.index(n) for n in CROSS_LANGUAGE_ANSWERABLE]
    cross_rows = lowered(features, parts["cross_language_shift"], seed=1)[:, cross_columns]
    parts["answerable"] = {"same_language": fit_linear(features[same], labels[same]), "cross_language": fit_linear(cross_rows, labels)}
    dev_rows = sentence_rows(splits["dev"], make_scorer(parts, base))
    small_rows = sentence_rows(splits["small-dev"], make_scorer(parts, base))
    across = [sentence_rows([e for e in translated if e.store == store], make_scorer(parts, base)) for store in ("full", "small")]
    apart = [g for rows in (dev_rows, small_rows) for g, _ in per_dataset(rows)]  # each store's, each fitting set apart
    parts["thresholds"] = choose_thresholds(apart, make_scorer(parts, base), [g for rows in across for g, _ in per_dataset(rows)], dev_rows)
    read = read_small = None
    if reader is not None:
        lower, scorer = cached_lower(workdir, reader.frozen), make_scorer(parts, base)
        read, read_small = readings(dev_rows, reader, lower, scorer), readings(small_rows, reader, lower, scorer)
        translated_rows = [r for r in across[0] if r[0].kind == "answerable"]  # ~10 more minutes of reading
        weighing = choose_reader_weights((dev_rows, read), (translated_rows, readings(translated_rows, reader, {}, scorer)), scorer)
        parts["thresholds"] |= {"reader_weight": weighing["reader_weight"], "reader_weight_across": weighing["reader_weight_across"]}
        base = base | {"reader_weight_choice": weighing}
        groups = [g for rows, r in ((dev_rows, read), (small_rows, read_small)) for g in per_dataset(rows, r)]
        chosen = choose_reader_thresholds(groups, make_scorer(parts, base))
        parts["thresholds"]["abstain_below"]["same"] = chosen["same_threshold"]
        parts["thresholds"]["reader_margin"] = chosen["reader_margin"]
        joint = choose_read_abstain(groups, make_scorer(parts, base))
        parts["thresholds"]["read_abstain"] = {"weight": joint["weight"], "below": joint["below"]}
        base = base | {"read_abstain_choice": joint["unanswerable_abstained"]}
        base = base | {"reader": reader.header.get("summary", {})}
        if reader.across_path is not None:  # which across-language reader the weights across languages were chosen with
            base = base | {"reader_across_sha256": hashlib.sha256(reader.across_path.read_bytes()).hexdigest()}
    dev = metrics(dev_rows, make_scorer(parts, base), read)
    small = metrics(small_rows, make_scorer(parts, base), read_small)
    examples = {split: len(items) for split, items in sorted(splits.items())} | {"translated-dev": len(translated)}
    provenance = base | {"development": dev, "development_small_stores": small, "examples": examples}
    weights = {"header": provenance, **parts, "passages_considered": PASSAGES_CONSIDERED}
    return weights, splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer", help="stores, embedding cache and rows (reused)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--test", action="store_true", help="also report the test split (reporting only)")
    parser.add_argument("--report", type=Path, help="write the printed metrics to this JSON file too")
    parser.add_argument("--reader", type=Path, help="a reader weights file: choose the abstention thresholds with it (python -m training)")
    parser.add_argument("--across", type=Path, help="with --reader: the across-language reader made from it (python -m training.train_reader --across)")
    args = parser.parse_args()
    reader = Reader(E5Encoder(), args.reader, args.across) if args.reader else None
    weights, splits = train(args.workdir, reader)
    main_report(weights, splits, args.out, args.test, args.report, reader, args.workdir)


def main_report(weights: dict[str, Any], splits: dict[str, list[Example]], out: Path, test: bool, report: Path | None,
                reader: Reader | None, workdir: Path) -> None:
    """Write the weights file; print (and with ``report`` save) the development figures, and the test split's if asked."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(weights, separators=(",", ":")) + "\n", encoding="utf-8")
    printed: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "commit": weights["header"]["commit"],
                               "cross_language_shift": weights["cross_language_shift"], "thresholds": weights["thresholds"],
                               "reader_weight_choice": weights["header"].get("reader_weight_choice"),
                               "development": weights["header"]["development"],
                               "development_small_stores": weights["header"]["development_small_stores"]}
    if test:
        scorer = parse_weights(weights)
        lower = cached_lower(workdir, reader.frozen) if reader else {}
        for split in ("test", "small-test"):
            rows = sentence_rows(splits[split], scorer)
            printed[split] = metrics(rows, scorer, readings(rows, reader, lower, scorer) if reader else None)
    print(json.dumps(printed, indent=1))
    if report:
        report.write_text(json.dumps(printed, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
