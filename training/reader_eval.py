"""The reader's own development figures, from its logits on the cached pairs (the full answer path is scored elsewhere).

Per question, over the passages it reads (rank 0-2): the best span of all its windows, and the margin of that span's
score over the best no-answer score. Answerable questions: the span overlaps the gold answer (``span_hit``), lies in
a sentence holding the answer start (``sentence_hit``), exact match and F1 against the gold text (SQuAD's
normalisation). Abstention: the margin threshold that leaves 5% of answerable questions unanswered, and the share
of impossible and absent questions it abstains on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer.reader import Span, best_span
from training.answerer_data import Example, load_articles
from training.reader_data import Pair, windows_of
from training.text_metrics import f1, normalise


def spans(pairs: Sequence[Pair], outputs: Sequence[tuple[np.ndarray, np.ndarray]], rows: list[Example]) -> list[tuple[Pair, Span]]:
    """Each pair's best span, decoded against its window (tokenised again from the rows' passages)."""
    return [(pair, best_span(s, e, window)) for pair, (s, e), (_, window) in zip(pairs, outputs, windows_of(rows, pairs), strict=True)]


def development(pairs: Sequence[Pair], outputs: Sequence[tuple[np.ndarray, np.ndarray]], rows: list[Example]) -> dict[str, Any]:
    gold = {qa.id: qa.answers for a in load_articles() for qa in a.questions}
    by_question: dict[int, list[tuple[Pair, Span]]] = defaultdict(list)
    for pair, span in spans([p for p in pairs], outputs, rows):
        if pair.rank >= 0:
            by_question[pair.example].append((pair, span))
    found: dict[str, list[tuple[float, dict[str, float]]]] = defaultdict(list)
    for n, read in by_question.items():
        row = rows[n]
        pair, span = max(read, key=lambda ps: ps[1].score)
        margin = span.score - max(s.null for _, s in read)
        scores = {}
        if row.kind == "answerable":
            chunk = next(c.chunk for c in row.candidates if c.chunk.id == pair.chunk_id)
            begin, finish = chunk.start + span.start, chunk.start + span.end
            text = chunk.text[span.start : span.end]
            answers = gold[row.question_id]
            right = chunk.source == row.gold_source
            scores = {
                "span_hit": float(right and any(begin < s + len(t) and s < finish for t, s in answers)),
                "sentence_hit": float(any((chunk.id, i) in row.positive_sentences for i, x in enumerate(chunk.sentences) if x.start <= begin < x.end)),
                "exact": float(any(normalise(text) == normalise(t) for t, _ in answers)),
                "f1": max(f1(text, t) for t, _ in answers),
            }
        found[row.kind].append((margin, scores))
    answerable = found["answerable"]
    threshold = float(np.quantile([m for m, _ in answerable], 0.05))
    report: dict[str, Any] = {"threshold": round(threshold, 3)}
    for kind, items in sorted(found.items()):
        entry = {"n": len(items), "abstained": round(float(np.mean([m < threshold for m, _ in items])), 3)}
        for metric in ("span_hit", "sentence_hit", "exact", "f1"):
            values = [s[metric] for _, s in items if metric in s]
            if values:
                entry[metric] = round(float(np.mean(values)), 3)
        report[kind] = entry
    return report
