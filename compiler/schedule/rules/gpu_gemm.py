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

Every tile is a divisor of its extent, so no remainder nests and no guards
are needed; an extent with no good divisor (a prime) gets a thinner tile.
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
from compiler.schedule.primitives import Bind, Reorder, Split, Unroll
from compiler.schedule.stages import COMPUTE, top_level_nests
from compiler.schedule.target import GpuTarget
from compiler.schedule.trial import ScheduleBuilder

GEMM_ALGORITHMS = ("matmul", "conv2d_nchw")

MAX_GRID_YZ = 65535


def _divisor(extent: int, wanted: int) -> int:
    """The largest divisor of `extent` up to `wanted` (at least 1)."""
    return max(d for d in range(1, max(1, min(wanted, extent)) + 1) if extent % d == 0)


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
    if len(spatial) < 2 or not reduction or any(independence_problem(lp) is None for lp in reduction):
        return False
    names = [lp.axis_name for lp in spatial]
    if algorithm == "conv2d_nchw" and len(names) >= 3:  # (n,) co, oh, ow; a flattened 1x1 conv has co, ow
        m_axis, n_axis, extra = names[-3], names[-1], names[:-3] + [names[-2]]
    else:
        m_axis, n_axis, extra = names[-2], names[-1], names[:-2]
    extra = [a for a in extra if b.loop(a).trip_count > 1]
    if len(extra) > 1 or (extra and b.loop(extra[0]).trip_count > MAX_GRID_YZ):
        return False
    k_axis = reduction[0].axis_name
    inner_reduction = [lp.axis_name for lp in reduction[1:]]
    m_extent, n_extent, k_extent = b.loop(m_axis).trip_count, b.loop(n_axis).trip_count, b.loop(k_axis).trip_count
    knobs = b.knobs
    rm = _divisor(m_extent, knobs.pick("gpu.rm", (1, 2, 4, 8), 4))
    rn = _divisor(n_extent, knobs.pick("gpu.rn", (1, 2, 4, 8), 4))
    ty = _divisor(m_extent // rm, knobs.pick("gpu.ty", (4, 8, 16, 32), 16))
    tx = _divisor(n_extent // rn, knobs.pick("gpu.tx", (8, 16, 32), 16))
    bk = _divisor(k_extent, knobs.pick("gpu.bk", (4, 8, 16, 32), 8))
    vector = knobs.pick("gpu.vector", (1, 2, 4), 4)
    if ty * tx > target.max_threads_per_block or m_extent // (rm * ty) > MAX_GRID_YZ:
        return False
    steps = [Split(m_axis, rm * ty), Split(f"{m_axis}.inner", rm), Split(n_axis, rn * tx), Split(f"{n_axis}.inner", rn),
             Split(k_axis, bk)]
    if not all(b.require(s) for s in steps):
        return False
    mo, mt, mr = f"{m_axis}.outer", f"{m_axis}.inner.outer", f"{m_axis}.inner.inner"
    no, nt, nr = f"{n_axis}.outer", f"{n_axis}.inner.outer", f"{n_axis}.inner.inner"
    ko, ki = f"{k_axis}.outer", f"{k_axis}.inner"
    # Block loops, the reduction's steps, threads, the step's reduction, the register tile.
    order = [*extra, mo, no, ko, mt, nt, ki, *inner_reduction, mr, nr]
    others = [a for a in names if a not in (m_axis, n_axis, *extra)]  # unit loops: keep them outermost
    if not b.require(Reorder((*others, *order))):
        return False
    bindings = [(mo, "blockIdx.y"), (no, "blockIdx.x"), (mt, "threadIdx.y"), (nt, "threadIdx.x")]
    if extra:
        bindings.insert(0, (extra[0], "blockIdx.z"))
    if not all(b.require(Bind(axis, thread)) for axis, thread in bindings):
        return False
    for axis in (mr, nr):
        if not b.require(Unroll(axis)):
            return False
    if not b.require(CacheWrite(no, scope="local")):
        return False
    operands = _read_operands(b, ko)
    for operand in operands:
        if not any(b.attempt(CacheRead(ko, operand, vector=v)) for v in (vector, 2, 1) if v <= vector):
            return False
    if bk <= 16 and b.loop(ki).trip_count * rm * rn <= 256:
        b.attempt(Unroll(ki))
    return True


def _read_operands(b: ScheduleBuilder, axis: str) -> list[int]:
    """The kernel arguments that the loop reads and the kernel never writes, in argument order."""
    args = list(b.kernel.body.block.args)
    written = {op.memref for op in b.kernel.walk() if isinstance(op, memref.StoreOp)}
    read = {op.memref for op in b.loop(axis).walk() if isinstance(op, memref.LoadOp)}
    return [i for i, arg in enumerate(args) if arg in read and arg not in written]
