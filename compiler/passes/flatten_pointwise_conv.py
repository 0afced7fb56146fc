"""`flatten-pointwise-conv`: a 1x1 NCHW convolution runs over one row of H*W pixels.

A 1x1, stride-1, unpadded convolution computes each output pixel from the
same input pixel, so its H and W axes are one axis of H*W contiguous pixels.
In NCHW the schedule vectorizes a row of output pixels; a 7- or 14-wide row
(ShuffleNet's grouped 1x1 convs at 7x7 and 14x14, which stay NCHW) fills
less than one or two vectors and leaves most lanes or a long tail idle.
Seen as one row of 49 or 196 pixels ([N, C, 1, H*W], a free reshape of a
contiguous buffer), the same kernel runs on whole vectors; wider rows gain
too when the vector length does not divide them (28 on AVX2, 28 and 56 on
AVX-512), and lose nothing when it does.

The element-wise ops that follow the conv (bias-free residual adds, ReLU:
what `fuse-ops` would make its epilogue) move inside the reshape with it,
their other full-shape operands reshaped alike, so that the fusion stays.
Runs before `fuse-ops`, on convs that kept the NCHW layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint

from compiler.dialects import graph as g
from compiler.passes.reshape_sinking import elementwise_user, reshaped, sink_users

_LAYOUT_PROPS = ("data_layout", "kernel_layout", "out_layout")


def _flat(value: SSAValue, rewriter: PatternRewriter, before: Operation) -> SSAValue:
    """`value` [N, C, H, W] viewed as [N, C, 1, H*W]."""
    n, c, h, w = g.shape_of(value)
    return reshaped(value, [n, c, 1, h * w], rewriter, before)


def _pointwise(op: g.ConvOp) -> bool:
    shape = g.shape_of(op.input)
    return (
        len(shape) == 4
        and not any(name in op.properties for name in _LAYOUT_PROPS)
        and tuple(g.shape_of(op.weight)[2:]) == (1, 1)
        and tuple(op.ints("strides")) == (1, 1)
        and not any(op.ints("pads"))
        and shape[2] > 1
    )


def _sinkable(user: Operation, value: SSAValue) -> bool:
    """An element-wise op on `value` whose other operands are full-shape or broadcast over H, W."""
    return elementwise_user(user, value, lambda shape, _: len(shape) >= 2 and tuple(shape[-2:]) == (1, 1))


class FlattenPointwiseConv(RewritePattern):
    """conv1x1(x) [N,O,H,W] -> reshape(conv1x1(reshape(x) [N,C,1,HW])), stride 1, no padding;
    then, while the single user u of the result is element-wise:
    u(reshape(v), y) -> reshape(u(v, reshape(y)))."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if isinstance(op.parent_op(), g.FusedOp) or not _pointwise(op):
            return
        n, o, h, w = g.shape_of(op.result)
        flat_type = TensorType(g.elem_of(op.result), [n, o, 1, h * w])
        operands = [_flat(op.input, rewriter, op), op.weight] + ([op.bias] if op.bias is not None else [])
        conv = g.ConvOp.make(operands, [flat_type], **dict(op.properties))
        conv.attributes.update(op.attributes)
        rewriter.insert(conv, InsertPoint.before(op))

        def operand(other: SSAValue, user: Operation) -> SSAValue:
            return _flat(other, rewriter, user) if g.shape_of(other) == (n, o, h, w) else other

        sink_users(op, conv.results[0], rewriter, _sinkable, operand)


@dataclass(frozen=True)
class FlattenPointwiseConvPass(ModulePass):
    """Runs 1x1 NCHW convs (and their element-wise users) on [N, C, 1, H*W]."""

    name = "flatten-pointwise-conv"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FlattenPointwiseConv(), apply_recursively=False).rewrite_module(op)
