"""Reader weights files: the trained layers and span head a :class:`assistant.answer.reader.Reader` runs.

A file (``numpy.savez``) holds a JSON ``header`` (provenance: data digests, commit, development figures) and, per
trained layer, its matrices as int8 codes with a float32 scale per output column, its biases and norms in float16,
and the span head. A second reader trained further from a first (the one for passages in another language than
the question's, ``reader-across.npz``) is stored as its int8 codes *minus* the first one's (``KEY.delta``; most are
0 or ±1, so the compressed file is a quarter of a full one) with its own scales; its header's ``base_sha256``
names the file it is a delta of, and it loads only beside that file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.layers import Layer

DELTA = ".delta"


@dataclass(frozen=True)
class Stack:
    """One reader's trained part: the layers that replace the encoder's top ones, and the span head."""

    header: dict[str, Any]
    layers: list[Layer]
    head: tuple[np.ndarray, np.ndarray]
    """``(weight [H, 2], bias [2])``: start and end logits per token."""


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of a weights file (``OSError`` / ``ValueError`` when it is missing or not one)."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def header_of(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return dict(json.loads(arrays["header"].tobytes().decode()))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def whole_arrays(path: Path, base: Path | None = None) -> dict[str, np.ndarray]:
    """The arrays of ``path``, a delta file's added back onto ``base``, the file it was made from (``ValueError``
    otherwise)."""
    arrays = read_arrays(path)
    header = header_of(arrays)
    deltas = [k for k in arrays if k.endswith(DELTA)]
    if deltas:
        if base is None or header.get("base_sha256") != sha256(base):
            raise ValueError(f"it is a delta of the reader file with SHA-256 {header.get('base_sha256')}, not of {base}")
        codes = read_arrays(base)
        for key in deltas:
            name = key[: -len(DELTA)]
            arrays[name] = (codes[name].astype(np.int16) + arrays.pop(key)).astype(np.int8)
    return arrays


def load_stack(path: Path, base: Path | None = None) -> Stack:
    """The stack in ``path``; a delta file needs ``base``, the file it was made from (``ValueError`` otherwise).

    ``KeyError`` / ``OSError`` / ``ValueError`` on a damaged or missing file: the caller says how to rebuild it.
    """
    arrays = whole_arrays(path, base)
    header = header_of(arrays)
    count = len({k.split(".")[1] for k in arrays if k.startswith("layers.")})
    head = arrays["head.weight"].astype(np.float32).T.copy(), arrays["head.bias"].astype(np.float32)
    return Stack(header, [_layer(arrays, i) for i in range(count)], head)


def delta_arrays(trained: dict[str, np.ndarray], base: dict[str, np.ndarray], header: dict[str, Any]) -> dict[str, np.ndarray]:
    """``trained``'s arrays stored against ``base``'s (what :func:`load_stack` reads back exactly), ``header`` as its header."""
    out = {"header": np.frombuffer(json.dumps(header).encode(), np.uint8)}
    for key, value in trained.items():
        if key == "header":
            continue
        if value.dtype == np.int8:
            delta = value.astype(np.int16) - base[key].astype(np.int16)
            if np.abs(delta).max() > 127:
                raise ValueError(f"{key} moved too far from the base file to be stored as an int8 delta")
            out[key + DELTA] = delta.astype(np.int8)
        else:
            out[key] = value
    return out


def _layer(arrays: dict[str, np.ndarray], i: int) -> Layer:
    def a(name: str) -> np.ndarray:
        key = f"layers.{i}.{name}"
        value = arrays[key].astype(np.float32)
        if f"{key}.scale" in arrays:  # int8 with a scale per output column (training/reader_model.py, packed)
            value *= arrays[f"{key}.scale"]
        return np.ascontiguousarray(value)

    return Layer(qkv=a("qkv"), qkv_bias=a("qkv_bias"), out=a("out"), out_bias=a("out_bias"), attention_norm=(a("norm1_w"), a("norm1_b")),
                 up=a("up"), up_bias=a("up_bias"), down=a("down"), down_bias=a("down_bias"), output_norm=(a("norm2_w"), a("norm2_b")))
