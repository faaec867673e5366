"""Which library trains the reader: one training step of its shape, in PyTorch or JAX, timed here.

    python eval/bench/train_frameworks.py torch   # in a venv with torch==2.13.0 (the train extra)
    python eval/bench/train_frameworks.py jax     # in a venv with: pip install jax optax

The step: two post-layer-norm transformer layers (384 wide, 12 heads, feed-forward 1536, as e5-small's top
layers), a start/end head, cross-entropy, AdamW; a batch of 16 sequences of 256 tokens; 10 steps timed after a
warm-up step (JAX's includes compilation). Prints ms per step and tokens per second.
"""

from __future__ import annotations

import sys
import time

import numpy as np

H, F, HEADS, B, T, STEPS = 384, 1536, 12, 16, 256, 10


def run_torch() -> tuple[str, float]:
    import torch

    torch.set_num_threads(2)
    layers = torch.nn.ModuleList([torch.nn.TransformerEncoderLayer(H, HEADS, F, dropout=0.0, activation="gelu", batch_first=True) for _ in range(2)])
    head = torch.nn.Linear(H, 2)
    optimiser = torch.optim.AdamW([*layers.parameters(), *head.parameters()], 3e-5)
    x = torch.randn(B, T, H)
    start, end = torch.zeros(B, dtype=torch.long), torch.ones(B, dtype=torch.long)

    def step() -> None:
        h = x
        for layer in layers:
            h = layer(h)
        logits = head(h)
        loss = torch.nn.functional.cross_entropy(logits[..., 0], start) + torch.nn.functional.cross_entropy(logits[..., 1], end)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    step()
    began = time.perf_counter()
    for _ in range(STEPS):
        step()
    return f"torch {torch.__version__}", (time.perf_counter() - began) / STEPS


def run_jax() -> tuple[str, float]:
    import jax
    import jax.numpy as jnp
    import optax

    def layer_params(key: object) -> dict[str, object]:
        a, b, c, d = jax.random.split(key, 4)  # type: ignore[arg-type]
        return {"qkv": jax.random.normal(a, (H, 3 * H)) * 0.02, "o": jax.random.normal(b, (H, H)) * 0.02,
                "up": jax.random.normal(c, (H, F)) * 0.02, "down": jax.random.normal(d, (F, H)) * 0.02,
                "g1": jnp.ones(H), "g2": jnp.ones(H)}

    def norm(x: object, g: object) -> object:
        mean = x.mean(-1, keepdims=True)  # type: ignore[attr-defined]
        var = ((x - mean) ** 2).mean(-1, keepdims=True)  # type: ignore[operator]
        return (x - mean) / jnp.sqrt(var + 1e-12) * g  # type: ignore[operator]

    def layer(p: dict[str, object], x: object) -> object:
        q, k, v = jnp.split(x @ p["qkv"], 3, -1)  # type: ignore[operator]
        heads = lambda t: t.reshape(B, T, HEADS, H // HEADS).transpose(0, 2, 1, 3)  # noqa: E731
        attention = jax.nn.softmax(heads(q) @ heads(k).transpose(0, 1, 3, 2) / np.sqrt(H // HEADS), -1) @ heads(v)
        x = norm(x + attention.transpose(0, 2, 1, 3).reshape(B, T, H) @ p["o"], p["g1"])  # type: ignore[operator]
        return norm(x + jax.nn.gelu(x @ p["up"]) @ p["down"], p["g2"])  # type: ignore[operator]

    def loss(p: dict[str, object], x: object) -> object:
        for lp in p["layers"]:  # type: ignore[attr-defined]
            x = layer(lp, x)
        logits = x @ p["head"]  # type: ignore[operator]
        return -(jax.nn.log_softmax(logits[..., 0], -1)[:, 0].mean() + jax.nn.log_softmax(logits[..., 1], -1)[:, 1].mean())

    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"layers": [layer_params(keys[0]), layer_params(keys[1])], "head": jax.random.normal(keys[2], (H, 2)) * 0.02}
    optimiser = optax.adamw(3e-5)
    state = optimiser.init(params)

    @jax.jit
    def step(p: object, s: object, x: object) -> tuple[object, object, object]:
        value, grads = jax.value_and_grad(loss)(p, x)
        updates, s = optimiser.update(grads, s, p)
        return optax.apply_updates(p, updates), s, value

    x = jnp.asarray(np.random.default_rng(0).standard_normal((B, T, H)).astype(np.float32))
    params, state, value = step(params, state, x)
    value.block_until_ready()  # type: ignore[attr-defined]
    began = time.perf_counter()
    for _ in range(STEPS):
        params, state, value = step(params, state, x)
    value.block_until_ready()  # type: ignore[attr-defined]
    return f"jax {jax.__version__}", (time.perf_counter() - began) / STEPS


if __name__ == "__main__":
    name, seconds = {"torch": run_torch, "jax": run_jax}[sys.argv[1] if len(sys.argv) > 1 else "torch"]()
    print(f"{name}: {seconds * 1000:.0f} ms per step, {B * T / seconds:,.0f} tokens/s")
