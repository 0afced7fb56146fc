"""Compute definition of convolutions in plain NCHW / OIHW (any group count).

    init:      out[n, g*Cg + co, oh, ow] = bias[g*Cg + co]          (or 0)
    compute:   out[n, g*Cg + co, oh, ow] += x[n, g*Cg_in + ci, ih, iw] * w[g*Cg + co, ci, kh, kw]
               ih = oh * sh + kh * dh - pad_top, iw likewise; padding reads 0
    epilogue:  out = epilogue(out)

Used for grouped and depthwise convs, convs whose channels do not fit the
blocked layout, and at opt levels without `convert-layout`. The register
tile (channels x a vector of output columns, the input vector reused across
the channels) is the schedule's (`compiler/schedule/rules/conv.py`).
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.common import KernelContext, select, widen
from compiler.compute.scalar import add, mul
from compiler.dialects import graph as g

ALGORITHM = "conv2d_nchw"


def conv_nchw_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.ConvOp)
    kb = ctx.kb
    kb.algorithm = ALGORITHM
    n_n, _, h, w = g.shape_of(op.input)
    cout, cin_g, kh_n, kw_n = g.shape_of(op.weight)
    _, _, oh_n, ow_n = g.shape_of(op.result)
    sh, sw = op.ints("strides")
    pt, pl, _, _ = op.ints("pads")
    dh, dw = op.ints("dilations")
    group = op.int_prop("group")
    cout_g = cout // group
    elem = g.elem_of(op.result)
    padded = any(op.ints("pads"))

    def x_value(n: SSAValue, c: SSAValue, ih: SSAValue, iw: SSAValue) -> SSAValue:
        if not padded:
            return ctx.emitter.emit(op.input, [n, c, ih, iw])
        ok = kb.value(arith.AndIOp(kb.in_range(ih, 0, h), kb.in_range(iw, 0, w)))
        v = ctx.emitter.emit(op.input, [n, c, kb.clamp_index(ih, 0, h - 1), kb.clamp_index(iw, 0, w - 1)])
        return select(kb, ok, v, kb.const(0.0, g.elem_of(op.input)))

    spatial = [n_n, group, cout_g, oh_n, ow_n]
    names = ["n", "g", "co", "oh", "ow"]
    with kb.nest(spatial, [f"{x}.init" for x in names], stage="init") as (n, gi, co, oh, ow):
        channel = kb.affine([(gi, cout_g), (co, 1)])
        init = ctx.emitter.emit(op.bias, [channel]) if op.bias is not None else kb.const(0.0, elem)
        kb.store(init, ctx.out, [n, channel, oh, ow])
    ctx.emitter.reset()
    with kb.nest([*spatial, cin_g, kh_n, kw_n], [*names, "ci", "kh", "kw"], stage="compute") as ivs:
        n, gi, co, oh, ow, ci, kh, kw = ivs
        ih = kb.affine([(oh, sh), (kh, dh)], -pt)
        iw = kb.affine([(ow, sw), (kw, dw)], -pl)
        xv = x_value(n, kb.affine([(gi, cin_g), (ci, 1)]), ih, iw)
        channel = kb.affine([(gi, cout_g), (co, 1)])
        wv = ctx.emitter.emit(op.weight, [channel, ci, kh, kw])
        xv, wv = widen(kb, op, xv, wv)
        idx = [n, channel, oh, ow]
        acc = kb.load(ctx.out, idx)
        kb.store(add(kb, acc, mul(kb, xv, wv, elem), elem), ctx.out, idx)
    ctx.emitter.reset()
    ctx.epilogue_stage()
