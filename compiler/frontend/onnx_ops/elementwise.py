"""Converters of elementwise ONNX ops (unary, binary, variadic, activations)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, Value, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    require_float,
    scalar,
    shape,
    variadic_inputs,
)

_UNARY: dict[str, type[g.GraphOp]] = {
    "Relu": g.ReluOp,
    "Abs": g.AbsOp,
    "Neg": g.NegOp,
    "Sign": g.SignOp,
    "Exp": g.ExpOp,
    "Log": g.LogOp,
    "Sqrt": g.SqrtOp,
    "Reciprocal": g.ReciprocalOp,
    "Sigmoid": g.SigmoidOp,
    "Tanh": g.TanhOp,
    "Erf": g.ErfOp,
    "Floor": g.FloorOp,
    "Ceil": g.CeilOp,
    "Round": g.RoundOp,
    "Sin": g.SinOp,
    "Cos": g.CosOp,
    "Softplus": g.SoftplusOp,
    "Not": g.NotOp,
}


@converter(*_UNARY)
def convert_unary(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(_UNARY[b.node.op_type], [b.input(0)])]


_BINARY: dict[str, type[g.GraphOp]] = {
    "Add": g.AddOp,
    "Sub": g.SubOp,
    "Mul": g.MulOp,
    "Div": g.DivOp,
    "Equal": g.EqualOp,
    "Less": g.LessOp,
    "LessOrEqual": g.LessEqualOp,
    "Greater": g.GreaterOp,
    "GreaterOrEqual": g.GreaterEqualOp,
    "And": g.AndOp,
    "Or": g.OrOp,
    "Xor": g.XorOp,
}


@converter(*_BINARY)
def convert_binary(b: NodeBuilder) -> list[SSAValue]:
    return [binary(b, _BINARY[b.node.op_type], b.input(0), b.input(1))]


@converter("Pow")
def convert_pow(b: NodeBuilder) -> list[SSAValue]:
    base, exponent = b.input(0), b.input(1)
    # ONNX lets the exponent have another type; the graph dialect does not.
    if dtypes.is_integer(elem(base)) and dtypes.is_float(elem(exponent)):
        # int ** float: casting the exponent to int would turn 0.5 into 0.
        # Runtimes compute in double and truncate back to the base's type.
        wide = dtypes.from_numpy_dtype(np.float64)
        y = binary(b, g.PowOp, cast(b, base, wide), cast(b, exponent, wide))
        return [cast(b, y, elem(base))]
    return [binary(b, g.PowOp, base, cast(b, exponent, elem(base)))]


def _float_floor_mod(b: NodeBuilder, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
    """Mod with fmod=0 on floats (defined at opset 28, before only fmod=1 took floats).

    a - floor(a / b) * b, with the sign of b as Python's %; a finite a over an
    infinite b gives a, or b when their signs differ (floor(a / b) * b is nan there).
    """
    q = b.make(g.FloorOp, [binary(b, g.DivOp, lhs, rhs)])
    r = binary(b, g.SubOp, lhs, binary(b, g.MulOp, q, rhs))
    np_dtype = dtypes.to_numpy_dtype(elem(lhs))
    inf = b.constant(np.array(np.inf, np_dtype))
    zero = b.constant(np.array(0, np_dtype))
    b_inf = binary(b, g.EqualOp, b.make(g.AbsOp, [rhs]), inf)
    a_finite = binary(b, g.LessOp, b.make(g.AbsOp, [lhs]), inf)
    opposite = binary(b, g.LessOp, binary(b, g.MulOp, lhs, rhs), zero)
    fix = b.make(g.WhereOp, [opposite, rhs, lhs])
    return b.make(g.WhereOp, [binary(b, g.AndOp, b_inf, a_finite), fix, r])


@converter("Mod")
def convert_mod(b: NodeBuilder) -> list[SSAValue]:
    lhs, rhs = b.input(0), b.input(1)
    fmod = b.attr("fmod", 0)
    if dtypes.is_float(elem(lhs)):
        if not fmod:
            return [_float_floor_mod(b, lhs, rhs)]
        return [binary(b, g.ModOp, lhs, rhs)]
    if fmod:
        # C remainder: a - trunc(a / b) * b (graph.div truncates integers).
        q = binary(b, g.DivOp, lhs, rhs)
        return [binary(b, g.SubOp, lhs, binary(b, g.MulOp, q, rhs))]
    return [binary(b, g.ModOp, lhs, rhs)]


def _chain(b: NodeBuilder, cls: type[g.GraphOp], values: Sequence[SSAValue]) -> SSAValue:
    acc = values[0]
    for v in values[1:]:
        acc = binary(b, cls, acc, v)
    return acc


@converter("Sum")
def convert_sum(b: NodeBuilder) -> list[SSAValue]:
    return [_chain(b, g.AddOp, variadic_inputs(b))]


@converter("Max")
def convert_max(b: NodeBuilder) -> list[SSAValue]:
    return [_chain(b, g.MaxOp, variadic_inputs(b))]


@converter("Min")
def convert_min(b: NodeBuilder) -> list[SSAValue]:
    return [_chain(b, g.MinOp, variadic_inputs(b))]


@converter("Mean")
def convert_mean(b: NodeBuilder) -> list[SSAValue]:
    inputs = variadic_inputs(b)
    total = _chain(b, g.AddOp, inputs)
    if len(inputs) == 1:
        return [total]
    return [binary(b, g.DivOp, total, scalar(b, len(inputs), total))]


@converter("Where")
def convert_where(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(g.WhereOp, [b.input(0), b.input(1), b.input(2)])]


@converter("Cast")
def convert_cast(b: NodeBuilder) -> list[SSAValue]:
    to = dtypes.from_onnx_dtype(int(b.required_attr("to")))
    return [cast(b, b.input(0), to)]


@converter("CastLike")
def convert_cast_like(b: NodeBuilder) -> list[SSAValue]:
    return [cast(b, b.input(0), elem(b.input(1)))]


@converter("Clip")
def convert_clip(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if b.opset < 11:
        lo, hi = b.attr("min"), b.attr("max")
        if lo is None and hi is None:
            return [x]
        return [b.make(g.ClipOp, [x], min=_f(lo), max=_f(hi))]
    bounds: list[float | None] = []
    dynamic: list[tuple[type[g.GraphOp], SSAValue]] = []
    for i, cls in ((1, g.MaxOp), (2, g.MinOp)):
        v = b.opt_input(i)
        if v is None:
            bounds.append(None)
            continue
        value = constant_value(v)
        if value is None:
            dynamic.append((cls, v))
            bounds.append(None)
        else:
            bounds.append(float(b.one_value(value, "min" if i == 1 else "max")))
    if dynamic:
        out = x
        for cls, v in dynamic:
            out = binary(b, cls, out, v)
        if any(bd is not None for bd in bounds):
            out = b.make(g.ClipOp, [out], min=_f(bounds[0]), max=_f(bounds[1]))
        return [out]
    if dtypes.is_integer(elem(x)):
        # Integer clips keep exact bounds through max/min with constants.
        out = x
        for i, cls in ((1, g.MaxOp), (2, g.MinOp)):
            if b.has_input(i):
                out = binary(b, cls, out, b.input(i))
        return [out]
    if bounds == [None, None]:
        return [x]  # Clip without bounds is the identity
    return [b.make(g.ClipOp, [x], min=_f(bounds[0]), max=_f(bounds[1]))]


def _f(value: float | None) -> float | None:
    return None if value is None else float(value)


@converter("LeakyRelu")
def convert_leaky_relu(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(g.LeakyReluOp, [b.input(0)], alpha=float(b.attr("alpha", 0.01)))]


@converter("Elu")
def convert_elu(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(g.EluOp, [b.input(0)], alpha=float(b.attr("alpha", 1.0)))]


@converter("HardSigmoid")
def convert_hard_sigmoid(b: NodeBuilder) -> list[SSAValue]:
    alpha, beta = float(b.attr("alpha", 0.2)), float(b.attr("beta", 0.5))
    return [b.make(g.HardSigmoidOp, [b.input(0)], alpha=alpha, beta=beta)]


@converter("HardSwish")
def convert_hard_swish(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    gate = b.make(g.HardSigmoidOp, [x], alpha=1.0 / 6.0, beta=0.5)
    return [binary(b, g.MulOp, x, gate)]


@converter("Softsign")
def convert_softsign(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    denom = binary(b, g.AddOp, b.make(g.AbsOp, [x]), scalar(b, 1.0, x))
    return [binary(b, g.DivOp, x, denom)]


@converter("PRelu")
def convert_prelu(b: NodeBuilder) -> list[SSAValue]:
    x, slope = b.input(0), b.input(1)
    zero = scalar(b, 0, x)
    pos = binary(b, g.MaxOp, x, zero)
    neg = binary(b, g.MulOp, binary(b, g.MinOp, x, zero), slope)
    out = binary(b, g.AddOp, pos, neg)
    if shape(out) != shape(x):
        raise b.error(f"slope shape {shape(slope)} does not broadcast to the input {shape(x)}")
    return [out]


@converter("Gelu")
def convert_gelu(b: NodeBuilder) -> list[SSAValue]:
    return [gelu(b, b.input(0), b.attr("approximate", "none"))]


def gelu(b: NodeBuilder, x: SSAValue, approximate: str = "none") -> SSAValue:
    """0.5 * x * (1 + erf(x / sqrt(2))), or with approximate="tanh"
    0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) (also onnxruntime's FastGelu)."""
    require_float(b, x)
    half_x = binary(b, g.MulOp, x, scalar(b, 0.5, x))
    if approximate == "tanh":
        cube = binary(b, g.MulOp, binary(b, g.MulOp, x, x), x)
        inner = binary(b, g.AddOp, x, binary(b, g.MulOp, cube, scalar(b, 0.044715, x)))
        inner = binary(b, g.MulOp, inner, scalar(b, math.sqrt(2 / math.pi), x))
        gate = b.make(g.TanhOp, [inner])
    elif approximate == "none":
        gate = b.make(g.ErfOp, [binary(b, g.MulOp, x, scalar(b, 1 / math.sqrt(2), x))])
    else:
        raise b.error(f"approximate={approximate!r} is not supported")
    return binary(b, g.MulOp, half_x, binary(b, g.AddOp, gate, scalar(b, 1.0, x)))


@converter("Identity")
def convert_identity(b: NodeBuilder) -> list[Value]:
    """Passes a tensor or a sequence (ONNX's Identity takes both) through."""
    return [b.any_input(0)]


@converter("Dropout")
def convert_dropout(b: NodeBuilder) -> list[SSAValue]:
    # Inference: Dropout is the identity; the optional mask is all true.
    if b.opset >= 12 and b.has_input(2):
        training = constant_value(b.input(2))
        if training is None or bool(b.one_value(training, "training_mode")):
            raise b.error(
                "training_mode must be a constant false", hint="export the model in eval mode"
            )
    x = b.input(0)
    # A splat stores one element, however big the mask.
    op = g.ConstantOp(dtypes.dense_splat(np.ones(1, np.bool_), shape(x), dtypes.from_numpy_dtype(np.bool_)))
    b.state.block.add_op(op)
    return [x, op.result]
