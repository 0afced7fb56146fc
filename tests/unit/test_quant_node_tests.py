"""ONNX's own node tests of the quantization ops, through compiler.onnx_backend.

One or two per op, so the file stays fast (each compiles a small model). All
the int8/uint8/int16 float32 cases of these ops pass; float8, int4/int2,
uint16 and opset-28 cases are refused (unsupported element types), and the
float16-scale QLinearMatMul cases import but wait for native float16 tensors.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import onnx.backend.test.case.node as node_cases
import pytest

import compiler.onnx_backend as backend

SELECTED = {
    "test_quantizelinear", "test_quantizelinear_blocked_asymmetric", "test_dequantizelinear_axis",
    "test_dequantizelinear_blocked", "test_dynamicquantizelinear_min_adjusted", "test_matmulinteger",
    "test_convinteger_with_padding", "test_qlinearconv", "test_qlinearmatmul_3D_uint8_float32",
}


def _collect() -> dict[str, object]:
    """The selected cases. `collect_testcases(None)` builds all ~1600 node
    cases (half a minute); importing the quantization ops' case modules runs
    just their exports, which append to the package's case list."""
    for module in ("quantizelinear", "dequantizelinear", "dynamicquantizelinear", "matmulinteger",
                   "convinteger", "qlinearconv", "qlinearmatmul"):
        importlib.import_module(f"{node_cases.__name__}.{module}")
    return {c.name: c for c in node_cases._NodeTestCases if c.name in SELECTED}


CASES = _collect()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def test_every_selected_case_exists() -> None:
    assert set(CASES) == SELECTED


@pytest.mark.parametrize("name", sorted(CASES))
def test_node_case(name: str) -> None:
    case: Any = CASES[name]
    rep = backend.prepare(case.model)
    for inputs, outputs in case.data_sets:
        got = rep.run(inputs)
        assert len(got) == len(outputs)
        for g, w in zip(got, outputs, strict=True):
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-6, atol=0)
