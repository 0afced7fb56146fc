"""The generic default-schedule rule: for kernels without a rule of their own.

For every innermost loop of every nest:

- if it is vectorizable (straight-line body, independent iterations, a store
  that walks the last dimension of its buffer with stride 1), vectorize it;
- otherwise look up the perfectly nested loops above it for one that is, and
  `reorder` that one innermost first (e.g. `i, j, k` of a matmul becomes
  `i, k, j` so that `j` vectorizes);
- a vectorized loop longer than the vector length (vector-bits / element
  bits: 16 lanes of f32 on AVX-512) is split by it: `<axis>.inner` is
  vectorized, the peeled `<axis>.tail` too (in smaller chunks).

Then, for every top-level nest with enough work, the outermost loop runs on
threads: outer loops of small extent (a batch of 1) are fused with the loop
they perfectly nest first, and loops whose iterations are not independent (a
reduction) are skipped for the next loop down the perfect nest. Parallel
loops are never nested.

Every primitive is tried on a copy of the kernel; a primitive that fails is
dropped, so the schedule returned always applies cleanly.

Knobs (see compiler/schedule/knobs.py): `vector.<axis>`, the split factor
of each vectorized loop longer than a vector (half a vector to four), and,
when the target has threads, `parallel.<nest>`: whether the nest runs on
threads (the strategy above, without the work threshold).
"""

from __future__ import annotations

from xdsl.dialects import memref
from xdsl.dialects.builtin import AnyFloat, MemRefType

from compiler.dialects.loop import SERIAL, ForOp
from compiler.schedule.analysis import (
    LoopAccessAnalysis,
    contiguous_store,
    independence_problem,
    is_straight_line,
)
from compiler.schedule.primitives import (
    Fuse,
    Parallel,
    Reorder,
    ScheduleError,
    Split,
    Vectorize,
    all_loops,
    find_loop,
    unique_axis,
)
from compiler.schedule.target import CpuTarget
from compiler.schedule.trial import ScheduleBuilder


def _element_bits(loop: ForOp) -> int:
    widths = []
    for op in loop.body.walk():
        if isinstance(op, memref.LoadOp | memref.StoreOp) and isinstance(op.memref.type, MemRefType):
            t = op.memref.type.element_type
            bits = getattr(t, "bitwidth", None) or getattr(getattr(t, "width", None), "data", 64)
            # f16/bf16 are computed in f32 (widen-half-floats): lanes as for f32.
            widths.append(max(32 if isinstance(t, AnyFloat) else 8, int(bits)))
    return min(widths) if widths else 32


def vectorizable(loop: ForOp) -> bool:
    """Straight-line, independent iterations, and a contiguous store along the loop."""
    return (
        loop.trip_count >= 2
        and is_straight_line(loop)
        and independence_problem(loop) is None
        and contiguous_store(loop)
    )


def reduction_vectorizable(loop: ForOp, lanes: int) -> bool:
    """A straight-line loop of float reductions (`acc[u] = acc[u] + x[i]`, max, ...) over
    at least half a vector of contiguous elements: the vectorizer keeps a vector of
    partials per accumulator (compiler/lowering/loop_vectorizer.py)."""
    if loop.trip_count < max(2, lanes // 2) or not is_straight_line(loop):
        return False
    analysis = LoopAccessAnalysis(loop)
    return (
        bool(analysis.reductions())
        and analysis.independence_problem(but_reductions=True) is None
        and analysis.walks_contiguously(analysis.loads)
    )


def _work(loop: ForOp) -> int:
    """Body ops executed by the nest (scalar count, before vectorization)."""
    inner = 0
    for op in loop.body.block.ops:
        inner += _work(op) if isinstance(op, ForOp) else 1
    return loop.trip_count * max(inner, 1)


def _vectorize_leaf(b: ScheduleBuilder, leaf_axis: str, target: CpuTarget) -> None:
    leaf = b.loop(leaf_axis)
    chosen = leaf
    if not vectorizable(leaf):
        # Walk up the perfect nest above the leaf for a loop that would vectorize
        # if it were innermost; iterations independent => interchange is legal.
        chain = [leaf]
        parent = next(leaf.enclosing_loops(), None)
        while parent is not None and parent.kind == SERIAL and parent.perfectly_nested_child() is chain[-1]:
            chain.append(parent)
            parent = next(parent.enclosing_loops(), None)
        for index, candidate in enumerate(chain[1:], start=1):
            if candidate.trip_count < 2 or independence_problem(candidate) is not None:
                continue
            top_down = [c.axis_name for c in reversed(chain[: index + 1])]
            order = [a for a in top_down if a != candidate.axis_name] + [candidate.axis_name]
            trial = b.kernel.clone()
            try:
                Reorder(tuple(order)).apply(trial)
                ok = vectorizable(find_loop(trial, candidate.axis_name))
            except ScheduleError:
                ok = False
            trial.erase()
            if ok and b.attempt(Reorder(tuple(order))):
                chosen = b.loop(candidate.axis_name)
                break
        else:
            # A softmax's max and sum, a layer norm's mean: reduced in vector partials, unsplit
            # (a split would reduce the partials once per outer iteration).
            if leaf.kind == SERIAL and reduction_vectorizable(leaf, target.vector_bits // _element_bits(leaf)):
                b.attempt(Vectorize(leaf_axis))
            return
    if chosen.kind != SERIAL:
        return
    axis = chosen.axis_name
    lanes = max(1, target.vector_bits // _element_bits(chosen))
    if chosen.trip_count > lanes and lanes > 1:
        factors = [f for f in (lanes // 2, lanes, 2 * lanes, 4 * lanes) if 2 <= f < chosen.trip_count]
        factor = b.knobs.pick(f"vector.{axis}", factors, lanes)
        tail = unique_axis(b.kernel, f"{axis}.tail")
        if b.require(Split(axis, factor)):
            b.attempt(Vectorize(f"{axis}.inner"))
            if tail in {lp.axis_name for lp in all_loops(b.kernel)} and b.loop(tail).trip_count >= 2:
                b.attempt(Vectorize(tail))
            return
    b.attempt(Vectorize(axis))


def _parallelize_nest(b: ScheduleBuilder, top_axis: str, target: CpuTarget) -> None:
    threads = target.thread_count
    if threads < 2:
        return
    name = f"parallel.{top_axis}"
    wanted = _work(b.loop(top_axis)) >= target.min_parallel_work
    if b.knobs.tuning:
        if b.knobs.pick(name, (False, True), wanted) and not _parallel_loop(b, top_axis, threads):
            b.missed.append(Parallel(top_axis))
        return
    b.knobs.declare(name, (False, True), wanted and _parallel_loop(b, top_axis, threads))


def _parallel_loop(b: ScheduleBuilder, top_axis: str, threads: int) -> bool:
    """Run a loop of the nest under `top_axis` on threads (fusing short outer loops); whether one does."""
    candidate: ForOp | None = b.loop(top_axis)
    while candidate is not None and candidate.kind == SERIAL:
        child = candidate.perfectly_nested_child()
        if candidate.trip_count < threads and child is not None and child.kind == SERIAL:
            fused = unique_axis(b.kernel, f"{candidate.axis_name}.{child.axis_name}.fused")
            if b.attempt(Fuse(candidate.axis_name, child.axis_name)):
                candidate = b.loop(fused)
                continue
        if candidate.trip_count >= 2 and b.attempt(Parallel(candidate.axis_name)):
            return True
        candidate = child
    return False


def generic_rule(b: ScheduleBuilder, target: CpuTarget) -> None:
    """Vectorize every innermost loop (reordering a perfect nest when needed), then
    run the outermost loop of each nest with enough work on threads."""
    leaves = [lp.axis_name for lp in all_loops(b.kernel) if not lp.child_loops()]
    for leaf in leaves:
        if b.has(leaf):
            _vectorize_leaf(b, leaf, target)
    parallelize_nests(b, target)


def parallelize_nests(b: ScheduleBuilder, target: CpuTarget) -> None:
    """The outermost loop of each top-level nest with enough work runs on threads."""
    tops = [lp.axis_name for lp in all_loops(b.kernel) if next(lp.enclosing_loops(), None) is None]
    for top in tops:
        _parallelize_nest(b, top, target)
