"""Compute definition of convolutions in blocked layouts (TVM's conv2d_NCHWc).

With the weight packed OIHW{i}i{o}o, output channel `ob * o + oc` reads the
weight vector `w[ob, icb, kh, kw, ii, :]` along `oc`:

    init:      out[n, ob, oh, ow, oc] = bias[ob * o + oc]       (or 0)
    compute:   out[n, ob, oh, ow, oc] += x[n, c(icb, ii), ih, iw] * w[ob, icb, kh, kw, ii, oc]
               ih = oh * sh + kh * dh - pad_top, iw likewise; padding reads 0
    epilogue:  out = epilogue(out)

Input and output may be plain NCHW or NCHW{c}c; depthwise convolutions
(group = C, one input channel per output channel) read the input along the
channel block (`x[n, ob, ih, iw, oc]`). The register tile of output columns
x channel vectors is the schedule's (`compiler/schedule/rules/conv.py`).
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.builder import KernelBuilder
from compiler.compute.common import KernelContext, select, widen
from compiler.compute.scalar import add, mul
from compiler.dialects import graph as g
from compiler.dialects import layouts

ALGORITHM = "conv2d_NCHWc"


def _layout_prop(op: g.ConvOp, name: str, default: str) -> str:
    attr = op.properties.get(name)
    return attr.data if attr is not None else default  # type: ignore[union-attr]


def is_blocked(op: g.ConvOp) -> bool:
    return _layout_prop(op, "kernel_layout", layouts.OIHW) != layouts.OIHW


def _data_index(kb: KernelBuilder, block: int, n: SSAValue, c: SSAValue | tuple[SSAValue, SSAValue], h: SSAValue, w: SSAValue) -> list[SSAValue]:
    """Storage index of logical [n, c, h, w]; c may come as (block index, lane) when aligned."""
    if isinstance(c, tuple):
        cb, ci = c
        if block:
            return [n, cb, h, w, ci]
        raise ValueError("split channel index needs a blocked layout")
    if not block:
        return [n, c, h, w]
    cb = kb.value(arith.DivUIOp(c, kb.index(block)))
    ci = kb.value(arith.RemUIOp(c, kb.index(block)))
    return [n, cb, h, w, ci]


def conv_blocked_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.ConvOp)
    kb = ctx.kb
    kb.algorithm = ALGORITHM
    a = layouts.data_block(_layout_prop(op, "data_layout", layouts.NCHW))
    b = layouts.data_block(_layout_prop(op, "out_layout", layouts.NCHW))
    ki, ko = layouts.kernel_blocks(_layout_prop(op, "kernel_layout", layouts.OIHW))
    ob_n, icb_n, kh_n, kw_n = g.shape_of(op.weight)[:4]
    xshape = g.shape_of(op.input)
    n_n, h, w = xshape[0], xshape[2], xshape[3]
    oshape = g.shape_of(op.result)
    oh_n, ow_n = oshape[2], oshape[3]
    sh, sw = op.ints("strides")
    pt, pl, _, _ = op.ints("pads")
    dh, dw = op.ints("dilations")
    depthwise = op.int_prop("group") > 1
    elem = g.elem_of(op.result)
    padded = any(op.ints("pads"))
    if depthwise and not (icb_n == 1 and ki == 1 and a == ko):
        raise NotImplementedError("blocked grouped convs other than depthwise are not supported")

    def out_index(n: SSAValue, ob: SSAValue, oh: SSAValue, ow: SSAValue, oc: SSAValue) -> list[SSAValue]:
        if b == ko:
            return [n, ob, oh, ow, oc]
        channel = kb.affine([(ob, ko), (oc, 1)])
        return _data_index(kb, b, n, channel, oh, ow) if b else [n, channel, oh, ow]

    spatial = [n_n, ob_n, oh_n, ow_n, ko]
    names = ["n", "ob", "oh", "ow", "oc"]
    with kb.nest(spatial, [f"{x}.init" for x in names], stage="init") as (n, ob, oh, ow, oc):
        init = ctx.emitter.emit(op.bias, [kb.affine([(ob, ko), (oc, 1)])]) if op.bias is not None else kb.const(0.0, elem)
        kb.store(init, ctx.out, out_index(n, ob, oh, ow, oc))
    ctx.emitter.reset()
    reduction = [icb_n, kh_n, kw_n, ki]
    with kb.nest([*spatial, *reduction], [*names, "icb", "kh", "kw", "ii"], stage="compute") as ivs:
        n, ob, oh, ow, oc, icb, kh, kw, ii = ivs
        ih = kb.affine([(oh, sh), (kh, dh)], -pt)
        iw = kb.affine([(ow, sw), (kw, dw)], -pl)
        if depthwise:
            x_idx = [n, ob, ih, iw, oc]
        elif a and a == ki:
            x_idx = _data_index(kb, a, n, (icb, ii), ih, iw)
        else:
            x_idx = _data_index(kb, a, n, kb.affine([(icb, ki), (ii, 1)]), ih, iw)
        xv = _load_x(ctx, x_idx, padded, h, w)
        wv = ctx.emitter.emit(op.weight, [ob, icb, kh, kw, ii, oc])
        xv, wv = widen(kb, op, xv, wv)
        idx = out_index(n, ob, oh, ow, oc)
        acc = kb.load(ctx.out, idx)
        kb.store(add(kb, acc, mul(kb, xv, wv, elem), elem), ctx.out, idx)
    ctx.emitter.reset()
    ctx.epilogue_stage()


def _load_x(ctx: KernelContext, idx: list[SSAValue], padded: bool, h: int, w: int) -> SSAValue:
    kb = ctx.kb
    op = ctx.anchor
    assert isinstance(op, g.ConvOp)
    if not padded:
        return ctx.emitter.emit(op.input, idx)
    hd, wd = (2, 3)
    ok = kb.value(arith.AndIOp(kb.in_range(idx[hd], 0, h), kb.in_range(idx[wd], 0, w)))
    clamped = list(idx)
    clamped[hd] = kb.clamp_index(idx[hd], 0, h - 1)
    clamped[wd] = kb.clamp_index(idx[wd], 0, w - 1)
    v = ctx.emitter.emit(op.input, clamped)
    return select(kb, ok, v, kb.const(0.0, g.elem_of(op.input)))
