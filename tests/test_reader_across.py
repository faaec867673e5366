"""The across-language reader: stored as a delta of the reader it was trained from, and reading only the passages
in another language than the question's (a deterministic one-layer fake; the shipped pair is checked in
``test_reader_training.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from assistant.answer.reader import Reader, Window
from assistant.answer.reader_file import delta_arrays, load_stack, read_arrays, sha256
from assistant.errors import ConfigError
from assistant.types import Chunk, Span

H = 4
TEXT = "aaaa bbbb cccc dddd"
WINDOW = Window(np.zeros(8, np.int64), 3, np.array([-1, 0, 5, 10, 15]), np.array([-1, 4, 9, 14, 19]))
"""``<s>`` 0, question 1-2, ``passage:`` prefix 3, then one token per word of :data:`TEXT` (4-7), ``</s>``s."""


def _arrays(rng: np.random.Generator, head_dim: int) -> dict[str, np.ndarray]:
    """A one-layer reader over eleven frozen layers whose head reads hidden dimension ``head_dim`` as start and end."""
    out: dict[str, np.ndarray] = {"header": np.frombuffer(json.dumps({"frozen": 11}).encode(), np.uint8)}
    for name, shape in (("qkv", (H, 3 * H)), ("out", (H, H)), ("up", (H, 4 * H)), ("down", (4 * H, H))):
        out[f"layers.0.{name}"] = rng.integers(-127, 128, shape).astype(np.int8)
        out[f"layers.0.{name}.scale"] = rng.random(shape[1]).astype(np.float32)
        out[f"layers.0.{name}_bias"] = np.zeros(shape[1], np.float16)
    for norm in ("norm1", "norm2"):
        out[f"layers.0.{norm}_w"], out[f"layers.0.{norm}_b"] = np.ones(H, np.float16), np.zeros(H, np.float16)
    out["head.weight"] = np.zeros((2, H), np.float16)
    out["head.weight"][:, head_dim] = 1
    out["head.bias"] = np.zeros(2, np.float16)
    return out


def _save(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with path.open("wb") as f:
        np.savez_compressed(f, **arrays)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(base reader, the trained-further reader in full, the same as a delta of the base)."""
    rng = np.random.default_rng(0)
    base = _arrays(rng, head_dim=0)
    trained = {k: v.copy() for k, v in base.items()} | {"head.weight": _arrays(rng, head_dim=1)["head.weight"]}  # reads dimension 1
    trained["layers.0.qkv"] = np.clip(base["layers.0.qkv"].astype(np.int16) + rng.integers(-2, 3, (H, 3 * H)), -127, 127).astype(np.int8)
    base_path = _save(tmp_path / "reader.npz", base)
    delta = delta_arrays(trained, base, {"frozen": 11, "base_sha256": sha256(base_path)})
    return base_path, _save(tmp_path / "full.npz", trained), _save(tmp_path / "reader-across.npz", delta)


def test_a_delta_file_reads_back_exactly_and_only_beside_its_base(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    base, full, delta = files
    assert any(k.endswith(".delta") for k in read_arrays(delta)), "stored as deltas"
    whole, rebuilt = load_stack(full), load_stack(delta, base)
    for a, b in zip(whole.layers, rebuilt.layers, strict=True):
        for name in ("qkv", "out", "up", "down", "qkv_bias"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(whole.head[0], rebuilt.head[0])
    with pytest.raises(ValueError, match="delta"):
        load_stack(delta)
    with pytest.raises(ValueError, match="delta"):
        load_stack(delta, full)  # another file than the one it was made from
    with pytest.raises(ValueError, match="too far"):
        delta_arrays(_arrays(np.random.default_rng(1), 0), read_arrays(base), {})  # another reader, not trained from it
    with pytest.raises(ConfigError, match="--across"):
        _ = Reader(_identity(), full, delta).across  # full.npz is not its base


def _identity() -> Any:
    """An encoder whose layers change nothing: a passage's states are the lower states given."""
    return SimpleNamespace(continue_layers=lambda x, sizes, layers, split=False: np.split(x, np.cumsum(sizes)[:-1]))


def test_passages_in_another_language_are_read_by_the_across_reader(files: tuple[Path, Path, Path]) -> None:
    base, _, delta = files
    states = np.zeros((len(WINDOW.ids) + 2, H))
    states[5, 0] = states[7, 1] = 5.0  # "bbbb" stands out in dimension 0, "dddd" in dimension 1
    chunks = [Chunk(name, "d", 0, len(TEXT), TEXT, (Span(0, len(TEXT)),)) for name in ("fr", "en")]
    windows = [(0, WINDOW), (1, WINDOW)]

    def phrases(reader: Reader, same: list[bool] | None) -> list[str]:
        return [TEXT[r.span.start : r.span.end] for r in reader.read_from(chunks, windows, [states, states], same)]

    paired = Reader(_identity(), base, delta)
    assert phrases(paired, [True, False]) == ["bbbb", "dddd"], "the second passage is in another language: its own reader"
    assert phrases(paired, [True, True]) == ["bbbb", "bbbb"]
    assert phrases(paired, None) == ["bbbb", "bbbb"], "no languages given: one reader for all"
    assert phrases(Reader(_identity(), base), [True, False]) == ["bbbb", "bbbb"], "no across reader: the reader reads all"
