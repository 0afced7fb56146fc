"""Compute definitions of the Winograd input and output transforms (see compiler/passes/winograd_conv.py).

Input transform (`winograd_input`), per tile t = (n, th, tw) and channel c:

    d[i, j]       = x[n, c, th*m + i - pad_top, tw*m + j - pad_left]     (0 outside x)
    V[a*e + u, t, c] = (B^T d B)[e, u]                                    (a = m + 2)

Output transform (`winograd_output`), per tile t and output channel k:

    y[i, j] = (A^T M[., t, k] A)[i, j] + bias[k]
    out[n, k, th*m + i, tw*m + j] = epilogue(y[i, j])                     (i, j in the output)

Each tile is straight-line code: the transform matrices' zeros are skipped
and their ones become adds and subtracts (that is the algorithm's
arithmetic, not a schedule choice). The channel loop is innermost: in the
blocked layout both the input reads and the V / M accesses then walk memory
with stride 1 along it. Whether a read of d needs the padding test is known
per (i, j) from the tile counts, so interior reads carry none.

Ragged edge tiles compute all m x m outputs; the positions past the output
are stored clamped to its last row / column, in decreasing (i, j) order, so
the in-range value of that position is stored last (the kernel stays free of
conditionals, and the extra stores stay inside the tile's own pixels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects import arith
from xdsl.ir import Attribute, SSAValue

from compiler.compute.builder import KernelBuilder
from compiler.compute.common import KernelContext, select
from compiler.dialects import graph as g
from compiler.dialects import layouts, winograd

INPUT_ALGORITHM = "winograd_input"
OUTPUT_ALGORITHM = "winograd_output"


def _layout(op: g.GraphOp) -> int:
    attr = op.properties.get("layout")
    return layouts.data_block(attr.data if attr is not None else layouts.NCHW)  # type: ignore[union-attr]


def combine(kb: KernelBuilder, coeffs: Sequence[float], values: Sequence[SSAValue], elem: Attribute) -> SSAValue:
    """sum(c * v) with zero terms dropped and +-1 terms as adds / subtracts.

    The +-1 terms come first; every other term is `acc + v * c` with the
    signed constant, a multiply feeding one add, which vectorizes to an FMA.
    """
    terms = [(float(c), v) for c, v in zip(coeffs, values, strict=True) if c != 0]
    if not terms:
        return kb.const(0.0, elem)
    terms.sort(key=lambda t: (abs(t[0]) != 1, t[0] < 0))  # stable: +1, -1, then scaled terms
    acc: SSAValue | None = None
    for c, v in terms:
        if abs(c) != 1:
            scaled = kb.value(arith.MulfOp(v, kb.const(c, elem)))
            acc = scaled if acc is None else kb.value(arith.AddfOp(acc, scaled))
        elif acc is None:
            acc = v if c > 0 else kb.value(arith.NegfOp(v))
        elif c > 0:
            acc = kb.value(arith.AddfOp(acc, v))
        else:
            acc = kb.value(arith.SubfOp(acc, v))
    assert acc is not None
    return acc


def sandwich(kb: KernelBuilder, left: np.ndarray, tile: list[list[SSAValue]], elem: Attribute) -> list[list[SSAValue]]:
    """left . tile . left^T, entry by entry."""
    rows = [[combine(kb, left[r], [tile[i][j] for i in range(len(tile))], elem) for j in range(len(tile[0]))] for r in range(left.shape[0])]
    return [[combine(kb, left[c], rows[r], elem) for c in range(left.shape[0])] for r in range(left.shape[0])]


def winograd_input_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.WinogradInputOp)
    kb = ctx.kb
    kb.algorithm = INPUT_ALGORITHM
    m = op.int_prop("tile")
    a = winograd.alpha(m)
    bt, _, _ = winograd.matrices(m)
    block = _layout(op)
    n_n, c_n, h, w = layouts.data_logical_shape(g.shape_of(op.input), block)
    pt, pl, pb, pr = op.ints("pads")
    th_n, tw_n = winograd.tile_counts(h + pt + pb - 2, w + pl + pr - 2, m)
    elem = g.elem_of(op.result)
    if block:
        shape, names = [n_n, th_n, tw_n, c_n // block, block], ["n", "th", "tw", "cb", "cl"]
    else:
        shape, names = [n_n, th_n, tw_n, c_n], ["n", "th", "tw", "c"]
    with kb.nest(shape, names, stage="compute") as ivs:
        n, th, tw = ivs[:3]
        channel = kb.affine([(ivs[3], block), (ivs[4], 1)]) if block else ivs[3]
        rows_guard = [i - pt < 0 or (th_n - 1) * m + i - pt > h - 1 for i in range(a)]
        cols_guard = [j - pl < 0 or (tw_n - 1) * m + j - pl > w - 1 for j in range(a)]
        tile: list[list[SSAValue]] = []
        for i in range(a):
            ih = kb.affine([(th, m)], i - pt)
            row = []
            for j in range(a):
                iw = kb.affine([(tw, m)], j - pl)
                row.append(_read(ctx, op.input, block, n, ivs[3:], ih, iw, (rows_guard[i], cols_guard[j]), (h, w)))
            tile.append(row)
        v = sandwich(kb, bt, tile, elem)
        t = kb.affine([(n, th_n * tw_n), (th, tw_n), (tw, 1)])
        for e in range(a):
            for u in range(a):
                kb.store(v[e][u], ctx.out, [kb.index(e * a + u), t, channel])
    ctx.emitter.reset()


def _read(
    ctx: KernelContext,
    x: SSAValue,
    block: int,
    n: SSAValue,
    channel_ivs: Sequence[SSAValue],
    ih: SSAValue,
    iw: SSAValue,
    guard: tuple[bool, bool],
    hw: tuple[int, int],
) -> SSAValue:
    """x[n, c, ih, iw] in its layout; 0 where a guarded coordinate falls outside."""
    kb = ctx.kb
    ok: SSAValue | None = None
    for needed, coord, size in ((guard[0], ih, hw[0]), (guard[1], iw, hw[1])):
        if needed:
            inside = kb.in_range(coord, 0, size)
            ok = inside if ok is None else kb.value(arith.AndIOp(ok, inside))
    if guard[0]:
        ih = kb.clamp_index(ih, 0, hw[0] - 1)
    if guard[1]:
        iw = kb.clamp_index(iw, 0, hw[1] - 1)
    idx = [n, channel_ivs[0], ih, iw, channel_ivs[1]] if block else [n, channel_ivs[0], ih, iw]
    value = ctx.emitter.emit(x, idx)
    if ok is None:
        return value
    return select(kb, ok, value, kb.const(0.0, g.elem_of(x)))


def winograd_output_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.WinogradOutputOp)
    kb = ctx.kb
    kb.algorithm = OUTPUT_ALGORITHM
    m = op.int_prop("tile")
    a = winograd.alpha(m)
    _, _, at = winograd.matrices(m)
    block = _layout(op)
    n_n, oh_n, ow_n = op.ints("output")
    k_n = g.shape_of(op.input)[2]
    th_n, tw_n = winograd.tile_counts(oh_n, ow_n, m)
    elem = g.elem_of(op.input)
    # The channel (block) loop outside the tiles: every store of an iteration
    # then shares its channel index, which proves the iterations independent.
    if block:
        shape, names = [n_n, k_n // block, th_n, tw_n, block], ["n", "kb", "th", "tw", "kl"]
    else:
        shape, names = [n_n, k_n, th_n, tw_n], ["n", "k", "th", "tw"]
    with kb.nest(shape, names, stage="compute") as ivs:
        n, channel_outer, th, tw = ivs[:4]
        channel_ivs = [channel_outer, *ivs[4:]]
        channel = kb.affine([(channel_outer, block), (ivs[4], 1)]) if block else channel_outer
        t = kb.affine([(n, th_n * tw_n), (th, tw_n), (tw, 1)])
        tile = [[ctx.emitter.emit(op.input, [kb.index(e * a + u), t, channel]) for u in range(a)] for e in range(a)]
        y = sandwich(kb, at, tile, elem)
        bias = ctx.emitter.emit(op.bias, [channel]) if op.bias is not None else None
        for i in reversed(range(m)):
            oh = _clamped(kb, th, m, i, th_n, oh_n)
            for j in reversed(range(m)):
                ow = _clamped(kb, tw, m, j, tw_n, ow_n)
                value = y[i][j] if bias is None else kb.value(arith.AddfOp(y[i][j], bias))
                idx = [n, channel_ivs[0], oh, ow, channel_ivs[1]] if block else [n, channel_outer, oh, ow]
                ctx.store_result(ctx.finish(value, idx), idx)
    ctx.emitter.reset()


def _clamped(kb: KernelBuilder, tile: SSAValue, m: int, offset: int, tiles: int, size: int) -> SSAValue:
    """tile * m + offset, clamped to the last position when the last tile can pass it."""
    pos = kb.affine([(tile, m)], offset)
    if (tiles - 1) * m + offset <= size - 1:
        return pos
    return kb.value(arith.MinSIOp(pos, kb.index(size - 1)))
