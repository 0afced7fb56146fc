"""The CUDA target without a GPU: GPU schedules keep each kernel's meaning, and NVRTC compiles what we emit.

- numerics: every kernel of one-op models of each kernel class runs in the
  loop interpreter unscheduled and under its GPU schedule (bound loops run in
  reverse order there, so a wrong binding shows), on the same random data;
- compile: the CUDA C of whole models goes through NVRTC to PTX and cubin
  for sm_80 and sm_90 (NVRTC assembles the PTX, so invalid PTX fails here).
  CI compiles SqueezeNet and the BERT encoder; `make cuda-compile` all nine
  light models and the encoder (COMPILER_CUDA_ALL_MODELS=1).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.api import run_pipeline
from compiler.dialects.loop import SCHEDULE_ATTR
from compiler.frontend.onnx import import_onnx
from compiler.schedule.interpret import np_dtype, run_kernel
from compiler.schedule.rules.gpu import gpu_default_schedule
from compiler.schedule.schedule import apply_schedule, kernels
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.convert_loop_to_cuda import emit_kernel, emit_module
from compiler.targets.cuda.pipeline import cuda_module, cuda_pipeline
from compiler.testing.models import LIGHT_MODELS, seeded_light_model

MODELS = Path(__file__).resolve().parents[1] / "models"
RNG = np.random.default_rng(0)


def _model(nodes: list[onnx.NodeProto], inputs: dict[str, list[int]], output: str, weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "case",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


CASES = {
    "conv_bias_relu": _model(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
        {"x": [1, 3, 9, 7]}, "y", {"w": _w(5, 3, 3, 3), "b": _w(5)},
    ),
    "conv_stride2_residual": _model(
        [helper.make_node("Conv", ["x", "w"], ["c"], strides=[2, 2]), helper.make_node("Add", ["c", "r"], ["y"])],
        {"x": [1, 4, 11, 11], "r": [1, 6, 5, 5]}, "y", {"w": _w(6, 4, 3, 3)},
    ),
    "gemm": _model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], {"x": [3, 40]}, "y",
                   {"w": _w(96, 40), "b": _w(96)}),
    "matmul_batched": _model([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [2, 5, 12]}, "y", {"w": _w(12, 7)}),
    "maxpool": _model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
                      {"x": [1, 3, 9, 9]}, "y", {}),
    "global_avgpool": _model([helper.make_node("GlobalAveragePool", ["x"], ["y"])], {"x": [1, 6, 5, 5]}, "y", {}),
    "softmax": _model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], {"x": [4, 33]}, "y", {}),
    "softmax_row": _model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], {"x": [1, 300]}, "y", {}),
    "layernorm": _model([helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1)], {"x": [2, 3, 16]}, "y",
                        {"g": _w(16), "b": _w(16)}),
    "reduce_mean": _model([helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0)], {"x": [3, 17, 4]}, "y", {}),
    "transpose": _model([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], {"x": [1, 3, 4, 600]}, "y", {}),
    "elementwise_broadcast": _model(
        [helper.make_node("Mul", ["x", "s"], ["m"]), helper.make_node("Sigmoid", ["m"], ["y"])],
        {"x": [2, 3, 5, 7]}, "y", {"s": _w(3, 1, 1)},
    ),
    "concat": _model([helper.make_node("Concat", ["x", "z"], ["y"], axis=1)], {"x": [1, 2, 3, 3], "z": [1, 4, 3, 3]}, "y", {}),
}


def _loop_kernels(model: onnx.ModelProto) -> list:
    module = import_onnx(model)
    run_pipeline(module, ",".join(cuda_pipeline("graph")[:3]))
    return kernels(module)


def _random_args(kernel) -> list[np.ndarray]:  # noqa: ANN001
    args = []
    for arg in kernel.body.block.args:
        t = arg.type
        dtype = np_dtype(t.element_type)
        data = RNG.standard_normal(t.get_shape()) if dtype.kind == "f" else RNG.integers(0, 3, t.get_shape())
        args.append(np.asarray(data, dtype=dtype))
    return args


@pytest.mark.parametrize("case", sorted(CASES))
def test_gpu_schedule_keeps_the_kernel_meaning(case: str) -> None:
    bound_launches = 0
    for kernel in _loop_kernels(CASES[case]):
        args = _random_args(kernel)
        want = [a.copy() for a in args]
        run_kernel(kernel.clone(), want)
        schedule = gpu_default_schedule(kernel)
        scheduled = kernel.clone()
        scheduled.attributes.pop(SCHEDULE_ATTR, None)
        apply_schedule(scheduled, schedule.to_json())
        got = [a.copy() for a in args]
        run_kernel(scheduled, got)
        for w, g in zip(want, got, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        launches = emit_kernel(scheduled).launches
        bound_launches += sum(1 for launch in launches if launch.block != (1, 1, 1))
        assert all(np.prod(launch.block) <= 1024 for launch in launches)
    # every case but a one-row softmax has a data-parallel nest on blocks x threads
    assert bound_launches > 0 or case == "softmax_row"


def test_emitted_code_is_what_nvrtc_compiles() -> None:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    for case in ("conv_bias_relu", "softmax", "layernorm"):
        source, _ = emit_module(cuda_module(CASES[case]))
        for arch in nvrtc.ARCHITECTURES:
            binary = nvrtc.compile_cuda(source, arch, name=f"{case}.cu")
            assert binary.cubin[:4] == b"\x7fELF" and f".target {arch}" in binary.ptx


def test_nvrtc_rejects_bad_code_with_one_line() -> None:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    with pytest.raises(nvrtc.NvrtcError, match=r"bad\.cu: NVRTC could not compile it for sm_80: .*error"):
        nvrtc.compile_cuda('extern "C" __global__ void k(float* a) { a[0] = undefined_name; }', "sm_80", name="bad.cu")


_ALL = os.environ.get("COMPILER_CUDA_ALL_MODELS") == "1"


@pytest.mark.parametrize("name", [*LIGHT_MODELS, "bert_tiny"] if _ALL else ["squeezenet", "bert_tiny"])
def test_models_compile_to_cubin(name: str) -> None:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    model = str(MODELS / "bert_tiny.onnx") if name == "bert_tiny" else seeded_light_model(name)
    source, compiled = emit_module(cuda_module(model))
    assert compiled and all(k.launches for k in compiled)
    for arch in nvrtc.ARCHITECTURES:
        binary = nvrtc.compile_cuda(source, arch, name=f"{name}.cu")
        assert binary.cubin[:4] == b"\x7fELF"
        for k in compiled:
            for launch in k.launches:
                assert f".entry {launch.function}(" in binary.ptx
