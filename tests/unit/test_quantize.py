"""compiler.quantize and `compiler quantize`: post-training int8 quantization.

A tiny seeded conv + matmul model (conv, relu, conv, residual add, relu,
maxpool, reshape, gemm with transB) is quantized with each calibration method; the QDQ
model must run in onnxruntime, stay close to FP32, compile with
`compiler.compile` into integer convs/matmuls, and give what onnxruntime
gives on the same QDQ model within one quantization step of the output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.quantization.observers import Observer, choose_range, kl_threshold
from compiler.quantization.qdq_writer import activation_params
from compiler.quantization.report import sqnr_db
from compiler.testing import oracle
from compiler.tools.cli import main as cli_main

pytest.importorskip("onnxruntime")

METHODS = ("minmax", "percentile", "entropy")


def tiny_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * np.sqrt(2.0 / int(np.prod(shape[1:])))).astype(np.float32)

    inits = {
        "w1": w(8, 3, 3, 3), "b1": (rng.standard_normal(8) * 0.1).astype(np.float32),
        "w2": w(8, 8, 3, 3), "b2": (rng.standard_normal(8) * 0.1).astype(np.float32),
        "shape": np.array([1, -1], np.int64),
        "fc": (rng.standard_normal((10, 128)) * 0.1).astype(np.float32),
        "fcb": (rng.standard_normal(10) * 0.1).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        helper.make_node("Relu", ["s"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def feeds(seed: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).standard_normal((1, 3, 8, 8)).astype(np.float32)}


CALIBRATION = [feeds(s) for s in range(8)]


@pytest.fixture(scope="module", params=METHODS)
def quantized(request: pytest.FixtureRequest) -> compiler.quantization.QuantizedModel:
    return compiler.quantize(tiny_model(), CALIBRATION, method=request.param, percentile=99.9)


@pytest.fixture(scope="module")
def minmax() -> compiler.quantization.QuantizedModel:
    return compiler.quantize(tiny_model(), CALIBRATION, method="minmax", report_samples=0)


def test_qdq_model_runs_in_onnxruntime(quantized: compiler.quantization.QuantizedModel) -> None:
    model = quantized.model
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == 2 and "Gemm" in ops and "Relu" not in ops  # relus fold into the Q clamp
    dtypes = {t.name: t.data_type for t in model.graph.initializer}
    assert dtypes["w1_quantized"] == TensorProto.INT8 and dtypes["b1_quantized"] == TensorProto.INT32
    sample = feeds(50)
    (got,) = oracle.run_onnxruntime(model, sample)
    (want,) = oracle.run_onnxruntime(tiny_model(), sample)
    assert sqnr_db(want, got) > 12.0
    # The report: one row per conv, add and gemm, each finite.
    assert [e.op_type for e in quantized.layers] == ["Conv", "Conv", "Add", "Gemm"]
    assert all(10.0 < e.sqnr_db < 60.0 for e in quantized.layers), quantized.report()


def test_per_channel_weight_scales(minmax: compiler.quantization.QuantizedModel) -> None:
    scales = {t.name: numpy_helper.to_array(t) for t in minmax.model.graph.initializer}
    assert scales["w1_scale"].shape == (8,) and scales["fc_scale"].shape == (10,)  # Gemm transB: axis 0 (N)
    w1 = tiny_model().graph.initializer[0]
    assert np.allclose(scales["w1_scale"], np.abs(numpy_helper.to_array(w1)).reshape(8, -1).max(1) / 127)
    per_tensor = compiler.quantize(tiny_model(), CALIBRATION[:2], per_channel=False, report_samples=0)
    assert {t.name: list(t.dims) for t in per_tensor.model.graph.initializer}["w1_scale"] == []


def test_clipped_methods_choose_smaller_scales(minmax: compiler.quantization.QuantizedModel) -> None:
    for method in ("percentile", "entropy"):
        clipped = compiler.quantize(tiny_model(), CALIBRATION, method=method, percentile=99.0, report_samples=0)
        for name, (lo, hi) in clipped.ranges.items():
            ref_lo, ref_hi = minmax.ranges[name]
            assert ref_lo <= lo <= hi <= ref_hi
            assert activation_params(lo, hi, "int8")[0] <= activation_params(ref_lo, ref_hi, "int8")[0]
        assert any(clipped.ranges[n] != minmax.ranges[n] for n in clipped.ranges), method


def test_entropy_threshold_of_a_gaussian() -> None:
    """TensorRT's KL calibration clips N(0, 1) (1e6 samples) near 4 sigma, inside the max."""
    observer = Observer()
    observer.update(np.random.default_rng(0).standard_normal(1_000_000))
    threshold = kl_threshold(observer.histogram, observer.bound)
    assert 3.0 < threshold < observer.bound
    lo, hi = choose_range(observer, "entropy")
    assert lo == -threshold and hi == threshold


def _integer_ops(model: onnx.ModelProto) -> list[str]:
    module = compiler.run_pipeline(compiler.import_onnx(model), "fold-qdq")
    return [str(op.results[0].type.get_element_type()) for op in module.walk()
            if op.name in ("graph.conv", "graph.matmul")]


def _step(model: onnx.ModelProto, tensor: str) -> float:
    return float(numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == f"{tensor}_scale")))


def test_compiled_matches_onnxruntime_within_one_step() -> None:
    """int8 activations (onnxruntime's default): our int8 kernels against onnxruntime's QDQ kernels."""
    result = compiler.quantize(tiny_model(), CALIBRATION, method="entropy", quantize_outputs=True, report_samples=0)
    assert _integer_ops(result.model) == ["i32", "i32", "i32"]
    step = _step(result.model, "y")
    compiled = compiler.compile(result.model, opt_level=3)
    for seed in range(100, 104):
        sample = feeds(seed)
        (got,) = compiled.run(None, sample)
        (want,) = oracle.run_onnxruntime(result.model, sample)
        assert np.max(np.abs(np.asarray(got) - want)) <= step * (1 + 1e-3)


def test_uint8_activations_match_onnxruntime_float_emulation() -> None:
    """uint8 activations: onnxruntime's optimized u8 x s8 kernels saturate pairs of products at
    int16 on hosts without VNNI (AVX2), so the exact oracle is its unfused QDQ graph (float
    DequantizeLinear -> op -> QuantizeLinear); our folded integer graph must equal it within a step."""
    result = compiler.quantize(
        tiny_model(), CALIBRATION, method="entropy", activation_type="uint8", quantize_outputs=True,
        report_samples=0,
    )
    assert {t.data_type for t in result.model.graph.initializer if t.name.endswith("_zero_point")} == {
        TensorProto.UINT8, TensorProto.INT8}  # uint8 activations, int8 weights
    module = compiler.run_pipeline(compiler.import_onnx(result.model), "fold-qdq,fold-constants,dce")
    session = oracle.ort_session(result.model, optimize=False)
    step = _step(result.model, "y")
    for seed in range(100, 104):
        sample = feeds(seed)
        (got,) = compiler.interpret(module, sample)
        (want,) = session.run(None, sample)
        assert np.max(np.abs(np.asarray(got) - want)) <= step * (1 + 1e-3)


def test_compiler_backend_calibrates_like_onnxruntime(minmax: compiler.quantization.QuantizedModel) -> None:
    ours = compiler.quantize(tiny_model(), CALIBRATION[:2], backend="compiler", report_samples=0)
    ort = compiler.quantize(tiny_model(), CALIBRATION[:2], backend="onnxruntime", report_samples=0)
    assert ours.ranges.keys() == ort.ranges.keys()
    for name in ours.ranges:
        assert np.allclose(ours.ranges[name], ort.ranges[name], rtol=1e-4, atol=1e-5)


def test_cli_writes_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "tiny.onnx"
    onnx.save(tiny_model(), str(model))
    np.savez(tmp_path / "feeds.npz", x=np.stack([f["x"] for f in CALIBRATION]))
    out = tmp_path / "tiny.int8.onnx"
    rc = cli_main(["quantize", str(model), "--calibration", str(tmp_path / "feeds.npz"), "-o", str(out),
                   "--method", "percentile", "--percentile", "99.9", "--no-per-channel"])
    stdout = capsys.readouterr().out
    assert rc == 0 and out.exists() and "SQNR" in stdout and "Gemm" in stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"image": np.zeros((2, 1, 3, 8, 8), np.float32)}, "has no array for input 'x'"),
        ({"x": np.zeros((3, 8, 8), np.float32)}, "array 'x' has rank 3"),
    ],
)
def test_cli_bad_feeds_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arrays: dict[str, np.ndarray], message: str
) -> None:
    model = tmp_path / "tiny.onnx"
    onnx.save(tiny_model(), str(model))
    feeds_file = tmp_path / "feeds.npz"
    np.savez(feeds_file, **arrays)  # type: ignore[arg-type]
    out = tmp_path / "out.onnx"
    rc = cli_main(["quantize", str(model), "--calibration", str(feeds_file), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and not out.exists()
    assert err.count("\n") == 1 and str(feeds_file) in err and message in err, err


def test_old_opset_batch_norm_and_sum_are_prepared() -> None:
    """An opset-9 conv -> BatchNormalization -> Relu -> Sum model (like the light ResNet-50)
    goes to opset 13, the BN folds into the conv and the Sum of two becomes a quantized Add."""
    rng = np.random.default_rng(3)
    inits = {
        "w": (rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32),
        "gamma": rng.uniform(0.5, 1.5, 4).astype(np.float32), "beta": rng.standard_normal(4).astype(np.float32),
        "mean": rng.standard_normal(4).astype(np.float32) * 0.1, "var": rng.uniform(0.5, 1.5, 4).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"]),
        helper.make_node("Relu", ["bn"], ["r"]),
        helper.make_node("Sum", ["r", "x"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    samples = [{"x": np.random.default_rng(s).standard_normal((1, 4, 6, 6)).astype(np.float32)} for s in range(4)]
    result = compiler.quantize(model, samples)
    ops = [n.op_type for n in result.model.graph.node]
    assert "BatchNormalization" not in ops and "Relu" not in ops and "Sum" not in ops and "Add" in ops
    assert result.model.opset_import[0].version == 13
    assert [e.op_type for e in result.layers] == ["Conv", "Add"]
    (got,) = oracle.run_onnxruntime(result.model, samples[0])
    (want,) = oracle.run_onnxruntime(model, samples[0])
    assert sqnr_db(want, got) > 25.0, result.report()
