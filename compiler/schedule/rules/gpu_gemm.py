"""The GPU rule of the GEMM class: tiled matmul, and conv as implicit GEMM.

Both are `out[i, j] += a(i, k) * b(k, j)` over a data-parallel box and a
reduction: a matmul's `m`, `n` and `k`; a direct NCHW conv's output channels
`co` (the GEMM's rows), output columns `ow` (its columns; each block works on
one output row `oh`) and its reduction over `ci x kh x kw`, of which `ci` is
tiled (`kh`, `kw` run whole inside each tile, so each step's slice of the
reduction is `BK x KH x KW` long). The schedule is the classic one (CUTLASS,
TVM's GPU conv/dense templates):

- a block computes a `BM x BN` tile of the output (`blockIdx.y`, `blockIdx.x`;
  one batch index or output row on `blockIdx.z`), as `TY x TX` threads
  (`threadIdx.y`, `threadIdx.x`), each a `RM x RN` register tile
  (`cache_write(scope="local")`, unrolled, initialized from the `init`
  stage and written back through the fused epilogue);
- the reduction is split by `BK`; at each step the block copies the operand
  tiles it needs into shared memory (`cache_read(scope="shared")`, float4
  where the tile's rows allow), waits at a barrier, and every thread runs the
  step's `BK` outer products from shared memory.

A tile divides its extent when a divisor is at least half the wanted tile
(111 columns: 37 threads of 3); otherwise (a prime like 97, 1009) the wanted
tile is split with `tail="guard"`: the blocks on the ragged edge idle their
extra threads (the compute, register-tile fill and write-back run under
`scf.if`, the shared-memory copies clamp their reads), rather than a thinner
tile or one column per thread. The reduction step is guarded the same way.
Kernels this does not fit (more than one extra data-parallel loop, a
reduction that is not a perfect nest) keep the baseline rule (`gpu.py`).

Knobs: `gpu.rm`, `gpu.rn` (register tile), `gpu.ty`, `gpu.tx` (threads),
`gpu.bk` (reduction step), `gpu.vector` (elements per copy step).
"""

from __future__ import annotations

from xdsl.dialects import memref

from compiler.dialects.loop import ForOp
from compiler.schedule.analysis import independence_problem
from compiler.schedule.gpu_memory import CacheRead
from compiler.schedule.placement import CacheWrite
from compiler.schedule.primitives import GUARD, PEEL, Bind, Reorder, Split, Unroll
from compiler.schedule.stages import COMPUTE, top_level_nests
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder

GEMM_ALGORITHMS = ("matmul", "conv2d_nchw")

MAX_GRID_YZ = 65535


def _divisor(extent: int, wanted: int) -> int:
    """The largest divisor of `extent` up to `wanted` (at least 1)."""
    return max(d for d in range(1, max(1, min(wanted, extent)) + 1) if extent % d == 0)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _tile(extent: int, regs: int, threads: int) -> tuple[int, int]:
    """Per-thread elements and threads along one output axis, both dividing
    `extent`: the most threads up to `threads` (or, when the extent's
    divisors leave fewer than half of that, the smallest divisor between
    half and four times it: 37 threads for 111 columns, rather than 3),
    then the most elements per thread up to `regs`."""
    best = (0, 0, 1, 1)
    for r in (d for d in _divisors(extent) if d <= regs):
        divs = _divisors(extent // r)
        t = max(d for d in divs if d <= threads)
        if t < threads // 2:
            t = min((d for d in divs if threads // 2 <= d <= 4 * threads), default=t)
        best = max(best, (min(t, threads), r, r, t))
    return best[2], best[3]


def _guarded_tile(extent: int, regs: int, threads: int) -> tuple[int, int, str]:
    """Per-thread elements, threads and the split's tail along one output axis.
    The dividing tile (`_tile`) when it is at least half the wanted one (or of
    the extent, when that is smaller); else the wanted tile, cut to the extent,
    with `tail="guard"`: a prime like 97 gets 4 x 16 rows and an idle edge, not
    a block of one thread."""
    r, t = _tile(extent, regs, threads)
    if 2 * r * t >= min(regs * threads, extent):
        return r, t, PEEL
    r = min(regs, extent)
    return r, min(threads, -(-extent // r)), GUARD


def _step(extent: int, wanted: int) -> tuple[int, str]:
    """The reduction step: a divisor of at least half the wanted one, else the wanted one and a guard."""
    d = _divisor(extent, wanted)
    return (d, PEEL) if 2 * d >= min(wanted, extent) else (wanted, GUARD)


def _compute_nest(b: ScheduleBuilder) -> ForOp | None:
    nests = [n for n in top_level_nests(b.kernel) if n.stage_name == COMPUTE]
    return nests[0] if len(nests) == 1 else None


def _chain(nest: ForOp) -> list[ForOp]:
    chain = [nest]
    while (child := chain[-1].perfectly_nested_child()) is not None:
        chain.append(child)
    return chain


def gemm_rule(b: ScheduleBuilder, target: GpuTarget, algorithm: str) -> bool:
    """Schedule the GEMM-class kernel in `b`; False (the builder to be dropped) if it does not fit."""
    nest = _compute_nest(b)
    if nest is None:
        return False
    chain = _chain(nest)
    spatial: list[ForOp] = []
    for lp in chain:
        if independence_problem(lp) is not None:
            break
        spatial.append(lp)
    reduction = chain[len(spatial):]
    if not spatial or not reduction or any(independence_problem(lp) is None for lp in reduction):
        return False
    names = [lp.axis_name for lp in spatial]
    if algorithm == "conv2d_nchw" and len(names) >= 3:  # (n,) co, oh, ow; a flattened 1x1 conv has co, ow
        m_axis, n_axis, extra = names[-3], names[-1], names[:-3] + [names[-2]]
    elif len(names) >= 2:
        m_axis, n_axis, extra = names[-2], names[-1], names[:-2]
    else:  # a matrix-vector product (one row: the row loop is gone)
        m_axis, n_axis, extra = None, names[0], []
    extra = [a for a in extra if b.loop(a).trip_count > 1]
    if len(extra) > 1 or (extra and b.loop(extra[0]).trip_count > MAX_GRID_YZ):
        return False
    k_axis = reduction[0].axis_name
    inner_reduction = [lp.axis_name for lp in reduction[1:]]
    m_extent = b.loop(m_axis).trip_count if m_axis else 1
    n_extent, k_extent = b.loop(n_axis).trip_count, b.loop(k_axis).trip_count
    knobs = b.knobs
    rm, ty, m_tail = _guarded_tile(m_extent, knobs.pick("gpu.rm", (1, 2, 4, 8), 4), knobs.pick("gpu.ty", (4, 8, 16, 32), 16))
    rn, tx, n_tail = _guarded_tile(n_extent, knobs.pick("gpu.rn", (1, 2, 4, 8), 4), knobs.pick("gpu.tx", (8, 16, 32), 16))
    bk, k_tail = _step(k_extent, knobs.pick("gpu.bk", (4, 8, 16, 32), 8))
    vector = knobs.pick("gpu.vector", (1, 2, 4), 4)
    while ty * tx > target.max_threads_per_block and ty > 1:
        ty = ty // 2 if m_tail == GUARD else _divisor(m_extent // rm, ty - 1)
    if ty * tx > target.max_threads_per_block or -(-m_extent // (rm * ty)) > MAX_GRID_YZ:
        return False
    if not knobs.tuning and ty * tx < target.warp and m_extent * n_extent >= 8 * target.warp:
        return False  # less than a warp per block; the baseline's flat threads do better
    tiled = [(n_axis, rn, tx, n_tail)] if m_axis is None else [(m_axis, rm, ty, m_tail), (n_axis, rn, tx, n_tail)]
    for axis, regs, threads, tail in tiled:
        if not (b.require(Split(axis, regs * threads, tail)) and b.require(Split(f"{axis}.inner", regs))):
            return False
    if not b.require(Split(k_axis, bk, k_tail)):
        return False
    blocks = [f"{a}.outer" for a, *_ in tiled]
    threads_ = [f"{a}.inner.outer" for a, *_ in tiled]
    regs_ = [f"{a}.inner.inner" for a, *_ in tiled]
    ko, ki = f"{k_axis}.outer", f"{k_axis}.inner"
    # Block loops, the reduction's steps, threads, the step's reduction, the register tile.
    # Unit loops (a batch of one) go inside the threads: outside the block
    # loops they would be a serial loop around the launch.
    others = [a for a in names if a not in (m_axis, n_axis, *extra)]
    order = [*extra, *blocks, ko, *threads_, ki, *inner_reduction, *others, *regs_]
    if len(order) > 1 and not b.require(Reorder(tuple(order))):
        return False
    # Innermost first: the columns on x (a warp's threads read consecutive columns).
    bindings = [*zip(extra, ["blockIdx.z"], strict=False), *zip(reversed(blocks), ["blockIdx.x", "blockIdx.y"], strict=False),
                *zip(reversed(threads_), ["threadIdx.x", "threadIdx.y"], strict=False)]
    if not all(b.require(Bind(axis, thread)) for axis, thread in bindings):
        return False
    for axis in regs_:
        if not b.require(Unroll(axis)):
            return False
    if not b.require(CacheWrite(blocks[-1], scope="local")):
        return False
    operands = _read_operands(b, ko)
    for operand in operands:
        if not any(b.attempt(CacheRead(ko, operand, vector=v)) for v in (vector, 2, 1) if v <= vector):
            return False
    if bk <= 16 and bk * rm * rn <= 256:
        b.attempt(Unroll(ki))
    return True


def _read_operands(b: ScheduleBuilder, axis: str) -> list[int]:
    """The kernel arguments that the loop reads and the kernel never writes, in argument order."""
    args = list(b.kernel.body.block.args)
    written = {op.memref for op in b.kernel.walk() if isinstance(op, memref.StoreOp)}
    read = {op.memref for op in b.loop(axis).walk() if isinstance(op, memref.LoadOp)}
    return [i for i, arg in enumerate(args) if arg in read and arg not in written]
