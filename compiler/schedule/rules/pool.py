"""Default schedule of `pool2d`: the window reduction accumulates in the output row.

    for n, c (threads), oh:
      out[.., oh, :] = init                      compute_at init at the row
      for kh, kw:  for ow (vector):  out = max/+ (out, x)
      out[.., oh, :] = epilogue(out)             compute_at epilogue at the row

In the blocked layout the channel lane `cl` is the vector and the output
column `ow` the row. No intermediate tensor is stored, and the row stays in L1.

Knobs (see compiler/schedule/knobs.py): `unroll_kw` (the window column),
and the generic rule's `parallel.<nest>`.
"""

from __future__ import annotations

from compiler.dialects.loop import ForOp
from compiler.schedule.default import parallelize_nests
from compiler.schedule.placement import ComputeAt
from compiler.schedule.primitives import Reorder, Vectorize
from compiler.schedule.rules.common import mirrors, present, unroll_knob
from compiler.schedule.stages import EPILOGUE, INIT, stage_nests
from compiler.schedule.target import CpuTarget
from compiler.schedule.trial import ScheduleBuilder


def pool_rule(b: ScheduleBuilder, target: CpuTarget) -> None:
    blocked = b.has("cl")
    vector = "cl" if blocked else "ow"
    row = "ow" if blocked else "oh"
    if b.has(vector):
        window = present(b, ["kh", "kw"])
        if window:
            b.attempt(Reorder((*window, vector)))  # the vector loop innermost, below the window
    at = row if b.has(row) else _enclosing(b, vector)
    before = b.names()
    if at is not None:
        for stage in (INIT, EPILOGUE):
            if stage_nests(b.kernel, stage):
                b.attempt(ComputeAt(stage, at))
    if b.has(vector):
        for name in mirrors(b, vector, before):
            b.attempt(Vectorize(name))
    unroll_knob(b, "unroll_kw", "kw")
    parallelize_nests(b, target)


def _enclosing(b: ScheduleBuilder, axis: str) -> str | None:
    if not b.has(axis):
        return None
    parent = next(b.loop(axis).enclosing_loops(), None)
    return parent.axis_name if isinstance(parent, ForOp) else None
