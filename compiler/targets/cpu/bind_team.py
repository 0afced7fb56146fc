"""`compiler_bind_team`: pin each thread of the calling thread's libgomp team to a CPU.

    void compiler_bind_team(const uint8_t *masks, int64_t mask_bytes, int32_t n, int32_t *tids)

runs one parallel region of `n` threads (`GOMP_parallel`) in which thread
`t` calls `sched_setaffinity(0, mask_bytes, masks + t * mask_bytes)` and
stores its kernel thread id, `gettid()`, in `tids[t]`: the caller is thread
0, and threads 1..n-1 are the pool threads that the caller's parallel loops
of `n` threads run on. Only a thread itself can do either: libgomp does not
tell anyone its workers' ids.

The policy (which CPUs, when) is `compiler.thread_affinity`; this module
only builds the native half, once per process, in the llvm dialect and
through the same JIT as models, so that it finds the libgomp that their
parallel loops use.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable

from xdsl.dialects import llvm
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, i32, i64
from xdsl.ir import Block, Region

from compiler.lowering.convert_parallel_to_gomp import GOMP_PARALLEL
from compiler.targets.cpu.jit import find_libgomp, jit_compile

BIND_TEAM = "compiler_bind_team"
_BIND_ONE = "compiler_bind_team__omp"
_THREAD_NUM = "omp_get_thread_num"
_SETAFFINITY = "sched_setaffinity"
_GETTID = "gettid"

_PTR = llvm.LLVMPointerType()
_VOID = llvm.LLVMVoidType()
_I8 = IntegerType(8)
_ARGS = llvm.LLVMStructType.from_type_list([_PTR, i64, _PTR])

BindTeam = Callable[[int, int, int, int], None]
"""`bind(masks_address, mask_bytes, n, tids_address)`, the ctypes view of `compiler_bind_team`."""


def _bind_one() -> llvm.FuncOp:
    """What every thread of the region runs: pin itself to its row of the masks, say who it is."""
    body = Block(arg_types=[_PTR])
    data = body.args[0]
    masks_at = llvm.GEPOp(data, [0, 0], _ARGS, inbounds=True)
    bytes_at = llvm.GEPOp(data, [0, 1], _ARGS, inbounds=True)
    masks = llvm.LoadOp(masks_at.result, _PTR)
    size = llvm.LoadOp(bytes_at.result, i64)
    thread = llvm.CallOp(_THREAD_NUM, return_type=i32)
    wide = llvm.SExtOp(thread.returned, i64)
    offset = llvm.MulOp(wide.res, size.dereferenced_value)
    row = llvm.GEPOp(
        masks.dereferenced_value, [llvm.GEP_USE_SSA_VAL], _I8, ssa_indices=[offset.res]
    )
    self_ = llvm.ConstantOp(IntegerAttr(0, i32), i32)
    # An error (a CPU gone offline) leaves the thread where it was: nothing to undo.
    pin = llvm.CallOp(_SETAFFINITY, self_.result, size.dereferenced_value, row.result, return_type=i32)
    tids_at = llvm.GEPOp(data, [0, 2], _ARGS, inbounds=True)
    tids = llvm.LoadOp(tids_at.result, _PTR)
    slot = llvm.GEPOp(tids.dereferenced_value, [llvm.GEP_USE_SSA_VAL], i32, ssa_indices=[wide.res])
    tid = llvm.CallOp(_GETTID, return_type=i32)
    body.add_ops(
        [masks_at, bytes_at, masks, size, thread, wide, offset, row, self_, pin]
        + [tids_at, tids, slot, tid, llvm.StoreOp(tid.returned, slot.result), llvm.ReturnOp()]
    )
    return llvm.FuncOp(_BIND_ONE, llvm.LLVMFunctionType([_PTR], _VOID), body=Region(body))


def _bind_team() -> llvm.FuncOp:
    body = Block(arg_types=[_PTR, i64, i32, _PTR])
    masks, size, count, tids = body.args
    one = llvm.ConstantOp(IntegerAttr(1, i64), i64)
    args = llvm.AllocaOp(one.result, _ARGS, alignment=8)
    masks_at = llvm.GEPOp(args.res, [0, 0], _ARGS, inbounds=True)
    bytes_at = llvm.GEPOp(args.res, [0, 1], _ARGS, inbounds=True)
    tids_at = llvm.GEPOp(args.res, [0, 2], _ARGS, inbounds=True)
    fn = llvm.AddressOfOp(_BIND_ONE, _PTR)
    flags = llvm.ConstantOp(IntegerAttr(0, i32), i32)
    body.add_ops(
        [
            one,
            args,
            masks_at,
            llvm.StoreOp(masks, masks_at.result),
            bytes_at,
            llvm.StoreOp(size, bytes_at.result),
            tids_at,
            llvm.StoreOp(tids, tids_at.result),
            fn,
            flags,
            llvm.CallOp(GOMP_PARALLEL, fn.result, args.res, count, flags.result),
            llvm.ReturnOp(),
        ]
    )
    return llvm.FuncOp(
        BIND_TEAM,
        llvm.LLVMFunctionType([_PTR, i64, i32, _PTR], _VOID),
        linkage=llvm.LinkageAttr("external"),
        body=Region(body),
    )



def bind_team_module() -> ModuleOp:
    """The llvm-dialect module defining `compiler_bind_team` and declaring what it calls."""
    external = llvm.LinkageAttr("external")
    declarations = [
        llvm.FuncOp(GOMP_PARALLEL, llvm.LLVMFunctionType([_PTR, _PTR, i32, i32], _VOID), linkage=external),
        llvm.FuncOp(_THREAD_NUM, llvm.LLVMFunctionType([], i32), linkage=external),
        # int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask)
        llvm.FuncOp(_SETAFFINITY, llvm.LLVMFunctionType([i32, i64, _PTR], i32), linkage=external),
        llvm.FuncOp(_GETTID, llvm.LLVMFunctionType([], i32), linkage=external),  # glibc 2.30+
    ]
    return ModuleOp([*declarations, _bind_one(), _bind_team()])


_lock = threading.Lock()
_built: list[BindTeam | None] = []


def bind_team_function() -> BindTeam | None:
    """The native `compiler_bind_team`, JIT-compiled on first use; None where
    libgomp is missing (then no model has parallel loops to bind)."""
    with _lock:
        if not _built:
            if find_libgomp() is None:
                _built.append(None)
            else:
                handle = jit_compile(bind_team_module())
                fn = handle.function(
                    BIND_TEAM, None, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p]
                )
                fn._handle = handle  # type: ignore[attr-defined]  # keeps the code alive
                _built.append(fn)
        return _built[0]
