"""What the launcher needs of a model on the GPU, as plain data: no xDSL, JSON both ways.

`build_plan` (plan.py) makes a `LaunchPlan` from a compiled module; an
exported model (export.py) holds the same facts as JSON, which `plan_from_json`
reads back into a `LoadedPlan` with the same attributes, so that the
launcher (launch.py) runs either, and `compiler.load` of an exported model
never imports xDSL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from compiler.runtime import TensorSpec


@dataclass(frozen=True)
class Buffer:
    """A kernel operand: a model input or output, or a byte range of the params or the arena."""

    space: str
    """"input", "output", "params" or "arena"."""
    index: int
    """The input's or output's position (0 for params and arena)."""
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def to_json(self) -> dict[str, Any]:
        return {"space": self.space, "index": self.index, "offset": self.offset, "shape": list(self.shape),
                "dtype": self.dtype}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> Buffer:
        space = str(d["space"])
        if space not in ("input", "output", "params", "arena"):
            raise ValueError(f"unknown buffer space {space!r}")
        return Buffer(space, int(d["index"]), int(d["offset"]), tuple(int(x) for x in d["shape"]),
                      np.dtype(str(d["dtype"])).name)


@dataclass(frozen=True)
class Call:
    kernel: str
    args: tuple[Buffer, ...]


@dataclass(frozen=True)
class LaunchEntry:
    """One `__global__` function and its launch shape (as `convert_loop_to_cuda.Launch`)."""

    function: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]


@dataclass(frozen=True)
class KernelLaunches:
    """A kernel's functions, launched in order (the part of `CudaKernel` the launcher reads)."""

    name: str
    launches: list[LaunchEntry]


class PlanLike(Protocol):
    """What the launcher reads of a plan: `LaunchPlan` and `LoadedPlan` both are."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    params: bytes
    arena_bytes: int
    calls: list[Call]
    kernels: Mapping[str, Any]
    source: str


@dataclass
class LoadedPlan:
    """A plan read back from an exported model."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    params: bytes
    arena_bytes: int
    calls: list[Call]
    kernels: dict[str, KernelLaunches]
    source: str


def _dims(value: Any) -> tuple[int, int, int]:
    x, y, z = (int(v) for v in value)
    if min(x, y, z) < 1:
        raise ValueError(f"launch dimensions must be positive, got {[x, y, z]}")
    return (x, y, z)


def plan_to_json(plan: PlanLike) -> dict[str, Any]:
    """The plan's launch table, memory plan and signature (not its weights or source) as JSON data."""
    return {
        "inputs": [s.to_json() for s in plan.inputs],
        "outputs": [s.to_json() for s in plan.outputs],
        "params_bytes": len(plan.params),
        "arena_bytes": plan.arena_bytes,
        "kernels": [
            {"name": k.name, "launches": [
                {"function": la.function, "grid": list(la.grid), "block": list(la.block)} for la in k.launches
            ]}
            for k in plan.kernels.values()
        ],
        "calls": [{"kernel": c.kernel, "args": [b.to_json() for b in c.args]} for c in plan.calls],
    }


def plan_from_json(data: Mapping[str, Any], params: bytes, source: str) -> LoadedPlan:
    """`plan_to_json`'s data back as a plan; ValueError (or KeyError, TypeError) when it does not hold together."""
    kernels = {
        str(k["name"]): KernelLaunches(
            str(k["name"]),
            [LaunchEntry(str(la["function"]), _dims(la["grid"]), _dims(la["block"])) for la in k["launches"]],
        )
        for k in data["kernels"]
    }
    calls = [Call(str(c["kernel"]), tuple(Buffer.from_json(b) for b in c["args"])) for c in data["calls"]]
    arena = int(data["arena_bytes"])
    if int(data["params_bytes"]) != len(params):
        raise ValueError(f"the weights are {len(params)} bytes, the launch table says {data['params_bytes']}")
    for call in calls:
        if call.kernel not in kernels:
            raise ValueError(f"a call of kernel '{call.kernel}', which the table does not have")
        for b in call.args:
            limit = {"params": len(params), "arena": arena}.get(b.space)
            if limit is not None and b.offset + b.nbytes > limit:
                raise ValueError(f"a buffer of kernel '{call.kernel}' ends past the {b.space} ({limit} bytes)")
    return LoadedPlan(
        [TensorSpec.from_json(s) for s in data["inputs"]],
        [TensorSpec.from_json(s) for s in data["outputs"]],
        params,
        arena,
        calls,
        kernels,
        source,
    )
