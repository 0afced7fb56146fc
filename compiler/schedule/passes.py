"""Loop-level schedule passes: `apply-schedule` and `default-schedule`.

Both work on the kernels of a module: `func.func` ops whose body holds
`loop.for` nests (normally marked `loop.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass

from compiler.dialects.loop import SCHEDULE_ATTR, SERIAL, UNROLL, VECTORIZE, ForOp
from compiler.schedule.default import CpuTarget, default_schedule
from compiler.schedule.primitives import ScheduleError
from compiler.schedule.schedule import apply_schedule


def kernels(module: ModuleOp) -> list[func.FuncOp]:
    """Functions that contain loop.for nests."""
    return [
        f
        for f in module.walk()
        if isinstance(f, func.FuncOp) and any(isinstance(op, ForOp) for op in f.walk())
    ]


@dataclass(frozen=True)
class ApplySchedulePass(ModulePass):
    """Apply the JSON schedule in each kernel's `loop.schedule` attribute, then drop it.

    A schedule that does not apply is a one-line error naming the kernel, the
    step and the loop.
    """

    name = "apply-schedule"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for kernel in kernels(op):
            attr = kernel.attributes.get(SCHEDULE_ATTR)
            if attr is None:
                continue
            if not isinstance(attr, StringAttr):
                raise ScheduleError(
                    f"kernel @{kernel.sym_name.data}: '{SCHEDULE_ATTR}' must be a JSON string"
                )
            apply_schedule(kernel, attr.data)
            del kernel.attributes[SCHEDULE_ATTR]


@dataclass(frozen=True)
class DefaultSchedulePass(ModulePass):
    """Give every unscheduled kernel the default CPU schedule (vectorize + parallel).

    Kernels that carry a `loop.schedule` or already have an annotated loop are
    left alone. With `annotate-only=true` the schedule is stored as the
    kernel's `loop.schedule` JSON instead of applied (see `apply-schedule`).
    """

    name = "default-schedule"

    vector_bits: int = 512
    """SIMD register width in bits (AVX-512: 512, AVX2: 256)."""

    threads: int = 0
    """Threads to feed with parallel loops; 0: the host's CPU count, 1: no parallel loops."""

    min_parallel_work: int = 1 << 19
    """Nests executing fewer body ops than this stay serial (see CpuTarget)."""

    annotate_only: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = CpuTarget(self.vector_bits, self.threads, self.min_parallel_work)
        for kernel in kernels(op):
            if SCHEDULE_ATTR in kernel.attributes:
                continue
            # A kernel that already runs on threads is scheduled; one whose
            # compute definition only chose vectorized/unrolled loops (a
            # register tile) still gets its parallel outer loop here.
            if any(isinstance(o, ForOp) and o.kind not in (SERIAL, VECTORIZE, UNROLL) for o in kernel.walk()):
                continue
            schedule = default_schedule(kernel, target)
            if self.annotate_only:
                kernel.attributes[SCHEDULE_ATTR] = StringAttr(schedule.to_json())
            else:
                apply_schedule(kernel, schedule)
