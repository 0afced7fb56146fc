"""What every compute definition gets: the kernel builder, the element emitter,
the anchor op, the group's result value and the output buffer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.lowering.compute.element import ElementEmitter
from compiler.lowering.kernel_builder import Buffer, KernelBuilder


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
