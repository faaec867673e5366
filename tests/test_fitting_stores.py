"""The fitting stores' plan: every row builder asks the same questions over the same stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATASETS, FakeEmbedder


def _asked(stores: list) -> set[tuple[str, str, str]]:
    return {(s.name, qa.id, kind) for s in stores for _, questions, kind in s.asked for qa in questions}


def test_a_splits_plan_asks_what_the_whole_plan_asks_of_that_split() -> None:
    """The translated rows (one split's articles) must meet their originals' stores: same store, same kind."""
    if not (SHARED_DATASETS / "piaf").exists() or not (SHARED_DATASETS / "squad2-train").exists():
        pytest.skip(f"training data not found at {SHARED_DATASETS}")
    from training.answerer_data import load_articles
    from training.stores import plan

    articles = load_articles()
    whole = plan(articles)
    held = {s.name: {(a.title, i) for a, i in s.paragraphs} for s in whole}
    for split in ("train", "dev", "test"):
        mine = [a for a in articles if a.split == split]
        ids = {qa.id for a in mine for qa in a.questions}
        assert _asked(plan(mine)) == {row for row in _asked(whole) if row[1] in ids}, split
    for s in whole:
        for article, questions, kind in s.asked:  # absent questions' paragraphs are not in their store; the others' are
            inside = {(article.title, qa.paragraph) in held[s.name] for qa in questions}
            assert inside <= ({False} if kind == "absent" else {True}), (s.name, article.title, kind)
    assert {s.name for s in whole} >= {"full", "minus-0", "minus-3", "small-train-0", "small-dev-0", "small-test-0"}


def test_a_fitting_store_in_a_moved_work_folder_holds_each_paragraph_once(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    from assistant import Assistant
    from training.stores import fill

    before = tmp_path / "work-before" / "docs"
    before.mkdir(parents=True)
    for n, text in enumerate(["The treaty was signed at Versailles in 1919.", "Le traité fut signé à Versailles."]):
        (before / f"p{n}.txt").write_text(text, encoding="utf-8")
    store = tmp_path / "store"
    with Assistant(store=str(store), embedder=fake_embedder) as bot:  # type: ignore[arg-type]
        fill(bot, sorted(before.iterdir()))
    after = before.parent.rename(tmp_path / "work-after") / "docs"  # the work folder renamed, its store kept
    files = sorted(after.iterdir())
    with Assistant(store=str(store), embedder=fake_embedder) as bot:  # type: ignore[arg-type]
        fill(bot, files)
        assert sorted(d.source for d in bot.documents()) == [str(f) for f in files]
        assert bot.status().chunks == 2
