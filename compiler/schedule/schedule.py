"""A schedule: an ordered list of primitives, serializable to JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import func
from xdsl.ir import Operation

from compiler.dialects.loop import ForOp
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
        for f in module.walk()
        if isinstance(f, func.FuncOp) and any(isinstance(op, ForOp) for op in f.walk())
    ]
