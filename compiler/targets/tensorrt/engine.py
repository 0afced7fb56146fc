"""`compiler.compile(model, target="tensorrt")`: a TensorRT engine of the optimized graph, run on a GPU.

The model goes through the export pipeline and out as ONNX
(compiler/targets/tensorrt/onnx_export.py); TensorRT's ONNX parser and
builder turn that into an engine, which runs through TensorRT's execution
context on buffers this module allocates with the CUDA driver API (the same
libcuda calls as the CUDA target, compiler/targets/cuda/launch.py).

Precision is in the ONNX types, not in builder flags: TensorRT 11 builds
strongly typed networks only (10.x's BuilderFlag.FP16 is gone), so
`precision="fp16"` runs the driver's `convert-precision` before the export
(weights and activations f16, sensitive ops and the model's inputs and
outputs f32) and TensorRT follows those types. On 10.x the network is
created with the STRONGLY_TYPED flag, so both versions build the same thing.

Building an engine takes seconds to minutes, so engines are cached on disk
(`EngineCache`): keyed by the exported ONNX bytes, the TensorRT version, the
GPU (name and compute capability) and the build flags, in
`$COMPILER_CACHE_DIR/tensorrt` (the compile cache's directory; an empty
COMPILER_CACHE_DIR disables it). Entries carry their SHA-256 and are
written atomically; a damaged one is a miss. Exporting a big model costs
seconds too (VGG-19's import: 30 s), so a second entry, `.link`, maps the
source model's key (its bytes, the options, the compiler's sources) to the
engine's key and the I/O specs: an unchanged model loads its engine without
being imported again.

The `tensorrt` wheel is optional (`pip install 'compiler[tensorrt]'`):
without it, or without a GPU, `compile` fails with one line saying which.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import onnx

from compiler.errors import CompilerError, InputError
from compiler.runtime import TensorSpec, check_inputs
from compiler.targets.cpu.cache import default_cache_dir, seal, unseal, write_atomically
from compiler.targets.cuda.launch import _check, _driver, cuda_device_available
from compiler.targets.tensorrt.onnx_export import export_model

INSTALL_HINT = "pip install 'compiler[tensorrt]'"
ENGINE_CACHE_FORMAT = "1"
"""Bump when what a key builds changes (builder options, the engine file's layout)."""

_COMPUTE_CAPABILITY_MAJOR = 75
_COMPUTE_CAPABILITY_MINOR = 76


class TensorRTError(CompilerError):
    """The tensorrt wheel or a GPU is missing, or TensorRT refused the model."""


def import_tensorrt() -> ModuleType:
    """The `tensorrt` module; a TensorRTError line when the wheel (or its libraries) is missing."""
    try:
        import tensorrt
    except (ImportError, OSError) as err:
        reason = f" ({err.__class__.__name__}: {str(err).splitlines()[0]})" if str(err) else ""
        raise TensorRTError(f"target='tensorrt' needs the tensorrt wheel{reason}", hint=INSTALL_HINT) from None
    return tensorrt


def tensorrt_available() -> bool:
    """Whether the wheel imports and a GPU with its driver is here (tests skip on it)."""
    try:
        import_tensorrt()
    except TensorRTError:
        return False
    return cuda_device_available()


def require_gpu() -> None:
    if not cuda_device_available():
        raise TensorRTError(
            "target='tensorrt' needs an NVIDIA GPU and its driver, and this machine has none",
            hint="`compiler export-onnx MODEL.onnx -o OUT.onnx` writes the ONNX that TensorRT would build, without one",
        )


def device_description(device: int = 0) -> str:
    """`NVIDIA H200 sm_90`: what an engine is built for (part of the cache key)."""
    lib = _driver()
    dev = ctypes.c_int()
    _check(lib, lib.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
    name = ctypes.create_string_buffer(256)
    _check(lib, lib.cuDeviceGetName(name, 256, dev), "cuDeviceGetName")
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(lib, lib.cuDeviceGetAttribute(ctypes.byref(major), _COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute")
    _check(lib, lib.cuDeviceGetAttribute(ctypes.byref(minor), _COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute")
    return f"{name.value.decode(errors='replace')} sm_{major.value}{minor.value}"


def engine_key(onnx_bytes: bytes, tensorrt_version: str, gpu: str, flags: Sequence[str]) -> str:
    """SHA-256 of everything that decides the engine: the ONNX, TensorRT, the GPU, the build flags."""
    digest = hashlib.sha256()
    for part in (ENGINE_CACHE_FORMAT, tensorrt_version, gpu, ",".join(sorted(flags))):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(hashlib.sha256(onnx_bytes).digest())
    return digest.hexdigest()


class EngineCache:
    """Serialized engines as `<key>.engine` files (engine bytes + their SHA-256) in one directory."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        base = Path(directory) if directory is not None else default_cache_dir()
        self.directory = None if base is None else base / "tensorrt"

    def get(self, key: str) -> bytes | None:
        if self.directory is None:
            return None
        path = self.directory / f"{key}.engine"
        try:
            entry = path.read_bytes()
        except OSError:
            return None
        data = unseal(entry)
        if data is None:  # truncated or damaged: never hand it to the deserializer
            with contextlib.suppress(OSError):
                path.unlink()
        return data

    def put(self, key: str, engine: bytes) -> None:
        self._write(f"{key}.engine", engine)

    def get_link(self, key: str) -> tuple[str, list[TensorSpec], list[TensorSpec]] | None:
        """What a source key stands for: the engine's key and the exported model's inputs and outputs."""
        if self.directory is None:
            return None
        path = self.directory / f"{key}.link"
        try:
            data = unseal(path.read_bytes())
            if data is None:
                raise ValueError("damaged")
            link = json.loads(data)
            return (str(link["engine"]), [TensorSpec.from_json(t) for t in link["inputs"]],
                    [TensorSpec.from_json(t) for t in link["outputs"]])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def put_link(self, key: str, engine_key: str, inputs: list[TensorSpec], outputs: list[TensorSpec]) -> None:
        link = {"engine": engine_key, "inputs": [t.to_json() for t in inputs],
                "outputs": [t.to_json() for t in outputs]}
        self._write(f"{key}.link", json.dumps(link).encode())

    def _write(self, name: str, data: bytes) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(self.directory / name, seal(data))
        except OSError:  # an unwritable cache only costs build time
            pass


def _logger(trt: ModuleType) -> Any:
    """A TensorRT logger that keeps the errors (for one CompilerError line) and drops the chatter."""

    class Logger(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if severity in (trt.ILogger.Severity.ERROR, trt.ILogger.Severity.INTERNAL_ERROR):
                self.errors.append(msg)

    return Logger()


def build_flags(trt: ModuleType, precision: str) -> list[str]:
    """What the build depends on besides the ONNX (part of the cache key)."""
    typed = "strongly-typed" if hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED") else "default-typed"
    return [typed, f"precision={precision}", "no-tf32" if precision == "fp32" else "tf32"]


def build_engine(trt: ModuleType, onnx_bytes: bytes, precision: str = "fp32") -> bytes:
    """ONNX bytes -> a serialized engine for the current GPU (TensorRT's parser and builder).

    For fp32, TF32 (on by default, 10 mantissa bits in convs and matmuls) is
    turned off: fp32 means the f32 results that the other targets give.
    """
    logger = _logger(trt)
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"):
        # 10.x: follow the ONNX types (the precision is in them); 11.x: always so.
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        raise TensorRTError(f"TensorRT's ONNX parser refused the exported model: {_parser_error(parser, logger)}",
                            hint="compile the model with target='cuda' or 'cpu'")
    config = builder.create_builder_config()
    if precision == "fp32" and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        reason = logger.errors[-1] if logger.errors else "no reason given"
        raise TensorRTError(f"TensorRT could not build an engine: {reason}",
                            hint="compile the model with target='cuda' or 'cpu'")
    return bytes(serialized)


def _parser_error(parser: Any, logger: Any) -> str:
    """The parser's first error as `node 'x' (Op): what` (node names exist since TensorRT 10)."""
    if not parser.num_errors:
        return logger.errors[-1] if logger.errors else "no reason given"
    first = parser.get_error(0)
    node = getattr(first, "node_name", lambda: "")()
    op = getattr(first, "node_operator", lambda: "")()
    return (f"node '{node}' ({op}): " if node else "") + " ".join(str(first.desc()).split())


def _specs(values: Sequence[onnx.ValueInfoProto]) -> list[TensorSpec]:
    specs = []
    for v in values:
        t = v.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        specs.append(TensorSpec(v.name, tuple(int(d.dim_value) for d in t.shape.dim), np.dtype(dtype).name))
    return specs


def _check_io_type(trt: ModuleType, engine: Any, spec: TensorSpec) -> None:
    """The engine's I/O tensor has the exported model's element type (the buffers are sized by it)."""
    try:
        actual = np.dtype(trt.nptype(engine.get_tensor_dtype(spec.name)))
    except (AttributeError, TypeError, ValueError):  # a type numpy has no name for: let TensorRT decide
        return
    if actual != np.dtype(spec.dtype):
        raise TensorRTError(f"the engine's I/O tensor '{spec.name}' is {actual.name}, the exported model's {spec.dtype}",
                            hint="compile the model with target='cuda' or 'cpu'")


class TensorRTModel:
    """A deserialized engine on one GPU: `run(feeds)` returns the outputs as numpy arrays."""

    num_threads = 0
    """As `CompiledModel.num_threads` (the command line prints it); TensorRT has no thread count."""

    def __init__(self, engine: bytes, inputs: list[TensorSpec], outputs: list[TensorSpec], device: int = 0) -> None:
        trt = import_tensorrt()
        require_gpu()
        lib = self.lib = _driver()
        self.inputs, self.outputs = inputs, outputs
        self.engine_bytes = engine
        dev = ctypes.c_int()
        _check(lib, lib.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
        # The primary context: the one TensorRT's runtime API calls use too.
        self.cu_context = ctypes.c_void_p()
        _check(lib, lib.cuDevicePrimaryCtxRetain(ctypes.byref(self.cu_context), dev), "cuDevicePrimaryCtxRetain")
        _check(lib, lib.cuCtxSetCurrent(self.cu_context), "cuCtxSetCurrent")
        self.logger = _logger(trt)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(engine)
        if self.engine is None:
            reason = self.logger.errors[-1] if self.logger.errors else "no reason given"
            raise TensorRTError(f"TensorRT could not load the engine: {reason}",
                                hint="delete the engine cache ($COMPILER_CACHE_DIR/tensorrt) and compile again")
        self.context = self.engine.create_execution_context()
        self.stream = ctypes.c_void_p()
        _check(lib, lib.cuStreamCreate(ctypes.byref(self.stream), 0), "cuStreamCreate")
        self.buffers: dict[str, ctypes.c_uint64] = {}
        for spec in [*inputs, *outputs]:
            _check_io_type(trt, self.engine, spec)
            nbytes = int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(spec.dtype).itemsize
            pointer = ctypes.c_uint64()
            _check(lib, lib.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(max(nbytes, 1))), "cuMemAlloc")
            self.buffers[spec.name] = pointer
            if not self.context.set_tensor_address(spec.name, int(pointer.value)):
                raise TensorRTError(f"the engine has no I/O tensor '{spec.name}'",
                                    hint="delete the engine cache ($COMPILER_CACHE_DIR/tensorrt) and compile again")

    @property
    def metadata(self) -> SimpleNamespace:
        """The inputs and outputs, as `CompiledModel.metadata` has them."""
        return SimpleNamespace(inputs=self.inputs, outputs=self.outputs)

    @property
    def visible_outputs(self) -> list[TensorSpec]:
        return self.outputs

    @property
    def input_names(self) -> list[str]:
        return [s.name for s in self.inputs]

    def run(
        self, output_names: Sequence[str] | Mapping[str, Any] | None, feeds: Any = None
    ) -> list[np.ndarray]:
        """`run(None, {"x": x})` -> list of outputs, as `CompiledModel.run` and onnxruntime."""
        if feeds is None and isinstance(output_names, Mapping):
            feeds, output_names = output_names, None
        lib = self.lib
        _check(lib, lib.cuCtxSetCurrent(self.cu_context), "cuCtxSetCurrent")
        for spec, array in zip(self.inputs, check_inputs(self.inputs, feeds or {}), strict=True):
            raw = np.ascontiguousarray(array).tobytes()
            if raw:
                _check(lib, lib.cuMemcpyHtoD_v2(self.buffers[spec.name], raw, ctypes.c_size_t(len(raw))), "cuMemcpyHtoD")
        if not self.context.execute_async_v3(int(self.stream.value or 0)):
            reason = self.logger.errors[-1] if self.logger.errors else "no reason given"
            raise TensorRTError(f"TensorRT could not run the engine: {reason}")
        _check(lib, lib.cuStreamSynchronize(self.stream), "cuStreamSynchronize")
        results = {}
        for spec in self.outputs:
            out = np.empty(spec.shape, spec.dtype)
            _check(lib, lib.cuMemcpyDtoH_v2(out.ctypes.data_as(ctypes.c_void_p), self.buffers[spec.name],
                                            ctypes.c_size_t(out.nbytes)), "cuMemcpyDtoH")
            results[spec.name] = out
        wanted = list(output_names or [s.name for s in self.outputs])
        unknown = [n for n in wanted if n not in results]
        if unknown:
            raise InputError(f"unknown output {unknown[0]!r}", hint=f"outputs are {list(results)}")
        return [results[n] for n in wanted]

    def __del__(self) -> None:
        lib = getattr(self, "lib", None)
        if lib is None:
            return
        for pointer in getattr(self, "buffers", {}).values():
            lib.cuMemFree_v2(pointer)
        stream = getattr(self, "stream", None)
        if stream is not None and stream.value:
            lib.cuStreamDestroy_v2(stream)


def compile_tensorrt_model(
    model: Any,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    precision: str = "fp32",
    precision_spec: str | None = None,
    cache: bool = True,
    specialize: Mapping[str, Any] | None = None,
    source_key: str | None = None,
    device: int = 0,
) -> TensorRTModel:
    """`compiler.compile(model, target="tensorrt")`: export, build (or load from the cache), load on `device`.

    `precision_spec` is the driver's `precision_pipeline(precision)` (None for fp32).
    `source_key` (the driver's model-cache key of the source model and options)
    lets a cached engine load without exporting again: a `.link` entry maps it
    to the engine's key, which the export's bytes decide.
    """
    trt = import_tensorrt()
    require_gpu()
    store = EngineCache() if cache else None
    build = (str(trt.__version__), device_description(device), build_flags(trt, precision))
    link = engine_key(source_key.encode(), *build) if source_key is not None else None
    if store is not None and link is not None:
        hit = store.get_link(link)
        engine = store.get(hit[0]) if hit is not None else None
        if hit is not None and engine is not None:  # no import, no passes, no export
            return TensorRTModel(engine, hit[1], hit[2], device)
    proto = export_model(model, input_shapes=input_shapes, before=precision_spec, specialize=specialize)
    data = proto.SerializeToString()
    key = engine_key(data, *build)
    engine = store.get(key) if store is not None else None
    if engine is None:
        engine = build_engine(trt, data, precision)
        if store is not None:
            store.put(key, engine)
    inputs, outputs = _specs(proto.graph.input), _specs(proto.graph.output)
    if store is not None and link is not None:
        store.put_link(link, key, inputs, outputs)
    return TensorRTModel(engine, inputs, outputs, device)
