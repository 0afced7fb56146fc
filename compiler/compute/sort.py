"""graph.topk_indices: the k best positions along an axis, by rank counting.

The algorithm is the plain one that needs no data-dependent control flow:
each element's rank is the number of elements along the axis that beat it
(greater, or equal at a lower position; smaller for largest=0), so the ranks
of a row are a permutation of 0..n-1. Placing each position at its rank
sorts the row; the first k of it are the result. O(n^2) comparisons per row:
cheap at the lengths TopK sees in detection and decoding heads (hundreds to a
few thousand), which is why no sorting network or heap is built here.

Stages: `init` (ranks = 0), `count` (ranks += beats), `place` (order[rank] =
position) over heap scratch buffers shaped like the input, then the copy of
the first k into the result.

Where k is small next to n (a detector's top 10 of thousands of scores),
selection does less: k passes over the row, pass t taking the best element
that comes after pass t-1's pick in the order, O(n * k) comparisons and no
scratch beyond four scalars per row. Floats are ordered with NaN above
every number (as NumPy sorts them), so each pass finds an element.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import i1, i64
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.compute.builder import KernelBuilder, index, is_unsigned
from compiler.compute.common import KernelContext
from compiler.dialects import graph as g


def _beats(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute, largest: bool) -> SSAValue:
    """a strictly before b in the order (greater when largest, else smaller), as i1."""
    if dtypes.is_float(elem):
        return kb.value(arith.CmpfOp(a, b, "ogt" if largest else "olt"))
    if is_unsigned(elem):
        return kb.value(arith.CmpiOp(a, b, "ugt" if largest else "ult"))
    return kb.value(arith.CmpiOp(a, b, "sgt" if largest else "slt"))


SELECTION_RATIO = 3
"""Selection when k * SELECTION_RATIO <= n: its n * k passes cost about three
rank-counting comparisons each."""


def _before(
    kb: KernelBuilder, a: SSAValue, ia: SSAValue, b: SSAValue, ib: SSAValue, elem: Attribute, largest: bool
) -> SSAValue:
    """(a, ia) strictly before (b, ib): a beats b, or they are equal and ia < ib.
    NaN is above every number and equal to itself."""
    if dtypes.is_float(elem):
        a_nan = kb.value(arith.CmpfOp(a, a, "uno"))
        b_nan = kb.value(arith.CmpfOp(b, b, "uno"))
        high, low = (a_nan, b_nan) if largest else (b_nan, a_nan)
        nan_wins = kb.value(arith.AndIOp(high, kb.value(arith.XOrIOp(low, kb.const(True, i1)))))
        wins = kb.value(arith.OrIOp(_beats(kb, a, b, elem, largest), nan_wins))
        equal = kb.value(arith.OrIOp(kb.value(arith.CmpfOp(a, b, "oeq")), kb.value(arith.AndIOp(a_nan, b_nan))))
    else:
        wins = _beats(kb, a, b, elem, largest)
        equal = kb.value(arith.CmpiOp(a, b, "eq"))
    lower = kb.value(arith.CmpiOp(ia, ib, "slt"))
    return kb.value(arith.OrIOp(wins, kb.value(arith.AndIOp(equal, lower))))


def _topk_by_selection(ctx: KernelContext, op: g.TopKIndicesOp, axis: int, largest: bool) -> None:
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "topk_select"
    shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    n, k = shape[axis], ctx.out.shape[axis]
    outer = [s if d != axis else 1 for d, s in enumerate(shape)]
    zero = [kb.index(0)]
    none = kb.const(-1, i64)
    with kb.nest(outer, [f"d{d}" for d in range(len(shape))]) as idx:
        # The previous pick and the pass's best so far (-1: none): per row, per thread.
        prev_v, prev_i, best_v, best_i = kb.alloca(elem), kb.alloca(i64), kb.alloca(elem), kb.alloca(i64)
        kb.store(kb.const(0, elem), prev_v, zero)
        kb.store(none, prev_i, zero)
        with kb.loop(k, "t") as t:
            kb.store(kb.const(0, elem), best_v, zero)
            kb.store(none, best_i, zero)
            with kb.loop(n, "j") as j:
                em.reset()
                v = em.emit(op.input, [*idx[:axis], j, *idx[axis + 1 :]])
                position = kb.value(arith.IndexCastOp(j, i64))
                pv, pi = kb.load(prev_v, zero), kb.load(prev_i, zero)
                bv, bi = kb.load(best_v, zero), kb.load(best_i, zero)
                first = kb.value(arith.CmpiOp(pi, none, "eq"))
                eligible = kb.value(arith.OrIOp(first, _before(kb, pv, pi, v, position, elem, largest)))
                empty = kb.value(arith.CmpiOp(bi, none, "eq"))
                better = kb.value(arith.OrIOp(empty, _before(kb, v, position, bv, bi, elem, largest)))
                take = kb.value(arith.AndIOp(eligible, better))
                kb.store(kb.value(arith.SelectOp(take, v, bv)), best_v, zero)
                kb.store(kb.value(arith.SelectOp(take, position, bi)), best_i, zero)
            chosen = kb.load(best_i, zero)
            kb.store(kb.load(best_v, zero), prev_v, zero)
            kb.store(chosen, prev_i, zero)
            kb.store(chosen, ctx.out, [*idx[:axis], t, *idx[axis + 1 :]])
    em.reset()


def topk_indices_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.TopKIndicesOp)
    kb, em = ctx.kb, ctx.emitter
    shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    axis, largest = op.int_prop("axis"), bool(op.int_prop("largest"))
    if ctx.out.shape[axis] * SELECTION_RATIO <= shape[axis]:
        _topk_by_selection(ctx, op, axis, largest)
        return
    kb.algorithm = "topk_rank"
    names = [f"d{d}" for d in range(len(shape))]
    ranks = kb.alloc(i64, shape)
    order = kb.alloc(i64, shape)
    with kb.nest(shape, [f"{n}.init" for n in names], stage="init") as idx:
        kb.store(kb.const(0, i64), ranks, idx)
    with kb.nest(shape, names, stage="count") as idx:
        with kb.loop(shape[axis], "j") as j:
            em.reset()
            mine = em.emit(op.input, idx)
            other = em.emit(op.input, [*idx[:axis], j, *idx[axis + 1 :]])
            wins = _beats(kb, other, mine, elem, largest)
            equal = kb.value(
                arith.CmpfOp(other, mine, "oeq") if dtypes.is_float(elem) else arith.CmpiOp(other, mine, "eq")
            )
            lower = kb.value(arith.CmpiOp(j, idx[axis], "slt"))
            ties = kb.value(arith.AndIOp(equal, lower))
            before = kb.value(arith.OrIOp(wins, ties))
            count = kb.value(arith.AddiOp(kb.load(ranks, idx), kb.value(arith.ExtUIOp(before, i64))))
            kb.store(count, ranks, idx)
    with kb.nest(shape, [f"{n}.place" for n in names], stage="place") as idx:
        rank = kb.value(arith.IndexCastOp(kb.load(ranks, idx), index))
        rank = kb.clamp_index(rank, 0, shape[axis] - 1)
        position = kb.value(arith.IndexCastOp(idx[axis], i64))
        kb.store(position, order, [*idx[:axis], rank, *idx[axis + 1 :]])
    out_shape = ctx.out.shape
    with kb.nest(out_shape, [f"{n}.out" for n in names], stage="copy") as idx:
        kb.store(kb.load(order, idx), ctx.out, idx)
    em.reset()
    kb.dealloc(ranks)
    kb.dealloc(order)


def cumsum_kernel(ctx: KernelContext) -> None:
    """A scan along the axis: out[p] = out[p - step] + x[q] in scan order (* for CumProd).

    p walks the axis forward (or backward for `reverse`); q is p itself, or
    the previous position for `exclusive` (whose first element is the
    identity, 0 or 1). The first element reads no predecessor: a select of
    the identity with the predecessor clamped in bounds, so the nest stays a
    plain rectangle.
    """
    op = ctx.anchor
    assert isinstance(op, g.ScanOp)
    is_prod = isinstance(op, g.CumProdOp)
    kb, em = ctx.kb, ctx.emitter
    kb.algorithm = "scan"
    shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    axis = op.int_prop("axis")
    n = shape[axis]
    reverse, exclusive = bool(op.int_prop("reverse")), bool(op.int_prop("exclusive"))
    outer = [d for d in range(len(shape)) if d != axis]
    names = [f"d{d}" for d in outer]
    with kb.nest([shape[d] for d in outer], names, stage="scan") as ivs:
        with kb.loop(n, "scan") as i:
            em.reset()
            p = kb.value(arith.SubiOp(kb.index(n - 1), i)) if reverse else i
            step = 1 if reverse else -1  # the predecessor in scan order is p + step

            def at(pos: SSAValue) -> list[SSAValue]:
                full = list(ivs)
                full.insert(axis, pos)
                return full

            first = kb.value(arith.CmpiOp(i, kb.index(0), "eq"))
            prev_pos = kb.clamp_index(kb.add(p, step), 0, n - 1)
            identity = kb.const(1 if is_prod else 0, elem)
            prev = kb.value(arith.SelectOp(first, identity, kb.load(ctx.out, at(prev_pos))))
            if exclusive:
                term = kb.value(arith.SelectOp(first, identity, em.emit(op.input, at(prev_pos))))
            else:
                term = em.emit(op.input, at(p))
            value = kb.value(_combine(is_prod, dtypes.is_float(elem))(prev, term))
            kb.store(value, ctx.out, at(p))
    em.reset()


def _combine(
    is_prod: bool, is_float: bool
) -> type[arith.AddfOp | arith.AddiOp | arith.MulfOp | arith.MuliOp]:
    if is_prod:
        return arith.MulfOp if is_float else arith.MuliOp
    return arith.AddfOp if is_float else arith.AddiOp
