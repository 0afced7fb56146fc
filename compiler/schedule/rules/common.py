"""Helpers shared by the default-schedule rules."""

from __future__ import annotations

from collections.abc import Sequence

from compiler.dialects.loop import ForOp
from compiler.schedule.placement import CacheWrite
from compiler.schedule.primitives import Parallel, Split, Unroll, Vectorize, unique_axis
from compiler.schedule.trial import ScheduleBuilder


def trips(b: ScheduleBuilder, axis: str) -> int:
    """Iterations of a loop; 1 for a loop the compute definition did not emit (extent 1)."""
    return b.loop(axis).trip_count if b.has(axis) else 1


def chain(b: ScheduleBuilder, root: str) -> list[str]:
    """Axis names of the perfect nest under `root`, outermost first."""
    loop: ForOp | None = b.loop(root)
    names = []
    while loop is not None:
        names.append(loop.axis_name)
        children = loop.child_loops()
        loop = children[0] if len(children) == 1 else None
    return names


def split(b: ScheduleBuilder, axis: str, factor: int) -> tuple[str, str, str | None]:
    """Split `axis` by `factor`: (outer, inner, the remainder nest's root or None)."""
    tail = unique_axis(b.kernel, f"{axis}.tail")
    if not b.attempt(Split(axis, factor)):
        return axis, axis, None
    return f"{axis}.outer", f"{axis}.inner", tail if b.has(tail) else None


def mirrors(b: ScheduleBuilder, axis: str, before: set[str]) -> list[str]:
    """`axis` and the loops `cache_write` / `compute_at` made in its image since `before`."""
    made = [n for n in b.new_names(before) if any(n.startswith(f"{axis}.{s}") for s in ("init", "wb", "epi"))]
    return [axis, *made]


def annotate_tile(b: ScheduleBuilder, before: set[str], unroll: Sequence[str], vector: Sequence[str]) -> None:
    """Unroll / vectorize the tile loops and their init and write-back images."""
    for axis in unroll:
        for name in mirrors(b, axis, before):
            b.attempt(Unroll(name))
    for axis in vector:
        for name in mirrors(b, axis, before):
            b.attempt(Vectorize(name))


def cache_write(b: ScheduleBuilder, axis: str, position: str = "inside") -> bool:
    return b.attempt(CacheWrite(axis, position))


def parallel_first(b: ScheduleBuilder, axes: Sequence[str | None], threads: int) -> None:
    """Run the first of `axes` that exists with at least two iterations on threads."""
    if threads < 2:
        return
    for axis in axes:
        if axis is not None and b.has(axis) and b.loop(axis).trip_count >= 2 and b.attempt(Parallel(axis)):
            return
