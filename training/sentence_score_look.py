"""How the reader's per-sentence score is made, compared on development questions (nothing is fitted; a look).

    .venv/bin/python -m training.sentence_score_look [--workdir DIR] [--split dev] [--out FILE]

The quoted sentence is the best of *sentence model's logit + w x reader's sentence score*. Today a sentence's
reader score is the best span starting in it, in raw logits (:func:`assistant.answer.reader._sentence_scores`),
which compares windows and passages on scales the model never learnt to share (each window's softmax is its own).
This look reads the split's rows once with the shipped reader, keeps every window's start and end logits
(memoised in ``WORKDIR/reader/logits-SPLIT-DIGEST.pkl``), and scores each way of making the sentence score
with :func:`training.thresholds.choose_reader_weight` (the share of answerable questions whose chosen sentence
holds the answer, per weight; the trainer's own rule):

- ``best_span``: today's score;
- ``over_null``: the same minus its window's no-answer score (``<s>``'s start + end);
- ``log_prob``: the same with each window's start and end logits as log-probabilities (log-softmax);
- ``start_mass``: log of the probability that the answer starts in the sentence (log-sum-exp of its tokens'
  start log-probabilities);
- ``best_span_top1``/``top2``: today's score with only the first one or two passages read (reading is most of an
  ``ask()``'s time; the sentence choice only, not abstention).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import WEIGHTS, Reader, Reading, Window, _passage_logits, best_ends  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from assistant.types import Chunk  # noqa: E402
from training.reader_data import cached_lower  # noqa: E402
from training.reader_rows import readings  # noqa: E402
from training.thresholds import choose_reader_weight  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402

Logits = list[tuple[int, Window, np.ndarray]]
"""One row's windows: (index of its chunk, window, ``[tokens, 2]`` start and end logits)."""


class RecordingReader(Reader):
    """The shipped reader, keeping the logits of every window it reads (in order of the rows read)."""

    def __init__(self, encoder: Any, path: Path | None = None) -> None:
        super().__init__(encoder, path)
        self.seen: list[Logits] = []

    def readings(self, chunks: Sequence[Chunk], windows: list[tuple[int, Window]], states: Sequence[np.ndarray]) -> list[Reading]:
        weight, bias = self.head
        self.seen.append([(n, w, (h @ weight + bias).astype(np.float32)) for (n, w), h in zip(windows, states, strict=True)])
        return super().readings(chunks, windows, states)


def _lse(x: np.ndarray) -> float:
    return float(np.logaddexp.reduce(x))


def per_token(kind: str, logits: np.ndarray, window: Window) -> tuple[np.ndarray, str]:
    """Per passage token of the window, its score under ``kind``, and how a sentence pools them (max or lse)."""
    start, end = logits[:, 0], logits[:, 1]
    if kind == "log_prob" or kind == "start_mass":
        start, end = start - _lse(start), end - _lse(end)
    s, e = _passage_logits(start, end, window)
    if kind == "start_mass":
        return s, "lse"
    scores = s + best_ends(e)
    if kind == "over_null":
        scores = scores - float(logits[0, 0] + logits[0, 1])
    return scores, "max"


KINDS = ("best_span", "over_null", "log_prob", "start_mass")


def sentence_scores(kind: str, chunk: Chunk, windows: Logits, n: int) -> np.ndarray:
    """Chunk ``n``'s per-sentence reader scores under ``kind`` (``-inf``: none of its tokens read)."""
    out = np.full(len(chunk.sentences), -np.inf)
    for m, window, logits in windows:
        if m != n:
            continue
        scores, pool = per_token(kind, logits, window)
        absolute = chunk.start + window.starts
        real = window.starts >= 0
        for i, sentence in enumerate(chunk.sentences):
            inside = real & (absolute >= sentence.start) & (absolute < sentence.end)
            if inside.any():
                value = float(scores[inside].max()) if pool == "max" else _lse(scores[inside])
                out[i] = value if pool == "max" or not np.isfinite(out[i]) else float(np.logaddexp(out[i], value))
    return out


def rescored(read: list[list[Reading] | None], seen: list[Logits], chunks: list[list[Chunk]], kind: str,
             passages: int = 3) -> list[list[Reading] | None]:
    """The readings with their sentence scores made the ``kind`` way (spans untouched); passages after the first
    ``passages`` count as not read."""
    out: list[list[Reading] | None] = []
    it = iter(zip(seen, chunks, strict=True))
    for row in read:
        if row is None:
            out.append(None)
            continue
        windows, read_chunks = next(it)
        out.append([Reading(r.chunk_id, r.span, sentence_scores(kind, c, windows, n) if n < passages else np.full(len(c.sentences), -np.inf), r.phrases)
                    for n, (r, c) in enumerate(zip(row, read_chunks, strict=True))])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--split", default="dev", choices=["dev", "small-dev"], help="development only: this is for choosing")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--reader", type=Path, help="a reader weights file (default: the shipped one)")
    args = parser.parse_args()
    from assistant.answer.extractive import passages_to_read

    scorer = load_scorer()
    with (args.workdir / "examples.pkl").open("rb") as f:
        examples = [e for e in pickle.load(f)["examples"] if e.group == args.split]
    shifted(examples, scorer)
    rows = sentence_rows(examples, scorer)
    reader = RecordingReader(E5Encoder(), args.reader)
    built = (args.workdir / "examples.pkl").stat()
    weights = hashlib.sha256((args.reader or Path(str(resources.files("assistant").joinpath("weights", WEIGHTS)))).read_bytes()).hexdigest()
    digest = hashlib.sha256(json.dumps([weights, built.st_size, built.st_mtime_ns, "read-around"]).encode()).hexdigest()[:12]
    memo = args.workdir / "reader" / f"logits-{args.split}-{digest}.pkl"
    if memo.exists():
        with memo.open("rb") as f:
            read, seen = pickle.load(f)
    else:
        read = readings(rows, reader, cached_lower(args.workdir, reader.frozen), scorer)
        seen = reader.seen
        with memo.open("wb") as f:
            pickle.dump((read, seen), f)
    chunks = [passages_to_read(retrieval) for (_, retrieval, found, *_), r in zip(rows, read, strict=True) if r is not None]
    report: dict[str, Any] = {"split": args.split, "questions": sum(e.kind == "answerable" for e in examples)}
    for kind in KINDS:
        report[kind] = choose_reader_weight(rows, scorer, rescored(read, seen, chunks, kind))
        print(kind, json.dumps(report[kind]), flush=True)
    for passages in (1, 2):  # reading fewer passages would be faster: what would the choice lose?
        report[f"best_span_top{passages}"] = choose_reader_weight(rows, scorer, rescored(read, seen, chunks, "best_span", passages))
        print(f"best_span_top{passages}", json.dumps(report[f"best_span_top{passages}"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
