"""`explicit-padding`: a convolution's zero padding becomes its own `graph.pad`.

A conv kernel that pads implicitly must check every input read against the
borders (a compare, clamp and select per multiply-add in the inner loop).
With the padding done once by a `graph.pad` into its own buffer (TVM's
`data_pad` stage), the conv reads in bounds only. Works in plain (NCHW) and
blocked (NCHW{c}c) layouts: the spatial dims are 2 and 3 in both. Runs before
`fuse-ops` and `plan-memory`, which then treat the pad as an ordinary
injective kernel with its own arena buffer.

A float max pool's padding becomes a `graph.pad` with -inf (which no window
maximum picks, as ONNX's padding never wins) for the same reason: in bounds,
an NCHW stride-2 pool reads its rows with vector loads instead of clamped
gathers (a blocked pool vectorizes over channels and keeps its padding).
Average pools keep theirs: their divisor depends on which elements are padding.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import AnyFloat, ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from compiler.dialects import graph as g


class HoistConvPadding(RewritePattern):
    """conv{pads=p}(x, w) -> conv{pads=0}(pad{p}(x), w)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        pads = op.ints("pads")
        if not any(pads):
            return
        if isinstance(op.parent_op(), g.FusedOp):
            return  # groups are formed already; padding them would change a kernel's inputs
        rank = len(g.shape_of(op.input))
        top, left, bottom, right = pads
        full = [0] * (2 * rank)
        full[2], full[3], full[rank + 2], full[rank + 3] = top, left, bottom, right
        pad = g.PadOp.make([op.input], pads=full, mode="constant", value=0.0)
        props = dict(op.properties)
        props["pads"] = g.ints_attr([0, 0, 0, 0])
        operands = [pad.result, op.weight] + ([op.bias] if op.bias is not None else [])
        conv = g.ConvOp.make(operands, [op.result.type], **props)
        conv.attributes.update(op.attributes)
        rewriter.replace(op, [pad, conv])


class HoistMaxPoolPadding(RewritePattern):
    """max_pool{pads=p}(x) -> max_pool{pads=0}(pad{p, value=-inf}(x)), x float."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.MaxPoolOp, rewriter: PatternRewriter) -> None:
        pads = op.ints("pads")
        if not any(pads) or isinstance(op.parent_op(), g.FusedOp) or not isinstance(g.elem_of(op.input), AnyFloat):
            return
        if "layout" in op.properties:
            return  # blocked: the vector runs over the channel lanes, the padding costs no gather
        rank = len(g.shape_of(op.input))
        top, left, bottom, right = pads
        full = [0] * (2 * rank)
        full[2], full[3], full[rank + 2], full[rank + 3] = top, left, bottom, right
        pad = g.PadOp.make([op.input], pads=full, mode="constant", value=float("-inf"))
        props = dict(op.properties)
        props["pads"] = g.ints_attr([0, 0, 0, 0])
        pool = g.MaxPoolOp.make([pad.result], [op.result.type], **props)
        pool.attributes.update(op.attributes)
        rewriter.replace(op, [pad, pool])


@dataclass(frozen=True)
class ExplicitPaddingPass(ModulePass):
    """Moves every conv's implicit zero padding (and a float max pool's -inf
    padding) into an explicit graph.pad."""

    name = "explicit-padding"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([HoistConvPadding(), HoistMaxPoolPadding()]), apply_recursively=False
        ).rewrite_module(op)
