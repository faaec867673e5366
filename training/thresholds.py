"""Choices made on the development split: abstention thresholds (with and without the reader), second sentences.

Nothing here is fitted: each function picks a number from development questions the scorer was not fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from assistant.answer.extractive import combined_score, decide, reader_choice, sentence_reads
from assistant.answer.features import ANSWERABLE_FEATURES, answerable_features
from assistant.answer.reader import Reading
from assistant.answer.scorer import Scorer

FALSE_ABSTENTION = 0.05
Row = tuple[Any, Any, list[Any], np.ndarray, np.ndarray]


def answerable_rows(rows: list[Row], scorer: Scorer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Question-level features, whether the best sentence shares the question's language, and answerable labels."""
    features, same, labels = [], [], []
    for e, retrieval, found, sentence_features, _ in rows:
        if not found:
            continue
        logits = scorer.sentence_logits(sentence_features, e.question.vector)  # type: ignore[attr-defined]
        best = int(np.argmax(logits))
        features.append(answerable_features(sentence_features, logits, best, retrieval.top_chunk_cos, retrieval.top_chunk_margin))
        same.append(found[best].same_language)
        labels.append(e.kind == "answerable")
    return np.vstack(features), np.array(same, dtype=bool), np.array(labels, dtype=int)


def lowered(features: np.ndarray, shift: float, seed: int) -> np.ndarray:
    """Question-level rows as a cross-language question might show them: absolute cosines lowered by U(0, shift).

    The shift is measured between unrelated texts; related texts across languages
    lose more (a translation is not the same text), by an amount no fitting set
    can measure (none pairs questions and documents in different languages). The
    cross-language model is fitted over that uncertainty: up to the measured gap again. (Fitted instead on the
    training questions machine-translated into another language, :mod:`training.translated`, it told answerable
    translated development questions from the others about as well: AUC 0.864 against 0.864, 2026-12-02,
    ``python -m training.cross_language_look --cross-models``.)
    """
    out = features.copy()
    drop = np.random.default_rng(seed).uniform(0.0, shift, size=len(out))
    for name in ("best_cos", "top_chunk_cos"):
        out[:, ANSWERABLE_FEATURES.index(name)] -= drop
    return out


def choose_thresholds(groups: Sequence[list[Row]], scorer: Scorer, across: Sequence[list[Row]], second: list[Row]) -> dict[str, Any]:
    """``abstain_below`` per model for at most 5% false abstentions in each group of rows (the full store's and the
    small stores' development questions, each fitting set apart); ``second_from`` where second sentences are right
    half the time (``second``: the full store's).

    The cross-language threshold is the lowest of ``across``'s groups' own 5% quantiles of the answerable questions'
    probability, over those whose best sentence is in another language than the question (``across``: the
    development questions machine-translated, :mod:`training.translated`, in the full store and the small ones).
    The same-language one is then the highest for which all answerable development questions, each judged by the
    model it meets at run time, are abstained on at most 5% of the time in each group: the lowest of the groups' own.
    """
    cross_thresholds = []
    for rows in across:
        features, same, labels = answerable_rows(rows, scorer)
        p_cross = np.array([scorer.answerable(f, False) for f in features[(labels == 1) & ~same]])
        cross_thresholds.append(float(np.quantile(p_cross, FALSE_ABSTENTION, method="lower")))
    cross = min(cross_thresholds)
    same_thresholds = []
    for rows in groups:
        features, same, labels = answerable_rows(rows, scorer)
        answerable = labels == 1
        p_cross = np.array([scorer.answerable(f, False) for f in features[answerable & ~same]])
        allowed = int(np.floor(FALSE_ABSTENTION * answerable.sum())) - int((p_cross < cross).sum())
        p_same = np.array([scorer.answerable(f, True) for f in features[answerable & same]])
        candidates = np.sort(p_same)
        same_thresholds.append(float(candidates[max(0, allowed)]) if allowed >= 0 else float(candidates[0]))
    abstain_below = {"same": min(same_thresholds), "cross": cross}
    seconds: list[tuple[float, bool]] = []
    for e, _, found, sentence_features, labels_ in second:
        if e.kind == "answerable" and len(found) >= 2:
            p = 1.0 / (1.0 + np.exp(-scorer.sentence_logits(sentence_features, e.question.vector)))  # type: ignore[attr-defined]
            order = np.argsort(-p, kind="stable")
            seconds.append((float(p[order[1]]), bool(labels_[order[1]])))
    second_from = 1.0
    for candidate in np.round(np.arange(0.99, 0.0, -0.01), 2):
        picked = [right for p, right in seconds if p >= candidate]
        if len(picked) >= 20 and sum(picked) / len(picked) < 0.5:
            break
        if picked:
            second_from = float(candidate)
    return {"abstain_below": abstain_below, "second_from": second_from}


def choose_reader_thresholds(groups: Sequence[tuple[Sequence[Any], Sequence[list[Reading] | None]]], scorer: Scorer) -> dict[str, Any]:
    """``abstain_below`` (same language) and ``reader_margin`` together: at most 5% of answerable questions abstained
    on in each group of ``(rows, readings)`` (the full store's and the small stores' development questions, each fitting set apart).

    Each gets half of the false-abstention budget (:func:`gate_and_threshold`). There is no cross-language margin:
    across languages the reader's no-answer margin hardly separates answerable questions from the others (machine-
    translated development questions, :mod:`training.cross_language_look`: medians -11.9 answerable, -14.6 absent,
    2.5% quantile of answerable -17.4), so only the calibrated model abstains there.
    """
    gate, threshold = gate_and_threshold(reader_groups(groups, scorer))
    return {"same_threshold": threshold, "reader_margin": {"same": gate if np.isfinite(gate) else -1e9}}


def reader_groups(groups: Sequence[tuple[Sequence[Any], Sequence[list[Reading] | None]]], scorer: Scorer) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group of ``(rows, readings)``, every read question's reader margin, probability and label, as the
    same-language gate and threshold meet them at run time (:func:`assistant.answer.extractive.decide`).

    A question the gate does not apply to (its quoted sentence in another language, or no passage read in the
    question's language) has margin ``inf``; one the cross-language model judges (the sentence model's best sentence
    in another language) has probability ``-inf`` if its own threshold, already chosen, abstains on it and ``inf``
    if not. So every answerable question counts in the 5% budget; until 2026-12-04 only those whose quoted sentence
    shared the question's language did, and the others' abstentions came on top (README, The reader, "Then two
    weights").
    """
    probe = replace(scorer, reader_margin={"same": 0.0})  # a finite gate shows where decide() applies one
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for rows, read in groups:
        margins, probabilities, answerable = [], [], []
        for (e, retrieval, found, features, *_), readings in zip(rows, read, strict=True):
            if not found or readings is None:
                continue
            d = decide(found, features, retrieval, probe, None, readings)
            gated = np.isfinite(d.margin_threshold)
            judged_same = found[int(np.argmax(d.probabilities))].same_language
            margins.append(d.margin if gated else np.inf)
            probabilities.append(d.answerable if judged_same else (np.inf if d.answerable >= d.threshold else -np.inf))
            answerable.append(e.kind == "answerable")
        seen.append((np.array(margins), np.array(probabilities), np.array(answerable, dtype=bool)))
    return seen


def gate_and_threshold(groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], share: float = FALSE_ABSTENTION / 2) -> tuple[float, float]:
    """The reader's margin gate and the probability threshold, from each group's ``(margins, probabilities, answerable)``.

    The 5% false-abstention budget is split in halves, in every group: the gate is the lowest of the groups' own
    2.5% (``share``; 0: no gate) quantiles of answerable margins, and the threshold the highest keeping every group's answerable questions
    abstained on at most 5% of the time, gate included. A fixed split, not the pair abstaining on the most other
    questions: on development data that count is flat across splits (within 2 of 999 from 1% to 3% of the budget
    to the gate), so its argmax moved with noise as small as packing the reader int8 (gate -10.0 -> -8.5, threshold
    0.39 -> 0.32; README, The reader). Infinite entries (:func:`reader_groups`) are questions the gate or the
    threshold does not judge: they count in the budget, and a ``-inf`` probability spends it; the threshold stays
    within [0, 1] (0: none left to spend).

    >>> yes = np.array([True] * 20 + [False] * 20)
    >>> big = (np.zeros(40), np.r_[np.linspace(0.5, 1, 20), np.linspace(0, 0.6, 20)], yes)
    >>> small = (np.zeros(40), np.r_[np.linspace(0.3, 1, 20), np.linspace(0, 0.6, 20)], yes)
    >>> [round(t, 3) for _, t in (gate_and_threshold([big]), gate_and_threshold([big, small]))]
    [0.526, 0.337]
    >>> cross = (np.zeros(40), np.r_[-np.inf, np.linspace(0.5, 1, 19), np.linspace(0, 0.6, 20)], yes)  # one abstained
    >>> spent = (np.zeros(40), np.r_[-np.inf, -np.inf, np.linspace(0.5, 1, 18), np.linspace(0, 0.6, 20)], yes)  # two
    >>> [round(gate_and_threshold([g])[1], 3) for g in (big, cross, spent)]
    [0.526, 0.5, 0.0]
    """
    gate = min(float(np.quantile(m[yes], share, method="lower")) for m, _, yes in groups) if share > 0 else -np.inf
    thresholds = []
    for m, p, yes in groups:
        left = int(np.floor(FALSE_ABSTENTION * yes.sum())) - int((yes & (m < gate)).sum())
        order = np.sort(p[yes & (m >= gate)])
        thresholds.append(float(np.clip(order[left], 0.0, 1.0)) if 0 <= left < len(order) else float(left >= len(order)))
    return gate, min(thresholds)


READER_WEIGHTS: tuple[float | None, ...] = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, None)
"""Candidate weights of the reader's sentence score beside the sentence model's logit (``None``: the reader alone)."""


def choose_reader_weight(rows: Sequence[Any], scorer: Scorer, read: Sequence[list[Reading] | None]) -> dict[str, Any]:
    """The weight of :data:`READER_WEIGHTS` whose chosen sentence holds the answer most often on answerable dev questions.

    Returns the weight and, per candidate, that share (ties go to the earlier candidate: less reader, less risk).
    """
    share = {w: round(v, 4) for w, v in _shares(rows, scorer, read).items()}
    return {"reader_weight": _best(share), "answer_sentence_share": share}


def _best(share: dict[str, float], candidates: Sequence[float | None] = READER_WEIGHTS) -> float | None:
    """The candidate with the highest share; ties go to the earlier one (less reader, less risk)."""
    return max(candidates, key=lambda w: (share[str(w)], -list(candidates).index(w)))


def _shares(rows: Sequence[Any], scorer: Scorer, read: Sequence[list[Reading] | None], own: float | None = None,
            candidates: Sequence[float | None] = READER_WEIGHTS) -> dict[str, float]:
    """Per candidate weight, the share of answerable rows whose chosen sentence holds the answer; with ``own``, the
    candidate weighs sentences in another language than the question's and ``own`` those in its own."""
    hits: dict[str, list[float]] = {str(w): [] for w in candidates}
    for (e, retrieval, found, features, labels), readings in zip(rows, read, strict=True):
        if not found or readings is None or e.kind != "answerable":
            continue
        logits = scorer.sentence_logits(features, retrieval.vector)
        scores = sentence_reads(found, readings)
        same = np.array([s.same_language for s in found])
        for w in candidates:
            weight = w if own is None or w is None else np.where(same, own, w)
            hits[str(w)].append(float(labels[reader_choice(logits, scores, weight, int(np.argmax(logits)))]))
    return {w: float(np.mean(v)) for w, v in hits.items()}


def choose_reader_weights(same: tuple[Sequence[Any], Sequence[list[Reading] | None]],
                          across: tuple[Sequence[Any], Sequence[list[Reading] | None]], scorer: Scorer) -> dict[str, Any]:
    """Two weights of the reader's sentence score: for sentences in the question's language, chosen as
    :func:`choose_reader_weight` does on answerable dev questions asked in their passages' language (``same``: rows
    and readings); then, that one fixed, for sentences in another language, chosen the same way on those questions
    machine-translated (``across``, :mod:`training.translated`; the reader alone is no candidate there).

    One weight for both was chosen on the first alone until 2026-12-04, then on the mean of the two shares; but
    they want different weights (0.5-1 in one language, 0.25 across: the reader never learnt from a pair in two
    languages), so one weight cost one case what it gave the other (README, The reader, "Reading less of the other
    passages, and the reader's weight").

    >>> from types import SimpleNamespace as N
    >>> class Flat:  # the sentence model prefers the first sentence by 1; the reader the second by 1.5
    ...     def sentence_logits(self, features, vector): return np.array([1.0, 0.0])
    >>> def row(answer, same):
    ...     found = [N(chunk_id="c", position=i, header=None, same_language=same) for i in (0, 1)]
    ...     return N(kind="answerable"), N(vector=None), found, None, np.arange(2) == answer
    >>> read = [N(chunk_id="c", sentence_scores=np.array([0.0, 1.5]))]
    >>> out = choose_reader_weights(([row(1, True)], [read]), ([row(0, False), row(0, False), row(1, False)], [read] * 3), Flat())
    >>> out["reader_weight"], out["reader_weight_across"], out["across_languages"]["0.5"], out["across_languages"]["1.0"]
    (1.0, 0.0, 0.6667, 0.3333)
    """
    mine = choose_reader_weight(same[0], scorer, same[1])
    first = mine["reader_weight"]
    numeric = [w for w in READER_WEIGHTS if w is not None]
    theirs = {w: round(v, 4) for w, v in _shares(across[0], scorer, across[1], first, numeric).items()}
    other = None if first is None else _best(theirs, numeric)
    return {"reader_weight": first, "reader_weight_across": other, "same_language": mine["answer_sentence_share"],
            "across_languages": theirs}


READ_ABSTAIN_WEIGHTS: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)
"""Candidate weights of the reader's no-answer margin beside the calibrated model's logit (one abstention score)."""


def choose_read_abstain(groups: Sequence[tuple[Sequence[Any], Sequence[list[Reading] | None]]], scorer: Scorer,
                        weights: Sequence[float] = READ_ABSTAIN_WEIGHTS) -> dict[str, Any]:
    """One score where both the calibrated model and the reader's gate judge (``logit(P) + w x margin``,
    :func:`assistant.answer.extractive.combined_score`), chosen on each group of ``(rows, readings)`` (the full
    store's and the small stores' development questions, each fitting set apart) with ``scorer``'s thresholds already chosen.

    Per weight, the threshold is the highest keeping every group's answerable questions abstained on at most 5% (the
    questions the score does not judge decided as before); the weight chosen abstains on the most unanswerable
    questions (absent and impossible) in all, ties to the smaller. Measured first as a look (2026-12-05,
    ``python -m training.abstain_look``): the gate's half of the budget bought impossible questions, one score
    buys more absent articles.

    >>> answerable = [("answerable", False, True, p, m) for p, m in ((0.9, 0.0), (0.8, -2.0), (0.7, -1.0))] * 7
    >>> out = choose_read_abstain_from([answerable + [("absent", False, True, 0.9, -12.0)]])  # P alone answers it
    >>> out["weight"], out["unanswerable_abstained"]["0.1"], out["unanswerable_abstained"]["0.2"]
    (0.2, 0, 1)
    """
    probe = replace(scorer, read_abstain=(0.0, 0.0))  # decide() says where one score would judge
    seen = []
    for rows, read in groups:
        items = []
        for (e, retrieval, found, features, *_), readings in zip(rows, read, strict=True):
            if found:
                d = decide(found, features, retrieval, probe, None, readings)
                items.append((e.kind, bool(d.abstains), d.combined is not None, d.answerable, d.margin))
        seen.append(items)
    return choose_read_abstain_from(seen, weights)


def choose_read_abstain_from(groups: Sequence[Sequence[tuple[str, bool, bool, float, float]]],
                             weights: Sequence[float] = READ_ABSTAIN_WEIGHTS) -> dict[str, Any]:
    """:func:`choose_read_abstain` from each group's ``(kind, abstained, judged by the score, P, margin)``."""
    out: dict[str, Any] = {"unanswerable_abstained": {}, "per_weight": {}}
    best: tuple[int, float, float] | None = None
    for w in weights:
        limits = []
        for items in groups:
            answerable = [x for x in items if x[0] == "answerable"]
            left = int(np.floor(FALSE_ABSTENTION * len(answerable))) - sum(x[1] for x in answerable if not x[2])
            scores = np.sort([combined_score(p, m, w) for _, _, judged, p, m in answerable if judged])
            limits.append(float(scores[left]) if 0 <= left < len(scores) else (-np.inf if left < 0 else np.inf))
        below = min(limits)
        decided = [[(k, bool(combined_score(p, m, w) < below) if judged else abstained) for k, abstained, judged, p, m in items] for items in groups]
        shares = [{kind: round(float(np.mean([a for k, a in items if k == kind])), 4)
                   for kind in ("answerable", "absent", "impossible") if any(k == kind for k, _ in items)} for items in decided]
        count = sum(a for items in decided for k, a in items if k != "answerable")
        out["unanswerable_abstained"][str(w)] = int(count)
        out["per_weight"][str(w)] = {"below": round(below, 4), "groups": shares}
        if best is None or count > best[0]:
            best = (int(count), w, below)
    assert best is not None
    return out | {"weight": best[1], "below": best[2]}
