"""`compiler.compile()`: ONNX in, native code out.

The pipeline is a list of registered passes, so `compiler-opt` can replay it:

    graph-optimize{level=N}       graph passes (compiler/passes/graph_optimize.py)
    plan-memory                   when the level did not plan memory already
    convert-graph-to-loop         one loop kernel per fused group (plain algorithms)
    default-schedule              a schedule (JSON) for every kernel that has none
    apply-schedule                the schedules applied: tiles, vectors, threads
    extract-params                weights (repacked by the schedules) -> the params blob
    convert-loop-to-scf           loops -> scf + explicit vector ops
    widen-half-floats             f16/bf16 stored in 16 bits, computed in f32
    convert-to-llvm               upstream dialects -> llvm dialect
then llvmlite compiles for the host CPU (cached on disk by IR hash).
"""

from __future__ import annotations

import functools
import gc
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import onnx
from xdsl.dialects.builtin import ModuleOp

from compiler import dtypes
from compiler.api import run_pipeline
from compiler.errors import CompilerError
from compiler.interpreter import input_names, main_function, output_names, output_rows
from compiler.passes import memory
from compiler.runtime import CompiledModel, ModelMetadata, TensorSpec
from compiler.schedule.schedule import Schedule, kernels, override_schedules
from compiler.targets.cpu.machine import HostTarget

if TYPE_CHECKING:
    from xdsl.dialects import func

    from compiler.schedule.default_schedule_pass import DefaultSchedulePass


LOOP_PIPELINE = [
    "default-schedule",
    "apply-schedule",
    "extract-params",
    "convert-loop-to-scf",
    "widen-half-floats",
    "convert-to-llvm",
]
"""After convert-graph-to-loop. Weights leave the IR after scheduling: a
schedule may repack them (`pack`)."""

_SPLIT_AT = LOOP_PIPELINE.index("extract-params")
"""How many steps of the loop pipeline (extract-params left out) run on the whole
module; the steps after them run one function at a time (`lower_to_llvm_ir`)."""

MODULE_APPLY = "apply-schedule{packing-only=true}"
"""The driver's apply-schedule on the whole module: the schedules that pack
weights. `function_pipeline` applies the rest, one function at a time."""


def function_pipeline(host: HostTarget) -> list[str]:
    """The steps the driver runs one function at a time, after extract-params: the
    schedules left unapplied (`MODULE_APPLY`), then the loop pipeline's rest. A
    schedule's loop rewriting is most of apply-schedule's time (0.5 s of
    ResNet-50's compile), so it runs in the lowering workers, in parallel."""
    return ["apply-schedule", *loop_pipeline(host, params_extracted=True)[_SPLIT_AT:]]


def host_has_f16c(host: HostTarget) -> bool:
    """Whether LLVM may convert f16 with F16C instructions (detected, never assumed)."""
    return "+f16c" in host.features.split(",")


def loop_pipeline(host: HostTarget | None = None, params_extracted: bool = False) -> list[str]:
    """LOOP_PIPELINE with the host's target description filled in where a step names no options."""
    host = host or HostTarget.detect()
    t = host.schedule_target()
    options = {
        "default-schedule": f"{{vector-bits={t.vector_bits} vector-registers={t.vector_registers} "
        f"int-dot={t.int_dot or 'none'}}}",
        "convert-loop-to-scf": f"{{vector-bits={t.vector_bits}}}",
        "widen-half-floats": f"{{native-f16={'true' if host_has_f16c(host) else 'false'}}}",
    }
    return [
        spec + options.get(spec, "")
        for spec in LOOP_PIPELINE
        if not (params_extracted and spec == "extract-params")
    ]


@dataclass
class CompileStats:
    """Wall-clock seconds per stage, for benchmarks and `compiler build -v`."""

    seconds: dict[str, float] = field(default_factory=dict)
    worker_seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds of the steps inside `lower-functions`, summed over units and workers."""
    workers: int = 1
    """Processes that ran `lower-functions` (1: this one)."""

    def time(self, stage: str, start: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

    def lowered(self, start: float, seconds: Mapping[str, float], workers: int) -> None:
        """`lower-functions` since `start`: its wall time, its steps' CPU `seconds`, its `workers`."""
        self.time("lower-functions", start)
        for stage, value in seconds.items():
            self.worker_seconds[stage] = self.worker_seconds.get(stage, 0.0) + value
        self.workers = workers


def host_has_u8_dot(host: HostTarget) -> bool:
    """Whether the host multiplies u8 by s8 in one instruction (VNNI's vpdpbusd, detected, never assumed).

    Every VNNI extension that has vpdpwssd (AVX-512 VNNI, AVX-VNNI) has
    vpdpbusd too, at the width the default schedule uses."""
    return host.schedule_target().int_dot == "vpdpwssd"


def graph_pipeline(opt_level: int, host: HostTarget | None = None) -> str:
    """`graph-optimize{level=N}`, with `u8-dot=true` when `host` (default: this machine) has vpdpbusd."""
    if opt_level not in (0, 1, 2, 3):
        raise CompilerError(f"opt_level {opt_level} does not exist", hint="use 0, 1, 2 or 3")
    u8_dot = host_has_u8_dot(host or HostTarget.detect())
    return f"graph-optimize{{level={opt_level}{' u8-dot=true' if u8_dot else ''}}}"


PRECISIONS = ("fp32", "fp16", "bf16")


def precision_pipeline(precision: str) -> str:
    """The passes that convert an FP32 model to `precision` (checked here, before any work).

    Batch norms fold into their convs in f32 first, so that a folded weight is
    rounded to 16 bits once rather than as weight, scale and product (bf16:
    ResNet-50 2.3e-2 -> 1.6e-2 relative to FP32 onnxruntime). Chains of
    constant muls and adds are left alone (`chains=false`): merging them moves
    the scales of attention and layer norms, which convert-precision keeps in
    f32 only where they are (BERT-like encoder bf16: 1.1e-2, 1.4e-2 merged).
    """
    if precision not in PRECISIONS:
        raise CompilerError(f"precision {precision!r} does not exist", hint="use fp32, fp16 or bf16")
    return f"fold-constants,fold-batchnorm{{chains=false}},convert-precision{{precision={precision}}}"


def _specs(module: ModuleOp) -> tuple[list[TensorSpec], list[TensorSpec]]:
    fn = main_function(module)
    ins = [
        TensorSpec(n, tuple(t.get_shape()), dtypes.to_numpy_dtype(t.get_element_type()).name)
        for n, t in zip(input_names(fn), fn.function_type.inputs, strict=True)
    ]
    outs = [
        TensorSpec(n, tuple(t.get_shape()), dtypes.to_numpy_dtype(t.get_element_type()).name, rows, hidden, axis)
        for n, t, (rows, hidden, axis) in zip(output_names(fn), fn.function_type.outputs, output_rows(fn), strict=True)
    ]
    return ins, outs


def lower_to_llvm(
    module: ModuleOp,
    stats: CompileStats | None = None,
    profile: bool = False,
    schedules: Mapping[str, Any] | None = None,
    host: HostTarget | None = None,
    flops: dict[str, float] | None = None,
) -> tuple[ModuleOp, bytes, int]:
    """Graph-dialect module (optimized) -> llvm-dialect module, params blob, arena size.

    `schedules` maps workload keys to schedules (JSON text or lists) that
    replace those kernels' defaults (see `override_schedules`). `flops`, when
    given, receives each kernel's floating-point operations per call.
    """
    stats = stats or CompileStats()
    params, arena = _schedule_and_extract(module, stats, profile, schedules, host, flops)
    for spec in function_pipeline(host or HostTarget.detect()):
        t = time.perf_counter()
        run_pipeline(module, spec)
        stats.time(spec.split("{")[0], t)
    return module, params, arena



def _schedule_and_extract(
    module: ModuleOp,
    stats: CompileStats,
    profile: bool,
    schedules: Mapping[str, Any] | None,
    host: HostTarget | None,
    flops: dict[str, float] | None,
    jobs: int | None = None,
    aligned: bool = False,
    weights: dict[str, int] | None = None,
) -> tuple[Any, int]:
    """Memory plan, loop kernels, schedules and the params blob: the steps on the whole module.

    The blob is bytes, or with `aligned` an aligned uint8 array (`extract_params_aligned`).
    Only the schedules that pack weights are applied (`MODULE_APPLY`); `weights`
    receives the lowering work of each default-scheduled kernel (`_default_schedules`)."""
    from compiler.targets.cpu.params import extract_params, extract_params_aligned

    fn = main_function(module)
    if memory.int_attr_of(fn, memory.ARENA_ATTR) is None:
        t = time.perf_counter()
        run_pipeline(module, "plan-memory")
        stats.time("plan-memory", t)
    arena = memory.int_attr_of(fn, memory.ARENA_ATTR) or 0
    _check_blob_size("intermediate tensors (arena)", arena)
    t = time.perf_counter()
    run_pipeline(module, f"convert-graph-to-loop{{profile={'true' if profile else 'false'}}}")
    stats.time("convert-graph-to-loop", t)
    if flops is not None:
        from compiler.schedule.flops import kernel_flops

        flops.update({k.sym_name.data: kernel_flops(k) for k in kernels(module)})
    if schedules:
        override_schedules(module, schedules)
    for spec in loop_pipeline(host, params_extracted=True)[:_SPLIT_AT]:
        t = time.perf_counter()
        if spec.startswith("default-schedule"):
            _default_schedules(module, spec, jobs, weights)
        else:
            run_pipeline(module, MODULE_APPLY if spec == "apply-schedule" else spec)
        stats.time(spec.split("{")[0], t)
    t = time.perf_counter()
    # The blob is not IR: the pass alone would drop it.
    params = extract_params_aligned(module) if aligned else extract_params(module)
    _check_blob_size("weights (params)", len(params))
    stats.time("extract-params", t)
    return params, arena


def _default_schedules(module: ModuleOp, spec: str, jobs: int | None, weights: dict[str, int] | None = None) -> None:
    """`spec` (default-schedule{...}), each kernel's rule run in a forked worker when it pays.

    `weights` receives each kernel's `unit_weight` as its schedule leaves it
    (the rule has the scheduled kernel at hand): unrolling multiplies the
    lowering work, and the lowering workers take the heaviest first."""
    from xdsl.dialects.builtin import StringAttr
    from xdsl.passes import PassPipeline

    from compiler import registry
    from compiler.dialects.loop import SCHEDULE_ATTR
    from compiler.schedule.default_schedule_pass import DefaultSchedulePass
    from compiler.targets.cpu import parallel_lower

    (pass_,) = PassPipeline.parse_spec(registry.all_passes(), spec).passes
    assert isinstance(pass_, DefaultSchedulePass)
    todo = pass_.unscheduled(module)
    sizes = [parallel_lower.unit_weight(kernel) for kernel in todo]
    jobs = parallel_lower.parallel_jobs(sizes, jobs)
    results, _ = parallel_lower.fork_map(
        lambda kernel: _schedule_and_weight(pass_, kernel), todo, sizes, jobs
    )
    for kernel, (text, weight) in zip(todo, results, strict=True):
        kernel.attributes[SCHEDULE_ATTR] = StringAttr(text)
        if weights is not None:
            weights[kernel.sym_name.data] = weight


def _schedule_and_weight(pass_: DefaultSchedulePass, kernel: func.FuncOp) -> tuple[str, int]:
    """A kernel's default schedule (JSON) and the lowering work of the kernel it makes."""
    from compiler.targets.cpu.parallel_lower import unit_weight

    run = pass_.rule_run(kernel)
    assert run.kernel is not None
    weight = unit_weight(run.kernel)
    run.kernel.erase()
    return run.schedule.to_json(), weight


def lower_to_llvm_ir(
    module: ModuleOp,
    stats: CompileStats | None = None,
    profile: bool = False,
    schedules: Mapping[str, Any] | None = None,
    host: HostTarget | None = None,
    flops: dict[str, float] | None = None,
    jobs: int | None = None,
) -> tuple[str, bytes, int]:
    """`lower_to_llvm` to LLVM IR text, the per-function steps in `jobs` worker processes.

    The steps after `extract-params` run on one function at a time
    (`compiler.targets.cpu.parallel_lower`); the text is the same for any
    `jobs` (default: COMPILER_JOBS, else the CPUs). `module` is consumed.
    Their CPU seconds, summed over the workers, go to `stats.worker_seconds`.
    """
    from compiler.targets.cpu import parallel_lower

    stats = stats or CompileStats()
    host = host or HostTarget.detect()
    weights: dict[str, int] = {}
    params, arena = _schedule_and_extract(module, stats, profile, schedules, host, flops, jobs, weights=weights)
    t = time.perf_counter()
    lowered = parallel_lower.lower_to_llvm_ir(module, function_pipeline(host), host.triple, jobs, weights=weights)
    stats.lowered(t, lowered.seconds, lowered.workers)
    return lowered.text, params, arena


def lower_to_object_code(
    module: ModuleOp,
    stats: CompileStats,
    schedules: Mapping[str, Any] | None,
    host: HostTarget,
    cache: bool,
    jobs: int | None = None,
) -> tuple[bytes, Any, int]:
    """Object code (a bundle, one object per function), params (an aligned uint8
    array, `extract_params_aligned`) and arena size of `module`.

    Like `lower_to_llvm_ir`, but the workers also run LLVM (-O3 and code
    generation) on their functions, so that stage runs in parallel too; its
    CPU seconds are the workers' `llvm` entry. The bundle is the same bytes
    for any `jobs`.
    """
    from compiler.targets.cpu import parallel_lower
    from compiler.targets.cpu.jit import resolve_cache

    weights: dict[str, int] = {}
    params, arena = _schedule_and_extract(module, stats, False, schedules, host, None, jobs, aligned=True, weights=weights)
    t = time.perf_counter()
    lowered = parallel_lower.lower_to_objects(
        module, function_pipeline(host), host, resolve_cache(cache), jobs, weights=weights
    )
    stats.lowered(t, lowered.seconds, lowered.workers)
    return lowered.code, params, arena


MAX_BLOB_BYTES = (1 << 31) - 1
"""Largest arena or params blob: kernels address them with 32-bit constant byte offsets."""


def _check_blob_size(what: str, size: int) -> None:
    """A model whose arena or weights exceed MAX_BLOB_BYTES is refused before code generation."""
    if size > MAX_BLOB_BYTES:
        raise CompilerError(
            f"the model needs {size / (1 << 30):.3g} GiB for its {what}; at most 2 GiB is supported",
            hint="check the input shapes (a smaller batch: --input-shape / input_shapes=)",
        )


def _memory_errors_are_compiler_errors(fn: Callable[..., CompiledModel]) -> Callable[..., CompiledModel]:
    """A MemoryError while compiling (shapes far too large for this machine) is the user's
    to fix: one line, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> CompiledModel:
        try:
            return fn(*args, **kwargs)
        except MemoryError:
            raise CompilerError(
                "ran out of memory compiling the model", hint="check the input shapes and the model's shapes"
            ) from None

    return wrapper


COMPILE_GC_THRESHOLDS = (5_000, 10, 10)
"""Python's cyclic GC thresholds while compiling (default: 700, 10, 10).

Lowering allocates millions of IR objects that live until the end of the
compile; with the default thresholds the collector traverses them again and
again (about 9% of a cold ResNet-50 compile's CPU time, most of it in full
collections). Younger collections 7 times rarer cut that to about a third,
for about 15% more peak memory (garbage cycles wait longer)."""


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """COMPILE_GC_THRESHOLDS inside the block; the caller's thresholds again after it.

    NumPy's transparent huge pages are off in the block too: numpy madvises
    every large array for them, and a compile allocates its big arrays once
    (weights in float64, Winograd transforms, packed copies) and passes over
    them once, so it pays for faulting in 2 MB pages (zeroed, and compacted
    under THP defrag=madvise) without the TLB gains. ResNet-50's graph passes:
    0.57-0.96 s CPU with them, 0.66-0.68 s without (4 fresh processes each).
    """
    saved = gc.get_threshold()
    gc.set_threshold(*COMPILE_GC_THRESHOLDS)
    huge_pages = _set_numpy_huge_pages(False)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        _set_numpy_huge_pages(huge_pages)


def _set_numpy_huge_pages(enabled: bool) -> bool:
    """Turns numpy's madvise(MADV_HUGEPAGE) of large arrays on or off; whether it was on.

    The switch numpy's release notes (1.20) name for this; a numpy without it
    changes nothing."""
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    toggle = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    return bool(toggle(enabled)) if toggle is not None else enabled


def _fewer_gc_passes_while(fn: Callable[..., CompiledModel]) -> Callable[..., CompiledModel]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> CompiledModel:
        with _fewer_gc_passes():
            return fn(*args, **kwargs)

    return wrapper


@_memory_errors_are_compiler_errors
@_fewer_gc_passes_while
def compile(  # noqa: A001  (the public name users expect)
    model: str | os.PathLike[str] | bytes | onnx.ModelProto | ModuleOp,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    opt_level: int = 3,
    num_threads: int | None = None,
    target: str = "cpu",
    cache: bool = True,
    stats: CompileStats | None = None,
    profile: bool = False,
    schedules: Mapping[str, Any] | None = None,
    precision: str = "fp32",
    specialize: Mapping[str, Any] | None = None,
    records: str | os.PathLike[str] | None = None,
) -> CompiledModel:
    """Compiles an ONNX model (path, bytes, ModelProto) or a graph-dialect module.

    `specialize` binds graph inputs that decide shapes (axes, target shapes,
    repeats, pads) to values: they become constants, and the compiled model
    no longer takes them as inputs.

    With `cache` (default), an unchanged model with the same options loads
    from the on-disk model cache without running any pass. `profile` times
    every kernel call (`CompiledModel.profile()`); such a model cannot be
    exported. `schedules` overrides the default schedule of chosen kernels:
    `{workload_key: schedule}` (a kernel's `loop.workload_key`; the schedule
    as JSON text or a list of primitives); one that does not apply is a
    `ScheduleWarning` and that kernel keeps its default. `precision` "fp16"
    or "bf16" stores an FP32 model's weights and activations in that type
    (`convert-precision`; inputs and outputs stay f32). `records` (JSON
    lines written by `compiler tune`) gives each kernel the best schedule
    measured for this CPU; `schedules` entries take precedence.

    `target="tensorrt"` exports the optimized graph to ONNX and builds a
    TensorRT engine of it (cached on disk), run on the GPU
    (compiler/targets/tensorrt/engine.py); it needs the optional tensorrt
    wheel and an NVIDIA GPU, and takes `input_shapes`, `precision`,
    `specialize` and `cache` only.
    """
    from compiler.frontend.onnx import import_onnx
    from compiler.targets.cpu.model_cache import ModelCache, model_key

    if target == "cuda":
        from compiler.targets.cuda.launch import compile_cuda_model

        return compile_cuda_model(model, input_shapes=input_shapes)  # type: ignore[return-value]
    if target == "tensorrt":
        from compiler.targets.tensorrt.engine import compile_tensorrt_model

        spec = None if precision == "fp32" else precision_pipeline(precision)
        data = None if not cache or isinstance(model, ModuleOp) else _model_bytes(model)
        source = None
        if data is not None:
            source = model_key([*data, _specialize_stamp(specialize)], input_shapes, 0, "tensorrt", spec or "")
        return compile_tensorrt_model(  # type: ignore[return-value]
            model, input_shapes=input_shapes, precision=precision, precision_spec=spec, cache=cache,
            specialize=specialize, source_key=source,
        )
    if target != "cpu":
        raise CompilerError(f"target {target!r} is not supported", hint="use target='cpu', 'cuda' or 'tensorrt'")
    graph_pipeline(opt_level)
    precision_pipeline(precision)
    stats = stats or CompileStats()
    host = HostTarget.detect()
    if records is not None:
        from compiler.tuner.records import tuned_schedules

        schedules = {**tuned_schedules(records, num_threads), **(schedules or {})}
    t = time.perf_counter()
    key = None
    parts = None
    store = ModelCache() if cache and not profile else None
    if specialize and isinstance(model, ModuleOp):
        raise CompilerError("specialize applies to ONNX models, not to a graph-dialect module")
    if store is not None and not isinstance(model, ModuleOp):
        parts = _model_bytes(model)
        if parts is not None:
            key = model_key(
                [*parts, _specialize_stamp(specialize)],
                input_shapes,
                opt_level,
                f"{host.triple}/{host.cpu}/{host.features}",
                _canonical(schedules) + ("" if precision == "fp32" else f"/{precision}"),
            )
            hit = store.get(key)
            if hit is not None:
                obj, params, meta = hit
                stats.time("cache", t)
                return _load(obj, params, ModelMetadata.from_json(meta), num_threads)
    if isinstance(model, ModuleOp):
        module = model.clone()
    else:
        read = parts[0] if parts is not None and isinstance(model, str | os.PathLike) else None
        module = import_onnx(model, input_shapes=input_shapes, specialize=specialize, file_bytes=read)
    stats.time("import", t)
    t = time.perf_counter()
    if precision != "fp32":
        run_pipeline(module, precision_pipeline(precision))
    run_pipeline(module, graph_pipeline(opt_level, host))
    stats.time("graph-optimize", t)
    inputs, outputs = _specs(module)
    flops: dict[str, float] = {}
    profiled: list[str] = []
    if profile:  # convert-graph-to-loop records the kernels; read before the module is split
        module, params, arena = lower_to_llvm(module, stats, profile, schedules, host, flops)
        profiled = _profiled_kernels(module)
        obj = object_for(module, host, cache, stats)
    else:
        # The blob as an aligned array: the CompiledModel runs on it without a copy.
        obj, params, arena = lower_to_object_code(module, stats, schedules, host, cache)
    meta = ModelMetadata(
        inputs=inputs, outputs=outputs, params_bytes=len(params), arena_bytes=arena
    )
    if profile:
        meta.extra["profile"] = profiled
        meta.extra["profile_flops"] = [flops.get(name, 0.0) for name in profiled]
    if store is not None and key is not None:
        store.put(key, obj, params, meta.to_json(), background=True)
    return _load(obj, params, meta, num_threads)


def _specialize_stamp(specialize: Mapping[str, Any] | None) -> bytes:
    """The specialized values as bytes (names, dtypes, shapes, data) for the model cache key."""
    if not specialize:
        return b""
    import numpy as np

    parts = [b"specialize"]
    for name in sorted(specialize):
        array = np.asarray(specialize[name])
        parts.append(f"{name}:{array.dtype.str}:{array.shape}:".encode() + array.tobytes())
    return b"\0".join(parts)


def _canonical(schedules: Mapping[str, Any] | None) -> str:
    """The overrides as canonical JSON, for the model cache key."""
    if not schedules:
        return ""
    items = {}
    for key, value in schedules.items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # reported when the schedule is applied
        items[key] = value.to_list() if isinstance(value, Schedule) else value
    try:
        return json.dumps(items, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(sorted(schedules.items()))


def object_for(module: ModuleOp, host: object, cache: bool, stats: CompileStats) -> bytes:
    """llvm-dialect module -> object code for the host (LLVM O3, object cache)."""
    from compiler.targets.cpu.translate import to_llvm_ir

    t = time.perf_counter()
    ir_text = to_llvm_ir(module, host.triple)  # type: ignore[attr-defined]
    stats.time("translate", t)
    return object_for_ir(ir_text, host, cache, stats)


def object_for_ir(ir_text: str, host: object, cache: bool, stats: CompileStats) -> bytes:
    """LLVM IR text -> object code for the host (LLVM O3, object cache)."""
    from compiler.targets.cpu.jit import resolve_cache
    from compiler.targets.cpu.machine import compile_object

    t = time.perf_counter()
    obj = compile_object(ir_text, host, 3, resolve_cache(cache))  # type: ignore[arg-type]
    stats.time("llvm", t)
    return obj


def _profiled_kernels(module: ModuleOp) -> list[str]:
    from xdsl.dialects.builtin import ArrayAttr, StringAttr

    from compiler.lowering.convert_graph_to_loop import PROFILE_ATTR

    attr = module.attributes.get(PROFILE_ATTR)
    if isinstance(attr, ArrayAttr):
        return [a.data for a in attr.data if isinstance(a, StringAttr)]
    return []


def _load(obj: bytes, params: Any, meta: ModelMetadata, num_threads: int | None) -> CompiledModel:
    """`params`: bytes (the model cache's), or the aligned array of a compile, handed over."""
    from compiler.targets.cpu.bind_team import bind_team_function
    from compiler.targets.cpu.jit import SET_NUM_THREADS, load_object

    recorder = None
    if "profile" in meta.extra:
        from compiler.runtime import ProfileRecorder

        recorder = ProfileRecorder(meta.extra["profile"], meta.extra.get("profile_flops"))
        recorder.install()
    handle = load_object(obj)
    model = CompiledModel(
        meta,
        handle.address("main"),
        params,
        keepalive=[handle],
        params_owned=True,
        set_threads_address=handle.address(SET_NUM_THREADS),
        code=None if recorder is not None else obj,
        profiler=recorder,
        bind_team=bind_team_function() if b"GOMP_parallel" in obj else None,
    )
    if num_threads is not None:
        model.set_num_threads(num_threads)
    return model


def _model_bytes(model: str | os.PathLike[str] | bytes | onnx.ModelProto) -> list[bytes] | None:
    """The bytes that identify a model for the cache, in parts hashed in order (None: do not cache).

    Parts rather than one concatenation: joining the stamp to a 100 MB model
    copied it (page faults included) once more before hashing."""
    if isinstance(model, bytes):
        return [model]
    if isinstance(model, onnx.ModelProto):
        return [model.SerializeToString()]
    path = os.fspath(model)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None  # the importer reports the missing file
    return [data, _external_data_stamp(data, os.path.dirname(os.path.abspath(path)))]


def _external_data_stamp(data: bytes, directory: str) -> bytes:
    """Size and mtime of the external data files the model references.

    Their contents can change without the .onnx bytes changing. Only models
    that mention a `location` are parsed to find them.
    """
    if b"location" not in data:
        return b""
    try:
        proto = onnx.load_model_from_string(data)
    except Exception:
        return b""
    stamps = []
    tensors = list(proto.graph.initializer) + [
        a.t for node in proto.graph.node for a in node.attribute if a.HasField("t")
    ]
    for tensor in tensors:
        for entry in tensor.external_data:
            if entry.key == "location":
                full = os.path.join(directory, entry.value)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                stamps.append(f"{entry.value}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(sorted(set(stamps))).encode()
