"""Compute definition of convolutions in plain NCHW / OIHW (any group count).

The classic direct-convolution micro-kernel: a register tile of CB output
channels x VW output columns, where one vector of VW input pixels is loaded
once and multiplied by CB broadcast weights:

    for n, g, co-block, oh:
      for each column chunk of VW (the last may be narrower):
        acc[cb, :] = bias                           cb < CB (unrolled), : = VW lanes
        for ci, kh, kw:
          for w (vector): x = in[n, g*Cg + ci, ih, iw(w)]
            for cb (unrolled): acc[cb, w] += x * weight[co0 + cb, ci, kh, kw]
        out[n, co0 + cb, oh, ow0 + w] = epilogue(acc[cb, w])

Used for grouped and depthwise convs, convs whose channels do not fit the
blocked layout, and at opt levels without `convert-layout`.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue

from compiler.compute.builder import PARALLEL_MIN_MACS, Buffer
from compiler.compute.common import KernelContext, select
from compiler.dialects import graph as g
from compiler.dialects.loop import PARALLEL, SERIAL, UNROLL, VECTORIZE

CHANNEL_TILE = 8
VECTOR_WIDTH = 16


def conv_nchw_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.ConvOp)
    kb = ctx.kb
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
    cb_n = min(CHANNEL_TILE, cout_g)
    vw = min(VECTOR_WIDTH, ow_n)

    def x_value(n: SSAValue, c: SSAValue, ih: SSAValue, iw: SSAValue) -> SSAValue:
        if not padded:
            return ctx.emitter.emit(op.input, [n, c, ih, iw])
        ok = kb.value(arith.AndIOp(kb.in_range(ih, 0, h), kb.in_range(iw, 0, w)))
        v = ctx.emitter.emit(op.input, [n, c, kb.clamp_index(ih, 0, h - 1), kb.clamp_index(iw, 0, w - 1)])
        return select(kb, ok, v, kb.const(0.0, elem))

    def tile(
        acc: Buffer, n: SSAValue, gi: SSAValue, co0: SSAValue, oh: SSAValue, ow0: SSAValue | int, channels: int, width: int
    ) -> None:
        def col(v: SSAValue) -> SSAValue:
            return kb.add(v, ow0) if isinstance(ow0, int) else kb.value(arith.AddiOp(ow0, v))

        with kb.loop(channels, "cb.init", UNROLL) as cb, kb.loop(width, "w.init", VECTORIZE) as wi:
            init = (
                ctx.emitter.emit(op.bias, [kb.value(arith.AddiOp(co0, cb))])
                if op.bias is not None
                else kb.const(0.0, elem)
            )
            kb.store(init, acc, [cb, wi])
        ctx.emitter.reset()
        with kb.nest([cin_g, kh_n, kw_n], ["ci", "kh", "kw"]) as (ci, kh, kw):
            c = kb.affine([(gi, cin_g), (ci, 1)])
            ih = kb.affine([(oh, sh), (kh, dh)], -pt)
            with kb.loop(width, "w", VECTORIZE) as wi:
                iw = kb.affine([(col(wi), sw), (kw, dw)], -pl)
                xv = x_value(n, c, ih, iw)
                with kb.loop(channels, "cb", UNROLL) as cb:
                    wv = ctx.emitter.emit(op.weight, [kb.value(arith.AddiOp(co0, cb)), ci, kh, kw])
                    prod = kb.value(arith.MulfOp(xv, wv))
                    kb.store(kb.value(arith.AddfOp(kb.load(acc, [cb, wi]), prod)), acc, [cb, wi])
            ctx.emitter.reset()
        with kb.loop(channels, "cb.out", UNROLL) as cb, kb.loop(width, "w.out", VECTORIZE) as wi:
            idx = [n, kb.value(arith.AddiOp(co0, cb)), oh, col(wi)]
            ctx.emitter.reset()
            kb.store(ctx.finish(kb.load(acc, [cb, wi]), idx), ctx.out, idx)

    def row(n: SSAValue, gi: SSAValue, co0: SSAValue, oh: SSAValue, channels: int) -> None:
        # Allocated inside the outer loops so each thread of a parallel loop
        # gets its own tile (the LLVM lowering hoists allocas to the entry).
        acc = kb.alloca(elem, [cb_n, vw])
        full, rest = divmod(ow_n, vw)
        if full > 1:
            with kb.loop(full, "owb") as owb:
                tile(acc, n, gi, co0, oh, kb.mul(owb, vw), channels, vw)
        elif full == 1:
            tile(acc, n, gi, co0, oh, 0, channels, vw)
        if rest:
            tile(acc, n, gi, co0, oh, full * vw, channels, rest)

    blocks, tail = divmod(cout_g, cb_n)
    # Groups, channel blocks and rows are independent: the outermost of them
    # with more than one iteration runs on threads when there is enough work.
    threads = n_n * cout * oh_n * ow_n * cin_g * kh_n * kw_n >= PARALLEL_MIN_MACS
    outer_parallel = threads and (n_n > 1 or group > 1)
    with kb.nest([n_n, group], ["n", "g"], parallel=outer_parallel) as (n, gi):
        if blocks:
            with kb.nest([blocks, oh_n], ["cob", "oh"], parallel=threads and not outer_parallel) as (cob, oh):
                row(n, gi, kb.affine([(gi, cout_g), (cob, cb_n)]), oh, cb_n)
        if tail:
            annotation = PARALLEL if threads and not outer_parallel else SERIAL
            with kb.loop(oh_n, "oh.tail", annotation) as oh:
                row(n, gi, kb.affine([(gi, cout_g)], blocks * cb_n), oh, tail)
