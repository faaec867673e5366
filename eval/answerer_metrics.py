"""Evaluator for the answer scorer: the metrics the trainer prints for the development and test splits.

Given examples already run through the scorer (:func:`eval.train_answerer.sentence_rows`), it
decides each answer exactly as :func:`assistant.answer.extractive.answer_extractive` does and reports,
per dataset and kind of question: retrieval hit@1/hit@5 of the gold paragraph (the fitted
fusion, dense alone, BM25 alone), answer containment, abstention, answer length. It only reads:
nothing it computes feeds back into fitting.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from assistant.answer.extractive import choose, decide
from assistant.answer.scorer import Scorer
from assistant.evaluation.gold import contains
from eval.answerer_data import Example


def metrics(rows: list[Any], scorer: Scorer) -> dict[str, Any]:
    """Retrieval (hybrid, dense only, BM25 only), answer containment, abstention and length, by dataset and kind."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for e, retrieval, found, features, _ in rows:
        chosen = choose(found, decide(found, features, retrieval, scorer), scorer.second_from)
        text = " ".join(s.text for s in chosen)
        for group in (e.dataset, "all"):
            a = acc[f"{group}/{e.kind}"]
            a["abstained"].append(float(not chosen))
            if e.kind != "answerable":
                continue
            a["contained"].append(float(any(contains(text, ans) for ans in e.answers)))
            if chosen:
                a["within_60_words"].append(float(len(text.split()) <= 60))
                a["two_sentences"].append(float(len(chosen) == 2))
            for name, order in (("hybrid", retrieval.ranked), ("dense", _by(e, "dense_rank")), ("bm25", _by(e, "lexical_rank"))):
                sources = list(dict.fromkeys(c.chunk.source for c in order))
                r = sources.index(e.gold_source) + 1 if e.gold_source in sources else None
                a[f"{name}_hit1"].append(float(r == 1))
                a[f"{name}_hit5"].append(float(r is not None and r <= 5))
    return {group: {k: round(float(np.mean(v)), 4) for k, v in sorted(values.items())} | {"n": len(values["abstained"])}
            for group, values in sorted(acc.items())}


def _by(e: Example, field: str) -> list[Any]:
    return sorted((c for c in e.candidates if getattr(c, field) is not None), key=lambda c: getattr(c, field))
