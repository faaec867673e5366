"""The reader as PyTorch trains it: the encoder's top layers and a span head, its losses, and the file it ships as.

:func:`build_model` copies the encoder's layers above ``frozen`` and adds a start/end head; :func:`sentence_loss` is
the optional sentence-level term of :func:`training.train_reader.train`; :func:`export` writes what
:mod:`assistant.answer.reader` applies with numpy (:func:`packed`: the layers' matrices int8 with a scale per output
column, the rest float16); :func:`pack_across`, the across-language reader as int8 deltas of the first;
:class:`RunningAverage`, the weights averaged over a run's later checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.reader import FROZEN

SEED = 20261201


def load_torch() -> Any:
    import torch

    torch.set_num_threads(2)
    return torch


PRECISIONS = ("auto", "bf16", "float32")


def bf16_wanted(precision: str) -> bool:
    """Whether to train with the forward pass in bfloat16: ``precision`` "bf16" or "float32", or "auto": bfloat16
    where the CPU multiplies it natively (AVX512-BF16 or AMX; emulated elsewhere, and slower than float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision == "bf16"
    cpu = load_torch().cpu
    return any(getattr(cpu, name, lambda: False)() for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def build_model(encoder_layers: Sequence[Any], frozen: int = FROZEN) -> Any:
    """The trainable part: the encoder's layers above ``frozen`` (copied as they are) and a fresh span head."""
    torch = load_torch()
    torch.manual_seed(SEED)  # the head's initial weights
    nn = torch.nn

    class Layer(nn.Module):
        def __init__(self, source: Any) -> None:
            super().__init__()
            p = lambda a: nn.Parameter(torch.tensor(np.asarray(a, np.float32)))  # noqa: E731
            self.qkv, self.qkv_bias = p(source.qkv), p(source.qkv_bias)
            self.out, self.out_bias = p(source.out), p(source.out_bias)
            self.norm1_w, self.norm1_b = p(source.attention_norm[0]), p(source.attention_norm[1])
            self.up, self.up_bias = p(source.up), p(source.up_bias)
            self.down, self.down_bias = p(source.down), p(source.down_bias)
            self.norm2_w, self.norm2_b = p(source.output_norm[0]), p(source.output_norm[1])

        def forward(self, x: Any, mask: Any) -> Any:
            b, t, h = x.shape
            heads = 12
            q, k, v = (x @ self.qkv + self.qkv_bias).split(h, dim=-1)
            shape = lambda z: z.view(b, t, heads, h // heads).transpose(1, 2)  # noqa: E731
            # softmax(q·k/√d, padding masked) · v in one fused kernel: 1.5x faster a step than written out (README)
            mixed = nn.functional.scaled_dot_product_attention(shape(q), shape(k), shape(v), attn_mask=mask[:, None, None, :])
            mixed = mixed.transpose(1, 2).reshape(b, t, h)
            x = nn.functional.layer_norm(x + mixed @ self.out + self.out_bias, (h,), self.norm1_w, self.norm1_b, 1e-12)
            hidden = nn.functional.gelu(x @ self.up + self.up_bias, approximate="tanh")
            return nn.functional.layer_norm(x + hidden @ self.down + self.down_bias, (h,), self.norm2_w, self.norm2_b, 1e-12)

    class Reader(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(Layer(layer) for layer in encoder_layers[frozen:])
            self.head = nn.Linear(384, 2)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

        def forward(self, x: Any, mask: Any) -> tuple[Any, Any]:
            for layer in self.layers:
                x = layer(x, mask)
            logits = self.head(x).masked_fill(~mask[..., None], -1e4)
            return logits[..., 0], logits[..., 1]

    return Reader()


class RunningAverage:
    """The mean of a model's weights at the checkpoints from step ``start`` on: weights averaged along one run
    (README, *The reader*, "Weights averaged along the run"), by PyTorch's ``AveragedModel``; kept in the checkpoint,
    so a resumed run averages the same steps.

    >>> import torch
    >>> model = torch.nn.Linear(1, 1)
    >>> average = RunningAverage(model, start=2)
    >>> for step, w in ((1, 9.0), (2, 1.0), (3, 3.0)):
    ...     _ = model.weight.data.fill_(w)
    ...     average.add(step, model)
    >>> average.apply(model); average.count, float(model.weight.detach())
    (2, 2.0)
    """

    def __init__(self, model: Any, start: int) -> None:
        from torch.optim.swa_utils import AveragedModel

        self.start, self.averaged = start, AveragedModel(model)

    @property
    def count(self) -> int:
        return int(self.averaged.n_averaged)

    def add(self, step: int, model: Any) -> None:
        if step >= self.start:
            self.averaged.update_parameters(model)

    def state(self) -> dict[str, Any]:
        return {"start": self.start, "averaged": self.averaged.state_dict()}

    def load(self, saved: dict[str, Any]) -> None:
        self.start = saved["start"]
        self.averaged.load_state_dict(saved["averaged"])

    def apply(self, model: Any) -> None:
        if self.count:
            model.load_state_dict(self.averaged.module.state_dict())


def padded(states: Sequence[np.ndarray], index: np.ndarray) -> tuple[Any, Any]:
    torch = load_torch()
    longest = max(len(states[i]) for i in index)
    x = np.zeros((len(index), longest, 384), np.float32)
    mask = np.zeros((len(index), longest), bool)
    for row, i in enumerate(index):
        x[row, : len(states[i])] = states[i]
        mask[row, : len(states[i])] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


def sentence_loss(start_logits: Any, sentences: Sequence[np.ndarray], index: np.ndarray, starts: Any) -> Any:
    """Mean over the batch's answer-holding pairs of -log P(the answer starts in the gold start's sentence)."""
    torch = load_torch()
    ids = np.full(tuple(start_logits.shape), -2, np.int64)
    for row, i in enumerate(index):
        ids[row, : len(sentences[i])] = sentences[i]
    ids_t = torch.from_numpy(ids)
    holding = starts > 0
    if not bool(holding.any()):
        return start_logits.sum() * 0.0
    gold = ids_t.gather(1, starts[:, None])
    inside = start_logits.masked_fill(ids_t != gold, -1e4).logsumexp(-1)
    return (start_logits.logsumexp(-1) - inside)[holding].mean()


QUANTISED = ("qkv", "out", "up", "down")
"""The layers' matrices, shipped as int8 with a float32 scale per output column (the rest: float16)."""


def packed(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The trained numbers as shipped: :data:`QUANTISED` matrices int8 with a scale per output column, the rest float16."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in state.items():
        matrix = np.asarray(value, np.float32)
        if name.rsplit(".", 1)[-1] in QUANTISED:
            scale = np.abs(matrix).max(axis=0) / 127
            scale[scale == 0] = 1.0
            arrays[name] = np.round(matrix / scale).astype(np.int8)
            arrays[f"{name}.scale"] = scale.astype(np.float32)
        else:
            arrays[name] = matrix.astype(np.float16)
    return arrays


def export(model: Any, path: Path, header: dict[str, Any]) -> None:
    """The shipped file: each trained layer's matrices (int8 and a scale per column), biases, norms and head
    (float16), and the JSON header."""
    arrays = {"header": np.frombuffer(json.dumps(header).encode(), np.uint8)} | packed({k: v.numpy() for k, v in model.state_dict().items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        np.savez(f, **arrays)


def unpacked(arrays: Any, key: str) -> np.ndarray:
    """One trained tensor back from a shipped file's arrays (float32; int8 matrices times their scales)."""
    value = np.asarray(arrays[key], np.float32)
    return value * arrays[f"{key}.scale"] if f"{key}.scale" in arrays else value


def pack_across(trained: Path, base: Path, out: Path) -> None:
    """``trained`` (a full reader file trained further from ``base``) written to ``out`` as int8 deltas of ``base``."""
    from assistant.answer.reader_file import delta_arrays, header_of, load_stack, read_arrays, sha256

    arrays = read_arrays(trained)
    own = header_of(arrays)  # an average of readers keeps its own "trained_by" (training.soup_look) beside its members
    made_by = own["trained_by"] if own.get("members") else "python -m training.train_reader --across"
    header = own | {"base_sha256": sha256(base), "base_file": base.name, "trained_by": made_by}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        np.savez_compressed(f, **delta_arrays(arrays, read_arrays(base), header))
    full, packed_back = load_stack(trained), load_stack(out, base)
    if any(not np.array_equal(getattr(a, name), getattr(b, name)) for a, b in zip(full.layers, packed_back.layers, strict=True)
           for name in ("qkv", "out", "up", "down")):
        raise AssertionError(f"{out} does not read back as {trained}")
