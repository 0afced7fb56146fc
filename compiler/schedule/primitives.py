"""Schedule primitives: data that rewrites a kernel's loop nest in place.

Each primitive is a frozen dataclass whose fields are its parameters; its
`to_dict()` is the JSON form (`{"primitive": "split", "axis": "ow", "factor": 16}`)
and `Primitive.from_dict` reads it back. `apply(kernel)` rewrites the
`loop.for` nest of a `func.func` kernel and raises `ScheduleError` (a
`CompilerError`) for an unknown axis or an illegal request, leaving a message
that names the primitive and the loop.

New primitives (cache_write, compute_at, pack, ...) are new subclasses with a
`primitive` name: they register themselves and serialize like the others.
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import Block, Operation, OpResult, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from compiler.dialects.allreduce import AllReduceOp
from compiler.dialects.loop import (
    GPU_BINDINGS,
    PARALLEL,
    SERIAL,
    UNROLL,
    VECTORIZE,
    BarrierOp,
    ForOp,
    YieldOp,
)
from compiler.errors import CompilerError
from compiler.ir_walk import first_op, ops_of_type
from compiler.schedule.analysis import body_ops, independence_problem
from compiler.schedule.tile_layout import make_tiles_contiguous


class ScheduleError(CompilerError):
    """A schedule that names a loop that does not exist or asks for something illegal."""


# ---------------------------------------------------------------------------
# Helpers


def kernel_name(kernel: func.FuncOp) -> str:
    return kernel.sym_name.data


def all_loops(kernel: Operation) -> list[ForOp]:
    """Every loop.for in the kernel, outermost first (pre-order)."""
    return ops_of_type(kernel, ForOp)


def find_loop(kernel: Operation, axis: str) -> ForOp:
    """The loop named `axis`; ScheduleError naming the loops that exist otherwise."""
    found = first_op(kernel, lambda op: isinstance(op, ForOp) and op.axis_name == axis)
    if found is not None:
        return found  # type: ignore[return-value]
    loops = all_loops(kernel)
    names = ", ".join(f"'{loop.axis_name}'" for loop in loops) or "none"
    where = f" in kernel @{kernel_name(kernel)}" if isinstance(kernel, func.FuncOp) else ""
    raise ScheduleError(f"no loop named '{axis}'{where} (loops: {names})")


def unique_axis(kernel: Operation, wanted: str) -> str:
    """`wanted`, or `wanted2`, `wanted3`... whichever no loop of the kernel uses yet."""
    taken = {loop.axis_name for loop in all_loops(kernel)}
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}{n}" in taken:
        n += 1
    return f"{wanted}{n}"


class IndexEmitter:
    """Builds index arithmetic into a list of ops, folding constants as it goes."""

    def __init__(self) -> None:
        self.ops: list[Operation] = []
        self._consts: dict[int, SSAValue] = {}

    def const(self, n: int) -> SSAValue:
        if n not in self._consts:
            op = arith.ConstantOp(IntegerAttr(n, IndexType()))
            self.ops.append(op)
            self._consts[n] = op.result
        return self._consts[n]

    def value(self, x: SSAValue | int) -> SSAValue:
        return self.const(x) if isinstance(x, int) else x

    def add(self, a: SSAValue | int, b: SSAValue | int) -> SSAValue | int:
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        if isinstance(b, int) and b == 0:
            return a
        if isinstance(a, int) and a == 0:
            return b
        op = arith.AddiOp(self.value(a), self.value(b))
        self.ops.append(op)
        return op.result

    def mul(self, a: SSAValue | int, b: SSAValue | int) -> SSAValue | int:
        if isinstance(a, int) and isinstance(b, int):
            return a * b
        if isinstance(b, int) and b == 1:
            return a
        if isinstance(a, int) and a == 1:
            return b
        if (isinstance(a, int) and a == 0) or (isinstance(b, int) and b == 0):
            return 0
        op = arith.MuliOp(self.value(a), self.value(b))
        self.ops.append(op)
        return op.result

    def div(self, a: SSAValue, c: int) -> SSAValue:
        op = arith.DivUIOp(a, self.const(c))
        self.ops.append(op)
        return op.result

    def less(self, a: SSAValue | int, c: int) -> SSAValue:
        """`a < c` (unsigned), the guard of a rounded-up split."""
        op = arith.CmpiOp(self.value(a), self.const(c), "ult")
        self.ops.append(op)
        return op.result

    def rem(self, a: SSAValue, c: int) -> SSAValue:
        op = arith.RemUIOp(a, self.const(c))
        self.ops.append(op)
        return op.result


def _prepend(loop: ForOp, ops: Sequence[Operation]) -> None:
    block = loop.body.block
    if not ops:
        return
    if block.first_op is None:
        block.add_ops(ops)
    else:
        block.insert_ops_before(ops, block.first_op)


def _replace_iv_uses(old: SSAValue, new: SSAValue, emitter: IndexEmitter) -> None:
    """Point every use of `old`, except inside the emitter's own ops, at `new`."""
    own = set(emitter.ops)
    old.replace_uses_with_if(new, lambda use: use.operation not in own)


def _name(value: SSAValue | int, hint: str | None) -> None:
    """Give a value (an induction variable, a rebuilt index) a readable SSA name."""
    if isinstance(value, int) or not hint:
        return
    clean = re.sub(r"[^\w$.-]", "_", hint)
    if not re.match(r"[A-Za-z_$.-]", clean):
        clean = "_" + clean
    value.name_hint = clean


def sink_into_child(loop: ForOp) -> ForOp:
    """Move the pure index ops around the perfectly nested child into its body.

    They only depend on enclosing induction variables and constants, so running
    them once per inner iteration is the same (LLVM hoists them again).
    """
    child = loop.perfectly_nested_child()
    assert child is not None
    moved = [op for op in loop.body.block.ops if op is not child and not isinstance(op, YieldOp)]
    for op in moved:
        op.detach()
    _prepend(child, moved)
    return child


def _verify(kernel: Operation, what: str, near: ForOp | None = None) -> None:
    """Verify what a primitive rewrote: the top-level nest holding `near` (and
    the one after it, where a split puts its remainder), else the kernel.
    Verifying the whole kernel after every step made scheduling quadratic."""
    targets: list[Operation] = [kernel]
    if near is not None and near.parent is not None:
        root = near
        for outer in near.enclosing_loops():
            root = outer
        targets = [root]
        if isinstance(root.next_op, ForOp):
            targets.append(root.next_op)
    try:
        for op in targets:
            op.verify()
    except VerifyException as err:
        raise ScheduleError(f"{what}: {err}") from None


# ---------------------------------------------------------------------------
# The primitives


@dataclass(frozen=True)
class Primitive(ABC):
    """One schedule step; subclasses are frozen dataclasses of JSON-able fields."""

    primitive: ClassVar[str]
    registry: ClassVar[dict[str, type[Primitive]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("primitive")
        if isinstance(name, str):
            Primitive.registry[name] = cls

    @abstractmethod
    def apply(self, kernel: func.FuncOp) -> None:
        """Rewrite the kernel's loops in place; ScheduleError if illegal."""

    @property
    def atomic(self) -> bool:
        """Whether a failing `apply` leaves the kernel as it was (no copy needed to try it)."""
        return False

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{self.primitive}({args})"

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"primitive": self.primitive}
        for key, value in self._fields().items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Primitive:
        if not isinstance(data, Mapping) or "primitive" not in data:
            raise ScheduleError(f"a schedule step must be an object with a 'primitive' key, got {data!r}")
        name = data["primitive"]
        cls = Primitive.registry.get(name)
        if cls is None:
            known = ", ".join(sorted(Primitive.registry))
            raise ScheduleError(f"unknown schedule primitive '{name}' (known: {known})")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        args = {k: v for k, v in data.items() if k != "primitive"}
        unknown = set(args) - set(fields)
        if unknown:
            raise ScheduleError(f"{name}: unknown parameter(s) {', '.join(sorted(unknown))}")
        missing = [
            n for n, f in fields.items()
            if n not in args and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ScheduleError(f"{name}: missing parameter(s) {', '.join(missing)}")
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
        try:
            return cls(**args)
        except (TypeError, ValueError) as err:
            raise ScheduleError(f"{name}: {err}") from None


PEEL = "peel"
GUARD = "guard"
TAILS = (PEEL, GUARD)
"""What a split does with the iterations past the last whole `factor` (Split.tail)."""


def _check_str(value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


@dataclass(frozen=True)
class Split(Primitive):
    """Split `axis` into `<axis>.outer` x `<axis>.inner` (extent `factor`).

    When `factor` does not divide the trip count, `tail` says what happens to
    the remainder. `peel` (the default): it is peeled into a loop `<axis>.tail`
    after the split nest, so that every bound stays static. `guard` (Halide's
    GuardWithIf): the outer loop runs ceil(trips/factor) times and the body's
    memory accesses run under `scf.if (outer*factor + inner < trips)`, so the
    split nest alone covers the axis; that is what a GPU binding needs (a peeled
    tail cannot be bound), at the price of idle iterations on the ragged edge.
    In the body the old induction variable becomes `(outer*factor + inner)*step + lb`.
    """

    primitive: ClassVar[str] = "split"
    axis: str
    factor: int
    tail: str = PEEL

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")
        if not isinstance(self.factor, int) or isinstance(self.factor, bool) or self.factor < 1:
            raise ValueError(f"factor must be a positive integer, got {self.factor!r}")
        if self.tail not in TAILS:
            raise ValueError(f"tail must be one of {', '.join(TAILS)}, got {self.tail!r}")

    def _fields(self) -> dict[str, Any]:
        """Leave out the default `tail` so that peeling splits keep their JSON form and description."""
        fields = super()._fields()
        if self.tail == PEEL:
            del fields["tail"]
        return fields

    def apply(self, kernel: func.FuncOp) -> None:
        loop = find_loop(kernel, self.axis)
        what = f"split '{self.axis}' by {self.factor}"
        if loop.kind != SERIAL:
            raise ScheduleError(f"{what}: the loop is already {loop.kind}; split before annotating")
        trips, factor = loop.trip_count, self.factor
        guard = self.tail == GUARD and trips % factor != 0
        if factor > trips and not guard:
            raise ScheduleError(f"{what}: the factor exceeds the loop's {trips} iterations")
        outer_trips, rest = divmod(trips, factor)
        lb, step = loop.lower, loop.stride
        if guard:
            what += " with tail guard"
            _check_guardable(loop, what)
            outer_trips, rest = outer_trips + 1, 0

        tail: ForOp | None = None
        if rest:
            # Peel the remainder: a copy of the loop over the last `rest` iterations,
            # with the original body (its IV is still the original index).
            tail = loop.clone()
            tail.set_bounds(lb + outer_trips * factor * step, loop.upper, step)
            for inner in all_loops(tail):
                if inner is tail:
                    continue
                inner.set_axis(unique_axis(kernel, f"{inner.axis_name}.tail"))
            tail.set_axis(unique_axis(kernel, f"{self.axis}.tail"))

        inner = ForOp(0, factor, 1, f"{self.axis}.inner")
        for op in body_ops(loop):
            op.detach()
            inner.body.block.insert_op_before(op, inner.body.block.last_op)
        emitter = IndexEmitter()
        position = emitter.add(emitter.mul(loop.iv, factor), inner.iv)
        index = emitter.value(emitter.add(emitter.mul(position, step), lb))
        condition = emitter.less(position, trips) if guard else None
        _prepend(inner, emitter.ops)
        _name(index, loop.iv.name_hint)
        _replace_iv_uses(loop.iv, index, emitter)
        _name(loop.iv, f"{self.axis}.outer")
        _name(inner.iv, f"{self.axis}.inner")
        loop.body.block.insert_op_before(inner, loop.body.block.last_op)
        loop.set_bounds(0, outer_trips, 1)
        loop.set_axis(f"{self.axis}.outer")
        if tail is not None:
            assert loop.parent_block() is not None
            loop.parent_block().insert_op_after(tail, loop)
        if condition is not None:
            guard_block(inner.body.block, condition, what)
        _verify(kernel, what, loop)


def is_guarded(ops: Sequence[Operation]) -> bool:
    """Whether any op in `ops` (or nested in them) runs under a tail guard (a guarded split's `scf.if`)."""
    return any(isinstance(inner, scf.IfOp) for op in ops for inner in op.walk())


def _needs_guard(op: Operation) -> bool:
    """Ops that must not run past the axis' end: everything but pure index/value
    arithmetic and buffer allocation (an alloca past the end is harmless, and
    nested loops are guarded inside instead)."""
    if isinstance(op, ForOp | YieldOp | memref.AllocaOp):
        return False
    return bool(op.regions) or not op.name.startswith(("arith.", "math."))


def _check_guardable(loop: ForOp, what: str) -> None:
    """Refuse a guard that would put a block-wide operation under a divergent branch
    (threads that skip a `__syncthreads()` or a block reduction hang)."""
    for op in loop.walk():
        if op.name in (BarrierOp.name, AllReduceOp.name):
            raise ScheduleError(f"{what}: the loop holds a block-wide '{op.name}', which must not sit under a guard")


def guard_block(block: Block, condition: SSAValue, what: str) -> None:
    """Wrap, in every loop body of the split nest, the run of ops that touch
    memory in `scf.if condition`. Guarding the leaves (not the inner loop's
    whole body) keeps the nest a perfect rectangle, so later splits, reorders,
    fuses and bindings see the loops they did before."""
    run: list[Operation] = []
    for op in list(block.ops):
        if isinstance(op, ForOp | YieldOp):
            _wrap_run(run, condition, what)
            run = []
            if isinstance(op, ForOp):
                guard_block(op.body.block, condition, what)
        else:
            run.append(op)
    _wrap_run(run, condition, what)


def _inside(op: Operation, group: set[Operation]) -> bool:
    current: Operation | None = op
    while current is not None:
        if current in group:
            return True
        current = current.parent_op()
    return False


def _wrap_run(run: list[Operation], condition: SSAValue, what: str) -> None:
    """Move the ops of `run` from its first to its last memory op into one `scf.if`.
    Pure ops in that span whose values are used past it stay outside (before the if)."""
    marks = [i for i, op in enumerate(run) if _needs_guard(op)]
    if not marks:
        return
    span = run[marks[0] : marks[-1] + 1]
    members = set(span)
    stay: set[Operation] = set()
    work = [op for op in span if any(not _inside(u.operation, members) for r in op.results for u in r.uses)]
    while work:  # what is used past the span stays before the if, with the pure ops it needs
        op = work.pop()
        if op in stay:
            continue
        if _needs_guard(op):
            raise ScheduleError(f"{what}: '{op.name}' defines a value used outside the guarded accesses")
        stay.add(op)
        work.extend(o.op for o in op.operands if isinstance(o, OpResult) and o.op in members)
    moved = [op for op in span if op not in stay]
    last = span[-1]
    body = Block()
    if_op = scf.IfOp(condition, [], Region(body))
    last.parent_block().insert_op_after(if_op, last)  # type: ignore[union-attr]
    for op in moved:
        op.detach()
        body.add_op(op)
    body.add_op(scf.YieldOp())


@dataclass(frozen=True)
class Reorder(Primitive):
    """Permute perfectly nested loops: `axes` take their positions in the given order."""

    primitive: ClassVar[str] = "reorder"
    axes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.axes, tuple) or len(self.axes) < 2:
            raise ValueError("reorder needs a list of at least two axes")
        for a in self.axes:
            _check_str(a, "axis")
        if len(set(self.axes)) != len(self.axes):
            raise ValueError(f"axes repeat: {list(self.axes)}")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"reorder {list(self.axes)}"
        loops = {a: find_loop(kernel, a) for a in self.axes}
        depth = {a: len(list(loop.enclosing_loops())) for a, loop in loops.items()}
        outermost = loops[min(self.axes, key=lambda a: depth[a])]
        # Walk the perfectly nested chain from the outermost named loop until
        # every named loop has been seen.
        chain: list[ForOp] = [outermost]
        wanted = set(loops.values())
        while not wanted.issubset(chain):
            child = chain[-1].perfectly_nested_child()
            if child is None:
                missing = [a for a in self.axes if loops[a] not in chain]
                raise ScheduleError(
                    f"{what}: loops are not perfectly nested: the body of "
                    f"'{chain[-1].axis_name}' holds more than the loop "
                    f"'{missing[0]}' (or it is not inside it)"
                )
            chain.append(child)
        for loop in chain[:-1]:
            sink_into_child(loop)
        positions = [i for i, loop in enumerate(chain) if loop in wanted]
        headers = {
            a: (loop.lower, loop.upper, loop.stride, loop.axis_name, loop.kind)
            for a, loop in loops.items()
        }
        uses = {a: list(loops[a].iv.uses) for a in self.axes}
        hints = {a: loops[a].iv.name_hint for a in self.axes}
        for pos, axis in zip(positions, self.axes, strict=True):
            target = chain[pos]
            lb, ub, step, name, kind = headers[axis]
            target.set_bounds(lb, ub, step)
            target.set_axis(name)
            target.kind = kind
            target.iv.name_hint = hints[axis]
            for use in uses[axis]:
                use.operation.operands[use.index] = target.iv
        _verify(kernel, what, chain[0])


@dataclass(frozen=True)
class Fuse(Primitive):
    """Collapse `outer` and the loop `inner` perfectly nested in it into `<outer>.<inner>.fused`.

    The fused loop runs `0 .. trips(outer) * trips(inner)`; the old induction
    variables are recovered with a division and a remainder.
    """

    primitive: ClassVar[str] = "fuse"
    outer: str
    inner: str

    def __post_init__(self) -> None:
        _check_str(self.outer, "outer")
        _check_str(self.inner, "inner")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"fuse '{self.outer}' and '{self.inner}'"
        outer = find_loop(kernel, self.outer)
        inner = find_loop(kernel, self.inner)
        if outer.perfectly_nested_child() is not inner:
            raise ScheduleError(
                f"{what}: '{self.inner}' must be the only op in the body of '{self.outer}'"
            )
        if outer.kind != SERIAL or inner.kind != SERIAL:
            raise ScheduleError(f"{what}: fuse loops before annotating them")
        sink_into_child(outer)
        n_out, n_in = outer.trip_count, inner.trip_count
        emitter = IndexEmitter()
        fused = outer.iv
        if n_in == 1:
            q, r = fused, 0
        elif n_out == 1:
            q, r = 0, fused
        else:
            q, r = emitter.div(fused, n_in), emitter.rem(fused, n_in)
        outer_index = emitter.value(emitter.add(emitter.mul(q, outer.stride), outer.lower))
        inner_index = emitter.value(emitter.add(emitter.mul(r, inner.stride), inner.lower))
        own = set(emitter.ops)
        # Snapshot the old outer IV's uses before the inner IV's uses join them.
        outer_uses = [u for u in fused.uses if u.operation not in own]
        # Move the inner body up, then rebind both old induction variables.
        for op in body_ops(inner):
            op.detach()
            outer.body.block.insert_op_before(op, inner)
        _name(outer_index, outer.iv.name_hint)
        _name(inner_index, inner.iv.name_hint)
        _prepend(outer, emitter.ops)
        inner.iv.replace_all_uses_with(inner_index)
        if outer_index is not fused:
            for use in outer_uses:
                use.operation.operands[use.index] = outer_index
        inner.detach()
        inner.erase()
        outer.set_bounds(0, n_out * n_in, 1)
        outer.set_axis(unique_axis(kernel, f"{self.outer}.{self.inner}.fused"))
        _name(fused, outer.axis_name)
        _verify(kernel, what, outer)


@dataclass(frozen=True)
class _Annotate(Primitive, ABC):
    axis: str

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")

    @property
    def atomic(self) -> bool:
        return not getattr(self, "factor", 0)

    def _annotate(self, kernel: func.FuncOp, kind: str) -> ForOp:
        loop = find_loop(kernel, self.axis)
        previous = loop.kind
        loop.kind = kind
        try:
            # The annotation constrains only this loop against the loops around
            # and inside it: checking the nesting rule of each loop of its
            # subtree against its ancestors is enough. A full verify of the
            # subtree would re-verify every op of the body, and the default
            # rules annotate hundreds of times per model.
            for inner in loop.walk():
                if isinstance(inner, ForOp):
                    inner.verify_nesting()
        except VerifyException as err:
            loop.kind = previous
            raise ScheduleError(f"{self.primitive} '{self.axis}': {err}") from None
        return loop


@dataclass(frozen=True)
class Vectorize(_Annotate):
    """Run `axis` as explicit SIMD code (its body must be straight-line)."""

    primitive: ClassVar[str] = "vectorize"

    def apply(self, kernel: func.FuncOp) -> None:
        loop = find_loop(kernel, self.axis)
        for op in loop.body.walk():
            if isinstance(op, ForOp) and op.kind != UNROLL:
                raise ScheduleError(
                    f"vectorize '{self.axis}': its body holds the loop '{op.axis_name}'; "
                    "vectorize an innermost loop (or unroll the inner ones first)"
                )
        if is_guarded([loop]):
            raise ScheduleError(
                f"vectorize '{self.axis}': its body runs under a tail guard (a guarded split); "
                "split it with the default tail (peel) to vectorize"
            )
        make_tiles_contiguous(loop)
        self._annotate(kernel, VECTORIZE)


@dataclass(frozen=True)
class Unroll(_Annotate):
    """Replace `axis` by copies of its body, one per iteration (`factor`: of every `factor` iterations)."""

    primitive: ClassVar[str] = "unroll"
    factor: int = 0
    """With a factor: split the loop by it first and unroll `<axis>.inner`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.factor, int) or isinstance(self.factor, bool) or self.factor < 0:
            raise ValueError(f"factor must be a non-negative integer, got {self.factor!r}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.factor:
            del out["factor"]
        return out

    def apply(self, kernel: func.FuncOp) -> None:
        if self.factor:
            loop = find_loop(kernel, self.axis)
            if self.factor < loop.trip_count:
                Split(self.axis, self.factor).apply(kernel)
                Unroll(f"{self.axis}.inner").apply(kernel)
                return
        loop = find_loop(kernel, self.axis)
        if loop.trip_count > ForOp.MAX_UNROLL:
            raise ScheduleError(
                f"unroll '{self.axis}': {loop.trip_count} iterations is more than "
                f"{ForOp.MAX_UNROLL}; split the loop first"
            )
        self._annotate(kernel, UNROLL)


CHUNKS_ATTR = "loop.chunks"
"""i64 attribute on a parallel loop.for: the `chunks` of its `parallel` primitive."""


@dataclass(frozen=True)
class Parallel(_Annotate):
    """Run the iterations of `axis` on threads; they must be independent.

    The iterations are cut into `chunks` contiguous ranges that the threads
    take one at a time as they finish the previous one, so that a thread the
    machine deschedules holds up one chunk, not a whole share (0: the
    runtime's default, a few chunks per thread; more than the trip count
    means one iteration each). Every iteration computes what it computes
    serially, so the chunk count never changes the results.
    """

    primitive: ClassVar[str] = "parallel"
    chunks: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.chunks, int) or isinstance(self.chunks, bool) or self.chunks < 0:
            raise ValueError(f"chunks must be a non-negative integer, got {self.chunks!r}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.chunks:
            del out["chunks"]  # schedules (and their records) from before chunks stay as they were
        return out

    def apply(self, kernel: func.FuncOp) -> None:
        loop = find_loop(kernel, self.axis)
        problem = independence_problem(loop)
        if problem is not None:
            raise ScheduleError(f"parallel '{self.axis}': {problem}")
        loop = self._annotate(kernel, PARALLEL)
        if self.chunks:
            loop.attributes[CHUNKS_ATTR] = IntegerAttr(self.chunks, 64)
        else:
            loop.attributes.pop(CHUNKS_ATTR, None)


@dataclass(frozen=True)
class Bind(_Annotate):
    """Bind `axis` to a GPU index (blockIdx.x|y|z, threadIdx.x|y|z)."""

    primitive: ClassVar[str] = "bind"
    thread: str = "blockIdx.x"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.thread not in GPU_BINDINGS:
            raise ValueError(f"thread must be one of {', '.join(GPU_BINDINGS)}, got {self.thread!r}")

    def apply(self, kernel: func.FuncOp) -> None:
        loop = find_loop(kernel, self.axis)
        problem = independence_problem(loop)
        if problem is not None:
            raise ScheduleError(f"bind '{self.axis}': {problem}")
        self._annotate(kernel, self.thread)


PRIMITIVES = Primitive.registry
"""Primitive name -> class (the JSON `primitive` key)."""
