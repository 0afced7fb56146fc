"""Converters of onnxruntime's quantized contrib ops (domain com.microsoft).

onnxruntime's `quantize_static(..., quant_format=QuantFormat.QOperator)`
writes these besides the standard QLinearConv and QLinearMatMul. Each is
decomposed into ops the rest of the compiler already knows: dequantize, the
float op, quantize (so fusion makes one elementwise or pooling kernel of it),
or an int32 computation requantized like QLinearConv. With

    dq(x) = float(int32(x) - int32(zx)) * sx
    q(y)  = saturate(round_half_even(y / sy) + zy)

the formulas are those of onnxruntime's CPU kernels (MLAS, x86), so that the
integer outputs match it, not just the spec:

    QLinearAdd                q(dq(a) + dq(b))                     (its AVX2 kernel)
    QLinearMul                saturate(rne(float((a - za) * (b - zb)) * m + zc)),  m = sa * sb / sc
    QLinearGlobalAveragePool  saturate(rne(float(sum(x - zx)) * (sx / (sy * n))) + zy)
    QLinearAveragePool        saturate(rne(avgpool(dq(x)) / sy + zy))
    QLinearConv               ONNX's QLinearConv, on N...C data when channels_last
    QLinearConcat             concat of q(dq(x_i)), or x_i itself when it has the output's scale and zp
    QLinearSigmoid/LeakyRelu  q(f(dq(x)))                         (onnxruntime tabulates these)
    QLinearSoftmax            saturate(rne(softmax(dq(x)) * floor(1 / sy)) + zy)
    QLinearWhere              q(where(c, dq(x), dq(y)))
    QLinearReduceMean         q(reduce_mean(dq(x)))
    QGemm                     QLinearMatMul's requantization with m = (alpha * sa * sb) / sy,
                              or float(acc) * (alpha * sa * sb) when there is no y_scale

where m is computed once in float32 in that order. com.microsoft's QuantizeLinear and
DequantizeLinear (what `quantize_static` writes with `UseQDQContribOps`, and for
16-bit types before opset 21) are ONNX's, per tensor or per `axis`. Note the zero point added
before rounding in QLinearMul and QLinearAveragePool, and QLinearSoftmax's
floor(1 / sy) (onnxruntime's table-based kernel; 256 for the usual 1/256).
Scales and zero points are per tensor, except QGemm's b (per column).
"""

from __future__ import annotations

import numpy as np
from onnx import AttributeProto
from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Attribute, SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    norm_axis,
    rank,
    reshape,
    scalar,
    shape,
    transpose,
)
from compiler.frontend.onnx_ops.nn import average_pool, gemm_operands, matmul, softmax_like
from compiler.frontend.onnx_ops.quant import (
    I32,
    U8,
    broadcast_param,
    centered,
    dequantize,
    matmul_operands,
    qlinear_conv,
    quantize,
    refuse_four_bit_output,
    requant_multiplier,
    requantize,
    saturate,
    scalar_param,
)

F32 = Float32Type()
INT = AttributeProto.INT


# Per-tensor parameters --------------------------------------------------------


def _opt_param(b: NodeBuilder, i: int, what: str) -> SSAValue | None:
    """Optional input i (a zero point) as a rank-0 value, or None."""
    value = b.opt_input(i)
    return None if value is None else scalar_param(b, value, what)


def _dq(b: NodeBuilder, x: int, scale: int, zero_point: int) -> SSAValue:
    """dq of input `x` with the per-tensor scale and (optional) zero point at those inputs."""
    name = b.node.input[x] or f"input {x}"
    s = scalar_param(b, b.input(scale), f"the scale of {name}")
    return dequantize(b, b.input(x), s, _opt_param(b, zero_point, f"the zero point of {name}"))


def _output_params(b: NodeBuilder, scale: int, zero_point: int, like: SSAValue) -> tuple[SSAValue, SSAValue | None, Attribute]:
    """(scale, zero point or None, element type) of the output; without a zero
    point the output has the type of `like` (the quantized input)."""
    s = scalar_param(b, b.input(scale), "the output scale")
    z = _opt_param(b, zero_point, "the output zero point")
    return s, z, elem(like) if z is None else elem(z)


def _q(b: NodeBuilder, y: SSAValue, scale: int, zero_point: int, like: SSAValue) -> SSAValue:
    """q(y) with the output parameters at inputs `scale` and `zero_point`."""
    s, z, to = _output_params(b, scale, zero_point, like)
    return quantize(b, y, s, z, to)


def _saturate_biased(b: NodeBuilder, y: SSAValue, zp: SSAValue | None, to: Attribute) -> SSAValue:
    """saturate(round_half_even(y + zp)): the zero point added in float before rounding,
    as onnxruntime's QLinearMul and QLinearAveragePool kernels do."""
    if zp is not None:
        y = binary(b, g.AddOp, y, cast(b, zp, elem(y)))
    return saturate(b, y, None, to)


# Elementwise ---------------------------------------------------------------------


@converter("QLinearAdd", domain=MS_DOMAIN)
def convert_qlinear_add(b: NodeBuilder) -> list[SSAValue]:
    total = binary(b, g.AddOp, _dq(b, 0, 1, 2), _dq(b, 3, 4, 5))
    return [_q(b, total, 6, 7, b.input(0))]


@converter("QLinearMul", domain=MS_DOMAIN)
def convert_qlinear_mul(b: NodeBuilder) -> list[SSAValue]:
    """An exact int32 product of the centered operands, scaled once."""
    za = _opt_param(b, 2, "A_zero_point")
    zb = _opt_param(b, 5, "B_zero_point")
    product = binary(b, g.MulOp, centered(b, b.input(0), za), centered(b, b.input(3), zb))
    sa, sb = scalar_param(b, b.input(1), "A_scale"), scalar_param(b, b.input(4), "B_scale")
    sc, zc, to = _output_params(b, 6, 7, b.input(0))
    scaled = binary(b, g.MulOp, cast(b, product, F32), requant_multiplier(b, sa, sb, sc))
    return [_saturate_biased(b, scaled, zc, to)]


@converter("QLinearSigmoid", domain=MS_DOMAIN)
def convert_qlinear_sigmoid(b: NodeBuilder) -> list[SSAValue]:
    return [_q(b, b.make(g.SigmoidOp, [_dq(b, 0, 1, 2)]), 3, 4, b.input(0))]


@converter("QLinearLeakyRelu", domain=MS_DOMAIN)
def convert_qlinear_leaky_relu(b: NodeBuilder) -> list[SSAValue]:
    y = b.make(g.LeakyReluOp, [_dq(b, 0, 1, 2)], alpha=float(b.attr("alpha", 0.01)))
    return [_q(b, y, 3, 4, b.input(0))]


@converter("QLinearWhere", domain=MS_DOMAIN)
def convert_qlinear_where(b: NodeBuilder) -> list[SSAValue]:
    chosen = b.make(g.WhereOp, [b.input(0), _dq(b, 1, 2, 3), _dq(b, 4, 5, 6)])
    return [_q(b, chosen, 7, 8, b.input(1))]


# Reductions and pooling --------------------------------------------------------


def _channels_last(b: NodeBuilder) -> bool:
    return bool(b.attr("channels_last", 0))


def _spatial_axes(b: NodeBuilder, x: SSAValue) -> list[int]:
    r = rank(x)
    if r < 3:
        raise b.error(f"input must have rank 3 or more, got {r}")
    return list(range(1, r - 1)) if _channels_last(b) else list(range(2, r))


@converter("QLinearGlobalAveragePool", domain=MS_DOMAIN)
def convert_qlinear_global_average_pool(b: NodeBuilder) -> list[SSAValue]:
    """An exact int32 sum over the image, scaled by sx / (sy * n) (onnxruntime's order)."""
    x = b.input(0)
    axes = _spatial_axes(b, x)
    total = b.make(g.ReduceSumOp, [centered(b, x, scalar_param(b, b.input(2), "x_zero_point"))], axes=axes, keepdims=True)
    count = int(np.prod([shape(x)[a] for a in axes]))
    sx = scalar_param(b, b.input(1), "x_scale")
    sy, zy, to = _output_params(b, 3, 4, x)
    scale = binary(b, g.DivOp, sx, binary(b, g.MulOp, sy, scalar(b, float(count), sy)))
    return [requantize(b, total, scale, zy, to)]


def _channels_first(b: NodeBuilder, x: SSAValue) -> SSAValue:
    """x as NC... (transposed from N...C when the node is channels_last)."""
    r = rank(x)
    return transpose(b, x, [0, r - 1, *range(1, r - 1)]) if _channels_last(b) else x


def _as_node_layout(b: NodeBuilder, y: SSAValue) -> SSAValue:
    """y (NC...) back in the node's layout."""
    r = rank(y)
    return transpose(b, y, [0, *range(2, r), 1]) if _channels_last(b) else y


@converter("QLinearConv", domain=MS_DOMAIN)
def convert_ms_qlinear_conv(b: NodeBuilder) -> list[SSAValue]:
    """ONNX's QLinearConv, on N...C data when channels_last (onnxruntime's NHWC
    transformer writes it in the models its sessions save at the highest level)."""
    return [_as_node_layout(b, qlinear_conv(b, _channels_first(b, b.input(0))))]


@converter("QLinearAveragePool", domain=MS_DOMAIN)
def convert_qlinear_average_pool(b: NodeBuilder) -> list[SSAValue]:
    y = _as_node_layout(b, average_pool(b, _channels_first(b, _dq(b, 0, 1, 2))))
    sy, zy, to = _output_params(b, 3, 4, b.input(0))
    return [_saturate_biased(b, binary(b, g.DivOp, y, sy), zy, to)]


@converter("QLinearReduceMean", domain=MS_DOMAIN)
def convert_qlinear_reduce_mean(b: NodeBuilder) -> list[SSAValue]:
    x = _dq(b, 0, 1, 2)
    axes = b.ints_attr("axes") or list(range(rank(x)))
    axes = sorted({norm_axis(b, a, rank(x)) for a in axes})
    y = b.make(g.ReduceMeanOp, [x], axes=axes, keepdims=bool(b.attr("keepdims", 1)))
    return [_q(b, y, 3, 4, b.input(0))]


@converter("QLinearSoftmax", domain=MS_DOMAIN)
def convert_qlinear_softmax(b: NodeBuilder) -> list[SSAValue]:
    """Softmax of dq(x) as ONNX's Softmax at the `opset` attribute defines it; the
    probabilities are scaled by floor(1 / y_scale), as onnxruntime's kernel does."""
    probs = softmax_like(b, g.SoftmaxOp, _dq(b, 0, 1, 2), int(b.required_attr("opset", kind=INT)))
    sy = scalar_param(b, b.input(3), "y_scale")
    zy = scalar_param(b, b.input(4), "y_zero_point")
    steps = b.make(g.FloorOp, [binary(b, g.DivOp, scalar(b, 1.0, sy), sy)])
    return [saturate(b, binary(b, g.MulOp, probs, steps), zy, elem(zy))]


# Concat --------------------------------------------------------------------------


def _same_constant(a: SSAValue | None, c: SSAValue | None) -> bool:
    """Both absent, or constants of equal value (an absent zero point is 0)."""
    va = np.zeros(()) if a is None else constant_value(a)
    vc = np.zeros(()) if c is None else constant_value(c)
    return va is not None and vc is not None and bool(np.array_equal(va, vc))


@converter("QLinearConcat", domain=MS_DOMAIN)
def convert_qlinear_concat(b: NodeBuilder) -> list[SSAValue]:
    """Inputs are (Y_scale, Y_zero_point, then x, scale, zero point per tensor); each
    tensor is requantized to the output's parameters unless it already has them."""
    count, extra = divmod(len(b.node.input) - 2, 3)
    if count < 1 or extra:
        raise b.error("inputs must be Y_scale, Y_zero_point, then (tensor, scale, zero point) triples")
    sy = scalar_param(b, b.input(0), "Y_scale")
    zy = _opt_param(b, 1, "Y_zero_point")
    parts = []
    for k in range(count):
        x = b.input(2 + 3 * k)
        sx = scalar_param(b, b.input(3 + 3 * k), f"the scale of input {k}")
        zx = _opt_param(b, 4 + 3 * k, f"the zero point of input {k}")
        if _same_constant(sx, sy) and _same_constant(zx, zy):
            parts.append(x)
        else:
            parts.append(quantize(b, dequantize(b, x, sx, zx), sy, zy, elem(x) if zy is None else elem(zy)))
    if len({rank(p) for p in parts}) != 1:
        raise b.error(f"inputs have different ranks {[rank(p) for p in parts]}")
    axis = norm_axis(b, int(b.required_attr("axis", kind=INT)), rank(parts[0]))
    return [parts[0] if len(parts) == 1 else b.make(g.ConcatOp, parts, axis=axis)]


# Gemm ------------------------------------------------------------------------------


def _b_scale(b: NodeBuilder, scale: SSAValue, n: int) -> SSAValue:
    """b_scale as rank 0 (per tensor) or [N] (per column, broadcast over rows)."""
    size = int(np.prod(shape(scale))) if shape(scale) else 1
    if size == 1:
        return reshape(b, scale, [])
    if rank(scale) != 1 or size != n:
        raise b.error(f"b_scale must hold one value or one per column ({n}), got shape {shape(scale)}")
    return scale


@converter("QGemm", domain=MS_DOMAIN)
def convert_qgemm(b: NodeBuilder) -> list[SSAValue]:
    """alpha * (A - za) (B - zb) + C in int32, requantized (or scaled to float without y_scale)."""
    a, w = gemm_operands(b, b.input(0), b.input(3))
    ac, wc = matmul_operands(b, a, b.input(2), w, b.input(5))
    acc = matmul(b, ac, wc)
    if b.has_input(6):
        bias = b.input(6)
        if elem(bias) != I32:
            raise b.error(f"C must be int32, got {elem(bias)}")
        acc = binary(b, g.AddOp, acc, bias)
    sa = scalar_param(b, b.input(1), "a_scale")
    alpha = float(b.attr("alpha", 1.0))
    if alpha != 1.0:
        sa = binary(b, g.MulOp, scalar(b, alpha, sa), sa)
    sb = _b_scale(b, b.input(4), shape(wc)[1])
    if not b.has_input(7):
        return [binary(b, g.MulOp, cast(b, acc, F32), binary(b, g.MulOp, sa, sb))]
    if not b.has_input(8):
        raise b.error("y_scale needs y_zero_point (it gives the output type)")
    sy, zy = scalar_param(b, b.input(7), "y_scale"), scalar_param(b, b.input(8), "y_zero_point")
    return [requantize(b, acc, requant_multiplier(b, sa, sb, sy), zy, elem(zy))]


# QuantizeLinear / DequantizeLinear ------------------------------------------------------


def _per_axis(b: NodeBuilder, x: SSAValue) -> tuple[SSAValue, SSAValue | None]:
    """The scale and optional zero point (inputs 1, 2) shaped to broadcast against x."""
    axis = int(b.attr("axis", 1))
    zp = b.opt_input(2)
    return broadcast_param(b, b.input(1), x, axis), None if zp is None else broadcast_param(b, zp, x, axis)


@converter("DequantizeLinear", domain=MS_DOMAIN)
def convert_ms_dequantize_linear(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if b.has_input(2) and elem(b.input(2)) != elem(x):
        raise b.error(f"zero point type {elem(b.input(2))} differs from the input's {elem(x)}")
    scale, zp = _per_axis(b, x)
    return [dequantize(b, x, scale, zp)]


@converter("QuantizeLinear", domain=MS_DOMAIN)
def convert_ms_quantize_linear(b: NodeBuilder) -> list[SSAValue]:
    """The output type is the zero point's (uint8 without one)."""
    refuse_four_bit_output(b)
    x = b.input(0)
    scale, zp = _per_axis(b, x)
    return [quantize(b, x, scale, zp, U8 if zp is None else elem(zp))]
