"""The search space of one kernel: the knobs of its default-schedule rule.

    space = search_space(kernel, target)
    point = space.sample(random.Random(0))        # {"rows": 4, "vectors": 2, ...}
    schedule = space.schedule(point)               # a Schedule, or None: rejected statically

Each rule in compiler/schedule/rules/ declares its knobs as it runs (see
compiler/schedule/knobs.py): the space is what the rule declared on its
default run, so the default point is always a point of the space and
`space.schedule(space.default_point())` is exactly `default_schedule`.

A point is rejected before any build when:

- a step that its knob values asked for does not apply (a split factor the
  loop cannot take, a parallel loop that does not exist or is not
  independent, a pack without column panels);
- its register tile needs more SIMD registers than the target has;
- one of its vectorize loops would stay scalar (more of them than in the
  default schedule: convert-loop-to-scf is run on the scheduled clone).

The algorithm variant (blocked or NCHW convolution) is chosen with the
layouts before convert-graph-to-loop makes the kernel, so it is not a knob.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import func

from compiler.dialects.loop import VECTORIZE
from compiler.lowering.convert_loop_to_scf import ConvertLoopToScf
from compiler.lowering.loop_vectorizer import vectorize
from compiler.schedule.knobs import Knob
from compiler.schedule.primitives import all_loops
from compiler.schedule.rules import algorithm_of, run_rule
from compiler.schedule.schedule import Schedule
from compiler.schedule.target import CpuTarget
from compiler.targets.cpu.machine import HostTarget

__all__ = ["Knob", "Point", "SearchSpace", "scalar_vector_loops", "search_space"]

Point = dict[str, Any]


def scalar_vector_loops(scheduled: func.FuncOp, target: CpuTarget) -> int:
    """Vectorize loops of a scheduled kernel that convert-loop-to-scf would leave scalar.

    Only the vectorize loops are lowered (their unrolled inner loops first, as
    convert-loop-to-scf does), on a clone of the kernel.
    """
    clone = scheduled.clone()
    try:
        lowering = ConvertLoopToScf(vector_bits=target.vector_bits)
        scalar = 0
        for loop in [lp for lp in all_loops(clone) if lp.kind == VECTORIZE]:
            for inner in reversed(all_loops(loop)[1:]):
                lowering.lower(inner)
            if isinstance(vectorize(loop, target.vector_bits), str):
                scalar += 1
        return scalar
    finally:
        clone.erase()


@dataclass
class SearchSpace:
    """The knobs of one kernel's rule, and the schedules of their points."""

    kernel: func.FuncOp
    target: CpuTarget
    knobs: list[Knob]
    _default: Schedule = field(repr=False)
    _default_scalar: int = field(default=0, repr=False)
    _cache: dict[str, Schedule | None] = field(default_factory=dict, repr=False)

    @property
    def algorithm(self) -> str:
        return algorithm_of(self.kernel)

    def default_point(self) -> Point:
        return {k.name: k.default for k in self.knobs}

    def sample(self, rng: random.Random) -> Point:
        """A point drawn uniformly, knob by knob (it may be rejected by `schedule`)."""
        return {k.name: rng.choice(k.choices) for k in self.knobs}

    def mutate(self, point: Point, rng: random.Random) -> Point:
        """The point with one knob (or two, one time in three) set to another of its choices."""
        free = [k for k in self.knobs if len(k.choices) > 1]
        out = dict(point)
        if not free:
            return out
        count = 2 if len(free) > 1 and rng.random() < 1 / 3 else 1
        for knob in rng.sample(free, count):
            out[knob.name] = rng.choice([c for c in knob.choices if c != point.get(knob.name, knob.default)])
        return out

    def size(self) -> int:
        """Points in the space, rejected ones included (the product of the choice counts)."""
        return math.prod(len(k.choices) for k in self.knobs)

    @staticmethod
    def key(point: Point) -> str:
        """Canonical JSON of a point: the same for equal points, whatever the dict order."""
        return json.dumps(point, sort_keys=True, separators=(",", ":"))

    def schedule(self, point: Point) -> Schedule | None:
        """The rule's schedule at `point`, or None when the point is rejected statically."""
        key = self.key(point)
        if key not in self._cache:
            self._cache[key] = self._schedule(point)
        return self._cache[key]

    def _schedule(self, point: Point) -> Schedule | None:
        if point == self.default_point():
            return self._default
        unknown = set(point) - {k.name for k in self.knobs}
        if unknown or any(point.get(k.name, k.default) not in k.choices for k in self.knobs):
            return None
        run = run_rule(self.kernel, self.target, {**self.default_point(), **point}, keep_kernel=True)
        assert run.kernel is not None
        try:
            if run.missed or run.registers > self.target.vector_registers:
                return None
            if scalar_vector_loops(run.kernel, self.target) > self._default_scalar:
                return None
            return run.schedule
        finally:
            run.kernel.erase()


def search_space(kernel: func.FuncOp, target: CpuTarget | None = None) -> SearchSpace:
    """The space of the kernel's rule on `target` (None: the host's, as the driver schedules for it)."""
    if target is None:
        target = HostTarget.detect().schedule_target()
    run = run_rule(kernel, target, keep_kernel=True)
    assert run.kernel is not None
    scalar = scalar_vector_loops(run.kernel, target)
    run.kernel.erase()
    return SearchSpace(kernel, target, run.knobs, run.schedule, scalar)
