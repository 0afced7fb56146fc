"""NVRTC through ctypes: CUDA C to PTX and cubin, with no GPU and no CUDA toolkit.

The library comes from the `nvidia-cuda-nvrtc-cu12` wheel (the `cuda`
extra). Compiling for a real architecture (`sm_80`, `sm_90`) makes NVRTC
run its own assembler on the PTX it generated, so the cubin is proof that
the PTX is valid for that GPU: a compile-only test catches what a launch
would. Both are returned: the PTX (portable, JIT-compiled by a newer
driver) and the cubin (loaded as is by the driver API).
"""

from __future__ import annotations

import ctypes
import glob
import os
from dataclasses import dataclass
from functools import cache

from compiler.errors import CompilerError

ARCHITECTURES = ("sm_80", "sm_90")
"""What kernels are built for by default: Ampere (A100) and Hopper (H100/H200)."""


class NvrtcError(CompilerError):
    """NVRTC is missing or rejected a program."""


@dataclass(frozen=True)
class CudaBinary:
    """One program compiled for one architecture."""

    arch: str
    ptx: str
    cubin: bytes
    log: str


def _candidates() -> list[str]:
    found = []
    try:
        import nvidia.cuda_nvrtc  # the wheel's namespace package

        for root in nvidia.cuda_nvrtc.__path__:
            found += sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    return [p for p in found if "builtins" not in p and ".alt." not in p] + ["libnvrtc.so.12", "libnvrtc.so"]


@cache
def _library() -> ctypes.CDLL:
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        return lib
    raise NvrtcError("NVRTC is not installed", hint="pip install 'compiler[cuda]' (the nvidia-cuda-nvrtc-cu12 wheel)")


def available() -> bool:
    """Whether NVRTC can be loaded here (no GPU needed)."""
    try:
        _library()
    except NvrtcError:
        return False
    return True


def _check(lib: ctypes.CDLL, status: int, what: str) -> None:
    if status != 0:
        raise NvrtcError(f"NVRTC {what} failed: {lib.nvrtcGetErrorString(status).decode()}")


def _text(lib: ctypes.CDLL, program: ctypes.c_void_p, size_fn: str, get_fn: str) -> bytes:
    size = ctypes.c_size_t()
    _check(lib, getattr(lib, size_fn)(program, ctypes.byref(size)), size_fn)
    buffer = ctypes.create_string_buffer(size.value)
    _check(lib, getattr(lib, get_fn)(program, buffer), get_fn)
    return buffer.raw[: size.value]


def compile_cuda(source: str, arch: str = "sm_80", name: str = "kernels.cu", options: tuple[str, ...] = ()) -> CudaBinary:
    """Compile CUDA C for `arch`: its PTX and cubin; NvrtcError with NVRTC's log when it fails."""
    lib = _library()
    program = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(program), source.encode(), name.encode(), 0, None, None),
           "nvrtcCreateProgram")
    try:
        flags = [f"--gpu-architecture={arch}", "--std=c++17", "-default-device", *options]
        argv = (ctypes.c_char_p * len(flags))(*[f.encode() for f in flags])
        status = lib.nvrtcCompileProgram(program, len(flags), argv)
        log = _text(lib, program, "nvrtcGetProgramLogSize", "nvrtcGetProgramLog").rstrip(b"\0").decode(errors="replace")
        if status != 0:
            first = next((line for line in log.splitlines() if "error" in line), log.strip()[:300])
            raise NvrtcError(f"{name}: NVRTC could not compile it for {arch}: {first}")
        ptx = _text(lib, program, "nvrtcGetPTXSize", "nvrtcGetPTX").rstrip(b"\0").decode()
        cubin = _text(lib, program, "nvrtcGetCUBINSize", "nvrtcGetCUBIN")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
    return CudaBinary(arch, ptx, cubin, log)
