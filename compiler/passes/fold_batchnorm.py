"""`fold-batchnorm`: folds inference batch norms (and per-channel scales and
shifts) into the weights and bias of the conv or matmul before them.

After it no `graph.batch_norm` remains: one that follows a foldable
conv/matmul disappears into it, any other becomes `x * a + b` with
per-channel vectors, which then fuses with its neighbours as elementwise ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.passes.constants import constant_array, erase_dead_constants, make_constant

# Conv properties whose non-default values put the weight in a layout where a
# per-output-channel scale is no longer `w[o, :, :, :]` (set by convert-layout).
_DEFAULT_LAYOUTS = {"data_layout": "NCHW", "kernel_layout": "OIHW", "out_layout": "NCHW"}


def _channel_vector(c: np.ndarray, rank: int, channels: int) -> np.ndarray | None:
    """`c` as a [channels] vector, if against a rank-`rank` N x C x ... tensor it
    broadcasts along every dim but the channel dim 1; else None."""
    if c.ndim > rank:
        return None
    full = c.reshape((1,) * (rank - c.ndim) + c.shape)
    for d, n in enumerate(full.shape):
        if n != 1 and not (d == 1 and n == channels):
            return None
    return np.broadcast_to(full.reshape(-1), (channels,))


def _plain_layout(conv: g.ConvOp) -> bool:
    for name, default in _DEFAULT_LAYOUTS.items():
        attr = conv.properties.get(name) or conv.attributes.get(name)
        if attr is not None and getattr(attr, "data", None) != default:
            return False
    return True


def _fold_into_conv(
    conv: g.ConvOp,
    scale: np.ndarray | None,
    shift: np.ndarray | None,
    target: Operation,
    rewriter: PatternRewriter,
    bias_hint: str | None = None,
) -> bool:
    """Replaces `target`, the only user of `conv`, by one conv computing
    conv(x) * scale + shift (per output channel; None: 1 and 0); False if illegal.

    The new weight is w * scale per output channel and the new bias
    b * scale + shift: a scale needs a constant weight, and an existing bias
    must be constant.
    """
    if not conv.result.has_one_use() or not _plain_layout(conv):
        return False
    weight = constant_array(conv.weight)
    if scale is not None and weight is None:
        return False
    bias = constant_array(conv.bias) if conv.bias is not None else None
    if conv.bias is not None and bias is None:
        return False
    channels = g.shape_of(conv.result)[1]
    elem = g.elem_of(conv.result)

    new_ops: list[Operation] = []
    new_weight: SSAValue = conv.weight
    if scale is not None:
        assert weight is not None
        scaled = weight.astype(np.float64) * scale.reshape(-1, 1, 1, 1)
        weight_op = make_constant(scaled, conv.weight.type, conv.weight.name_hint)
        new_ops.append(weight_op)
        new_weight = weight_op.result

    new_bias_array: np.ndarray | None = None if bias is None else bias.astype(np.float64)
    if scale is not None and new_bias_array is not None:
        new_bias_array = new_bias_array * scale
    if shift is not None:
        new_bias_array = shift if new_bias_array is None else new_bias_array + shift
    operands = [conv.input, new_weight]
    if new_bias_array is not None:
        hint = conv.bias.name_hint if conv.bias is not None else bias_hint
        bias_op = make_constant(new_bias_array, TensorType(elem, [channels]), hint)
        new_ops.append(bias_op)
        operands.append(bias_op.result)
    elif conv.bias is not None:
        operands.append(conv.bias)

    new_conv = g.ConvOp.make(operands, None, **conv.properties)
    new_conv.attributes.update(conv.attributes)
    old_operands = list(conv.operands)
    rewriter.replace(target, [*new_ops, new_conv], [new_conv.result])
    rewriter.erase(conv)
    erase_dead_constants(rewriter, old_operands)
    return True


def _fold_into_matmul(
    matmul: g.MatMulOp,
    scale: np.ndarray,
    shift: np.ndarray,
    target: Operation,
    rewriter: PatternRewriter,
    bias_hint: str | None = None,
) -> bool:
    """Replaces `target`, the only user of a 2-D `matmul` with a constant weight,
    by matmul(x, w * scale) + shift (scale and shift per column); False if illegal."""
    if not matmul.result.has_one_use() or len(g.shape_of(matmul.result)) != 2:
        return False
    weight = constant_array(matmul.rhs)
    if weight is None or weight.ndim != 2:
        return False
    weight_op = make_constant(weight.astype(np.float64) * scale, matmul.rhs.type, matmul.rhs.name_hint)
    columns = g.shape_of(matmul.result)[1]
    bias_op = make_constant(shift, TensorType(g.elem_of(matmul.result), [columns]), bias_hint)
    new_matmul = g.MatMulOp.make([matmul.lhs, weight_op.result])
    add = g.AddOp.make([new_matmul.result, bias_op.result])
    old_weight = matmul.rhs
    rewriter.replace(target, [weight_op, bias_op, new_matmul, add], [add.result])
    rewriter.erase(matmul)
    erase_dead_constants(rewriter, [old_weight])
    return True


def _decompose(op: g.BatchNormOp, rewriter: PatternRewriter) -> None:
    """batch_norm with non-constant parameters -> x * inv + shift, computing
    inv = scale / sqrt(var + eps) and shift = bias - mean * inv with graph ops."""
    elem = g.elem_of(op.input)
    shape = g.shape_of(op.input)
    eps = g.ConstantOp(dtypes.dense_splat(np.asarray(op.float_prop("epsilon")), [], elem))
    eps.result.name_hint = "eps"
    var_eps = g.AddOp.make([op.var, eps.result])
    std = g.SqrtOp.make([var_eps.result])
    inv = g.DivOp.make([op.scale, std.result])
    mean_inv = g.MulOp.make([op.mean, inv.result])
    shift = g.SubOp.make([op.bias, mean_inv.result])
    ops: list[Operation] = [eps, var_eps, std, inv, mean_inv, shift]
    inv_v, shift_v = inv.result, shift.result
    vector_type = TensorType(elem, [shape[1]] + [1] * (len(shape) - 2))
    if vector_type != inv_v.type:
        inv_r = g.ReshapeOp.make([inv_v], [vector_type])
        shift_r = g.ReshapeOp.make([shift_v], [vector_type])
        ops += [inv_r, shift_r]
        inv_v, shift_v = inv_r.result, shift_r.result
    mul = g.MulOp.make([op.input, inv_v])
    add = g.AddOp.make([mul.result, shift_v])
    rewriter.replace(op, [*ops, mul, add], [add.result])


class FoldBatchNorm(RewritePattern):
    """graph.batch_norm -> nothing (folded into the conv/matmul before it) or mul + add."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.BatchNormOp, rewriter: PatternRewriter, /) -> None:
        params = [op.scale, op.bias, op.mean, op.var]
        arrays = [constant_array(v) for v in params]
        if any(a is None for a in arrays):
            _decompose(op, rewriter)
            return
        scale, beta, mean, var = (np.asarray(a, dtype=np.float64) for a in arrays)
        # In float64 so that the folded weights round once, to the element type.
        inv = scale / np.sqrt(var + op.float_prop("epsilon"))
        shift = beta - mean * inv
        producer = op.input.owner
        hint = op.bias.name_hint
        if isinstance(producer, g.ConvOp) and _fold_into_conv(producer, inv, shift, op, rewriter, hint):
            erase_dead_constants(rewriter, params)
            return
        if isinstance(producer, g.MatMulOp) and _fold_into_matmul(producer, inv, shift, op, rewriter, hint):
            erase_dead_constants(rewriter, params)
            return
        shape = g.shape_of(op.input)
        vector_type = TensorType(g.elem_of(op.input), [shape[1]] + [1] * (len(shape) - 2))
        inv_op = make_constant(inv.reshape(vector_type.get_shape()), vector_type, op.scale.name_hint)
        shift_op = make_constant(shift.reshape(vector_type.get_shape()), vector_type, op.bias.name_hint)
        mul = g.MulOp.make([op.input, inv_op.result])
        add = g.AddOp.make([mul.result, shift_op.result])
        rewriter.replace(op, [inv_op, shift_op, mul, add], [add.result])
        erase_dead_constants(rewriter, params)


def _split_constant(op: Operation) -> tuple[int, np.ndarray] | None:
    """(index of the non-constant operand, value of the constant one) of a binary op."""
    for i in (0, 1):
        c = constant_array(op.operands[1 - i])
        if c is not None:
            return i, c
    return None


class FoldScaleShiftIntoConv(RewritePattern):
    """conv(x) * c, conv(x) + c, conv(x) - c with a per-output-channel constant c
    -> one conv with rescaled weight / shifted bias (how DenseNet-121 and
    Inception-v2 express the affine part of their batch norms)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not isinstance(op, g.MulOp | g.AddOp | g.SubOp):
            return
        for conv_side in (0, 1):
            if isinstance(op, g.SubOp) and conv_side == 1:
                break  # c - conv(x) negates the weight; not worth a special case
            conv = op.operands[conv_side].owner
            other = op.operands[1 - conv_side]
            c = constant_array(other)
            if not isinstance(conv, g.ConvOp) or c is None or op.results[0].type != conv.result.type:
                continue
            vector = _channel_vector(c, 4, g.shape_of(conv.result)[1])
            if vector is None:
                continue
            vector = vector.astype(np.float64)
            scale = vector if isinstance(op, g.MulOp) else None
            shift = None if scale is not None else (-vector if isinstance(op, g.SubOp) else vector)
            if _fold_into_conv(conv, scale, shift, op, rewriter, other.name_hint):
                erase_dead_constants(rewriter, [other])
                return


class CombineScaleShiftChain(RewritePattern):
    """Merges chains of multiplications and additions by constants:
    (x * a) * b -> x * (a*b), (x + a) + b -> x + (a+b), (x + a) * b -> x * b + (a*b),
    so that a decomposed batch norm followed by a scale and shift (DenseNet-121's
    BN + Mul + Add) is one mul and one add. Floating-point only; the inner op
    must have no other user, and the merged constant may not be bigger than
    the larger of the two."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not isinstance(op, g.MulOp | g.AddOp) or not dtypes.is_float(g.elem_of(op.results[0])):
            return
        outer = _split_constant(op)
        if outer is None:
            return
        side, b = outer
        inner_value = op.operands[side]
        inner = inner_value.owner
        if not isinstance(inner, g.MulOp | g.AddOp) or not inner_value.has_one_use():
            return
        if isinstance(op, g.AddOp) and isinstance(inner, g.MulOp):
            return  # x * a + b is the canonical form
        split = _split_constant(inner)
        if split is None:
            return
        inner_side, a = split
        x = inner.operands[inner_side]
        merged_shape = np.broadcast_shapes(a.shape, b.shape)
        if math.prod(merged_shape) > max(a.size, b.size):
            return
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        merged = a64 + b64 if isinstance(op, g.AddOp) else a64 * b64
        b_value = op.operands[1 - side]
        merged_op = make_constant(merged, TensorType(g.elem_of(x), list(merged_shape)), b_value.name_hint)
        a_value = inner.operands[1 - inner_side]
        if isinstance(inner, g.AddOp) and isinstance(op, g.MulOp):
            scaled = g.MulOp.make([x, b_value])
            new_ops: list[Operation] = [merged_op, scaled, g.AddOp.make([scaled.result, merged_op.result])]
        else:
            new_ops = [merged_op, type(op).make([x, merged_op.result])]
        rewriter.replace(op, new_ops, [new_ops[-1].results[0]])
        rewriter.erase(inner)
        erase_dead_constants(rewriter, [a_value, b_value])


@dataclass(frozen=True)
class FoldBatchNormPass(ModulePass):
    """Folds graph.batch_norm into the graph.conv (or 2-D graph.matmul with a
    constant weight) before it when that op has no other user; any other batch
    norm becomes a mul and an add by per-channel constants (or, if its
    parameters are not constants, the same computed with graph ops). Also
    folds a per-channel constant mul/add/sub straight after a conv into its
    weight/bias and merges chains of constant muls and adds. No
    graph.batch_norm remains. Convs in a blocked layout (after convert-layout)
    are left alone, so run it before convert-layout.

    `chains=false` leaves constant mul/add chains that no conv absorbs as they
    are: the precision pipeline folds batch norms in f32 that way without
    moving the scales of attention or of a layer norm, whose place decides
    what convert-precision keeps in f32."""

    name = "fold-batchnorm"

    chains: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns: list[RewritePattern] = [FoldBatchNorm(), FoldScaleShiftIntoConv()]
        if self.chains:
            patterns.append(CombineScaleShiftChain())
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns), apply_recursively=True).rewrite_module(op)
