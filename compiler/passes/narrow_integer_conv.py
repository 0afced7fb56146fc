"""`narrow-integer-conv`: int32 convs of 8-bit quantized data read i16 operands.

After `fold-qdq` an integer conv reads `x = int32(q) - zero_point` (q u8 or
i8, so x in [-255, 255]) and a constant int32 weight that was 8 bits
(`int32(wq) - w_zero_point`). Stored as int32, every activation costs four
times its information and the kernel multiplies 32-bit lanes (vpmulld), which
is slower than float FMAs. This pass makes the conv read `int16(x)` and an
int16 weight constant, accumulating in int32 (`graph.conv` sign-extends narrow
operands), so that the producer of x writes int16 and the kernel's schedule
may use widening integer dot products (pmaddwd: pairs of i16 products summed
into i32 lanes; vpdpbusd with VNNI).

The rewrite is exact: both operands fit in int16 (checked: x from an 8-bit
cast minus a constant 8-bit zero point, the weight by value), and the i32
products and sums are the ones the int32 conv computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from compiler.dialects import graph as g
from compiler.passes.constants import constant_array, make_constant

I32 = IntegerType(32)
I16 = IntegerType(16)
_LAYOUT_PROPS = ("data_layout", "kernel_layout", "out_layout")


def _bits_of_cast_source(value: SSAValue) -> int | None:
    """The width of q when value = int32(q) with q an 8/16-bit integer."""
    if not isinstance(value.owner, g.CastOp):
        return None
    src = g.elem_of(value.owner.input)
    if not isinstance(src, IntegerType) or src.width.data > 8:
        return None
    return src.width.data


def fits_i16(value: SSAValue) -> bool:
    """Whether an int32 activation provably lies in [-32767, 32767]: int32(q8) or int32(q8) - c, |c| <= 255."""
    if _bits_of_cast_source(value) is not None:
        return True
    sub = value.owner
    if not isinstance(sub, g.SubOp):
        return False
    zero_point = constant_array(sub.rhs)
    return (
        _bits_of_cast_source(sub.lhs) is not None
        and zero_point is not None
        and bool(np.all(np.abs(zero_point.astype(np.int64)) <= 255))
    )


class NarrowIntegerConv(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if any(name in op.properties for name in _LAYOUT_PROPS):
            return
        if g.elem_of(op.input) != I32 or g.elem_of(op.weight) != I32:
            return
        weight = constant_array(op.weight)
        if weight is None or not fits_i16(op.input) or int(np.max(np.abs(weight.astype(np.int64)), initial=0)) > 32767:
            return
        x16 = g.CastOp.make([op.input], [TensorType(I16, list(g.shape_of(op.input)))])
        w16 = make_constant(weight.astype(np.int16), TensorType(I16, list(weight.shape)))
        operands = [x16.result, w16.result, *([op.bias] if op.bias is not None else [])]
        conv = g.ConvOp.make(operands, None, **op.properties)
        rewriter.replace(op, [x16, w16, conv], [conv.result])


@dataclass(frozen=True)
class NarrowIntegerConvPass(ModulePass):
    name = "narrow-integer-conv"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(NarrowIntegerConv(), apply_recursively=False).rewrite_module(op)

