"""`dot`: run a vectorized integer multiply-accumulate as a widening dot product.

`{"primitive": "dot", "axis": "oc", "reduce": "ii.inner", "instruction": "pmaddwd"}`

`axis` is a vectorized loop whose only content is the loop `reduce` (a group
of g = 2 or 4 reduction iterations) accumulating `acc[.., axis] += ext(x[.., reduce]) *
ext(w[.., axis, reduce])`: the same x for every lane, the weight with the
group innermost (a `pack` of its reduction axis by g). Each vector of lanes then
takes one instruction that multiplies g narrow pairs per 32-bit lane and sums
them into it:

- `pmaddwd` (g = 2, i16 x i16, SSE2/AVX2/AVX-512BW): exact for the narrow
  operands of a quantized conv (|x| <= 255, never -32768 * -32768);
- `vpdpwssd` (g = 2, i16 x i16, AVX-512 VNNI or AVX-VNNI): pmaddwd with the
  accumulation in the same instruction;
- `vpdpbusd` (g = 4, u8 x s8 with VNNI): for convs that read u8
  activations and s8 weights, the zero point compensated in the bias
  (`narrow-integer-conv{u8-dot=true}`); exact, the four products of a
  lane summed in i32 without saturation (unlike pmaddubsw).

The choice is the schedule's (from the target's features, never assumed);
the compute definition stays the plain loop. `convert-loop-to-scf` lowers the
pair (`compiler.lowering.dot_product`); a loop it cannot match falls back to
ordinary vector code (the reduce loop is unrolled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr

from compiler.dialects.loop import UNROLL, VECTORIZE, ForOp
from compiler.schedule.primitives import Primitive, ScheduleError, find_loop

DOT_ATTR = "loop.dot"
"""String attribute on a vectorized `loop.for`: the dot-product instruction for its inner group loop."""

GROUP = {"pmaddwd": 2, "vpdpwssd": 2, "vpdpbusd": 4}
"""Reduction iterations one 32-bit lane of each instruction sums."""


@dataclass(frozen=True)
class Dot(Primitive):
    """Mark vectorized `axis` to use `instruction` over its inner group loop `reduce`."""

    primitive: ClassVar[str] = "dot"
    axis: str
    reduce: str
    instruction: str

    def __post_init__(self) -> None:
        if self.instruction not in GROUP:
            raise ValueError(f"instruction must be one of {', '.join(GROUP)}, got {self.instruction!r}")

    def apply(self, kernel: func.FuncOp) -> None:
        loop, inner = find_loop(kernel, self.axis), find_loop(kernel, self.reduce)
        if loop.kind != VECTORIZE:
            raise ScheduleError(f"dot '{self.axis}': the loop must be vectorized first")
        nested = [op for op in loop.body.block.ops if isinstance(op, ForOp)]
        if nested != [inner]:
            raise ScheduleError(f"dot '{self.axis}': its body must hold the loop '{self.reduce}' alone")
        if inner.trip_count != GROUP[self.instruction]:
            raise ScheduleError(
                f"dot '{self.axis}': {self.instruction} sums {GROUP[self.instruction]} iterations of "
                f"'{self.reduce}', which has {inner.trip_count}"
            )
        inner.kind = UNROLL
        loop.attributes[DOT_ATTR] = StringAttr(self.instruction)
