"""GPU rule for row reductions: softmax, layer norm, reduce over the innermost axes, global pools.

The baseline (gpu.py) gives each thread a whole row: a softmax row of 3000
elements is three serial passes of one thread, reading with a stride of a
row between neighbouring threads. Here each row is one block, and the row's
phases (the loops in the body of the row loop: max, exp-sum, normalize; mean,
variance, normalize; or the one reduction) are spread over the block's
threads, thread t taking elements t, t+T, ... (coalesced):

- a reduction phase with `bind_reduce` (partials per thread, combined by
  warp shuffles and shared memory; every thread gets the result, which the
  next phase reads);
- an element-wise phase with `bind_strided`.

A phase that is a perfect nest of several loops (a global pool's H x W) is
fused into one first. For rows shorter than a warp the block is one warp,
with the threads past the row idle. The rule applies to kernels whose op is a
row reduction (their workload's `op`, fused prologues and epilogues included)
and only when every phase can be bound; otherwise the nest keeps the baseline.

Short rows can share a block, one per `threadIdx.y` (each row its own warp,
reduced by shuffles alone).

Knobs: `row_threads.<nest>`, the threads per row (0: the baseline, a thread
per row); `rows_per_block.<nest>`, rows sharing a block (the innermost row
axis is split by it, with `tail="guard"` where it does not divide: the last
block's extra rows idle, their threads still take part in the block's
reductions and barriers, which stay outside the guard).
"""

from __future__ import annotations

import json
import math

from xdsl.dialects.builtin import StringAttr

from compiler.dialects.loop import WORKLOAD_ATTR, ForOp
from compiler.schedule.primitives import GUARD, PEEL, Bind, Fuse, Split, unique_axis
from compiler.schedule.reduce_threads import BindReduce, BindStrided
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder

ROW_OPS = (
    "graph.softmax", "graph.log_softmax", "graph.layer_norm",
    "graph.reduce_sum", "graph.reduce_mean", "graph.reduce_max", "graph.reduce_min", "graph.reduce_prod",
)
ROW_THREADS = (0, 32, 64, 128, 256, 512, 1024)
ROWS_PER_BLOCK = (1, 2, 4, 8)
MAX_GRID_Y = 65535
MIN_ROW = 8
"""Rows shorter than this keep a thread per row: most of a warp would idle."""


def workload_op(b: ScheduleBuilder) -> str:
    attr = b.kernel.attributes.get(WORKLOAD_ATTR)
    if not isinstance(attr, StringAttr):
        return ""
    try:
        return str(json.loads(attr.data).get("op", ""))
    except (ValueError, AttributeError):
        return ""


def default_threads(row: int, target: GpuTarget) -> int:
    """About four elements per thread, from one warp up to 512 threads."""
    if row < MIN_ROW:
        return 0
    wanted = max(1, -(-row // 4))
    threads = target.warp
    while threads < wanted and threads < min(512, target.max_threads_per_block):
        threads *= 2
    return threads


def default_rows_per_block(rows: int, threads: int, target: GpuTarget) -> int:
    """Rows of one warp each share a block of four warps when there are plenty of rows (the
    block then fills its scheduler slot); otherwise, and for wider rows, one row per block."""
    if threads > target.warp or rows < 1024:
        return 1
    return 4


def _chain(loop: ForOp) -> list[ForOp]:
    chain = [loop]
    while (child := chain[-1].perfectly_nested_child()) is not None:
        chain.append(child)
    return chain


def _fused_extent(loop: ForOp) -> int:
    extent = 1
    for lp in _chain(loop):
        extent *= lp.trip_count
    return extent


def _schedule_rows(t: ScheduleBuilder, prefix: list[str], phases: list[str], threads: int, per_block: int) -> bool:
    """The row schedule on a trial builder; False when some step does not apply."""
    if prefix and per_block > 1:
        # Short rows: several per block, one per threadIdx.y. The innermost row axis is split
        # (its outer part on blockIdx.x), the others fused on blockIdx.y: fusing the split part
        # too would hide from the access analysis that the blocks write distinct rows.
        last = prefix[-1]
        tail = GUARD if t.loop(last).trip_count % per_block else PEEL  # 1025 rows of 4 per block: the last block's y idle
        if not (t.attempt(Split(last, per_block, tail)) and t.attempt(Bind(f"{last}.inner", "threadIdx.y"))
                and t.attempt(Bind(f"{last}.outer", "blockIdx.x"))):
            return False
        return _bind_blocks(t, prefix[:-1], "blockIdx.y") and _bind_phases(t, phases, threads)
    if prefix and not _bind_blocks(t, prefix, "blockIdx.x"):  # else one row, the whole kernel: one block
        return False
    return _bind_phases(t, phases, threads)


def _bind_blocks(t: ScheduleBuilder, prefix: list[str], index: str) -> bool:
    """Fuse the row axes `prefix` into one loop bound to `index` (nothing to do without any)."""
    if prefix:
        rows = prefix[0]
        for axis in prefix[1:]:
            name = unique_axis(t.kernel, f"{rows}.{axis}.fused")
            if not t.attempt(Fuse(rows, axis)):
                return False
            rows = name
        if not t.attempt(Bind(rows, index)):
            return False
    return True


def _bind_phases(t: ScheduleBuilder, phases: list[str], threads: int) -> bool:
    """Each phase across the row's threads; False unless all bind and one is a reduction."""
    reduced = False
    for phase in phases:
        axis = phase
        for inner in [lp.axis_name for lp in _chain(t.loop(phase))[1:]]:
            name = unique_axis(t.kernel, f"{axis}.{inner}.fused")
            if not t.attempt(Fuse(axis, inner)):
                return False
            axis = name
        if t.attempt(BindReduce(axis, threads)):
            reduced = True
        elif not t.attempt(BindStrided(axis, threads)):
            return False
    return reduced


def row_rule(b: ScheduleBuilder, top: str, prefix: list[str], target: GpuTarget) -> bool:
    """Schedule the nest `top` a row per block when it is a row reduction; False: leave it to the baseline."""
    if not prefix or workload_op(b) not in ROW_OPS:
        return False
    phases = [op for op in b.loop(prefix[-1]).body.block.ops if isinstance(op, ForOp)]
    return _rows(b, top, prefix, phases, target)


def single_row_rule(b: ScheduleBuilder, target: GpuTarget) -> bool:
    """A kernel that is one row (a 1 x N softmax: its scalars at the top level) as one block."""
    if workload_op(b) not in ROW_OPS:
        return False
    phases = [op for op in b.kernel.body.block.ops if isinstance(op, ForOp)]
    return _rows(b, "kernel", [], phases, target)


def _rows(b: ScheduleBuilder, top: str, prefix: list[str], phases: list[ForOp], target: GpuTarget) -> bool:
    if not phases:
        return False
    row = max(_fused_extent(lp) for lp in phases)
    threads = b.knobs.pick(f"row_threads.{top}", ROW_THREADS, default_threads(row, target))
    if not threads:
        return False
    threads = min(threads, target.max_threads_per_block)
    count = math.prod(b.loop(axis).trip_count for axis in prefix) if prefix else 1
    per_block = b.knobs.pick(f"rows_per_block.{top}", ROWS_PER_BLOCK, default_rows_per_block(count, threads, target))
    outer_rows = count // b.loop(prefix[-1]).trip_count if prefix else 1
    if (not prefix or b.loop(prefix[-1]).trip_count < per_block or per_block * threads > target.max_threads_per_block
            or outer_rows > MAX_GRID_Y):
        per_block = 1  # the innermost row axis is split by it (with a guard where it does not divide)
    for rows_per_block in dict.fromkeys((per_block, 1)):  # a guarded split the phases cannot take: a row per block
        trial = ScheduleBuilder(b.kernel)
        ok = _schedule_rows(trial, prefix, [lp.axis_name for lp in phases], threads, rows_per_block)
        steps = list(trial.schedule) if ok else []
        trial.finish()
        if ok:
            return all(b.attempt(step) for step in steps)
    return False
