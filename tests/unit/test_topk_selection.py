"""TopK by selection (compiler/compute/sort.py): k passes over the row when k is small
next to n, rank counting otherwise; both give onnxruntime's indices, ties to the lower
position, and selection orders NaN above every number."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.compute.sort import SELECTION_RATIO
from compiler.testing.oracle import run_onnxruntime


def _topk(n: int, k: int, largest: int, elem: int = TensorProto.FLOAT) -> object:
    graph = helper.make_graph(
        [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, largest=largest)],
        "topk",
        [helper.make_tensor_value_info("x", elem, [3, n])],
        [helper.make_tensor_value_info("v", elem, [3, k]), helper.make_tensor_value_info("i", TensorProto.INT64, [3, k])],
        [helper.make_tensor("k", TensorProto.INT64, [1], [k])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("k", [1, 5, 16, 40])
@pytest.mark.parametrize("largest", [1, 0])
def test_indices_match_onnxruntime_with_ties(k: int, largest: int) -> None:
    n = 50
    model = _topk(n, k, largest)
    compiled = compiler.compile(model, cache=False)
    algorithm = "topk_select" if k * SELECTION_RATIO <= n else "topk_rank"
    assert algorithm in str(compiler.print_mlir(compiler.run_pipeline(
        compiler.import_onnx(model), "graph-optimize{level=3},convert-graph-to-loop")))
    x = np.random.default_rng(k + largest).integers(0, 12, (3, n)).astype(np.float32)  # many ties
    want = run_onnxruntime(model, {"x": x})
    got = compiled.run(None, {"x": x})
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])


def test_int32_rows_by_selection() -> None:
    model = _topk(30, 4, 1, TensorProto.INT32)
    x = np.random.default_rng(3).integers(-5, 5, (3, 30)).astype(np.int32)
    want = run_onnxruntime(model, {"x": x})
    got = compiler.compile(model, cache=False).run(None, {"x": x})
    np.testing.assert_array_equal(got[1], want[1])


def test_nan_is_above_every_number() -> None:
    model = _topk(20, 5, 1)
    x = np.arange(60, dtype=np.float32).reshape(3, 20)
    x[0, [3, 11]] = np.nan
    _, idx = compiler.compile(model, cache=False).run(None, {"x": x})
    assert idx[0].tolist() == [3, 11, 19, 18, 17]  # NaNs first, by position, then the largest
    assert idx[1].tolist() == [19, 18, 17, 16, 15]
