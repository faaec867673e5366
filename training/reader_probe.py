"""The training probe: a short, deterministic piece of the reader's training, recorded in its weights header
(``probe``) and re-run by ``tests/test_reader_training.py`` against the shipped file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.reader import FROZEN, ReaderInput, pair_windows
from training.answerer_data import load_articles
from training.reader_model import build_model
from training.train_reader import train

PROBE_QUESTIONS = 8
PROBE_STEPS = 3


def probe(encoder: Any, frozen: int = FROZEN) -> list[float]:
    """A short, deterministic piece of training, recorded in the weights header and re-run by the tests.

    The first :data:`PROBE_QUESTIONS` answerable training-split questions of each dataset, each with its own paragraph,
    through the encoder's lower layers; :data:`PROBE_STEPS` epochs (one batch each) from the encoder's weights.
    """
    states, targets = [], []
    for dataset in ("piaf", "squad2"):
        chosen = [(a, qa) for a in load_articles() if a.dataset == dataset and a.split == "train" for qa in a.questions if qa.answers]
        for article, qa in chosen[:PROBE_QUESTIONS]:
            passage = encoder.tokenizer.tokenize(article.paragraphs[qa.paragraph], "passage")
            window = pair_windows(ReaderInput(encoder.tokenizer.tokenize(qa.text, "query").ids, passage), encoder.window, encoder.file.vocabulary)[0]
            text, start = qa.answers[0]
            states.append(encoder.hidden([window.ids], encoder.layers[:frozen])[0].astype(np.float16))
            targets.append(window.label((start, start + len(text))))
    model = build_model(encoder.layers, frozen)
    losses = train(model, states, np.array(targets, dtype=np.int64), Path("/nonexistent/probe.pt"), PROBE_STEPS, 1e-4, log=False, checkpoints=False)
    return [round(x, 5) for x in losses]
