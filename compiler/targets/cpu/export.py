"""Ahead-of-time output: an object file from llvmlite, a shared library linked by `cc`.

    emit_object(module, "kernels.o")
    export_shared_library(module, "kernels.so")   # cc -shared -o kernels.so kernels.o -lm [-lgomp]

The `.so` exports every public function with the same native calling
convention as the JIT (memref -> pointer to the first element, index ->
int64_t; see `compiler.targets.cpu.jit`) plus `compiler_set_num_threads`. It
needs libm, and libgomp when the module has parallel loops (found by the
linker, else next to scikit-learn, with an rpath).

Both write to a temporary file beside the target and rename it, so a failed
compile or link never leaves a half-written output behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp

from compiler.errors import CompilerError
from compiler.targets.cpu import objects
from compiler.targets.cpu.cache import ObjectCache
from compiler.targets.cpu.jit import find_libgomp, llvm_module, resolve_cache
from compiler.targets.cpu.machine import HostTarget, compile_object
from compiler.targets.cpu.translate import to_llvm_ir


def object_code(
    module: ModuleOp | str,
    *,
    opt_level: int = 3,
    cache: ObjectCache | bool | None = True,
    target: HostTarget | None = None,
) -> bytes:
    """ELF object bytes of `module` (llvm or upstream dialects, or LLVM IR text)."""
    target = target or HostTarget.detect()
    ir_text = module if isinstance(module, str) else to_llvm_ir(llvm_module(module), target.triple)
    return compile_object(ir_text, target, opt_level, resolve_cache(cache))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def emit_object(
    module: ModuleOp | str,
    path: str | os.PathLike[str],
    *,
    opt_level: int = 3,
    cache: ObjectCache | bool | None = True,
    target: HostTarget | None = None,
) -> Path:
    """Write the object file of `module` to `path`."""
    out = Path(path)
    _write_atomically(out, object_code(module, opt_level=opt_level, cache=cache, target=target))
    return out


def find_c_compiler() -> str:
    """The system C compiler driver used as linker: $CC, else cc."""
    name = os.environ.get("CC", "cc")
    found = shutil.which(name)
    if found is None:
        raise CompilerError(
            f"no C compiler '{name}' found to link the shared library",
            hint="install gcc or clang (or set CC), or use emit_object() and link it yourself",
        )
    return found


def _gomp_link_flags() -> list[str]:
    """-lgomp, plus -L/-rpath when only scikit-learn's copy of libgomp exists."""
    found = find_libgomp()
    if found is None:
        raise CompilerError(
            "the module has parallel loops but libgomp was not found",
            hint="install libgomp1 (it comes with gcc) or scikit-learn",
        )
    if os.path.isabs(found):
        directory = os.path.dirname(found)
        return [found, f"-Wl,-rpath,{directory}"]
    return ["-lgomp"]


def link_shared_library(data: bytes, path: str | os.PathLike[str], *, parallel: bool = True) -> Path:
    """Link an object file (bytes, or a bundle: `objects`) into the shared library `path` with `cc -shared`.

    `parallel`: the object calls libgomp (link it in).
    """
    compiler = find_c_compiler()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    libs = ["-lm"]
    if parallel:
        libs += _gomp_link_flags()
    with tempfile.TemporaryDirectory(prefix="compiler-link-") as work:
        files = []
        for index, code in enumerate(objects.unpack(data)):
            files.append(Path(work) / f"module{index}.o")
            files[-1].write_bytes(code)
        tmp_out = out.parent / f".{out.name}.tmp"
        command = [compiler, "-shared", "-o", str(tmp_out), *map(str, files), *libs]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            if tmp_out.exists():
                tmp_out.unlink()
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise CompilerError(
                f"linking {out.name} failed: {detail[-1] if detail else 'cc returned ' + str(result.returncode)}",
                hint="command: " + " ".join(command),
            )
        os.replace(tmp_out, out)
    return out


def export_shared_library(
    module: ModuleOp | str,
    path: str | os.PathLike[str],
    *,
    opt_level: int = 3,
    cache: ObjectCache | bool | None = True,
    target: HostTarget | None = None,
) -> Path:
    """Compile `module` and link it into the shared library `path` with `cc -shared`."""
    target = target or HostTarget.detect()
    ir_text = module if isinstance(module, str) else to_llvm_ir(llvm_module(module), target.triple)
    data = compile_object(ir_text, target, opt_level, resolve_cache(cache))
    return link_shared_library(data, path, parallel="GOMP_" in ir_text or "omp_get_" in ir_text)
