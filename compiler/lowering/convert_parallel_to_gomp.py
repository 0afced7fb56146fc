"""`convert-parallel-to-gomp`: run `compiler.parallel` calls on a libgomp thread team.

Second half of the threading design (see `outline-parallel-loops`). It runs on
the llvm dialect, where every argument is a pointer, integer, float or vector,
so the arguments fit in one literal struct:

    llvm.call @f__parallel_0(%a, %n, %begin, %end) {compiler.parallel, compiler.chunks = 0}
  becomes
    %s = llvm.alloca 1 x !llvm.struct<(ptr, i64, i64, i64)>      (in the entry block)
    store %a -> %s.0 ; ... ; store %end -> %s.3
    %t = llvm.load @compiler_num_threads
    llvm.call @GOMP_parallel(@f__parallel_0__omp, %s, %t, 0)
  with a wrapper that every thread of the team runs:
    llvm.func internal @f__parallel_0__omp(%data: !llvm.ptr) {
      load the fields; size = ceildiv(end - begin, chunks)
      if GOMP_loop_dynamic_start(begin, end, 1, size, &lo, &hi):
        do f__parallel_0(%a, %n, lo, hi) while GOMP_loop_dynamic_next(&lo, &hi)
      GOMP_loop_end_nowait()
    }

Why dynamic chunks: a static block per thread makes every parallel loop as
slow as its slowest thread. On a machine that does other work, a thread
that is descheduled holds its whole block while the others wait at the
barrier; with several chunks per thread taken first come, first served, the
threads that run take over the work of the one that does not. Each chunk is
a contiguous range of whole iterations and every iteration computes exactly
what it computed before, so the results do not depend on the chunking.

`chunks` is the `compiler.chunks` attribute: the schedule's chunk count, or
0 for `CHUNKS_PER_THREAD` per thread of the team (read at run time, so the
thread count can change after compiling).

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
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, UnitAttr, i32, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from compiler.lowering.outline_parallel_loops import CHUNKS_ATTR, PARALLEL_ATTR

NUM_THREADS_GLOBAL = "compiler_num_threads"
SET_NUM_THREADS = "compiler_set_num_threads"
GOMP_PARALLEL = "GOMP_parallel"
LOOP_START = "GOMP_loop_dynamic_start"
LOOP_NEXT = "GOMP_loop_dynamic_next"
LOOP_END = "GOMP_loop_end_nowait"
NUM_THREADS = "omp_get_num_threads"

CHUNKS_PER_THREAD = 4
"""Chunks per thread when the schedule leaves the count to the runtime (0):
enough that the running threads absorb a descheduled one's share, few
enough that a chunk stays a long contiguous run of iterations."""

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


_I8 = IntegerType(8)

_RUNTIME_FUNCTIONS: dict[str, llvm.LLVMFunctionType] = {
    GOMP_PARALLEL: llvm.LLVMFunctionType([_PTR, _PTR, i32, i32], _VOID),
    # bool (long start, long end, long incr, long chunk_size, long *istart, long *iend)
    LOOP_START: llvm.LLVMFunctionType([i64, i64, i64, i64, _PTR, _PTR], _I8),
    # bool (long *istart, long *iend)
    LOOP_NEXT: llvm.LLVMFunctionType([_PTR, _PTR], _I8),
    LOOP_END: llvm.LLVMFunctionType([], _VOID),
    NUM_THREADS: llvm.LLVMFunctionType([], i32),
}


def _declare_gomp(module: ModuleOp) -> None:
    symbols = _symbols(module)
    for name, signature in _RUNTIME_FUNCTIONS.items():
        if name not in symbols:
            module.body.block.add_op(llvm.FuncOp(name, signature, linkage=llvm.LinkageAttr("external")))


def _constant(value: int, type_: IntegerType = i64) -> llvm.ConstantOp:
    return llvm.ConstantOp(IntegerAttr(value, type_), type_)


def _is_true(flag: SSAValue, ops: list[Operation]) -> SSAValue:
    """An i1 from a C `bool` result (an i8 that is 0 or 1)."""
    zero = _constant(0, _I8)
    ne = llvm.ICmpOp(flag, zero.result, IntegerAttr(llvm.ICmpPredicateFlag("ne").to_int(), i64))
    ops += [zero, ne]
    return ne.res


def _chunk_size(begin: SSAValue, end: SSAValue, chunks: int, ops: list[Operation]) -> SSAValue:
    """max(ceildiv(end - begin, n), 1) iterations per chunk, n = `chunks` or per thread."""
    if chunks > 0:
        count = _constant(chunks)
        ops.append(count)
        n = count.result
    else:
        threads = llvm.CallOp(NUM_THREADS, return_type=i32)
        wide = llvm.SExtOp(threads.returned, i64)
        per = _constant(CHUNKS_PER_THREAD)
        product = llvm.MulOp(wide.res, per.result)
        ops += [threads, wide, per, product]
        n = product.res
    one = _constant(1)
    span = llvm.SubOp(end, begin)
    minus_one = llvm.SubOp(n, one.result)
    rounded = llvm.AddOp(span.res, minus_one.res)
    size = llvm.SDivOp(rounded.res, n)
    positive = llvm.ICmpOp(
        size.res, one.result, IntegerAttr(llvm.ICmpPredicateFlag("sgt").to_int(), i64)
    )
    clamped = llvm.SelectOp(positive.res, size.res, one.result)
    ops += [one, span, minus_one, rounded, size, positive, clamped]
    return clamped.results[0]


def _wrapper(callee: llvm.FuncOp, struct: llvm.LLVMStructType, chunks: int) -> llvm.FuncOp:
    """`void callee__omp(ptr data)`: unpack the struct, then run chunks of [begin, end)
    that libgomp hands out dynamically until none is left."""
    entry, body, done = Block(arg_types=[_PTR]), Block(), Block()
    data = entry.args[0]
    data.name_hint = "data"
    ops: list[Operation] = []
    args: list[SSAValue] = []
    for index, field_type in enumerate(struct.types.data):
        field = llvm.GEPOp(data, [0, index], struct, inbounds=True)
        load = llvm.LoadOp(field.result, field_type)
        ops += [field, load]
        args.append(load.dereferenced_value)
    *captures, begin, end = args
    size = _chunk_size(begin, end, chunks, ops)
    one = _constant(1)
    lo_slot = llvm.AllocaOp(one.result, i64, alignment=8)
    hi_slot = llvm.AllocaOp(one.result, i64, alignment=8)
    lo_slot.res.name_hint, hi_slot.res.name_hint = "lo", "hi"
    start = llvm.CallOp(LOOP_START, begin, end, one.result, size, lo_slot.res, hi_slot.res, return_type=_I8)
    ops += [one, lo_slot, hi_slot, start]
    got = _is_true(start.returned, ops)
    entry.add_ops([*ops, llvm.CondBrOp(got, body, [], done, [])])

    ops = []
    lo = llvm.LoadOp(lo_slot.res, i64)
    hi = llvm.LoadOp(hi_slot.res, i64)
    run = llvm.CallOp(callee.sym_name.data, *captures, lo.dereferenced_value, hi.dereferenced_value)
    step = llvm.CallOp(LOOP_NEXT, lo_slot.res, hi_slot.res, return_type=_I8)
    ops += [lo, hi, run, step]
    more = _is_true(step.returned, ops)
    body.add_ops([*ops, llvm.CondBrOp(more, body, [], done, [])])

    done.add_ops([llvm.CallOp(LOOP_END), llvm.ReturnOp()])
    return llvm.FuncOp(
        f"{callee.sym_name.data}__omp",
        llvm.LLVMFunctionType([_PTR], _VOID),
        linkage=llvm.LinkageAttr("internal"),
        body=Region([entry, body, done]),
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

    if len(call.args) < 2 or any(arg.type != i64 for arg in call.args[-2:]):
        raise DiagnosticException(
            f"a compiler.parallel call of @{callee.sym_name.data} must end with its (begin, end) range"
        )
    chunks = call.attributes.get(CHUNKS_ATTR)
    struct = llvm.LLVMStructType.from_type_list([arg.type for arg in call.args])
    wrapper = _wrapper(callee, struct, chunks.value.data if isinstance(chunks, IntegerAttr) else 0)
    module.body.block.insert_op_after(wrapper, callee)

    ops: list[Operation] = []
    one = llvm.ConstantOp(IntegerAttr(1, i64), i64)
    # 64: captured AVX-512 vectors are stored with their natural alignment.
    alloca = llvm.AllocaOp(one, struct, alignment=64)
    # In the entry block: a fixed stack slot, not a per-call stack bump.
    Rewriter.insert_op([one, alloca], InsertPoint.at_start(caller.body.blocks[0]))
    data = alloca.res
    for index, arg in enumerate(call.args):
        field = llvm.GEPOp(data, [0, index], struct, inbounds=True)
        ops += [field, llvm.StoreOp(arg, field.result)]
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
