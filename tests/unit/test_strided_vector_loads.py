"""Stride-2 pools and convs: their input rows are read by two vector loads and a
shuffle (compiler/lowering/loop_vectorizer.py); numerics against onnxruntime,
with widths whose last vector ends at the buffer's last element."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.testing.oracle import run_onnxruntime


def _model(kind: str, c: int, h: int, w: int) -> object:
    rng = np.random.default_rng(h * w)
    inits = []
    if kind == "maxpool":
        node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    elif kind == "avgpool":
        node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])
    else:  # depthwise conv, as in ShuffleNet and MobileNet
        inits = [numpy_helper.from_array(rng.standard_normal((c, 1, 3, 3)).astype(np.float32), "w")]
        node = helper.make_node("Conv", ["x", "w"], ["y"], group=c, strides=[2, 2], pads=[1, 1, 1, 1])
    graph = helper.make_graph(
        [node],
        kind,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("kind", ["maxpool", "avgpool", "depthwise"])
@pytest.mark.parametrize(("h", "w"), [(9, 33), (16, 16), (7, 35)])
def test_stride2_matches_onnxruntime(kind: str, h: int, w: int) -> None:
    c = 5
    model = _model(kind, c, h, w)
    feeds = {"x": np.random.default_rng(1).standard_normal((1, c, h, w)).astype(np.float32)}
    (expected,) = run_onnxruntime(model, feeds)
    for level in (1, 3):
        got = compiler.compile(model, opt_level=level, cache=False, num_threads=1).run(None, feeds)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
