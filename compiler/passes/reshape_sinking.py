"""Moving an op's element-wise users inside the reshape that a pass puts around it.

`flatten-pointwise-conv` and `flatten-batched-matmul` compute an op on a
reshaped view ([N, C, 1, H*W], [B*M, N]) and reshape its result back. The
element-wise ops that `fuse-ops` would make the op's epilogue must move
inside the reshape with it, or the reshape would part them from their
producer's group. `sink_users` does that for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint

from compiler.dialects import graph as g


def reshaped(value: SSAValue, shape: Sequence[int], rewriter: PatternRewriter, before: Operation) -> SSAValue:
    """`value` viewed with `shape` (a graph.reshape inserted before `before`)."""
    view = g.ReshapeOp.make([value], [TensorType(g.elem_of(value), list(shape))])
    rewriter.insert(view, InsertPoint.before(before))
    return view.result


def elementwise_user(
    user: Operation, value: SSAValue, broadcasts: Callable[[tuple[int, ...], tuple[int, ...]], bool]
) -> bool:
    """An element-wise op on `value`, of its shape, whose other operands have that shape
    too or a shape that `broadcasts(shape, full)` accepts."""
    if g.fusion_kind(user) > g.FusionKind.BROADCAST or len(user.results) != 1:
        return False
    full = g.shape_of(value)
    if g.shape_of(user.results[0]) != full:
        return False
    return all(
        operand is value or (shape := g.shape_of(operand)) == full or broadcasts(shape, full)
        for operand in user.operands
    )


def single_use_chain(first: Operation, last: Operation) -> list[Operation]:
    """The ops from `last` back to `first` along single uses, users first (erase order)."""
    ops = [first]
    while ops[-1] is not last:
        ops.append(next(iter(ops[-1].results[0].uses)).operation)
    return ops[::-1]


def sink_users(
    op: Operation,
    value: SSAValue,
    rewriter: PatternRewriter,
    sinkable: Callable[[Operation, SSAValue], bool],
    reshaped: Callable[[SSAValue, Operation], SSAValue],
) -> None:
    """Replace `op` by `value`, its result computed on a reshaped view.

    While the single user u of the result is `sinkable`, u is rebuilt on the
    view (its other operands passed through `reshaped(operand, u)`); then one
    reshape back to the original type replaces the last result, and the old
    chain is erased.
    """
    flat = g.shape_of(value)
    last, result = op, op.results[0]
    while result.has_one_use():
        user = next(iter(result.uses)).operation
        if not sinkable(user, result):
            break
        operands = [value if o is result else reshaped(o, user) for o in user.operands]
        flat_user = type(user).create(
            operands=operands,
            result_types=[TensorType(g.elem_of(user.results[0]), flat)],
            properties=dict(user.properties),
            attributes=dict(user.attributes),
        )
        rewriter.insert(flat_user, InsertPoint.before(user))
        value, last, result = flat_user.results[0], user, user.results[0]
    back = g.ReshapeOp.make([value], [result.type])
    rewriter.insert(back, InsertPoint.after(last))
    result.replace_all_uses_with(back.result)
    for dead in single_use_chain(op, last):
        rewriter.erase(dead)
