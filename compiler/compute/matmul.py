"""Compute definition of (batched) matmul: column panels with register accumulators.

    for batch, column panel nb (parallel), row m:
      acc[:] = 0                                   a panel of up to 64 columns (all
                                                 of them when there are at most 4 rows)
      for k:  acc[:] += a[m, k] * b[k, panel]      one broadcast, 4 vector FMAs
      out[m, panel] = epilogue(acc)

The accumulators are a `memref.alloca` that LLVM keeps in registers (TVM's
cache_write); the panel of `b` is re-read from L1 for each row. Panels, not
rows, are the parallel dimension, so a matrix-vector product (a fully
connected layer at batch 1, bound by reading the weights) still runs on all
threads.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.builder import PARALLEL_MIN_MACS
from compiler.compute.common import KernelContext, epilogue_may_change_type
from compiler.compute.element import broadcast_index
from compiler.compute.scalar import add, mul
from compiler.dialects import graph as g
from compiler.dialects.loop import UNROLL, VECTORIZE

LANES = 16
PANEL = 4 * LANES


@epilogue_may_change_type
def matmul_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.MatMulOp)
    kb = ctx.kb
    a_shape, b_shape = g.shape_of(op.lhs), g.shape_of(op.rhs)
    out_shape = g.shape_of(op.result)
    batch = list(out_shape[:-2])
    m_n, n_n = out_shape[-2:]
    k_n = a_shape[-1]
    elem = g.elem_of(op.result)
    rows = m_n
    for d in batch:
        rows *= d
    # Few rows (a matrix-vector product): reading `b` dominates. One panel of
    # all columns streams whole rows of `b`; measured on AlexNet's fc6
    # (9216x4096) it beats column panels even on two threads (6 ms against
    # 13 ms on one thread and 7 ms on two), so it stays serial.
    panel = n_n if rows <= 4 else min(PANEL, n_n)
    panels, rest = divmod(n_n, panel)
    macs = m_n * n_n * k_n
    for d in batch:
        macs *= d
    threads = macs >= PARALLEL_MIN_MACS

    def columns(width: int, body: Callable[[SSAValue], None]) -> None:
        """body(column) over `width` columns: unrolled 16-lane vectors, or one vector loop."""
        if width % LANES == 0 and LANES < width <= PANEL:
            with kb.loop(width // LANES, "jb", UNROLL) as jb, kb.loop(LANES, "j", VECTORIZE) as j:
                body(kb.affine([(jb, LANES), (j, 1)]))
        else:
            with kb.loop(width, "j", VECTORIZE) as j:
                body(j)

    def panel_rows(bidx: list[SSAValue], col0: SSAValue | int, width: int, row_parallel: bool) -> None:
        a_batch = broadcast_index(kb, a_shape[:-2], batch, bidx)
        b_batch = broadcast_index(kb, b_shape[:-2], batch, bidx)

        def col(j: SSAValue) -> SSAValue:
            return kb.add(j, col0) if isinstance(col0, int) else kb.value(arith.AddiOp(col0, j))

        with kb.nest([m_n], ["m"], parallel=row_parallel) as (m,):
            acc = kb.alloca(elem, [width])  # per thread: inside the parallel loop
            columns(width, lambda j: kb.store(kb.const(0, elem), acc, [j]))
            with kb.loop(k_n, "k") as k:
                ctx.emitter.reset()
                av = ctx.emitter.emit(op.lhs, [*a_batch, m, k])

                def fma(j: SSAValue) -> None:
                    bv = ctx.emitter.emit(op.rhs, [*b_batch, k, col(j)])
                    kb.store(add(kb, kb.load(acc, [j]), mul(kb, av, bv, elem), elem), acc, [j])

                columns(width, fma)
            ctx.emitter.reset()

            def store(j: SSAValue) -> None:
                idx = [*bidx, m, col(j)]
                kb.store(ctx.finish(kb.load(acc, [j]), idx), ctx.out, idx)

            columns(width, store)

    # The outermost independent loop with more than one iteration runs on
    # threads: batch, else column panels, else rows.
    batch_parallel = threads and any(d > 1 for d in batch)
    panel_parallel = threads and not batch_parallel and panels > 1
    with kb.nest(batch, [f"b{d}" for d in range(len(batch))], parallel=batch_parallel) as bidx:
        with kb.nest([panels], ["nb"], parallel=panel_parallel) as (nb,):
            row_parallel = threads and not batch_parallel and not panel_parallel
            panel_rows(bidx, kb.mul(nb, panel), panel, row_parallel)
        if rest:
            panel_rows(bidx, panels * panel, rest, threads and not batch_parallel)
