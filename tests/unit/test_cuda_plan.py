"""Whole models on the CUDA target: the launch plan checked in the interpreter here, on the GPU where there is one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.errors import CompilerError
from compiler.targets.cuda.launch import cuda_device_available
from compiler.targets.cuda.pipeline import cuda_module
from compiler.targets.cuda.plan import build_plan, run_interpreted
from compiler.testing.models import LIGHT_MODELS, seeded_light_model
from compiler.testing.oracle import run_onnxruntime

MODELS = Path(__file__).resolve().parents[1] / "models"
RNG = np.random.default_rng(1)


def _conv_softmax() -> onnx.ModelProto:
    w = numpy_helper.from_array(RNG.standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
    shape = numpy_helper.from_array(np.array([1, 72], dtype=np.int64), "s")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "s"], ["f"]),
        helper.make_node("Softmax", ["f"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "conv_softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 72])], [w, shape],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _mlp() -> onnx.ModelProto:
    w1 = numpy_helper.from_array(RNG.standard_normal((24, 16)).astype(np.float32) * 0.3, "w1")
    w2 = numpy_helper.from_array(RNG.standard_normal((16, 5)).astype(np.float32) * 0.3, "w2")
    b = numpy_helper.from_array(RNG.standard_normal(16).astype(np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b"], ["hb"]),
        helper.make_node("Tanh", ["hb"], ["t"]),
        helper.make_node("MatMul", ["t", "w2"], ["o"]),
        helper.make_node("LayerNormalization", ["o", "g", "beta"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 24])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 5])],
        [w1, w2, b, numpy_helper.from_array(np.ones(5, np.float32), "g"), numpy_helper.from_array(np.zeros(5, np.float32), "beta")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("make", [_conv_softmax, _mlp], ids=["conv_softmax", "mlp"])
def test_plan_in_the_interpreter_matches_onnxruntime(make) -> None:  # noqa: ANN001
    model = make()
    module = cuda_module(model)
    plan = build_plan(module)
    assert plan.calls and plan.source.count("__global__") == sum(len(k.launches) for k in plan.kernels.values())
    feeds = {s.name: RNG.standard_normal(s.shape).astype(s.dtype) for s in plan.inputs}
    got = run_interpreted(plan, module, feeds)
    (want,) = run_onnxruntime(model, feeds)
    np.testing.assert_allclose(got[plan.outputs[0].name], want, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(cuda_device_available(), reason="this machine has a GPU")
def test_cuda_target_without_a_gpu_says_so() -> None:
    with pytest.raises(CompilerError, match="needs an NVIDIA GPU"):
        compiler.compile(_mlp(), target="cuda")


GPU = pytest.mark.skipif(not cuda_device_available(), reason="no NVIDIA GPU and driver on this machine")


@GPU
@pytest.mark.parametrize("name", [*LIGHT_MODELS, "bert_tiny"])
def test_models_on_the_gpu_match_onnxruntime(name: str) -> None:
    model = onnx.load(MODELS / "bert_tiny.onnx") if name == "bert_tiny" else seeded_light_model(name)
    compiled = compiler.compile(model, target="cuda")
    feeds = {}
    for s in compiled.plan.inputs:
        feeds[s.name] = (RNG.integers(0, 2, s.shape) if np.dtype(s.dtype).kind == "i" else RNG.standard_normal(s.shape)).astype(s.dtype)
    want = run_onnxruntime(model, feeds)
    got = compiled.run(None, feeds)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)
