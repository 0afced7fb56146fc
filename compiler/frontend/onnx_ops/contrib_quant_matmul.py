"""Converters of onnxruntime's integer matmul contrib ops with float outputs
(domain com.microsoft).

A session of onnxruntime saves these (at ORT_ENABLE_EXTENDED and above) in place
of what `quantize_dynamic` writes: DynamicQuantizeLinear -> MatMulInteger ->
Cast -> Mul (-> Add) becomes one DynamicQuantizeMatMul, or MatMulIntegerToFloat
where one DynamicQuantizeLinear feeds several matmuls. With onnxruntime's CPU
kernels' formulas:

    MatMulIntegerToFloat   float(int32 (A - za)(B - zb)) * (a_scale * b_scale) (+ bias)
    DynamicQuantizeMatMul  the same, A quantized first to uint8 over its range
                           widened to hold 0 (DynamicQuantizeLinear's formula)

The product accumulates exactly in int32; the multiplier a_scale * b_scale is
one float32 product (per column when b's scale is), applied to the float of
the accumulator before the bias is added, as MLAS's scale-bias output
processor does. b's scale and zero point are per tensor or per column (N).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import Float32Type
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary, cast, elem, rank, reshape, shape
from compiler.frontend.onnx_ops.nn import matmul
from compiler.frontend.onnx_ops.quant import centered, dynamic_quantize, scalar_param

F32 = Float32Type()


def per_column(b: NodeBuilder, param: SSAValue, n: int, what: str) -> SSAValue:
    """A weight's scale or zero point as rank 0 (per tensor) or [N] (per column)."""
    size = int(np.prod(shape(param))) if shape(param) else 1
    if size == 1:
        return reshape(b, param, [])
    if rank(param) != 1 or size != n:
        raise b.error(f"{what} must hold one value or one per column ({n}), got shape {shape(param)}")
    return param


def integer_matmul_to_float(
    b: NodeBuilder,
    a: SSAValue,
    a_scale: SSAValue,
    a_zp: SSAValue | None,
    w_input: int,
    w_scale_input: int,
    w_zp_input: int,
    bias_input: int,
) -> SSAValue:
    """float(int32 (a - a_zp) @ (w - w_zp)) * (a_scale * w_scale) (+ bias), w and its
    parameters (and the optional bias) read from the node's inputs at those indices."""
    w = b.input(w_input)
    if rank(w) != 2:
        raise b.error(f"B must be a 2-D matrix, got shape {shape(w)}")
    n = shape(w)[1]
    w_zp = b.opt_input(w_zp_input)
    wc = centered(b, w, None if w_zp is None else per_column(b, w_zp, n, "the zero point of B"))
    acc = matmul(b, centered(b, a, a_zp), wc)
    w_scale = per_column(b, b.input(w_scale_input), n, "the scale of B")
    multiplier = binary(b, g.MulOp, cast(b, a_scale, F32), cast(b, w_scale, F32))
    y = binary(b, g.MulOp, cast(b, acc, F32), multiplier)
    if b.has_input(bias_input):
        bias = b.input(bias_input)
        if elem(bias) != F32 or shape(bias) != (n,):
            raise b.error(f"bias must be float32 of shape ({n},), got {elem(bias)} {shape(bias)}")
        y = binary(b, g.AddOp, y, bias)
    return y


@converter("MatMulIntegerToFloat", domain=MS_DOMAIN)
def convert_matmul_integer_to_float(b: NodeBuilder) -> list[SSAValue]:
    """Inputs: A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias."""
    a_scale = scalar_param(b, b.input(2), "a_scale")
    a_zp = b.opt_input(4)
    a_zp = None if a_zp is None else scalar_param(b, a_zp, "a_zero_point")
    return [integer_matmul_to_float(b, b.input(0), a_scale, a_zp, 1, 3, 5, 6)]


@converter("DynamicQuantizeMatMul", domain=MS_DOMAIN)
def convert_dynamic_quantize_matmul(b: NodeBuilder) -> list[SSAValue]:
    """Inputs: A (float), B, b_scale, b_zero_point, bias."""
    a, a_scale, a_zp = dynamic_quantize(b, b.input(0))
    return [integer_matmul_to_float(b, a, a_scale, a_zp, 1, 2, 3, 4)]
