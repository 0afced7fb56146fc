"""Default schedules: one rule per compute definition, the generic rule for the rest.

A kernel's `loop.algorithm` attribute (set by its compute definition) picks
the rule; each rule derives its parameters from the loop extents and the
`CpuTarget` alone. The tuner searches the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr

from compiler.dialects.loop import ALGORITHM_ATTR
from compiler.schedule.default import generic_rule
from compiler.schedule.knobs import Knob
from compiler.schedule.primitives import Primitive
from compiler.schedule.rules.conv import conv_blocked_rule, conv_nchw_rule
from compiler.schedule.rules.matmul import matmul_rule
from compiler.schedule.rules.pool import pool_rule
from compiler.schedule.schedule import Schedule
from compiler.schedule.target import CpuTarget
from compiler.schedule.trial import ScheduleBuilder

Rule = Callable[[ScheduleBuilder, CpuTarget], None]

RULES: dict[str, Rule] = {
    "matmul": matmul_rule,
    "conv2d_NCHWc": conv_blocked_rule,
    "conv2d_nchw": conv_nchw_rule,
    "pool2d": pool_rule,
}


def algorithm_of(kernel: func.FuncOp) -> str:
    attr = kernel.attributes.get(ALGORITHM_ATTR)
    return attr.data if isinstance(attr, StringAttr) else ""


@dataclass
class RuleRun:
    """What a rule made of one kernel: the schedule, the knobs it declared, the steps it missed."""

    schedule: Schedule
    knobs: list[Knob]
    """Declared knobs with the rule's defaults (meaningful when run without knob values)."""
    missed: list[Primitive]
    """Steps that knob values asked for and that did not apply."""
    registers: int
    """The most SIMD registers one of its register tiles needs."""
    kernel: func.FuncOp | None = None
    """With `keep_kernel`: a clone of the kernel with the schedule applied (the caller erases it)."""


def run_rule(
    kernel: func.FuncOp,
    target: CpuTarget | None = None,
    knobs: Mapping[str, Any] | None = None,
    *,
    keep_kernel: bool = False,
) -> RuleRun:
    """Run the kernel's rule with the given knob values (None: its defaults); the kernel is not modified."""
    target = target or CpuTarget()
    b = ScheduleBuilder(kernel, knobs)
    RULES.get(algorithm_of(kernel), generic_rule)(b, target)
    scheduled = b.kernel.clone() if keep_kernel else None
    return RuleRun(b.finish(), list(b.knobs.declared.values()), b.missed, b.knobs.registers, scheduled)


def default_schedule(kernel: func.FuncOp, target: CpuTarget | None = None) -> Schedule:
    """A schedule for the kernel on a CPU; the kernel itself is not modified."""
    return run_rule(kernel, target).schedule
