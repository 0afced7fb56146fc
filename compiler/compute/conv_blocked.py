"""Compute definition of convolutions in blocked layouts (TVM's conv2d_NCHWc).

With the weight packed OIHW{i}i{o}o, the innermost loop runs over `o`
consecutive output channels: one vector of the weight times one broadcast
input element, accumulated into a register tile of R output columns x o
channels (a `memref.alloca` that LLVM keeps in registers: TVM's cache_write).

    for n, ob (parallel), oh, ow-block:
      acc[r, :] = bias                      r < R (unrolled), : = o lanes (vector)
      for icb, kh, kw, ii:
        for r (unrolled): acc[r, :] += x[n, c(icb, ii), ih, iw(r)] * w[ob, icb, kh, kw, ii, :]
      out[n, co(ob, :), oh, ow(r)] = epilogue(acc[r, :])

Input and output may be plain NCHW or NCHW{c}c; depthwise convolutions
(group = C, one input channel per output channel) read the input as a vector
along the channel block instead of a broadcast.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.builder import PARALLEL_MIN_MACS, Buffer, KernelBuilder
from compiler.compute.common import KernelContext, select
from compiler.dialects import graph as g
from compiler.dialects import layouts
from compiler.dialects.loop import UNROLL, VECTORIZE

MAX_TILE = 8


def register_tile(width: int) -> int:
    """Columns per register tile: a divisor of the width near MAX_TILE, else MAX_TILE."""
    for r in (8, 7, 6, 9, 10, 5, 12, 11, 4):
        if r <= width and width % r == 0:
            return r
    return min(MAX_TILE, width)


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
    a = layouts.data_block(_layout_prop(op, "data_layout", layouts.NCHW))
    b = layouts.data_block(_layout_prop(op, "out_layout", layouts.NCHW))
    ki, ko = layouts.kernel_blocks(_layout_prop(op, "kernel_layout", layouts.OIHW))
    wshape = g.shape_of(op.weight)
    ob_n, icb_n, kh_n, kw_n = wshape[:4]
    xshape = g.shape_of(op.input)
    n_n = xshape[0]
    h, w = (xshape[2], xshape[3])
    oshape = g.shape_of(op.result)
    oh_n, ow_n = oshape[2], oshape[3]
    sh, sw = op.ints("strides")
    pt, pl, _, _ = op.ints("pads")
    dh, dw = op.ints("dilations")
    group = op.int_prop("group")
    elem = g.elem_of(op.result)
    padded = any(op.ints("pads"))
    depthwise = group > 1
    if depthwise and not (icb_n == 1 and ki == 1 and a == ko):
        raise NotImplementedError("blocked grouped convs other than depthwise are not supported")

    tile = register_tile(ow_n)

    def emit_tile(acc: Buffer, n: SSAValue, ob: SSAValue, oh: SSAValue, ow0: int | SSAValue, width: int) -> None:
        # ow0: first output column of the tile (an int offset or an index value).
        def col(r: SSAValue) -> SSAValue:
            base = kb.index(ow0) if isinstance(ow0, int) else ow0
            return kb.value(arith.AddiOp(base, r))

        with kb.loop(width, "r.init", UNROLL) as r, kb.loop(ko, "oc.init", VECTORIZE) as oc:
            init = (
                ctx.emitter.emit(op.bias, [kb.affine([(ob, ko), (oc, 1)])])
                if op.bias is not None
                else kb.const(0.0, elem)
            )
            kb.store(init, acc, [r, oc])
        ctx.emitter.reset()
        with kb.nest([icb_n, kh_n, kw_n, ki], ["icb", "kh", "kw", "ii"]) as (icb, kh, kw, ii):
            ih = kb.affine([(oh, sh), (kh, dh)], -pt)
            with kb.loop(width, "r", UNROLL) as r:
                iw = kb.affine([(col(r), sw), (kw, dw)], -pl)
                if not depthwise:
                    if a and a == ki:
                        x_idx = _data_index(kb, a, n, (icb, ii), ih, iw)
                    else:
                        x_idx = _data_index(kb, a, n, kb.affine([(icb, ki), (ii, 1)]), ih, iw)
                    xv = _load_x(ctx, x_idx, padded, h, w)
                with kb.loop(ko, "oc", VECTORIZE) as oc:
                    if depthwise:
                        xv = _load_x(ctx, [n, ob, ih, iw, oc], padded, h, w)
                    wv = ctx.emitter.emit(op.weight, [ob, icb, kh, kw, ii, oc])
                    prod = kb.value(arith.MulfOp(xv, wv))
                    kb.store(kb.value(arith.AddfOp(kb.load(acc, [r, oc]), prod)), acc, [r, oc])
                ctx.emitter.reset()
        with kb.loop(width, "r.out", UNROLL) as r, kb.loop(ko, "oc.out", VECTORIZE) as oc:
            ow = col(r)
            if b:
                out_idx = [n, ob, oh, ow, oc] if b == ko else _data_index(kb, b, n, kb.affine([(ob, ko), (oc, 1)]), oh, ow)
            else:
                out_idx = [n, kb.affine([(ob, ko), (oc, 1)]), oh, ow]
            ctx.emitter.reset()
            kb.store(ctx.finish(kb.load(acc, [r, oc]), out_idx), ctx.out, out_idx)

    full, rest = divmod(ow_n, tile)
    # Images, output-channel blocks and rows are independent: the outermost
    # with more than one iteration runs on threads when there is enough work.
    macs = n_n * ob_n * ko * oh_n * ow_n * icb_n * ki * kh_n * kw_n
    with kb.nest([n_n, ob_n, oh_n], ["n", "ob", "oh"], parallel=macs >= PARALLEL_MIN_MACS) as (n, ob, oh):
        # Inside the outer loops, so each thread of a parallel loop gets its
        # own tile (the LLVM lowering hoists allocas to the function entry).
        acc = kb.alloca(elem, [tile, ko])
        if full:
            with kb.loop(full, "owb") as owb:
                emit_tile(acc, n, ob, oh, kb.mul(owb, tile), tile)
        if rest:
            emit_tile(acc, n, ob, oh, full * tile, rest)


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
