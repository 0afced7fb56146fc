"""Run a `LaunchPlan` on an NVIDIA GPU through the CUDA driver API (libcuda, by ctypes).

The driver library comes with the GPU's driver, so nothing else is needed at
run time: the plan's CUDA C is compiled by NVRTC for the device's own
architecture (`sm_<major><minor>`), the cubin is loaded with
`cuModuleLoadData`, the weights are uploaded once, and each `run` copies the
inputs in, launches every kernel function in order on the default stream
(the order is the only barrier kernels need), and copies the outputs out.

Without a GPU (or its driver) `cuda_device_available()` is False and
`CudaModel` raises a CompilerError saying so; tests skip on it.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from compiler.errors import CompilerError
from compiler.runtime import TensorSpec
from compiler.targets.cuda.launch_table import Buffer, PlanLike
from compiler.targets.cuda.nvrtc import compile_cuda

_COMPUTE_CAPABILITY_MAJOR = 75
_COMPUTE_CAPABILITY_MINOR = 76


class CudaError(CompilerError):
    """The CUDA driver is missing or a driver call failed."""


@cache
def _driver() -> ctypes.CDLL:
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        _check(lib, lib.cuInit(0), "cuInit")
        return lib
    raise CudaError("no CUDA driver (libcuda.so.1) on this machine", hint="run on a machine with an NVIDIA GPU")


def _check(lib: ctypes.CDLL, status: int, call: str) -> None:
    if status != 0:
        name = ctypes.c_char_p()
        lib.cuGetErrorName(status, ctypes.byref(name))
        raise CudaError(f"CUDA driver: {call} failed: {(name.value or b'error %d' % status).decode()}")


def cuda_device_available() -> bool:
    """Whether a GPU and its driver are here."""
    try:
        lib = _driver()
    except CudaError:
        return False
    count = ctypes.c_int()
    return lib.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0


def _nbytes(spec: TensorSpec) -> int:
    return int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(spec.dtype).itemsize


class CudaModel:
    """A plan loaded on one device: `run(feeds)` returns the outputs as numpy arrays."""

    def __init__(self, plan: PlanLike, device: int = 0, images: Mapping[str, bytes] | None = None) -> None:
        """`images`: cubins by architecture (`sm_90`) and PTX (`sm_80.ptx`) compiled ahead of time
        (an exported model); the device's own cubin is loaded as is, else the newest PTX it can JIT,
        else the source is compiled by NVRTC here."""
        lib = self.lib = _driver()
        self.plan = plan
        dev = ctypes.c_int()
        _check(lib, lib.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
        major, minor = ctypes.c_int(), ctypes.c_int()
        _check(lib, lib.cuDeviceGetAttribute(ctypes.byref(major), _COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute")
        _check(lib, lib.cuDeviceGetAttribute(ctypes.byref(minor), _COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute")
        self.arch = f"sm_{major.value}{minor.value}"
        self.context = ctypes.c_void_p()
        _check(lib, lib.cuDevicePrimaryCtxRetain(ctypes.byref(self.context), dev), "cuDevicePrimaryCtxRetain")
        _check(lib, lib.cuCtxSetCurrent(self.context), "cuCtxSetCurrent")
        image = pick_image(images or {}, self.arch)
        if image is None:
            image = compile_cuda(plan.source, self.arch, name="model.cu").cubin
        self.module = ctypes.c_void_p()
        data = ctypes.create_string_buffer(image, len(image))
        _check(lib, lib.cuModuleLoadData(ctypes.byref(self.module), data), "cuModuleLoadData")
        self.functions: dict[str, ctypes.c_void_p] = {}
        for kernel in plan.kernels.values():
            for launch in kernel.launches:
                fn = ctypes.c_void_p()
                _check(lib, lib.cuModuleGetFunction(ctypes.byref(fn), self.module, launch.function.encode()),
                       "cuModuleGetFunction")
                self.functions[launch.function] = fn
        self.params = self._alloc(len(plan.params))
        self._upload(self.params, plan.params)
        self.arena = self._alloc(plan.arena_bytes)
        self.inputs = [self._alloc(_nbytes(s)) for s in plan.inputs]
        self.outputs = [self._alloc(_nbytes(s)) for s in plan.outputs]

    num_threads = 0
    """As `CompiledModel.num_threads` (the command line prints it); a GPU has no thread count to set."""

    @property
    def metadata(self) -> SimpleNamespace:
        """The inputs and outputs, as `CompiledModel.metadata` has them."""
        return SimpleNamespace(inputs=self.plan.inputs, outputs=self.plan.outputs)

    @property
    def input_names(self) -> list[str]:
        return [s.name for s in self.plan.inputs]

    def export(self, path: str | os.PathLike[str], archs: tuple[str, ...] | None = None) -> Path:
        """Write the model for `compiler.load` on a GPU machine (see compiler/targets/cuda/export.py)."""
        from compiler.targets.cuda.export import export_plan

        return export_plan(self.plan, path, archs)

    def _alloc(self, nbytes: int) -> ctypes.c_uint64:
        pointer = ctypes.c_uint64()
        _check(self.lib, self.lib.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(max(nbytes, 1))), "cuMemAlloc")
        return pointer

    def _upload(self, pointer: ctypes.c_uint64, data: bytes | np.ndarray) -> None:
        raw = data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes()
        if raw:
            _check(self.lib, self.lib.cuMemcpyHtoD_v2(pointer, raw, ctypes.c_size_t(len(raw))), "cuMemcpyHtoD")

    def _address(self, b: Buffer) -> int:
        base = {"params": self.params, "arena": self.arena}.get(b.space)
        if base is None:
            base = (self.inputs if b.space == "input" else self.outputs)[b.index]
        return int(base.value) + b.offset

    def run(
        self, output_names: Sequence[str] | Mapping[str, Any] | None, feeds: Mapping[str, Any] | None = None
    ) -> list[np.ndarray]:
        """`run(None, {"x": x})` -> list of outputs, as `CompiledModel.run` and onnxruntime."""
        if feeds is None and isinstance(output_names, Mapping):
            feeds, output_names = output_names, None
        results = self._run(feeds or {})
        return [results[n] for n in (output_names or [s.name for s in self.plan.outputs])]

    def _run(self, feeds: Mapping[str, Any]) -> dict[str, np.ndarray]:
        lib = self.lib
        _check(lib, lib.cuCtxSetCurrent(self.context), "cuCtxSetCurrent")
        for spec, pointer in zip(self.plan.inputs, self.inputs, strict=True):
            if spec.name not in feeds:
                raise CompilerError(f"missing input '{spec.name}'", hint=f"feed {spec.shape} {spec.dtype}")
            self._upload(pointer, np.asarray(feeds[spec.name], dtype=spec.dtype).reshape(spec.shape))
        for call in self.plan.calls:
            pointers = [ctypes.c_uint64(self._address(b)) for b in call.args]
            argv = (ctypes.c_void_p * len(pointers))(*[ctypes.cast(ctypes.byref(p), ctypes.c_void_p) for p in pointers])
            for launch in self.plan.kernels[call.kernel].launches:
                _check(lib, lib.cuLaunchKernel(
                    self.functions[launch.function], *launch.grid, *launch.block, 0, None, argv, None
                ), f"cuLaunchKernel({launch.function})")
        _check(lib, lib.cuCtxSynchronize(), "cuCtxSynchronize")
        results = {}
        for spec, pointer in zip(self.plan.outputs, self.outputs, strict=True):
            out = np.empty(spec.shape, spec.dtype)
            _check(lib, lib.cuMemcpyDtoH_v2(out.ctypes.data_as(ctypes.c_void_p), pointer, ctypes.c_size_t(out.nbytes)),
                   "cuMemcpyDtoH")
            results[spec.name] = out
        return results


def pick_image(images: Mapping[str, bytes], arch: str) -> bytes | None:
    """The device's own cubin, else the PTX of the newest architecture not above it (the driver JITs
    PTX forward), else None."""
    if arch in images:
        return images[arch]
    number = int(arch.removeprefix("sm_"))
    ptx = sorted((int(k.removeprefix("sm_").removesuffix(".ptx")), k) for k in images if k.endswith(".ptx"))
    usable = [key for n, key in ptx if n <= number]
    return images[usable[-1]] + b"\0" if usable else None


def compile_cuda_model(model: Any, *, input_shapes: Mapping[str, Sequence[int]] | None = None, device: int = 0) -> CudaModel:
    """`compiler.compile(model, target="cuda")`: the model under GPU schedules, loaded on `device`."""
    from compiler.targets.cuda.pipeline import cuda_module
    from compiler.targets.cuda.plan import build_plan

    if not cuda_device_available():
        raise CudaError(
            "target 'cuda' needs an NVIDIA GPU and its driver, and this machine has none",
            hint="`compiler-opt MODEL.onnx -t cuda` prints the CUDA C without one",
        )
    return CudaModel(build_plan(cuda_module(model, input_shapes=input_shapes)), device)
