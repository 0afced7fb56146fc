"""`remove-identity`: removes ops that return their operand unchanged and
merges chains of reshapes and of transposes."""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from compiler.dialects import graph as g


def _forward(op: Operation, value: SSAValue, rewriter: PatternRewriter) -> None:
    """Replaces `op`'s single result by `value`, which has the same type."""
    assert op.results[0].type == value.type
    rewriter.replace(op, [], [value])


def _erase_if_unused(op: Operation, rewriter: PatternRewriter) -> None:
    # The inner op of a merged chain is dead unless something else reads it;
    # graph ops are pure, so it can go now rather than waiting for `dce`.
    if op.parent is not None and all(not r.uses for r in op.results):
        rewriter.erase(op)


class RemoveIdentityOp(RewritePattern):
    """graph.identity(x) -> x."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.IdentityOp, rewriter: PatternRewriter, /) -> None:
        _forward(op, op.input, rewriter)


class SimplifyReshape(RewritePattern):
    """reshape(x) -> x when the shape does not change; reshape(reshape(x)) -> reshape(x)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ReshapeOp, rewriter: PatternRewriter, /) -> None:
        if op.input.type == op.result.type:
            _forward(op, op.input, rewriter)
            return
        inner = op.input.owner
        if not isinstance(inner, g.ReshapeOp):
            return
        source = inner.input
        if source.type == op.result.type:
            _forward(op, source, rewriter)
        else:
            rewriter.replace(op, g.ReshapeOp.make([source], [op.result.type]))
        _erase_if_unused(inner, rewriter)


class SimplifyTranspose(RewritePattern):
    """transpose(x, identity) -> x; transpose(transpose(x, p), q) -> transpose(x, p[q])."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.TransposeOp, rewriter: PatternRewriter, /) -> None:
        perm = op.ints("perm")
        if list(perm) == list(range(len(perm))):
            _forward(op, op.input, rewriter)
            return
        inner = op.input.owner
        if not isinstance(inner, g.TransposeOp):
            return
        # out[i] = mid[perm[i]] and mid[j] = x[inner_perm[j]], so out[i] = x[inner_perm[perm[i]]].
        inner_perm = inner.ints("perm")
        composed = [inner_perm[p] for p in perm]
        if composed == list(range(len(composed))):
            _forward(op, inner.input, rewriter)
        else:
            rewriter.replace(op, g.TransposeOp.make([inner.input], perm=composed))
        _erase_if_unused(inner, rewriter)


class RemoveNoopCast(RewritePattern):
    """graph.cast to the operand's own type -> the operand."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.CastOp, rewriter: PatternRewriter, /) -> None:
        if op.input.type == op.result.type:
            _forward(op, op.input, rewriter)


class RemoveFullSlice(RewritePattern):
    """A graph.slice that reads every element in order -> its operand."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.SliceOp, rewriter: PatternRewriter, /) -> None:
        if op.input.type != op.result.type:
            return
        shape = g.shape_of(op.input)
        if 0 in shape:
            _forward(op, op.input, rewriter)  # empty: nothing to read
            return
        for n, offset, stride in zip(shape, op.ints("offsets"), op.ints("strides"), strict=True):
            # A dim of size 1 is whole whatever its stride; otherwise only
            # offset 0 and stride 1 give the same elements in the same order.
            if offset != 0 or (n > 1 and stride != 1):
                return
        _forward(op, op.input, rewriter)


class RemoveNoopBroadcast(RewritePattern):
    """graph.broadcast_to its operand's own shape -> the operand."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.BroadcastToOp, rewriter: PatternRewriter, /) -> None:
        if op.input.type == op.result.type:
            _forward(op, op.input, rewriter)


class RemoveIdentityPass(ModulePass):
    """Removes graph.identity, no-op graph.reshape / graph.cast /
    graph.broadcast_to (same type), identity graph.transpose and full
    graph.slice ops, and merges reshape(reshape(x)) and
    transpose(transpose(x)) into one op (removed too if it is a no-op)."""

    name = "remove-identity"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns: list[RewritePattern] = [
            RemoveIdentityOp(),
            SimplifyReshape(),
            SimplifyTranspose(),
            RemoveNoopCast(),
            RemoveFullSlice(),
            RemoveNoopBroadcast(),
        ]
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns), apply_recursively=True).rewrite_module(op)
