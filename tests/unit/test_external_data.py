"""Models whose weights live in external data files beside the .onnx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.errors import ModelLoadError
from compiler.testing.oracle import assert_close, run_onnxruntime


def _save(tmp_path: Path, scale: float = 1.0) -> Path:
    rng = np.random.RandomState(0)
    w = numpy_helper.from_array((rng.randn(16, 8) * scale).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.randn(8).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "model.onnx"
    onnx.save_model(
        model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
        location="weights.bin", size_threshold=0,
    )
    return path


def test_external_data_imports_and_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))
    path = _save(tmp_path)
    assert (tmp_path / "weights.bin").stat().st_size > 0
    feeds = {"x": np.random.RandomState(1).randn(2, 16).astype(np.float32)}
    expected = run_onnxruntime(str(path), feeds)
    assert_close(compiler.interpret(compiler.import_onnx(path), feeds), expected, rtol=1e-6)
    assert_close(compiler.compile(path).run(None, feeds), expected, rtol=1e-6)
    # compiler-opt reads the .onnx from its path, so the weights resolve too.
    out = subprocess.run(
        [sys.executable, "-m", "compiler.tools.opt", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "graph.matmul" in out.stdout


def test_changed_external_data_is_recompiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model cache keys on the external data files too, not only the .onnx bytes."""
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))
    feeds = {"x": np.ones((2, 16), np.float32)}
    path = _save(tmp_path, scale=1.0)
    first = compiler.compile(path).run(None, feeds)[0]
    _save(tmp_path, scale=2.0)  # same .onnx bytes, new weights.bin
    second = compiler.compile(path).run(None, feeds)[0]
    assert_close([second], run_onnxruntime(str(path), feeds), rtol=1e-6)
    assert not np.allclose(first, second)


def test_missing_external_data_is_one_clear_error(tmp_path: Path) -> None:
    path = _save(tmp_path)
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(ModelLoadError) as err:
        compiler.import_onnx(path)
    assert "model.onnx" in str(err.value)
    out = subprocess.run(
        [sys.executable, "-m", "compiler.tools.opt", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
