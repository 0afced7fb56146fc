"""`bind_reduce` and `bind_strided`: a row's loops across the threads of a GPU block.

`bind_reduce` is TVM's cross-thread allreduce; `bind_strided` spreads an
independent loop the same way (thread t takes iterations t, t+T, ...: the
element-wise phase of a softmax or layer norm, reading coalesced).

`bind` refuses a reduction loop: its iterations update one accumulator. This
primitive makes the rfactor explicit, so that the loop interpreter checks what
the GPU runs. For `bind_reduce(axis="k", threads=T)` over a loop of N
iterations accumulating into `acc[i]` with a supported combiner:

    %p = memref.alloca() : memref<T x f32>              // one partial per thread
    loop.for %t = 0 to T axis "k.inner" threadIdx.x {   // thread t: iterations t, t+T, t+2T...
      %p[%t] = identity
      loop.for %o = 0 to N/T axis "k.outer" { ... %p[%t] = %p[%t] + x[o*T + t] ... }
    }
    loop.for %t = 0 to N%T axis "k.tail" threadIdx.x {  // the last N%T elements, one per thread
      ... %p[%t] = %p[%t] + x[(N/T)*T + t] ...
    }
    loop.allreduce "addf" %p into %acc[%i]             // warp shuffles + shared memory on the GPU

The loop's other writes (softmax's `exp` loop also stores each exp) must be
independent per iteration, as for `bind`. Errors are one line: a loop that
accumulates nothing ("not a reduction"), a combiner other than add, mul,
max, min, an accumulator read elsewhere in the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IntegerAttr, MemRefType
from xdsl.ir import BlockArgument, Operation, OpResult, SSAValue

from compiler.dialects.allreduce import (
    COMBINERS,
    MAX_PARTIALS,
    AllReduceOp,
    identity,
    supported_element,
)
from compiler.dialects.loop import GPU_THREAD_BINDINGS, SERIAL, ForOp
from compiler.schedule.analysis import LoopAccessAnalysis, defined_inside, independence_problem
from compiler.schedule.primitives import (
    Bind,
    IndexEmitter,
    Primitive,
    Reorder,
    ScheduleError,
    Split,
    _check_str,
    _prepend,
    _replace_iv_uses,
    find_loop,
    is_guarded,
)


@dataclass(frozen=True)
class Accumulator:
    """One `buf[idx] = combiner(buf[idx], x)` update inside a reduction loop."""

    buffer: SSAValue
    indices: tuple[SSAValue, ...]
    combiner: str
    load: memref.LoadOp
    store: memref.StoreOp


def _name(value: SSAValue) -> str:
    return f"%{value.name_hint}" if value.name_hint else "a buffer"


def accumulators(loop: ForOp, what: str) -> list[Accumulator]:
    """The accumulators the loop updates; ScheduleError when a write is neither one nor per-iteration."""
    analysis = LoopAccessAnalysis(loop)
    if analysis.unknown_users:
        raise ScheduleError(f"{what}: '{analysis.unknown_users[0].name}' uses a buffer the analysis does not know")
    found = []
    for buf in analysis.written:
        stores = [s for s in analysis.stores if s.memref is buf]
        invariant = all(
            (f := analysis.form(i)) is not None and f.invariant for s in stores for i in s.indices
        )
        if not invariant:
            continue  # a per-iteration write: the independence check after the rewrite judges it
        loads = [ld for ld in analysis.loads if ld.memref is buf]
        if len(stores) != 1 or len(loads) != 1 or not isinstance(stores[0], memref.StoreOp):
            raise ScheduleError(
                f"{what}: {_name(buf)} is read or written more than once per iteration; "
                "only a single buf = combine(buf, x) update is bound across threads"
            )
        store, load = stores[0], loads[0]
        value = store.value
        op = value.owner if isinstance(value, OpResult) else None
        combiner = op.name.removeprefix("arith.") if op is not None else "?"
        if op is None or combiner not in COMBINERS or not op.name.startswith("arith."):
            raise ScheduleError(
                f"{what}: {_name(buf)} accumulates with '{op.name if op else 'a block argument'}', "
                "not a supported combiner (add, mul, max, min)"
            )
        assert isinstance(load, memref.LoadOp)
        if load.res not in op.operands or not analysis.same_indices(list(load.indices), list(store.indices)):
            raise ScheduleError(f"{what}: {_name(buf)} is not updated as buf = combine(buf, x)")
        if len(list(load.res.uses)) != 1 or len(list(value.uses)) != 1:
            raise ScheduleError(f"{what}: the running value of {_name(buf)} is used for more than its update")
        t = buf.type
        assert isinstance(t, MemRefType)
        if not supported_element(t.element_type):
            raise ScheduleError(f"{what}: {t.element_type} accumulators are not supported (f32, f64, i32, i64)")
        found.append(Accumulator(buf, tuple(store.indices), combiner, load, store))
    return found


def _hoist(value: SSAValue, loop: ForOp) -> SSAValue | None:
    """`value` as computed before `loop`: itself, or a clone of its pure arith chain; None if it varies."""
    if not defined_inside(value, loop):
        return value
    if not isinstance(value, OpResult) or value.op.regions or not value.op.name.startswith("arith."):
        return None
    operands = [_hoist(o, loop) for o in value.op.operands]
    if any(o is None for o in operands):
        return None
    clone = value.op.clone()
    for i, o in enumerate(operands):
        clone.operands[i] = o
    assert loop.parent_block() is not None
    loop.parent_block().insert_op_before(clone, loop)
    return clone.results[value.index]


def _normalize(loop: ForOp) -> None:
    """Make the loop run 0..trips step 1 (its old index rebuilt in the body): the thread index."""
    if loop.lower == 0 and loop.stride == 1:
        return
    trips, lb, step = loop.trip_count, loop.lower, loop.stride
    emitter = IndexEmitter()
    index = emitter.value(emitter.add(emitter.mul(loop.iv, step), lb))
    _prepend(loop, emitter.ops)
    _replace_iv_uses(loop.iv, index, emitter)
    loop.set_bounds(0, trips, 1)


def _constant(value: float | int, t: object) -> arith.ConstantOp:
    if isinstance(t, AnyFloat):
        return arith.ConstantOp(FloatAttr(float(value), t))
    return arith.ConstantOp(IntegerAttr(int(value), t))  # type: ignore[arg-type]


def _redirect(thread_loop: ForOp, partials: dict[SSAValue, SSAValue], what: str) -> None:
    """Point the accumulator updates inside `thread_loop` at the thread's partial."""
    for acc in accumulators(thread_loop, what):
        partial = partials[acc.buffer]
        t = thread_loop.iv
        load = memref.LoadOp.get(partial, [t])
        acc.load.parent_block().insert_op_before(load, acc.load)
        acc.load.res.replace_all_uses_with(load.res)
        acc.load.detach()
        acc.load.erase()
        store = memref.StoreOp.get(acc.store.value, partial, [t])
        acc.store.parent_block().insert_op_before(store, acc.store)
        acc.store.detach()
        acc.store.erase()


def _spread(kernel: func.FuncOp, loop: ForOp, threads: int) -> list[ForOp]:
    """Split `loop` so that thread t runs iterations t, t+T, t+2T... (consecutive threads read
    consecutive elements: coalesced): the loop over threads, then the remainder's, both 0-based."""
    axis, trips = loop.axis_name, loop.trip_count
    loops = [loop]
    if threads < trips:
        Split(axis, threads).apply(kernel)
        tail = loop.next_op if trips % threads else None
        Reorder((f"{axis}.inner", f"{axis}.outer")).apply(kernel)
        loops = [loop, *([tail] if isinstance(tail, ForOp) else [])]
    for thread_loop in loops:
        _normalize(thread_loop)
    return loops


def _bind(kernel: func.FuncOp, loops: list[ForOp], thread: str, what: str) -> None:
    """Annotate the thread loops; their independence was proven on the loop before the split
    (the analysis cannot see that t + T*o never collides across t when t < T)."""
    for thread_loop in loops:
        try:
            Bind(thread_loop.axis_name, thread)._annotate(kernel, thread)
        except ScheduleError as err:
            raise ScheduleError(f"{what}: {err.message}") from None


def _serial_loop(kernel: func.FuncOp, axis: str, what: str) -> ForOp:
    """The loop `axis`, which a thread binding requires to be still serial."""
    loop = find_loop(kernel, axis)
    if loop.kind != SERIAL:
        raise ScheduleError(f"{what}: the loop is already {loop.kind}")
    return loop


def _check_threads(threads: object) -> None:
    if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= MAX_PARTIALS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_PARTIALS}, got {threads!r}")


@dataclass(frozen=True)
class BindStrided(Primitive):
    """Spread the independent loop `axis` over `threads` threads of a block, thread t taking
    iterations t, t+T, ... (a row's element-wise phase, after its reductions)."""

    primitive: ClassVar[str] = "bind_strided"
    axis: str
    threads: int
    thread: str = "threadIdx.x"

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")
        _check_threads(self.threads)
        if self.thread not in GPU_THREAD_BINDINGS:
            raise ValueError(f"thread must be one of {', '.join(GPU_THREAD_BINDINGS)}, got {self.thread!r}")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"bind_strided '{self.axis}'"
        loop = _serial_loop(kernel, self.axis, what)
        problem = independence_problem(loop)
        if problem is not None:
            raise ScheduleError(f"{what}: {problem}")
        _bind(kernel, _spread(kernel, loop, min(self.threads, loop.trip_count)), self.thread, what)


@dataclass(frozen=True)
class BindReduce(Primitive):
    """Bind the reduction loop `axis` to `threads` threads of a block, combined by `loop.allreduce`."""

    primitive: ClassVar[str] = "bind_reduce"
    axis: str
    threads: int
    thread: str = "threadIdx.x"

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")
        _check_threads(self.threads)
        if self.thread != GPU_THREAD_BINDINGS[0]:
            raise ValueError(f"thread must be threadIdx.x (the lanes that shuffle), got {self.thread!r}")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"bind_reduce '{self.axis}'"
        loop = _serial_loop(kernel, self.axis, what)
        accs = accumulators(loop, what)
        if not accs:
            raise ScheduleError(
                f"{what}: the loop is not a reduction (nothing accumulates across its iterations); bind it with 'bind'"
            )
        if is_guarded([loop]) and any(isinstance(acc.buffer, BlockArgument) for acc in accs):
            raise ScheduleError(
                f"{what}: the loop runs under a tail guard (a guarded split) and its loop.allreduce, a block-wide "
                "step outside the guard, would store to a kernel argument past the edge"
            )
        others = LoopAccessAnalysis(loop)
        others.written -= {acc.buffer for acc in accs}
        problem = others.independence_problem()
        if problem is not None:
            raise ScheduleError(f"{what}: {problem}")
        indices = []
        for acc in accs:
            hoisted = [_hoist(i, loop) for i in acc.indices]
            if any(h is None for h in hoisted):
                raise ScheduleError(f"{what}: the address of {_name(acc.buffer)} varies inside the loop")
            indices.append([h for h in hoisted if h is not None])
        threads = min(self.threads, loop.trip_count)
        parent = loop.parent_block()
        assert parent is not None
        partials: dict[SSAValue, SSAValue] = {}
        for acc in accs:
            t = acc.buffer.type
            assert isinstance(t, MemRefType)
            alloca = memref.AllocaOp.get(t.element_type, shape=[threads])
            alloca.memref.name_hint = f"{self.axis}.partial"
            parent.insert_op_before(alloca, loop)
            partials[acc.buffer] = alloca.memref
        loops = _spread(kernel, loop, threads)
        for thread_loop in loops:
            _redirect(thread_loop, partials, what)
        main = loops[0]
        inits: list[Operation] = []
        for acc in accs:
            t = acc.buffer.type
            assert isinstance(t, MemRefType)
            value = _constant(identity(acc.combiner, t.element_type), t.element_type)
            inits += [value, memref.StoreOp.get(value.result, partials[acc.buffer], [main.iv])]
        _prepend(main, inits)
        last: Operation = loops[-1]
        for acc, idx in zip(accs, indices, strict=True):
            combine = AllReduceOp(acc.combiner, partials[acc.buffer], acc.buffer, idx)
            parent.insert_op_after(combine, last)
            last = combine
        _bind(kernel, loops, self.thread, what)
