"""Detectors' post-processing: graph.non_max_suppression, graph.roi_align and
graph.max_roi_pool.

Both follow onnxruntime's CPU kernels operation by operation (the same float
operations in the same order), so that selections agree exactly and pooled
values to rounding.

NonMaxSuppression is a greedy scan, serial by nature. Per batch and class:
`rank` counts, for each box, the boxes that come before it (higher score, or
equal at a lower index: onnxruntime's priority queue), and places it at its
rank in `order`; `select` walks `order`, checks each box against the boxes
chosen so far (a static loop over the per-class limit, masked by the number
chosen) and appends it to the result when none suppresses it. Appends never
branch: the row is stored as itself or as what was there (a select), so
every store stays in bounds. `pad` fills the rows after the last selected
one with -1. Counters live in stack scalars, so no schedule may run these
loops in parallel (their stores are at data-dependent places).

RoiAlign's bins average (or max) a grid of bilinear samples whose count is
data-dependent when `sampling_ratio` is 0 (ceil of the bin size). Channels
are the innermost loop, so that a sample's position and weights (the costly
part) are computed once for all of them, as onnxruntime's pre-calculation
does. Loops are static: the sample loops run over a bound and mask the
iterations past the roi's grid. With sampling_ratio 0 the bound is the most samples that can
fall on the map ([-1, H] on a side; spacing is at least half a pixel, so at
most 2H + 3, plus 2 for rounding), starting from the first sample at or above
-1; samples off the map weigh 0 in onnxruntime, so skipping them changes
nothing but the work.

MaxRoiPool's bins cover a data-dependent set of pixels: the kernel runs over
the whole map for each bin and masks the pixels outside it (H x W loads per
output element; the maps that rois are pooled from are small).
"""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import i1, i64
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.compute.builder import KernelBuilder, index
from compiler.compute.common import KernelContext
from compiler.dialects import graph as g


def _f(kb: KernelBuilder, v: float, elem: Attribute) -> SSAValue:
    return kb.const(v, elem)


def _cmpf(kb: KernelBuilder, a: SSAValue, b: SSAValue, pred: str) -> SSAValue:
    return kb.value(arith.CmpfOp(a, b, pred))


def _sel(kb: KernelBuilder, c: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
    return kb.value(arith.SelectOp(c, a, b))


def _std_max(kb: KernelBuilder, a: SSAValue, b: SSAValue) -> SSAValue:
    """std::max(a, b): a < b ? b : a."""
    return _sel(kb, _cmpf(kb, a, b, "olt"), b, a)


def _std_min(kb: KernelBuilder, a: SSAValue, b: SSAValue) -> SSAValue:
    """std::min(a, b): b < a ? b : a."""
    return _sel(kb, _cmpf(kb, b, a, "olt"), b, a)


def _and(kb: KernelBuilder, *vs: SSAValue) -> SSAValue:
    acc = vs[0]
    for v in vs[1:]:
        acc = kb.value(arith.AndIOp(acc, v))
    return acc


def _to_index(kb: KernelBuilder, v: SSAValue) -> SSAValue:
    return kb.value(arith.IndexCastOp(v, index))


def _to_i64(kb: KernelBuilder, v: SSAValue) -> SSAValue:
    return kb.value(arith.IndexCastOp(v, i64))


# ---------------------------------------------------------------------------
# NonMaxSuppression


def _suppresses(
    kb: KernelBuilder, a: list[SSAValue], c: list[SSAValue], center: bool, iou: SSAValue, elem: Attribute
) -> SSAValue:
    """onnxruntime's SuppressByIOU(selected box a, candidate c) as i1, without branches:
    every early `return false` is one more conjunct."""
    fadd = lambda x, y: kb.value(arith.AddfOp(x, y))  # noqa: E731
    fsub = lambda x, y: kb.value(arith.SubfOp(x, y))  # noqa: E731
    fmul = lambda x, y: kb.value(arith.MulfOp(x, y))  # noqa: E731
    if center:
        two = _f(kb, 2.0, elem)
        half = [kb.value(arith.DivfOp(v, two)) for v in (a[2], a[3], c[2], c[3])]
        x1 = (fsub(a[0], half[0]), fadd(a[0], half[0]))
        x2 = (fsub(c[0], half[2]), fadd(c[0], half[2]))
        y1 = (fsub(a[1], half[1]), fadd(a[1], half[1]))
        y2 = (fsub(c[1], half[3]), fadd(c[1], half[3]))
    else:

        def min_max(lhs: SSAValue, rhs: SSAValue) -> tuple[SSAValue, SSAValue]:
            ge = _cmpf(kb, lhs, rhs, "oge")
            return _sel(kb, ge, rhs, lhs), _sel(kb, ge, lhs, rhs)

        x1, x2 = min_max(a[1], a[3]), min_max(c[1], c[3])
        y1, y2 = min_max(a[0], a[2]), min_max(c[0], c[2])
    ix_min, ix_max = _std_max(kb, x1[0], x2[0]), _std_min(kb, x1[1], x2[1])
    iy_min, iy_max = _std_max(kb, y1[0], y2[0]), _std_min(kb, y1[1], y2[1])
    inter = fmul(fsub(ix_max, ix_min), fsub(iy_max, iy_min))
    area1 = fmul(fsub(x1[1], x1[0]), fsub(y1[1], y1[0]))
    area2 = fmul(fsub(x2[1], x2[0]), fsub(y2[1], y2[0]))
    union = fsub(fadd(area1, area2), inter)
    zero = _f(kb, 0.0, elem)
    ratio = kb.value(arith.DivfOp(inter, union))
    return _and(
        kb,
        _cmpf(kb, ix_max, ix_min, "ogt"),
        _cmpf(kb, iy_max, iy_min, "ogt"),
        _cmpf(kb, inter, zero, "ogt"),
        _cmpf(kb, area1, zero, "ogt"),
        _cmpf(kb, area2, zero, "ogt"),
        _cmpf(kb, union, zero, "ogt"),
        _cmpf(kb, ratio, iou, "ogt"),
    )


def non_max_suppression_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.NonMaxSuppressionOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "non_max_suppression"
    batches, classes, n = g.shape_of(op.scores)
    per_class = op.int_prop("per_class")
    rows = batches * classes * per_class
    elem = g.elem_of(op.boxes)
    center = bool(op.int_prop("center_point_box"))
    ranks = kb.alloc(i64, [n])
    order = kb.alloc(i64, [n])
    chosen = kb.alloc(i64, [per_class + 1])
    counters = kb.alloca(i64, [3])  # rows written, rows of this class, suppressed flag
    c_total, c_class, c_flag = kb.index(0), kb.index(1), kb.index(2)
    kb.store(kb.const(0, i64), counters, [c_total])
    with kb.loop(batches, "b", lb=0) as b, kb.loop(classes, "c") as c:
        with kb.loop(n, "i") as i:
            kb.store(kb.const(0, i64), ranks, [i])
            with kb.loop(n, "j") as j:
                em.reset()
                mine = em.emit(op.scores, [b, c, i])
                other = em.emit(op.scores, [b, c, j])
                tie = _and(kb, _cmpf(kb, other, mine, "oeq"), kb.value(arith.CmpiOp(j, i, "slt")))
                before = kb.value(arith.OrIOp(_cmpf(kb, other, mine, "ogt"), tie))
                count = kb.value(arith.AddiOp(kb.load(ranks, [i]), kb.value(arith.ExtUIOp(before, i64))))
                kb.store(count, ranks, [i])
            rank = kb.clamp_index(_to_index(kb, kb.load(ranks, [i])), 0, n - 1)
            kb.store(_to_i64(kb, i), order, [rank])
        kb.store(kb.const(0, i64), counters, [c_class])
        with kb.loop(n, "r") as r:
            em.reset()
            box = kb.clamp_index(_to_index(kb, kb.load(order, [r])), 0, n - 1)
            score = em.emit(op.scores, [b, c, box])
            taken = kb.load(counters, [c_class])
            ok = kb.value(arith.CmpiOp(taken, em.emit(op.max_output, []), "slt"))
            ok = _and(kb, ok, kb.value(arith.CmpiOp(_to_i64(kb, box), em.emit(op.num_boxes, []), "slt")))
            if op.int_prop("has_score_threshold"):
                ok = _and(kb, ok, _cmpf(kb, score, em.emit(op.score_threshold, []), "ogt"))
            cand = [em.emit(op.boxes, [b, box, kb.index(k)]) for k in range(4)]
            iou = em.emit(op.iou_threshold, [])
            kb.store(kb.const(0, i64), counters, [c_flag])
            with kb.loop(per_class, "t") as t:
                em.reset()
                prev = kb.clamp_index(_to_index(kb, kb.load(chosen, [t])), 0, n - 1)
                sel = [em.emit(op.boxes, [b, prev, kb.index(k)]) for k in range(4)]
                live = kb.value(arith.CmpiOp(_to_i64(kb, t), kb.load(counters, [c_class]), "slt"))
                hit = _and(kb, live, _suppresses(kb, sel, cand, center, iou, elem))
                flag = kb.value(arith.OrIOp(kb.load(counters, [c_flag]), kb.value(arith.ExtUIOp(hit, i64))))
                kb.store(flag, counters, [c_flag])
            free = kb.value(arith.CmpiOp(kb.load(counters, [c_flag]), kb.const(0, i64), "eq"))
            keep = _and(kb, ok, free)
            taken_index = kb.clamp_index(_to_index(kb, taken), 0, per_class)
            kb.store(_to_i64(kb, box), chosen, [taken_index])
            # Append (batch, class, box) at row `written + taken`, or store back what is there.
            at = kb.value(arith.AddiOp(kb.load(counters, [c_total]), taken))
            at = kb.clamp_index(_to_index(kb, at), 0, max(rows - 1, 0))
            for col, value in enumerate((b, c, box)):
                old = kb.load(ctx.out, [at, kb.index(col)])
                kb.store(_sel(kb, keep, _to_i64(kb, value), old), ctx.out, [at, kb.index(col)])
            taken = kb.value(arith.AddiOp(taken, kb.value(arith.ExtUIOp(keep, i64))))
            kb.store(taken, counters, [c_class])
        total = kb.value(arith.AddiOp(kb.load(counters, [c_total]), kb.load(counters, [c_class])))
        kb.store(total, counters, [c_total])
    with kb.loop(rows, "p") as p:
        real = kb.value(arith.CmpiOp(_to_i64(kb, p), kb.load(counters, [c_total]), "slt"))
        for col in range(3):
            old = kb.load(ctx.out, [p, kb.index(col)])
            kb.store(_sel(kb, real, old, kb.const(-1, i64)), ctx.out, [p, kb.index(col)])
    em.reset()
    kb.dealloc(ranks)
    kb.dealloc(order)
    kb.dealloc(chosen)


# ---------------------------------------------------------------------------
# RoiAlign


def roi_align_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.RoiAlignOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "roi_align"
    elem = g.elem_of(op.input)
    batches, _, height, width = g.shape_of(op.input)
    out_shape = ctx.out.shape
    oh, ow = op.int_prop("output_height"), op.int_prop("output_width")
    ratio = op.int_prop("sampling_ratio")
    half_pixel = bool(op.int_prop("half_pixel"))
    is_max = op.str_prop("mode") == "max"
    cap_h, cap_w = (ratio, ratio) if ratio > 0 else (2 * height + 5, 2 * width + 5)
    fadd = lambda x, y: kb.value(arith.AddfOp(x, y))  # noqa: E731
    fsub = lambda x, y: kb.value(arith.SubfOp(x, y))  # noqa: E731
    fmul = lambda x, y: kb.value(arith.MulfOp(x, y))  # noqa: E731
    fdiv = lambda x, y: kb.value(arith.DivfOp(x, y))  # noqa: E731
    to_f = lambda v: kb.value(arith.SIToFPOp(v, elem))  # noqa: E731
    channels = out_shape[1]
    # Sample positions and weights are shared by every channel: channels innermost.
    with kb.nest([out_shape[0], oh, ow], ["r", "ph", "pw"], stage="compute") as (r, ph, pw):
        em.reset()
        scale = _f(kb, op.float_prop("spatial_scale"), elem)
        offset = _f(kb, 0.5 if half_pixel else 0.0, elem)
        start_w, start_h, end_w, end_h = (
            fsub(fmul(em.emit(op.rois, [r, kb.index(k)]), scale), offset) for k in range(4)
        )
        roi_w, roi_h = fsub(end_w, start_w), fsub(end_h, start_h)
        if not half_pixel:  # malformed rois become 1x1
            one = _f(kb, 1.0, elem)
            roi_w, roi_h = _std_max(kb, roi_w, one), _std_max(kb, roi_h, one)
        bin_h, bin_w = fdiv(roi_h, _f(kb, float(oh), elem)), fdiv(roi_w, _f(kb, float(ow), elem))
        if ratio > 0:
            grid_h = grid_w = kb.const(ratio, i64)
        else:
            grid_h, grid_w = _ceil_i64(kb, bin_h, elem), _ceil_i64(kb, bin_w, elem)
        grid_hf, grid_wf = to_f(grid_h), to_f(grid_w)
        count = to_f(kb.value(arith.MaxSIOp(kb.value(arith.MuliOp(grid_h, grid_w)), kb.const(1, i64))))
        base_y = fadd(start_h, fmul(to_f(_to_i64(kb, ph)), bin_h))
        base_x = fadd(start_w, fmul(to_f(_to_i64(kb, pw)), bin_w))
        lo_y = _first_sample(kb, base_y, bin_h, grid_hf, elem) if ratio == 0 else kb.const(0, i64)
        lo_x = _first_sample(kb, base_x, bin_w, grid_wf, elem) if ratio == 0 else kb.const(0, i64)
        batch = kb.clamp_index(_to_index(kb, em.emit(op.batch_indices, [r])), 0, batches - 1)
        with kb.loop(channels, "c.init") as c:
            kb.store(_f(kb, float("-inf") if is_max else 0.0, elem), ctx.out, [r, c, ph, pw])
        half = _f(kb, 0.5, elem)
        with kb.loop(cap_h, "iy") as ty:
            iy = kb.value(arith.AddiOp(lo_y, _to_i64(kb, ty)))
            valid_y = kb.value(arith.CmpiOp(iy, grid_h, "slt"))
            yy = fadd(base_y, fdiv(fmul(fadd(to_f(iy), half), bin_h), grid_hf))
            with kb.loop(cap_w, "ix") as tx:
                em.reset()
                ix = kb.value(arith.AddiOp(lo_x, _to_i64(kb, tx)))
                valid = _and(kb, valid_y, kb.value(arith.CmpiOp(ix, grid_w, "slt")))
                xx = fadd(base_x, fdiv(fmul(fadd(to_f(ix), half), bin_w), grid_wf))
                inside, taps = _bilinear(kb, yy, xx, height, width, elem)
                zero_f = _f(kb, 0.0, elem)
                with kb.loop(channels, "c") as c:
                    em.reset()
                    idx = [r, c, ph, pw]
                    terms = [_sel(kb, inside, fmul(w, em.emit(op.input, [batch, c, yi, xi])), zero_f) for yi, xi, w in taps]
                    acc = kb.load(ctx.out, idx)
                    if is_max:
                        sample = _std_max(kb, _std_max(kb, _std_max(kb, terms[0], terms[1]), terms[2]), terms[3])
                        new = _std_max(kb, acc, sample)
                    else:
                        new = fadd(acc, fadd(fadd(fadd(terms[0], terms[1]), terms[2]), terms[3]))
                    kb.store(_sel(kb, valid, new, acc), ctx.out, idx)
        with kb.loop(channels, "c.out") as c:
            idx = [r, c, ph, pw]
            acc = kb.load(ctx.out, idx)
            if is_max:
                zero = kb.const(0, i64)
                any_sample = _and(kb, kb.value(arith.CmpiOp(grid_h, zero, "sgt")), kb.value(arith.CmpiOp(grid_w, zero, "sgt")))
                kb.store(_sel(kb, any_sample, acc, _f(kb, 0.0, elem)), ctx.out, idx)
            else:
                kb.store(fdiv(acc, count), ctx.out, idx)
    em.reset()


def _ceil_i64(kb: KernelBuilder, v: SSAValue, elem: Attribute) -> SSAValue:
    """ceil(v) as i64, clamped to +-2^30 first (NaN: 0), so the conversion is defined."""
    v = kb.value(math.CeilOp(v))
    bound = float(1 << 30)
    v = _sel(kb, _cmpf(kb, v, _f(kb, bound, elem), "olt"), v, _f(kb, bound, elem))
    v = _sel(kb, _cmpf(kb, v, _f(kb, -bound, elem), "ogt"), v, _f(kb, -bound, elem))
    v = _sel(kb, _cmpf(kb, v, v, "ord"), v, _f(kb, 0.0, elem))
    return kb.value(arith.FPToSIOp(v, i64))


def _first_sample(kb: KernelBuilder, base: SSAValue, size: SSAValue, grid: SSAValue, elem: Attribute) -> SSAValue:
    """A grid index at or before the first sample at or above -1 (i64 >= 0):
    base + (i + 0.5) * size / grid >= -1 from i >= (-1 - base) * grid / size - 0.5,
    one less for rounding, clamped to [0, 2^30] (NaN: 0)."""
    q = kb.value(arith.DivfOp(kb.value(arith.MulfOp(kb.value(arith.SubfOp(_f(kb, -1.0, elem), base)), grid)), size))
    q = kb.value(arith.SubfOp(q, _f(kb, 0.5, elem)))
    q = _sel(kb, _cmpf(kb, q, _f(kb, 0.0, elem), "ogt"), q, _f(kb, 0.0, elem))
    q = _sel(kb, _cmpf(kb, q, _f(kb, float(1 << 30), elem), "olt"), q, _f(kb, float(1 << 30), elem))
    lo = kb.value(arith.FPToSIOp(kb.value(math.FloorOp(q)), i64))
    return kb.value(arith.MaxSIOp(kb.value(arith.SubiOp(lo, kb.const(1, i64))), kb.const(0, i64)))


def _bilinear(
    kb: KernelBuilder, y: SSAValue, x: SSAValue, height: int, width: int, elem: Attribute
) -> tuple[SSAValue, list[tuple[SSAValue, SSAValue, SSAValue]]]:
    """onnxruntime's pre_calc_for_bilinear_interpolate for one sample: whether it
    lies on the map (i1) and its four (row, col, weight) taps (rows and cols as index)."""
    inside = kb.value(
        arith.XOrIOp(
            kb.value(
                arith.OrIOp(
                    kb.value(arith.OrIOp(_cmpf(kb, y, _f(kb, -1.0, elem), "ult"), _cmpf(kb, y, _f(kb, float(height), elem), "ugt"))),
                    kb.value(arith.OrIOp(_cmpf(kb, x, _f(kb, -1.0, elem), "ult"), _cmpf(kb, x, _f(kb, float(width), elem), "ugt"))),
                )
            ),
            kb.const(1, i1),
        )
    )
    zero = _f(kb, 0.0, elem)
    taps_axes = []
    for v, n in ((y, height), (x, width)):
        v = _sel(kb, _cmpf(kb, v, zero, "ole"), zero, v)
        low = kb.value(arith.FPToSIOp(v, i64))
        last = kb.const(n - 1, i64)
        at_end = kb.value(arith.CmpiOp(low, last, "sge"))
        low = _sel(kb, at_end, last, low)
        high = _sel(kb, at_end, last, kb.value(arith.AddiOp(low, kb.const(1, i64))))
        v = _sel(kb, at_end, kb.value(arith.SIToFPOp(last, elem)), v)
        frac = kb.value(arith.SubfOp(v, kb.value(arith.SIToFPOp(low, elem))))
        rest = kb.value(arith.SubfOp(_f(kb, 1.0, elem), frac))
        lo_i = kb.clamp_index(_to_index(kb, low), 0, n - 1)
        hi_i = kb.clamp_index(_to_index(kb, high), 0, n - 1)
        taps_axes.append((lo_i, hi_i, frac, rest))
    y_low, y_high, ly, hy = taps_axes[0]
    x_low, x_high, lx, hx = taps_axes[1]
    mul = lambda a, b: kb.value(arith.MulfOp(a, b))  # noqa: E731
    taps = [
        (y_low, x_low, mul(hy, hx)),
        (y_low, x_high, mul(hy, lx)),
        (y_high, x_low, mul(ly, hx)),
        (y_high, x_high, mul(ly, lx)),
    ]
    return inside, taps


# ---------------------------------------------------------------------------
# MaxRoiPool


def max_roi_pool_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.MaxRoiPoolOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "max_roi_pool"
    elem = g.elem_of(op.input)
    batches, _, height, width = g.shape_of(op.input)
    ph_n, pw_n = op.int_prop("pooled_height"), op.int_prop("pooled_width")
    to_f = lambda v: kb.value(arith.SIToFPOp(v, elem))  # noqa: E731
    i64c = lambda v: kb.const(v, i64)  # noqa: E731

    def clamp(v: SSAValue, hi: int) -> SSAValue:
        return kb.value(arith.MinSIOp(kb.value(arith.MaxSIOp(v, i64c(0))), i64c(hi)))

    with kb.nest(ctx.out.shape, ["r", "c", "ph", "pw"], stage="compute") as idx:
        r, c, ph, pw = idx
        em.reset()
        scale = _f(kb, op.float_prop("spatial_scale"), elem)
        coord = [em.emit(op.rois, [r, kb.index(k)]) for k in range(5)]
        batch = kb.clamp_index(_to_index(kb, _trunc_i64(kb, coord[0], elem)), 0, batches - 1)
        start_w, start_h, end_w, end_h = (
            _trunc_i64(kb, kb.value(math.RoundOp(kb.value(arith.MulfOp(v, scale)))), elem) for v in coord[1:]
        )
        size_h = kb.value(arith.MaxSIOp(kb.value(arith.AddiOp(kb.value(arith.SubiOp(end_h, start_h)), i64c(1))), i64c(1)))
        size_w = kb.value(arith.MaxSIOp(kb.value(arith.AddiOp(kb.value(arith.SubiOp(end_w, start_w)), i64c(1))), i64c(1)))
        bin_h = kb.value(arith.DivfOp(to_f(size_h), _f(kb, float(ph_n), elem)))
        bin_w = kb.value(arith.DivfOp(to_f(size_w), _f(kb, float(pw_n), elem)))

        def edge(p: SSAValue, plus: int, size: SSAValue, start: SSAValue, hi: int, up: bool) -> SSAValue:
            pos = kb.value(arith.AddiOp(_to_i64(kb, p), i64c(plus))) if plus else _to_i64(kb, p)
            v = kb.value(arith.MulfOp(to_f(pos), size))
            v = _trunc_i64(kb, kb.value(math.CeilOp(v) if up else math.FloorOp(v)), elem)
            return clamp(kb.value(arith.AddiOp(v, start)), hi)

        h0, h1 = edge(ph, 0, bin_h, start_h, height, False), edge(ph, 1, bin_h, start_h, height, True)
        w0, w1 = edge(pw, 0, bin_w, start_w, width, False), edge(pw, 1, bin_w, start_w, width, True)
        lowest = _f(kb, -3.4028234663852886e38, elem)  # -FLT_MAX, as onnxruntime starts
        kb.store(lowest, ctx.out, idx)
        with kb.loop(height, "h") as h:
            hh = _to_i64(kb, h)
            in_h = _and(kb, kb.value(arith.CmpiOp(hh, h0, "sge")), kb.value(arith.CmpiOp(hh, h1, "slt")))
            with kb.loop(width, "w") as w:
                em.reset()
                ww = _to_i64(kb, w)
                inside = _and(kb, in_h, kb.value(arith.CmpiOp(ww, w0, "sge")), kb.value(arith.CmpiOp(ww, w1, "slt")))
                v = em.emit(op.input, [batch, c, h, w])
                acc = kb.load(ctx.out, idx)
                better = _and(kb, inside, _cmpf(kb, v, acc, "ogt"))
                kb.store(_sel(kb, better, v, acc), ctx.out, idx)
        empty = kb.value(
            arith.OrIOp(kb.value(arith.CmpiOp(h1, h0, "sle")), kb.value(arith.CmpiOp(w1, w0, "sle")))
        )
        kb.store(_sel(kb, empty, _f(kb, 0.0, elem), kb.load(ctx.out, idx)), ctx.out, idx)
    em.reset()


def _trunc_i64(kb: KernelBuilder, v: SSAValue, elem: Attribute) -> SSAValue:
    """static_cast<int>(v) for floats, clamped to +-2^30 first (NaN: 0) so the conversion is defined."""
    bound = float(1 << 30)
    v = _sel(kb, _cmpf(kb, v, _f(kb, bound, elem), "olt"), v, _f(kb, bound, elem))
    v = _sel(kb, _cmpf(kb, v, _f(kb, -bound, elem), "ogt"), v, _f(kb, -bound, elem))
    v = _sel(kb, _cmpf(kb, v, v, "ord"), v, _f(kb, 0.0, elem))
    return kb.value(arith.FPToSIOp(v, i64))


# ---------------------------------------------------------------------------
# NonZero


def non_zero_kernel(ctx: KernelContext) -> None:
    """A row-major scan over the input: each nonzero element's coordinates go
    to column `found` (stored as themselves or as what is there, so stores
    never branch), then the columns after the last are filled with -1."""
    op = ctx.anchor
    assert isinstance(op, g.NonZeroOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "non_zero"
    shape = g.shape_of(op.input)
    size = max(1, ctx.out.shape[1])
    elem = g.elem_of(op.input)
    found = kb.alloca(i64, [1])
    slot = kb.index(0)
    kb.store(kb.const(0, i64), found, [slot])
    with kb.loop(ctx.out.shape[1], "i") as i:
        em.reset()
        idx = kb.delinearize(i, shape)
        value = em.emit(op.input, idx)
        if elem == i1:
            nonzero = value
        elif dtypes.is_float(elem):
            nonzero = _cmpf(kb, value, kb.const(0.0, elem), "une")
        else:
            nonzero = kb.value(arith.CmpiOp(value, kb.const(0, elem), "ne"))
        count = kb.load(found, [slot])
        at = kb.clamp_index(_to_index(kb, count), 0, size - 1)
        for d, coord in enumerate(idx):
            old = kb.load(ctx.out, [kb.index(d), at])
            kb.store(_sel(kb, nonzero, _to_i64(kb, coord), old), ctx.out, [kb.index(d), at])
        kb.store(kb.value(arith.AddiOp(count, kb.value(arith.ExtUIOp(nonzero, i64)))), found, [slot])
    with kb.loop(ctx.out.shape[1], "p") as p:
        real = kb.value(arith.CmpiOp(_to_i64(kb, p), kb.load(found, [slot]), "slt"))
        for d in range(len(shape)):
            old = kb.load(ctx.out, [kb.index(d), p])
            kb.store(_sel(kb, real, old, kb.const(-1, i64)), ctx.out, [kb.index(d), p])
    em.reset()
