"""`narrow-integer-conv`: int32 convs of 8-bit quantized data read i16 operands.

After `fold-qdq` an integer conv reads `x = int32(q) - zero_point` (q u8 or
i8, so x in [-255, 255]) and a constant int32 weight that was 8 bits
(`int32(wq) - w_zero_point`). Stored as int32, every activation costs four
times its information and the kernel multiplies 32-bit lanes (vpmulld), which
is slower than float FMAs. This pass makes the conv read `int16(x)` and an
int16 weight constant, accumulating in int32 (`graph.conv` sign-extends narrow
operands), so that the producer of x writes int16 and the kernel's schedule
may use widening integer dot products (pmaddwd: pairs of i16 products summed
into i32 lanes; vpdpbusd with VNNI).

The rewrite is exact: both operands fit in int16 (checked: x from an 8-bit
cast minus a constant 8-bit zero point, the weight by value), and the i32
products and sums are the ones the int32 conv computed.

With `u8-dot=true` (the driver sets it when the host has VNNI's vpdpbusd,
which multiplies u8 by s8), a conv whose activation is `int32(q) - zx` with
q ui8 and one constant zx in 0..255, whose weight fits in int8 and whose
input channels per group divide by 4 (vpdpbusd's group), instead reads q
itself and an i8 weight constant (`graph.conv` zero-extends ui8):

    sum_k (q - zx) * w  =  sum_k q * w  -  zx * sum_k w

so the bias (i32, made if absent) becomes `b - zx * sum(w[o])` per output
channel (ci, kh, kw summed; computed in int64 and wrapped to int32, which
is exact modulo 2^32 as the int32 accumulation is). Zero padding of q - zx
is padding q with zx: a conv with pads reads an explicit `graph.pad` of q
with value zx and pads nothing itself (`explicit-padding`, which pads with
0, then leaves it alone). Other convs take the i16 rewrite.

A conv with an odd number of input channels per group (an RGB stem: no
dot product's group divides it) would run a plain i32 multiply-add loop
(vpmulld), several times slower than float FMAs. Where every partial sum is
an integer below 2^24 in magnitude (K * max|x| * max|w| <= 2^24, K =
ci * kh * kw; |x| bounded by the 8-bit source and the zero point), float32
computes it exactly in any order, so such a conv becomes
`int32(conv_f32(float(x), float(w))) + b`. Not for 3x3 stride-1 convs,
which `winograd-conv` could transform inexactly.

vpdpbusd's activation operand is unsigned, and onnxruntime's quantize_static
writes int8 activations by default. So first, with `u8-dot`, every s8
activation that feeds a conv is stored as u8 instead, shifted by 128: a
quantization `q = cast_i8(clip(y, -128, 127))` (y a float holding an
integer) becomes `q' = cast_ui8(clip(y + 128, 0, 255))` = q + 128, and every
reader `int32(q) - zp` becomes `int32(q') - (zp + 128)` (a reader without
the subtraction: `int32(q') - 128`). The values read are the same integers,
so this is exact; it applies only where every use of q is such a widening
cast (q is not a function result, nor read as int8 by anything else).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    Float32Type,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.dialects import graph as g
from compiler.passes.constants import constant_array, make_constant

I32 = IntegerType(32)
I16 = IntegerType(16)
I8 = IntegerType(8)
UI8 = IntegerType(8, Signedness.UNSIGNED)
F32 = Float32Type()
DOT_GROUP = 4
"""Input channels that one vpdpbusd lane sums: the u8 rewrite needs a multiple."""
_LAYOUT_PROPS = ("data_layout", "kernel_layout", "out_layout")


def _bits_of_cast_source(value: SSAValue) -> int | None:
    """The width of q when value = int32(q) with q an 8/16-bit integer."""
    if not isinstance(value.owner, g.CastOp):
        return None
    src = g.elem_of(value.owner.input)
    if not isinstance(src, IntegerType) or src.width.data > 8:
        return None
    return src.width.data


def fits_i16(value: SSAValue) -> bool:
    """Whether an int32 activation provably lies in [-32767, 32767]: int32(q8) or int32(q8) - c, |c| <= 255."""
    if _bits_of_cast_source(value) is not None:
        return True
    sub = value.owner
    if not isinstance(sub, g.SubOp):
        return False
    zero_point = constant_array(sub.rhs)
    return (
        _bits_of_cast_source(sub.lhs) is not None
        and zero_point is not None
        and bool(np.all(np.abs(zero_point.astype(np.int64)) <= 255))
    )


def _scalar_constant(value: SSAValue) -> float | None:
    """The value of a constant whose elements are all one number (a broadcast scalar)."""
    array = constant_array(value)
    if array is None or array.size == 0:
        return None
    flat = np.asarray(array).reshape(-1)
    return flat[0].item() if bool(np.all(flat == flat[0])) else None


def _s8_quantization(op: Operation) -> g.ClipOp | None:
    """The clip of `cast_i8(clip(y, -128, 127))` (y float) whose every use is a cast to i32 feeding a conv."""
    if not isinstance(op, g.CastOp) or g.elem_of(op.result) != I8 or not isinstance(g.elem_of(op.input), Float32Type):
        return None
    clip = op.input.owner
    if not isinstance(clip, g.ClipOp) or clip.min is None or clip.max is None:
        return None
    if (clip.min.value.data, clip.max.value.data) != (-128.0, 127.0):
        return None
    users = [use.operation for use in op.result.uses]
    if not users or not all(isinstance(u, g.CastOp) and g.elem_of(u.result) == I32 for u in users):
        return None

    def feeds_conv(value: SSAValue) -> bool:
        for use in value.uses:
            user = use.operation
            if isinstance(user, g.ConvOp) and use.index == 0:
                return True
            if isinstance(user, g.SubOp) and use.index == 0 and feeds_conv(user.result):
                return True
        return False

    return clip if any(feeds_conv(u.results[0]) for u in users) else None


def flip_s8_activations(module: ModuleOp) -> int:
    """Stores the s8 activations that feed convs as u8 (q + 128); see the module docstring. Returns how many."""
    flipped = 0
    for op in list(module.walk()):
        clip = _s8_quantization(op)
        if clip is None:
            continue
        assert isinstance(op, g.CastOp)
        shape = list(g.shape_of(op.result))
        block = op.parent_block()
        assert block is not None
        new_ops: list[Operation] = []
        y = clip.input
        shift = make_constant(np.array(128.0, np.float32), TensorType(F32, []))
        shifted = g.AddOp.make([y, shift.result])
        clip_u = g.ClipOp.make([shifted.result], min=0.0, max=255.0)
        q_u = g.CastOp.make([clip_u.result], [TensorType(UI8, shape)])
        new_ops += [shift, shifted, clip_u, q_u]
        Rewriter.insert_op(new_ops, InsertPoint.before(op))
        for cast in [use.operation for use in list(op.result.uses)]:
            wide = g.CastOp.make([q_u.result], [cast.results[0].type])
            plain: SSAValue | None = None
            Rewriter.insert_op(wide, InsertPoint.before(cast))
            for use in list(cast.results[0].uses):
                user = use.operation
                zp = _scalar_constant(user.operands[1]) if isinstance(user, g.SubOp) and use.index == 0 else None
                if zp is not None and int(zp) == zp:
                    rhs = user.operands[1]
                    const = make_constant(
                        np.full(g.shape_of(rhs), int(zp) + 128, np.int32), TensorType(I32, list(g.shape_of(rhs)))
                    )
                    sub = g.SubOp.make([wide.result, const.result])
                    Rewriter.insert_op([const, sub], InsertPoint.before(user))
                    user.results[0].replace_all_uses_with(sub.result)
                    Rewriter.erase_op(user)
                    continue
                if plain is None:
                    const = make_constant(np.array(128, np.int32), TensorType(I32, []))
                    sub = g.SubOp.make([wide.result, const.result])
                    Rewriter.insert_op([const, sub], InsertPoint.after(wide))
                    plain = sub.result
                user.operands[use.index] = plain
            Rewriter.erase_op(cast)
        Rewriter.erase_op(op)
        if not clip.result.uses:
            Rewriter.erase_op(clip)
        flipped += 1
    return flipped


def u8_source(value: SSAValue) -> tuple[SSAValue, int] | None:
    """(q, zx) when value = int32(q) - zx (or int32(q), zx = 0), q ui8 and zx one constant in 0..255."""
    zero_point = 0
    owner = value.owner
    if isinstance(owner, g.SubOp):
        zp = _scalar_constant(owner.rhs)
        if zp is None or zp != int(zp) or not 0 <= zp <= 255:
            return None
        zero_point, owner = int(zp), owner.lhs.owner
    if not isinstance(owner, g.CastOp) or g.elem_of(owner.input) != UI8:
        return None
    if tuple(g.shape_of(owner.input)) != tuple(g.shape_of(value)):
        return None  # the zero point broadcast x beyond q
    return owner.input, zero_point


def _u8_conv(op: g.ConvOp, weight: np.ndarray) -> list | None:
    """The ops of the u8 x i8 form of `op` (see the module docstring), or None where it does not apply."""
    source = u8_source(op.input)
    bias = None if op.bias is None else constant_array(op.bias)
    if source is None or (op.bias is not None and bias is None):
        return None
    if weight.shape[1] % DOT_GROUP or int(weight.min(initial=0)) < -128 or int(weight.max(initial=0)) > 127:
        return None
    q, zx = source
    out_c = weight.shape[0]
    w64 = weight.astype(np.int64)
    b64 = np.zeros(out_c, np.int64) if bias is None else np.asarray(bias).astype(np.int64).reshape(out_c)
    compensated = ((b64 - zx * w64.reshape(out_c, -1).sum(axis=1)) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    new_ops: list = []
    pads = op.ints("pads")
    props = dict(op.properties)
    if any(pads):
        rank = len(g.shape_of(q))
        full = [0] * (2 * rank)
        full[2], full[3], full[rank + 2], full[rank + 3] = pads
        pad = g.PadOp.make([q], pads=full, mode="constant", value=float(zx))
        new_ops.append(pad)
        q = pad.result
        props["pads"] = g.ints_attr([0, 0, 0, 0])
    w8 = make_constant(weight.astype(np.int8), TensorType(I8, list(weight.shape)))
    b32 = make_constant(compensated, TensorType(I32, [out_c]))
    conv = g.ConvOp.make([q, w8.result, b32.result], None, **props)
    conv.attributes.update(op.attributes)
    return [*new_ops, w8, b32, conv]


INTEGER_SUMS = "graph.integer_sums"
"""Unit attribute of such a float32 conv: its sums are exact integers, requantized by its
epilogue (`fuse-ops` fuses the conversion to int32 and what follows, as for an int32 conv)."""

_INT_RANGES = {I8: (-128, 127), UI8: (0, 255)}
F32_EXACT = 1 << 24
"""Integers up to this magnitude are exact in float32."""


def activation_bound(value: SSAValue) -> int | None:
    """max |x| for x = int32(q8) [- constant zero point], else None."""
    zero_points = np.zeros(1, np.int64)
    owner = value.owner
    if isinstance(owner, g.SubOp):
        zp = constant_array(owner.rhs)
        if zp is None or zp.size == 0:
            return None
        zero_points, owner = np.asarray(zp).astype(np.int64).reshape(-1), owner.lhs.owner
    if not isinstance(owner, g.CastOp) or g.elem_of(owner.input) not in _INT_RANGES:
        return None
    lo, hi = _INT_RANGES[g.elem_of(owner.input)]
    return int(max(np.max(np.abs(lo - zero_points)), np.max(np.abs(hi - zero_points))))


def _float_conv(op: g.ConvOp, weight: np.ndarray) -> list[Operation] | None:
    """The exact float32 form of an odd-channel conv (see the module docstring), or None."""
    cin_g, kh, kw = weight.shape[1:]
    if cin_g % 2 == 0:
        return None  # a dot product's group may divide it
    if (kh, kw) == (3, 3) and tuple(op.ints("strides")) == (1, 1) and tuple(op.ints("dilations")) == (1, 1):
        return None  # winograd-conv's shape
    bound = activation_bound(op.input)
    w_max = int(np.max(np.abs(weight.astype(np.int64)), initial=0))
    if bound is None or cin_g * kh * kw * bound * w_max > F32_EXACT:
        return None
    xf = g.CastOp.make([op.input], [TensorType(F32, list(g.shape_of(op.input)))])
    wf = make_constant(weight.astype(np.float32), TensorType(F32, list(weight.shape)))
    conv = g.ConvOp.make([xf.result, wf.result], None, **op.properties)
    conv.attributes.update(op.attributes)
    conv.attributes[INTEGER_SUMS] = UnitAttr()
    acc = g.CastOp.make([conv.result], [TensorType(I32, list(g.shape_of(conv.result)))])
    ops: list[Operation] = [xf, wf, conv, acc]
    if op.bias is not None:
        out_c = weight.shape[0]
        values = constant_array(op.bias)
        if values is not None:
            bias: Operation = make_constant(np.asarray(values).reshape(out_c, 1, 1), TensorType(I32, [out_c, 1, 1]))
        else:
            bias = g.ReshapeOp.make([op.bias], [TensorType(I32, [out_c, 1, 1])])
        total = g.AddOp.make([acc.result, bias.results[0]])
        ops += [bias, total]
    return ops


class NarrowIntegerConv(RewritePattern):
    def __init__(self, u8_dot: bool = False) -> None:
        self.u8_dot = u8_dot

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if any(name in op.properties for name in _LAYOUT_PROPS):
            return
        if g.elem_of(op.input) != I32 or g.elem_of(op.weight) != I32:
            return
        weight = constant_array(op.weight)
        if weight is None:
            return
        if self.u8_dot:
            new_ops = _u8_conv(op, weight)
            if new_ops is not None:
                rewriter.replace(op, new_ops, [new_ops[-1].results[0]])
                return
        exact_f32 = _float_conv(op, weight)
        if exact_f32 is not None:
            rewriter.replace(op, exact_f32, [exact_f32[-1].results[0]])
            return
        if not fits_i16(op.input) or int(np.max(np.abs(weight.astype(np.int64)), initial=0)) > 32767:
            return
        x16 = g.CastOp.make([op.input], [TensorType(I16, list(g.shape_of(op.input)))])
        w16 = make_constant(weight.astype(np.int16), TensorType(I16, list(weight.shape)))
        operands = [x16.result, w16.result, *([op.bias] if op.bias is not None else [])]
        conv = g.ConvOp.make(operands, None, **op.properties)
        rewriter.replace(op, [x16, w16, conv], [conv.result])


@dataclass(frozen=True)
class NarrowIntegerConvPass(ModulePass):
    name = "narrow-integer-conv"

    u8_dot: bool = False
    """Make convs of u8 activations read them as ui8 with i8 weights (for VNNI's vpdpbusd)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.u8_dot:
            flip_s8_activations(op)
        PatternRewriteWalker(NarrowIntegerConv(self.u8_dot), apply_recursively=False).rewrite_module(op)
