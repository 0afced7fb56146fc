"""Converters of ONNX's training losses: NegativeLogLikelihoodLoss and
SoftmaxCrossEntropyLoss.

Both decompose into existing graph ops, as ONNX's own function bodies do:
the log-probability of each target class is a graph.gather_elements along
the class axis (1), the per-position weight a graph.gather of `weight`, and
`ignore_index` a mask from graph.equal + graph.where. No new graph op is
needed, and the pieces fuse like any other elementwise/reduction chain.

Shapes: input (N, C, d1, ..., dk), target (N, d1, ..., dk); the unreduced
loss has the target's shape.
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    elem,
    require_float,
    reshape,
    scalar,
    shape,
    unsqueeze,
)

_REDUCTIONS = ("none", "sum", "mean")


def _check_operands(b: NodeBuilder, x: SSAValue, target: SSAValue, weight: SSAValue | None) -> None:
    require_float(b, x)
    xs, ts = shape(x), shape(target)
    if len(xs) < 2:
        raise b.error(f"input must have rank 2 or more (N, C, ...), got shape {xs}")
    if ts != (xs[0], *xs[2:]):
        raise b.error(f"target has shape {ts}, expected {(xs[0], *xs[2:])} for input {xs}")
    if not dtypes.is_integer(elem(target)) or dtypes.is_bool(elem(target)):
        raise b.error(f"target must be an integer tensor, got {elem(target)}")
    if weight is not None and shape(weight) != (xs[1],):
        raise b.error(f"weight has shape {shape(weight)}, expected ({xs[1]},)")


def _reduction(b: NodeBuilder) -> str:
    reduction = b.attr("reduction", "mean")
    if reduction not in _REDUCTIONS:
        raise b.error(f"reduction={reduction!r} is not supported ({', '.join(_REDUCTIONS)})")
    return reduction


def nll_loss(
    b: NodeBuilder,
    log_prob: SSAValue,
    target: SSAValue,
    weight: SSAValue | None,
    reduction: str,
    ignore_index: int | None,
) -> SSAValue:
    """-log_prob[n, target[n, d...], d...] * weight[target], reduced as asked.

    Ignored positions gather class 0 (any in-range class would do) and are
    zeroed by their weight, so no out-of-range index reaches gather_elements.
    """
    ts = shape(target)
    safe_target = target
    mask: SSAValue | None = None
    if ignore_index is not None:
        ignored = binary(b, g.EqualOp, target, scalar(b, ignore_index, target))
        safe_target = b.make(g.WhereOp, [ignored, scalar(b, 0, target), target])
        mask = b.make(g.WhereOp, [ignored, scalar(b, 0, log_prob), scalar(b, 1, log_prob)])
    picked = b.make(g.GatherElementsOp, [log_prob, unsqueeze(b, safe_target, [1])], axis=1)
    loss = b.make(g.NegOp, [reshape(b, picked, ts)])
    # The per-position weight: weight[target], times the ignore mask.
    pos_weight = mask
    if weight is not None:
        pos_weight = b.make(g.GatherOp, [weight, safe_target], axis=0)
        if mask is not None:
            pos_weight = binary(b, g.MulOp, pos_weight, mask)
    if pos_weight is not None:
        loss = binary(b, g.MulOp, loss, pos_weight)
    if reduction == "none":
        return loss
    every_axis = list(range(len(ts)))
    total = b.make(g.ReduceSumOp, [loss], axes=every_axis, keepdims=0)
    if reduction == "sum":
        return total
    if pos_weight is None:
        return b.make(g.ReduceMeanOp, [loss], axes=every_axis, keepdims=0)
    # Mean over the weights of the positions that count, as ONNX defines it.
    weight_sum = b.make(g.ReduceSumOp, [pos_weight], axes=every_axis, keepdims=0)
    return binary(b, g.DivOp, total, weight_sum)


def _ignore_index(b: NodeBuilder) -> int | None:
    value = b.attr("ignore_index")
    return None if value is None else int(value)


@converter("NegativeLogLikelihoodLoss")
def convert_nll_loss(b: NodeBuilder) -> list[SSAValue]:
    x, target, weight = b.input(0), b.input(1), b.opt_input(2)
    _check_operands(b, x, target, weight)
    return [nll_loss(b, x, target, weight, _reduction(b), _ignore_index(b))]


@converter("SoftmaxCrossEntropyLoss")
def convert_softmax_cross_entropy_loss(b: NodeBuilder) -> list[SSAValue]:
    """NLL of log_softmax over the class axis; the optional second output is
    that log-probability tensor."""
    x, target, weight = b.input(0), b.input(1), b.opt_input(2)
    _check_operands(b, x, target, weight)
    log_prob = b.make(g.LogSoftmaxOp, [x], axis=1)
    loss = nll_loss(b, log_prob, target, weight, _reduction(b), _ignore_index(b))
    return [loss, log_prob]
