"""Guarded splits (`split(..., tail="guard")`, Halide's GuardWithIf) on the CPU and GPU paths.

A guarded split rounds its outer loop up and runs the body's memory ops under
`scf.if (outer*factor + inner < trips)`, so a GPU binding covers an extent
that no good block size divides (a prime, 49, 1000). Each GPU case below has
such an extent; its rule's schedule must guard it, and the scheduled kernel
runs in the loop interpreter (thread loops in reverse, reads past a buffer
raise) against the unscheduled one. The CPU case lowers a guarded schedule
through convert-loop-to-scf. NVRTC compiles the emitted CUDA where installed.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from cpu_kernels import jit
from loop_kernels import MATMUL
from onnx import helper
from runtime_models import float_graph
from xdsl.context import Context

from compiler.api import run_pipeline
from compiler.dialects.loop import SCHEDULE_ATTR
from compiler.frontend.onnx import import_onnx
from compiler.lowering.convert_loop_to_scf import ConvertLoopToScf
from compiler.registry import make_context
from compiler.schedule import Parallel, Reorder, Schedule, Split, Unroll, Vectorize, apply_schedule
from compiler.schedule.interpret import np_dtype, run_kernel
from compiler.schedule.primitives import Primitive, ScheduleError
from compiler.schedule.rules.gpu import gpu_default_schedule, gpu_rule
from compiler.schedule.schedule import kernels
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.convert_loop_to_cuda import PRELUDE, emit_kernel
from compiler.targets.cuda.pipeline import cuda_pipeline

RNG = np.random.default_rng(7)
CTX: Context = make_context()


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


CASES = {
    # the baseline rule: rows of a prime length, longer than a block
    "elementwise_prime": float_graph([helper.make_node("Sigmoid", ["x"], ["y"])], {"x": [2, 1009]}, {}),
    # a 7x7 map is 49 threads: 5 of the 37 channels join it (245 threads), the last block guarded
    "sigmoid_37_channels_7x7": float_graph([helper.make_node("Sigmoid", ["x"], ["y"])], {"x": [1, 37, 7, 7]}, {}),
    "bias_1009_classes": float_graph([helper.make_node("Add", ["x", "b"], ["y"])], {"x": [1, 1009]}, {"b": _w(1009)}),
    # the GEMM rule: a prime row count and reduction (m and k guarded), a prime column count (n guarded)
    "matmul_67x13x9": float_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [67, 13]}, {"w": _w(13, 9)}),
    "gemm_bias_67_columns": float_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], {"x": [5, 24]},
                                   {"w": _w(67, 24), "b": _w(67)}),
    # conv as implicit GEMM: 67 output channels (rows of the GEMM), a 3x3 output
    "conv_67_channels_3x3": float_graph([helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                                    helper.make_node("Relu", ["c"], ["y"])], {"x": [1, 1, 3, 3]},
                                   {"w": _w(67, 1, 3, 3), "b": _w(67)}),
}


def _loop_kernels(model: onnx.ModelProto) -> list:
    module = import_onnx(model)
    run_pipeline(module, ",".join(cuda_pipeline("graph")[:3]))
    return kernels(module)


def _random_args(kernel) -> list[np.ndarray]:  # noqa: ANN001
    return [np.asarray(RNG.standard_normal(a.type.get_shape()), dtype=np_dtype(a.type.element_type))
            for a in kernel.body.block.args]


def _scheduled(kernel, schedule_json: str):  # noqa: ANN001, ANN202
    scheduled = kernel.clone()
    scheduled.attributes.pop(SCHEDULE_ATTR, None)
    apply_schedule(scheduled, schedule_json)
    return scheduled


def test_1000_classes_split_exactly() -> None:
    """1000 = 4 x 250: an exact split uses as few warp lanes as a guarded 256, so it wins the tie."""
    model = float_graph([helper.make_node("Add", ["x", "b"], ["y"])], {"x": [1, 1000]}, {"b": _w(1000)})
    (kernel,) = _loop_kernels(model)
    steps = json.loads(gpu_default_schedule(kernel).to_json())
    assert {"primitive": "split", "axis": "d1", "factor": 250} in steps


@pytest.mark.parametrize("case", sorted(CASES))
def test_guarded_gpu_schedule_keeps_the_kernel_meaning(case: str) -> None:
    guarded = 0
    for kernel in _loop_kernels(CASES[case]):
        schedule = gpu_default_schedule(kernel).to_json()
        guards = sum(1 for step in json.loads(schedule) if step.get("tail") == "guard")
        guarded += guards
        args = _random_args(kernel)
        want = [a.copy() for a in args]
        run_kernel(kernel.clone(), want)
        scheduled = _scheduled(kernel, schedule)
        got = [a.copy() for a in args]
        run_kernel(scheduled, got)
        for w, g in zip(want, got, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
        cuda = emit_kernel(scheduled)
        assert "if (" in cuda.source or not guards
        assert not guards or max(np.prod(launch.block) for launch in cuda.launches) >= 32
        if nvrtc.available():
            binary = nvrtc.compile_cuda(PRELUDE + "\n" + cuda.source, "sm_80", name=f"{case}.cu")
            assert binary.cubin[:4] == b"\x7fELF"
    assert guarded, "the rule divided the awkward extent instead of guarding it"


def _rowsfloat_graph(op: str, shape: list[int], weights: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    inputs = ["x", *(weights or {})]
    node = helper.make_node(op, inputs, ["y"], axis=-1) if op != "ReduceMax" else helper.make_node(
        op, ["x"], ["y"], axes=[-1], keepdims=1)
    return float_graph([node], {"x": shape}, weights or {})


@pytest.mark.parametrize(("op", "shape", "knobs", "guarded"), [
    ("Softmax", [7, 20], {"row_threads.d0": 32, "rows_per_block.d0": 4}, True),
    ("LayerNormalization", [2, 5, 33], {"row_threads.d0": 64, "rows_per_block.d0": 2}, True),
    # its loop.allreduce stores to the output, outside the guard: bind_reduce refuses, a row per block
    ("ReduceMax", [13, 40], {"row_threads.d0": 32, "rows_per_block.d0": 8}, False),
])
def test_rows_sharing_a_block_guard_the_last_block(op: str, shape: list[int], knobs: dict, guarded: bool) -> None:
    weights = {"g": _w(shape[-1]), "b": _w(shape[-1])} if op == "LayerNormalization" else None
    (kernel,) = _loop_kernels(_rowsfloat_graph(op, shape, weights))
    b = ScheduleBuilder(kernel, knobs)
    gpu_rule(b, GpuTarget())
    schedule = b.finish().to_json()
    assert any(step.get("tail") == "guard" for step in json.loads(schedule)) == guarded
    args = _random_args(kernel)
    want = [a.copy() for a in args]
    run_kernel(kernel.clone(), want)
    got = [a.copy() for a in args]
    run_kernel(_scheduled(kernel, schedule), got)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    assert max(launch.block[1] for launch in emit_kernel(_scheduled(kernel, schedule)).launches) == (
        knobs["rows_per_block.d0"] if guarded else 1)


def test_split_json_is_unchanged_without_a_guard() -> None:
    assert Split("i", 4).to_dict() == {"primitive": "split", "axis": "i", "factor": 4}
    assert Split("i", 4).describe() == "split(axis='i', factor=4)"
    guarded = Split("i", 4, "guard")
    assert Primitive.from_dict(json.loads(json.dumps(guarded.to_dict()))) == guarded
    with pytest.raises(ScheduleError, match="split: tail must be one of peel, guard, got 'clamp'"):
        Primitive.from_dict({"primitive": "split", "axis": "i", "factor": 4, "tail": "clamp"})


def test_guarded_split_lowers_on_the_cpu() -> None:
    """A guarded schedule through convert-loop-to-scf and the JIT: the guards stay scf.if, the numbers stay."""
    module = MATMUL.parse()
    schedule = Schedule([
        Split("i1", 2, "guard"), Split("j1", 4, "guard"), Split("k", 2, "guard"),
        Reorder(("i1.outer", "j1.outer", "k.outer", "i1.inner", "k.inner", "j1.inner")),
        Unroll("j1.inner"), Parallel("i1.outer"), Split("j2", 4, "guard"),
    ])
    apply_schedule(MATMUL.func(module), Schedule.from_json(schedule.to_json()))
    module.verify()
    MATMUL.check(module)
    ConvertLoopToScf().apply(CTX, module)
    module.verify()
    assert any(op.name == "scf.if" for op in module.walk())
    MATMUL.check(module)
    # and through convert-to-llvm (scf.if -> branches) and the JIT
    args = MATMUL.inputs(np.random.default_rng(1))
    want = MATMUL.reference([a.copy() for a in args])
    jit(str(module))["matmul"](*args)
    np.testing.assert_allclose(args[3], want[0], rtol=1e-5, atol=1e-5)


def test_guarded_split_refusals_are_one_line() -> None:
    module = MATMUL.parse()
    kernel = MATMUL.func(module)
    apply_schedule(kernel, [Split("j2", 4, "guard")])
    with pytest.raises(ScheduleError, match=r"vectorize 'j2.inner': its body runs under a tail guard"):
        apply_schedule(kernel, [Vectorize("j2.inner")])
    with pytest.raises(ScheduleError, match=r"the factor exceeds"):
        apply_schedule(kernel, [Split("i1", 1000)])


def test_no_guard_around_a_barrier() -> None:
    """A guard around a shared-memory step would put its __syncthreads() in a divergent branch."""
    (kernel, *_) = [k for k in _loop_kernels(CASES["gemm_bias_67_columns"]) if "loop.algorithm" in k.attributes]
    scheduled = _scheduled(kernel, gpu_default_schedule(kernel).to_json())
    assert any(op.name == "loop.barrier" for op in scheduled.walk())
    with pytest.raises(ScheduleError, match=r"with tail guard: the loop holds a block-wide 'loop.barrier'"):
        apply_schedule(scheduled, [Split("k.outer", 2, "guard")])


def test_a_7x7_map_fills_its_block() -> None:
    (kernel,) = _loop_kernels(CASES["sigmoid_37_channels_7x7"])
    launches = emit_kernel(_scheduled(kernel, gpu_default_schedule(kernel).to_json())).launches
    assert [(launch.grid, launch.block) for launch in launches] == [((8, 1, 1), (245, 1, 1))]
