"""flatten-batched-matmul: a batched matmul by one 2-D matrix as one GEMM, numerics against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.testing.oracle import run_onnxruntime


def _model(batch: tuple[int, ...], m: int, k: int, n: int) -> object:
    """nn.MultiheadAttention's input projection as torch.onnx exports it: MatMul, bias Add, then a Relu."""
    rng = np.random.default_rng(len(batch) * 100 + m + k + n)
    weight = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["p"]),
        helper.make_node("Add", ["p", "b"], ["a"]),
        helper.make_node("Relu", ["a"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "projection",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [*batch, m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*batch, m, n])],
        [weight, bias],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(("batch", "m", "k", "n"), [((64,), 1, 64, 192), ((2, 3), 5, 16, 24), ((7,), 3, 9, 10)])
@pytest.mark.parametrize("opt_level", [2, 3])
def test_flattened_matmul_matches_onnxruntime(batch: tuple[int, ...], m: int, k: int, n: int, opt_level: int) -> None:
    model = _model(batch, m, k, n)
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, f"graph-optimize{{level={opt_level}}}")
    rows = int(np.prod(batch)) * m
    assert f"tensor<{rows}x{n}xf32>" in compiler.print_mlir(module), "the matmul did not run as one GEMM"
    feeds = {"x": np.random.default_rng(1).standard_normal((*batch, m, k)).astype(np.float32)}
    compiled = compiler.compile(model, opt_level=opt_level, cache=False)
    (expected,) = run_onnxruntime(model, feeds)
    np.testing.assert_allclose(compiled.run(None, feeds)[0], expected, rtol=1e-4, atol=1e-5)
