"""GPU row reductions without a GPU: a row per block, its reductions across the threads (warp shuffles).

For one-op models of ReduceSum/Max/Mean, GlobalAveragePool, Softmax and
LayerNormalization, over rows shorter than a warp, not a multiple of 32, and
longer than one warp: the GPU schedule uses `bind_reduce` (the rule of
compiler/schedule/rules/gpu_rows.py), the loop interpreter gives the
unscheduled kernel's numbers (bound loops run in reverse there), and the
emitted CUDA C has the shuffles and compiles with NVRTC (skipped without it).
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.api import run_pipeline
from compiler.dialects.loop import SCHEDULE_ATTR
from compiler.frontend.onnx import import_onnx
from compiler.schedule.interpret import np_dtype, run_kernel
from compiler.schedule.reduce_threads import BindReduce
from compiler.schedule.rules.gpu import gpu_default_schedule, gpu_rule
from compiler.schedule.schedule import Schedule, apply_schedule, kernels
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.convert_loop_to_cuda import PRELUDE, emit_kernel, emit_module
from compiler.targets.cuda.pipeline import cuda_module, cuda_pipeline

RNG = np.random.default_rng(1)


def _model(node: onnx.NodeProto, shape: list[int], weights: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node], "case",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in (weights or {}).items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _layer_norm(shape: list[int]) -> onnx.ModelProto:
    n = shape[-1]
    weights = {"g": RNG.standard_normal(n).astype(np.float32), "b": RNG.standard_normal(n).astype(np.float32)}
    return _model(helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1), shape, weights)


def _reduce(op: str, shape: list[int]) -> onnx.ModelProto:
    return _model(helper.make_node(op, ["x"], ["y"], axes=[-1], keepdims=1), shape)


# Rows of 20 (under a warp), 33 and 300 (not multiples of 32), 64, and a single row.
SHAPES = {"short": [3, 20], "odd": [4, 33], "long": [2, 300], "warp2": [5, 64], "one_row": [1, 77]}

CASES: dict[str, onnx.ModelProto] = {}
for _label, _shape in SHAPES.items():
    CASES[f"softmax_{_label}"] = _model(helper.make_node("Softmax", ["x"], ["y"], axis=-1), _shape)
    CASES[f"layernorm_{_label}"] = _layer_norm([2, *_shape])
    for _op in ("ReduceSum", "ReduceMax", "ReduceMean"):
        CASES[f"{_op.lower()}_{_label}"] = _reduce(_op, _shape)
for _label, _shape in {"5x5": [1, 6, 5, 5], "7x7": [2, 8, 7, 7], "16x16": [1, 3, 16, 16]}.items():
    CASES[f"global_avgpool_{_label}"] = _model(helper.make_node("GlobalAveragePool", ["x"], ["y"]), _shape)


def _loop_kernels(model: onnx.ModelProto) -> list:
    module = import_onnx(model)
    run_pipeline(module, ",".join(cuda_pipeline("graph")[:3]))
    return kernels(module)


def _random_args(kernel) -> list[np.ndarray]:  # noqa: ANN001
    return [
        np.asarray(RNG.standard_normal(a.type.get_shape()), dtype=np_dtype(a.type.element_type))
        for a in kernel.body.block.args
    ]


def _check(kernel, schedule: Schedule) -> list:  # noqa: ANN001
    """Run the kernel unscheduled and scheduled on the same data; the scheduled clone's launches."""
    args = _random_args(kernel)
    want = [a.copy() for a in args]
    run_kernel(kernel.clone(), want)
    scheduled = kernel.clone()
    scheduled.attributes.pop(SCHEDULE_ATTR, None)
    apply_schedule(scheduled, schedule.to_json())
    got = [a.copy() for a in args]
    run_kernel(scheduled, got)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    return [scheduled]


@pytest.mark.parametrize("case", sorted(CASES))
def test_row_schedule_keeps_the_kernel_meaning(case: str) -> None:
    reduced = 0
    for kernel in _loop_kernels(CASES[case]):
        schedule = gpu_default_schedule(kernel)
        (scheduled,) = _check(kernel, schedule)
        if any(step.primitive == "bind_reduce" for step in schedule):
            reduced += 1
            compiled = emit_kernel(scheduled)
            assert "__shfl_xor_sync" in compiled.source
    assert reduced >= 1, f"{case}: no nest took the row schedule"


@pytest.mark.parametrize("threads", [0, 32, 64, 256, 1024])
def test_threads_per_row_is_a_knob(threads: int) -> None:
    (kernel,) = _loop_kernels(CASES["softmax_long"])
    b = ScheduleBuilder(kernel, {"row_threads.d0": threads})
    gpu_rule(b, GpuTarget())
    assert "row_threads.d0" in b.knobs.declared
    schedule = b.finish()
    steps = [step for step in schedule if isinstance(step, BindReduce)]
    assert [s.threads for s in steps] == ([threads, threads] if threads else [])
    (scheduled,) = _check(kernel, schedule)
    launch = emit_kernel(scheduled).launches[0]
    # 300 elements: never more threads than the row has (rounded up to whole warps)
    assert launch.block == ((min(threads, 320) if threads else launch.block[0]), 1, 1)
    source = emit_kernel(scheduled).source
    assert ("__shared__" in source) == (threads > 32)


def test_rows_shorter_than_the_minimum_keep_a_thread_per_row() -> None:
    (kernel,) = _loop_kernels(_model(helper.make_node("Softmax", ["x"], ["y"], axis=-1), [40, 4]))
    schedule = gpu_default_schedule(kernel)
    assert not any(step.primitive == "bind_reduce" for step in schedule)
    _check(kernel, schedule)


@pytest.mark.parametrize("case", ["softmax_long", "softmax_short", "layernorm_odd", "reducemax_odd",
                                  "reducemean_one_row", "global_avgpool_7x7"])
def test_row_kernels_compile_with_nvrtc(case: str) -> None:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    source, compiled = emit_module(cuda_module(CASES[case]))
    assert "__shfl_xor_sync" in source
    for arch in nvrtc.ARCHITECTURES:
        binary = nvrtc.compile_cuda(source, arch, name=f"{case}.cu")
        assert binary.cubin[:4] == b"\x7fELF"
        for k in compiled:
            for launch in k.launches:
                assert f".entry {launch.function}(" in binary.ptx


@pytest.mark.parametrize("case", ["softmax_long", "reducesum_odd", "layernorm_short"])
def test_row_schedule_compiles_on_the_cpu_too(case: str) -> None:
    """convert-loop-to-scf runs thread loops and loop.allreduce serially: the same numbers natively."""
    from compiler.schedule import build_kernel

    for kernel in _loop_kernels(CASES[case]):
        kernel.attributes.pop(SCHEDULE_ATTR, None)
        schedule = gpu_default_schedule(kernel)
        args = _random_args(kernel)
        want = [a.copy() for a in args]
        run_kernel(kernel.clone(), want)
        got = [a.copy() for a in args]
        build_kernel(kernel, schedule, cache=False)(*got)
        for w, g in zip(want, got, strict=True):
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(("case", "shape", "knobs", "block", "grid"), [
    ("softmax", [8, 20], {"row_threads.d0": 32, "rows_per_block.d0": 4}, (32, 4, 1), (2, 1, 1)),
    ("layernorm", [2, 4, 33], {"row_threads.d0": 64, "rows_per_block.d0": 2}, (64, 2, 1), (2, 2, 1)),
    ("reducemax", [16, 40], {"row_threads.d0": 32, "rows_per_block.d0": 8}, (32, 8, 1), (2, 1, 1)),
])
def test_short_rows_share_a_block(case: str, shape: list[int], knobs: dict, block: tuple, grid: tuple) -> None:
    """rows_per_block: one row per threadIdx.y; a row of one warp reduces by shuffles alone, wider rows
    index their shared array by the row."""
    model = {
        "softmax": lambda: _model(helper.make_node("Softmax", ["x"], ["y"], axis=-1), shape),
        "layernorm": lambda: _layer_norm(shape),
        "reducemax": lambda: _reduce("ReduceMax", shape),
    }[case]()
    launches, sources = [], [PRELUDE]
    for kernel in _loop_kernels(model):
        b = ScheduleBuilder(kernel, knobs)
        gpu_rule(b, GpuTarget())
        (scheduled,) = _check(kernel, b.finish())
        compiled = emit_kernel(scheduled)
        launches += [la for la in compiled.launches if la.block[1] > 1]
        sources.append(compiled.source)
        if any(la.block[1] > 1 and la.block[0] > 32 for la in compiled.launches):
            assert "[threadIdx.y * " in compiled.source
    assert [(la.block, la.grid) for la in launches] == [(block, grid)]
    if nvrtc.available():
        for arch in nvrtc.ARCHITECTURES:
            assert nvrtc.compile_cuda("\n".join(sources), arch, name=f"{case}.cu").cubin[:4] == b"\x7fELF"
