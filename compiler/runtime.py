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

import ctypes
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import InputError, ModelLoadError

FORMAT_VERSION = 1
ARENA_ALIGNMENT = 64


@dataclass
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> TensorSpec:
        return TensorSpec(str(d["name"]), tuple(int(x) for x in d["shape"]), str(d["dtype"]))


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


class CompiledModel:
    """A model compiled to native code: call it like onnxruntime's session.run."""

    def __init__(
        self,
        metadata: ModelMetadata,
        entry_address: int,
        params: bytes | np.ndarray,
        *,
        keepalive: Sequence[object] = (),
        set_threads_address: int | None = None,
        code: Any = None,
    ):
        self.metadata = metadata
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
        blob = np.frombuffer(params, dtype=np.uint8) if isinstance(params, bytes | bytearray) else params
        self._params = _aligned_bytes(max(len(blob), 1))
        self._params[: len(blob)] = blob
        self._arena = _aligned_bytes(max(metadata.arena_bytes, 1))
        self._lock = threading.Lock()
        self._num_threads = metadata.num_threads
        self._dtypes_in = [np.dtype(t.dtype) for t in metadata.inputs]
        self._dtypes_out = [np.dtype(t.dtype) for t in metadata.outputs]

    # -- introspection ---------------------------------------------------------

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.metadata.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.metadata.outputs]

    @property
    def num_threads(self) -> int:
        return self._num_threads

    def set_num_threads(self, n: int | None) -> None:
        """Threads for parallel loops (0 or None: all cores)."""
        self._num_threads = int(n or 0)

    # -- running ---------------------------------------------------------------

    def _check(self, feeds: Mapping[str, Any] | Sequence[Any]) -> list[np.ndarray]:
        names = self.input_names
        if isinstance(feeds, Mapping):
            unknown = sorted(set(feeds) - set(names))
            if unknown:
                raise InputError(f"unknown input {unknown[0]!r}", hint=f"inputs are {names}")
            missing = [n for n in names if n not in feeds]
            if missing:
                raise InputError(f"missing input {missing[0]!r}", hint=f"inputs are {names}")
            arrays = [feeds[n] for n in names]
        else:
            arrays = list(feeds)
            if len(arrays) != len(names):
                raise InputError(f"expected {len(names)} inputs {names}, got {len(arrays)}")
        checked = []
        for spec, dt, arr in zip(self.metadata.inputs, self._dtypes_in, arrays, strict=True):
            if not isinstance(arr, np.ndarray):
                try:
                    arr = np.asarray(arr)
                except Exception:
                    raise InputError(f"input {spec.name!r} is not an array") from None
            if arr.dtype != dt:
                raise InputError(
                    f"input {spec.name!r} has dtype {arr.dtype}, expected {dt}",
                    hint=f"convert it with .astype(np.{dt})",
                )
            if tuple(arr.shape) != spec.shape:
                raise InputError(f"input {spec.name!r} has shape {tuple(arr.shape)}, expected {spec.shape}")
            checked.append(np.ascontiguousarray(arr))
        return checked

    def run(
        self,
        output_names: Sequence[str] | Mapping[str, Any] | None,
        feeds: Mapping[str, Any] | Sequence[Any] | None = None,
    ) -> list[np.ndarray]:
        """`run(None, {"x": x})` -> list of outputs, as onnxruntime's InferenceSession.run.

        `run({"x": x})` works too.
        """
        if feeds is None and isinstance(output_names, Mapping):
            feeds, output_names = output_names, None
        if feeds is None:
            raise InputError("no inputs given", hint="call run(None, {name: array})")
        inputs = self._check(feeds)
        outputs = [np.empty(t.shape, dtype=dt) for t, dt in zip(self.metadata.outputs, self._dtypes_out, strict=True)]
        args = [a.ctypes.data for a in inputs] + [o.ctypes.data for o in outputs]
        args += [self._params.ctypes.data, self._arena.ctypes.data]
        with self._lock:  # one arena: one inference at a time
            if self._set_threads is not None:
                self._set_threads(self._num_threads)
            self._entry(*args)
        if output_names is None:
            return outputs
        index = {n: i for i, n in enumerate(self.output_names)}
        try:
            return [outputs[index[n]] for n in output_names]
        except KeyError as err:
            raise InputError(f"unknown output {err.args[0]!r}", hint=f"outputs are {self.output_names}") from None

    def __call__(self, *arrays: Any) -> list[np.ndarray]:
        """Positional inputs, in `input_names` order."""
        return self.run(None, list(arrays))

    # -- export ------------------------------------------------------------------

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Writes `path` (.so) with `.json` metadata and `.params` weights beside it."""
        if self._code is None:
            raise ModelLoadError("this model was loaded from disk; export the original compile")
        from compiler.targets.cpu.export import link_shared_library

        so_path = Path(path)
        meta = self.metadata.to_json()
        link_shared_library(self._code, so_path)
        _atomic_write(so_path.with_suffix(".json"), json.dumps(meta, indent=2).encode())
        _atomic_write(so_path.with_suffix(".params"), self._params.tobytes()[: self.metadata.params_bytes])
        return so_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def load(path: str | os.PathLike[str], num_threads: int | None = None) -> CompiledModel:
    """Loads an exported model (`.so` with its `.json` and `.params` beside it)."""
    so_path = Path(path)
    meta_path, params_path = so_path.with_suffix(".json"), so_path.with_suffix(".params")
    for p in (so_path, meta_path, params_path):
        if not p.exists():
            raise ModelLoadError("missing file of an exported model", file=str(p),
                                 hint="export writes .so, .json and .params side by side")
    try:
        meta = ModelMetadata.from_json(json.loads(meta_path.read_text()))
    except (ValueError, KeyError) as err:
        raise ModelLoadError(f"bad metadata ({err})", file=str(meta_path)) from None
    try:
        lib = ctypes.CDLL(str(so_path.resolve()))
    except OSError as err:
        raise ModelLoadError(f"cannot load shared library ({err})", file=str(so_path)) from None
    params = params_path.read_bytes()
    if len(params) != meta.params_bytes:
        raise ModelLoadError(
            f"params file has {len(params)} bytes, metadata says {meta.params_bytes}", file=str(params_path)
        )
    entry = ctypes.cast(getattr(lib, meta.entry), ctypes.c_void_p).value
    setter = getattr(lib, meta.set_threads, None)
    setter_addr = ctypes.cast(setter, ctypes.c_void_p).value if setter is not None else None
    assert entry is not None
    model = CompiledModel(meta, entry, params, keepalive=[lib], set_threads_address=setter_addr)
    if num_threads is not None:
        model.set_num_threads(num_threads)
    return model
