"""Compute definitions of reductions: reduce_*, argmax/argmin, softmax,
log_softmax and layer_norm. Injective producers are computed inline where the
reduction reads them; the epilogue runs where the result is stored."""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.ir import Attribute, SSAValue

from compiler.compute.builder import KernelBuilder, is_unsigned
from compiler.compute.common import (
    KernelContext,
    epilogue_may_change_type,
    identity_value,
    select,
)
from compiler.compute.scalar import add, max_value, min_value, mul
from compiler.dialects import graph as g
from compiler.errors import CompilerError

_KIND = {
    g.ReduceSumOp: "sum",
    g.ReduceMeanOp: "sum",
    g.ReduceMaxOp: "max",
    g.ReduceMinOp: "min",
    g.ReduceProdOp: "prod",
}


def _combine(ctx: KernelContext, kind: str, a: SSAValue, b: SSAValue) -> SSAValue:
    elem = ctx.out.elem
    if kind == "sum":
        return add(ctx.kb, a, b, elem)
    if kind == "prod":
        return mul(ctx.kb, a, b, elem)
    if kind == "max":
        return max_value(ctx.kb, a, b, elem)
    return min_value(ctx.kb, a, b, elem)


@epilogue_may_change_type
def reduce_kernel(ctx: KernelContext) -> None:
    """out = init; for every input element: out[proj] op= x; then finalize + epilogue."""
    op = ctx.anchor
    assert isinstance(op, g.ReduceOp)
    kb = ctx.kb
    kind = _KIND[type(op)]
    in_shape = g.shape_of(op.input)
    axes = set(op.ints("axes"))
    keep = op.int_prop("keepdims") != 0
    acc_shape = [1 if d in axes else n for d, n in enumerate(in_shape)]
    out_shape = list(g.shape_of(op.result))
    elem = g.elem_of(op.result)
    if ctx.out.elem != elem:
        raise CompilerError(f"{op.name}: a fused epilogue may not change the element type")

    def out_index(full: list[SSAValue]) -> list[SSAValue]:
        # Index of the output buffer for a keepdims-shaped accumulator index.
        return full if keep else [full[d] for d in range(len(in_shape)) if d not in axes]

    names = [f"d{d}" for d in range(len(in_shape))]
    with kb.nest(acc_shape, [f"{n}.init" for n in names]) as idx:
        kb.store(identity_value(kb, kind, elem), ctx.out, out_index(idx))
    ctx.emitter.reset()
    with kb.nest(in_shape, names) as idx:
        acc_idx = [kb.index(0) if d in axes else idx[d] for d in range(len(in_shape))]
        x = ctx.emitter.emit(op.input, idx)
        current = kb.load(ctx.out, out_index(acc_idx))
        kb.store(_combine(ctx, kind, current, x), ctx.out, out_index(acc_idx))
    ctx.emitter.reset()
    count = 1
    for d in axes:
        count *= in_shape[d]
    with kb.nest(out_shape, [f"{n}.out" for n in [f"d{d}" for d in range(len(out_shape))]]) as idx:
        v = kb.load(ctx.out, idx)
        if isinstance(op, g.ReduceMeanOp):
            v = _divide(kb, v, count, elem)
        kb.store(ctx.finish(v, idx), ctx.out, idx)


def _divide(kb: KernelBuilder, v: SSAValue, count: int, elem: Attribute) -> SSAValue:
    """v / count in v's type: integer means truncate toward zero (as onnxruntime and numpy)."""
    if _is_float(elem):
        return kb.value(arith.DivfOp(v, kb.const(float(count), elem)))
    divide = arith.DivUIOp if is_unsigned(elem) else arith.DivSIOp
    return kb.value(divide(v, kb.const(count, elem)))


def arg_reduce_kernel(ctx: KernelContext) -> None:
    op = ctx.anchor
    assert isinstance(op, g.ArgReduceOp)
    kb = ctx.kb
    axis = op.int_prop("axis")
    keep = op.int_prop("keepdims") != 0
    last = op.int_prop("select_last_index") != 0
    in_shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    outer = [n if d != axis else 1 for d, n in enumerate(in_shape)]
    zero = [kb.index(0)]
    with kb.nest(outer, [f"d{d}" for d in range(len(in_shape))]) as idx:
        # Locals inside the outer loops: one per thread when they run in parallel.
        best = kb.alloca(elem)
        best_i = kb.alloca(g.elem_of(op.result))
        kb.store(identity_value(kb, "max" if isinstance(op, g.ArgMaxOp) else "min", elem), best, zero)
        kb.store(kb.const(0, g.elem_of(op.result)), best_i, zero)
        with kb.loop(in_shape[axis], "r") as r:
            full = list(idx)
            full[axis] = r
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, full)
            b = kb.load(best, zero)
            pred = ("ogt" if not last else "oge") if isinstance(op, g.ArgMaxOp) else ("olt" if not last else "ole")
            # uint8 compares unsigned: 200 > 100 although its bits say -56 < 100.
            sign = "u" if is_unsigned(elem) else "s"
            better = kb.value(arith.CmpfOp(x, b, pred)) if _is_float(elem) else kb.value(
                arith.CmpiOp(x, b, sign + pred[1:])
            )
            kb.store(select(kb, better, x, b), best, zero)
            r64 = kb.value(arith.IndexCastOp(r, g.elem_of(op.result)))
            kb.store(select(kb, better, r64, kb.load(best_i, zero)), best_i, zero)
        out_idx = idx if keep else [idx[d] for d in range(len(in_shape)) if d != axis]
        kb.store(ctx.finish(kb.load(best_i, zero), out_idx), ctx.out, out_idx)


def _is_float(elem: object) -> bool:
    from compiler import dtypes

    return dtypes.is_float(elem)  # type: ignore[arg-type]


@epilogue_may_change_type
def softmax_kernel(ctx: KernelContext) -> None:
    """Per row: m = max x; out = exp(x - m); s = sum out; out = out / s (or log form)."""
    op = ctx.anchor
    assert isinstance(op, g.SoftmaxOp | g.LogSoftmaxOp)
    kb = ctx.kb
    axis = op.int_prop("axis")
    shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    outer = [n if d != axis else 1 for d, n in enumerate(shape)]
    zero = [kb.index(0)]
    log = isinstance(op, g.LogSoftmaxOp)
    with kb.nest(outer, [f"d{d}" for d in range(len(shape))]) as idx:
        m_buf, s_buf = kb.alloca(elem), kb.alloca(elem)  # per thread (see argmax)

        def row(name: str):
            return kb.loop(shape[axis], name)

        kb.store(identity_value(kb, "max", elem), m_buf, zero)
        with row("max") as r:
            full = _with(idx, axis, r)
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, full)
            kb.store(kb.value(arith.MaximumfOp(kb.load(m_buf, zero), x)), m_buf, zero)
        kb.store(kb.const(0.0, elem), s_buf, zero)
        with row("exp") as r:
            full = _with(idx, axis, r)
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, full)
            shifted = kb.value(arith.SubfOp(x, kb.load(m_buf, zero)))
            e = kb.value(math.ExpOp(shifted))
            kb.store(kb.value(arith.AddfOp(kb.load(s_buf, zero), e)), s_buf, zero)
            kb.store(shifted if log else e, ctx.out, full)
        with row("norm") as r:
            full = _with(idx, axis, r)
            v = kb.load(ctx.out, full)
            s = kb.load(s_buf, zero)
            if log:
                v = kb.value(arith.SubfOp(v, kb.value(math.LogOp(s))))
            else:
                v = kb.value(arith.MulfOp(v, kb.value(arith.DivfOp(kb.const(1.0, elem), s))))
            kb.store(ctx.finish(v, full), ctx.out, full)


def _with(idx: list[SSAValue], axis: int, v: SSAValue) -> list[SSAValue]:
    out = list(idx)
    out[axis] = v
    return out


def layer_norm_kernel(ctx: KernelContext) -> None:
    """Per row over dims [axis, rank): mean, variance (two passes), normalize."""
    op = ctx.anchor
    assert isinstance(op, g.LayerNormOp)
    kb = ctx.kb
    axis = op.int_prop("axis")
    shape = g.shape_of(op.input)
    elem = g.elem_of(op.input)
    inner = shape[axis:]
    count = 1
    for n in inner:
        count *= n
    zero = [kb.index(0)]
    inner_names = [f"d{d}" for d in range(axis, len(shape))]
    with kb.nest(list(shape[:axis]), [f"d{d}" for d in range(axis)]) as outer:
        mean_buf, var_buf = kb.alloca(elem), kb.alloca(elem)  # per thread (see argmax)
        kb.store(kb.const(0.0, elem), mean_buf, zero)
        with kb.nest(inner, [f"{n}.mean" for n in inner_names]) as idx:
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, [*outer, *idx])
            kb.store(kb.value(arith.AddfOp(kb.load(mean_buf, zero), x)), mean_buf, zero)
        inv_count = kb.const(1.0 / count, elem)
        mean = kb.value(arith.MulfOp(kb.load(mean_buf, zero), inv_count))
        kb.store(mean, mean_buf, zero)
        kb.store(kb.const(0.0, elem), var_buf, zero)
        with kb.nest(inner, [f"{n}.var" for n in inner_names]) as idx:
            ctx.emitter.reset()
            x = ctx.emitter.emit(op.input, [*outer, *idx])
            dx = kb.value(arith.SubfOp(x, kb.load(mean_buf, zero)))
            kb.store(kb.value(arith.AddfOp(kb.load(var_buf, zero), kb.value(arith.MulfOp(dx, dx)))), var_buf, zero)
        var = kb.value(arith.MulfOp(kb.load(var_buf, zero), inv_count))
        inv_std = kb.value(math.RsqrtOp(kb.value(arith.AddfOp(var, kb.const(op.float_prop("epsilon"), elem)))))
        kb.store(inv_std, var_buf, zero)
        with kb.nest(inner, [f"{n}.norm" for n in inner_names]) as idx:
            ctx.emitter.reset()
            full = [*outer, *idx]
            x = ctx.emitter.emit(op.input, full)
            y = kb.value(arith.MulfOp(kb.value(arith.SubfOp(x, kb.load(mean_buf, zero))), kb.load(var_buf, zero)))
            from compiler.compute.element import broadcast_index

            scale = ctx.emitter.emit(op.scale, broadcast_index(kb, g.shape_of(op.scale), inner, idx))
            y = kb.value(arith.MulfOp(y, scale))
            if op.bias is not None:
                bias = ctx.emitter.emit(op.bias, broadcast_index(kb, g.shape_of(op.bias), inner, idx))
                y = kb.value(arith.AddfOp(y, bias))
            kb.store(ctx.finish(y, full), ctx.out, full)
