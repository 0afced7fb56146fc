"""Element-indexed gather and scatter: graph.gather_elements (an element rule,
so it fuses like graph.gather) and graph.scatter_elements (its own kernel).

A scatter cannot be computed element by element of its result: which update
lands where depends on the indices' values. Its algorithm is two stages, a
copy of the data into the result, then one pass over the updates that stores
(or combines) each one at its target. The second stage stores at
data-dependent addresses, so the access analysis never lets a schedule run
its iterations at once (duplicates would race).
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import Attribute, SSAValue

from compiler.compute import scalar
from compiler.compute.builder import KernelBuilder, index
from compiler.compute.common import KernelContext
from compiler.compute.element import ElementEmitter, element_rule
from compiler.dialects import graph as g


def element_position(kb: KernelBuilder, raw: SSAValue, n: int) -> SSAValue:
    """An index value along a dim of size n: negatives count from the end; out-of-range
    ids (undefined in ONNX) are clamped so that every access stays in bounds."""
    pos = kb.value(arith.IndexCastOp(raw, index))
    negative = kb.value(arith.CmpiOp(pos, kb.index(0), "slt"))
    pos = kb.value(arith.SelectOp(negative, kb.add(pos, n), pos))
    return kb.clamp_index(pos, 0, n - 1)


@element_rule(g.GatherElementsOp)
def gather_elements_element(em: ElementEmitter, op: g.GraphOp, idx: list[SSAValue]) -> SSAValue:
    assert isinstance(op, g.GatherElementsOp)
    axis = op.int_prop("axis")
    n = g.shape_of(op.data)[axis]
    pos = element_position(em.kb, em.emit(op.indices, idx), n)
    return em.emit(op.data, [*idx[:axis], pos, *idx[axis + 1 :]])


def _combine(kb: KernelBuilder, reduction: str, old: SSAValue, new: SSAValue, elem: Attribute) -> SSAValue:
    if reduction == "add":
        return scalar.add(kb, old, new, elem)
    if reduction == "mul":
        return scalar.mul(kb, old, new, elem)
    if reduction == "max":
        return scalar.max_value(kb, old, new, elem)
    assert reduction == "min", reduction
    return scalar.min_value(kb, old, new, elem)


def scatter_elements_kernel(ctx: KernelContext) -> None:
    """out = data; then for u over the updates (row-major): out[target(u)] (op)= updates[u]."""
    op = ctx.anchor
    assert isinstance(op, g.ScatterElementsOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "scatter_elements"
    data_shape = g.shape_of(op.data)
    with kb.nest(data_shape, [f"d{d}" for d in range(len(data_shape))], stage="copy") as idx:
        em.reset()
        kb.store(em.emit(op.data, idx), ctx.out, idx)
    axis = op.int_prop("axis")
    reduction = op.str_prop("reduction")
    elem = g.elem_of(op.data)
    upd_shape = g.shape_of(op.updates)
    with kb.nest(upd_shape, [f"u{d}" for d in range(len(upd_shape))], stage="scatter") as idx:
        em.reset()
        pos = element_position(kb, em.emit(op.indices, idx), data_shape[axis])
        target = [*idx[:axis], pos, *idx[axis + 1 :]]
        value = em.emit(op.updates, idx)
        if reduction != "none":
            value = _combine(kb, reduction, kb.load(ctx.out, target), value, elem)
        kb.store(value, ctx.out, target)
    em.reset()
    ctx.epilogue_stage()
