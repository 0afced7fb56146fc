"""Element rule of `graph.layout_transform`: NCHW <-> NCHW{c}c index maps."""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.element import ElementEmitter, element_rule
from compiler.dialects import graph as g
from compiler.dialects import layouts


@element_rule(g.LayoutTransformOp)
def layout_transform_element(em: ElementEmitter, op: g.GraphOp, idx: list[SSAValue]) -> SSAValue:
    kb = em.kb
    src = layouts.data_block(op.str_prop("src_layout"))
    dst = layouts.data_block(op.str_prop("dst_layout"))
    if dst:
        n, cb, h, w, ci = idx
        if src == dst:
            return em.emit(op.operands[0], idx)
        c = kb.affine([(cb, dst), (ci, 1)])
    else:
        n, c, h, w = idx
    if not src:
        return em.emit(op.operands[0], [n, c, h, w])
    cb = kb.value(arith.DivUIOp(c, kb.index(src)))
    ci = kb.value(arith.RemUIOp(c, kb.index(src)))
    return em.emit(op.operands[0], [n, cb, h, w, ci])
