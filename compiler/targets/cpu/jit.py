"""JIT: compile a module to machine code in this process and call it through ctypes.

    handle = jit_compile(module)              # llvm dialect, or upstream dialects
    add = handle["vadd"]                      # NativeFunction, signature from the IR
    add(a, b, out)                            # numpy arrays pass as pointers
    handle.address("vadd")                    # raw function address (int)
    handle.set_num_threads(2)                 # team size of parallel loops (0: default)

Native calling convention of a lowered `func.func` (see convert-func-to-llvm):
every memref argument is a `void*` to its first element (a C-contiguous numpy
array: `arr.ctypes.data`), `index` is `int64_t`, integers/floats are
themselves, i1 is `bool`; a function returns void or one scalar.

Compilation goes through an object file: `compile_object` (LLVM -O3 for the
host CPU, with the on-disk cache) and MCJIT's `add_object_file`, so a cached
object is loaded without running LLVM's optimizer or code generator. External
symbols resolve against the process plus libm and libgomp, which are loaded
with global visibility first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import site
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llvmlite.binding as llvm
from xdsl.dialects import llvm as llvm_dialect
from xdsl.dialects.builtin import Float32Type, Float64Type, IntegerType, ModuleOp
from xdsl.ir import Attribute

from compiler.errors import CompilerError
from compiler.lowering.convert_to_llvm import ConvertToLLVMPass
from compiler.registry import make_context
from compiler.runtime import bound_libgomp_spinning
from compiler.targets.cpu import objects
from compiler.targets.cpu.cache import ObjectCache
from compiler.targets.cpu.machine import HostTarget, compile_object, initialize_llvm
from compiler.targets.cpu.translate import to_llvm_ir

SET_NUM_THREADS = "compiler_set_num_threads"

_runtime_lock = threading.Lock()
_runtime_loaded = False


def find_libgomp() -> str | None:
    """Path or soname of libgomp: the system's, else the copy in scikit-learn's wheel."""
    name = ctypes.util.find_library("gomp")
    if name:
        return name
    roots = [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
    for root in roots:
        for pattern in ("scikit_learn.libs/libgomp*.so*", "sklearn/.libs/libgomp*.so*"):
            found = sorted(glob.glob(os.path.join(root, pattern)))
            if found:
                return found[0]
    return None


def prefer_passive_waits() -> None:
    """Idle libgomp threads spin briefly, then sleep, unless the user says otherwise.

    Spinning workers keep a core busy between parallel loops; on a machine
    whose cores are shared (other processes, onnxruntime's own spinning
    pool in the same process) that made two threads several times slower
    than one. libgomp reads these variables once, when it is loaded. See
    `compiler.runtime.GOMP_SPIN_COUNT` for the count.
    """
    bound_libgomp_spinning()


def load_runtime_libraries() -> None:
    """Make libm and libgomp symbols visible to JIT-compiled code (once per process)."""
    global _runtime_loaded
    with _runtime_lock:
        if _runtime_loaded:
            return
        initialize_llvm()
        libm = ctypes.util.find_library("m") or "libm.so.6"
        llvm.load_library_permanently(libm)
        gomp = find_libgomp()
        if gomp is not None:
            prefer_passive_waits()
            llvm.load_library_permanently(gomp)
        _runtime_loaded = True


def _ctype(type_: Attribute) -> Any:
    if isinstance(type_, llvm_dialect.LLVMPointerType):
        return ctypes.c_void_p
    if isinstance(type_, llvm_dialect.LLVMVoidType):
        return None
    if isinstance(type_, IntegerType):
        width = type_.width.data
        return {
            1: ctypes.c_bool,
            8: ctypes.c_int8,
            16: ctypes.c_int16,
            32: ctypes.c_int32,
            64: ctypes.c_int64,
        }[width]
    if isinstance(type_, Float32Type):
        return ctypes.c_float
    if isinstance(type_, Float64Type):
        return ctypes.c_double
    raise CompilerError(f"type {type_} cannot cross the ctypes boundary")


@dataclass(frozen=True)
class Signature:
    """Argument and result types of an exported llvm.func."""

    inputs: tuple[Attribute, ...]
    output: Attribute

    def ctypes_prototype(self) -> Any:
        return ctypes.CFUNCTYPE(_ctype(self.output), *(_ctype(t) for t in self.inputs))


def signatures(module: ModuleOp) -> dict[str, Signature]:
    """Signatures of the functions a module defines with external linkage."""
    found: dict[str, Signature] = {}
    for op in module.ops:
        if (
            isinstance(op, llvm_dialect.FuncOp)
            and op.body.blocks
            and op.linkage.linkage.data == "external"
        ):
            found[op.sym_name.data] = Signature(
                tuple(op.function_type.inputs.data), op.function_type.output
            )
    return found


def _as_argument(value: Any) -> Any:
    """numpy arrays (C-contiguous) pass as their data pointer; everything else as is."""
    if hasattr(value, "__array_interface__") and hasattr(value, "ctypes"):
        if not value.flags["C_CONTIGUOUS"]:
            raise CompilerError(
                "array arguments must be C-contiguous", hint="pass np.ascontiguousarray(x)"
            )
        return value.ctypes.data
    return value


class NativeFunction:
    """A compiled function callable with numpy arrays, ints and floats."""

    def __init__(self, name: str, address: int, signature: Signature, owner: JITModule) -> None:
        self.name = name
        self.address = address
        self.signature = signature
        self._owner = owner  # keeps the engine (and the code) alive
        self._fn = signature.ctypes_prototype()(address)

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.signature.inputs):
            raise CompilerError(
                f"{self.name} takes {len(self.signature.inputs)} arguments, got {len(args)}"
            )
        return self._fn(*(_as_argument(a) for a in args))


class JITModule:
    """Machine code of one module loaded into this process."""

    def __init__(
        self,
        engine: llvm.ExecutionEngine,
        object_code: bytes,
        function_signatures: dict[str, Signature],
    ) -> None:
        self._engine = engine
        self.object_code = object_code
        self.signatures = function_signatures

    def address(self, name: str) -> int:
        """Address of the function (or global) `name`; KeyError when absent."""
        address = self._engine.get_function_address(name)
        if not address:
            address = self._engine.get_global_value_address(name)
        if not address:
            raise KeyError(name)
        return address

    def function(self, name: str, restype: Any = None, argtypes: Sequence[Any] = ()) -> Any:
        """A raw ctypes function of an explicit prototype."""
        return ctypes.CFUNCTYPE(restype, *argtypes)(self.address(name))

    def __getitem__(self, name: str) -> NativeFunction:
        signature = self.signatures.get(name)
        if signature is None:
            raise KeyError(f"no exported function '{name}' (have: {', '.join(self.signatures)})")
        return NativeFunction(name, self.address(name), signature, self)

    def __contains__(self, name: str) -> bool:
        return name in self.signatures

    def set_num_threads(self, count: int) -> None:
        """Team size for the module's parallel loops; 0 lets libgomp decide."""
        if SET_NUM_THREADS in self.signatures:
            self.function(SET_NUM_THREADS, None, [ctypes.c_int32])(count)


def llvm_module(module: ModuleOp) -> ModuleOp:
    """`module` in the llvm dialect: itself, or a lowered clone if it still holds upstream ops."""
    if all(
        isinstance(op, llvm_dialect.FuncOp | llvm_dialect.GlobalOp) for op in module.ops
    ) and all(op.name.startswith("llvm.") for op in module.walk() if op is not module):
        return module
    lowered = module.clone()
    ConvertToLLVMPass().apply(make_context(), lowered)
    return lowered


def resolve_cache(cache: ObjectCache | bool | None) -> ObjectCache | None:
    if cache is True:
        return ObjectCache()
    if cache is False or cache is None:
        return None
    return cache


def jit_compile(
    module: ModuleOp | str,
    *,
    opt_level: int = 3,
    cache: ObjectCache | bool | None = True,
    target: HostTarget | None = None,
) -> JITModule:
    """Compile `module` (llvm dialect, upstream dialects, or LLVM IR text) and load it.

    `cache=True` uses the default on-disk cache (`$COMPILER_CACHE_DIR`), an
    `ObjectCache` a specific one, False none. Native-code ABI: see the module
    docstring.
    """
    load_runtime_libraries()
    target = target or HostTarget.detect()
    if isinstance(module, str):
        ir_text, function_signatures = module, {}
    else:
        lowered = llvm_module(module)
        ir_text, function_signatures = to_llvm_ir(lowered, target.triple), signatures(lowered)
    object_code = compile_object(ir_text, target, opt_level, resolve_cache(cache))
    return load_object(object_code, function_signatures, target)


def load_object(
    object_code: bytes,
    function_signatures: dict[str, Signature] | None = None,
    target: HostTarget | None = None,
) -> JITModule:
    """Load an ELF object produced by `compile_object` (or a bundle of them,
    `compiler.targets.cpu.objects`) into a fresh MCJIT engine."""
    load_runtime_libraries()
    target = target or HostTarget.detect()
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), target.target_machine())
    for code in objects.unpack(object_code):
        engine.add_object_file(llvm.ObjectFileRef.from_data(code))
    engine.finalize_object()
    return JITModule(engine, object_code, function_signatures or {})
