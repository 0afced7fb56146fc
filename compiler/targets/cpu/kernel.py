"""One loop kernel alone: compile it for the host and call it on numpy arrays.

    from compiler.schedule import build_kernel, time_kernel
    built = build_kernel(kernel, [{"primitive": "split", "axis": "w", "factor": 4}])
    args = built.random_args(seed=0)     # one array per argument: inputs..., output
    built(*args)                         # runs in place: args[-1] holds the result
    costs = time_kernel(built, args, repeat=5, min_repeat_ms=50)   # seconds per run

`kernel` is a `func.func` marked `loop.kernel` (see compiler/dialects/loop.py)
inside its module, as `convert-graph-to-loop` leaves it. `build_kernel`
clones it (with the symbols it references) into a module of its own, applies
the schedule to the clone, lowers it (`convert-loop-to-scf` with the host's
vector width, then `convert-to-llvm`) and JIT-compiles it at LLVM -O3 for the host CPU; the kernel itself is left
untouched. `compile_kernel` is the same without loading: it returns the ELF
object (`KernelObject`), which another process can load (the tuner's builders
compile, its runner loads and times). After `convert-to-llvm` every memref argument is a bare pointer to
its first element (see convert-func-to-llvm), so an argument is a C-contiguous
numpy array of exactly the memref's shape and element type.

This sits in targets (it needs the lowering and the JIT); `compiler.schedule`
re-exports both functions lazily (see its `__getattr__`).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    MemRefType,
    ModuleOp,
    NoneAttr,
    StridedLayoutAttr,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
)
from xdsl.ir import Attribute, Operation
from xdsl.traits import SymbolTable

from compiler import dtypes
from compiler.api import run_pipeline
from compiler.dialects.loop import KERNEL_ATTR, SCHEDULE_ATTR, SCHEDULED_ATTR
from compiler.errors import CompilerError, InputError
from compiler.schedule.pack import packings
from compiler.schedule.schedule import Schedule, apply_schedule
from compiler.targets.cpu.cache import ObjectCache
from compiler.targets.cpu.jit import JITModule, llvm_module, load_object, resolve_cache, signatures
from compiler.targets.cpu.machine import HostTarget, compile_object
from compiler.targets.cpu.translate import to_llvm_ir


@dataclass(frozen=True)
class ArgSpec:
    """Shape and element type of one kernel argument."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def __str__(self) -> str:
        return f"{'x'.join(map(str, self.shape)) or 'scalar'} {self.dtype.name}"


class BuiltKernel:
    """A compiled kernel: call it with one numpy array per argument; it runs in place."""

    def __init__(
        self, name: str, arg_specs: Sequence[ArgSpec], handle: JITModule, llvm_ir: ModuleOp
    ) -> None:
        self.name = name
        self.arg_specs: tuple[ArgSpec, ...] = tuple(arg_specs)
        self.handle = handle  # keeps the MCJIT engine, hence the code, alive
        self.module = llvm_ir
        """The lowered (llvm dialect) module, for inspection."""
        self._fn = handle.function(name, None, [ctypes.c_void_p] * len(self.arg_specs))

    def set_num_threads(self, count: int) -> None:
        """Team size of the kernel's parallel loops; 0 lets libgomp decide."""
        if count < 0:
            raise CompilerError(f"thread count must be >= 0, got {count}")
        self.handle.set_num_threads(count)

    def check_args(self, args: Sequence[Any]) -> list[int]:
        """Data pointers of `args` after checking them against `arg_specs`."""
        if len(args) != len(self.arg_specs):
            raise InputError(
                f"kernel @{self.name} takes {len(self.arg_specs)} arrays "
                f"({', '.join(map(str, self.arg_specs))}), got {len(args)}"
            )
        pointers = []
        for i, (arg, spec) in enumerate(zip(args, self.arg_specs, strict=True)):
            if not isinstance(arg, np.ndarray):
                raise InputError(
                    f"kernel @{self.name}: argument {i} must be a numpy array, "
                    f"got {type(arg).__name__}"
                )
            if arg.shape != spec.shape or arg.dtype != spec.dtype:
                got = ArgSpec(tuple(arg.shape), arg.dtype)
                raise InputError(f"kernel @{self.name}: argument {i} must be {spec}, got {got}")
            if not arg.flags["C_CONTIGUOUS"]:
                raise InputError(
                    f"kernel @{self.name}: argument {i} is not C-contiguous",
                    hint="pass np.ascontiguousarray(x)",
                )
            if not arg.flags["WRITEABLE"]:
                raise InputError(
                    f"kernel @{self.name}: argument {i} is read-only",
                    hint="the kernel may write any argument; pass a writeable copy",
                )
            pointers.append(arg.ctypes.data)
        return pointers

    def __call__(self, *args: np.ndarray) -> None:
        self._fn(*self.check_args(args))

    def call_pointers(self, pointers: Sequence[int]) -> None:
        """Run on already checked data pointers (`check_args`), without any check."""
        self._fn(*pointers)

    def random_args(self, seed: int = 0) -> list[np.ndarray]:
        """Seeded arrays for every argument (see `random_arrays`)."""
        return random_arrays(self.arg_specs, seed)

    def __repr__(self) -> str:
        return f"BuiltKernel(@{self.name}: {', '.join(map(str, self.arg_specs))})"


def random_arrays(specs: Sequence[ArgSpec], seed: int = 0) -> list[np.ndarray]:
    """Seeded arrays for `specs`: floats ~ N(0, 1), integers in [0, 2), random bools."""
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        if spec.dtype.kind == "f":
            a = rng.standard_normal(spec.shape).astype(spec.dtype)
        elif spec.dtype.kind == "b":
            a = rng.random(spec.shape) < 0.5
        else:
            a = rng.integers(0, 2, spec.shape).astype(spec.dtype)
        out.append(np.ascontiguousarray(a))
    return out


def _arg_spec(kernel: func.FuncOp, i: int, t: Attribute) -> ArgSpec:
    name = kernel.sym_name.data
    if not isinstance(t, MemRefType):
        raise CompilerError(f"kernel @{name}: argument {i} is {t}, not a memref")
    shape = tuple(t.get_shape())
    if any(d < 0 for d in shape):
        raise CompilerError(f"kernel @{name}: argument {i} ({t}) has a dynamic shape")
    layout = t.layout
    if not isinstance(layout, NoneAttr) and not (
        isinstance(layout, StridedLayoutAttr)
        and layout.get_strides() == _contiguous_strides(shape)
        and layout.get_offset() in (0, None)
    ):
        raise CompilerError(f"kernel @{name}: argument {i} ({t}) is not contiguous")
    return ArgSpec(shape, dtypes.to_numpy_dtype(t.get_element_type()))


def _contiguous_strides(shape: tuple[int, ...]) -> list[int]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return strides[::-1]


def _referenced_symbols(op: Operation) -> set[str]:
    """Root names of the symbols that `op` and its nested ops refer to."""
    found: set[str] = set()
    for inner in op.walk():
        for attr in (*inner.attributes.values(), *inner.properties.values()):
            if isinstance(attr, SymbolRefAttr):
                found.add(attr.root_reference.data)
    return found


def kernel_module(kernel: func.FuncOp) -> ModuleOp:
    """A fresh module holding a public clone of `kernel` and the symbols it references."""
    clone = kernel.clone()
    clone.sym_visibility = None  # public: the JIT exports only external symbols
    if KERNEL_ATTR not in clone.attributes:
        raise CompilerError(
            f"@{kernel.sym_name.data} is not a loop kernel (no '{KERNEL_ATTR}' attribute)"
        )
    ops: list[Operation] = []
    parent = kernel.parent_op()
    seen = {kernel.sym_name.data}
    pending = sorted(_referenced_symbols(clone) - seen)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        found = SymbolTable.lookup_symbol(parent, name) if parent is not None else None
        if found is None:
            raise CompilerError(
                f"kernel @{kernel.sym_name.data} refers to @{name}, which its module lacks"
            )
        ops.append(found.clone())
        pending.extend(sorted(_referenced_symbols(found) - seen))
    return ModuleOp([*ops, clone])


def lowering_pipeline(host: HostTarget) -> str:
    """The driver's loop lowering after scheduling, with the host's vector width."""
    return (
        f"convert-loop-to-scf{{vector-bits={host.schedule_target().vector_bits}}},convert-to-llvm"
    )


@dataclass(frozen=True)
class KernelObject:
    """A scheduled, lowered kernel compiled to an ELF object, not loaded yet.

    The object can be loaded in another process (`jit.load_object`): the
    tuner builds candidates in worker processes and runs them elsewhere.
    """

    name: str
    arg_specs: tuple[ArgSpec, ...]
    """The arguments the object takes: after the schedule, so packed operands are packed."""
    input_specs: tuple[ArgSpec, ...]
    """The kernel's arguments before the schedule (what `packs` start from)."""
    object_code: bytes
    packs: tuple[tuple[int, int, int, int], ...]
    """(operand, axis, factor, outer) of each `pack` the schedule applied, in order:
    `pack_array` turns an unpacked argument into what the object takes."""
    module: ModuleOp
    """The lowered (llvm dialect) module."""


def compile_kernel(
    kernel: func.FuncOp,
    schedule: Schedule | str | Sequence[Any] | None = None,
    *,
    cache: ObjectCache | bool = True,
    target: HostTarget | None = None,
) -> KernelObject:
    """Schedule a clone of one loop kernel, lower it and compile it to an object.

    The part of `build_kernel` that does not load the code: see there for
    `schedule` and `cache`. `kernel` itself is not modified.
    """
    module = kernel_module(kernel)
    clone = module.body.block.last_op
    assert isinstance(clone, func.FuncOp)
    name = clone.sym_name.data
    if clone.function_type.outputs.data:
        raise CompilerError(f"kernel @{name} returns values; kernels write their outputs")
    if schedule is None and SCHEDULED_ATTR not in clone.attributes:
        stored = clone.attributes.get(SCHEDULE_ATTR)
        if stored is not None:
            if not isinstance(stored, StringAttr):
                raise CompilerError(f"kernel @{name}: '{SCHEDULE_ATTR}' must be a JSON string")
            schedule = stored.data
    if schedule is not None:
        if not isinstance(schedule, Schedule | str):
            schedule = Schedule.from_list(schedule)
        apply_schedule(clone, schedule)
        # What the lowered module shows, as after `apply-schedule`.
        text = schedule if isinstance(schedule, str) else schedule.to_json()
        clone.attributes[SCHEDULE_ATTR] = StringAttr(text)
        clone.attributes[SCHEDULED_ATTR] = UnitAttr()
    # After the schedule: a `pack` takes its operand in the packed layout.
    specs = tuple(_arg_spec(kernel, i, t) for i, t in enumerate(clone.function_type.inputs.data))
    inputs = tuple(_arg_spec(kernel, i, t) for i, t in enumerate(kernel.function_type.inputs.data))
    packs = tuple((p.operand, p.axis, p.factor, p.outer) for p in packings(clone))
    host = target or HostTarget.detect()
    run_pipeline(module, lowering_pipeline(host))
    lowered = llvm_module(module)
    ir_text = to_llvm_ir(lowered, host.triple)
    object_code = compile_object(ir_text, host, 3, resolve_cache(cache))
    return KernelObject(name, specs, inputs, object_code, packs, lowered)


def build_kernel(
    kernel: func.FuncOp,
    schedule: Schedule | str | Sequence[Any] | None = None,
    *,
    num_threads: int | None = None,
    cache: ObjectCache | bool = True,
) -> BuiltKernel:
    """Compile one loop kernel for the host CPU; `kernel` itself is not modified.

    `schedule` (a Schedule, its JSON text, or a list of primitive dicts) is
    applied to a clone. With None the kernel compiles as it is, except that
    a `loop.schedule` it carries and has not applied yet (no `loop.scheduled`,
    as `default-schedule` leaves it) is applied, as `apply-schedule` would.
    A kernel with parallel loops runs on `num_threads` threads (None:
    libgomp's default, OMP_NUM_THREADS or one per core). `cache` is the
    on-disk object cache (see `compiler.targets.cpu.jit.jit_compile`).
    """
    host = HostTarget.detect()
    compiled = compile_kernel(kernel, schedule, cache=cache, target=host)
    handle = load_object(compiled.object_code, signatures(compiled.module), host)
    built = BuiltKernel(compiled.name, compiled.arg_specs, handle, compiled.module)
    if num_threads is not None:
        built.set_num_threads(num_threads)
    return built


def time_kernel(
    built: BuiltKernel,
    args: Sequence[np.ndarray],
    *,
    number: int = 1,
    repeat: int = 3,
    min_repeat_ms: float = 0.0,
) -> list[float]:
    """Seconds per run of `built(*args)`, one figure per repeat (like TVM's time_evaluator).

    The arguments are checked once; the timed calls go straight to the
    native code. See `time_function` for `number`, `repeat`, `min_repeat_ms`.
    """
    pointers = built.check_args(args)
    call = built.call_pointers
    return time_function(
        lambda: call(pointers), number=number, repeat=repeat, min_repeat_ms=min_repeat_ms
    )


def time_function(
    fn: Callable[[], object],
    *,
    number: int = 1,
    repeat: int = 3,
    min_repeat_ms: float = 0.0,
) -> list[float]:
    """Seconds per call of `fn()`, one figure per repeat (the measurement of `time_kernel`).

    After one warm-up call, each of the `repeat` measurements calls `fn`
    `number` times back to back and reports the mean. When a measurement
    lasts less than `min_repeat_ms`, `number` grows (to what that measurement
    says would fill the time, at least doubling) and the measurement is taken
    again; `number` then stays at that value for the following repeats.
    """
    if number < 1 or repeat < 1:
        raise CompilerError(f"number and repeat must be >= 1, got {number} and {repeat}")
    if min_repeat_ms < 0:
        raise CompilerError(f"min_repeat_ms must be >= 0, got {min_repeat_ms}")
    fn()
    costs: list[float] = []
    minimum = min_repeat_ms / 1e3
    clock = time.perf_counter
    while len(costs) < repeat:
        start = clock()
        for _ in range(number):
            fn()
        elapsed = clock() - start
        if elapsed < minimum:
            per_run = max(elapsed / number, 1e-9)
            number = max(2 * number, int(minimum / per_run * 1.1) + 1)
            continue
        costs.append(elapsed / number)
    return costs
