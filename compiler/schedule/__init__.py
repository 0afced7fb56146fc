"""Schedules as data: primitives that rewrite loop nests, and schedules of them.

    from compiler.schedule import Schedule, Split, Vectorize, Parallel, apply_schedule
    s = Schedule([Split("ow", 16), Vectorize("ow.inner"), Parallel("co")])
    apply_schedule(kernel, s)            # or apply_schedule(kernel, s.to_json())
"""

from compiler.schedule.dot import Dot
from compiler.schedule.gpu_memory import CacheRead
from compiler.schedule.pack import Pack
from compiler.schedule.placement import CacheWrite, ComputeAt
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
from compiler.schedule.reduce_threads import BindReduce, BindStrided
from compiler.schedule.schedule import Schedule, apply_schedule

__all__ = [
    "PRIMITIVES",
    "Bind",
    "BindReduce",
    "BindStrided",
    "CacheRead",
    "CacheWrite",
    "ComputeAt",
    "Dot",
    "Pack",
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
    "build_kernel",
    "find_loop",
    "time_kernel",
]

_FROM_TARGETS = ("build_kernel", "time_kernel")


def __getattr__(name: str) -> object:
    # schedule sits below targets and never imports them at module import
    # time; building and timing one kernel needs the lowering and the JIT, so
    # these two names are the one exception, imported on first use (as the
    # pass registry imports the pass packages only when first asked). They
    # live in compiler.targets.cpu.kernel.
    if name in _FROM_TARGETS:
        from compiler.targets.cpu import kernel

        return getattr(kernel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
