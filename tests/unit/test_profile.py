"""compile(profile=True): per-kernel times, and the same numbers as onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.errors import CompilerError
from compiler.testing.oracle import assert_close, run_onnxruntime


def test_profiled_model_times_every_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Softmax", ["r"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 32])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {"x": np.random.RandomState(0).randn(4, 32).astype(np.float32)}
    compiled = compiler.compile(model, opt_level=1, profile=True)
    for _ in range(3):
        assert_close(compiled.run(None, feeds), run_onnxruntime(model, feeds))
    profiler = compiled.profiler
    assert profiler is not None
    assert profiler.kernels == ["relu_0", "softmax_0"]
    assert profiler.runs == 3
    assert (profiler.totals > 0).all()
    assert "softmax_0" in profiler.report()
    with pytest.raises(CompilerError):
        compiled.export(tmp_path / "m.so")  # the hook exists only in this process
