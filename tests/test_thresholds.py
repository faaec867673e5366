"""Choices made on development data: thresholds that hold in every kind of store, and the small stores themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.answerer_data import Article, per_dataset
from training.small_stores import LARGEST, PIECE, SMALLEST, pack
from training.thresholds import FALSE_ABSTENTION, choose_read_abstain_from, gate_and_threshold, reader_groups


def _group(rng: np.random.Generator, answerable_mean: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yes = np.r_[np.ones(400, bool), np.zeros(400, bool)]
    p = np.clip(np.r_[rng.normal(answerable_mean, 0.15, 400), rng.normal(0.3, 0.15, 400)], 0, 1)
    margins = np.r_[rng.normal(2.0, 2.0, 400), rng.normal(-3.0, 2.0, 400)]
    return margins, p, yes


def test_false_abstention_stays_within_five_percent_in_every_group() -> None:
    rng = np.random.default_rng(0)
    big, small = _group(rng, 0.8), _group(rng, 0.6)  # in small stores answerable questions look less sure
    gate, threshold = gate_and_threshold([big, small])
    for margins, p, yes in (big, small):
        abstained = yes & ((margins < gate) | (p < threshold))
        assert abstained.sum() / yes.sum() <= FALSE_ABSTENTION
    alone_gate, alone = gate_and_threshold([big])  # chosen on the big store alone, the small one abstains far more
    margins, p, yes = small
    assert (yes & ((margins < alone_gate) | (p < alone))).sum() / yes.sum() > 2 * FALSE_ABSTENTION


def test_each_fitting_set_keeps_its_own_budget_not_only_their_mix() -> None:
    """Pooled, the English questions' room pays for French abstentions: French answerable questions, less sure,
    are abstained on more than 5% of the time though the mix stays within it. Apart, each set keeps within it."""
    from types import SimpleNamespace

    rng = np.random.default_rng(1)
    french, english = _group(rng, 0.6), _group(rng, 0.85)
    pooled = tuple(np.r_[a, b] for a, b in zip(english, french, strict=True))  # in the rows' order, English first
    rows = [(SimpleNamespace(dataset=name), k) for k, name in enumerate(["squad2"] * 800 + ["piaf"] * 800)]
    gate, threshold = gate_and_threshold([pooled])  # type: ignore[list-item]
    margins, p, yes = french
    assert (yes & ((margins < gate) | (p < threshold))).sum() / yes.sum() > FALSE_ABSTENTION
    groups = per_dataset(rows)
    assert [g[0][0].dataset for g, _ in groups] == ["piaf", "squad2"] and [len(g) for g, _ in groups] == [800, 800]
    apart = [tuple(x[[k for _, k in g]] for x in pooled) for g, _ in groups]
    gate, threshold = gate_and_threshold(apart)  # type: ignore[arg-type]
    for margins, p, yes in apart:
        assert (yes & ((margins < gate) | (p < threshold))).sum() / yes.sum() <= FALSE_ABSTENTION


def test_every_answerable_question_counts_in_the_budget_whichever_model_judges_it() -> None:
    """The same-language threshold and the reader's gate share the 5% budget with the questions they do not judge:
    a quote in another language (no gate) and a question the cross-language model judges (its threshold already
    chosen). Until 2026-12-04 only questions quoting a sentence in their own language were counted, so the others'
    abstentions came on top (development false abstention 0.0501 with two reader weights)."""
    from dataclasses import replace
    from types import SimpleNamespace

    from assistant.answer.reader import Reading, Span
    from assistant.answer.scorer import load_scorer
    from tests.test_reader import _sentences

    found, features, retrieval = _sentences()
    question = SimpleNamespace(kind="answerable")
    reading = Reading("c1", Span(61, 72, 8.0, 1.0), np.array([2.0, 8.0]), np.array([[4, 10], [61, 72]]))
    quoted_across = [found[0], replace(found[1], same_language=False)]  # the reader quotes the second, in another language
    all_across = [replace(s, same_language=False) for s in found]
    rows = [(question, retrieval, f, features, None) for f in (found, quoted_across, all_across)]
    for cross, judged in ((0.0, np.inf), (1.0, -np.inf)):
        scorer = replace(load_scorer(), reader_weight=None, abstain_below={"same": 0.5, "cross": cross})
        [(margins, p, yes)] = reader_groups([(rows, [[reading]] * 3)], scorer)
        assert list(yes) == [True] * 3 and margins[0] == 7.0 and list(margins[1:]) == [np.inf, np.inf]
        assert np.isfinite(p[:2]).all() and p[2] == judged, "a question the cross model judges: abstained or not"


def test_one_score_spends_only_what_the_questions_it_does_not_judge_left_of_the_budget() -> None:
    """``choose_read_abstain``: answerable questions the one score does not judge (a quote in another language, no
    passage read in the question's language) spend the 5% first; the score's threshold gets the rest, in every group."""
    def group(spent: int) -> list[tuple[str, bool, bool, float, float]]:
        judged = [("answerable", False, True, 0.9, float(m)) for m in np.linspace(-4.0, 0.0, 40 - spent)]
        return judged + [("answerable", True, False, 0.2, np.inf)] * spent + [("absent", False, True, 0.9, -10.0)] * 10

    rng = np.random.default_rng(0)
    for spent in (0, 1, 2):
        items = group(spent)
        out = choose_read_abstain_from([list(rng.permutation(np.array(items, dtype=object)))])  # order does not matter
        shares = out["per_weight"][str(out["weight"])]["groups"][0]
        assert shares["answerable"] == FALSE_ABSTENTION and out["weight"] > 0, (spent, out)
        assert shares["absent"] == 1.0 and out["unanswerable_abstained"]["0.0"] == 0, "P alone answers every absent one"
    out = choose_read_abstain_from([group(3), group(0)])  # the first group's budget is spent: its score abstains on none
    assert out["below"] == -np.inf and out["weight"] == 0.0 and set(out["unanswerable_abstained"].values()) == {0}


def test_small_stores_hold_every_paragraph_once_in_30_to_60() -> None:
    articles = [Article("piaf", f"a{i}", [f"p{i}-{j}" for j in range(n)], []) for i, n in enumerate([3, 70, 12, 25, 8, 41, 5, 19])]
    stores = pack(articles, seed=0)
    held = [p.article.paragraphs[j] for store in stores for p in store for j in range(p.first, p.last)]
    assert sorted(held) == sorted(x for a in articles for x in a.paragraphs)
    assert all(SMALLEST <= sum(p.size for p in store) <= LARGEST for store in stores)
    assert all(p.size <= PIECE for store in stores for p in store)
    assert pack(articles, seed=0) == stores and pack(articles, seed=1) != stores


def test_a_small_change_in_the_reader_margins_moves_the_thresholds_a_little() -> None:
    # where gating by margin and by probability catch about as many, packing the reader's numbers (margins moved by a
    # few hundredths) must not send the choice to another end of that ridge (README, The reader: 0.39 -> 0.32 once)
    for seed in range(8):
        rng = np.random.default_rng(seed)
        yes = np.r_[np.ones(1400, bool), np.zeros(900, bool)]
        quality = rng.normal(0.0, 1.0, len(yes)) + 2.0 * yes  # one hidden answerability, seen by both with noise
        margins = 3.0 * (quality + rng.normal(0.0, 0.7, len(yes)))
        p = 1.0 / (1.0 + np.exp(-(quality + rng.normal(0.0, 0.7, len(yes)))))
        chosen = [gate_and_threshold([(margins + rng.normal(0.0, 0.05, len(yes)), p, yes)]) for _ in range(20)]
        thresholds = [t for _, t in chosen]
        assert max(thresholds) - min(thresholds) <= 0.02, seed
        gate, threshold = chosen[0]
        assert (yes & ((margins < gate) | (p < threshold))).sum() / yes.sum() <= FALSE_ABSTENTION + 0.002, seed


def test_questions_are_translated_line_for_line_through_each_apertium_mode() -> None:
    """The cross-language fitting and development questions (training/translated.py) come from Apertium: one line
    per question, in order, through each mode of a route (real Apertium: scripts/test.sh installs it)."""
    from training.translated import ROUTES, translate

    asked = ["Qui est mort en juillet ?", "Combien de personnes travaillent au ministère des sports", "Quel montant en 2003"]
    spanish = translate(asked, ROUTES["piaf"]["es"])
    assert len(spanish) == 3 and "julio" in spanish[0] and "ministerio" in spanish[1] and "2003" in spanish[2]
    english = translate(asked, ROUTES["piaf"]["en"])
    assert "July" in english[0] and "2003" in english[2]
    assert "ministerio" not in english[1]


def test_the_trainer_stops_before_building_its_rows_when_apertium_cannot_translate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import training.train_answerer as trainer
    import training.translated as translated

    def build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rows were being built before Apertium was checked (about 40 minutes from nothing)")

    monkeypatch.setattr(translated.shutil, "which", lambda name: None)
    monkeypatch.setattr(trainer, "build", build)
    with pytest.raises(SystemExit, match="apt-get install apertium"):
        trainer.train(tmp_path)
    (tmp_path / "translated-dev.pkl").write_bytes(b"")  # translations cached: Apertium is not needed
    translated.check_apertium(tmp_path, "dev")
