"""Building a schedule by trial: each primitive is tried on a private copy of the kernel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdsl.dialects import func

from compiler.dialects.loop import ForOp
from compiler.schedule.knobs import Knobs
from compiler.schedule.primitives import Primitive, ScheduleError, all_loops, find_loop
from compiler.schedule.schedule import Schedule


class ScheduleBuilder:
    """Applies primitives to a private copy of the kernel, keeping those that succeed.

    Default-schedule rules are written against the loops as they are after
    each step (names of split remainders are looked up, not guessed), and a
    step that does not apply is dropped, so the schedule returned always
    applies cleanly to the original kernel.

    `knobs` are the values of the rule's tunable decisions (None: the rule's
    defaults); a step that a knob asked for and that failed (`require`) is
    recorded in `missed`, so that the tuner can reject the point.
    """

    def __init__(self, kernel: func.FuncOp, knobs: Mapping[str, Any] | None = None) -> None:
        self.kernel = kernel.clone()
        self.schedule = Schedule()
        self.knobs = Knobs(knobs)
        self.missed: list[Primitive] = []

    def attempt(self, primitive: Primitive) -> bool:
        if primitive.atomic:
            try:
                primitive.apply(self.kernel)
            except ScheduleError:
                return False
            self.schedule.append(primitive)
            return True
        trial = self.kernel.clone()
        try:
            primitive.apply(trial)
        except ScheduleError:
            trial.erase()
            return False
        self.kernel.erase()
        self.kernel = trial
        self.schedule.append(primitive)
        return True

    def require(self, primitive: Primitive) -> bool:
        """`attempt` a step that a knob value asked for; a failure is recorded in `missed`."""
        if self.attempt(primitive):
            return True
        self.missed.append(primitive)
        return False

    def loop(self, axis: str) -> ForOp:
        return find_loop(self.kernel, axis)

    def has(self, axis: str) -> bool:
        return any(lp.axis_name == axis for lp in all_loops(self.kernel))

    def names(self) -> set[str]:
        return {lp.axis_name for lp in all_loops(self.kernel)}

    def new_names(self, before: set[str]) -> list[str]:
        """Loops that exist now and did not in `before`, outermost first."""
        return [lp.axis_name for lp in all_loops(self.kernel) if lp.axis_name not in before]

    def finish(self) -> Schedule:
        self.kernel.erase()
        return self.schedule
