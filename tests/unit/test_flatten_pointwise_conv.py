"""flatten-pointwise-conv: 1x1 NCHW convs on [N, C, 1, H*W], numerics against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.testing.oracle import run_onnxruntime


def _model(h: int, w: int, group: int) -> object:
    """ShuffleNet's unit tail: grouped 1x1 conv + bias, residual add, relu."""
    rng = np.random.default_rng(h * w + group)
    c = 8 * group
    weight = numpy_helper.from_array(rng.standard_normal((c, c // group, 1, 1)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], group=group),
        helper.make_node("Add", ["c", "x"], ["a"]),
        helper.make_node("Relu", ["a"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "pointwise",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, h, w])],
        [weight, bias],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(("h", "w", "group"), [(7, 7, 4), (14, 14, 4), (3, 5, 1)])
@pytest.mark.parametrize("opt_level", [2, 3])
def test_flattened_conv_matches_onnxruntime(h: int, w: int, group: int, opt_level: int) -> None:
    model = _model(h, w, group)
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, f"graph-optimize{{level={opt_level}}}")
    text = compiler.print_mlir(module)
    assert f"x1x{h * w}xf32>" in text, "the conv did not run on [N, C, 1, H*W]"
    feeds = {"x": np.random.default_rng(1).standard_normal((1, 8 * group, h, w)).astype(np.float32)}
    compiled = compiler.compile(model, opt_level=opt_level, cache=False, num_threads=1)
    (expected,) = run_onnxruntime(model, feeds)
    np.testing.assert_allclose(compiled.run(None, feeds)[0], expected, rtol=1e-4, atol=1e-4)
