"""Tuning tasks: the unique kernels of a model, by workload key.

A model's kernels come from the same pipeline `compiler.compile` runs, up to
`convert-graph-to-loop`: graph passes, memory planning, one loop kernel per
fused group. Identical kernels are already shared there (one `func.func`,
several calls); kernels with the same workload key are one task whose
weight is how often the model calls them per inference. A task's share of
the model's time (weight x cost under the default schedule) orders the
tuning: the tuner spends its trials where the time goes, as Ansor's task
scheduler does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import onnx
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr

from compiler.api import run_pipeline
from compiler.dialects.loop import ALGORITHM_ATTR, WORKLOAD_ATTR, WORKLOAD_KEY_ATTR
from compiler.driver import graph_pipeline, precision_pipeline
from compiler.interpreter import main_function
from compiler.schedule.flops import kernel_flops
from compiler.schedule.schedule import kernels


@dataclass
class Task:
    """One unique kernel of a model: what the tuner searches schedules for."""

    key: str
    """The kernel's `loop.workload_key`: the key of its tuning records."""
    kernel: func.FuncOp
    """The kernel as `convert-graph-to-loop` leaves it (inside its module)."""
    name: str
    algorithm: str
    workload: str
    """The workload as JSON (op, attributes, shapes, dtypes, epilogue)."""
    weight: int
    """Calls per inference."""
    flops: float
    """Floating-point operations per call (a multiply-add counts two)."""
    default_cost: float | None = None
    """Seconds per call under the default schedule, once measured."""

    def describe(self) -> str:
        """A short line: the kernel's op and argument shapes."""
        try:
            data = json.loads(self.workload)
        except ValueError:
            return self.name
        shapes = " ".join("x".join(map(str, s)) or "scalar" for s in data.get("shapes", []))
        op = str(data.get("op", "")).removeprefix("graph.")
        epilogue = "+".join(e.removeprefix("graph.") for e in data.get("epilogue", []))
        return f"{op}{'+' + epilogue if epilogue else ''} {shapes}"


def loop_module(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    opt_level: int = 3,
    precision: str = "fp32",
    specialize: Mapping[str, Any] | None = None,
) -> ModuleOp:
    """The model at loop level, unscheduled: what `compile` has after `convert-graph-to-loop`."""
    from compiler.frontend.onnx import import_onnx

    module = import_onnx(model, input_shapes=input_shapes, specialize=specialize)
    if precision != "fp32":
        run_pipeline(module, precision_pipeline(precision))
    run_pipeline(module, graph_pipeline(opt_level))
    run_pipeline(module, "plan-memory")
    run_pipeline(module, "convert-graph-to-loop")
    return module


def _calls(module: ModuleOp) -> dict[str, int]:
    counts: dict[str, int] = {}
    for op in main_function(module).walk():
        if isinstance(op, func.CallOp):
            name = op.callee.root_reference.data
            counts[name] = counts.get(name, 0) + 1
    return counts


def _text(kernel: func.FuncOp, attr: str) -> str:
    value = kernel.attributes.get(attr)
    return value.data if isinstance(value, StringAttr) else ""


def extract_tasks(module: ModuleOp) -> list[Task]:
    """The unique kernels of a loop-level module, one task per workload key, in call order."""
    calls = _calls(module)
    tasks: dict[str, Task] = {}
    for kernel in kernels(module):
        key = _text(kernel, WORKLOAD_KEY_ATTR)
        name = kernel.sym_name.data
        if not key:
            continue
        count = calls.get(name, 0)
        if key in tasks:
            tasks[key].weight += count
            continue
        tasks[key] = Task(
            key=key,
            kernel=kernel,
            name=name,
            algorithm=_text(kernel, ALGORITHM_ATTR),
            workload=_text(kernel, WORKLOAD_ATTR),
            weight=count,
            flops=kernel_flops(kernel),
        )
    return [t for t in tasks.values() if t.weight > 0]


def order_by_share(tasks: Sequence[Task]) -> list[Task]:
    """Tasks by their share of the model's time (weight x default cost), largest first.

    Tasks not measured yet are ordered by weighted FLOPs, after the measured ones.
    """
    return sorted(
        tasks,
        key=lambda t: (
            t.default_cost is None,
            -(t.weight * t.default_cost) if t.default_cost is not None else -(t.weight * t.flops),
        ),
    )


def shares(tasks: Sequence[Task]) -> dict[str, float]:
    """Each measured task's fraction of the summed weighted default cost."""
    total = sum(t.weight * t.default_cost for t in tasks if t.default_cost is not None)
    if total <= 0:
        return {}
    return {t.key: t.weight * t.default_cost / total for t in tasks if t.default_cost is not None}
