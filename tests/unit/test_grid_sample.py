"""GridSample: imported (decomposed into per-dim taps and gather_elements) and
run by the reference interpreter against onnxruntime over every mode, padding
mode and align_corners, with grid points outside [-1, 1] so the padding
modes matter; a few compiled at O0 and O3. ONNX's own node tests run through
`compiler conformance` (tests/conformance/).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator

import numpy as np
import onnx
import pytest
from onnx import helper

import compiler
from compiler.errors import CompilerError
from compiler.testing import oracle

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


def _model(
    x_shape: tuple[int, ...], grid_shape: tuple[int, ...], opset: int, **attrs: object
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(zlib.crc32(repr((x_shape, grid_shape, attrs)).encode()))
    feeds = {
        "x": rng.uniform(-3, 3, size=x_shape).astype(np.float32),
        "grid": rng.uniform(-1.6, 1.6, size=grid_shape).astype(np.float32),
    }
    node = helper.make_node("GridSample", ["x", "grid"], ["y"], name="gs", **attrs)
    graph = helper.make_graph(
        [node], "gs",
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, list(v.shape)) for n, v in feeds.items()],
        [onnx.ValueInfoProto(name="y")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset <= 18 else 10
    return model, feeds


_2D = list(itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (0, 1)))


@pytest.mark.parametrize(("mode", "padding", "align"), _2D, ids=[f"{m}-{p}-ac{a}" for m, p, a in _2D])
def test_2d_matches_onnxruntime(mode: str, padding: str, align: int) -> None:
    if (mode, padding) == ("bicubic", "border"):
        # onnxruntime clamps each cubic tap but not the coordinate (as PyTorch);
        # ONNX's reference (opset-20 names only) and node tests clamp an
        # out-of-range coordinate first, and so does the compiler.
        model, feeds = _model((2, 3, 4, 5), (2, 3, 6, 2), 20, mode="cubic", padding_mode=padding,
                              align_corners=align)
        want = oracle.run_reference(model, feeds)
    else:
        model, feeds = _model((2, 3, 4, 5), (2, 3, 6, 2), 16, mode=mode, padding_mode=padding,
                              align_corners=align)
        want = oracle.run_onnxruntime(model, feeds)
    got = compiler.interpret(compiler.import_onnx(model), feeds)
    oracle.assert_close(got, want, rtol=1e-5)


@pytest.mark.parametrize("mode", ["linear", "nearest"])
def test_volumetric_opset20_matches_onnxruntime(mode: str) -> None:
    model, feeds = _model((1, 2, 3, 4, 5), (1, 2, 3, 4, 3), 20, mode=mode, padding_mode="border")
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.interpret(compiler.import_onnx(model), feeds)
    oracle.assert_close(got, want, rtol=1e-5)


@pytest.mark.parametrize("level", [0, 3])
@pytest.mark.parametrize(("mode", "padding"), [("bilinear", "zeros"), ("nearest", "reflection")])
def test_compiled_matches_onnxruntime(mode: str, padding: str, level: int) -> None:
    model, feeds = _model((1, 2, 5, 4), (1, 3, 4, 2), 16, mode=mode, padding_mode=padding)
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.compile(model, opt_level=level).run(None, feeds)
    oracle.assert_close(got, want, rtol=1e-4)


def test_opset16_needs_4d_input() -> None:
    model, _ = _model((1, 2, 3, 4, 5), (1, 2, 3, 4, 3), 16)
    with pytest.raises(CompilerError, match="takes 4-D input") as err:
        compiler.import_onnx(model)
    assert "'gs'" in str(err.value) and "GridSample" in str(err.value)
