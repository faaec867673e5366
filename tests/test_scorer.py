"""The fitted answer scorer: its features, its weights file, and what happens when the file is bad."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant import Assistant
from assistant.answer.extractive import MAX_WORDS, Decision, Sentence, choose, decide
from assistant.answer.features import (
    ANSWER_SHAPES,
    PASSAGE_FEATURES,
    SENTENCE_FEATURES,
    Question,
    SentenceInput,
    passage_features,
    sentence_features,
    shapes,
)
from assistant.answer.scorer import RETRAIN, load_scorer
from assistant.errors import ConfigError
from assistant.text.language import anchors, language
from tests.conftest import FakeEmbedder

WEIGHTS = Path(__file__).resolve().parent.parent / "assistant" / "weights" / "answerer.json"


def question(text: str) -> Question:
    return Question.of(text, np.zeros(384, dtype=np.float32))


def test_anchors_are_numbers_and_names_in_any_language() -> None:
    assert anchors("In 1996, Microsoft bought 3,500 shares.") == {"1996", "microsoft", "3500"}
    assert anchors("Am 8. August traf Witkoff Putin.") >= {"8", "witkoff", "putin"}
    assert "the" not in anchors("The end. The start"), "sentence-initial capitals are not names"


def test_language_identification() -> None:
    assert [language(t) for t in ("Where did they meet?", "Où se sont-ils rencontrés ?", "¿Dónde se reunieron?", "Wo trafen sie sich?")] == [
        "en", "fr", "es", "de"]


def test_shapes_mark_what_the_question_does_not_hold() -> None:
    q = question("When did Witkoff meet Putin in 2025?")
    held = dict(zip(ANSWER_SHAPES, shapes("Witkoff met Putin on 6 August 2025 for three hours.", q), strict=True))
    assert held == {"number": 1.0, "year": 0.0, "name": 1.0, "quantity": 1.0}, "2025 is in the question; 6 and August are new"
    held = dict(zip(ANSWER_SHAPES, shapes("Witkoff met Putin in 2025.", q), strict=True))
    assert held == {"number": 0.0, "year": 0.0, "name": 0.0, "quantity": 0.0}, "nothing the question lacks"
    held = dict(zip(ANSWER_SHAPES, shapes("They talked in the Kremlin.", q), strict=True))
    assert held == {"number": 0.0, "year": 0.0, "name": 1.0, "quantity": 0.0}


def test_passage_features_are_relative_to_the_best_candidate() -> None:
    q = question("Who met Putin?")
    rows = passage_features(q, [0.8, 0.7], [0.9, 0.85], [0.0, 4.0], ["Nothing here.", "Witkoff met Putin."])
    column = {name: rows[:, i] for i, name in enumerate(PASSAGE_FEATURES)}
    assert column["chunk_cos_gap"].tolist() == pytest.approx([0.0, -0.1])
    assert column["bm25"].tolist() == [0.0, 1.0] and column["bm25_hit"].tolist() == [0.0, 1.0]
    assert column["anchor_share"].tolist() == [0.0, 1.0]


def test_sentence_coverage_weighs_rare_question_words() -> None:
    q = question("how long did the meeting in moscow last")
    inputs = [SentenceInput(t, 0.8, 1.0, 0, i == 0) for i, t in enumerate(
        ["The meeting in Moscow lasted three hours.", "Moscow is cold.", "Moscow is big."])]
    rows = sentence_features(q, inputs)
    coverage = rows[:, SENTENCE_FEATURES.index("coverage")]
    assert coverage[0] > coverage[1] == coverage[2] > 0


def test_choose_quotes_at_most_two_short_distinct_sentences() -> None:
    long = " ".join(["word"] * (MAX_WORDS - 1))
    found = [Sentence("c", "d", 0, 10, "First one.", 1, 0, True), Sentence("c", "d", 11, 20, "Second one.", 1, 0, True),
             Sentence("c", "d", 21, 30, "Third one.", 1, 1, True), Sentence("c", "d", 31, 40, long + ".", 1, 1, True),
             Sentence("c", "d", 0, 10, "First one.", 1, 1, True)]

    def pick(p: list[float], answerable: float = 0.9) -> list[str]:
        return [s.text for s in choose(found, Decision(int(np.argmax(p)), answerable, 0.4, np.array(p)), second_from=0.6)]

    assert pick([0.9, 0.7, 0.65, 0.1, 0.0]) == ["First one.", "Second one."]
    assert pick([0.9, 0.5, 0.1, 0.1, 0.0]) == ["First one."], "second below second_from"
    assert pick([0.9, 0.7, 0.65, 0.1, 0.0], answerable=0.3) == [], "abstains when the question is judged unanswerable"
    assert pick([0.9, 0.1, 0.1, 0.8, 0.0]) == ["First one."], "too long together"
    assert pick([0.9, 0.1, 0.1, 0.1, 0.85]) == ["First one."], "the same sentence from an overlapping chunk is not quoted twice"


def test_decide_uses_the_fitted_threshold_unless_one_is_given() -> None:
    scorer = load_scorer()
    found = [Sentence("c", "d", 0, 10, "Witkoff met Putin on 6 August.", 1, 0, True)]
    features = sentence_features(question("When did Witkoff meet Putin?"), [SentenceInput(found[0].text, 0.9, 2.0, 0, True)])
    retrieval = SimpleNamespace(vector=np.zeros(384), top_chunk_cos=0.9, top_chunk_margin=0.05)
    fitted = decide(found, features, retrieval, scorer)  # type: ignore[arg-type]
    assert fitted.threshold == scorer.abstain_below["same"] and 0.0 < fitted.answerable < 1.0
    assert decide(found, features, retrieval, scorer, min_confidence=0.01).threshold == 0.01  # type: ignore[arg-type]


def test_shipped_weights_load_and_say_where_they_came_from() -> None:
    scorer = load_scorer()
    header = scorer.header
    assert WEIGHTS.stat().st_size <= 1024 * 1024
    assert header["trained_by"] == RETRAIN
    assert set(header["data"]) == {"shared/datasets/piaf/piaf-v1.0.json", "shared/datasets/squad2-train/train-v2.0-first10.json"}
    assert header["split"]["by"] == "article" and header["commit"]
    dev = header["development"]["all/answerable"]
    assert dev["abstained"] <= 0.05 + 1e-9, "the thresholds are chosen for at most 5% false abstentions on dev"
    assert all(0.0 < t < 1.0 for t in scorer.abstain_below.values()) and 0.0 < scorer.second_from <= 1.0
    assert 0.0 < scorer.cross_language_shift < 0.1
    assert len(scorer.sentence.coef) == len(SENTENCE_FEATURES) + len(ANSWER_SHAPES)


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"header": {}})])
def test_a_bad_weights_file_is_one_clear_error(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "answerer.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_scorer(path)
    message = str(info.value)
    assert str(path) in message and RETRAIN in message and "\n" not in message


def test_the_assistant_refuses_to_answer_without_its_weights(tmp_path: Path, docs: Path) -> None:
    with Assistant(embedder=FakeEmbedder(), store=str(tmp_path / "s"), answer_weights=str(tmp_path / "missing.json")) as bot:
        bot.ingest([docs])
        with pytest.raises(ConfigError, match="missing.json"):
            bot.ask("How many hours a day do cats sleep?")
