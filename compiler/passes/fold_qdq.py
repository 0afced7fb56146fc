"""`fold-qdq`: folds dequantize -> conv/matmul (QDQ) into integer ops.

The frontend imports DequantizeLinear as `float(q) * scale` (q the int32
of the quantized tensor minus its zero point, `graph.cast` to float then
`graph.mul` by a constant scale), so a QDQ conv reads

    conv(cast_f32(xq) * sx, cast_f32(wq) * sw [, cast_f32(bq) * sb])

This pass rewrites it as an int32 conv of the integer operands, scaled once:

    cast_f32(conv_i32(xq, wq [, bq])) * (sx * sw)

which is exact int32 accumulation (what onnxruntime's QLinearConv computes)
instead of a float conv of dequantized values. The int32 bias folds in when
its scale is sx * sw, as onnxruntime's quantizer writes it; any other bias is
added after the scaling. `sx` must be one value; `sw` may be per output
channel. Matmuls fold alike (`sb` one value or one per column), also when
the weight is read through a 2-D transpose (Gemm with transB=1): the int32
weight is transposed instead.

The QuantizeLinear after such an op divides by its scale `sy`; the pass turns
`(float(acc) * m) / sy` into `float(acc) * (m / sy)` with the multiplier in
float32, onnxruntime's requantization, so that the rounding matches its
fused kernels. The rest of the requantization (round, zero point, clip,
cast) is elementwise and fuses into the conv or matmul as its epilogue
(`fuse-ops`).

The int32 accumulation must not overflow: an op does not fold when
K * max|x| * max|w| (+ max|bias|) may reach 2^31, the magnitudes bounded by the
quantized types and zero points the integer operands come from (or the values
of constants; an operand with no such bound, an int32 graph input, is taken
as the model's producer meant it and folds). 8-bit operands always fit;
16-bit activations multiplied by each other (attention's Q K^T in a QDQ model
with 16-bit activations) do not, and stay float products of the dequantized
values, as onnxruntime computes them.

It runs before `fold-constants` (the dequantization of constant weights must
still be visible) and leaves the interpreter's result equal up to float
rounding of the dequantized product, which integer accumulation removes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, IntegerType, ModuleOp, Signedness, TensorType
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
from compiler.passes.constants import constant_array, make_constant

I32 = IntegerType(32)
F32 = Float32Type()
_LAYOUT_PROPS = ("data_layout", "kernel_layout", "out_layout")


def _dequantized(value: SSAValue) -> tuple[SSAValue, np.ndarray] | None:
    """(q, scale) when value = cast_f32(q) * scale with q int32 and a constant scale."""
    mul = value.owner
    if not isinstance(mul, g.MulOp) or g.elem_of(value) != F32:
        return None
    for cast, scale in ((mul.lhs, mul.rhs), (mul.rhs, mul.lhs)):
        s = constant_array(scale)
        if s is None or not isinstance(cast.owner, g.CastOp):
            continue
        q = cast.owner.input
        if g.elem_of(q) == I32 and g.shape_of(q) == g.shape_of(value):
            return q, np.asarray(s, dtype=np.float32)
    return None


def _dequantized_transposed(value: SSAValue) -> tuple[SSAValue, np.ndarray] | None:
    """(q, transposed scale) when value = transpose(cast_f32(q) * scale) of a 2-D weight:
    a Gemm with transB=1 reads its [N, K] weight (per-row scales) this way. The
    caller transposes q once it folds (an op built and left unused would stay a
    use of q)."""
    t = value.owner
    if not isinstance(t, g.TransposeOp) or list(t.perm.get_values()) != [1, 0]:
        return None
    d = _dequantized(t.input)
    if d is None:
        return None
    q, scale = d
    full = scale.reshape((1,) * (2 - scale.ndim) + scale.shape) if scale.ndim <= 2 else None
    if full is None:
        return None
    return q, np.ascontiguousarray(full.T)


INT32_LIMIT = 2**31 - 1


def _magnitude(value: SSAValue) -> int | None:
    """A bound of |value| for an integer operand: from a constant's values, an integer
    cast's source type, a difference of bounded values, or through a transpose or
    reshape; None when nothing bounds it."""
    const = constant_array(value)
    if const is not None:
        return int(np.abs(np.asarray(const, np.int64)).max(initial=0))
    owner = value.owner
    if isinstance(owner, g.CastOp):
        source = g.elem_of(owner.input)
        if isinstance(source, IntegerType) and source.width.data < 32:
            if source.signedness.data == Signedness.UNSIGNED:
                return 2**source.width.data - 1
            return 2 ** (source.width.data - 1)
        return None
    if isinstance(owner, g.SubOp | g.AddOp):
        lhs, rhs = _magnitude(owner.lhs), _magnitude(owner.rhs)
        return None if lhs is None or rhs is None else lhs + rhs
    if isinstance(owner, g.TransposeOp | g.ReshapeOp):
        return _magnitude(owner.operands[0])
    return None


def _fits_int32(terms: int, x: SSAValue, w: SSAValue, bias: SSAValue | None = None) -> bool:
    """Whether a sum of `terms` products x * w (plus the bias) stays within int32,
    as far as the operands' bounds tell (an unbounded operand does not refuse)."""
    mx, mw = _magnitude(x), _magnitude(w)
    mb = 0 if bias is None else _magnitude(bias)
    if mx is None or mw is None or mb is None:
        return True
    return terms * mx * mw + mb <= INT32_LIMIT


def _one(scale: np.ndarray) -> float | None:
    return float(scale.reshape(-1)[0]) if scale.size == 1 else None


def _per_channel(scale: np.ndarray, rank: int, dim: int, channels: int) -> np.ndarray | None:
    """`scale` as a [channels] vector if it only varies along `dim` of a rank-`rank` tensor."""
    if scale.size == 1:
        return np.full(channels, scale.reshape(-1)[0], np.float32)
    full = scale.reshape((1,) * (rank - scale.ndim) + scale.shape)
    if any(n != 1 and not (d == dim and n == channels) for d, n in enumerate(full.shape)):
        return None
    return np.broadcast_to(full.reshape(-1), (channels,)).astype(np.float32)


@dataclass
class _Scaled:
    """What replaces the float op: float(acc) * multiplier [+ bias]."""

    new_ops: list[Operation]
    result: SSAValue


def _scale_result(acc: SSAValue, multiplier: np.ndarray, shape: list[int], float_bias: SSAValue | None) -> _Scaled:
    ops: list[Operation] = []
    cast = g.CastOp.make([acc], [TensorType(F32, list(g.shape_of(acc)))])
    m = make_constant(multiplier.reshape(shape), TensorType(F32, shape))
    mul = g.MulOp.make([cast.result, m.result])
    ops += [cast, m, mul]
    result = mul.result
    if float_bias is not None:
        bias = g.AddOp.make([result, float_bias])
        ops.append(bias)
        result = bias.result
    return _Scaled(ops, result)


class FoldQdqConv(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if any(name in op.properties for name in _LAYOUT_PROPS) or g.elem_of(op.result) != F32:
            return
        x, w = _dequantized(op.input), _dequantized(op.weight)
        if x is None or w is None or _one(x[1]) is None:
            return
        channels = g.shape_of(op.weight)[0]
        sw = _per_channel(w[1], 4, 0, channels)
        if sw is None:
            return
        terms = int(np.prod(g.shape_of(op.weight)[1:]))
        if not _fits_int32(terms, x[0], w[0]):
            return
        multiplier = np.float32(_one(x[1])) * sw
        operands = [x[0], w[0]]
        float_bias = op.bias
        if op.bias is not None:
            b = _dequantized(op.bias)
            if (
                b is not None
                and np.array_equal(_per_channel(b[1], 1, 0, channels), multiplier)
                and _fits_int32(terms, x[0], w[0], b[0])
            ):
                operands.append(b[0])
                float_bias = None
            else:
                float_bias = g.ReshapeOp.make([op.bias], [TensorType(F32, [1, channels, 1, 1])]).result
        acc = g.ConvOp.make(operands, None, **op.properties)
        new_ops: list[Operation] = [acc]
        if float_bias is not None:
            assert isinstance(float_bias.owner, Operation)
            new_ops.append(float_bias.owner)
        scaled = _scale_result(acc.result, multiplier, [1, channels, 1, 1], float_bias)
        rewriter.replace(op, [*new_ops, *scaled.new_ops], [scaled.result])


class FoldQdqMatMul(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.MatMulOp, rewriter: PatternRewriter) -> None:
        if g.elem_of(op.result) != F32:
            return
        a, b = _dequantized(op.lhs), _dequantized(op.rhs)
        transposed = b is None and (b := _dequantized_transposed(op.rhs)) is not None
        if a is None or b is None or _one(a[1]) is None:
            return
        rank_b, cols = len(g.shape_of(op.rhs)), g.shape_of(op.rhs)[-1]
        sb = _per_channel(b[1], rank_b, rank_b - 1, cols)
        if sb is None or not _fits_int32(g.shape_of(op.lhs)[-1], a[0], b[0]):
            return
        pre: list[Operation] = [g.TransposeOp.make([b[0]], perm=[1, 0])] if transposed else []
        acc = g.MatMulOp.make([a[0], pre[0].results[0] if pre else b[0]])
        scaled = _scale_result(acc.result, np.float32(_one(a[1])) * sb, [cols], None)
        rewriter.replace(op, [*pre, acc, *scaled.new_ops], [scaled.result])


class FoldRequantizeMultiplier(RewritePattern):
    """(float(acc) * m) / sy -> float(acc) * (m / sy), acc an int32 conv or matmul."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.DivOp, rewriter: PatternRewriter) -> None:
        mul = op.lhs.owner
        sy = constant_array(op.rhs)
        if not isinstance(mul, g.MulOp) or sy is None or sy.size != 1 or not op.lhs.has_one_use():
            return
        cast, m = mul.lhs.owner, constant_array(mul.rhs)
        if m is None or not isinstance(cast, g.CastOp):
            return
        if not isinstance(cast.input.owner, g.ConvOp | g.MatMulOp) or g.elem_of(cast.input) != I32:
            return
        folded = (np.asarray(m, np.float32) / np.float32(sy.reshape(-1)[0])).astype(np.float32)
        const = make_constant(folded, mul.rhs.type)
        new_mul = g.MulOp.make([mul.lhs, const.result])
        rewriter.replace(op, [const, new_mul], [new_mul.result])
        rewriter.erase(mul)


@dataclass(frozen=True)
class FoldQdqPass(ModulePass):
    name = "fold-qdq"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([FoldQdqConv(), FoldQdqMatMul(), FoldRequantizeMultiplier()]),
            apply_recursively=True,
        ).rewrite_module(op)
