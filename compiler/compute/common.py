"""What every compute definition gets: the kernel builder, the element emitter,
the anchor op, the group's result value and the output buffer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.compute.builder import Buffer, KernelBuilder, is_unsigned
from compiler.compute.element import ElementEmitter
from compiler.dialects import graph as g


@dataclass
class KernelContext:
    kb: KernelBuilder
    emitter: ElementEmitter
    anchor: g.GraphOp | None
    result: SSAValue  # the group's result (after the epilogue)
    out: Buffer

    def finish(self, anchor_value: SSAValue, idx: Sequence[SSAValue]) -> SSAValue:
        """The group's result at idx, given the anchor's value there (runs the epilogue)."""
        if self.anchor is None or self.result is self.anchor.results[0]:
            return anchor_value
        self.emitter.reset()
        self.emitter.overrides[self.anchor.results[0]] = lambda _idx: anchor_value
        try:
            return self.emitter.emit(self.result, idx)
        finally:
            del self.emitter.overrides[self.anchor.results[0]]
            self.emitter.reset()

    def store_result(self, value: SSAValue, idx: Sequence[SSAValue]) -> None:
        self.kb.store(value, self.out, idx)

    @property
    def has_epilogue(self) -> bool:
        return self.anchor is not None and self.result is not self.anchor.results[0]

    def epilogue_stage(self, names: Sequence[str] | None = None) -> None:
        """The fused epilogue as its own stage: out[i] = epilogue(out[i]) over the result.

        Schedules place it (`compute_at`, `cache_write`); unplaced, it is one
        more pass over the output.
        """
        if not self.has_epilogue:
            return
        kb = self.kb
        shape = self.out.shape
        names = names or [f"d{d}" for d in range(len(shape))]
        with kb.nest(shape, [f"{n}.epi" for n in names], stage="epilogue") as idx:
            self.emitter.reset()
            kb.store(self.finish(kb.load(self.out, idx), idx), self.out, idx)
        self.emitter.reset()


def epilogue_may_change_type(compute: Callable[[KernelContext], None]) -> Callable[[KernelContext], None]:
    """For compute definitions that accumulate in the output buffer.

    The graph contracts allow an epilogue that changes the element type
    (conv -> Cast, matmul -> Greater, softmax -> Cast); fuse-ops no longer
    forms such groups, but hand-written or future groupings may, and the
    output buffer then cannot hold the anchor's partial sums (the LLVM
    translation failed with mismatched operand types). In that case the
    anchor computes into a heap buffer of its own type and one loop nest over
    the result runs the epilogue from it. Same-type groups take the direct path.
    """

    @functools.wraps(compute)
    def wrapper(ctx: KernelContext) -> None:
        anchor = ctx.anchor
        if anchor is None or ctx.out.elem == g.elem_of(anchor.results[0]):
            compute(ctx)
            return
        kb = ctx.kb
        value = anchor.results[0]
        tmp = kb.alloc(g.elem_of(value), g.shape_of(value))
        compute(KernelContext(kb, ctx.emitter, anchor, value, tmp))
        ctx.emitter.reset()
        ctx.emitter.overrides[value] = lambda idx: kb.load(tmp, idx)
        try:
            shape = ctx.out.shape
            with kb.nest(shape, [f"d{d}.epi" for d in range(len(shape))], stage="epilogue") as idx:
                ctx.emitter.reset()
                kb.store(ctx.emitter.emit(ctx.result, idx), ctx.out, idx)
        finally:
            del ctx.emitter.overrides[value]
            ctx.emitter.reset()
        kb.dealloc(tmp)

    return wrapper


def identity_value(kb: KernelBuilder, kind: str, elem: Attribute) -> SSAValue:
    """The neutral element of a reduction kind (sum, prod, max, min)."""
    if kind == "sum":
        return kb.const(0, elem)
    if kind == "prod":
        return kb.const(1, elem)
    if dtypes.is_float(elem):
        return kb.const(float("-inf") if kind == "max" else float("inf"), elem)
    info_dt = dtypes.to_numpy_dtype(elem)
    import numpy as np

    info = np.iinfo(info_dt)
    return kb.const(int(info.min if kind == "max" else info.max), elem)


def select(kb: KernelBuilder, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
    return kb.value(arith.SelectOp(cond, a, b))


def widen(kb: KernelBuilder, op: g.GraphOp, *values: SSAValue) -> tuple[SSAValue, ...]:
    """Operands of a narrow integer conv or matmul (i8/ui8/i16), extended to the result's i32.

    `values` are the op's first operands, in order (input, weight); a ui8
    one is zero-extended, the others sign-extended. The product is taken in
    i32, exactly: what `vpdpbusd` (ui8 x i8) / `pmaddwd` (i16 x i16) compute
    lane by lane, which the schedule's `dot` annotation may use.
    """
    elem = g.elem_of(op.results[0])
    out: list[SSAValue] = []
    for operand, v in zip(op.operands, values, strict=False):
        if v.type == elem:
            out.append(v)
        elif is_unsigned(g.elem_of(operand)):
            out.append(kb.value(arith.ExtUIOp(v, elem)))
        else:
            out.append(kb.value(arith.ExtSIOp(v, elem)))
    return tuple(out)
