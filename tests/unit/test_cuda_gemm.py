"""The GEMM class on a GPU without a GPU: shared-memory tiles, register tiles, float4 copies.

Each matmul and conv below (divisible and non-divisible shapes, stride and
padding, batches) runs in the loop interpreter unscheduled and under its
GPU schedule (compiler/schedule/rules/gpu_gemm.py), whose block phases run
there in sequence as the barriers make them run on a GPU; thread-bound loops
run in reverse, so a thread reading another's unstaged data or sharing an
accumulator shows. The emitted CUDA C goes through NVRTC for sm_80 and sm_90.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import helper
from runtime_models import float_graph

from compiler.api import run_pipeline
from compiler.dialects.loop import ALGORITHM_ATTR, SCHEDULE_ATTR
from compiler.frontend.onnx import import_onnx
from compiler.schedule.interpret import np_dtype, run_kernel
from compiler.schedule.rules.gpu import gpu_default_schedule, gpu_knobs
from compiler.schedule.rules.gpu_gemm import GEMM_ALGORITHMS
from compiler.schedule.schedule import apply_schedule, kernels
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.convert_loop_to_cuda import emit_kernel, emit_module
from compiler.targets.cuda.pipeline import cuda_module, cuda_pipeline

RNG = np.random.default_rng(1)


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _conv(x: list[int], w: tuple[int, ...], **attrs: object) -> onnx.ModelProto:
    return float_graph([helper.make_node("Conv", ["x", "w", "b"], ["c"], **attrs), helper.make_node("Relu", ["c"], ["y"])],
                  {"x": x}, {"w": _w(*w), "b": _w(w[0])})


CASES = {
    # name: (model, whether the GEMM rule schedules its matmul/conv kernel; None: either)
    "matmul_tiles_divide": (float_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [32, 16]}, {"w": _w(16, 64)}), True),
    "matmul_primes": (float_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [7, 13]}, {"w": _w(13, 11)}), True),
    "matmul_odd": (float_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [10, 18]}, {"w": _w(18, 30)}), True),
    "gemm_bias": (float_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], {"x": [3, 40]},
                         {"w": _w(96, 40), "b": _w(96)}), True),
    # one row: the row loop is gone, a matrix-vector product with a tanh epilogue
    "gemv_bias_tanh": (float_graph([helper.make_node("Gemm", ["x", "w", "b"], ["g"]), helper.make_node("Tanh", ["g"], ["y"])],
                              {"x": [1, 24]}, {"w": _w(24, 36), "b": _w(36)}), True),
    "matmul_batch1": (float_graph([helper.make_node("MatMul", ["x", "z"], ["y"])], {"x": [1, 1, 6, 12], "z": [1, 1, 12, 8]}, {}),
                      True),
    "matmul_batched": (float_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [2, 6, 12]}, {"w": _w(12, 8)}), True),
    "matmul_two_activations": (float_graph([helper.make_node("MatMul", ["x", "z"], ["y"])], {"x": [3, 4, 8], "z": [3, 8, 12]}, {}),
                               True),
    # two batch dims: more block dims than the grid has, so the baseline rule
    "matmul_batched_4d": (float_graph([helper.make_node("MatMul", ["x", "z"], ["y"])], {"x": [2, 2, 3, 4], "z": [2, 2, 4, 5]}, {}),
                          False),
    "conv_pad1_relu": (_conv([1, 3, 9, 7], (5, 3, 3, 3), pads=[1, 1, 1, 1]), True),
    "conv_stride2": (_conv([1, 4, 11, 11], (6, 4, 3, 3), strides=[2, 2]), True),
    "conv_1x1": (_conv([1, 16, 5, 5], (8, 16, 1, 1)), True),
    "conv_rect_stride_pad": (_conv([1, 3, 10, 8], (4, 3, 3, 2), strides=[2, 1], pads=[1, 0, 1, 1]), True),
    "conv_dilated": (_conv([1, 2, 9, 9], (4, 2, 3, 3), dilations=[2, 2]), True),
    "conv_grouped": (_conv([1, 4, 6, 6], (6, 2, 3, 3), group=2, pads=[1, 1, 1, 1]), None),
    "conv_depthwise": (_conv([1, 4, 6, 6], (4, 1, 3, 3), group=4, pads=[1, 1, 1, 1]), None),
    # a batch and the output rows: two extra block loops, so the baseline rule
    "conv_batch2": (_conv([2, 3, 6, 6], (4, 3, 3, 3)), False),
}


def _loop_kernels(model: onnx.ModelProto) -> list:
    module = import_onnx(model)
    run_pipeline(module, ",".join(cuda_pipeline("graph")[:3]))
    return kernels(module)


def _gemm_kernels(model: onnx.ModelProto) -> list:
    found = [k for k in _loop_kernels(model) if k.attributes.get(ALGORITHM_ATTR) is not None
             and k.attributes[ALGORITHM_ATTR].data in GEMM_ALGORITHMS]  # type: ignore[union-attr]
    assert found, "the case has no matmul or conv kernel"
    return found


def _random_args(kernel) -> list[np.ndarray]:  # noqa: ANN001
    return [np.asarray(RNG.standard_normal(a.type.get_shape()), dtype=np_dtype(a.type.element_type))
            for a in kernel.body.block.args]


def _check(kernel, schedule_json: str) -> object:  # noqa: ANN001
    """Run the kernel unscheduled and scheduled on the same data; the scheduled clone."""
    args = _random_args(kernel)
    want = [a.copy() for a in args]
    run_kernel(kernel.clone(), want)
    scheduled = kernel.clone()
    scheduled.attributes.pop(SCHEDULE_ATTR, None)
    apply_schedule(scheduled, schedule_json)
    got = [a.copy() for a in args]
    run_kernel(scheduled, got)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    return scheduled


def _primitives(schedule_json: str) -> list[str]:
    return [step["primitive"] + ("/" + step["scope"] if "scope" in step else "") for step in json.loads(schedule_json)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gemm_schedule_keeps_the_kernel_meaning(case: str) -> None:
    model, tiled = CASES[case]
    for kernel in _gemm_kernels(model):
        schedule = gpu_default_schedule(kernel).to_json()
        steps = _primitives(schedule)
        if tiled is not None:
            assert ("cache_read/shared" in steps and "cache_write/local" in steps) == tiled, steps
        tiled = "cache_read/shared" in steps
        scheduled = _check(kernel, schedule)
        emitted = emit_kernel(scheduled)  # type: ignore[arg-type]
        assert len(emitted.launches) == 1 or not tiled  # init and epilogue live in the tiles
        if tiled:
            assert "__shared__" in emitted.source and "__syncthreads();" in emitted.source
            assert all(np.prod(launch.block) <= 1024 for launch in emitted.launches)


@pytest.mark.parametrize(
    "knobs",
    [
        {"gpu.rm": 2, "gpu.rn": 1, "gpu.ty": 4, "gpu.tx": 8, "gpu.bk": 4, "gpu.vector": 1},
        {"gpu.rm": 1, "gpu.rn": 8, "gpu.ty": 32, "gpu.tx": 8, "gpu.bk": 32, "gpu.vector": 2},
    ],
)
def test_gemm_knobs_are_searchable_and_keep_the_meaning(knobs: dict[str, int]) -> None:
    for case in ("matmul_odd", "conv_stride2"):
        for kernel in _gemm_kernels(CASES[case][0]):
            declared = {k.name: k for k in gpu_knobs(kernel)}
            assert set(knobs) <= set(declared)
            assert all(v in declared[name].choices for name, v in knobs.items())
            schedule = gpu_default_schedule(kernel, knobs=knobs).to_json()
            assert "cache_read/shared" in _primitives(schedule)
            _check(kernel, schedule)


def test_weight_tiles_are_copied_as_float4() -> None:
    (kernel,) = _gemm_kernels(CASES["matmul_tiles_divide"][0])
    scheduled = _check(kernel, gpu_default_schedule(kernel).to_json())
    source = emit_kernel(scheduled).source  # type: ignore[arg-type]
    # the weight (params: 64-byte aligned) as float4; the activation, not known aligned, one float at a time
    assert source.count("*reinterpret_cast<float4*>") == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_gemm_cuda_compiles(case: str) -> None:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    source, _ = emit_module(cuda_module(CASES[case][0]))
    for arch in nvrtc.ARCHITECTURES:
        binary = nvrtc.compile_cuda(source, arch, name=f"{case}.cu")
        assert binary.cubin[:4] == b"\x7fELF"
        if CASES[case][1]:
            assert "bar.sync" in binary.ptx and ".shared" in binary.ptx


def test_cache_write_json_is_unchanged_without_a_scope() -> None:
    """CPU schedules and their tuning records keep their JSON; the GPU register tile adds `scope`."""
    from compiler.schedule import CacheRead, CacheWrite, Primitive

    assert CacheWrite("i").to_dict() == {"primitive": "cache_write", "axis": "i", "position": "inside"}
    local = CacheWrite("i", scope="local")
    assert local.to_dict()["scope"] == "local" and Primitive.from_dict(local.to_dict()) == local
    read = CacheRead("k.outer", 1, vector=4)
    assert Primitive.from_dict(read.to_dict()) == read
    with pytest.raises(ValueError, match="placed inside its loop"):
        CacheWrite("i", position="around", scope="local")


def test_the_interpreter_runs_a_blocks_phases_in_turn() -> None:
    """Each block copies its row into shared memory (phase 1, 64 threads),
    then 32 threads add mirrored pairs (phase 2): correct only if phase 1 ends
    before phase 2 starts, which is what the barrier makes true on a GPU."""
    from pathlib import Path

    from compiler.api import parse_mlir

    text = (Path(__file__).resolve().parents[1] / "filecheck" / "cuda" / "phases.mlir").read_text()
    (kernel,) = kernels(parse_mlir(text))
    a = RNG.standard_normal((4, 64)).astype(np.float32)
    out = np.zeros((4, 32), np.float32)
    run_kernel(kernel, [a, out])
    np.testing.assert_array_equal(out, a[:, :32] + a[:, 32:])
