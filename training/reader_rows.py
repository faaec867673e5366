"""The reader's readings of the scorer's rows (what it reads at run time, from the cached states).

A row's readings are what :meth:`assistant.answer.reader.Reader.read` gives at run time for the passages it reads,
computed from the lower-layer states :mod:`training.reader_data` cached (pairs it did not cache, when a re-fitted
ranking reads another passage, run through the whole encoder).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer.reader import PASSAGES_READ, Reader, Reading
from training.reader_data import Key


def readings(rows: Sequence[Any], reader: Reader, lower: dict[Key, np.ndarray]) -> list[list[Reading] | None]:
    """Per row (``(example, retrieval, found, ...)``), the readings of its top passages (``None``: no sentence to quote)."""
    out: list[list[Reading] | None] = []
    for e, retrieval, found, *_ in rows:
        if not found:
            out.append(None)
            continue
        chunks = [c.chunk for c in retrieval.ranked[:PASSAGES_READ]]
        windows = reader.windows(e.question.text, chunks)
        counts: dict[int, int] = {}
        states = []
        for n, window in windows:
            at = counts.get(n, 0)
            counts[n] = at + 1
            cached = lower.get((e.question_id, e.kind, chunks[n].id, at))
            if cached is None or len(cached) != len(window.ids) + 2:
                cached = reader.encoder.hidden([window.ids], reader.encoder.layers[: reader.frozen])[0]
            states.append(cached)
        out.append(reader.read_from(chunks, windows, states))
    return out
