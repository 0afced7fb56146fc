"""A schedule: an ordered list of primitives, serializable to JSON."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Operation

from compiler.dialects.loop import SCHEDULE_ATTR, WORKLOAD_KEY_ATTR, ForOp
from compiler.ir_walk import first_op, ops_of_type
from compiler.schedule.primitives import Primitive, ScheduleError, kernel_name


@dataclass
class Schedule:
    """Primitives applied in order to one kernel."""

    primitives: list[Primitive] = field(default_factory=list)

    def __iter__(self) -> Iterator[Primitive]:
        return iter(self.primitives)

    def __len__(self) -> int:
        return len(self.primitives)

    def append(self, primitive: Primitive) -> None:
        self.primitives.append(primitive)

    def to_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.primitives]

    def to_json(self) -> str:
        """Compact JSON: a list of `{"primitive": ..., <params>}` objects."""
        return json.dumps(self.to_list(), separators=(", ", ": "))

    @classmethod
    def from_list(cls, data: Iterable[Any]) -> Schedule:
        return cls([Primitive.from_dict(d) for d in data])

    @classmethod
    def from_json(cls, text: str) -> Schedule:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ScheduleError(f"schedule is not valid JSON: {err}") from None
        if not isinstance(data, list):
            raise ScheduleError("a schedule must be a JSON list of primitives")
        return cls.from_list(data)

    def apply(self, kernel: func.FuncOp) -> None:
        apply_schedule(kernel, self)


def apply_schedule(
    kernel: func.FuncOp, schedule: Schedule | Sequence[Primitive] | str
) -> None:
    """Apply the primitives in order, rewriting the kernel's loops in place.

    `schedule` may also be the JSON text of one. A failing primitive raises
    ScheduleError naming the kernel and the step; earlier steps stay applied
    (apply to `kernel.clone()` to keep the original).
    """
    if isinstance(schedule, str):
        schedule = Schedule.from_json(schedule)
    for index, primitive in enumerate(schedule):
        try:
            primitive.apply(kernel)
        except ScheduleError as err:
            err.message = f"kernel @{kernel_name(kernel)}, step {index} ({primitive.primitive}): {err.message}"
            err.args = (err.format(),)
            raise


def kernels(module: Operation) -> list[func.FuncOp]:
    """Functions that contain loop.for nests (normally marked `loop.kernel`)."""
    return [
        f
        for f in ops_of_type(module, func.FuncOp)
        if first_op(f, lambda op: isinstance(op, ForOp)) is not None
    ]


class ScheduleWarning(UserWarning):
    """A user-supplied schedule that did not apply: the kernel keeps its default."""


def override_schedules(module: Operation, schedules: Mapping[str, str | Sequence[Any] | Schedule]) -> list[str]:
    """Store the given schedules (by workload key) on the matching kernels.

    Each is tried on a copy of its kernel first: one that fails to apply is a
    `ScheduleWarning` naming the kernel and why, and that kernel falls back to
    its default schedule. Returns the names of the kernels overridden.
    """
    done = []
    for kernel in kernels(module):
        key = kernel.attributes.get(WORKLOAD_KEY_ATTR)
        if not isinstance(key, StringAttr) or key.data not in schedules:
            continue
        given = schedules[key.data]
        try:
            if isinstance(given, Schedule):
                schedule = given
            elif isinstance(given, str):
                schedule = Schedule.from_json(given)
            else:
                schedule = Schedule.from_list(given)
            trial = kernel.clone()
            try:
                apply_schedule(trial, schedule)
            finally:
                trial.erase()
        except ScheduleError as err:
            warnings.warn(
                f"schedule for kernel @{kernel_name(kernel)} (workload {key.data}) does not apply, "
                f"using its default: {err}",
                ScheduleWarning,
                stacklevel=2,
            )
            continue
        kernel.attributes[SCHEDULE_ATTR] = StringAttr(schedule.to_json())
        done.append(kernel_name(kernel))
    return done
