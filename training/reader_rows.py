"""The reader's readings of the scorer's rows (what it reads at run time, from the cached states).

A row's readings are what :meth:`assistant.answer.reader.Reader.read` gives at run time for the passages it reads,
computed from the lower-layer states :mod:`training.reader_data` cached (pairs it did not cache, when a re-fitted
ranking reads another passage, run through the whole encoder).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer.extractive import passages_to_read, reading_focus, same_language
from assistant.answer.reader import Reader, Reading
from assistant.answer.scorer import Scorer
from training.reader_data import Key


def readings(rows: Sequence[Any], reader: Reader, lower: dict[Key, np.ndarray], scorer: Scorer) -> list[list[Reading] | None]:
    """Per row (``(example, retrieval, found, features, ...)``), the readings of its top passages (``None``: no
    sentence to quote), each read where ``scorer``'s sentence model sends the reader at run time
    (:func:`assistant.answer.extractive.reading_focus`)."""
    out: list[list[Reading] | None] = []
    for e, retrieval, found, features, *_ in rows:
        if not found:
            out.append(None)
            continue
        chunks = passages_to_read(retrieval)
        if not chunks:
            out.append(None)
            continue
        focus = reading_focus(found, scorer.sentence_logits(features, retrieval.vector), chunks)
        windows = reader.windows(e.question.text, chunks, focus)
        counts: dict[int, int] = {}
        states: list[np.ndarray | None] = []
        for n, window in windows:
            at = counts.get(n, 0)
            counts[n] = at + 1
            cached = lower.get((e.question_id, e.kind, chunks[n].id, at))
            states.append(cached if cached is not None and len(cached) == len(window.ids) + 2 else None)
        missing = [i for i, x in enumerate(states) if x is None]
        if missing:  # not cached (a fresh clone, or a re-fitted ranking reads another passage): one encoder call for them
            ran = reader.encoder.hidden([windows[i][1].ids for i in missing], reader.encoder.layers[: reader.frozen])
            for i, x in zip(missing, ran, strict=True):
                states[i] = x
        out.append(reader.read_from(chunks, windows, [x for x in states if x is not None], same_language(retrieval, chunks)))
    return out
