"""Floating-point operations of a loop kernel: what GFLOP/s figures divide by.

Each float arithmetic op (add, sub, mul, div, min/max, compare, math
functions) counts once per execution, i.e. times the trip counts of the
loops around it, so a multiply-add counts two. Read from the kernel as
`convert-graph-to-loop` emits it (before any schedule), so that every
schedule of a kernel has the same count.
"""

from __future__ import annotations

from xdsl.dialects import arith, func

from compiler.dialects.loop import ForOp

_FLOAT_OPS = (
    arith.AddfOp,
    arith.SubfOp,
    arith.MulfOp,
    arith.DivfOp,
    arith.MaximumfOp,
    arith.MinimumfOp,
    arith.CmpfOp,
)


def kernel_flops(kernel: func.FuncOp) -> float:
    """Floating-point operations of one call of `kernel`."""
    total = 0.0
    for op in kernel.walk():
        if not isinstance(op, _FLOAT_OPS) and not op.name.startswith("math."):
            continue
        trips = 1
        parent = op.parent_op()
        while parent is not None and parent is not kernel:
            if isinstance(parent, ForOp):
                trips *= parent.trip_count
            parent = parent.parent_op()
        total += trips
    return total
