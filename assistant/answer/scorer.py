"""The fitted scorer: passage fusion, sentence answer probability and abstention, loaded from a weights file.

The weights come from ``python -m training.train_answerer`` (logistic regression
fitted on public training data, thresholds chosen on its development split; see
the README). At run time they are plain numbers applied with numpy: no training
library is needed to answer. The file's ``header`` records the data files and
their hashes, the split seed, the commit and the development metrics.

A missing or unreadable weights file is an error that names the file and the
command that rebuilds it: there are no built-in constants to fall back to.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.features import (
    ANSWER_SHAPES,
    ANSWERABLE_FEATURES,
    CROSS_LANGUAGE_ANSWERABLE,
    CROSS_LANGUAGE_PASSAGE,
    PASSAGE_FEATURES,
    SENTENCE_FEATURES,
    Question,
)
from assistant.errors import ConfigError
from assistant.tuning import DEFAULT

RETRAIN = "python -m training.train_answerer"


@dataclass(frozen=True)
class Linear:
    """A standardised linear model: ``((x - mean) / scale) @ coef + intercept`` is the logit."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    """One weight per feature, or a matrix with one column per output."""
    intercept_vector: np.ndarray

    @classmethod
    def of(cls, data: dict[str, Any]) -> Linear:
        return cls(*(np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")))

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept_vector)


@dataclass(frozen=True)
class Scorer:
    same_language: Linear
    """Passage fusion when question and passage share a language (all :data:`PASSAGE_FEATURES`)."""
    cross_language: Linear
    """Passage fusion across languages (only :data:`CROSS_LANGUAGE_PASSAGE`)."""
    answer_types: Linear
    """Question vector -> logit that the answer has each of :data:`ANSWER_SHAPES` (one column each)."""
    sentence: Linear
    """Logit that a sentence holds the answer, from :data:`SENTENCE_FEATURES` and the answer-type terms."""
    answerable_same: Linear
    answerable_cross: Linear
    """P(the documents answer the question), from :data:`ANSWERABLE_FEATURES` (the cross model: its cross subset)."""
    cross_language_shift: float
    """Added to the cosine of a question and a text in another language (see :meth:`shift`)."""
    abstain_below: dict[str, float]
    """Per model ("same", "cross"): abstain when P(answerable) is below this (<= 5% false abstentions on dev)."""
    second_from: float
    passages_considered: int
    header: dict[str, Any]
    reader_margin: dict[str, float] | None = None
    """Per language case ("same", "cross"): abstain when the reader's span-over-no-answer margin is below this
    (chosen on dev together with ``abstain_below``); ``None``: these weights were fitted without the reader."""
    reader_weight: float | None = None
    """How much the reader's sentence score counts beside the sentence model's logit when choosing the sentence
    (chosen on dev); ``None``: the reader's score alone."""
    reader_weight_across: float | None = None
    """The same for sentences in another language than the question's (chosen on dev questions machine-translated);
    ``None``: ``reader_weight`` for every sentence."""
    read_abstain: tuple[float, float] | None = None
    """``(weight, below)``: where the reader's gate applies (a sentence in the question's language, judged by the
    same-language model), abstain when ``logit(P) + weight x margin < below`` instead of either falling below its own
    threshold (chosen on dev, :func:`training.thresholds.choose_read_abstain`); ``None``: the two thresholds."""

    def reader_weights(self, same: np.ndarray) -> float | np.ndarray | None:
        """The reader's weight per candidate sentence (``same``: which share the question's language), for
        :func:`assistant.answer.extractive.reader_choice`; the reader alone stays alone."""
        if self.reader_weight is None or self.reader_weight_across is None:
            return self.reader_weight
        return np.where(same, self.reader_weight, self.reader_weight_across)

    def shift(self, question: Question, passage_language: str) -> float:
        """How much to raise the cosine of ``question`` with a passage in another language (0 in the same language).

        e5 scores text in another language lower than text in the question's own;
        the gap was measured on the training data (mean cosine of questions with
        unrelated text in their own language minus in the other one).
        """
        return 0.0 if passage_language == question.language else self.cross_language_shift

    def passage_scores(self, features: np.ndarray, same: np.ndarray) -> np.ndarray:
        """Fused score (a logit) per candidate chunk; ``same`` says which share the question's language."""
        if len(features) == 0:
            return np.zeros(0)
        cross = features[:, [PASSAGE_FEATURES.index(name) for name in CROSS_LANGUAGE_PASSAGE]]
        return np.where(same, self.same_language.logits(features), self.cross_language.logits(cross))

    def type_probabilities(self, question_vector: np.ndarray) -> np.ndarray:
        """P(the answer is a number, a year, a name, a quantity) for this question.

        Fitted on the question vectors of the embedder named in ``header["embedder"]``;
        vectors of another size (another embedder) get the training base rates.
        """
        if question_vector.shape[0] != len(self.answer_types.mean):
            return np.asarray(1.0 / (1.0 + np.exp(-self.answer_types.intercept_vector)))
        return np.asarray(1.0 / (1.0 + np.exp(-self.answer_types.logits(question_vector.astype(np.float64)))))

    def sentence_inputs(self, features: np.ndarray, question_vector: np.ndarray) -> np.ndarray:
        """Sentence features plus the answer-type terms: P(answer has shape | question) x (sentence holds that shape)."""
        first = SENTENCE_FEATURES.index(f"has_{ANSWER_SHAPES[0]}")
        held = features[:, first : first + len(ANSWER_SHAPES)]
        return np.hstack([features, held * self.type_probabilities(question_vector)[None, :]])

    def sentence_logits(self, features: np.ndarray, question_vector: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        return self.sentence.logits(self.sentence_inputs(features, question_vector))

    def answerable(self, features: np.ndarray, same_language: bool) -> float:
        """P(answerable) from one row of :data:`ANSWERABLE_FEATURES`."""
        if same_language:
            logit = float(self.answerable_same.logits(features))
        else:
            logit = float(self.answerable_cross.logits(features[[ANSWERABLE_FEATURES.index(n) for n in CROSS_LANGUAGE_ANSWERABLE]]))
        return 1.0 / (1.0 + math.exp(-logit))


def load_scorer(path: str | Path | None = None, packaged: str = DEFAULT.weights) -> Scorer:
    """The scorer from ``path``, or from the weights file ``packaged`` shipped in ``assistant/weights/``."""
    where = Path(path) if path else Path(str(resources.files("assistant").joinpath("weights", packaged)))
    try:
        return parse_weights(json.loads(where.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot load the answer weights {where} ({type(exc).__name__}: {exc}); rebuild them with `{RETRAIN}`") from None


@lru_cache(maxsize=4)
def cached_scorer(path: str | None = None, packaged: str = DEFAULT.weights) -> Scorer:
    return load_scorer(path, packaged)


def parse_weights(data: dict[str, Any]) -> Scorer:
    """A :class:`Scorer` from the weights file's JSON (``ValueError``/``KeyError`` when it does not fit this version)."""
    header = data["header"]
    expected = {"passage_features": PASSAGE_FEATURES, "sentence_features": SENTENCE_FEATURES, "answerable_features": ANSWERABLE_FEATURES}
    if any(tuple(header[key]) != names for key, names in expected.items()):
        raise ValueError("its feature lists differ from this version's")
    thresholds = data["thresholds"]
    scorer = Scorer(
        Linear.of(data["passage"]["same_language"]),
        Linear.of(data["passage"]["cross_language"]),
        Linear.of(data["answer_types"]),
        Linear.of(data["sentence"]),
        Linear.of(data["answerable"]["same_language"]),
        Linear.of(data["answerable"]["cross_language"]),
        float(data["cross_language_shift"]),
        {"same": float(thresholds["abstain_below"]["same"]), "cross": float(thresholds["abstain_below"]["cross"])},
        float(thresholds["second_from"]),
        int(data["passages_considered"]),
        header,
        {k: float(v) for k, v in thresholds["reader_margin"].items()} if "reader_margin" in thresholds else None,
        float(thresholds["reader_weight"]) if thresholds.get("reader_weight") is not None else None,
        float(thresholds["reader_weight_across"]) if thresholds.get("reader_weight_across") is not None else None,
        (float(thresholds["read_abstain"]["weight"]), float(thresholds["read_abstain"]["below"])) if "read_abstain" in thresholds else None,
    )
    sizes = {"sentence": (scorer.sentence, len(SENTENCE_FEATURES) + len(ANSWER_SHAPES)), "passage": (scorer.same_language, len(PASSAGE_FEATURES)),
             "answerable": (scorer.answerable_same, len(ANSWERABLE_FEATURES))}
    for name, (model, width) in sizes.items():
        if len(model.coef) != width:
            raise ValueError(f"its {name} coefficients do not match the features")
    return scorer
