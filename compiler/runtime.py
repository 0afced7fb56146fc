"""Running compiled models: one foreign call per inference.

A compiled model is native code with one entry function

    void main(T0 *in0, ..., U0 *out0, ..., uint8_t *params, uint8_t *arena)

plus metadata (input/output names, shapes, dtypes; params and arena sizes)
and the params blob. This module needs only numpy and ctypes, so that
`compiler.load` of an exported model does no xDSL work.

Export layout (`CompiledModel.export("m.so")`): `m.so` (code), `m.json`
(metadata) and `m.params` (weights) side by side.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import mmap
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compiler.dynamic_threads import TeamSizer
from compiler.dynamic_threads import enabled_by_default as dynamic_threads_default
from compiler.errors import InputError, ModelLoadError
from compiler.thread_affinity import BindTeam, bound, running_workers
from compiler.thread_affinity import enabled_by_default as bind_threads_default

FORMAT_VERSION = 1
ARENA_ALIGNMENT = 64


@dataclass
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name
    rows: int | None = None
    """Outputs only: the index of the (hidden) output that holds this one's
    number of rows. Its dim 0 is padded to `shape[0]` and cut to that count
    (a data-dependent length, as NonMaxSuppression's)."""
    hidden: bool = False
    """Outputs only: a row count, which `run` does not return."""
    rows_axis: int = 0
    """Outputs only: the axis that `rows` counts along."""

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}
        if self.rows is not None:
            d["rows"] = self.rows
        if self.hidden:
            d["hidden"] = True
        if self.rows_axis:
            d["rows_axis"] = self.rows_axis
        return d

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> TensorSpec:
        rows = d.get("rows")
        return TensorSpec(
            str(d["name"]),
            tuple(int(x) for x in d["shape"]),
            str(d["dtype"]),
            rows=None if rows is None else int(rows),
            hidden=bool(d.get("hidden", False)),
            rows_axis=int(d.get("rows_axis", 0)),
        )


@dataclass
class ModelMetadata:
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    params_bytes: int
    arena_bytes: int
    entry: str = "main"
    set_threads: str = "compiler_set_num_threads"
    num_threads: int = 0
    target: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "inputs": [t.to_json() for t in self.inputs],
            "outputs": [t.to_json() for t in self.outputs],
            "params_bytes": self.params_bytes,
            "arena_bytes": self.arena_bytes,
            "entry": self.entry,
            "set_threads": self.set_threads,
            "num_threads": self.num_threads,
            "target": self.target,
            "extra": self.extra,
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> ModelMetadata:
        if d.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(f"unsupported model format version {d.get('format_version')}")
        return ModelMetadata(
            inputs=[TensorSpec.from_json(t) for t in d["inputs"]],
            outputs=[TensorSpec.from_json(t) for t in d["outputs"]],
            params_bytes=int(d["params_bytes"]),
            arena_bytes=int(d["arena_bytes"]),
            entry=str(d.get("entry", "main")),
            set_threads=str(d.get("set_threads", "compiler_set_num_threads")),
            num_threads=int(d.get("num_threads", 0)),
            target=str(d.get("target", "cpu")),
            extra=dict(d.get("extra", {})),
        )


def _aligned_bytes(n: int) -> np.ndarray:
    """A zeroed uint8 buffer of n bytes whose data pointer is 64-byte aligned."""
    raw = np.zeros(n + ARENA_ALIGNMENT, dtype=np.uint8)
    shift = (-raw.ctypes.data) % ARENA_ALIGNMENT
    return raw[shift : shift + n]


def aligned_blob(n: int) -> np.ndarray:
    """A zeroed buffer of n bytes that a CompiledModel can run on as its params
    blob without a copy (`params_owned`).

    Private anonymous memory (page-aligned, copy-on-write across fork like
    any heap memory) rather than np.zeros: numpy asks for transparent huge
    pages on large arrays, and faulting those in (zeroing and compacting 2 MB
    at a time) made filling ResNet-50's 159 MB blob 2.6x slower than bytes."""
    if n < (1 << 20) or not hasattr(mmap, "MAP_PRIVATE"):
        return _aligned_bytes(n)
    return np.frombuffer(mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE), dtype=np.uint8)


def _is_aligned_blob(params: object) -> bool:
    """Whether `params` can serve as the params blob as it is: a non-empty flat
    uint8 array whose data pointer is ARENA_ALIGNMENT-aligned."""
    return (
        isinstance(params, np.ndarray)
        and params.dtype == np.uint8
        and params.ndim == 1
        and params.size >= 1
        and params.flags.c_contiguous
        and params.ctypes.data % ARENA_ALIGNMENT == 0
    )


def _as_array(spec: TensorSpec, value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    # Lists and numpy scalars are fine; anything numpy can only wrap as an
    # object/str array (None, dicts, strings, ragged lists) is not a tensor.
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind in "OUSV":
        raise InputError(
            f"input {spec.name!r} is not an array (got {type(value).__name__})",
            hint=f"pass a numpy array of shape {spec.shape} and dtype {spec.dtype}",
        )
    return arr


def check_inputs(specs: Sequence[TensorSpec], feeds: Any) -> list[np.ndarray]:
    """Orders feeds (by name, or positional) and checks names, dtypes and shapes.

    Raises `InputError` with one line saying what is wrong; shared by compiled
    models and the reference interpreter.
    """
    names = [s.name for s in specs]
    if isinstance(feeds, Mapping):
        unknown = sorted(str(k) for k in set(feeds) - set(names))
        if unknown:
            raise InputError(f"unknown input {unknown[0]!r}", hint=f"inputs are {names}")
        missing = [n for n in names if n not in feeds]
        if missing:
            raise InputError(f"missing input {missing[0]!r}", hint=f"inputs are {names}")
        arrays = [feeds[n] for n in names]
    elif isinstance(feeds, list | tuple):
        arrays = list(feeds)
        if len(arrays) != len(names):
            raise InputError(f"expected {len(names)} inputs {names}, got {len(arrays)}")
    else:
        # An ndarray is iterable too, but splitting it into rows is never what was meant.
        raise InputError(
            f"inputs must be a dict {{name: array}} or a list of arrays, not {type(feeds).__name__}",
            hint=f"inputs are {names}",
        )
    checked = []
    for spec, value in zip(specs, arrays, strict=True):
        arr = _as_array(spec, value)
        dt = np.dtype(spec.dtype)
        if arr.dtype != dt:
            raise InputError(
                f"input {spec.name!r} has dtype {arr.dtype}, expected {dt}",
                hint=f"convert it with .astype(np.{dt})",
            )
        if tuple(arr.shape) != spec.shape:
            raise InputError(f"input {spec.name!r} has shape {tuple(arr.shape)}, expected {spec.shape}")
        checked.append(np.asarray(arr, order="C"))  # keeps rank 0 (ascontiguousarray does not)
    return checked


class ProfileRecorder:
    """Receives `compiler_profile(k)` calls of a model compiled with `profile=True`.

    The entry calls the hook before kernel k and with -1 after the last one;
    the time between two marks is kernel k's. Native code resolves the hook
    by name, so `install()` must run before the object code is loaded.
    """

    HOOK = "compiler_profile"

    def __init__(self, kernels: Sequence[str], flops: Sequence[float] | None = None):
        self.kernels = list(kernels)
        self.flops = list(flops) if flops is not None and len(flops) == len(self.kernels) else None
        """Floating-point operations per call of each kernel call site, when known."""
        self.totals = np.zeros(len(self.kernels))
        self.runs = 0
        self._last: tuple[int, int] | None = None
        self._callback = ctypes.CFUNCTYPE(None, ctypes.c_int64)(self._mark)

    def _mark(self, k: int) -> None:
        import time

        now = time.perf_counter_ns()
        if self._last is not None:
            self.totals[self._last[0]] += (now - self._last[1]) / 1e6
        self._last = (k, now) if k >= 0 else None
        if k < 0:
            self.runs += 1

    def install(self) -> None:
        import llvmlite.binding as llvm

        llvm.add_symbol(self.HOOK, ctypes.cast(self._callback, ctypes.c_void_p).value)

    def reset(self) -> None:
        """Forget the runs so far (after a warm-up)."""
        self.totals[:] = 0
        self.runs = 0

    def report(self, top: int = 20, peak_gflops: float | None = None) -> str:
        """Milliseconds per run of each kernel call site, slowest first, with its
        share of the total and, when the FLOPs are known, GFLOP/s and the
        fraction of `peak_gflops` (a GEMM's rate on this machine)."""
        runs = max(self.runs, 1)
        total = self.totals.sum() / runs
        order = np.argsort(self.totals)[::-1][:top]
        head = f"{total:8.2f} ms total over {len(self.kernels)} kernel calls ({self.runs} runs)"
        if self.flops is not None:
            gflops = sum(self.flops) / max(total, 1e-9) / 1e6
            head += f", {gflops:.1f} GFLOP/s"
            if peak_gflops:
                head += f" (GEMM peak here {peak_gflops:.1f})"
        lines = [head]
        for i in order:
            ms = self.totals[i] / runs
            line = f"{ms:8.3f} ms {100 * ms / max(total, 1e-9):5.1f}%"
            if self.flops is not None:
                rate = self.flops[i] / max(ms, 1e-9) / 1e6
                line += f" {rate:7.1f} GFLOP/s"
                if peak_gflops:
                    line += f" {100 * rate / peak_gflops:5.1f}% of peak"
            lines.append(f"{line}  #{i} {self.kernels[i]}")
        return "\n".join(lines)


class CompiledModel:
    """A model compiled to native code: call it like onnxruntime's session.run.

    `run` may be called from several Python threads at once: the native call
    releases the GIL, and each concurrent caller computes in its own arena
    (scratch memory for intermediate tensors) taken from a small pool, so N
    threads with `num_threads=1` each run N inferences in parallel. The
    params blob is shared and read-only.
    """

    def __init__(
        self,
        metadata: ModelMetadata,
        entry_address: int,
        params: bytes | np.ndarray,
        *,
        keepalive: Sequence[object] = (),
        set_threads_address: int | None = None,
        code: Any = None,
        profiler: ProfileRecorder | None = None,
        params_owned: bool = False,
        bind_team: BindTeam | None = None,
    ):
        """`params_owned`: the caller hands `params` over and never writes it
        again; an aligned flat uint8 array (`aligned_blob`) is then kept as it
        is rather than copied. `bind_team`: the native `compiler_bind_team`
        of the libgomp that the code's parallel loops use (None: never bind)."""
        self.metadata = metadata
        self.profiler = profiler
        self._keepalive = list(keepalive)
        self._code = code  # object code for export(); None for loaded models
        n_args = len(metadata.inputs) + len(metadata.outputs) + 2
        proto = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n_args))
        self._entry = proto(entry_address)
        self._set_threads = (
            ctypes.CFUNCTYPE(None, ctypes.c_int32)(set_threads_address)
            if set_threads_address
            else None
        )
        if params_owned and _is_aligned_blob(params):
            # Handed over by the compiler: no copy (100 MB of fresh pages to
            # fault in for ResNet-50, a third of a second on a VM).
            self._params = params  # type: ignore[assignment]
        else:
            blob = np.frombuffer(params, dtype=np.uint8) if isinstance(params, bytes | bytearray) else params
            self._params = _aligned_bytes(max(len(blob), 1))
            self._params[: len(blob)] = blob
        # Arenas of idle callers; a caller takes one or allocates its own (see _take_arena).
        self._free_arenas: list[np.ndarray] = [_aligned_bytes(max(metadata.arena_bytes, 1))]
        self._arenas_allocated = 1
        self._pool_lock = threading.Lock()
        self._profile_lock = threading.Lock()
        self._num_threads = metadata.num_threads
        self._team = TeamSizer()
        self.dynamic_threads = dynamic_threads_default()
        """Shrink each run's team to the CPUs idle when it starts (compiler/dynamic_threads.py)."""
        self._bind_team = bind_team
        self.bind_threads = bind_threads_default()
        """Keep each thread of a run's team on a CPU of its own (compiler/thread_affinity.py)."""
        self._dtypes_out = [np.dtype(t.dtype) for t in metadata.outputs]

    # -- introspection ---------------------------------------------------------

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.metadata.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.visible_outputs]

    @property
    def visible_outputs(self) -> list[TensorSpec]:
        """The outputs that `run` returns (row counts of padded outputs left out)."""
        return [t for t in self.metadata.outputs if not t.hidden]

    @property
    def num_threads(self) -> int:
        return self._num_threads

    def set_num_threads(self, n: int | None) -> None:
        """Threads for parallel loops (0 or None: all cores)."""
        if n is None:
            n = 0
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise InputError(f"bad thread count {n!r}", hint="use an integer >= 1, or 0/None for all cores")
        self._num_threads = int(n)

    # -- running ---------------------------------------------------------------

    def _check(self, feeds: Any) -> list[np.ndarray]:
        return check_inputs(self.metadata.inputs, feeds)

    def _output_indices(self, output_names: Any) -> list[int] | None:
        if output_names is None:
            return None
        if isinstance(output_names, str | bytes) or not isinstance(output_names, Sequence):
            raise InputError(
                f"output names must be a list of names or None, not {type(output_names).__name__}",
                hint=f"outputs are {self.output_names}",
            )
        index = {n: i for i, n in enumerate(self.output_names)}
        for name in output_names:
            if name not in index:
                raise InputError(f"unknown output {name!r}", hint=f"outputs are {self.output_names}")
        return [index[n] for n in output_names]

    def run(
        self,
        output_names: Sequence[str] | Mapping[str, Any] | None,
        feeds: Mapping[str, Any] | Sequence[Any] | None = None,
    ) -> list[np.ndarray]:
        """`run(None, {"x": x})` -> list of outputs, as onnxruntime's InferenceSession.run.

        `run({"x": x})` works too. Every wrong input (name, count, shape, dtype,
        not an array) is an `InputError` raised before any native code runs.
        """
        if feeds is None and isinstance(output_names, Mapping):
            feeds, output_names = output_names, None
        if feeds is None:
            raise InputError("no inputs given", hint="call run(None, {name: array})")
        # Validate the requested outputs first: a typo must not cost an inference.
        selected = self._output_indices(output_names)
        inputs = self._check(feeds)
        outputs = [np.empty(t.shape, dtype=dt) for t, dt in zip(self.metadata.outputs, self._dtypes_out, strict=True)]
        args = [a.ctypes.data for a in inputs] + [o.ctypes.data for o in outputs]
        arena = self._take_arena()
        try:
            args += [self._params.ctypes.data, arena.ctypes.data]
            # The profiler's hook keeps one clock: profiled runs go one at a time.
            with self._profile_lock if self.profiler is not None else contextlib.nullcontext():
                binding: contextlib.AbstractContextManager[bool] = contextlib.nullcontext(False)
                if self._set_threads is not None:
                    threads = (
                        self._team.size(self._num_threads, running_workers if self.bind_threads else None)
                        if self.dynamic_threads
                        else self._num_threads
                    )
                    self._set_threads(threads)
                    binding = bound(threads, self._bind_team if self.bind_threads else None)
                with binding:
                    self._entry(*args)  # a CFUNCTYPE call: the GIL is released meanwhile
        finally:
            self._give_back_arena(arena)
        if any(t.rows is not None or t.hidden for t in self.metadata.outputs):
            outputs = [
                o if t.rows is None else o[(slice(None),) * t.rows_axis + (slice(0, int(outputs[t.rows])),)]
                for t, o in zip(self.metadata.outputs, outputs, strict=True)
                if not t.hidden
            ]
        if selected is None:
            return outputs
        return [outputs[i] for i in selected]

    # -- arenas -------------------------------------------------------------------

    MAX_IDLE_ARENAS = 8
    """Idle arenas kept for reuse. The pool grows to the number of callers that
    run at the same moment (each needs its own scratch memory: `arena_bytes`);
    after a burst of more callers than this, the extra arenas are freed."""

    @property
    def arenas_allocated(self) -> int:
        """Arenas allocated so far (1 + the callers that found none free)."""
        return self._arenas_allocated

    def _take_arena(self) -> np.ndarray:
        with self._pool_lock:
            if self._free_arenas:
                return self._free_arenas.pop()
            self._arenas_allocated += 1
        return _aligned_bytes(max(self.metadata.arena_bytes, 1))

    def _give_back_arena(self, arena: np.ndarray) -> None:
        with self._pool_lock:
            if len(self._free_arenas) < self.MAX_IDLE_ARENAS:
                self._free_arenas.append(arena)

    def __call__(self, *arrays: Any) -> list[np.ndarray]:
        """Positional inputs, in `input_names` order."""
        return self.run(None, list(arrays))

    # -- export ------------------------------------------------------------------

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Writes `path` (.so) with `.json` metadata and `.params` weights beside it.

        All three files appear together or not at all: each is written to a
        temporary name in the target directory and renamed at the end.
        """
        if self._code is None:
            raise ModelLoadError("this model was loaded from disk; export the original compile")
        from compiler.errors import CompilerError
        from compiler.targets.cpu.export import link_shared_library

        so_path = Path(path)
        if so_path.suffix in (".json", ".params"):
            raise CompilerError(
                f"cannot export to '{so_path}': the metadata and weights use that suffix",
                hint="name the library model.so",
            )
        directory = so_path.parent
        if not directory.is_dir():
            raise CompilerError("directory does not exist", file=str(directory), hint="create it first")
        if not os.access(directory, os.W_OK):
            raise CompilerError("directory is not writable", file=str(directory))
        meta = self.metadata.to_json()
        # The thread count chosen at compile time (or set since) is the default of load().
        meta["num_threads"] = self._num_threads
        final = [so_path, so_path.with_suffix(".json"), so_path.with_suffix(".params")]
        tmps = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in final]
        try:
            # Only objects that call libgomp need it at link time.
            link_shared_library(self._code, tmps[0], parallel=b"GOMP_" in bytes(self._code))
            tmps[1].write_bytes(json.dumps(meta, indent=2).encode())
            self._params[: self.metadata.params_bytes].tofile(tmps[2])
            for tmp, dst in zip(tmps, final, strict=True):
                os.replace(tmp, dst)
        except OSError as err:
            raise CompilerError(f"cannot write {so_path} ({err.strerror or err})", file=str(so_path)) from None
        finally:
            for tmp in tmps:
                tmp.unlink(missing_ok=True)
        return so_path


# Paths dlopen()ed by this process, with the identity of the file at that time.
# dlopen returns the already loaded library for a path it has seen, even after
# the file was replaced, so a re-exported model must be loaded from a copy.
_dlopened: dict[str, tuple[int, int, int, int]] = {}
_dlopen_lock = threading.Lock()


def _file_identity(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


GOMP_SPIN_COUNT = 1000
"""Spins (a load and a `pause` each, about 20 ns here) before a waiting
libgomp thread sleeps, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT say otherwise.

Enough to catch the next parallel loop of a model that launches them back to
back (about 1.5 us a launch on two threads, as with longer spins), short
enough that an idle worker does not keep its core from other work. With one
busy process beside a 2-thread run on 2 cores, 10000 spins made SqueezeNet
about 4x slower than on one thread; 1000 or 0 made it faster than one thread
(benchmarks/run.py --background-load, on a loaded machine)."""


def bound_libgomp_spinning() -> None:
    """Set GOMP_SPINCOUNT to `GOMP_SPIN_COUNT` unless the user chose a wait policy.

    libgomp reads it once, when it is loaded: call this before that.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = str(GOMP_SPIN_COUNT)


def _dlopen(so_path: Path) -> ctypes.CDLL:
    bound_libgomp_spinning()  # libgomp comes in with the .so
    resolved = str(so_path.resolve())
    with _dlopen_lock:
        identity = _file_identity(so_path)
        seen = _dlopened.get(resolved)
        if seen is None or seen == identity:
            lib = ctypes.CDLL(resolved)
            _dlopened[resolved] = identity
            return lib
        # The file changed since this process loaded it: load a private copy.
        with tempfile.TemporaryDirectory(prefix="compiler-load-") as work:
            copy = Path(work) / so_path.name
            shutil.copyfile(so_path, copy)
            return ctypes.CDLL(str(copy))  # the mapping outlives the deleted file


def _symbol_address(lib: ctypes.CDLL, name: str) -> int | None:
    try:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    except AttributeError:
        return None


def load(path: str | os.PathLike[str], num_threads: int | None = None) -> CompiledModel:
    """Loads an exported model (`.so` with its `.json` and `.params` beside it, or a CUDA model file)."""
    so_path = Path(path)
    if so_path.is_file() and zipfile.is_zipfile(so_path):  # a CUDA model (compiler/targets/cuda/export.py)
        from compiler.targets.cuda.export import load_cuda

        return load_cuda(so_path)  # type: ignore[no-any-return]
    if not so_path.exists() and so_path.suffix == "" and so_path.with_suffix(".so").exists():
        so_path = so_path.with_suffix(".so")
    meta_path, params_path = so_path.with_suffix(".json"), so_path.with_suffix(".params")
    for p in (so_path, meta_path, params_path):
        if not p.is_file():
            raise ModelLoadError("missing file of an exported model", file=str(p),
                                 hint="export writes .so, .json and .params side by side")
    try:
        meta = ModelMetadata.from_json(json.loads(meta_path.read_text()))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ModelLoadError(f"bad metadata ({type(err).__name__}: {err})", file=str(meta_path)) from None
    if meta.target != "cpu":
        raise ModelLoadError(f"model was built for target {meta.target!r}", file=str(meta_path))
    try:
        lib = _dlopen(so_path)
    except OSError as err:
        raise ModelLoadError(f"cannot load shared library ({err})", file=str(so_path)) from None
    params = np.fromfile(params_path, dtype=np.uint8)
    if len(params) != meta.params_bytes:
        raise ModelLoadError(
            f"params file has {len(params)} bytes, metadata says {meta.params_bytes}", file=str(params_path)
        )
    entry = _symbol_address(lib, meta.entry)
    if entry is None:
        raise ModelLoadError(f"the library has no entry function '{meta.entry}'", file=str(so_path),
                             hint="the .so and .json do not belong together; export the model again")
    setter_addr = _symbol_address(lib, meta.set_threads)
    bind_team = None
    if _symbol_address(lib, "GOMP_parallel") is not None:  # linked with libgomp: has parallel loops
        from compiler.targets.cpu.bind_team import bind_team_function

        bind_team = bind_team_function()
    model = CompiledModel(
        meta, entry, params, keepalive=[lib], set_threads_address=setter_addr, bind_team=bind_team
    )
    if num_threads is not None:
        model.set_num_threads(num_threads)
    return model
