"""onnxruntime's quantized encoder contrib ops import and match onnxruntime.

One-node models of the ops that `quantize_dynamic` writes for a transformer-
optimized BERT (QAttention, QEmbedLayerNormalization), that an onnxruntime
session saves after fusing its output (DynamicQuantizeMatMul,
MatMulIntegerToFloat), and com.microsoft's QuantizeLinear / DequantizeLinear
(`quantize_static(..., extra_options={"UseQDQContribOps": True})`), each
compiled at O3 and interpreted, against onnxruntime: integer outputs equal,
float outputs within 1e-5 relative.

End to end: bert_tiny's weights in the graph onnxruntime's transformer
optimizer writes for a BERT (EmbedLayerNormalization, Attention,
SkipLayerNormalization, BiasGelu; built here, since the optimizer does not
recognize bert_tiny's own attention export), quantized by `quantize_dynamic`
per tensor and per channel, and as an onnxruntime session saves that
optimized, within 1e-4 of onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_contrib_ops import _ONNX_TYPE, _f, _model, _quantized, _run_both

import compiler
from compiler.errors import CompilerError
from compiler.frontend.onnx import supported_ops
from compiler.testing import models, oracle

quantization = pytest.importorskip("onnxruntime.quantization")

MS = "com.microsoft"
U8, I8 = np.uint8, np.int8
RTOL = 1e-5


def test_quantized_encoder_ops_are_registered() -> None:
    assert {"QAttention", "QEmbedLayerNormalization", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
            "QuantizeLinear", "DequantizeLinear", "MatMulNBits"} <= set(supported_ops(MS))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def _check_float(model: onnx.ModelProto, feeds: dict[str, np.ndarray], rtol: float = RTOL) -> None:
    got, interpreted, want = _run_both(model, feeds)
    print(f"max rel error {oracle.max_rel_error(got, want):.3g} (interpreted {oracle.max_rel_error(interpreted, want):.3g})")
    oracle.assert_close([got], [want], rtol=rtol)
    oracle.assert_close([interpreted], [want], rtol=rtol)


def _check_exact(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> None:
    got, interpreted, want = _run_both(model, feeds)
    for label, value in (("compiled", got), ("interpreted", interpreted)):
        assert value.dtype == want.dtype and value.shape == want.shape, label
        differing = int(np.count_nonzero(value != want))
        print(f"{label}: {differing} of {want.size} elements differ from onnxruntime")
        assert differing == 0, label


def _weight_params(rng: np.random.Generator, n: int, per_column: bool, dtype: type) -> dict[str, np.ndarray]:
    """A weight's scale and zero point, per tensor or one per column."""
    if per_column:
        zp = rng.integers(-3, 4, n) + (128 if dtype == U8 else 0)
        return {"sw": (rng.random(n) * 0.01 + 0.002).astype(np.float32), "zw": zp.astype(dtype)}
    return {"sw": _f(0.006), "zw": np.array(130 if dtype == U8 else 2, dtype)}


# MatMulIntegerToFloat, DynamicQuantizeMatMul -------------------------------------------------


@pytest.mark.parametrize(("w_dtype", "per_column", "bias"), [(I8, False, True), (I8, True, True), (U8, True, False)])
def test_matmul_integer_to_float(w_dtype: type, per_column: bool, bias: bool) -> None:
    rng = np.random.default_rng(0)
    k, n = 40, 24
    feeds = {"a": _quantized(rng, U8, (2, 5, k))}
    consts = {"w": _quantized(rng, w_dtype, (k, n)), "sa": _f(0.03), "za": np.array(121, U8),
              **_weight_params(rng, n, per_column, w_dtype)}
    inputs = ["a", "w", "sa", "sw", "za", "zw"]
    if bias:
        consts["bias"] = rng.standard_normal(n).astype(np.float32)
        inputs.append("bias")
    node = helper.make_node("MatMulIntegerToFloat", inputs, ["y"], domain=MS)
    _check_float(_model(node, feeds, consts, TensorProto.FLOAT), feeds)


@pytest.mark.parametrize(("per_column", "bias", "zero_point"), [(False, True, True), (True, True, True), (False, False, False)])
def test_dynamic_quantize_matmul(per_column: bool, bias: bool, zero_point: bool) -> None:
    rng = np.random.default_rng(1)
    k, n = 48, 16
    feeds = {"a": (rng.standard_normal((2, 7, k)) * 2 + 0.5).astype(np.float32)}
    consts = {"w": _quantized(rng, I8, (k, n)), **_weight_params(rng, n, per_column, I8)}
    inputs = ["a", "w", "sw", "zw" if zero_point else ""]
    if not zero_point:
        del consts["zw"]
    if bias:
        consts["bias"] = rng.standard_normal(n).astype(np.float32)
        inputs.append("bias")
    node = helper.make_node("DynamicQuantizeMatMul", inputs, ["y"], domain=MS)
    _check_float(_model(node, feeds, consts, TensorProto.FLOAT), feeds)


def test_dynamic_quantize_matmul_of_zeros() -> None:
    """An all-zero A has scale 1 (not 0), as onnxruntime's kernel sets it."""
    rng = np.random.default_rng(2)
    feeds = {"a": np.zeros((3, 8), np.float32)}
    consts = {"w": _quantized(rng, I8, (8, 4)), "sw": _f(0.01), "bias": np.arange(4, dtype=np.float32)}
    node = helper.make_node("DynamicQuantizeMatMul", ["a", "w", "sw", "", "bias"], ["y"], domain=MS)
    _check_float(_model(node, feeds, consts, TensorProto.FLOAT), feeds)


# com.microsoft QuantizeLinear / DequantizeLinear ------------------------------------------------


@pytest.mark.parametrize("dtype", [U8, I8, np.uint16, np.int16])
def test_ms_quantize_dequantize_linear(dtype: type) -> None:
    """Per tensor, and per channel (axis 1): the quantized values equal onnxruntime's."""
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    wide = info.bits == 16
    feeds = {"x": (rng.standard_normal((2, 3, 5)) * 4).astype(np.float32)}
    consts = {"s": _f(0.0004 if wide else 0.03), "z": np.array(info.min // 2 + info.max // 2 + 3, dtype),
              "sc": (np.array([0.0003, 0.0005, 0.0002]) * (1 if wide else 80)).astype(np.float32),
              "zc": np.array([info.min // 4, 0, info.max // 4], dtype)}
    onnx_type = _ONNX_TYPE[np.dtype(dtype)]
    for scale, zp, axis in (("s", "z", 1), ("sc", "zc", 1)):
        q = helper.make_node("QuantizeLinear", ["x", scale, zp], ["q"], domain=MS, axis=axis)
        model = _model(q, feeds, consts, onnx_type)
        _check_exact(model, feeds)
        dq = helper.make_node("DequantizeLinear", ["q", scale, zp], ["y"], domain=MS, axis=axis)
        q_feeds = {"q": oracle.run_onnxruntime(model, feeds)[0]}
        graph_model = _model(dq, q_feeds, consts, TensorProto.FLOAT)
        _check_float(graph_model, q_feeds)


def test_ms_dequantize_linear_int32_bias() -> None:
    """quantize_static's int32 bias, without a zero point."""
    feeds = {"b": np.array([-70000, 5, 123456], np.int32)}
    node = helper.make_node("DequantizeLinear", ["b", "s"], ["y"], domain=MS)
    _check_float(_model(node, feeds, {"s": _f(0.00012)}, TensorProto.FLOAT), feeds)


# MatMulNBits ---------------------------------------------------------------------------------------


def _pack(values: np.ndarray, bits: int) -> np.ndarray:
    """Rows of `bits`-wide values packed into bytes, low bits first (MatMulNBits' layout)."""
    per_byte = 8 // bits
    grouped = values.astype(np.uint8).reshape(*values.shape[:-1], -1, per_byte)
    return np.bitwise_or.reduce(grouped << (np.arange(per_byte, dtype=np.uint8) * bits), axis=-1).astype(np.uint8)


def _matmul_nbits(bits: int, zero_points: bool, accuracy_level: int, bias: bool = False, k: int = 80, block: int = 32,
                  a_shape: tuple[int, ...] = (3,)) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(6)
    n, blocks = 24, -(-k // block)
    q = rng.integers(0, 1 << bits, (n, blocks * block))
    consts = {"B": _pack(q, bits).reshape(n, blocks, block * bits // 8),
              "scales": (rng.random((n, blocks)) * 0.05 + 0.01).astype(np.float32)}
    inputs = ["A", "B", "scales"]
    if zero_points:
        zp = rng.integers(0, 1 << bits, (n, blocks))
        padded = np.zeros((n, -(-blocks * bits // 8) * (8 // bits)), np.uint8)
        padded[:, :blocks] = zp
        consts["zero_points"] = _pack(padded, bits).reshape(-1)
        inputs.append("zero_points")
    if bias:
        consts["bias"] = rng.standard_normal(n).astype(np.float32)
        inputs += ["", "bias"] if zero_points else ["", "", "bias"]
    feeds = {"A": rng.standard_normal((*a_shape, k)).astype(np.float32)}
    attrs = {"K": k, "N": n, "bits": bits, "block_size": block} | ({"accuracy_level": accuracy_level} if accuracy_level else {})
    node = helper.make_node("MatMulNBits", inputs, ["y"], domain=MS, **attrs)
    return _model(node, feeds, consts, TensorProto.FLOAT), feeds


@pytest.mark.parametrize("accuracy_level", [0, 4])
@pytest.mark.parametrize(("bits", "zero_points"), [(4, True), (4, False), (8, True)])
def test_matmul_nbits(bits: int, zero_points: bool, accuracy_level: int) -> None:
    """K = 80 is not a multiple of the 32-wide blocks; accuracy_level 4 quantizes A to int8 per block."""
    _check_float(*_matmul_nbits(bits, zero_points, accuracy_level))


@pytest.mark.parametrize("accuracy_level", [0, 4])
def test_matmul_nbits_batched_with_bias(accuracy_level: int) -> None:
    _check_float(*_matmul_nbits(4, True, accuracy_level, bias=True, k=64, block=16, a_shape=(2, 5)))


def test_matmul_nbits_g_idx_is_an_error() -> None:
    model, _ = _matmul_nbits(4, True, 0)
    model.graph.node[0].input.append("g_idx")
    model.graph.initializer.append(numpy_helper.from_array(np.zeros(80, np.int32), "g_idx"))
    with pytest.raises(CompilerError, match=r"com\.microsoft\.MatMulNBits.*g_idx \(act-order\) is not supported"):
        compiler.import_onnx(model)


# QAttention ---------------------------------------------------------------------------------------


def _qattention(mask: str, per_column: bool = False, w_dtype: type = I8, **attrs: object) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(4)
    batch, seq, hidden, heads = 2, 6, 16, 4
    feeds = {"x": _quantized(rng, U8, (batch, seq, hidden))}
    consts = {"w": _quantized(rng, w_dtype, (hidden, 3 * hidden)), "bias": (rng.standard_normal(3 * hidden) * 0.1).astype(np.float32),
              "sx": _f(0.02), "zx": np.array(125, U8), **_weight_params(rng, 3 * hidden, per_column, w_dtype)}
    consts["sw"] = consts["sw"] * np.float32(0.8)
    raw, raw3d = (rng.random((batch, seq)) < 0.7).astype(np.int32), (rng.random((batch, seq, seq)) < 0.7).astype(np.int32)
    raw[..., 0] = raw3d[..., 0] = 1
    masks = {"lengths": np.array([4, 6], np.int32), "start_end": np.array([5, 6, 1, 0], np.int32), "raw": raw, "raw3d": raw3d}
    inputs = ["x", "w", "bias", "sx", "sw", "", "zx", "zw"]
    if mask in masks:
        feeds["mask"] = masks[mask]
        inputs[5] = "mask"
    node = helper.make_node("QAttention", inputs, ["y"], domain=MS, num_heads=heads, **attrs)
    return _model(node, feeds, consts, TensorProto.FLOAT), feeds


@pytest.mark.parametrize("mask", ["none", "lengths", "start_end", "raw", "raw3d"])
def test_qattention_masks(mask: str) -> None:
    _check_float(*_qattention(mask))


@pytest.mark.parametrize(("per_column", "w_dtype"), [(True, I8), (False, U8), (True, U8)])
def test_qattention_weight_quantization(per_column: bool, w_dtype: type) -> None:
    _check_float(*_qattention("lengths", per_column, w_dtype))


def test_qattention_unidirectional() -> None:
    _check_float(*_qattention("raw", unidirectional=1))


def test_qattention_past_state_is_one_error_line() -> None:
    model, _ = _qattention("none")
    node = model.graph.node[0]
    node.name = "attn0"
    node.input.append("past")
    model.graph.input.append(helper.make_tensor_value_info("past", TensorProto.FLOAT, [2, 2, 4, 3, 4]))
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(model)
    text = str(info.value)
    assert "'attn0'" in text and "com.microsoft.QAttention" in text and "past and present" in text
    assert "quantize the model without past state" in text
    assert len(text.splitlines()) == 1


# QEmbedLayerNormalization ------------------------------------------------------------------------


def _qembed(segments: bool, mask: bool) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    batch, seq, hidden, vocab = 2, 7, 16, 30
    feeds = {"ids": rng.integers(0, vocab, (batch, seq)).astype(np.int32)}
    tables = {"word": (vocab, hidden), "position": (12, hidden), "segment": (2, hidden), "gamma": (hidden,), "beta": (hidden,)}
    consts: dict[str, np.ndarray] = {}
    for k, (name, shape) in enumerate(tables.items()):
        consts[name] = _quantized(rng, U8, shape)
        consts[f"{name}_s"] = _f(0.01 + 0.003 * k)
        consts[f"{name}_z"] = np.array(120 + 3 * k, U8)
    inputs = ["ids", "", "word", "position", "", "gamma", "beta", "", "word_s", "position_s", "", "gamma_s", "beta_s",
              "word_z", "position_z", "", "gamma_z", "beta_z"]
    if segments:
        feeds["segments"] = rng.integers(0, 2, (batch, seq)).astype(np.int32)
        inputs[1], inputs[4], inputs[10], inputs[15] = "segments", "segment", "segment_s", "segment_z"
    if mask:
        # A 2 is not a 1: onnxruntime's mask index counts exact ones.
        feeds["mask"] = np.array([[1, 1, 1, 1, 2, 0, 0], [1] * 7], np.int32)
        inputs[7] = "mask"
    node = helper.make_node("QEmbedLayerNormalization", inputs, ["y", "mask_index"], domain=MS, epsilon=1e-12)
    model = _model(node, feeds, consts, TensorProto.FLOAT)
    model.graph.output.append(helper.make_tensor_value_info("mask_index", TensorProto.INT32, None))
    return model, feeds


@pytest.mark.parametrize(("segments", "mask"), [(True, True), (False, False), (False, True)])
def test_qembed_layer_normalization(segments: bool, mask: bool) -> None:
    model, feeds = _qembed(segments, mask)
    got = compiler.compile(model, opt_level=3).run(None, feeds)
    interpreted = compiler.interpret(compiler.import_onnx(model), feeds)
    want = oracle.run_onnxruntime(model, feeds)
    for label, value in (("compiled", got), ("interpreted", interpreted)):
        print(f"{label}: max rel error {oracle.max_rel_error(value[0], want[0]):.3g}")
        oracle.assert_close([value[0]], [want[0]], rtol=RTOL)
        np.testing.assert_array_equal(value[1], want[1])


def test_qembed_layer_normalization_sequence_too_long() -> None:
    model, _ = _qembed(False, False)
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 13
    with pytest.raises(CompilerError, match="sequence length 13 exceeds the 12 rows of position_embedding"):
        compiler.import_onnx(model)


# End to end: the quantized, onnxruntime-optimized encoder ------------------------------------------


def fused_bert(source: onnx.ModelProto, heads: int = 4) -> onnx.ModelProto:
    """bert_tiny's weights in the graph onnxruntime's transformer optimizer writes for a
    BERT: int32 ids, EmbedLayerNormalization (its mask index feeds every Attention),
    then per layer Attention, MatMul + SkipLayerNormalization, MatMul + BiasGelu,
    MatMul + SkipLayerNormalization. Output: the last hidden state."""
    w = {t.name: numpy_helper.to_array(t) for t in source.graph.initializer}
    matmul_weight = {n.name: w[n.input[1]] for n in source.graph.node if n.op_type == "MatMul" and n.input[1] in w}
    batch, seq = (d.dim_value for d in source.graph.input[0].type.tensor_type.shape.dim)
    inits = {
        "word": w["word_embeddings.weight"], "position": w["position_embeddings.weight"],
        "segment": w["token_type_embeddings.weight"], "gamma": w["embedding_norm.weight"], "beta": w["embedding_norm.bias"],
        "segment_ids": np.zeros((batch, seq), np.int32),
    }
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["attention_mask"], ["mask32"], to=TensorProto.INT32),
        helper.make_node("EmbedLayerNormalization", ["ids32", "segment_ids", "word", "position", "segment", "gamma", "beta", "mask32"],
                         ["h0", "mask_index"], name="embed", domain=MS, epsilon=1e-12),
    ]
    h = "h0"
    layers = 1 + max(int(name.split(".")[1].split("/")[0]) for name in matmul_weight)
    for i in range(layers):
        p, mm = f"layers.{i}", lambda part, i=i: matmul_weight[f"/layers.{i}/{part}/MatMul"]
        inits |= {
            f"qkv{i}": np.concatenate([mm("attention/query"), mm("attention/key"), mm("attention/value")], axis=1),
            f"qkv_bias{i}": np.concatenate([w[f"{p}.attention.{x}.bias"] for x in ("query", "key", "value")]),
            f"wo{i}": mm("attention/output"), f"bo{i}": w[f"{p}.attention.output.bias"],
            f"g1_{i}": w[f"{p}.attention_norm.weight"], f"b1_{i}": w[f"{p}.attention_norm.bias"],
            f"w1_{i}": mm("intermediate"), f"bi{i}": w[f"{p}.intermediate.bias"],
            f"w2_{i}": mm("ff_output"), f"bf{i}": w[f"{p}.ff_output.bias"],
            f"g2_{i}": w[f"{p}.output_norm.weight"], f"b2_{i}": w[f"{p}.output_norm.bias"],
        }
        out = "last_hidden_state" if i == layers - 1 else f"h{i + 1}"
        nodes += [
            helper.make_node("Attention", [h, f"qkv{i}", f"qkv_bias{i}", "mask_index"], [f"att{i}"], name=f"attention{i}",
                             domain=MS, num_heads=heads),
            helper.make_node("MatMul", [f"att{i}", f"wo{i}"], [f"ao{i}"], name=f"attention_output{i}"),
            helper.make_node("SkipLayerNormalization", [f"ao{i}", h, f"g1_{i}", f"b1_{i}", f"bo{i}"], [f"n{i}"],
                             domain=MS, epsilon=1e-12),
            helper.make_node("MatMul", [f"n{i}", f"w1_{i}"], [f"m{i}"], name=f"intermediate{i}"),
            helper.make_node("BiasGelu", [f"m{i}", f"bi{i}"], [f"gelu{i}"], domain=MS),
            helper.make_node("MatMul", [f"gelu{i}", f"w2_{i}"], [f"f{i}"], name=f"ff_output{i}"),
            helper.make_node("SkipLayerNormalization", [f"f{i}", f"n{i}", f"g2_{i}", f"b2_{i}", f"bf{i}"], [out],
                             domain=MS, epsilon=1e-12),
        ]
        h = out
    graph = helper.make_graph(
        nodes, "fused_bert", list(source.graph.input[:2]),
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [batch, seq, inits["word"].shape[1]])],
        [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    return model


def _bert_feeds() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    mask = np.ones((1, 16), np.int64)
    mask[0, 11:] = 0
    return {"input_ids": rng.integers(0, 1000, (1, 16)).astype(np.int64), "attention_mask": mask}


def _check_encoder(name: str, model: onnx.ModelProto, expected_ops: set[str]) -> None:
    ops = {n.op_type for n in model.graph.node if n.domain == MS}
    print(f"{name}: com.microsoft ops {sorted(ops)}")
    assert expected_ops <= ops
    feeds = _bert_feeds()
    (want,) = oracle.run_onnxruntime(model, feeds)
    (got,) = compiler.compile(model, opt_level=3).run(None, feeds)
    print(f"{name}: max rel error {oracle.max_rel_error(got, want):.3g}")
    oracle.assert_close([got], [want], rtol=1e-4)


@pytest.mark.parametrize("per_channel", [False, True])
def test_quantize_dynamic_fused_bert(tmp_path: Path, per_channel: bool) -> None:
    """quantize_dynamic of the optimizer's BERT graph (QAttention, QEmbedLayerNormalization,
    DynamicQuantizeLinear + MatMulInteger), then as onnxruntime saves it optimized
    (DynamicQuantizeMatMul, MatMulIntegerToFloat where one quantization feeds several)."""
    import onnxruntime as ort

    src, dst = tmp_path / "fused.onnx", tmp_path / "quantized.onnx"
    onnx.save(fused_bert(onnx.load(str(models.bert_model_path()))), str(src))
    quantization.quantize_dynamic(str(src), str(dst), per_channel=per_channel, weight_type=quantization.QuantType.QInt8,
                                  extra_options={"DefaultTensorType": TensorProto.FLOAT})
    quantized = onnx.load(str(dst))
    _check_encoder(f"quantize_dynamic per_channel={per_channel}", quantized,
                   {"QAttention", "QEmbedLayerNormalization", "SkipLayerNormalization"})
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(dst), options, providers=["CPUExecutionProvider"])
    _check_encoder(f"onnxruntime-optimized per_channel={per_channel}", onnx.load(options.optimized_model_filepath),
                   {"QAttention", "DynamicQuantizeMatMul"})


def test_onnxruntime_optimized_quantize_dynamic_bert_tiny(tmp_path: Path) -> None:
    """bert_tiny (unfused attention) through quantize_dynamic, as an onnxruntime session
    saves it: one DynamicQuantizeLinear feeding the Q, K and V MatMulIntegerToFloats."""
    import onnxruntime as ort

    dst = tmp_path / "quantized.onnx"
    quantization.quantize_dynamic(str(models.bert_model_path()), str(dst), weight_type=quantization.QuantType.QInt8)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(dst), options, providers=["CPUExecutionProvider"])
    model = onnx.load(options.optimized_model_filepath)
    ops = {n.op_type for n in model.graph.node if n.domain == MS}
    print(f"com.microsoft ops {sorted(ops)}")
    assert {"MatMulIntegerToFloat", "DynamicQuantizeMatMul"} <= ops
    feeds = _bert_feeds()
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.compile(model, opt_level=3).run(None, feeds)
    print(f"max rel error {max(oracle.max_rel_error(g, w) for g, w in zip(got, want, strict=True)):.3g}")
    oracle.assert_close(got, want, rtol=1e-4)


def test_quantize_static_contrib_qdq_fused_bert(tmp_path: Path) -> None:
    """quantize_static with UseQDQContribOps and 16-bit activations (com.microsoft
    DequantizeLinear), as onnxruntime saves it at its highest level: int8 weights read
    through DequantizeLinear become MatMulNBits(bits=8, accuracy_level=4)."""
    import onnxruntime as ort

    src, dst = tmp_path / "fused.onnx", tmp_path / "qdq.onnx"
    onnx.save(fused_bert(onnx.load(str(models.bert_model_path()))), str(src))

    class Reader:
        def __init__(self) -> None:
            self.feeds = [_bert_feeds()]

        def get_next(self) -> dict[str, np.ndarray] | None:
            return self.feeds.pop() if self.feeds else None

    quantization.quantize_static(str(src), str(dst), Reader(), quant_format=quantization.QuantFormat.QDQ,
                                 activation_type=quantization.QuantType.QUInt16, weight_type=quantization.QuantType.QInt8,
                                 extra_options={"UseQDQContribOps": True})
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(dst), options, providers=["CPUExecutionProvider"])
    _check_encoder("onnxruntime-optimized contrib QDQ", onnx.load(options.optimized_model_filepath),
                   {"MatMulNBits", "DequantizeLinear", "Attention", "EmbedLayerNormalization"})
