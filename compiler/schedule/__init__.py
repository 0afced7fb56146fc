"""Schedules as data: primitives that rewrite loop nests, and schedules of them.

    from compiler.schedule import Schedule, Split, Vectorize, Parallel, apply_schedule
    s = Schedule([Split("ow", 16), Vectorize("ow.inner"), Parallel("co")])
    apply_schedule(kernel, s)            # or apply_schedule(kernel, s.to_json())
"""

from compiler.schedule.primitives import (
    PRIMITIVES,
    Bind,
    Fuse,
    Parallel,
    Primitive,
    Reorder,
    ScheduleError,
    Split,
    Unroll,
    Vectorize,
    all_loops,
    find_loop,
)
from compiler.schedule.schedule import Schedule, apply_schedule

__all__ = [
    "PRIMITIVES",
    "Bind",
    "Fuse",
    "Parallel",
    "Primitive",
    "Reorder",
    "Schedule",
    "ScheduleError",
    "Split",
    "Unroll",
    "Vectorize",
    "all_loops",
    "apply_schedule",
    "find_loop",
]
