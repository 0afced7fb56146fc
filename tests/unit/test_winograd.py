"""Winograd F(2x2,3x3) and F(4x4,3x3) convolution: the math, the pass, compiled numerics vs onnxruntime.

The compiled tests run the O3 graph pipeline with `winograd-conv{mode=f2|f4}`
forced, then compile the module (O0 adds no graph pass): odd and ragged
spatial sizes, padding 0 and 1, bias + ReLU, a residual add, channel counts
that are multiples of the blocked layout's 16 (NCHW16c transforms) and ones
that are not (NCHW transforms, 19 and 12 channels).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.api import run_pipeline
from compiler.dialects import graph as g
from compiler.dialects import winograd
from compiler.errors import CompilerError
from compiler.interpreter import interpret
from compiler.passes.graph_optimize import pipeline_spec
from compiler.passes.winograd_conv import choose_tile
from compiler.testing import oracle


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


def _direct(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = xp.shape[2] - 2, xp.shape[3] - 2
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,kc->nkhw", xp[:, :, i : i + oh, j : j + ow], w[:, :, i, j])
    return out


@pytest.mark.parametrize("m", winograd.TILES)
@pytest.mark.parametrize(("h", "w", "pad"), [(7, 9, 1), (8, 8, 0), (5, 6, 1)])
def test_transforms_compose_to_the_convolution(m: int, h: int, w: int, pad: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, h, w)).astype(np.float32)
    k = rng.standard_normal((3, 5, 3, 3)).astype(np.float32)
    oh, ow = h + 2 * pad - 2, w + 2 * pad - 2
    u = winograd.transform_weight(k, m).astype(np.float64)
    v = winograd.transform_input(x, m, (pad,) * 4, (oh, ow))  # type: ignore[arg-type]
    y = winograd.transform_output(np.einsum("xtc,xck->xtk", v, u), m, 2, (oh, ow))
    want = _direct(x, k, pad)
    assert np.abs(y - want).max() <= 1e-5 * np.abs(want).max()


@pytest.mark.parametrize("m", winograd.TILES)
def test_weight_transform_in_chunks_is_one_rounding_of_the_float64_product(m: int) -> None:
    """C = 37 is two whole chunks and a partial one; every entry is G g G^T computed
    in float64 and rounded once: within half a float32 ulp of the exact product
    (plus float64's own error)."""
    rng = np.random.default_rng(1)
    k = rng.standard_normal((24, 37, 3, 3)).astype(np.float32)
    _, gm, _ = winograd.matrices(m)
    exact = np.einsum("ai,kcij,bj->abck", gm, k.astype(np.float64), gm).reshape(-1, 37, 24)
    got = winograd.transform_weight(k, m)
    assert got.dtype == np.float32 and got.shape == exact.shape and got.flags.c_contiguous
    half_ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64) / 2
    assert (np.abs(got - exact) <= half_ulp + 1e-12 * np.abs(exact)).all()


def test_unknown_tile_is_rejected() -> None:
    with pytest.raises(ValueError, match="tile 3"):
        winograd.matrices(3)


def _model() -> onnx.ModelProto:
    """Four 3x3 stride-1 convs: 16->32 (pad 1, bias, ReLU), 32->32 + residual
    (no bias), 32->19 (pad 0, bias), 19->12 (pad 1, bias, ReLU) on a 7x9 input."""
    rng = np.random.default_rng(3)

    def weight(name: str, k: int, c: int) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.standard_normal((k, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32), name)

    def bias(name: str, k: int) -> onnx.TensorProto:
        return numpy_helper.from_array((0.1 * rng.standard_normal(k)).astype(np.float32), name)

    conv = "Conv"
    nodes = [
        helper.make_node(conv, ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["y1"]),
        helper.make_node(conv, ["y1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "y1"], ["s2"]),
        helper.make_node("Relu", ["s2"], ["y2"]),
        helper.make_node(conv, ["y2", "w3", "b3"], ["y3"], kernel_shape=[3, 3], pads=[0, 0, 0, 0]),
        helper.make_node(conv, ["y3", "w4", "b4"], ["c4"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c4"], ["y4"]),
    ]
    inits = [weight("w1", 32, 16), bias("b1", 32), weight("w2", 32, 32), weight("w3", 19, 32), bias("b3", 19)]
    inits += [weight("w4", 12, 19), bias("b4", 12)]
    graph = helper.make_graph(
        nodes,
        "winograd",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 7, 9])],
        [
            helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 32, 7, 9]),
            helper.make_tensor_value_info("y4", TensorProto.FLOAT, [1, 12, 5, 7]),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _optimized(model: onnx.ModelProto, mode: str):  # noqa: ANN202
    module = compiler.import_onnx(model)
    run_pipeline(module, pipeline_spec(3).replace("winograd-conv", f"winograd-conv{{mode={mode}}}"))
    return module


def _count(module, op_type: type) -> int:  # noqa: ANN001
    return sum(1 for op in module.walk() if isinstance(op, op_type))


@pytest.fixture(scope="module")
def case() -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[np.ndarray]]:
    model = _model()
    feeds = {"x": np.random.default_rng(4).standard_normal((1, 16, 7, 9)).astype(np.float32)}
    return model, feeds, oracle.run_onnxruntime(model, feeds)


@pytest.mark.parametrize("mode", ["f2", "f4"])
def test_compiled_o3_matches_onnxruntime(mode: str, case) -> None:  # noqa: ANN001
    model, feeds, want = case
    module = _optimized(model, mode)
    assert _count(module, g.WinogradOutputOp) == 4
    assert _count(module, g.ConvOp) == 0
    # Blocked transforms for the 16/32-channel convs, plain ones for 19 and 12 channels.
    layouts_seen = {op.properties.get("layout") is not None for op in module.walk() if isinstance(op, g.WinogradInputOp)}
    assert layouts_seen == {True, False}
    # The graph interpreter (the passes' oracle) agrees, then the compiled code.
    oracle.assert_close(interpret(module, feeds), want, rtol=1e-5)
    got = compiler.compile(module, opt_level=0).run(None, feeds)
    oracle.assert_close(got, want, rtol=1e-5)


def test_mode_off_and_the_default_rule_keep_narrow_convs_direct(case) -> None:  # noqa: ANN001
    model = case[0]
    assert _count(_optimized(model, "off"), g.WinogradInputOp) == 0
    assert _count(_optimized(model, "auto"), g.WinogradInputOp) == 0  # 12..32 channels: direct


def test_bad_mode_is_one_clear_error() -> None:
    module = compiler.import_onnx(_model())
    with pytest.raises(CompilerError, match="mode 'f3' does not exist"):
        run_pipeline(module, "winograd-conv{mode=f3}")


def test_default_rule() -> None:
    assert choose_tile(64, 64, 56, 56) == 4  # ResNet-50's first stage
    assert choose_tile(16, 64, 55, 55) == 4  # SqueezeNet's first fire module
    assert choose_tile(64, 256, 13, 13) == 4
    assert choose_tile(512, 512, 7, 7) == 2  # 4x4 tiles would waste a third of a 7x7 image
    assert choose_tile(128, 32, 14, 14) == 0  # DenseNet: no gain measured
    assert choose_tile(3, 64, 224, 224) == 0  # an RGB stem
    assert choose_tile(64, 64, 56, 56, blocked=False) == 0


def test_gemm_schedule_packs_the_folded_weight(case) -> None:  # noqa: ANN001
    """The batched GEMM's constant U [alpha^2, C, K] gets its column panels packed (axis 2)."""
    import json

    from compiler.dialects.loop import ALGORITHM_ATTR, SCHEDULE_ATTR
    from compiler.schedule.schedule import kernels

    module = _optimized(case[0], "f4")
    run_pipeline(module, "convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 threads=1}")
    gemms = [k for k in kernels(module) if str(k.attributes.get(ALGORITHM_ATTR)) == '"matmul"']
    # K = 32 output channels: panels of 24 (3 AVX2 vectors); 19 and 12 fit one panel.
    wide = [k for k in gemms if k.body.block.args[1].type.get_shape()[-1] > 24]  # type: ignore[union-attr]
    assert len(gemms) == 4 and len(wide) == 2
    for kernel in wide:
        steps = json.loads(kernel.attributes[SCHEDULE_ATTR].data)  # type: ignore[union-attr]
        assert {"primitive": "pack", "operand": 1, "axis": 2, "factor": 24} in steps
