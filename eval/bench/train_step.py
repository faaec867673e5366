"""How fast one training step of the reader runs: attention written out or fused, float32 or bfloat16, side by side.

    .venv/bin/python eval/bench/train_step.py [--repeat 5] [--out eval/results/train-step-DATE.json]

The shipped reader's shape (:func:`training.reader_model.build_model`: e5-small's top six layers and the span head,
from the encoder's own weights), a batch of :data:`training.train_reader.BATCH_TOKENS` tokens at two lengths (the
pairs' typical length and a long one), a tenth of each sequence padding; forward, cross-entropy, backward, AdamW.
Four variants, interleaved round by round so that the machine's drift falls on each alike: attention written out as
the trainer had it until 2026-12-06 (``softmax(q·kᵀ/√d + mask)·v``), PyTorch's fused ``scaled_dot_product_attention``
(the trainer's since), and each with the forward pass under CPU autocast to bfloat16 (``--precision bf16``). Prints and writes
the median seconds per step and each variant's ratio to the written-out float32 step.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.index.encoder import E5Encoder  # noqa: E402
from training.reader_model import build_model, load_torch  # noqa: E402
from training.train_reader import BATCH_TOKENS, FROZEN  # noqa: E402

SHAPES = {"typical (32 x 192)": (32, 192), "long (16 x 384)": (16, 384)}
VARIANTS = ("written-out float32", "fused float32", "written-out bf16", "fused bf16")


def _written_out(layer: Any, torch: Any) -> Any:
    """``layer``'s forward with the attention as the trainer wrote it before the fused kernel."""
    nn = torch.nn

    def forward(x: Any, mask: Any) -> Any:
        b, t, h = x.shape
        q, k, v = (x @ layer.qkv + layer.qkv_bias).split(h, dim=-1)
        shape = lambda z: z.view(b, t, 12, h // 12).transpose(1, 2)  # noqa: E731
        scores = (shape(q) @ shape(k).transpose(-1, -2) / math.sqrt(h // 12)).masked_fill(~mask[:, None, None, :], -1e9)
        mixed = (scores.softmax(-1) @ shape(v)).transpose(1, 2).reshape(b, t, h)
        x = nn.functional.layer_norm(x + mixed @ layer.out + layer.out_bias, (h,), layer.norm1_w, layer.norm1_b, 1e-12)
        hidden = nn.functional.gelu(x @ layer.up + layer.up_bias, approximate="tanh")
        return nn.functional.layer_norm(x + hidden @ layer.down + layer.down_bias, (h,), layer.norm2_w, layer.norm2_b, 1e-12)

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed steps per variant and shape (after one warm-up each)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"train-step-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    torch = load_torch()
    encoder = E5Encoder()
    rng = np.random.default_rng(0)
    models = {}
    for variant in VARIANTS:
        model = build_model(encoder.layers, FROZEN)
        if variant.startswith("written-out"):
            for layer in model.layers:
                layer.forward = _written_out(layer, torch)
        models[variant] = (model, torch.optim.AdamW(model.parameters(), lr=1e-4))
    times: dict[str, dict[str, list[float]]] = {shape: {v: [] for v in VARIANTS} for shape in SHAPES}
    for shape, (b, t) in SHAPES.items():
        assert b * t <= BATCH_TOKENS
        x = torch.from_numpy(rng.standard_normal((b, t, 384)).astype(np.float32))
        mask = torch.ones(b, t, dtype=torch.bool)
        mask[: b // 2, int(t * 0.8) :] = False  # half the rows a fifth padding: a tenth of the batch
        target = torch.from_numpy(rng.integers(0, int(t * 0.8), (b, 2)))
        for round_ in range(args.repeat + 1):
            for variant in VARIANTS:
                model, optimiser = models[variant]
                began = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=variant.endswith("bf16")):
                    start, end = model(x, mask)
                loss = torch.nn.functional.cross_entropy(start.float(), target[:, 0]) + torch.nn.functional.cross_entropy(end.float(), target[:, 1])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                if round_:  # the first round warms each variant up
                    times[shape][variant].append(time.perf_counter() - began)
    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": {"cpus": 2, "platform": platform.platform()},
                              "torch": torch.__version__, "repeat": args.repeat, "shapes": {}}
    for shape in SHAPES:
        medians = {v: statistics.median(times[shape][v]) for v in VARIANTS}
        base = medians[VARIANTS[0]]
        result["shapes"][shape] = {v: {"seconds_per_step": round(m, 3), "speed_over_written_out_float32": round(base / m, 2)} for v, m in medians.items()}
    print(json.dumps(result["shapes"], indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
