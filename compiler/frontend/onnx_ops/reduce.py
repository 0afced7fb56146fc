"""Converters of ONNX reductions (ReduceX family, ArgMax/ArgMin)."""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerType, Signedness
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary, cast, elem, norm_axis, rank, reshape, shape

u8 = IntegerType(8, Signedness.UNSIGNED)

_REDUCE: dict[str, type[g.GraphOp]] = {
    "ReduceSum": g.ReduceSumOp,
    "ReduceMean": g.ReduceMeanOp,
    "ReduceMax": g.ReduceMaxOp,
    "ReduceMin": g.ReduceMinOp,
    "ReduceProd": g.ReduceProdOp,
    "ReduceL1": g.ReduceSumOp,
    "ReduceL2": g.ReduceSumOp,
    "ReduceSumSquare": g.ReduceSumOp,
    "ReduceLogSum": g.ReduceSumOp,
    "ReduceLogSumExp": g.ReduceSumOp,
}


def _reduce_axes(b: NodeBuilder, x: SSAValue) -> list[int]:
    """Sorted axes; empty when `noop_with_empty_axes` asks for no reduction."""
    # Axes moved from an attribute to an input: ReduceSum at opset 13, the rest at 18.
    attr_until = 13 if b.node.op_type == "ReduceSum" else 18
    if b.opset < attr_until:
        axes = b.ints_attr("axes")
    else:
        value = b.opt_const_input(1, "axes")
        axes = None if value is None else [int(a) for a in value.reshape(-1)]
    r = rank(x)
    if not axes:
        if b.attr("noop_with_empty_axes", 0):
            return []
        return list(range(r))
    return sorted({norm_axis(b, a, r) for a in axes})


@converter(*_REDUCE)
def convert_reduce(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    axes = _reduce_axes(b, x)
    keep = bool(b.attr("keepdims", 1))
    op_type = b.node.op_type
    if op_type == "ReduceLogSumExp":
        return [_log_sum_exp(b, x, axes, keep)]
    if op_type in ("ReduceL2", "ReduceSumSquare"):
        x = binary(b, g.MulOp, x, x)
    elif op_type == "ReduceL1":
        x = b.make(g.AbsOp, [x])
    # With no axes (noop_with_empty_axes=1) the reduction is the identity, but
    # the elementwise parts of the composite reductions still apply (ReduceL1
    # is |x|, ReduceSumSquare x * x), as in ONNX's reference implementation.
    if axes and op_type in ("ReduceMax", "ReduceMin") and dtypes.is_bool(elem(x)):
        # Max of bools is any, min is all: reduce them as uint8 (opset 20 allows bool).
        y = b.make(_REDUCE[op_type], [cast(b, x, u8)], axes=axes, keepdims=keep)
        return [cast(b, y, elem(x))]
    y = b.make(_REDUCE[op_type], [x], axes=axes, keepdims=keep) if axes else x
    if op_type == "ReduceL2":
        y = b.make(g.SqrtOp, [y])
    elif op_type == "ReduceLogSum":
        y = b.make(g.LogOp, [y])
    return [y]


def _log_sum_exp(b: NodeBuilder, x: SSAValue, axes: list[int], keep: bool) -> SSAValue:
    """log(sum(exp(x - m))) + m with m = max(x): exp(x) alone overflows for x > 88 in f32."""
    if not axes:
        return x  # log(exp(x)), without the round trip through exp
    m = b.make(g.ReduceMaxOp, [x], axes=axes, keepdims=True)
    e = b.make(g.ExpOp, [binary(b, g.SubOp, x, m)])
    y = b.make(g.LogOp, [b.make(g.ReduceSumOp, [e], axes=axes, keepdims=keep)])
    if not keep:
        m = reshape(b, m, shape(y))
    return binary(b, g.AddOp, y, m)


@converter("ArgMax", "ArgMin")
def convert_arg_reduce(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    cls = g.ArgMaxOp if b.node.op_type == "ArgMax" else g.ArgMinOp
    return [
        b.make(
            cls,
            [x],
            axis=norm_axis(b, b.attr("axis", 0), rank(x)),
            keepdims=bool(b.attr("keepdims", 1)),
            select_last_index=bool(b.attr("select_last_index", 0)),
        )
    ]
