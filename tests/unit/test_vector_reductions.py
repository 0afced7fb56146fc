"""Vectorized float reductions (compiler/lowering/loop_vectorizer.py): softmax, layer norm and
reduce kernels keep vector partials; numerics against onnxruntime at row lengths that leave
a scalar remainder, and the default schedule's choice."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper
from xdsl.dialects import func

import compiler
from compiler.testing.oracle import run_onnxruntime


def _row_model(op: str, row: int, **attrs: object) -> object:
    inputs = ["x"]
    inits = []
    if op == "LayerNormalization":
        rng = np.random.default_rng(row)
        inits = [
            helper.make_tensor("g", TensorProto.FLOAT, [row], rng.standard_normal(row).astype(np.float32)),
            helper.make_tensor("b", TensorProto.FLOAT, [row], rng.standard_normal(row).astype(np.float32)),
        ]
        inputs = ["x", "g", "b"]
    out_shape = [3, 5, 1] if op.startswith("Reduce") else [3, 5, row]
    graph = helper.make_graph(
        [helper.make_node(op, inputs, ["y"], **attrs)],
        "rows",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5, row])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


CASES = [
    ("Softmax", {"axis": -1}),
    ("LayerNormalization", {"axis": -1}),
    ("ReduceMax", {"axes": [-1], "keepdims": 1}),
    ("ReduceSum", {"axes": [-1], "keepdims": 1}),
]


@pytest.mark.parametrize(("op", "attrs"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("row", [64, 37, 8])
def test_row_reductions_match_onnxruntime(op: str, attrs: dict[str, object], row: int) -> None:
    if op.startswith("Reduce"):
        attrs = dict(attrs)
        axes = attrs.pop("axes")
        model = _row_model(op, row, **attrs)
        model.graph.input.append(helper.make_tensor_value_info("axes", TensorProto.INT64, [1]))
        model.graph.node[0].input.append("axes")
        feeds_extra = {"axes": np.asarray(axes, dtype=np.int64)}
        model.opset_import[0].version = 18
    else:
        model = _row_model(op, row, **attrs)
        feeds_extra = {}
    x = np.random.default_rng(row).standard_normal((3, 5, row)).astype(np.float32) * 3
    feeds = {"x": x, **feeds_extra}
    (expected,) = run_onnxruntime(model, feeds)
    compiled = compiler.compile(model, cache=False, specialize=feeds_extra or None)
    (got,) = compiled.run(None, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_softmax_rows_are_reduced_in_vectors() -> None:
    """The default schedule vectorizes the max and exp-sum loops unsplit (partials reduce once per row)."""
    module = compiler.import_onnx(_row_model("Softmax", 64, axis=-1))
    compiler.run_pipeline(module, "graph-optimize{level=3},convert-graph-to-loop,default-schedule")
    (kernel,) = [op for op in module.walk() if isinstance(op, func.FuncOp) and op.sym_name.data.startswith("softmax")]
    steps = json.loads(kernel.attributes["loop.schedule"].data)
    vectorized = {s["axis"] for s in steps if s["primitive"] == "vectorize"}
    split = {s["axis"] for s in steps if s["primitive"] == "split"}
    assert {"max", "exp"} <= vectorized and not {"max", "exp"} & split
