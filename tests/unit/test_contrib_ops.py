"""onnxruntime's com.microsoft contrib ops import and match onnxruntime.

Each op (the QOperator quantization ops, the fused float ops, Attention and
EmbedLayerNormalization) runs as a one-node model, compiled at O3 and in the
reference interpreter, against onnxruntime on the same inputs. Integer outputs may differ
from onnxruntime's by one quantization step where the float rounding of a
requantization differs (e.g. onnxruntime's table-based sigmoid); the number of
differing elements is printed and bounded. Float outputs match within 1e-4.

End to end: a small conv net quantized by `quantize_static(...,
quant_format=QuantFormat.QOperator)` (QLinearConv, QLinearAdd, QLinearConcat,
QLinearSigmoid, QLinearGlobalAveragePool, QLinearAveragePool, QGemm, ...), a
MatMul encoder block likewise (QLinearMatMul, QLinearAdd, QLinearMul,
QLinearSoftmax, QLinearLeakyRelu), and bert_tiny after onnxruntime's
transformer optimizer (SkipLayerNormalization, BiasGelu; needs sympy) and as
an onnxruntime session saves it optimized (FusedMatMul, FusedGemm, Gelu,
SkipLayerNormalization).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_quantized_models import SeededReader

import compiler
from compiler.errors import CompilerError
from compiler.frontend.onnx import supported_ops
from compiler.testing import models, oracle

quantization = pytest.importorskip("onnxruntime.quantization")

MS = "com.microsoft"
U8, I8 = np.uint8, np.int8


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


# Building one-node models -------------------------------------------------------------

_ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(U8): TensorProto.UINT8,
              np.dtype(I8): TensorProto.INT8, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(np.bool_): TensorProto.BOOL, np.dtype(np.uint16): TensorProto.UINT16,
              np.dtype(np.int16): TensorProto.INT16}


def _model(
    node: onnx.NodeProto,
    feeds: dict[str, np.ndarray],
    consts: dict[str, np.ndarray],
    out_type: int,
    opset: int = 17,
) -> onnx.ModelProto:
    """A model of `node`: `feeds` are graph inputs, `consts` initializers."""
    inputs = [helper.make_tensor_value_info(k, _ONNX_TYPE[v.dtype], v.shape) for k, v in feeds.items()]
    outputs = [helper.make_tensor_value_info(node.output[0], out_type, None)]
    graph = helper.make_graph([node], "contrib", inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    return model


def _quantized(rng: np.random.Generator, dtype: type, shape: Sequence[int]) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dtype)


def _zp(dtype: type, value: int) -> np.ndarray:
    return np.array(value if dtype == U8 else value - 128, dtype=dtype)


def _f(value: float) -> np.ndarray:
    return np.array(value, dtype=np.float32)


def _run_both(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(compiled at O3, interpreted, onnxruntime) outputs."""
    (got,) = compiler.compile(model, opt_level=3).run(None, feeds)
    (interpreted,) = compiler.interpret(compiler.import_onnx(model), feeds)
    (want,) = oracle.run_onnxruntime(model, feeds)
    return np.asarray(got), np.asarray(interpreted), want


def _check_quantized(name: str, model: onnx.ModelProto, feeds: dict[str, np.ndarray], max_differing: float = 0.01) -> None:
    """Integer outputs equal onnxruntime's, or one step off in at most `max_differing` of them."""
    got, interpreted, want = _run_both(model, feeds)
    for label, value in (("compiled", got), ("interpreted", interpreted)):
        assert value.dtype == want.dtype and value.shape == want.shape, label
        diff = np.abs(value.astype(np.int32) - want.astype(np.int32))
        differing = int(np.count_nonzero(diff))
        print(f"{name} ({label}): {differing} of {want.size} elements differ from onnxruntime, by at most {diff.max()}")
        assert diff.max() <= 1, label
        assert differing <= max(1, int(max_differing * want.size)), label


def _check_float(model: onnx.ModelProto, feeds: dict[str, np.ndarray], rtol: float = 1e-4) -> None:
    got, interpreted, want = _run_both(model, feeds)
    oracle.assert_close([got], [want], rtol=rtol)
    oracle.assert_close([interpreted], [want], rtol=rtol)


# Registration and errors ---------------------------------------------------------------


def test_contrib_ops_are_registered_apart_from_onnx_ops() -> None:
    contrib = set(supported_ops(MS))
    assert {"QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearConcat",
            "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QGemm", "FusedMatMul", "Gelu",
            "FastGelu", "BiasGelu", "SkipLayerNormalization", "Attention", "EmbedLayerNormalization"} <= contrib
    assert "QLinearAdd" not in supported_ops()  # ONNX's own domain has no such op
    assert supported_ops("ai.onnx") == supported_ops()


def _one_op(op: str, domain: str) -> onnx.ModelProto:
    node = helper.make_node(op, ["x"], ["y"], name="n0", domain=domain)
    model = _model(node, {"x": np.zeros((2, 3), np.float32)}, {}, TensorProto.FLOAT)
    model.opset_import.append(helper.make_opsetid(domain, 1))
    return model


def test_unknown_domain_is_one_error_naming_node_op_and_domain() -> None:
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(_one_op("Frobnicate", "com.example"))
    text = str(info.value)
    assert "'n0'" in text and "com.example.Frobnicate" in text and "op domain 'com.example' is not supported" in text
    assert len(text.splitlines()) == 1


def test_unsupported_contrib_op_names_its_domain() -> None:
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(_one_op("Inverse", MS))
    text = str(info.value)
    assert "com.microsoft.Inverse" in text and "of domain 'com.microsoft' is not supported" in text


def test_contrib_attribute_of_the_wrong_type_is_an_error() -> None:
    """ONNX has no schema of contrib ops: the converter's expected type is checked."""
    model, _ = _unary("QLinearLeakyRelu", U8, (2, 3))
    model.graph.node[0].attribute.append(helper.make_attribute("alpha", "0.1"))
    with pytest.raises(CompilerError, match="attribute 'alpha' has type STRING, QLinearLeakyRelu expects FLOAT"):
        compiler.import_onnx(model)


def test_contrib_gelu_is_not_onnx_gelu() -> None:
    """com.microsoft's Gelu has no `approximate` attribute; ONNX's schema is not applied to it."""
    model = _one_op("Gelu", MS)
    feeds = {"x": np.linspace(-3, 3, 6, dtype=np.float32).reshape(2, 3)}
    _check_float(model, feeds)


# Quantized elementwise ops ------------------------------------------------------------------


def _binary(op: str, dtype: type, shape_b: Sequence[int]) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    feeds = {"a": _quantized(rng, dtype, (2, 8, 16)), "b": _quantized(rng, dtype, shape_b)}
    consts = {"sa": _f(0.05), "za": _zp(dtype, 120), "sb": _f(0.03), "zb": _zp(dtype, 131),
              "sc": _f(0.07 if op == "QLinearAdd" else 0.09), "zc": _zp(dtype, 125)}
    node = helper.make_node(op, ["a", "sa", "za", "b", "sb", "zb", "sc", "zc"], ["c"], domain=MS)
    return _model(node, feeds, consts, _ONNX_TYPE[np.dtype(dtype)]), feeds


@pytest.mark.parametrize("dtype", [U8, I8])
@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
def test_qlinear_binary(op: str, dtype: type) -> None:
    model, feeds = _binary(op, dtype, (2, 8, 16))
    _check_quantized(f"{op} {np.dtype(dtype)}", model, feeds)


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
def test_qlinear_binary_broadcast(op: str) -> None:
    model, feeds = _binary(op, U8, (16,))
    _check_quantized(f"{op} broadcast", model, feeds)


def _unary(op: str, dtype: type, shape: Sequence[int] = (2, 4, 5, 5), **attrs: object) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    feeds = {"x": _quantized(rng, dtype, shape)}
    consts = {"sx": _f(0.04), "zx": _zp(dtype, 130), "sy": _f(0.02), "zy": _zp(dtype, 110)}
    node = helper.make_node(op, ["x", "sx", "zx", "sy", "zy"], ["y"], domain=MS, **attrs)
    return _model(node, feeds, consts, _ONNX_TYPE[np.dtype(dtype)]), feeds


@pytest.mark.parametrize("dtype", [U8, I8])
def test_qlinear_sigmoid(dtype: type) -> None:
    model, feeds = _unary("QLinearSigmoid", dtype)
    _check_quantized(f"QLinearSigmoid {np.dtype(dtype)}", model, feeds)


@pytest.mark.parametrize("dtype", [U8, I8])
def test_qlinear_leaky_relu(dtype: type) -> None:
    model, feeds = _unary("QLinearLeakyRelu", dtype, alpha=0.1)
    _check_quantized(f"QLinearLeakyRelu {np.dtype(dtype)}", model, feeds)


def test_qlinear_where() -> None:
    rng = np.random.default_rng(2)
    feeds = {"c": rng.random((3, 8)) < 0.5, "x": _quantized(rng, U8, (3, 8)), "y": _quantized(rng, U8, (8,))}
    consts = {"sx": _f(0.05), "zx": _zp(U8, 128), "sy": _f(0.02), "zy": _zp(U8, 100),
              "sz": _f(0.04), "zz": _zp(U8, 120)}
    node = helper.make_node("QLinearWhere", ["c", "x", "sx", "zx", "y", "sy", "zy", "sz", "zz"], ["z"], domain=MS)
    _check_quantized("QLinearWhere", _model(node, feeds, consts, TensorProto.UINT8), feeds)


# Pooling, reductions, softmax, concat -------------------------------------------------------


@pytest.mark.parametrize("channels_last", [0, 1])
def test_qlinear_global_average_pool(channels_last: int) -> None:
    model, feeds = _unary("QLinearGlobalAveragePool", U8, (2, 6, 7, 9), channels_last=channels_last)
    _check_quantized(f"QLinearGlobalAveragePool channels_last={channels_last}", model, feeds)


@pytest.mark.parametrize("dtype", [U8, I8])
def test_qlinear_average_pool(dtype: type) -> None:
    """With sx / sy = 2, a window mean over 4 or 6 values is often exactly half a step:
    which way it rounds depends on the float summation order (onnxruntime sums the
    dequantized values one by one), so a few elements may be one step off."""
    model, feeds = _unary("QLinearAveragePool", dtype, (1, 4, 9, 9), kernel_shape=[3, 3], strides=[2, 2],
                          pads=[1, 1, 1, 1])
    _check_quantized(f"QLinearAveragePool {np.dtype(dtype)}", model, feeds, max_differing=0.05)


def test_qlinear_average_pool_channels_last() -> None:
    model, feeds = _unary("QLinearAveragePool", U8, (1, 8, 8, 3), kernel_shape=[2, 2], strides=[2, 2],
                          channels_last=1, count_include_pad=1)
    _check_quantized("QLinearAveragePool channels_last", model, feeds)


def test_qlinear_reduce_mean_follows_the_spec() -> None:
    """onnxruntime has no CPU kernel for it (nor does its quantizer write it): checked
    against the spec's dequantize -> ReduceMean -> quantize in numpy."""
    model, feeds = _unary("QLinearReduceMean", U8, (2, 4, 5, 5), axes=[2, 3], keepdims=1)
    dequantized = (feeds["x"].astype(np.float32) - 130) * np.float32(0.04)
    mean = dequantized.mean(axis=(2, 3), keepdims=True)
    want = np.clip(np.round(mean / np.float32(0.02)) + 110, 0, 255).astype(U8)
    (got,) = compiler.compile(model, opt_level=3).run(None, feeds)
    assert got.shape == want.shape
    assert np.abs(got.astype(np.int32) - want).max() <= 1


@pytest.mark.parametrize(("dtype", "opset", "axis"), [(U8, 13, -1), (I8, 13, 1), (U8, 11, 1)])
def test_qlinear_softmax(dtype: type, opset: int, axis: int) -> None:
    rng = np.random.default_rng(3)
    feeds = {"x": _quantized(rng, dtype, (2, 5, 12))}
    zy = np.array(0 if dtype == U8 else -128, dtype=dtype)
    consts = {"sx": _f(0.08), "zx": _zp(dtype, 128), "sy": _f(1 / 256), "zy": zy}
    node = helper.make_node("QLinearSoftmax", ["x", "sx", "zx", "sy", "zy"], ["y"], domain=MS, opset=opset, axis=axis)
    _check_quantized(f"QLinearSoftmax {np.dtype(dtype)} opset {opset}", _model(node, feeds, consts, _ONNX_TYPE[np.dtype(dtype)]), feeds)


@pytest.mark.parametrize("dtype", [U8, I8])
def test_qlinear_concat(dtype: type) -> None:
    rng = np.random.default_rng(4)
    feeds = {"a": _quantized(rng, dtype, (1, 3, 4, 4)), "b": _quantized(rng, dtype, (1, 5, 4, 4)),
             "c": _quantized(rng, dtype, (1, 2, 4, 4))}
    consts = {"sy": _f(0.05), "zy": _zp(dtype, 128), "sa": _f(0.03), "za": _zp(dtype, 120),
              "sc": _f(0.07), "zc": _zp(dtype, 140)}
    # b has the output's parameters: it is copied, the others requantized.
    node = helper.make_node("QLinearConcat", ["sy", "zy", "a", "sa", "za", "b", "sy", "zy", "c", "sc", "zc"], ["y"],
                            domain=MS, axis=1)
    _check_quantized(f"QLinearConcat {np.dtype(dtype)}", _model(node, feeds, consts, _ONNX_TYPE[np.dtype(dtype)]), feeds)


@pytest.mark.parametrize("channels_last", [0, 1])
def test_ms_qlinear_conv(channels_last: int) -> None:
    """com.microsoft's QLinearConv: ONNX's, on NHWC data when channels_last."""
    rng = np.random.default_rng(9)
    feeds = {"x": _quantized(rng, U8, (1, 7, 7, 3) if channels_last else (1, 3, 7, 7))}
    consts = {"sx": _f(0.02), "zx": _zp(U8, 128), "w": _quantized(rng, I8, (4, 3, 3, 3)),
              "sw": (rng.random(4) * 0.01 + 0.005).astype(np.float32), "zw": np.zeros(4, I8),
              "sy": _f(0.3), "zy": _zp(U8, 100), "bias": rng.integers(-500, 500, 4).astype(np.int32)}
    node = helper.make_node("QLinearConv", ["x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias"], ["y"], domain=MS,
                            channels_last=channels_last, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    _check_quantized(f"com.microsoft QLinearConv channels_last={channels_last}", _model(node, feeds, consts, TensorProto.UINT8), feeds)


# QGemm -------------------------------------------------------------------------------------


def _qgemm(trans_b: int, per_column: bool, quantized_output: bool, alpha: float = 1.0) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    m, k, n = 4, 32, 10
    w = _quantized(rng, I8, (n, k) if trans_b else (k, n))
    feeds = {"a": _quantized(rng, U8, (m, k))}
    consts = {"sa": _f(0.02), "za": _zp(U8, 128), "w": w,
              "sw": (rng.random(n).astype(np.float32) * 0.01 + 0.005) if per_column else _f(0.008),
              "zw": np.zeros(n, I8) if per_column else np.array(0, I8),
              "bias": rng.integers(-2000, 2000, n).astype(np.int32)}
    inputs = ["a", "sa", "za", "w", "sw", "zw", "bias"]
    if quantized_output:
        consts |= {"sy": _f(0.1), "zy": _zp(U8, 100)}
        inputs += ["sy", "zy"]
    node = helper.make_node("QGemm", inputs, ["y"], domain=MS, transB=trans_b, alpha=alpha)
    return _model(node, feeds, consts, TensorProto.UINT8 if quantized_output else TensorProto.FLOAT), feeds


@pytest.mark.parametrize(("trans_b", "per_column", "alpha"), [(1, False, 1.0), (0, True, 1.0), (1, True, 0.5)])
def test_qgemm(trans_b: int, per_column: bool, alpha: float) -> None:
    model, feeds = _qgemm(trans_b, per_column, quantized_output=True, alpha=alpha)
    _check_quantized(f"QGemm transB={trans_b} per_column={per_column} alpha={alpha}", model, feeds)


def test_qgemm_float_output() -> None:
    model, feeds = _qgemm(1, True, quantized_output=False)
    _check_float(model, feeds, rtol=1e-5)


# Fused float ops ------------------------------------------------------------------------------


def _float_model(node: onnx.NodeProto, shapes: dict[str, Sequence[int]], seed: int = 6) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    return _model(node, feeds, {}, TensorProto.FLOAT), feeds


@pytest.mark.parametrize(("trans_a", "trans_b", "alpha"), [(0, 0, 1.0), (1, 1, 0.125), (0, 1, 2.0)])
def test_fused_matmul(trans_a: int, trans_b: int, alpha: float) -> None:
    a_shape = (2, 3, 8, 5) if trans_a else (2, 3, 5, 8)
    b_shape = (3, 6, 8) if trans_b else (3, 8, 6)
    node = helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, transA=trans_a, transB=trans_b, alpha=alpha)
    _check_float(*_float_model(node, {"a": a_shape, "b": b_shape}))


@pytest.mark.parametrize(("trans_a", "trans_b"), [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_fused_matmul_trans_batch(trans_a: int, trans_b: int) -> None:
    """transBatchA/B: dim 0 is the row dim (onnxruntime folds Transposes [1, 2, 0, 3] into these)."""
    a_shape = (8, 2, 3, 5) if trans_a else (5, 2, 3, 8)  # rows 5, K 8, batch (2, 3)
    b_shape = (6, 2, 3, 8) if trans_b else (8, 2, 3, 6)  # K 8, columns 6
    node = helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, transA=trans_a, transB=trans_b,
                            transBatchA=1, transBatchB=1, alpha=0.5)
    _check_float(*_float_model(node, {"a": a_shape, "b": b_shape}))


@pytest.mark.parametrize(("op", "with_bias"), [("Gelu", False), ("BiasGelu", True), ("FastGelu", False),
                                               ("FastGelu", True), ("QuickGelu", False)])
def test_gelu_family(op: str, with_bias: bool) -> None:
    node = helper.make_node(op, ["x", "bias"] if with_bias else ["x"], ["y"], domain=MS)
    shapes = {"x": (2, 7, 16)} | ({"bias": (16,)} if with_bias else {})
    _check_float(*_float_model(node, shapes))


@pytest.mark.parametrize("with_bias", [False, True])
def test_skip_layer_normalization(with_bias: bool) -> None:
    inputs = ["x", "skip", "gamma", "beta"] + (["bias"] if with_bias else [])
    node = helper.make_node("SkipLayerNormalization", inputs, ["y", "", "", "sum"], domain=MS, epsilon=1e-5)
    shapes = {"x": (2, 7, 32), "skip": (2, 7, 32), "gamma": (32,), "beta": (32,)} | ({"bias": (32,)} if with_bias else {})
    model, feeds = _float_model(node, shapes)
    model.graph.output.append(helper.make_tensor_value_info("sum", TensorProto.FLOAT, None))
    got = compiler.compile(model, opt_level=3).run(None, feeds)
    want = oracle.run_onnxruntime(model, feeds)
    oracle.assert_close(got, want, rtol=1e-4)


@pytest.mark.parametrize("activation", ["Relu", "Tanh", "LeakyRelu"])
def test_fused_gemm(activation: str) -> None:
    node = helper.make_node("FusedGemm", ["a", "w", "c"], ["y"], domain=MS, transB=1, alpha=0.5,
                            activation=activation, activation_alpha=0.2)
    _check_float(*_float_model(node, {"a": (4, 12), "w": (6, 12), "c": (6,)}))


def test_skip_simplified_layer_normalization() -> None:
    node = helper.make_node("SkipSimplifiedLayerNormalization", ["x", "skip", "gamma"], ["y"], domain=MS, epsilon=1e-6)
    _check_float(*_float_model(node, {"x": (2, 5, 24), "skip": (5, 24), "gamma": (24,)}))


# BERT ops: Attention, EmbedLayerNormalization ----------------------------------------------------


@pytest.mark.parametrize("mask", ["none", "lengths", "start_end", "raw", "raw3d", "unidirectional"])
def test_attention(mask: str) -> None:
    rng = np.random.default_rng(7)
    batch, seq, hidden, heads = 2, 6, 16, 4
    feeds = {"x": rng.standard_normal((batch, seq, hidden)).astype(np.float32)}
    consts = {"w": (rng.standard_normal((hidden, 3 * hidden)) * 0.3).astype(np.float32),
              "bias": (rng.standard_normal(3 * hidden) * 0.1).astype(np.float32)}
    raw, raw3d = (rng.random((batch, seq)) < 0.7).astype(np.int32), (rng.random((batch, seq, seq)) < 0.7).astype(np.int32)
    raw[..., 0] = raw3d[..., 0] = 1  # every query attends a key
    masks = {"lengths": np.array([4, 6], np.int32), "start_end": np.array([5, 6, 1, 0], np.int32),
             "raw": raw, "raw3d": raw3d}
    inputs = ["x", "w", "bias"]
    if mask in masks:
        feeds["mask"] = masks[mask]
        inputs.append("mask")
    node = helper.make_node("Attention", inputs, ["y"], domain=MS, num_heads=heads,
                            unidirectional=int(mask == "unidirectional"))
    _check_float(_model(node, feeds, consts, TensorProto.FLOAT), feeds)


def test_embed_layer_normalization() -> None:
    rng = np.random.default_rng(8)
    batch, seq, hidden, vocab = 2, 7, 16, 30
    feeds = {"ids": rng.integers(0, vocab, (batch, seq)).astype(np.int32),
             "segments": rng.integers(0, 2, (batch, seq)).astype(np.int32),
             "mask": (np.arange(seq)[None, :] < np.array([[5], [7]])).astype(np.int32)}
    consts = {"word": rng.standard_normal((vocab, hidden)).astype(np.float32),
              "position": rng.standard_normal((16, hidden)).astype(np.float32),
              "segment": rng.standard_normal((2, hidden)).astype(np.float32),
              "gamma": rng.random(hidden).astype(np.float32) + 0.5, "beta": rng.standard_normal(hidden).astype(np.float32)}
    node = helper.make_node("EmbedLayerNormalization", ["ids", "segments", "word", "position", "segment", "gamma", "beta", "mask"],
                            ["y", "mask_index"], domain=MS, epsilon=1e-12)
    model = _model(node, feeds, consts, TensorProto.FLOAT)
    model.graph.output.append(helper.make_tensor_value_info("mask_index", TensorProto.INT32, None))
    got = compiler.compile(model, opt_level=3).run(None, feeds)
    want = oracle.run_onnxruntime(model, feeds)
    oracle.assert_close([got[0]], [want[0]], rtol=1e-4)
    np.testing.assert_array_equal(got[1], want[1])


# End to end: onnxruntime's own tools ------------------------------------------------------------


def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def _float_graph_model(
    name: str, nodes: list[onnx.NodeProto], inits: dict[str, np.ndarray], x_shape: list[int], y_shape: list[int]
) -> onnx.ModelProto:
    """An opset-13 float model from x to y."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _conv_net() -> onnx.ModelProto:
    """Residual add, concat, sigmoid gate, leaky relu, average pools and a Gemm classifier."""
    rng = np.random.default_rng(0)
    inits = {
        "w1": _weights(rng, 8, 3, 3, 3), "b1": _weights(rng, 8) * 0.1,
        "w2": _weights(rng, 8, 8, 3, 3), "b2": _weights(rng, 8) * 0.1,
        "w3": _weights(rng, 4, 8, 1, 1),
        "fc": _weights(rng, 10, 12), "fcb": _weights(rng, 10),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["res"]),
        helper.make_node("Conv", ["res", "w3"], ["c3"]),
        helper.make_node("Sigmoid", ["c3"], ["gate"]),
        helper.make_node("Mul", ["c3", "gate"], ["swish"]),
        helper.make_node("LeakyRelu", ["res"], ["lr"], alpha=0.1),
        helper.make_node("AveragePool", ["lr"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("MaxPool", ["swish"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Concat", ["ap", "mp"], ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1),
    ]
    return _float_graph_model("conv_net", nodes, inits, [1, 3, 16, 16], [1, 10])


def _encoder() -> onnx.ModelProto:
    """One self-attention block and MLP of MatMuls (the shape of a small transformer encoder)."""
    rng = np.random.default_rng(1)
    d, s = 16, 8
    inits = {name: _weights(rng, d, d) for name in ("wq", "wk", "wv", "wo", "w1", "w2")}
    inits |= {"bq": _weights(rng, d) * 0.1, "b1": _weights(rng, d) * 0.1, "scale": np.array(0.25, np.float32)}
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q0"]),
        helper.make_node("Add", ["q0", "bq"], ["q"]),
        helper.make_node("MatMul", ["x", "wk"], ["k"]),
        helper.make_node("MatMul", ["x", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["ctx"]),
        helper.make_node("MatMul", ["ctx", "wo"], ["attn"]),
        helper.make_node("Add", ["attn", "x"], ["h"]),
        helper.make_node("MatMul", ["h", "w1"], ["m0"]),
        helper.make_node("Add", ["m0", "b1"], ["m1"]),
        helper.make_node("LeakyRelu", ["m1"], ["m2"], alpha=0.1),
        helper.make_node("MatMul", ["m2", "w2"], ["m3"]),
        helper.make_node("Add", ["m3", "h"], ["y"]),
    ]
    return _float_graph_model("encoder", nodes, inits, [1, s, d], [1, s, d])


def _quantize_qoperator(model: onnx.ModelProto, directory: Path) -> onnx.ModelProto:
    src, dst = directory / "float.onnx", directory / "qoperator.onnx"
    onnx.save(model, str(src))
    quantization.quantize_static(str(src), str(dst), SeededReader(model), quant_format=quantization.QuantFormat.QOperator)
    return onnx.load(str(dst))


def _output_step(model: onnx.ModelProto) -> float:
    """The scale of the DequantizeLinear that produces the (float) output."""
    producer = {o: n for n in model.graph.node for o in n.output}
    node = producer[model.graph.output[0].name]
    assert node.op_type == "DequantizeLinear", node.op_type
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return float(inits[node.input[1]])


def _check_quantized_model(name: str, model: onnx.ModelProto, expected_ops: set[str]) -> None:
    ops = {n.op_type for n in model.graph.node if n.domain == MS}
    print(f"{name}: com.microsoft ops {sorted(ops)}")
    assert expected_ops <= ops
    feeds = models.random_inputs(model, seed=7)
    (want,) = oracle.run_onnxruntime(model, feeds)
    (got,) = compiler.compile(model, opt_level=3).run(None, feeds)
    steps = np.abs(np.asarray(got, np.float64) - want) / _output_step(model)
    differing = int(np.count_nonzero(steps > 1e-3))
    print(f"{name}: {differing} of {want.size} outputs differ from onnxruntime, at most {steps.max():.3g} steps")
    assert steps.max() <= 1.0 + 1e-3
    assert differing <= max(1, want.size // 10)


def test_quantize_static_qoperator_conv_net(tmp_path: Path) -> None:
    model = _quantize_qoperator(_conv_net(), tmp_path)
    _check_quantized_model("QOperator conv net", model, {"QLinearAdd", "QLinearConcat", "QLinearGlobalAveragePool", "QGemm"})


def test_onnxruntime_optimized_qoperator_conv_net(tmp_path: Path) -> None:
    """The QOperator conv net as an onnxruntime session saves it at its highest level:
    channels-last com.microsoft QLinearConvs between Transposes."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(_quantize_qoperator(_conv_net(), tmp_path).SerializeToString(), options,
                         providers=["CPUExecutionProvider"])
    model = onnx.load(options.optimized_model_filepath)
    _check_quantized_model("onnxruntime-optimized QOperator conv net", model, {"QLinearConv", "QLinearAdd"})


def test_quantize_static_qoperator_encoder(tmp_path: Path) -> None:
    model = _quantize_qoperator(_encoder(), tmp_path)
    _check_quantized_model("QOperator encoder", model, {"QLinearAdd", "QLinearSoftmax"})


def test_transformer_optimizer_bert_tiny() -> None:
    """bert_tiny through onnxruntime's transformer optimizer: SkipLayerNormalization and
    BiasGelu (its attention and embedding patterns do not match this export)."""
    pytest.importorskip("sympy", reason="onnxruntime's transformer optimizer needs sympy")
    optimizer = pytest.importorskip("onnxruntime.transformers.optimizer")
    optimized = optimizer.optimize_model(
        str(models.bert_model_path()), model_type="bert", num_heads=0, hidden_size=0, opt_level=0, use_gpu=False,
    )
    _check_fused_model("transformer optimizer bert_tiny", optimized.model, {"SkipLayerNormalization"})


def test_onnxruntime_optimized_bert_tiny(tmp_path: Path) -> None:
    """bert_tiny as an onnxruntime session saves it after its extended graph optimizations
    (FusedMatMul, FusedGemm, Gelu, SkipLayerNormalization)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(models.bert_model_path()), options, providers=["CPUExecutionProvider"])
    model = onnx.load(options.optimized_model_filepath)
    _check_fused_model("onnxruntime-optimized bert_tiny", model, {"SkipLayerNormalization", "FusedMatMul", "Gelu"})


def _check_fused_model(name: str, model: onnx.ModelProto, expected_ops: set[str]) -> None:
    ops = {n.op_type for n in model.graph.node if n.domain == MS}
    print(f"{name}: com.microsoft ops {sorted(ops)}")
    assert expected_ops <= ops
    feeds = models.random_inputs(model, seed=7)
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.compile(model, opt_level=3).run(None, feeds)
    print(f"{name}: max rel error {max(oracle.max_rel_error(g, w) for g, w in zip(got, want, strict=True)):.3g}")
    oracle.assert_close(got, want, rtol=1e-4)
