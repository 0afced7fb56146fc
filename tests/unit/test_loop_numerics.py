"""Numerics: schedules and convert-loop-to-scf preserve what a kernel computes.

Every kernel runs in the loop-level interpreter (compiler.schedule.interpret)
before scheduling, after scheduling and after lowering to scf/vector, and is
compared with numpy. Independent loops (parallel, vectorize) run in reverse
order in the interpreter, so a wrongly parallelized loop shows.
"""

from __future__ import annotations

import pytest
from loop_kernels import ALL_KERNELS, CONV, MATMUL, ROW_SUM, TRANSPOSE, Kernel
from xdsl.context import Context
from xdsl.dialects import scf, vector

from compiler.dialects.loop import ForOp
from compiler.lowering.convert_loop_to_scf import ConvertLoopToScf
from compiler.registry import make_context
from compiler.schedule import (
    Fuse,
    Parallel,
    Reorder,
    Schedule,
    Split,
    Unroll,
    Vectorize,
    apply_schedule,
)
from compiler.schedule.apply_schedule_pass import ApplySchedulePass
from compiler.schedule.default_schedule_pass import DefaultSchedulePass

CTX: Context = make_context()


@pytest.mark.parametrize("kernel", ALL_KERNELS, ids=lambda k: k.name)
def test_reference(kernel: Kernel) -> None:
    kernel.check(kernel.parse())


@pytest.mark.parametrize("kernel", ALL_KERNELS, ids=lambda k: k.name)
@pytest.mark.parametrize("vector_bits", [128, 512])
def test_default_schedule_then_scf(kernel: Kernel, vector_bits: int) -> None:
    module = kernel.parse()
    DefaultSchedulePass(vector_bits=vector_bits, threads=4, min_parallel_work=1).apply(CTX, module)
    ApplySchedulePass().apply(CTX, module)
    module.verify()
    kernel.check(module)
    ConvertLoopToScf(vector_bits=vector_bits).apply(CTX, module)
    module.verify()
    assert not any(isinstance(op, ForOp) for op in module.walk())
    kernel.check(module)


@pytest.mark.parametrize("kernel", [MATMUL, CONV, TRANSPOSE], ids=lambda k: k.name)
def test_default_schedule_is_not_scalar(kernel: Kernel) -> None:
    """The default pipeline emits vector ops and a parallel loop for these kernels."""
    module = kernel.parse()
    DefaultSchedulePass(threads=4, min_parallel_work=1).apply(CTX, module)
    ApplySchedulePass().apply(CTX, module)
    ConvertLoopToScf().apply(CTX, module)
    names = {op.name for op in module.walk()}
    assert "scf.parallel" in names
    assert names & {"vector.load", "vector.store", "vector.fma"}


def test_matmul_default_schedule_shape() -> None:
    """matmul: j is moved inside k, split by 16 lanes and vectorized; i is parallel."""
    module = MATMUL.parse()
    kernel = MATMUL.func(module)
    from compiler.schedule.rules import default_schedule
    from compiler.schedule.target import CpuTarget

    schedule = default_schedule(kernel, CpuTarget(vector_bits=512, threads=4, min_parallel_work=1))
    steps = schedule.to_list()
    assert {"primitive": "reorder", "axes": ["k", "j1"]} in steps
    assert {"primitive": "split", "axis": "j1", "factor": 16} in steps
    assert {"primitive": "vectorize", "axis": "j1.inner"} in steps
    assert {"primitive": "parallel", "axis": "i1"} in steps
    ConvertLoopToScf().apply(CTX, module)  # the kernel itself is untouched
    MATMUL.check(module)


MANUAL = {
    "matmul-tiles": (
        MATMUL,
        [
            Split("i1", 3),
            Reorder(("i1.outer", "i1.inner", "k", "j1")),
            Split("j1", 8),
            Vectorize("j1.inner"),
            Vectorize("j1.tail"),
            Unroll("i1.inner"),
            Parallel("i1.outer"),
            Fuse("i", "j"),
            Parallel("i.j.fused"),
            Split("j2", 16),
            Vectorize("j2.inner"),
            Vectorize("j2.tail"),
        ],
    ),
    "conv-ow-inner": (
        CONV,
        [
            Fuse("n1", "co1"),
            Fuse("n1.co1.fused", "oh1"),
            Parallel("n1.co1.fused.oh1.fused"),
            Reorder(("ow1", "ci", "kh", "kw")),
            Reorder(("ci", "kh", "kw", "ow1")),
            Split("ow1", 4),
            Vectorize("ow1.inner"),
            Unroll("kw"),
            Fuse("co", "oh"),
            Parallel("co.oh.fused"),
        ],
    ),
    "transpose": (
        TRANSPOSE,
        [Reorder(("j", "i")), Split("i", 4), Vectorize("i.inner"), Vectorize("i.tail"), Parallel("j")],
    ),
    "rowsum-unroll": (ROW_SUM, [Split("j", 8), Unroll("j.inner"), Parallel("i")]),
}


@pytest.mark.parametrize("case", sorted(MANUAL))
def test_manual_schedules(case: str) -> None:
    kernel, primitives = MANUAL[case]
    module = kernel.parse()
    schedule = Schedule(list(primitives))
    # The JSON form applies to the same effect.
    apply_schedule(kernel.func(module), Schedule.from_json(schedule.to_json()))
    module.verify()
    kernel.check(module)
    ConvertLoopToScf().apply(CTX, module)
    module.verify()
    kernel.check(module)


def test_reduction_vectorizes_with_partials_and_stays_correct() -> None:
    """33 columns: two 16-lane chunks into the partials, one reduction, one scalar iteration."""
    module = ROW_SUM.parse()
    apply_schedule(ROW_SUM.func(module), [Vectorize("j")])
    ConvertLoopToScf().apply(CTX, module)
    loops = [op for op in module.walk() if isinstance(op, scf.ForOp)]
    assert not any("loop.not_vectorized" in op.attributes for op in loops)
    assert sum(isinstance(op, vector.ReductionOp) for op in module.walk()) == 1
    ROW_SUM.check(module)


@pytest.mark.parametrize("kernel", ALL_KERNELS, ids=lambda k: k.name)
def test_vectorize_every_leaf_directly(kernel: Kernel) -> None:
    """Vectorize each innermost loop as is (strided, gathered, refused...): still exact."""
    module = kernel.parse()
    f = kernel.func(module)
    leaves = [
        op.axis_name
        for op in f.walk()
        if isinstance(op, ForOp)
        and not op.child_loops()
        and all(lp.kind == "serial" for lp in (op, *op.enclosing_loops()))
    ]
    apply_schedule(f, [Vectorize(a) for a in leaves])
    kernel.check(module)
    ConvertLoopToScf(vector_bits=256).apply(CTX, module)
    module.verify()
    kernel.check(module)
