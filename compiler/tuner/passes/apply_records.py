"""`apply-records{records=r.jsonl threads=N}`: kernels take their best tuned schedule.

What `compiler.compile(..., records=)` does, as a pass, so that `compiler-opt`
shows a tuned kernel's `loop.schedule`: run it after `convert-graph-to-loop`
and before `default-schedule`, which then fills in the kernels the records
do not cover. Records match this host's CPU features and vector width, and
the thread count when one is given (0: any).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from compiler.errors import PipelineError
from compiler.schedule.schedule import override_schedules
from compiler.tuner.records import tuned_schedules


@dataclass(frozen=True)
class ApplyRecordsPass(ModulePass):
    """Stores the best recorded schedule of each kernel's workload as its `loop.schedule`."""

    name = "apply-records"

    records: str = ""
    threads: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.records:
            raise PipelineError("apply-records needs records=<file.jsonl>")
        override_schedules(op, tuned_schedules(self.records, self.threads or None))
