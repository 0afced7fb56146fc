"""The generic GPU schedule: every data-parallel nest on a grid of thread blocks.

For each top-level nest, the loops of its perfect prefix whose iterations are
independent (the output's axes; a reduction's `k` stops the prefix) are
divided between blocks and threads: the innermost ones (contiguous in memory,
so a warp's accesses coalesce), fused, are the threads of a block, as many as
fit in the block size; the outer ones, fused, are the blocks (`blockIdx.x`).
When the innermost loop alone is longer than a block, it is split by the
block size (by a whole-warp divisor of its extent of at least half a block
when there is one; else with `tail="guard"`, so the last block's extra
threads idle): `.inner` on threads, `.outer` on `blockIdx.y`. Each thread then runs the rest of the nest (a reduction, an
epilogue) for its output element. Nests without an independent outer loop, and
kernels that keep state at their top level, stay serial: one thread (see
compiler/targets/cuda/convert_loop_to_cuda.py).

This is the baseline every kernel class gets on a GPU. Shared-memory tiles,
register tiles and warp-shuffle reductions are the class rules' work: the
GEMM class (matmul, conv as implicit GEMM) has its own (`gpu_gemm.py`), and
what its schedule leaves unbound (an init or epilogue stage it could not
place) gets this baseline; row reductions (softmax, layer norm, reduce,
global pools) take a block per row first when they can (gpu_rows.py).

Knobs: `threads.<nest>`, the block size of each nest (32 to 1024).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr

from compiler.dialects.loop import ALGORITHM_ATTR, SERIAL
from compiler.schedule.analysis import independence_problem
from compiler.schedule.knobs import Knob
from compiler.schedule.primitives import GUARD, PEEL, Bind, Fuse, Split, all_loops, unique_axis
from compiler.schedule.rules.gpu_gemm import GEMM_ALGORITHMS, gemm_rule
from compiler.schedule.schedule import Schedule
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder

BLOCK_SIZES = (32, 64, 128, 256, 512, 1024)


def keeps_state(kernel: func.FuncOp) -> bool:
    """Top-level ops other than loops and index arithmetic: state that the nests share,
    so they cannot be separate launches (the CUDA emitter runs such a kernel as one thread)."""
    return any(
        not op.name.startswith(("arith.", "loop.", "func.return")) for op in kernel.body.block.ops
    )


def _parallel_prefix(b: ScheduleBuilder, top: str) -> list[str]:
    axes = []
    loop = b.loop(top)
    while loop is not None and loop.kind == SERIAL and independence_problem(loop) is None:
        axes.append(loop.axis_name)
        loop = loop.perfectly_nested_child()
    return axes


def _block_size(extent: int, wanted: int) -> tuple[int, str]:
    """Threads per block for a loop longer than a block, and the split's tail.

    The candidates are the divisors of `extent` from half a block to a block
    (an exact split) and `wanted` itself with `tail="guard"` (the last block's
    extra threads idle); the one that occupies the fewest warp lanes in all
    wins, an exact split on a tie. So a prime like 1009 gets 256-thread blocks
    and a guard, not the blocks of one thread that a divisor would give."""
    candidates = [
        (-(-d // 32) * 32 * (extent // d), 0, d) for d in range(max(1, wanted // 2), wanted + 1) if extent % d == 0
    ]
    candidates.append((-(-extent // wanted) * wanted, 1, wanted))
    _, guard, size = min(candidates)
    return size, GUARD if guard else PEEL


def _fuse(b: ScheduleBuilder, axes: list[str]) -> str | None:
    """Fuse perfectly nested `axes` (outermost first) into one loop; its name, or None."""
    fused = axes[0]
    for axis in axes[1:]:
        name = unique_axis(b.kernel, f"{fused}.{axis}.fused")
        if not b.attempt(Fuse(fused, axis)):
            return None
        fused = name
    return fused


def _widen(b: ScheduleBuilder, outer: list[str], inner: list[str], ways: int) -> bool:
    """Fill a block whose inner loops are short (a 7x7 = 49 map under 1000
    channels: 49 threads): split the next loop out by `ways` (guarded where
    it does not divide) and fuse its inner part with them into the threads.
    Tried on a copy; False (nothing done) when a step does not apply."""
    last = outer[-1]
    trips = b.loop(last).trip_count
    if trips < 2:
        return False
    ways = min(ways, trips)
    exact = max(d for d in range(1, ways + 1) if trips % d == 0)
    size, tail = (exact, PEEL) if 2 * exact > ways else (ways, GUARD)
    trial = ScheduleBuilder(b.kernel)
    ok = trial.attempt(Split(last, size, tail))
    # The blocks are bound before the threads are fused: the access analysis
    # sees `outer*size + inner` then, not a division of the fused thread index.
    blocks = _fuse(trial, [*outer[:-1], f"{last}.outer"]) if ok else None
    ok = bool(blocks and trial.attempt(Bind(blocks, "blockIdx.x")))
    threads = _fuse(trial, [f"{last}.inner", *inner]) if ok else None
    ok = bool(threads and trial.attempt(Bind(threads, "threadIdx.x")))
    steps = list(trial.schedule) if ok else []
    trial.finish()
    return ok and all(b.attempt(step) for step in steps)


def _bind_nest(b: ScheduleBuilder, top: str, target: GpuTarget) -> None:
    from compiler.schedule.rules.gpu_rows import row_rule  # a class rule built on this module

    axes = _parallel_prefix(b, top)
    if row_rule(b, top, axes, target):
        return
    if not axes:
        return
    threads = min(b.knobs.pick(f"threads.{top}", BLOCK_SIZES, target.block_threads), target.max_threads_per_block)
    # The innermost independent loops (the contiguous ones: coalesced accesses)
    # run on the threads of a block, as many as fit; the outer ones on blocks.
    inner: list[str] = []
    product = 1
    for axis in reversed(axes):
        if product * b.loop(axis).trip_count > threads:
            break
        inner.insert(0, axis)
        product *= b.loop(axis).trip_count
    outer = axes[: len(axes) - len(inner)]
    if inner and outer and 2 * product <= threads and _widen(b, outer, inner, threads // product):
        return
    split_blocks = None
    if not inner:  # the innermost loop alone is longer than a block: split it
        last = outer.pop()
        size, tail = _block_size(b.loop(last).trip_count, threads)
        if not b.require(Split(last, size, tail)):
            return
        inner, split_blocks = [f"{last}.inner"], f"{last}.outer"
    blocks = _fuse(b, outer) if outer else None
    if outer and (blocks is None or not b.attempt(Bind(blocks, "blockIdx.x"))):
        return
    if split_blocks is not None and not b.attempt(Bind(split_blocks, "blockIdx.y" if blocks else "blockIdx.x")):
        return
    thread = _fuse(b, inner)
    if thread is not None:
        b.attempt(Bind(thread, "threadIdx.x"))


def gpu_rule(b: ScheduleBuilder, target: GpuTarget) -> None:
    """Bind the data-parallel prefix of each top-level nest to blocks x threads."""
    if keeps_state(b.kernel):
        from compiler.schedule.rules.gpu_rows import single_row_rule

        single_row_rule(b, target)  # one row of a row reduction is one block; else one thread
        return
    tops = [lp.axis_name for lp in all_loops(b.kernel) if next(lp.enclosing_loops(), None) is None]
    for top in tops:
        if b.has(top):
            _bind_nest(b, top, target)


def gpu_knobs(kernel: func.FuncOp, target: GpuTarget | None = None) -> list[Knob]:
    """The knobs the kernel's GPU rule declares, with their choices and defaults (a tuner's search space)."""
    target = target or GpuTarget()
    b = ScheduleBuilder(kernel)
    algorithm = kernel.attributes.get(ALGORITHM_ATTR)
    if isinstance(algorithm, StringAttr) and algorithm.data in GEMM_ALGORITHMS and not keeps_state(kernel):
        gemm_rule(b, target, algorithm.data)
    else:
        gpu_rule(b, target)
    b.finish()
    return list(b.knobs.declared.values())


def gpu_default_schedule(
    kernel: func.FuncOp, target: GpuTarget | None = None, knobs: Mapping[str, Any] | None = None
) -> Schedule:
    """A GPU schedule for the kernel (its class's rule, else the baseline); the kernel itself is not modified."""
    target = target or GpuTarget()
    algorithm = kernel.attributes.get(ALGORITHM_ATTR)
    if isinstance(algorithm, StringAttr) and algorithm.data in GEMM_ALGORITHMS and not keeps_state(kernel):
        b = ScheduleBuilder(kernel, knobs)
        if gemm_rule(b, target, algorithm.data):
            gpu_rule(b, target)  # stages the GEMM schedule left as nests of their own
            return b.finish()
        b.finish()
    b = ScheduleBuilder(kernel, knobs)
    gpu_rule(b, target)
    return b.finish()
