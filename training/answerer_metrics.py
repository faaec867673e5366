"""Evaluator for the answer scorer: the metrics the trainer prints for the development and test splits.

Given examples already run through the scorer (:func:`training.train_answerer.sentence_rows`), it
decides each answer exactly as :func:`assistant.answer.extractive.answer_extractive` does and reports,
per dataset and kind of question: retrieval hit@1/hit@5 of the gold paragraph (the fitted
fusion, dense alone, BM25 alone), answer containment, abstention, answer length. It only reads:
nothing it computes feeds back into fitting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer.extractive import choose, decide
from assistant.answer.scorer import Scorer
from assistant.evaluation.gold import contains
from training.answerer_data import Example
from training.text_metrics import f1, normalise


def metrics(rows: list[Any], scorer: Scorer, read: Sequence[Any] | None = None) -> dict[str, Any]:
    """Retrieval (hybrid, dense only, BM25 only), answer containment, abstention and length, by dataset and kind.

    ``read``: the reader's readings per row (:func:`training.reader_rows.readings`); then the answer phrase's
    exact match and F1 too (``phrase_*``, over answered questions whose quote holds a phrase), and how many do
    (``phrase_shown``, over answered questions).
    """
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for n, (e, retrieval, found, features, _) in enumerate(rows):
        decision = decide(found, features, retrieval, scorer, None, read[n] if read is not None else None)
        chosen = choose(found, decision, scorer.second_from)
        text = " ".join(s.text for s in chosen)
        phrase = _phrase(decision, chosen, found)
        for group in (e.dataset, "all"):
            a = acc[f"{group}/{e.kind}"]
            a["abstained"].append(float(not chosen))
            if e.kind != "answerable":
                continue
            a["contained"].append(float(any(contains(text, ans) for ans in e.answers)))
            if chosen:
                a["phrase_shown"].append(float(phrase is not None))
            if phrase is not None:
                a["phrase_exact"].append(max(float(normalise(phrase) == normalise(ans)) for ans in e.answers))
                a["phrase_f1"].append(max(f1(phrase, ans) for ans in e.answers))
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


def _phrase(decision: Any, chosen: list[Any], found: list[Any]) -> str | None:
    if decision.span is None or not chosen:
        return None
    holder = found[decision.best]
    return str(holder.text[decision.span[0] - holder.start : decision.span[1] - holder.start])


def _by(e: Example, field: str) -> list[Any]:
    return sorted((c for c in e.candidates if getattr(c, field) is not None), key=lambda c: getattr(c, field))
