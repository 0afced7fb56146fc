"""`default-schedule`: give every kernel without a schedule its default one, as data.

The schedule is stored as the kernel's `loop.schedule` JSON attribute, not
applied: `apply-schedule` applies it, so that a schedule chosen elsewhere (a
user's override, a tuning record) goes through the same door. The rule is
chosen by the kernel's `loop.algorithm` (see `compiler.schedule.rules`); the
target description comes from the options, which the driver fills in from
the host (`HostTarget.schedule_target()`). With `target=cuda` every kernel
gets the GPU schedule instead (`compiler.schedule.rules.gpu`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass

from compiler.dialects.loop import SCHEDULE_ATTR
from compiler.errors import CompilerError
from compiler.schedule.rules import RuleRun, default_schedule, run_rule
from compiler.schedule.rules.gpu import gpu_default_schedule
from compiler.schedule.schedule import kernels
from compiler.schedule.target import CpuTarget, GpuTarget


@dataclass(frozen=True)
class DefaultSchedulePass(ModulePass):
    """Store the default schedule (CPU, or GPU with `target=cuda`) on every kernel that has none."""

    name = "default-schedule"

    vector_bits: int = CpuTarget.vector_bits
    """SIMD register width in bits (AVX-512: 512, AVX2: 256)."""

    vector_registers: int = CpuTarget.vector_registers
    """SIMD registers (AVX-512: 32, AVX2: 16): bounds the register tiles."""

    threads: int = CpuTarget.threads
    """Threads to feed with parallel loops; 0: the host's CPU count, 1: no parallel loops."""

    min_parallel_work: int = CpuTarget.min_parallel_work
    """Nests executing fewer body ops than this stay serial (see CpuTarget)."""

    int_dot: str = CpuTarget.int_dot
    """Integer dot-product instruction: vpdpbusd (VNNI), pmaddwd, or none (see CpuTarget)."""

    target: str = "cpu"
    """`cpu`, or `cuda`: GPU schedules (loops bound to blocks and threads)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.target == "cuda":
            for kernel in kernels(op):
                if SCHEDULE_ATTR not in kernel.attributes:
                    kernel.attributes[SCHEDULE_ATTR] = StringAttr(gpu_default_schedule(kernel, GpuTarget()).to_json())
            return
        if self.target != "cpu":
            raise CompilerError(f"default-schedule: target {self.target!r} does not exist", hint="use cpu or cuda")
        for kernel in self.unscheduled(op):
            kernel.attributes[SCHEDULE_ATTR] = StringAttr(self.schedule_json(kernel))

    def unscheduled(self, op: ModuleOp) -> list[func.FuncOp]:
        """The kernels that get a default schedule, in module order."""
        return [kernel for kernel in kernels(op) if SCHEDULE_ATTR not in kernel.attributes]

    def schedule_json(self, kernel: func.FuncOp) -> str:
        """The CPU default schedule of one kernel, as JSON (depends on nothing else:
        the driver computes kernels' schedules in parallel with this)."""
        return default_schedule(kernel, self.cpu_target()).to_json()

    def rule_run(self, kernel: func.FuncOp) -> RuleRun:
        """`schedule_json`'s rule run, with the kernel as its schedule leaves it (`RuleRun.kernel`,
        a clone for the caller to erase): what the driver sizes the lowering work by."""
        return run_rule(kernel, self.cpu_target(), keep_kernel=True)

    def cpu_target(self) -> CpuTarget:
        if self.target != "cpu":
            raise CompilerError(f"default-schedule: target {self.target!r} does not exist", hint="use cpu or cuda")
        return CpuTarget(
            self.vector_bits,
            self.vector_registers,
            self.threads,
            int_dot="" if self.int_dot == "none" else self.int_dot,
            min_parallel_work=self.min_parallel_work,
        )
