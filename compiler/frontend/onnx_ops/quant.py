"""Converters of the ONNX quantization ops, decomposed into core graph ops.

    DequantizeLinear       y = float(int32(x) - int32(zp)) * scale
    QuantizeLinear         y = saturate(round_half_even(x / scale) + zp)
    DynamicQuantizeLinear  scale and zp from min(0, min x) .. max(0, max x), then QuantizeLinear
    MatMulInteger          int32 matmul of (a - a_zp) and (b - b_zp)
    ConvInteger            int32 conv of (x - x_zp) and (w - w_zp)  (padding reads x_zp)
    QLinearMatMul / Conv   the int32 product (+ int32 bias), requantized:
                           saturate(round_half_even(float(acc) * (sa * sb / sy)) + zy)

The formulas are onnxruntime's (its MLAS kernels): QuantizeLinear divides by
the scale rather than multiplying by a reciprocal, and requantization scales
the float of the int32 accumulator by one multiplier computed in float32 in
the order `sa * sb / sy`. Keeping exactly these float operations is what
makes the integer outputs equal to onnxruntime's, not off by one step.

Integer products accumulate in int32 (graph.matmul and graph.conv on i32),
so they are exact where float32 accumulation would round once sums pass 2^24.
Scales and zero points may be per tensor, per axis (1-D along `axis`) or, from
opset 21, blocked (`block_size` elements of `axis` share one scale).
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import Float32Type, IntegerType, Signedness, TensorType
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    norm_axis,
    rank,
    reshape,
    scalar,
    shape,
)
from compiler.frontend.onnx_ops.nn import conv, matmul

I32 = IntegerType(32)
U8 = IntegerType(8, Signedness.UNSIGNED)


def is_zero(value: SSAValue | None) -> bool:
    """An absent zero point, or a constant one that is zero everywhere."""
    if value is None:
        return True
    array = constant_value(value)
    return array is not None and not np.any(array)


def _int_range(b: NodeBuilder, t: Attribute) -> tuple[int, int]:
    if not dtypes.is_integer(t):
        raise b.error(f"quantized type must be an integer type, got {t}")
    info = np.iinfo(dtypes.to_numpy_dtype(t))
    return int(info.min), int(info.max)


def broadcast_param(b: NodeBuilder, param: SSAValue, x: SSAValue, axis: int, block_size: int = 0) -> SSAValue:
    """A scale or zero point shaped to broadcast against x.

    Per tensor (one element) it becomes rank 0; per axis ([C]) it becomes
    [C, 1, ...] with x's trailing dims; blocked, each entry is repeated
    `block_size` times along `axis` (a gather), cut to x's length there.
    """
    n = int(np.prod(shape(param))) if shape(param) else 1
    if block_size > 0:
        if rank(param) != rank(x):
            raise b.error(f"blocked quantization needs a scale of rank {rank(x)}, got {shape(param)}")
        a = norm_axis(b, axis, rank(x))
        d = shape(x)[a]
        if shape(param)[a] != -(-d // block_size):
            raise b.error(f"scale has {shape(param)[a]} blocks on axis {a}, expected ceil({d}/{block_size})")
        indices = b.constant(np.arange(d, dtype=np.int64) // block_size)
        return b.make(g.GatherOp, [param, indices], axis=a)
    if rank(param) == 0 or (n == 1 and rank(param) == 1):
        return reshape(b, param, [])
    if rank(param) != 1:
        raise b.error(f"scale and zero point must be a scalar or 1-D, got shape {shape(param)}")
    a = norm_axis(b, axis, rank(x))
    if shape(param)[0] != shape(x)[a]:
        raise b.error(f"per-axis scale has {shape(param)[0]} values, axis {a} has {shape(x)[a]}")
    return reshape(b, param, [n] + [1] * (rank(x) - a - 1))


def _unfolded(b: NodeBuilder, cls: type[g.GraphOp], operands: list[SSAValue], to: Attribute | None = None) -> SSAValue:
    types = None if to is None else [TensorType(to, list(shape(operands[0])))]
    return b.emit(cls.make(operands, types)).results[0]


def dequantize(b: NodeBuilder, x: SSAValue, scale: SSAValue, zp: SSAValue | None) -> SSAValue:
    """float(int32(x) - int32(zp)) * scale, with scale and zp broadcastable to x.

    A constant x (a weight) is not folded at import: `fold-qdq` needs to see
    its integer values and scale (`fold-constants` folds what it leaves).
    """
    _int_range(b, elem(x))
    if constant_value(x) is None:
        xi = cast(b, x, I32)
        if not is_zero(zp):
            assert zp is not None
            xi = binary(b, g.SubOp, xi, cast(b, zp, I32))
        return binary(b, g.MulOp, cast(b, xi, elem(scale)), scale)
    xi = x if elem(x) == I32 else _unfolded(b, g.CastOp, [x], I32)
    if not is_zero(zp):
        assert zp is not None
        xi = _unfolded(b, g.SubOp, [xi, cast(b, zp, I32)])
    return _unfolded(b, g.MulOp, [_unfolded(b, g.CastOp, [xi], elem(scale)), scale])


def saturate(b: NodeBuilder, y: SSAValue, zp: SSAValue | None, to: Attribute) -> SSAValue:
    """round_half_even(y) + zp, clipped to `to`'s range and cast to it (y is float)."""
    lo, hi = _int_range(b, to)
    q = b.make(g.RoundOp, [y])
    if not is_zero(zp):
        assert zp is not None
        q = binary(b, g.AddOp, q, cast(b, zp, elem(q)))
    q = b.make(g.ClipOp, [q], min=float(lo), max=float(hi))
    return cast(b, q, to)


def quantize(b: NodeBuilder, x: SSAValue, scale: SSAValue, zp: SSAValue | None, to: Attribute) -> SSAValue:
    """saturate(round_half_even(x / scale) + zp) as `to`.

    A NaN quotient (x NaN, or inf/inf and 0/0 under the inf or zero scale that
    calibration writes for a tensor holding -inf, e.g. an attention mask)
    becomes the type's minimum, as in onnxruntime's kernels; a float-to-int
    cast of NaN would be undefined."""
    if not dtypes.is_float(elem(x)):
        raise b.error(f"input must be a floating-point tensor, got {elem(x)}")
    y = binary(b, g.DivOp, x, cast(b, scale, elem(x)))
    y = b.make(g.WhereOp, [binary(b, g.EqualOp, y, y), y, scalar(b, -math.inf, y)])
    return saturate(b, y, zp, to)


def _axis_and_block(b: NodeBuilder) -> tuple[int, int]:
    block = int(b.attr("block_size", 0)) if b.opset >= 21 else 0
    if block < 0:
        raise b.error(f"block_size must be >= 0, got {block}")
    return int(b.attr("axis", 1)), block


@converter("DequantizeLinear")
def convert_dequantize_linear(b: NodeBuilder) -> list[SSAValue]:
    x, scale, zp = b.input(0), b.input(1), b.opt_input(2)
    if zp is not None and elem(zp) != elem(x):
        raise b.error(f"zero point type {elem(zp)} differs from the input's {elem(x)}")
    axis, block = _axis_and_block(b)
    scale = broadcast_param(b, scale, x, axis, block)
    if zp is not None:
        zp = broadcast_param(b, zp, x, axis, block)
    y = dequantize(b, x, scale, zp)
    out_type = b.attr("output_dtype", 0) if b.opset >= 23 else 0
    return [cast(b, y, dtypes.from_onnx_dtype(out_type)) if out_type else y]


def refuse_four_bit_output(b: NodeBuilder) -> None:
    """A QuantizeLinear to a 4-bit zero point's type (4-bit activations): the
    importer widens 4-bit initializers to 8 bits, which would saturate at 8 bits."""
    if len(b.node.input) > 2 and b.node.input[2] in b.state.four_bit:
        raise b.error(
            f"quantizing to 4 bits (zero point '{b.node.input[2]}' is INT4/UINT4) is not supported; "
            "4-bit weights are: quantize activations to 8 or 16 bits"
        )


@converter("QuantizeLinear")
def convert_quantize_linear(b: NodeBuilder) -> list[SSAValue]:
    refuse_four_bit_output(b)
    x, scale, zp = b.input(0), b.input(1), b.opt_input(2)
    if b.opset >= 19 and not int(b.attr("saturate", 1)):
        raise b.error("saturate=0 only applies to float8 outputs, which are not supported")
    out_dtype = int(b.attr("output_dtype", 0)) if b.opset >= 21 else 0
    if zp is not None:
        to = elem(zp)
        if out_dtype and dtypes.from_onnx_dtype(out_dtype) != to:
            raise b.error("output_dtype differs from the zero point's type")
    else:
        to = dtypes.from_onnx_dtype(out_dtype) if out_dtype else U8
    axis, block = _axis_and_block(b)
    scale = broadcast_param(b, scale, x, axis, block)
    if zp is not None:
        zp = broadcast_param(b, zp, x, axis, block)
    return [quantize(b, x, scale, zp, to)]


@converter("DynamicQuantizeLinear")
def convert_dynamic_quantize_linear(b: NodeBuilder) -> list[SSAValue]:
    return list(dynamic_quantize(b, b.input(0)))


def dynamic_quantize(b: NodeBuilder, x: SSAValue) -> tuple[SSAValue, SSAValue, SSAValue]:
    """uint8 quantization over the range of x widened to hold 0 (onnxruntime's
    formula, also its recurrent ops' for their GEMM inputs): (y, scale, zp)."""
    if elem(x) != Float32Type():
        raise b.error(f"input must be float32, got {elem(x)}")
    axes = list(range(rank(x)))
    zero = scalar(b, 0.0, x)
    lo = binary(b, g.MinOp, b.make(g.ReduceMinOp, [x], axes=axes, keepdims=False), zero)
    hi = binary(b, g.MaxOp, b.make(g.ReduceMaxOp, [x], axes=axes, keepdims=False), zero)
    spread = binary(b, g.SubOp, hi, lo)
    # max == min only when both are 0: the scale is then 1 (onnxruntime), not 0.
    degenerate = binary(b, g.EqualOp, spread, zero)
    scale = b.make(g.WhereOp, [degenerate, scalar(b, 1.0, x), binary(b, g.DivOp, spread, scalar(b, 255.0, x))])
    initial = b.make(g.NegOp, [binary(b, g.DivOp, lo, scale)])
    clipped = b.make(g.ClipOp, [initial], min=0.0, max=255.0)
    zp = cast(b, b.make(g.RoundOp, [clipped]), U8)
    y = quantize(b, x, scale, zp, U8)
    return y, scale, zp


def centered(b: NodeBuilder, x: SSAValue, zp: SSAValue | None) -> SSAValue:
    """int32(x) - int32(zp): the exact integer operand of an integer product."""
    _int_range(b, elem(x))
    xi = cast(b, x, I32)
    if is_zero(zp):
        return xi
    assert zp is not None
    return binary(b, g.SubOp, xi, cast(b, zp, I32))


def matmul_operands(
    b: NodeBuilder, a: SSAValue, a_zp: SSAValue | None, w: SSAValue, w_zp: SSAValue | None
) -> tuple[SSAValue, SSAValue]:
    """Centered matmul operands; a's zero point is per row (M), w's per column (N)."""
    if a_zp is not None and rank(a_zp) == 1 and shape(a_zp)[0] > 1:
        a_zp = reshape(b, a_zp, [shape(a_zp)[0], 1])
    elif a_zp is not None:
        a_zp = reshape(b, a_zp, [])
    if w_zp is not None and int(np.prod(shape(w_zp))) == 1:
        w_zp = reshape(b, w_zp, [])
    return centered(b, a, a_zp), centered(b, w, w_zp)


@converter("MatMulInteger")
def convert_matmul_integer(b: NodeBuilder) -> list[SSAValue]:
    a, w = matmul_operands(b, b.input(0), b.opt_input(2), b.input(1), b.opt_input(3))
    return [matmul(b, a, w)]


def _conv_weight_zp(b: NodeBuilder, w: SSAValue, zp: SSAValue | None) -> SSAValue | None:
    """A per-output-channel weight zero point as [O, 1, 1, ...]."""
    if zp is None:
        return None
    return broadcast_param(b, zp, w, 0)


@converter("ConvInteger")
def convert_conv_integer(b: NodeBuilder) -> list[SSAValue]:
    x, w = b.input(0), b.input(1)
    x_zp = b.opt_input(2)
    xc = centered(b, x, None if x_zp is None else reshape(b, x_zp, []))
    wc = centered(b, w, _conv_weight_zp(b, w, b.opt_input(3)))
    return [conv(b, xc, wc, None)]


def requantize(
    b: NodeBuilder, acc: SSAValue, multiplier: SSAValue, y_zp: SSAValue, to: Attribute
) -> SSAValue:
    """saturate(round_half_even(float(acc) * multiplier) + y_zp): the int32 -> 8-bit epilogue."""
    scaled = binary(b, g.MulOp, cast(b, acc, Float32Type()), multiplier)
    return saturate(b, scaled, y_zp, to)


def requant_multiplier(b: NodeBuilder, sa: SSAValue, sb: SSAValue, sy: SSAValue) -> SSAValue:
    """sa * sb / sy in float32, in onnxruntime's order (folded when all are constants)."""
    sa, sb, sy = (cast(b, s, Float32Type()) for s in (sa, sb, sy))
    return binary(b, g.DivOp, binary(b, g.MulOp, sa, sb), sy)


def scalar_param(b: NodeBuilder, value: SSAValue, what: str) -> SSAValue:
    if int(np.prod(shape(value))) != 1:
        raise b.error(f"{what} must hold one value, got shape {shape(value)}")
    return reshape(b, value, [])


@converter("QLinearMatMul")
def convert_qlinear_matmul(b: NodeBuilder) -> list[SSAValue]:
    a, sa, za = b.input(0), b.input(1), b.input(2)
    w, sw, zw = b.input(3), b.input(4), b.input(5)
    sy, zy = b.input(6), b.input(7)
    ac, wc = matmul_operands(b, a, za, w, zw)
    acc = matmul(b, ac, wc)
    sa = reshape(b, sa, [shape(sa)[0], 1]) if rank(sa) == 1 and shape(sa)[0] > 1 else reshape(b, sa, [])
    sw = sw if int(np.prod(shape(sw))) > 1 else reshape(b, sw, [])
    mult = requant_multiplier(b, sa, sw, scalar_param(b, sy, "y_scale"))
    return [requantize(b, acc, mult, scalar_param(b, zy, "y_zero_point"), elem(zy))]


@converter("QLinearConv")
def convert_qlinear_conv(b: NodeBuilder) -> list[SSAValue]:
    return [qlinear_conv(b, b.input(0))]


def qlinear_conv(b: NodeBuilder, x: SSAValue) -> SSAValue:
    """QLinearConv of x (NC...) with the node's other inputs and attributes
    (also com.microsoft's channels-last QLinearConv, given x transposed)."""
    sx, zx = b.input(1), b.input(2)
    w, sw, zw = b.input(3), b.input(4), b.input(5)
    sy, zy = b.input(6), b.input(7)
    bias = b.opt_input(8)
    if bias is not None and elem(bias) != I32:
        raise b.error(f"bias must be int32, got {elem(bias)}")
    xc = centered(b, x, scalar_param(b, zx, "x_zero_point"))
    wc = centered(b, w, _conv_weight_zp(b, w, zw))
    acc = conv(b, xc, wc, bias)
    sw_b = broadcast_param(b, sw, acc, 1)
    mult = requant_multiplier(b, scalar_param(b, sx, "x_scale"), sw_b, scalar_param(b, sy, "y_scale"))
    return requantize(b, acc, mult, scalar_param(b, zy, "y_zero_point"), elem(zy))

