"""Compute definitions of pools and LRN; conv dispatches to its layouts' kernels.

Conv kernels live in conv_nchw.py and conv_blocked.py, matmul in matmul.py.
Pools and LRN accumulate into the output buffer row by row and then run the
fused epilogue over that row, so no intermediate tensor is stored; their
innermost loop runs along the output's last (contiguous) dim.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects import arith, math
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.compute.builder import KernelBuilder, is_unsigned
from compiler.compute.common import (
    KernelContext,
    epilogue_may_change_type,
    identity_value,
    select,
)
from compiler.dialects import graph as g

POOL_ALGORITHM = "pool2d"


def _guarded(
    ctx: KernelContext, value: SSAValue, idx: list[SSAValue], bounds: Sequence[tuple[int, int]], fill: float
) -> SSAValue:
    """value[idx] where every (dim, size) in bounds is in range, else `fill`."""
    kb = ctx.kb
    valid: SSAValue | None = None
    clamped = list(idx)
    for d, n in bounds:
        ok = kb.in_range(idx[d], 0, n)
        valid = ok if valid is None else kb.value(arith.AndIOp(valid, ok))
        clamped[d] = kb.clamp_index(idx[d], 0, n - 1)
    v = ctx.emitter.emit(value, clamped)
    if valid is None:
        return v
    return select(kb, valid, v, kb.const(fill, g.elem_of(value)))


@epilogue_may_change_type
def conv_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.ConvOp)
    from compiler.compute.conv_blocked import conv_blocked_kernel, is_blocked
    from compiler.compute.conv_nchw import conv_nchw_kernel

    if is_blocked(op):
        conv_blocked_kernel(ctx)
    else:
        conv_nchw_kernel(ctx)


def _float(elem: object) -> bool:
    from compiler import dtypes

    return dtypes.is_float(elem)  # type: ignore[arg-type]


@epilogue_may_change_type
def pool_kernel(ctx: KernelContext) -> None:
    """Pools in NCHW or NCHW{c}c, as a reduction over the window:

        init:      out[n, c, oh, ow] = -inf (max) or 0 (average)
        compute:   out[n, c, oh, ow] = max/+ (out, x[n, c, oh*sh + kh*dh - pt, ow*sw + kw*dw - pl])
        epilogue:  out = epilogue(out / count)      (average; max only with a fused epilogue)

    The blocked layout has the channel lane `cl` innermost in each stage.
    """
    op = ctx.anchor
    assert isinstance(op, g.MaxPoolOp | g.AvgPoolOp)
    kb = ctx.kb
    kb.algorithm = POOL_ALGORITHM
    is_max = isinstance(op, g.MaxPoolOp)
    shape = g.shape_of(op.input)
    h, w = shape[2], shape[3]
    out_shape = g.shape_of(op.result)
    kh_, kw_ = op.ints("kernel_shape")
    sh, sw = op.ints("strides")
    pt, pl, pb, pr = op.ints("pads")
    dh, dw = op.ints("dilations") if is_max else (1, 1)
    elem = g.elem_of(op.result)
    padded = any((pt, pl, pb, pr))
    fill: float = float("-inf") if is_max else 0.0
    if is_max and not dtypes.is_float(elem):
        fill = int(np.iinfo(dtypes.to_numpy_dtype(elem)).min)  # integer max pooling
    kind = "max" if is_max else "sum"
    names = ["n", "c", "oh", "ow", "cl"][: len(out_shape)]

    with kb.nest(out_shape, [f"{x}.init" for x in names], stage="init") as idx:
        kb.store(identity_value(kb, kind, elem), ctx.out, idx)
    with kb.nest([*out_shape, kh_, kw_], [*names, "kh", "kw"], stage="compute") as ivs:
        idx, (kh, kw) = ivs[: len(out_shape)], ivs[len(out_shape) :]
        ih = kb.affine([(idx[2], sh), (kh, dh)], -pt)
        iw = kb.affine([(idx[3], sw), (kw, dw)], -pl)
        ctx.emitter.reset()
        x_idx = [idx[0], idx[1], ih, iw, *idx[4:]]
        xv = _guarded(ctx, op.input, x_idx, [(2, h), (3, w)], fill) if padded else ctx.emitter.emit(op.input, x_idx)
        acc = kb.load(ctx.out, idx)
        combined = kb.value(_max_op(elem)(acc, xv)) if is_max else kb.value(arith.AddfOp(acc, xv))
        kb.store(combined, ctx.out, idx)
    ctx.emitter.reset()
    if not is_max or ctx.has_epilogue:
        with kb.nest(out_shape, [f"{x}.epi" for x in names], stage="epilogue") as idx:
            v = kb.load(ctx.out, idx)
            if not is_max:
                v = kb.value(arith.DivfOp(v, _pool_count(kb, op, idx[2], idx[3], (h, w), elem)))
            ctx.emitter.reset()
            kb.store(ctx.finish(v, idx), ctx.out, idx)
        ctx.emitter.reset()


def _max_op(elem: Attribute) -> type[arith.MaximumfOp | arith.MaxSIOp | arith.MaxUIOp]:
    if dtypes.is_float(elem):
        return arith.MaximumfOp
    return arith.MaxUIOp if is_unsigned(elem) else arith.MaxSIOp


def _pool_count(kb: KernelBuilder, op: g.AvgPoolOp, oh: SSAValue, ow: SSAValue, hw: tuple[int, int], elem: object) -> SSAValue:
    kh_, kw_ = op.ints("kernel_shape")
    if op.int_prop("count_include_pad") or not any(op.ints("pads")):
        return kb.const(float(kh_ * kw_), elem)  # type: ignore[arg-type]
    sh, sw = op.ints("strides")
    pt, pl, _, _ = op.ints("pads")

    def extent(o: SSAValue, s: int, p: int, k: int, size: int) -> SSAValue:
        start = kb.affine([(o, s)], -p)
        lo = kb.value(arith.MaxSIOp(start, kb.index(0)))
        hi = kb.value(arith.MinSIOp(kb.add(start, k), kb.index(size)))
        return kb.value(arith.SubiOp(hi, lo))

    count = kb.value(arith.MuliOp(extent(oh, sh, pt, kh_, hw[0]), extent(ow, sw, pl, kw_, hw[1])))
    from xdsl.dialects.builtin import i64

    as_int = kb.value(arith.IndexCastOp(count, i64))
    return kb.value(arith.SIToFPOp(as_int, elem))  # type: ignore[arg-type]


@epilogue_may_change_type
def lrn_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.LRNOp)
    kb = ctx.kb
    shape = g.shape_of(op.input)
    size = op.int_prop("size")
    lo = (size - 1) // 2
    elem = g.elem_of(op.input)
    n_, c_ = shape[0], shape[1]
    inner = list(shape[2:])
    last = inner[-1]
    with kb.nest([n_, c_, *inner[:-1]], ["n", "c", *(f"s{d}" for d in range(len(inner) - 1))]) as outer:
        with kb.loop(last, "w.init") as wi:
            kb.store(kb.const(0.0, elem), ctx.out, [*outer, wi])
        with kb.loop(size, "j") as j:
            cc = kb.value(arith.AddiOp(outer[1], kb.add(j, -lo)))
            with kb.loop(last, "w") as wi:
                ctx.emitter.reset()
                idx = [outer[0], cc, *outer[2:], wi]
                v = _guarded(ctx, op.input, idx, [(1, c_)], 0.0)
                acc = kb.load(ctx.out, [*outer, wi])
                kb.store(kb.value(arith.AddfOp(acc, kb.value(arith.MulfOp(v, v)))), ctx.out, [*outer, wi])
        with kb.loop(last, "w.epi") as wi:
            idx = [*outer, wi]
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, idx)
            s = kb.load(ctx.out, idx)
            scaled = kb.value(arith.MulfOp(s, kb.const(op.float_prop("alpha") / size, elem)))
            base = kb.value(arith.AddfOp(scaled, kb.const(op.float_prop("bias"), elem)))
            denom = kb.value(math.PowFOp(base, kb.const(op.float_prop("beta"), elem)))
            kb.store(ctx.finish(kb.value(arith.DivfOp(x, denom)), idx), ctx.out, idx)
