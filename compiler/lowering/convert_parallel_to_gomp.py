"""`convert-parallel-to-gomp`: run `compiler.parallel` calls on a libgomp thread team.

Second half of the threading design (see `outline-parallel-loops`). It runs on
the llvm dialect, where every captured value is a pointer, integer, float or
vector, so the captures fit in one literal struct:

    llvm.call @f__parallel_0(%a, %n) {compiler.parallel}
  becomes
    %s = llvm.alloca 1 x !llvm.struct<(ptr, i64)>      (in the entry block)
    store %a -> %s.0 ; store %n -> %s.1
    %t = llvm.load @compiler_num_threads
    llvm.call @GOMP_parallel(@f__parallel_0__omp, %s, %t, 0)
  with
    llvm.func internal @f__parallel_0__omp(%data: !llvm.ptr) {
      load %data.0, %data.1 ; llvm.call @f__parallel_0(...)
    }

`GOMP_parallel(fn, data, num_threads, flags)` runs `fn(data)` on a team of
`num_threads` threads (0: libgomp's default, OMP_NUM_THREADS or one per core),
the caller being thread 0, and returns when all are done. The struct lives on
the caller's stack for exactly that long.

The thread count is the module global `i32 compiler_num_threads` (internal,
initially 0); the runtime sets it through the exported
`void compiler_set_num_threads(i32)`. Both are added to every module this pass
runs on, so a runtime can always call the setter.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, UnitAttr, i32, i64
from xdsl.ir import Block, Operation, Region
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from compiler.lowering.outline_parallel_loops import PARALLEL_ATTR

NUM_THREADS_GLOBAL = "compiler_num_threads"
SET_NUM_THREADS = "compiler_set_num_threads"
GOMP_PARALLEL = "GOMP_parallel"

_PTR = llvm.LLVMPointerType()
_VOID = llvm.LLVMVoidType()


def _symbols(module: ModuleOp) -> dict[str, llvm.FuncOp | llvm.GlobalOp]:
    return {
        op.sym_name.data: op for op in module.ops if isinstance(op, llvm.FuncOp | llvm.GlobalOp)
    }


def _add_thread_count_controls(module: ModuleOp) -> None:
    symbols = _symbols(module)
    block = module.body.block
    if NUM_THREADS_GLOBAL not in symbols:
        block.add_op(
            llvm.GlobalOp(
                i32, NUM_THREADS_GLOBAL, "internal", value=IntegerAttr(0, i32), alignment=4
            )
        )
    if SET_NUM_THREADS not in symbols:
        body = Block(arg_types=[i32])
        address = llvm.AddressOfOp(NUM_THREADS_GLOBAL, _PTR)
        body.add_ops(
            [address, llvm.StoreOp(body.args[0], address.result, alignment=4), llvm.ReturnOp()]
        )
        block.add_op(
            llvm.FuncOp(
                SET_NUM_THREADS,
                llvm.LLVMFunctionType([i32], _VOID),
                linkage=llvm.LinkageAttr("external"),
                body=Region(body),
            )
        )


def _declare_gomp(module: ModuleOp) -> None:
    if GOMP_PARALLEL not in _symbols(module):
        module.body.block.add_op(
            llvm.FuncOp(
                GOMP_PARALLEL,
                llvm.LLVMFunctionType([_PTR, _PTR, i32, i32], _VOID),
                linkage=llvm.LinkageAttr("external"),
            )
        )


def _wrapper(callee: llvm.FuncOp, struct: llvm.LLVMStructType) -> llvm.FuncOp:
    """`void callee__omp(ptr data)`: unpack the struct and call the outlined function."""
    body = Block(arg_types=[_PTR])
    data = body.args[0]
    data.name_hint = "data"
    args = []
    for index, field_type in enumerate(struct.types.data):
        field = llvm.GEPOp(data, [0, index], struct, inbounds=True)
        load = llvm.LoadOp(field.result, field_type)
        body.add_ops([field, load])
        args.append(load.dereferenced_value)
    body.add_ops([llvm.CallOp(callee.sym_name.data, *args), llvm.ReturnOp()])
    return llvm.FuncOp(
        f"{callee.sym_name.data}__omp",
        llvm.LLVMFunctionType([_PTR], _VOID),
        linkage=llvm.LinkageAttr("internal"),
        body=Region(body),
        other_props={"no_unwind": UnitAttr()},
    )


def _launch(call: llvm.CallOp, module: ModuleOp) -> None:
    if call.callee is None:
        raise DiagnosticException("a compiler.parallel call must name its callee")
    callee = _symbols(module).get(call.callee.string_value())
    if not isinstance(callee, llvm.FuncOp):
        raise DiagnosticException(f"no llvm.func {call.callee} for a compiler.parallel call")
    caller = call.parent_op()
    while caller is not None and not isinstance(caller, llvm.FuncOp):
        caller = caller.parent_op()
    assert caller is not None

    struct = llvm.LLVMStructType.from_type_list([arg.type for arg in call.args])
    wrapper = _wrapper(callee, struct)
    module.body.block.insert_op_after(wrapper, callee)

    ops: list[Operation] = []
    if call.args:
        one = llvm.ConstantOp(IntegerAttr(1, i64), i64)
        # 64: captured AVX-512 vectors are stored with their natural alignment.
        alloca = llvm.AllocaOp(one, struct, alignment=64)
        # In the entry block: a fixed stack slot, not a per-call stack bump.
        Rewriter.insert_op([one, alloca], InsertPoint.at_start(caller.body.blocks[0]))
        data = alloca.res
        for index, arg in enumerate(call.args):
            field = llvm.GEPOp(data, [0, index], struct, inbounds=True)
            ops += [field, llvm.StoreOp(arg, field.result)]
    else:
        zero_ptr = llvm.ZeroOp(_PTR)
        ops.append(zero_ptr)
        data = zero_ptr.res
    count_address = llvm.AddressOfOp(NUM_THREADS_GLOBAL, _PTR)
    count = llvm.LoadOp(count_address.result, i32, alignment=4)
    fn = llvm.AddressOfOp(wrapper.sym_name.data, _PTR)
    flags = llvm.ConstantOp(IntegerAttr(0, i32), i32)
    ops += [
        count_address,
        count,
        fn,
        flags,
        llvm.CallOp(GOMP_PARALLEL, fn.result, data, count.dereferenced_value, flags.result),
    ]
    Rewriter.insert_op(ops, InsertPoint.before(call))
    Rewriter.erase_op(call)


class ConvertParallelToGompPass(ModulePass):
    """Turn `compiler.parallel` llvm.calls into GOMP_parallel launches; add the thread-count setter."""

    name = "convert-parallel-to-gomp"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        calls = [
            inner
            for inner in op.walk()
            if isinstance(inner, llvm.CallOp) and PARALLEL_ATTR in inner.attributes
        ]
        for call in calls:
            _launch(call, op)
        if calls:
            _declare_gomp(op)
        _add_thread_count_controls(op)
