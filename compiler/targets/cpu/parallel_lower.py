"""Lower a scheduled loop-level module to LLVM IR one function at a time, in worker processes.

After `extract-params`, every kernel of a model is an independent
`func.func` over memrefs: `@main` calls the kernels, and no kernel calls
another. The rest of the pipeline (convert-loop-to-scf, widen-half-floats,
convert-to-llvm, the llvmlite translation) is most of a cold compile and
never needs two kernels at once, so it runs on one *unit* at a time: a
small module holding one defined function, the module's declarations, and
declarations of the functions it calls. `@main` is a unit of its own.

Units are spread over forked worker processes (they inherit the module,
nothing is serialized but the LLVM IR text that comes back). Each unit's
LLVM IR is a list of global values (functions, globals, declarations);
the model's IR is their concatenation in unit order, each name once, a
definition replacing a declaration. The result depends on the units alone,
never on how many workers lowered them or which one did: a parallel compile
is bit-identical to a serial one (tests/unit/test_parallel_lower.py).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import llvmlite.ir as ir
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.ir import Operation

from compiler.api import run_pipeline
from compiler.dialects import loop
from compiler.dynamic_threads import usable_cpus
from compiler.lowering.convert_parallel_to_gomp import NUM_THREADS_GLOBAL, SET_NUM_THREADS
from compiler.targets.cpu import objects
from compiler.targets.cpu.cache import ObjectCache
from compiler.targets.cpu.machine import HostTarget, compile_object
from compiler.targets.cpu.translate import to_llvmlite

T = TypeVar("T")
R = TypeVar("R")

JOBS_ENV = "COMPILER_JOBS"
"""Worker processes for the per-function lowering; 1 lowers in the calling process."""


def default_jobs() -> int:
    """COMPILER_JOBS when set, else the CPUs this process may run on."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return max(1, usable_cpus())


@dataclass
class UnitIR:
    """One unit's LLVM IR: (name, text, is a declaration) per global value, in module order."""

    values: list[tuple[str, str, bool]]
    seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds of each pass (and `translate`) on this unit."""


def unit_names(module: ModuleOp) -> list[str]:
    """The defined functions of `module`, in module order: one unit each."""
    return [
        op.sym_name.data
        for op in module.ops
        if isinstance(op, func.FuncOp) and not op.is_declaration
    ]


def unit_weight(fn: func.FuncOp) -> int:
    """A cheap size estimate to order units over workers: ops after unrolling.

    An op inside unrolled loops counts once per iteration of them, since
    convert-loop-to-scf copies it that often (a register-tiled matmul has
    about 120 loop-level ops and 2300 after lowering).
    """
    return _unrolled_ops(fn, 1)


def _unrolled_ops(op: Operation, factor: int) -> int:
    total = factor
    if isinstance(op, loop.ForOp) and op.kind == loop.UNROLL:
        factor *= max(1, -(-(op.upper - op.lower) // op.stride))
    for region in op.regions:
        for block in region.blocks:
            for inner in block.ops:
                total += _unrolled_ops(inner, factor)
    return total


def signatures(module: ModuleOp) -> dict[str, FunctionType]:
    """The type of every function `module` defines, taken before any unit is split off."""
    return {
        op.sym_name.data: op.function_type
        for op in module.ops
        if isinstance(op, func.FuncOp) and not op.is_declaration
    }


def split_unit(module: ModuleOp, name: str, defined: dict[str, FunctionType]) -> ModuleOp:
    """A module with `name`'s function (moved out of `module`), the declarations it needs.

    Module attributes and every module-level op that is not a defined function
    (declarations) are cloned into it; each function it calls that is in
    `defined` (the module's functions, see `signatures`) is declared with that type.
    """
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name)
    callees: dict[str, None] = {}
    for inner in fn.walk():
        if isinstance(inner, func.CallOp):
            callees.setdefault(inner.callee.string_value(), None)
    ops: list[Operation] = [
        op.clone()
        for op in module.ops
        if op is not fn and not (isinstance(op, func.FuncOp) and not op.is_declaration)
    ]
    for callee in callees:
        if callee in defined and callee != name:
            fn_type = defined[callee]
            ops.append(func.FuncOp.external(callee, list(fn_type.inputs), list(fn_type.outputs)))
    fn.detach()
    unit = ModuleOp([*ops, fn])
    unit.attributes.update(module.attributes)
    return unit


def _run_steps(unit: ModuleOp, pipeline: Sequence[str], seconds: dict[str, float]) -> None:
    for spec in pipeline:
        t = time.process_time()
        run_pipeline(unit, spec)
        stage = spec.split("{")[0]
        seconds[stage] = seconds.get(stage, 0.0) + time.process_time() - t


def _lower_unit_module(
    unit: ModuleOp, pipeline: Sequence[str], triple: str, seconds: dict[str, float]
) -> ir.Module:
    """Run `pipeline` (ends in the llvm dialect) on one unit; its llvmlite module."""
    _run_steps(unit, pipeline, seconds)
    t = time.process_time()
    llvm_module = to_llvmlite(unit, triple)
    seconds["translate"] = time.process_time() - t
    if llvm_module.get_identified_types() or llvm_module.metadata or llvm_module.namedmetadata:
        raise NotImplementedError("per-function lowering cannot merge LLVM types or metadata")
    return llvm_module


def lower_unit(unit: ModuleOp, pipeline: Sequence[str], triple: str) -> UnitIR:
    """Run `pipeline` (ends in the llvm dialect) on one unit; its LLVM IR global values."""
    seconds: dict[str, float] = {}
    llvm_module = _lower_unit_module(unit, pipeline, triple, seconds)
    t = time.process_time()
    values = [
        (name, str(value), bool(getattr(value, "is_declaration", False)))
        for name, value in llvm_module.globals.items()
    ]
    seconds["translate"] += time.process_time() - t
    return UnitIR(values, seconds)


SHARED_DEFINITIONS = (NUM_THREADS_GLOBAL, SET_NUM_THREADS)
"""What convert-parallel-to-gomp adds to every unit: the team-size global and
its setter. A bundle must hold each once, so only the home unit defines them."""


def link_separately(llvm_module: ir.Module, home: bool, kernels: Collection[str]) -> None:
    """Give one unit's module the linkage of an object linked beside the others.

    In one module, kernels are `internal`; as separate objects, `@main` must
    reach them, so the `kernels` (the model's functions but `@main`), defined
    or declared here, become hidden: visible to the other objects of the
    model, never exported from a shared library. `SHARED_DEFINITIONS` stay
    definitions in the `home` unit only (the global hidden, the setter
    exported); other units declare them. Functions a unit outlined stay
    internal: no other object calls them.
    """
    for name, value in llvm_module.globals.items():
        if isinstance(value, ir.Function):
            if name in SHARED_DEFINITIONS and not home:
                value.blocks.clear()
                value.linkage = ""
            elif name in kernels:
                value.linkage = "hidden"
        elif isinstance(value, ir.GlobalVariable) and name in SHARED_DEFINITIONS:
            value.linkage = "" if home else "external"
            value.storage_class = "hidden"
            if not home:
                value.initializer = None


@dataclass
class UnitObject:
    """One unit's object code and the CPU seconds of each step (and `llvm`)."""

    code: bytes
    seconds: dict[str, float] = field(default_factory=dict)


def lower_unit_object(
    unit: ModuleOp,
    home: bool,
    kernels: Collection[str],
    pipeline: Sequence[str],
    host: HostTarget,
    cache: ObjectCache | None,
) -> UnitObject:
    """`pipeline` on one unit, then LLVM -O3 and code generation: its object code."""
    seconds: dict[str, float] = {}
    # The schedule first (`function_pipeline` starts with apply-schedule):
    # one that unrolls has decided what to unroll, and LLVM's unroller
    # would only unroll it further, for about 40% of LLVM's time on it.
    scheduling = [spec for spec in pipeline[:1] if spec.startswith("apply-schedule")]
    _run_steps(unit, scheduling, seconds)
    unrolled = any(isinstance(op, loop.ForOp) and op.kind == loop.UNROLL for op in unit.walk())
    llvm_module = _lower_unit_module(unit, pipeline[len(scheduling) :], host.triple, seconds)
    link_separately(llvm_module, home, kernels)
    t = time.process_time()
    code = compile_object(str(llvm_module), host, 3, cache, loop_unrolling=not unrolled)
    seconds["llvm"] = time.process_time() - t
    return UnitObject(code, seconds)


def merge_units(units: Sequence[UnitIR], triple: str) -> str:
    """One LLVM IR module text: each name once, in first-seen order; a definition wins."""
    texts: dict[str, str] = {}
    declared: set[str] = set()
    for unit in units:
        for name, text, is_declaration in unit.values:
            if name not in texts:
                texts[name] = text
                if is_declaration:
                    declared.add(name)
            elif not is_declaration:
                if name in declared:
                    texts[name] = text
                    declared.discard(name)
                elif texts[name] != text:
                    raise ValueError(f"two units define '{name}' differently")
    lines = ['; ModuleID = ""', f'target triple = "{triple}"', 'target datalayout = ""', ""]
    lines += texts.values()
    return "\n".join(lines)


# What a forked worker runs: the function and the items (inherited, never pickled).
_FORK_STATE: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _run_one(index: int) -> tuple[int, Any]:
    assert _FORK_STATE is not None
    fn, items = _FORK_STATE
    return index, fn(items[index])


MIN_PARALLEL_OPS = 5_000
"""Below this many ops in all units (`unit_weight`: SqueezeNet's scheduled
kernels have about 20000, a two-conv test model about 1000), forking
workers costs more than it saves."""


@dataclass
class LoweredIR:
    """The model's LLVM IR text, how many processes lowered it, CPU seconds per pass."""

    text: str
    workers: int
    seconds: dict[str, float]


def fork_map(
    fn: Callable[[T], R], items: Sequence[T], weights: Sequence[int], jobs: int
) -> tuple[list[R], int]:
    """`[fn(item) for item in items]` in up to `jobs` forked workers; also how many ran.

    Workers inherit `fn` and `items` (closures over IR are fine); only the
    results travel back, pickled. Each item goes to the next free worker,
    the heaviest by `weights` first; the results come back in the items'
    order, so the output depends neither on `jobs` nor on which worker ran
    what. Where `fork` is unavailable, in a daemonic process (a
    multiprocessing pool's worker), or for one job, it is a plain loop here.
    """
    global _FORK_STATE
    jobs = min(jobs, len(items))
    if (
        jobs <= 1
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon  # a pool worker may not have children
    ):
        return [fn(item) for item in items], 1
    # Heaviest first, each to the next free worker: the weights only estimate
    # the work (unrolling multiplies some kernels' ops after lowering).
    order = sorted(range(len(items)), key=lambda i: (-weights[i], i))
    _FORK_STATE = (fn, items)
    # The workers inherit the whole IR; frozen, it is never traversed by
    # their cyclic collector (nor copied on write by it), only what they build.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            by_index = dict(pool.imap_unordered(_run_one, order, chunksize=1))
    finally:
        gc.unfreeze()
        _FORK_STATE = None
    return [by_index[i] for i in range(len(items))], jobs


def parallel_jobs(weights: Sequence[int], jobs: int | None, min_ops: int | None = None) -> int:
    """`jobs` (default: `default_jobs()`), or 1 when all `weights` sum below `min_ops`."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if sum(weights) < (MIN_PARALLEL_OPS if min_ops is None else min_ops):
        return 1
    return jobs


def lower_to_llvm_ir(
    module: ModuleOp,
    pipeline: Sequence[str],
    triple: str,
    jobs: int | None = None,
    min_ops: int | None = None,
    weights: Mapping[str, int] | None = None,
) -> LoweredIR:
    """LLVM IR text of `module` (loop level, params extracted) after `pipeline`, unit by unit.

    `module` is consumed (its functions are moved into units). Up to `jobs`
    forked worker processes (default: `default_jobs()`) lower the units; with
    1, with fewer than `min_ops` (default MIN_PARALLEL_OPS) ops in all, or
    where `fork` is unavailable, they are lowered here, one after another.
    The text is the same either way.
    """
    results, workers = map_units(
        module, lambda unit, _: lower_unit(unit, pipeline, triple), jobs, min_ops, weights
    )
    return LoweredIR(merge_units(results, triple), workers, summed_seconds(results))


U = TypeVar("U", UnitIR, UnitObject)


def map_units(
    module: ModuleOp,
    lower: Callable[[ModuleOp, str], U],
    jobs: int | None,
    min_ops: int | None,
    weights: Mapping[str, int] | None = None,
) -> tuple[list[U], int]:
    """`lower(unit, name)` for each unit of `module` (consumed), in up to `jobs` workers.

    With 1 job, with fewer than `min_ops` (default MIN_PARALLEL_OPS) ops in
    all, or where `fork` is unavailable, the units are lowered here. A unit's
    size is its entry in `weights`, else its `unit_weight` now (a schedule
    still to apply may unroll it: the driver sizes those as scheduled).
    """
    names = unit_names(module)
    defined = signatures(module)
    functions = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    known = weights or {}
    sizes = [known[n] if n in known else unit_weight(functions[n]) for n in names]
    return fork_map(
        lambda name: lower(split_unit(module, name, defined), name),
        names,
        sizes,
        parallel_jobs(sizes, jobs, min_ops),
    )


def summed_seconds(results: Sequence[UnitIR | UnitObject]) -> dict[str, float]:
    """The CPU seconds of each step, summed over the units."""
    seconds: dict[str, float] = {}
    for result in results:
        for stage, value in result.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + value
    return seconds


@dataclass
class LoweredObjects:
    """The model's object code (a bundle), how many processes built it, CPU seconds per step."""

    code: bytes
    workers: int
    seconds: dict[str, float]


def lower_to_objects(
    module: ModuleOp,
    pipeline: Sequence[str],
    host: HostTarget,
    cache: ObjectCache | None = None,
    jobs: int | None = None,
    min_ops: int | None = None,
    weights: Mapping[str, int] | None = None,
) -> LoweredObjects:
    """Object code of `module` (loop level, params extracted), one object per unit.

    Like `lower_to_llvm_ir`, but each worker also runs LLVM on its units, so
    the optimizer and the code generator run in parallel as well. Each unit
    is compiled on its own (its object, through `cache`, depends on that
    unit alone), so the bundle is the same bytes for any `jobs`. The unit
    of `@main` (else the first) is home to `SHARED_DEFINITIONS`.
    """
    names = unit_names(module)
    home = "main" if "main" in names else (names[0] if names else "")
    kernels = frozenset(names) - {"main"}
    results, workers = map_units(
        module,
        lambda unit, name: lower_unit_object(unit, name == home, kernels, pipeline, host, cache),
        jobs,
        min_ops,
        weights,
    )
    return LoweredObjects(objects.pack([r.code for r in results]), workers, summed_seconds(results))


__all__ = [
    "JOBS_ENV",
    "LoweredIR",
    "LoweredObjects",
    "default_jobs",
    "fork_map",
    "link_separately",
    "lower_to_llvm_ir",
    "lower_to_objects",
    "merge_units",
    "parallel_jobs",
    "split_unit",
    "unit_weight",
]
