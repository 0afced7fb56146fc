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
from onnx import AttributeProto
from xdsl.dialects.builtin import Float32Type
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, converter
from compiler.frontend.onnx_ops.attention import slice_last
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    rank,
    reshape,
    scalar,
    shape,
    transpose,
)
from compiler.frontend.onnx_ops.nn import matmul
from compiler.frontend.onnx_ops.quant import I32, centered, dynamic_quantize, scalar_param

F32 = Float32Type()
INT = AttributeProto.INT


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


# MatMulNBits -----------------------------------------------------------------------------


def _unpack(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """The first `count` `bits`-wide values of each row of bytes, low bits first."""
    per_byte = 8 // bits
    shifts = (np.arange(per_byte, dtype=np.uint8) * bits).astype(np.uint8)
    values = (packed[..., None] >> shifts) & np.uint8((1 << bits) - 1)
    return values.reshape(*packed.shape[:-1], -1)[..., :count]


def nbits_weight(b: NodeBuilder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MatMulNBits' B as (q [N, blocks * block_size] uint8, zero points [N, blocks] uint8,
    scales [N, blocks] float32), checked against the attributes K, N, bits, block_size.
    A missing zero point is 2^(bits - 1), the middle of the range."""
    k, n = int(b.required_attr("K", kind=INT)), int(b.required_attr("N", kind=INT))
    bits, block = int(b.attr("bits", 4)), int(b.required_attr("block_size", kind=INT))
    if bits not in (2, 4, 8):
        raise b.error(f"bits={bits} is not supported (2, 4 and 8 are)")
    if block < 16 or block & (block - 1):
        raise b.error(f"block_size must be a power of 2 of at least 16, got {block}")
    blocks = -(-k // block)
    packed = b.const_input(1, "B")
    if packed.dtype != np.uint8 or packed.size != n * blocks * block * bits // 8:
        raise b.error(f"B must hold N * ceil(K / block_size) * block_size * bits / 8 = "
                      f"{n * blocks * block * bits // 8} uint8 values, got {packed.size} {packed.dtype}")
    q = _unpack(packed.reshape(n, blocks * block * bits // 8), bits, blocks * block)
    scales = b.const_input(2, "scales")
    if scales.dtype != np.float32 or scales.size != n * blocks:
        raise b.error(f"scales must hold N * ceil(K / block_size) = {n * blocks} float32 values, got {scales.size} {scales.dtype}")
    if b.has_input(3):
        zp = b.const_input(3, "zero_points")
        if zp.dtype != np.uint8:
            raise b.error(f"zero_points must be packed uint8, got {zp.dtype}",
                          hint="float zero points (HQQ) are not supported")
        zero = _unpack(zp.reshape(n, -1), bits, blocks)
    else:
        zero = np.full((n, blocks), 1 << (bits - 1), np.uint8)
    return q, zero, scales.reshape(n, blocks)


def _int8_blocks(b: NodeBuilder, a: SSAValue, blocks: int, block: int) -> tuple[SSAValue, SSAValue]:
    """A [M, K] quantized to int8 per block of K as onnxruntime's CompInt8 kernels do:
    scale = max|a| / 127, q = round_half_even(a * (127 / max|a|)) (0 for an all-zero
    block). Returns (q [blocks, M, block] int32, scale [blocks, M, 1])."""
    m, k = shape(a)
    if k < blocks * block:
        a = b.make(g.ConcatOp, [a, b.constant(np.zeros((m, blocks * block - k), np.float32))], axis=1)
    a = transpose(b, reshape(b, a, [m, blocks, block]), [1, 0, 2])
    amax = b.make(g.ReduceMaxOp, [b.make(g.AbsOp, [a])], axes=[2], keepdims=True)
    zero, limit = scalar(b, 0.0, a), scalar(b, 127.0, a)
    inverse = b.make(g.WhereOp, [b.make(g.EqualOp, [amax, zero]), zero, binary(b, g.DivOp, limit, amax)])
    q = cast(b, b.make(g.RoundOp, [binary(b, g.MulOp, a, inverse)]), I32)
    return q, binary(b, g.DivOp, amax, limit)


@converter("MatMulNBits", domain=MS_DOMAIN)
def convert_matmul_nbits(b: NodeBuilder) -> list[SSAValue]:
    """A @ dequantized(B)^T (+ bias), B's [N, K] values (q - zero point) * scale per block
    of `block_size` along K. With accuracy_level 4 onnxruntime computes in int8: A is
    quantized per block too (`_int8_blocks`), each block's int32 dot product scaled by
    both scales, the blocks summed in float; otherwise it multiplies in float32."""
    a = b.input(0)
    if elem(a) != F32:
        raise b.error(f"A must be float32, got {elem(a)}")
    if b.has_input(4):
        raise b.error("g_idx (act-order) is not supported")
    q, zero, scales = nbits_weight(b)
    k = int(b.required_attr("K", kind=INT))
    if rank(a) < 2 or shape(a)[-1] != k:
        raise b.error(f"A must have K = {k} columns, got shape {shape(a)}")
    n, blocks = scales.shape
    block = q.shape[1] // blocks
    # q and the zero points stay integer constants (fold-constants folds what depends on them alone).
    qi = cast(b, b.constant(q.reshape(n, blocks, block)), I32)
    centered_q = binary(b, g.SubOp, qi, cast(b, b.constant(zero.reshape(n, blocks, 1)), I32))
    if int(b.attr("accuracy_level", 0)) == 4:
        rows = int(np.prod(shape(a)[:-1]))
        qa, sa = _int8_blocks(b, reshape(b, a, [rows, k]), blocks, block)
        dots = b.make(g.MatMulOp, [qa, transpose(b, centered_q, [1, 2, 0])])
        sb = b.constant(np.ascontiguousarray(scales.T).reshape(blocks, 1, n))
        scaled = binary(b, g.MulOp, cast(b, dots, F32), binary(b, g.MulOp, sa, sb))
        y = reshape(b, b.make(g.ReduceSumOp, [scaled], axes=[0], keepdims=False), [*shape(a)[:-1], n])
    else:
        w = binary(b, g.MulOp, cast(b, centered_q, F32), b.constant(scales.reshape(n, blocks, 1)))
        w = slice_last(b, reshape(b, w, [n, blocks * block]), 0, k)
        y = matmul(b, a, transpose(b, w, [1, 0]))
    if b.has_input(5):
        y = binary(b, g.AddOp, y, b.input(5))
    return [y]
