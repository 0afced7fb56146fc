"""Converters of the less common ONNX activations and float predicates.

Most are compositions of existing elementwise graph ops (they fuse into one
kernel): Mish, Swish, SwiGLU, Selu, Celu, ThresholdedRelu, Shrink, IsNaN, IsInf.
Hardmax is argmax compared with a constant arange. The trigonometric and
hyperbolic functions map one to one onto float unary graph ops.
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    elem,
    norm_axis,
    rank,
    require_float,
    reshape,
    scalar,
    shape,
)

_MATH: dict[str, type[g.GraphOp]] = {
    "Tan": g.TanOp,
    "Asin": g.AsinOp,
    "Acos": g.AcosOp,
    "Atan": g.AtanOp,
    "Sinh": g.SinhOp,
    "Cosh": g.CoshOp,
    "Asinh": g.AsinhOp,
    "Acosh": g.AcoshOp,
    "Atanh": g.AtanhOp,
}


@converter(*_MATH)
def convert_math(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(_MATH[b.node.op_type], [b.input(0)])]


def _float_input(b: NodeBuilder) -> SSAValue:
    x = b.input(0)
    require_float(b, x)
    return x


@converter("Mish")
def convert_mish(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    return [binary(b, g.MulOp, x, b.make(g.TanhOp, [b.make(g.SoftplusOp, [x])]))]


@converter("Swish")
def convert_swish(b: NodeBuilder) -> list[SSAValue]:
    """x * sigmoid(alpha * x) (opset 24; SiLU when alpha is 1)."""
    x = _float_input(b)
    alpha = float(b.attr("alpha", 1.0))
    scaled = x if alpha == 1.0 else binary(b, g.MulOp, x, scalar(b, alpha, x))
    return [binary(b, g.MulOp, x, b.make(g.SigmoidOp, [scaled]))]


@converter("SwiGLU")
def convert_swiglu(b: NodeBuilder) -> list[SSAValue]:
    """Swish_alpha(A) * B (opset 28): the gated MLP activation of Llama-style models."""
    gate, value = _float_input(b), b.input(1)
    if shape(gate) != shape(value):
        raise b.error(f"A {list(shape(gate))} and B {list(shape(value))} must have one shape (no broadcasting)")
    alpha = float(b.attr("alpha", 1.0))
    scaled = gate if alpha == 1.0 else binary(b, g.MulOp, gate, scalar(b, alpha, gate))
    swish = binary(b, g.MulOp, gate, b.make(g.SigmoidOp, [scaled]))
    return [binary(b, g.MulOp, swish, value)]


@converter("Selu")
def convert_selu(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    alpha = float(b.attr("alpha", 1.67326319217681884765625))
    gamma = float(b.attr("gamma", 1.05070102214813232421875))
    return [binary(b, g.MulOp, b.make(g.EluOp, [x], alpha=alpha), scalar(b, gamma, x))]


@converter("Celu")
def convert_celu(b: NodeBuilder) -> list[SSAValue]:
    # max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); elu(x / alpha, 1) is the expm1 term.
    x = _float_input(b)
    alpha = float(b.attr("alpha", 1.0))
    if alpha == 0:
        raise b.error("alpha must not be zero")
    zero = scalar(b, 0.0, x)
    scaled = b.make(g.EluOp, [binary(b, g.DivOp, x, scalar(b, alpha, x))], alpha=1.0)
    neg = binary(b, g.MinOp, binary(b, g.MulOp, scaled, scalar(b, alpha, x)), zero)
    return [binary(b, g.AddOp, binary(b, g.MaxOp, x, zero), neg)]


@converter("ThresholdedRelu")
def convert_thresholded_relu(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    above = binary(b, g.GreaterOp, x, scalar(b, float(b.attr("alpha", 1.0)), x))
    return [b.make(g.WhereOp, [above, x, scalar(b, 0.0, x)])]


@converter("Shrink")
def convert_shrink(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if dtypes.is_bool(elem(x)):
        raise b.error("input must be numeric, got i1")
    lambd, bias = float(b.attr("lambd", 0.5)), float(b.attr("bias", 0.0))
    low = binary(b, g.LessOp, x, scalar(b, -lambd, x))
    high = binary(b, g.GreaterOp, x, scalar(b, lambd, x))
    shifted_up = binary(b, g.AddOp, x, scalar(b, bias, x))
    shifted_down = binary(b, g.SubOp, x, scalar(b, bias, x))
    inner = b.make(g.WhereOp, [high, shifted_down, scalar(b, 0, x)])
    return [b.make(g.WhereOp, [low, shifted_up, inner])]


@converter("Hardmax")
def convert_hardmax(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    dims = shape(x)
    if b.opset < 13:
        # Before opset 13 the input is seen as 2-D [prod(dims[:axis]), prod(dims[axis:])].
        axis = norm_axis(b, b.attr("axis", 1), rank(x)) if rank(x) else 0
        flat = reshape(b, x, [math.prod(dims[:axis]), math.prod(dims[axis:])])
        return [reshape(b, _hardmax(b, flat, 1), list(dims))]
    return [_hardmax(b, x, norm_axis(b, b.attr("axis", -1), rank(x)))]


def _hardmax(b: NodeBuilder, x: SSAValue, axis: int) -> SSAValue:
    """1 at the first maximum along `axis`, 0 elsewhere."""
    dims = shape(x)
    if dims[axis] == 0:
        return x
    best = b.make(g.ArgMaxOp, [x], axis=axis, keepdims=1, select_last_index=0)
    classes = np.arange(dims[axis], dtype=np.int64).reshape([-1 if d == axis else 1 for d in range(len(dims))])
    hot = b.make(g.EqualOp, [best, b.constant(classes)])
    return b.make(g.WhereOp, [hot, scalar(b, 1.0, x), scalar(b, 0.0, x)])


@converter("IsNaN")
def convert_is_nan(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    return [b.make(g.NotOp, [binary(b, g.EqualOp, x, x)])]


@converter("IsInf")
def convert_is_inf(b: NodeBuilder) -> list[SSAValue]:
    x = _float_input(b)
    positive, negative = b.attr("detect_positive", 1), b.attr("detect_negative", 1)
    found = []
    if positive:
        found.append(binary(b, g.EqualOp, x, scalar(b, math.inf, x)))
    if negative:
        found.append(binary(b, g.EqualOp, x, scalar(b, -math.inf, x)))
    if not found:
        return [b.constant(np.zeros(shape(x), np.bool_))]
    if len(found) == 1:
        return found
    return [binary(b, g.OrOp, found[0], found[1])]

