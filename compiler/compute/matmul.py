"""Compute definition of (batched) matmul: the plain reduction.

    init:      out[b, m, n] = 0
    compute:   out[b, m, n] += a[b, m, k] * b[b, k, n]      (axes b0.., m, n, k)
    epilogue:  out[b, m, n] = epilogue(out[b, m, n])         (only with a fused epilogue)

Tiling, the register tile (`cache_write`), vectorization and threads are the
schedule's (`compiler/schedule/rules/matmul.py`).
"""

from __future__ import annotations

from compiler.compute.common import KernelContext, epilogue_may_change_type
from compiler.compute.element import broadcast_index
from compiler.compute.scalar import add, mul
from compiler.dialects import graph as g

ALGORITHM = "matmul"


@epilogue_may_change_type
def matmul_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.MatMulOp)
    kb = ctx.kb
    kb.algorithm = ALGORITHM
    a_shape, b_shape = g.shape_of(op.lhs), g.shape_of(op.rhs)
    out_shape = g.shape_of(op.result)
    batch = list(out_shape[:-2])
    m_n, n_n = out_shape[-2:]
    k_n = a_shape[-1]
    elem = g.elem_of(op.result)
    names = [f"b{d}" for d in range(len(batch))] + ["m", "n"]
    with kb.nest(out_shape, [f"{n}.init" for n in names], stage="init") as idx:
        kb.store(kb.const(0, elem), ctx.out, idx)
    with kb.nest([*batch, m_n, n_n, k_n], [*names, "k"], stage="compute") as (*bidx, m, n, k):
        ctx.emitter.reset()
        av = ctx.emitter.emit(op.lhs, [*broadcast_index(kb, a_shape[:-2], batch, bidx), m, k])
        bv = ctx.emitter.emit(op.rhs, [*broadcast_index(kb, b_shape[:-2], batch, bidx), k, n])
        idx = [*bidx, m, n]
        kb.store(add(kb, kb.load(ctx.out, idx), mul(kb, av, bv, elem), elem), ctx.out, idx)
    ctx.epilogue_stage(names)
