"""Helpers shared by the default-schedule rules."""

from __future__ import annotations

from collections.abc import Sequence

from compiler.dialects.loop import ForOp
from compiler.schedule.placement import CacheWrite
from compiler.schedule.primitives import Parallel, Reorder, Split, Unroll, Vectorize, unique_axis
from compiler.schedule.target import CpuTarget
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


CHUNK_CHOICES = (0, 1, 2, 4, 8, 16, 32)
"""Values of the `chunks` knob: the parallel loop's chunk count (0: the runtime's, a few per thread)."""


def parallel_first(
    b: ScheduleBuilder,
    axes: Sequence[str | None],
    threads: int,
    target: CpuTarget,
    choices: Sequence[str] | None = None,
) -> None:
    """Run the first of `axes` that exists with at least two iterations on threads.

    Knob `parallel` (when the target has two threads or more): the loop that
    runs on threads, one of `choices` (default: `axes`), or None for none.
    Knob `chunks`: how many chunks the threads take its iterations in
    (`Parallel.chunks`; 0, the default, leaves it to the runtime).
    """
    options = [a for a in (axes if choices is None else choices) if a is not None]
    knob = target.thread_count >= 2 and bool(options)
    if knob and b.knobs.tuning:
        axis = b.knobs.pick("parallel", [None, *options], None)
        chunks = b.knobs.pick("chunks", CHUNK_CHOICES, 0)
        if axis is not None:
            require_parallel(b, axis, chunks)
        return
    chosen = None
    if threads >= 2:
        for axis in axes:
            if axis is not None and b.has(axis) and b.loop(axis).trip_count >= 2 and b.attempt(Parallel(axis)):
                chosen = axis
                break
    if knob:
        b.knobs.declare("parallel", [None, *options], chosen)
        b.knobs.declare("chunks", CHUNK_CHOICES, 0)


def require_parallel(b: ScheduleBuilder, axis: str, chunks: int = 0) -> bool:
    """Run `axis` on threads (in `chunks` chunks) as a knob asked; a missing loop or
    one of a single iteration is a miss."""
    if b.has(axis) and b.loop(axis).trip_count >= 2:
        return b.require(Parallel(axis, chunks))
    b.missed.append(Parallel(axis, chunks))
    return False


def in_order(names: Sequence[str], order: Sequence[str]) -> list[str]:
    """`names` (loops such as `kh.tail`) sorted as their base names are in `order`."""
    rank = {r.split(".")[0]: i for i, r in enumerate(order)}
    return sorted(names, key=lambda n: rank.get(n.split(".")[0], len(rank)))


def divisors(n: int, most: int) -> list[int]:
    """Divisors of `n` from 2 to `most`: unroll factors that leave no remainder."""
    return [d for d in range(2, min(n, most) + 1) if n % d == 0]


def unroll_knob(b: ScheduleBuilder, name: str, axis: str, most: int = 16) -> None:
    """Knob `name`: unroll `axis` by a factor dividing its trip count (0: not unrolled; the trip count: fully)."""
    if not b.has(axis):
        return
    factor = b.knobs.pick(name, [0, *divisors(trips(b, axis), most)], 0)
    if factor:
        b.require(Unroll(axis, factor))


def present(b: ScheduleBuilder, axes: Sequence[str]) -> list[str]:
    return [a for a in axes if b.has(a)]


def tile_row(
    b: ScheduleBuilder, axis: str, factor: int, inner: str | None, reductions: Sequence[str], *, vector_axis: bool
) -> None:
    """A perfect nest `axis -> inner -> reductions` becomes register tiles of
    `factor` iterations of `axis` x all of `inner`:

        for axis.outer:  acc = init;  for reductions: for axis.inner, inner: acc += ...;  write back

    `vector_axis`: `axis.inner` is vectorized and `inner` unrolled (an NCHW
    conv: output columns x channels), else the reverse (a blocked conv:
    columns x the channel block). The remainder of `axis` gets a tile of its own.
    """
    reds = [r for r in reductions if b.has(r)]
    if trips(b, axis) > factor:
        outer, tiled, rest = split(b, axis, factor)
    else:
        outer, tiled, rest = None, axis, None
    for nest_axis, extra in ((tiled, outer), (rest, None)):
        if nest_axis is None:
            continue
        if extra is None and nest_axis == rest:
            names = chain(b, rest)  # (axis tail, inner tail?, reductions tails)
            row, others = names[0], names[1:]
            inner_now = others[0] if inner is not None and others else None
            reds_now = others[1:] if inner_now is not None else others
            if b.knobs.tuning:  # the remainder's reductions in the order asked for (by base name)
                reds_now = in_order(reds_now, reductions)
        else:
            row, inner_now, reds_now = nest_axis, inner, reds
        tile = [row, *([inner_now] if inner_now else [])]
        order = ([extra] if extra else []) + [*reds_now, *tile]
        if len(order) > 1:
            b.attempt(Reorder(tuple(order)))
        at, position = (extra, "inside") if extra else (order[0], "around")
        before = b.names()
        if not cache_write(b, at, position):
            continue
        unrolled = [inner_now] if vector_axis and inner_now else ([] if vector_axis else [row])
        vectors = [row] if vector_axis else ([inner_now] if inner_now else [])
        annotate_tile(b, before, unrolled, vectors)
