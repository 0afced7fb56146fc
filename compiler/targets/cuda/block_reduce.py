"""Nests whose threads cooperate on a row: thread loops below a block-bound prefix, and `loop.allreduce`.

The baseline GPU schedule binds a nest's outer loops to blocks and threads and
each thread runs the rest alone. The row schedules (softmax, layer norm,
reductions; compiler/schedule/rules/gpu_rows.py) bind only the row to a block
and give the row's phases to its threads: `bind_reduce` and `bind_strided`
leave loops bound to `threadIdx.x` inside the block's body, side by side with
code that every thread runs (the row's scalars), and `loop.allreduce`s.

Only nests that hold a `loop.allreduce` take this path (`BlockState.threads` > 0).
Other thread loops inside block loops are the phases of a tiled block (the
GEMM rule's shared-memory staging): the emitter's generic phase path, with
the schedule's explicit `loop.barrier`s. Here, instead:

- code outside thread loops runs in every thread of the block, so each holds
  the row's scalars (a local buffer is a copy per thread); a store to global
  memory there is made by thread 0 alone, between barriers;
- a thread loop of E iterations is `if (threadIdx.x < E) { ... }`;
- `__syncthreads()` separates a thread loop from earlier code whose global
  reads or writes it could race with (and from later reads of what it wrote);
- a partial buffer of `loop.allreduce` (indexed only by the thread) is one
  register per thread;
- `loop.allreduce` is a butterfly of `__shfl_xor_sync` within each warp (every
  lane ends with the warp's value), then, with more than one warp, each warp's
  value in a `__shared__` array and a second butterfly over those: every
  thread holds the result (the broadcast later phases read), and combines it
  into the accumulator;
- short rows may share a block, one per `threadIdx.y` (bound in the prefix):
  `threadIdx.x` is the thread within the row, thread 0 of each row stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from xdsl.dialects import memref
from xdsl.dialects.builtin import Float32Type, MemRefType
from xdsl.ir import Attribute, Operation, SSAValue

from compiler.dialects.allreduce import AllReduceOp, identity
from compiler.dialects.loop import GPU_THREAD_BINDINGS, ForOp, is_shared_buffer

if TYPE_CHECKING:
    from compiler.targets.cuda.convert_loop_to_cuda import _Function

SYNC = "__syncthreads();"
WARP = 32


def _emitter() -> ModuleType:
    # convert_loop_to_cuda imports this module for its handlers; its helpers are read at call time.
    from compiler.targets.cuda import convert_loop_to_cuda

    return convert_loop_to_cuda


@dataclass
class BlockState:
    """What the emitter tracks in a nest whose threads share a row (threads == 0: not such a nest)."""

    threads: int = 0
    """blockDim.x."""
    private: set[SSAValue] = field(default_factory=set)
    """Partial buffers of `loop.allreduce`: one element per thread, a register."""
    rows: int = 1
    """blockDim.y: rows sharing the block, each its own threadIdx.y."""
    thread_ivs: set[SSAValue] = field(default_factory=set)
    thread_depth: int = 0
    serial_depth: int = 0
    """Serial loops around the current op in the block's body (outside thread loops)."""
    written: set[SSAValue] = field(default_factory=set)
    read: set[SSAValue] = field(default_factory=set)
    """Global buffers the threads wrote or read since the last barrier."""

    @property
    def uniform(self) -> bool:
        """Whether the current op runs in every thread of the block (not in a thread loop)."""
        return self.threads > 0 and self.thread_depth == 0


def thread_nest(ops: list[Operation], bound: dict[ForOp, str]) -> BlockState | None:
    """The block state of a launch's ops (a top-level nest, or a whole kernel that keeps state) with
    thread loops below its bound prefix; None without."""
    walked = [inner for op in ops for inner in op.walk()]
    reduces = [op for op in walked if isinstance(op, AllReduceOp)]
    if not reduces:
        # Thread loops without a loop.allreduce are the phases of a tiled block (GEMM: explicit
        # loop.barrier ops, threadIdx.x and .y), which the emitter's generic phase path handles.
        return None
    loops = [op for op in walked if isinstance(op, ForOp) and op.kind in GPU_THREAD_BINDINGS and op not in bound]
    if not loops:
        return None
    err = _emitter().CudaEmitError
    if any(kind in GPU_THREAD_BINDINGS[0::2] for kind in bound.values()):
        raise err(f"loop '{loops[0].axis_name}' is bound to a thread inside a nest whose prefix is bound to "
                  "threadIdx.x or .z (rows may share a block by threadIdx.y only)")
    if any(lp.kind != GPU_THREAD_BINDINGS[0] for lp in loops):
        raise err("thread loops inside a block's body must be bound to threadIdx.x")
    threads = max(lp.trip_count for lp in loops)
    threads = -(-threads // WARP) * WARP  # whole warps: every lane takes part in the shuffles
    rows = 1
    for loop, kind in bound.items():
        if kind == GPU_THREAD_BINDINGS[1]:
            rows *= loop.trip_count
    return BlockState(threads, {op.partial for op in reduces}, rows=rows)


def _is_local(ref: SSAValue) -> bool:
    """A buffer private to a thread: an alloca that is not shared (loop.is_shared_buffer: scope
    `shared` or a non-default memory space). A shared one is seen by the whole block: barriers and
    stores as for global."""
    return isinstance(ref.owner, memref.AllocaOp) and not is_shared_buffer(ref)


def _accesses(loop: ForOp) -> tuple[set[SSAValue], set[SSAValue]]:
    reads, writes = set(), set()
    for op in loop.walk():
        if isinstance(op, memref.LoadOp) and not _is_local(op.memref):
            reads.add(op.memref)
        elif isinstance(op, memref.StoreOp) and not _is_local(op.memref):
            writes.add(op.memref)
    return reads, writes


def sync(f: _Function, depth: int) -> None:
    """A barrier (not two in a row); what came before is then visible to every thread."""
    if not f.lines or f.lines[-1].strip() != SYNC:
        f.line(depth, SYNC)
    f.row.written.clear()
    f.row.read.clear()


def thread_loop(f: _Function, loop: ForOp, iv: str, depth: int, bound: dict[ForOp, str]) -> None:
    """`if (threadIdx.x < E) { iv = threadIdx.x ... }` with the barriers its accesses need."""
    state = f.row
    if state.thread_depth:
        raise _emitter().CudaEmitError(f"loop '{loop.axis_name}' is bound to threadIdx.x inside another thread loop")
    reads, writes = _accesses(loop)
    if state.serial_depth or (reads | writes) & state.written or writes & state.read:
        sync(f, depth)
    guard = f"if (threadIdx.x < {loop.trip_count}) {{" if loop.trip_count < state.threads else "{"
    f.line(depth, guard)
    f.line(depth + 1, f"const long long {iv} = {loop.lower}LL + (long long)threadIdx.x * {loop.stride}LL;")
    state.thread_depth += 1
    state.thread_ivs.add(loop.iv)
    f.block(loop, depth + 1, bound)
    state.thread_depth -= 1
    f.line(depth, "}")
    state.written |= writes
    state.read |= reads
    if state.serial_depth:
        sync(f, depth)


def private_element(f: _Function, ref: SSAValue, indices: tuple[SSAValue, ...]) -> str:
    """A partial buffer's element: the thread's own register, indexed only by the thread."""
    if len(indices) != 1 or indices[0] not in f.row.thread_ivs:
        raise _emitter().CudaEmitError(
            f"{f.where}: a loop.allreduce partial buffer is indexed by something other than its thread"
        )
    return f"{f.name(ref)}[0]"


def before_load(f: _Function, ref: SSAValue, depth: int) -> None:
    """In the block's body, a read of a global buffer that threads wrote waits for them."""
    state = f.row
    if not state.uniform or _is_local(ref):
        return
    if ref in state.written:
        sync(f, depth)
    state.read.add(ref)


def store_line(f: _Function, ref: SSAValue, text: str, depth: int) -> None:
    """A store; in the block's body, to global memory, thread 0's alone between barriers."""
    state = f.row
    if state.thread_depth and _is_local(ref) and ref not in state.private and not _inside_thread_loop(ref):
        raise _emitter().CudaEmitError(
            f"{f.where}: a thread loop writes a local buffer of the block's body, which other threads cannot see"
        )
    if not state.uniform or _is_local(ref):
        f.line(depth, text)
        return
    sync(f, depth)
    f.line(depth, f"if (threadIdx.x == 0) {text}")
    sync(f, depth)


def _inside_thread_loop(ref: SSAValue) -> bool:
    op: Operation | None = ref.owner if isinstance(ref.owner, Operation) else None
    while op is not None:
        if isinstance(op, ForOp) and op.kind in GPU_THREAD_BINDINGS:
            return True
        op = op.parent_op()
    return False


def combine_expr(combiner: str, t: Attribute, a: str, b: str) -> str:
    """C for `combiner(a, b)` (NaN-propagating max/min as the CPU's maximumf)."""
    if combiner in ("addf", "addi"):
        return f"{a} + {b}"
    if combiner in ("mulf", "muli"):
        return f"{a} * {b}"
    if combiner in ("maximumf", "minimumf"):
        return f"{combiner}({a}, {b})"
    if combiner in ("maxnumf", "minnumf"):
        name = "fmax" if combiner == "maxnumf" else "fmin"
        return f"{name}f({a}, {b})" if isinstance(t, Float32Type) else f"{name}({a}, {b})"
    cl = _emitter()
    cast = cl._unsigned(t) if combiner.endswith("ui") else cl.c_type(t)
    cmp = ">" if combiner.startswith("max") else "<"
    return f"(({cast}){a} {cmp} ({cast}){b}) ? {a} : {b}"


def _literal(value: float | int, t: Attribute) -> str:
    cl = _emitter()
    if isinstance(value, float):
        return cl.float_literal(value, t)
    return f"({cl.c_type(t)}){value}LL"


def _butterfly(f: _Function, depth: int, combiner: str, t: Attribute, v: str) -> None:
    lane = f"o{f.count}"
    f.line(depth, "#pragma unroll")
    f.line(depth, f"for (int {lane} = {WARP // 2}; {lane} > 0; {lane} >>= 1) {{")
    shuffled = f"__shfl_xor_sync(0xffffffffu, {v}, {lane})"
    f.line(depth + 1, f"{v} = {combine_expr(combiner, t, v, shuffled)};")
    f.line(depth, "}")


def emit_allreduce(f: _Function, op: Operation, depth: int) -> None:
    """The handler of `loop.allreduce` (see the module docstring); serial outside a row nest."""
    assert isinstance(op, AllReduceOp)
    cl = _emitter()
    combiner, acc_type = op.combiner.data, op.acc.type
    assert isinstance(acc_type, MemRefType)
    t = acc_type.element_type
    ctype = cl.c_type(t)
    partials = op.partial.type
    assert isinstance(partials, MemRefType)
    count = partials.get_shape()[0]
    state = f.row
    current = f"{f.index(op.acc, tuple(op.acc_indices))}"
    if not state.threads:  # one thread does it all (a kernel that keeps state): a plain loop
        i = f"r{f.count}"
        f.count += 1
        f.line(depth, f"for (int {i} = 0; {i} < {count}; ++{i}) {{")
        f.line(depth + 1, f"{current} = {combine_expr(combiner, t, current, f'{f.name(op.partial)}[{i}]')};")
        f.line(depth, "}")
        return
    if not state.uniform:
        raise cl.CudaEmitError(f"{f.where}: loop.allreduce inside a thread loop (it needs every thread of the block)")
    f.count += 1
    v = f"r{f.count}"
    ident = _literal(identity(combiner, t), t)
    own = f"{f.name(op.partial)}[0]"
    value = own if count >= state.threads else f"(threadIdx.x < {count}) ? {own} : {ident}"
    f.line(depth, f"{ctype} {v} = {value};")
    _butterfly(f, depth, combiner, t, v)
    if state.threads > WARP:
        warps = state.threads // WARP
        shared = f"s{f.count}"
        row = f"threadIdx.y * {warps} + " if state.rows > 1 else ""
        f.line(depth, f"__shared__ {ctype} {shared}[{warps * state.rows}];")
        f.line(depth, f"if ((threadIdx.x & {WARP - 1}) == 0) {shared}[{row}threadIdx.x / {WARP}] = {v};")
        f.line(depth, SYNC)
        f.line(depth, f"{v} = (threadIdx.x & {WARP - 1}) < {warps} ? {shared}[{row}(threadIdx.x & {WARP - 1})] : {ident};")
        _butterfly(f, depth, combiner, t, v)
        f.line(depth, SYNC)  # the shared array is free again (a later allreduce, or this one in a loop)
    before_load(f, op.acc, depth)
    old = f"r{f.count}_acc"
    f.line(depth, f"const {ctype} {old} = {current};")
    store_line(f, op.acc, f"{current} = {combine_expr(combiner, t, old, v)};", depth)
