"""`apply-schedule`: rewrite each kernel's loops by the schedule it carries.

The JSON schedule stays on the kernel (`loop.schedule`), with `loop.scheduled`
marking it applied, so the IR after the loop pipeline shows which schedule
made each kernel and a second run changes nothing. A schedule that does not
apply is a one-line `ScheduleError` naming the kernel, the step and the loop.
Constants that a schedule packed (`pack`) are repacked in the module here.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnitAttr
from xdsl.passes import ModulePass

from compiler.dialects.loop import SCHEDULE_ATTR, SCHEDULED_ATTR
from compiler.schedule.pack import Pack, repack_constants
from compiler.schedule.primitives import ScheduleError
from compiler.schedule.schedule import Schedule, apply_schedule, kernels


@dataclass(frozen=True)
class ApplySchedulePass(ModulePass):
    """Apply the JSON schedule in each kernel's `loop.schedule` attribute.

    `packing-only=true` applies only the schedules that `pack` a constant:
    those must be applied before the weights leave the IR (`extract-params`);
    the driver applies the others later, one function at a time in its
    lowering workers, where they run in parallel.
    """

    name = "apply-schedule"

    packing_only: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for kernel in kernels(op):
            attr = kernel.attributes.get(SCHEDULE_ATTR)
            if attr is None or SCHEDULED_ATTR in kernel.attributes:
                continue
            if not isinstance(attr, StringAttr):
                raise ScheduleError(
                    f"kernel @{kernel.sym_name.data}: '{SCHEDULE_ATTR}' must be a JSON string"
                )
            schedule = Schedule.from_json(attr.data)
            if self.packing_only and not any(isinstance(step, Pack) for step in schedule):
                continue
            apply_schedule(kernel, schedule)
            kernel.attributes[SCHEDULED_ATTR] = UnitAttr()
            repack_constants(op, kernel)
