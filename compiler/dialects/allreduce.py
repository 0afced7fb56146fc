"""`loop.allreduce`: the combine step of a reduction bound to GPU threads.

The `bind_reduce` schedule primitive (compiler/schedule/reduce_threads.py)
turns a reduction loop into an explicit rfactor: each thread of a block
accumulates a strided slice of the loop into its own element of a partial
buffer (`memref<T x f32>`, indexed by the thread), and one
`loop.allreduce` folds the T partials into the accumulator:

    loop.allreduce "maximumf" %partial into %acc[%c0] : memref<128xf32>, memref<1xf32>

means `acc[c0] = max(acc[c0], max(partial[0..128]))`. Kept in the loop
dialect so that the loop interpreter runs exactly what the GPU runs (up to
the order of the combine); the CUDA emitter turns it into warp shuffles, a
`__shared__` array for the cross-warp step and a broadcast of the result to
every thread of the block. Only associative, commutative combiners are
allowed (add, mul, max, min): the threads combine in a tree, not in order.
"""

from __future__ import annotations

import math

from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    AnyFloat,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    MemRefType,
    StringAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, var_operand_def
from xdsl.utils.exceptions import VerifyException

COMBINERS: dict[str, str] = {
    "addf": "add", "mulf": "mul", "maximumf": "max", "minimumf": "min", "maxnumf": "max", "minnumf": "min",
    "addi": "add", "muli": "mul", "maxsi": "max", "minsi": "min", "maxui": "max", "minui": "min",
}
"""Supported combiners (the arith op without its `arith.` prefix) and their kind."""

OPS: dict[str, type[Operation]] = {
    "addf": arith.AddfOp, "mulf": arith.MulfOp, "maximumf": arith.MaximumfOp, "minimumf": arith.MinimumfOp,
    "maxnumf": arith.MaxnumfOp, "minnumf": arith.MinnumfOp, "addi": arith.AddiOp, "muli": arith.MuliOp,
    "maxsi": arith.MaxSIOp, "minsi": arith.MinSIOp, "maxui": arith.MaxUIOp, "minui": arith.MinUIOp,
}
"""Each combiner's arith op (the serial combine of `convert-loop-to-scf`)."""

MAX_PARTIALS = 1024
"""At most one partial per thread of a CUDA block."""


def supported_element(t: Attribute) -> bool:
    """Element types that warp shuffles move: f32, f64, i32, i64."""
    if isinstance(t, Float32Type | Float64Type):
        return True
    return isinstance(t, IntegerType) and t.width.data in (32, 64)


def identity(combiner: str, t: Attribute) -> float | int:
    """The value that leaves any other unchanged under `combiner` (a thread without data contributes it)."""
    kind = COMBINERS[combiner]
    if kind == "add":
        return 0.0 if isinstance(t, AnyFloat) else 0
    if kind == "mul":
        return 1.0 if isinstance(t, AnyFloat) else 1
    if isinstance(t, AnyFloat):
        return -math.inf if kind == "max" else math.inf
    assert isinstance(t, IntegerType)
    width = t.width.data
    if combiner.endswith("ui"):
        return 0 if kind == "max" else (1 << width) - 1
    return -(1 << (width - 1)) if kind == "max" else (1 << (width - 1)) - 1


@irdl_op_definition
class AllReduceOp(IRDLOperation):
    """`acc[indices] = combiner(acc[indices], combiner over partial[0..T])` (see the module docstring)."""

    name = "loop.allreduce"

    partial = operand_def(MemRefType)
    acc = operand_def(MemRefType)
    acc_indices = var_operand_def(IndexType)
    combiner = prop_def(StringAttr)

    assembly_format = "$combiner $partial `into` $acc `[` $acc_indices `]` attr-dict `:` type($partial) `,` type($acc)"

    def __init__(self, combiner: str, partial: SSAValue, acc: SSAValue, indices: list[SSAValue]) -> None:
        super().__init__(
            operands=[partial, acc, indices], properties={"combiner": StringAttr(combiner)}
        )

    # Duck-typed like memref.store, so that the access analysis sees the accumulator's update.
    @property
    def memref(self) -> SSAValue:
        return self.acc

    @property
    def indices(self) -> tuple[SSAValue, ...]:
        return tuple(self.acc_indices)

    def verify_(self) -> None:
        combiner = self.combiner.data
        if combiner not in COMBINERS:
            raise VerifyException(
                f"loop.allreduce: combiner '{combiner}' is not supported (add, mul, max, min: "
                + ", ".join(COMBINERS) + ")"
            )
        partial, acc = self.partial.type, self.acc.type
        assert isinstance(partial, MemRefType) and isinstance(acc, MemRefType)
        if len(partial.get_shape()) != 1 or not 1 <= partial.get_shape()[0] <= MAX_PARTIALS:
            raise VerifyException(
                f"loop.allreduce: the partials must be one per thread, memref<T x ...> with T <= {MAX_PARTIALS}, "
                f"got {partial}"
            )
        if partial.element_type != acc.element_type:
            raise VerifyException(f"loop.allreduce: partials {partial} and accumulator {acc} differ in element type")
        if not supported_element(acc.element_type):
            raise VerifyException(f"loop.allreduce: {acc.element_type} partials are not supported (f32, f64, i32, i64)")
        if len(self.acc_indices) != len(acc.get_shape()):
            raise VerifyException(
                f"loop.allreduce: {len(self.acc_indices)} indices for the rank-{len(acc.get_shape())} accumulator"
            )
