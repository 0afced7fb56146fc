"""Features of a scheduled kernel, read from its loop IR (Ansor's per-store features).

The cost model must transfer across kernels, so it never sees knob values
(split factors, which loop is parallel): it sees what they did to the loop
nest. `schedule_features` applies a schedule to a copy of the kernel and
describes the result as one fixed-length float32 vector:

- **per store** (a statement: one `memref.store` and the ops that compute its
  value and address), for the `TOP_STORES` stores that execute most often,
  each in fixed slots (`store<i>.*`):
  - how often it runs (the product of its loops' trip counts) and its
    arithmetic by kind, each op weighted by its own loops' trip counts:
    float add/sub, mul, mul+add pairs (fma), div, compare/select/min/max,
    math calls (exp, tanh, ...), integer (address) arithmetic, casts;
  - its innermost loop levels (extent, annotation), vectorization (lanes
    of the target, the share of iterations left to the tail, lanes used per
    issued vector op), unrolling (product of the unrolled extents around it),
    the parallel loop (extent, balance over the target's threads), whether it
    sits in a split remainder (`.tail`) nest, its role (plain, initializes
    or updates a register tile from `cache_write`, writes a tile back);
  - accumulator registers (the `memref.alloca` tile it writes, in vector
    registers) and arithmetic intensity (flops per byte accessed);
  - `ACCESSES` buffer accesses (the store first, then the loads that move
    the most bytes, `store<i>.access<j>.*`): bytes moved, unique bytes,
    cache lines and unique lines, footprint at the innermost loop levels,
    the stride (elements) along each of the innermost loop levels, reuse
    type (0 none, 1 carried by a loop whose index it does not use, 2 a
    read-modify-write of the stored buffer), reuse distance (iterations and
    bytes between reuses) and count, and how a vectorized loop reads it
    (contiguous, broadcast, gathered);
- **whole-kernel totals** (`total.*`): the same arithmetic counts over
  every op, bytes, unique bytes and lines of every access, intensity, the
  number of stores, loops and nests, accumulator buffers and registers, the
  shares of executed stores that run on threads, in vectors, unrolled, in
  tail nests, and outside the top stores, and the target (lanes, threads,
  vector registers).

Counts, bytes and extents are `log2(1 + x)`; shares and ratios are raw. A
slot with nothing in it (a missing store, access or loop level) is 0, with
its `present` slot (or `kind`) saying so. Footprints come from the index
forms of `compiler.schedule.analysis.LoopAccessAnalysis` (the spans of
`compiler.schedule.features.access_spans`), one analysis per loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import AnyFloat, IntegerType, MemRefType
from xdsl.ir import Block, Operation, OpResult, SSAValue

from compiler.dialects.loop import PARALLEL, SERIAL, UNROLL, VECTORIZE, ForOp
from compiler.lowering.loop_vectorizer import vectorization_blocker
from compiler.schedule.analysis import IV, LoopAccessAnalysis
from compiler.schedule.features import access_spans, elem_bytes
from compiler.schedule.primitives import Primitive
from compiler.schedule.schedule import Schedule, apply_schedule
from compiler.schedule.target import CpuTarget

TOP_STORES = 4
"""Stores described in slots of their own, most executed first."""
ACCESSES = 4
"""Buffer accesses per store: the store, then the loads moving the most bytes."""
LEVELS = 6
"""Innermost loop levels (of more than one iteration) described per store."""
STRIDE_LEVELS = 5
"""Innermost loop levels with a stride and a footprint per access."""
CACHE_LINE = 64

OP_KINDS = ("add", "mul", "fma", "div", "cmp", "math", "int", "cast")
KIND_CODES = {SERIAL: 0, VECTORIZE: 1, UNROLL: 2, PARALLEL: 3}
"""Loop annotations as numbers (a GPU binding: 4; no such level: -1)."""

_OP_KIND = {
    "arith.addf": "add",
    "arith.subf": "add",
    "arith.negf": "add",
    "arith.mulf": "mul",
    "arith.divf": "div",
    "arith.remf": "div",
    "math.fma": "fma",
    "arith.cmpf": "cmp",
    "arith.cmpi": "cmp",
    "arith.select": "cmp",
    "arith.maximumf": "cmp",
    "arith.minimumf": "cmp",
    "arith.maxnumf": "cmp",
    "arith.minnumf": "cmp",
    "arith.maxsi": "cmp",
    "arith.minsi": "cmp",
    "arith.maxui": "cmp",
    "arith.minui": "cmp",
}
_INT_OPS = {
    "arith.addi", "arith.subi", "arith.muli", "arith.divsi", "arith.divui", "arith.remsi",
    "arith.remui", "arith.floordivsi", "arith.ceildivsi", "arith.ceildivui", "arith.andi",
    "arith.ori", "arith.xori", "arith.shli", "arith.shrsi", "arith.shrui",
}
_CASTS = {
    "arith.extf", "arith.truncf", "arith.sitofp", "arith.uitofp", "arith.fptosi", "arith.fptoui",
    "arith.index_cast", "arith.index_castui", "arith.extsi", "arith.extui", "arith.trunci",
    "arith.bitcast",
}

_ACCESS_FIELDS = (
    "present", "write", "local", "bytes", "unique_bytes", "lines", "unique_lines",
    *(f"stride{i}" for i in range(STRIDE_LEVELS)),
    *(f"footprint{i}" for i in range(STRIDE_LEVELS)),
    "reuse_type", "reuse_iters", "reuse_bytes", "reuse_count", "vector_access",
)
_STORE_FIELDS = (
    "present", "count", *(f"ops.{k}" for k in OP_KINDS), "flops", "intensity", "depth",
    *(f"level{i}.{f}" for i in range(LEVELS) for f in ("extent", "kind")),
    "vec.on", "vec.lanes", "vec.extent", "vec.tail_share", "vec.efficiency",
    "unroll.product", "unroll.loops", "unroll.body",
    "par.extent", "par.balance", "par.depth",
    "acc.registers", "acc.register_share", "tail", "role",
)
_TOTAL_FIELDS = (
    "count", *(f"ops.{k}" for k in OP_KINDS), "flops", "bytes", "unique_bytes", "lines",
    "intensity", "unique_intensity", "stores", "loops", "nests", "max_depth",
    "acc.buffers", "acc.elements", "acc.max_registers", "acc.register_share",
    "par.loops", "par.share", "par.extent", "par.balance",
    "vec.share", "vec.efficiency", "unroll.share", "tail.share", "rest.share",
    "target.lanes", "target.threads", "target.registers",
)

FEATURE_NAMES: list[str] = [
    *(
        name
        for i in range(TOP_STORES)
        for name in (
            *(f"store{i}.{f}" for f in _STORE_FIELDS),
            *(f"store{i}.access{j}.{f}" for j in range(ACCESSES) for f in _ACCESS_FIELDS),
        )
    ),
    *(f"total.{f}" for f in _TOTAL_FIELDS),
]
FEATURE_LENGTH = len(FEATURE_NAMES)
_STORE_WIDTH = len(_STORE_FIELDS) + ACCESSES * len(_ACCESS_FIELDS)

# Roles of a store (`store<i>.role`).
ROLE_PLAIN, ROLE_TILE_INIT, ROLE_TILE_UPDATE, ROLE_WRITE_BACK, ROLE_UPDATE = range(5)


def schedule_features(
    kernel: func.FuncOp,
    schedule: Schedule | Sequence[Primitive] | str | None,
    target: CpuTarget,
) -> np.ndarray:
    """The feature vector (float32, `FEATURE_LENGTH`) of `kernel` under `schedule`.

    The schedule is applied to a clone (erased afterwards); None describes
    the kernel as it is. A schedule that does not apply raises ScheduleError.
    """
    clone = kernel.clone()
    try:
        if schedule is not None:
            apply_schedule(clone, schedule)
        return kernel_features(clone, target)
    finally:
        clone.erase()


def kernel_features(kernel: func.FuncOp, target: CpuTarget) -> np.ndarray:
    """The feature vector of a kernel's loop IR as it is (already scheduled)."""
    return _Extractor(kernel, target).features()


def _log(x: float) -> float:
    return math.log2(1.0 + max(0.0, x))


def _trips(loops: Sequence[ForOp]) -> int:
    return math.prod(lp.trip_count for lp in loops)


def _op_kind(op: Operation) -> str | None:
    """The arithmetic kind an op counts as; None: not counted (constants, an add
    that fuses with the multiply feeding it, memory ops)."""
    name = op.name
    if name == "arith.mulf":
        uses = list(op.results[0].uses)
        if len(uses) == 1 and uses[0].operation.name in ("arith.addf", "arith.subf"):
            return "fma"
        return "mul"
    if name in ("arith.addf", "arith.subf"):
        for operand in op.operands:
            if (
                isinstance(operand, OpResult)
                and operand.op.name == "arith.mulf"
                and len(list(operand.uses)) == 1
            ):
                return None  # counted as the fma of its multiply
        return "add"
    kind = _OP_KIND.get(name)
    if kind is not None:
        return kind
    if name.startswith("math."):
        return "math"
    if name in _INT_OPS:
        return "int"
    if name in _CASTS:
        return "cast"
    return None


def _flops(ops: dict[str, float]) -> float:
    return sum(ops[k] for k in ("add", "mul", "div", "cmp", "math")) + 2 * ops["fma"]


def _element_bits(loop: ForOp) -> int:
    """The narrowest element type the loop touches (f16 counts as f32, i1 is skipped)."""
    bits: list[int] = []
    for op in loop.body.walk():
        if isinstance(op, memref.LoadOp | memref.StoreOp) and isinstance(op.memref.type, MemRefType):
            t = op.memref.type.element_type
            if isinstance(t, IntegerType):
                if t.width.data > 1:
                    bits.append(max(8, t.width.data))
            elif isinstance(t, AnyFloat):
                bits.append(max(32, t.bitwidth))
            else:
                bits.append(64)
    return min(bits) if bits else 32


@dataclass
class _Vector:
    """How a vectorized loop runs: lanes per chunk and the remainder."""

    effective: bool
    lanes: int
    trips: int

    @property
    def instructions(self) -> int:
        """Vector (or scalar) bodies issued: full chunks, halving chunks, a scalar rest."""
        chunks, rest = divmod(self.trips, self.lanes)
        issued, width = chunks, self.lanes // 2
        while rest >= 2 and width >= 2:
            if rest >= width:
                issued += 1
                rest -= width
            width //= 2
        return issued + rest

    @property
    def tail_share(self) -> float:
        return (self.trips % self.lanes) / self.trips if self.trips else 0.0

    @property
    def efficiency(self) -> float:
        """Iterations per lane issued (1: every lane of every vector op does work)."""
        return self.trips / (self.instructions * self.lanes) if self.trips else 0.0


@dataclass
class _Access:
    op: memref.LoadOp | memref.StoreOp
    loops: tuple[ForOp, ...]
    """Enclosing loops of more than one iteration, innermost first."""
    executions: int
    elem_bytes: int
    shape: tuple[int, ...]
    local: bool

    @property
    def write(self) -> bool:
        return isinstance(self.op, memref.StoreOp)

    @property
    def bytes(self) -> int:
        return self.executions * self.elem_bytes


@dataclass
class _Statement:
    store: memref.StoreOp
    order: int
    loops: tuple[ForOp, ...]
    """Enclosing loops, innermost first (all of them)."""
    executions: int
    ops: dict[str, float] = field(default_factory=lambda: dict.fromkeys(OP_KINDS, 0.0))
    accesses: list[_Access] = field(default_factory=list)
    slice_size: int = 0


class _Extractor:
    """One pass over a scheduled kernel; analyses are built once per loop."""

    def __init__(self, kernel: func.FuncOp, target: CpuTarget) -> None:
        self.kernel = kernel
        self.target = target
        self.loops_of: dict[Operation, tuple[ForOp, ...]] = {}
        self.order: list[Operation] = []
        for block in kernel.body.blocks:
            self._index(block, ())
        self.position = {op: i for i, op in enumerate(self.order)}
        self.local = {
            op.memref for op in self.order if isinstance(op, memref.AllocaOp | memref.AllocOp)
        }
        self._analyses: dict[ForOp, LoopAccessAnalysis] = {}
        self._vectors: dict[ForOp, _Vector] = {}
        self._at: dict[tuple[Operation, ForOp], tuple[list[float | None], list[int]]] = {}

    def _index(self, block: Block, loops: tuple[ForOp, ...]) -> None:
        """Record each op with its enclosing loops (innermost first)."""
        for op in block.ops:
            self.order.append(op)
            self.loops_of[op] = loops
            inner = (op, *loops) if isinstance(op, ForOp) else loops
            for region in op.regions:
                for b in region.blocks:
                    self._index(b, inner)

    # -- per loop ----------------------------------------------------------

    def analysis(self, loop: ForOp) -> LoopAccessAnalysis:
        if loop not in self._analyses:
            self._analyses[loop] = LoopAccessAnalysis(loop)
        return self._analyses[loop]

    def vector(self, loop: ForOp) -> _Vector:
        """Lanes and effectiveness of a `vectorize` loop, as the lowering will emit it."""
        if loop not in self._vectors:
            if any(isinstance(op, ForOp) for op in loop.body.walk()):
                # Unrolled inner loops: straight-line once unrolled.
                effective = self.analysis(loop).independence_problem() is None
            else:
                effective = vectorization_blocker(loop) is None
            most = min(self.target.lanes(_element_bits(loop)), loop.trip_count)
            lanes = 1
            while lanes * 2 <= most:
                lanes *= 2
            self._vectors[loop] = _Vector(effective and lanes >= 2, lanes, loop.trip_count)
        return self._vectors[loop]

    def access_at(self, op: memref.LoadOp | memref.StoreOp, loop: ForOp) -> tuple[list[float | None], list[int]]:
        """Per-dimension strides (elements per iteration of `loop`, None: unknown)
        and spans (elements touched by one full run of `loop`) of an access."""
        key = (op, loop)
        if key not in self._at:
            analysis = self.analysis(loop)
            strides: list[float | None] = []
            for index in op.indices:
                form = analysis.form(index)
                if form is None:
                    strides.append(None)
                elif not form.has_atom:
                    strides.append(0.0)
                elif form.atom == IV:
                    strides.append(float(form.coeff * loop.stride))
                else:  # x / C or x % C of the induction variable: about one step
                    strides.append(float(form.coeff))
            self._at[key] = (strides, access_spans(analysis, op))
        return self._at[key]

    # -- statements ----------------------------------------------------------

    def _make_access(self, op: memref.LoadOp | memref.StoreOp) -> _Access:
        t = op.memref.type
        assert isinstance(t, MemRefType)
        loops = self.loops_of[op]
        return _Access(
            op=op,
            loops=tuple(lp for lp in loops if lp.trip_count > 1),
            executions=_trips(loops),
            elem_bytes=elem_bytes(t),
            shape=tuple(t.get_shape()),
            local=op.memref in self.local,
        )

    def statement(self, store: memref.StoreOp, order: int) -> _Statement:
        loops = self.loops_of[store]
        st = _Statement(store, order, loops, _trips(loops))
        st.accesses.append(self._make_access(store))
        seen: set[Operation] = set()
        stack: list[SSAValue] = list(store.operands)
        loads: list[_Access] = []
        while stack:
            value = stack.pop()
            if not isinstance(value, OpResult):
                continue
            op = value.op
            if op in seen or op not in self.loops_of or isinstance(op, ForOp):
                continue
            seen.add(op)
            if isinstance(op, memref.LoadOp) and isinstance(op.memref.type, MemRefType):
                loads.append(self._make_access(op))
            else:
                kind = _op_kind(op)
                if kind is not None:
                    st.ops[kind] += _trips(self.loops_of[op])
            stack.extend(op.operands)
        st.slice_size = len(seen)
        loads.sort(key=lambda a: (-a.bytes, self.position[a.op]))
        st.accesses.extend(loads)
        return st

    def role(self, st: _Statement) -> int:
        buf = st.store.memref
        reads_self = any(a.op.memref is buf for a in st.accesses[1:])
        if buf in self.local:
            return ROLE_TILE_UPDATE if reads_self else ROLE_TILE_INIT
        if any(a.local for a in st.accesses[1:]):
            return ROLE_WRITE_BACK
        return ROLE_UPDATE if reads_self else ROLE_PLAIN

    def registers(self, buf: SSAValue) -> int:
        t = buf.type
        if buf not in self.local or not isinstance(t, MemRefType):
            return 0
        vector_bytes = max(1, self.target.vector_bits // 8)
        return -(-math.prod(t.get_shape()) * elem_bytes(t) // vector_bytes)

    # -- access features -------------------------------------------------------

    def _lines(self, spans: Sequence[int], access: _Access) -> int:
        """Cache lines of a box: trailing whole dimensions form one contiguous run."""
        run, i = 1, len(spans) - 1
        while i >= 0:
            run *= spans[i]
            if spans[i] != access.shape[i]:
                break
            i -= 1
        rows = math.prod(spans[:i]) if i > 0 else 1
        return rows * -(-run * access.elem_bytes // CACHE_LINE)

    def _flat_stride(self, strides: Sequence[float | None], access: _Access) -> float | None:
        total, step = 0.0, 1
        for s, dim in zip(reversed(strides), reversed(access.shape), strict=True):
            if s is None:
                return None
            total += s * step
            step *= dim
        return abs(total)

    def footprint(self, access: _Access, level: int) -> int:
        """Bytes of the buffer touched by one full run of the access's loop `level`
        (0: innermost of more than one iteration); one element above them all."""
        if level >= len(access.loops):
            return access.elem_bytes if not access.loops else self.footprint(access, len(access.loops) - 1)
        _, spans = self.access_at(access.op, access.loops[level])
        return math.prod(spans) * access.elem_bytes

    def access_features(self, access: _Access, st: _Statement) -> list[float]:
        loops = access.loops
        size = math.prod(access.shape)
        unique = self.footprint(access, len(loops) - 1) if loops else access.elem_bytes
        if loops:
            _, inner_spans = self.access_at(access.op, loops[0])
            lines = self._lines(inner_spans, access) * access.executions / loops[0].trip_count
            _, outer_spans = self.access_at(access.op, loops[-1])
            unique_lines = self._lines(outer_spans, access)
        else:
            lines = unique_lines = access.executions
        strides: list[float] = []
        footprints: list[float] = []
        for level in range(STRIDE_LEVELS):
            if level < len(loops):
                flat = self._flat_stride(self.access_at(access.op, loops[level])[0], access)
                strides.append(_log(size if flat is None else flat))
                footprints.append(_log(self.footprint(access, level)))
            else:
                strides.append(0.0)
                footprints.append(0.0)
        reuse_type, reuse_iters, reuse_bytes, reuse_count = 0, 0.0, 0.0, 0.0
        for level, loop in enumerate(loops):
            if self._flat_stride(self.access_at(access.op, loop)[0], access) == 0.0:
                reuse_type = 1
                reuse_iters = float(_trips(loops[:level]))
                reuse_bytes = float(
                    sum(
                        self.footprint(a, level - 1) if level else a.elem_bytes
                        for a in st.accesses
                    )
                )
                reuse_count = float(loop.trip_count)
                break
        else:
            if any(a.op.memref is access.op.memref and a.write != access.write for a in st.accesses):
                reuse_type = 2
        vector_access = 0
        vec_loop = next((lp for lp in loops if lp.kind == VECTORIZE), None)
        if vec_loop is not None and self.vector(vec_loop).effective:
            per_dim = self.access_at(access.op, vec_loop)[0]
            if all(s == 0.0 for s in per_dim):
                vector_access = 2  # broadcast
            elif per_dim and all(s == 0.0 for s in per_dim[:-1]) and per_dim[-1] == 1.0:
                vector_access = 1  # contiguous
            else:
                vector_access = 3  # gather / scatter
        return [
            1.0,
            float(access.write),
            float(access.local),
            _log(access.bytes),
            _log(unique),
            _log(lines),
            _log(unique_lines),
            *strides,
            *footprints,
            float(reuse_type),
            _log(reuse_iters),
            _log(reuse_bytes),
            _log(reuse_count),
            float(vector_access),
        ]

    # -- store features --------------------------------------------------------

    def store_features(self, st: _Statement) -> list[float]:
        real = [lp for lp in st.loops if lp.trip_count > 1]
        levels: list[float] = []
        for i in range(LEVELS):
            if i < len(real):
                levels += [_log(real[i].trip_count), float(KIND_CODES.get(real[i].kind, 4))]
            else:
                levels += [0.0, -1.0]
        vec_loop = next((lp for lp in real if lp.kind == VECTORIZE), None)
        if vec_loop is not None:
            v = self.vector(vec_loop)
            vec = [1.0 if v.effective else -1.0, float(v.lanes), _log(v.trips), v.tail_share, v.efficiency]
        else:
            vec = [0.0, 1.0, 0.0, 0.0, 0.0]
        unrolled = [lp for lp in real if lp.kind == UNROLL]
        unroll_product = _trips(unrolled)
        par = [lp for lp in st.loops if lp.kind == PARALLEL]
        if par:
            outer = par[-1]
            extent, threads = outer.trip_count, self.target.thread_count
            balance = -(-extent // threads) * threads / extent
            par_f = [_log(extent), balance, float(len(st.loops) - 1 - st.loops.index(outer))]
        else:
            par_f = [0.0, 0.0, -1.0]
        registers = self.registers(st.store.memref)
        flops = _flops(st.ops)
        moved = sum(a.bytes for a in st.accesses)
        fields = [
            1.0,
            _log(st.executions),
            *(_log(st.ops[k]) for k in OP_KINDS),
            _log(flops),
            _log(flops / moved if moved else 0.0),
            float(len(real)),
            *levels,
            *vec,
            _log(unroll_product),
            float(len(unrolled)),
            _log(unroll_product * st.slice_size),
            *par_f,
            float(registers),
            registers / self.target.vector_registers,
            float(any(".tail" in lp.axis_name for lp in st.loops)),
            float(self.role(st)),
        ]
        for j in range(ACCESSES):
            if j < len(st.accesses):
                fields += self.access_features(st.accesses[j], st)
            else:
                fields += [0.0] * len(_ACCESS_FIELDS)
        return fields

    # -- totals ----------------------------------------------------------------

    def total_features(self, statements: list[_Statement]) -> list[float]:
        ops = dict.fromkeys(OP_KINDS, 0.0)
        loads: list[_Access] = []
        allocas: list[SSAValue] = []
        loops: list[ForOp] = []
        for op in self.order:
            if isinstance(op, ForOp):
                loops.append(op)
            elif isinstance(op, memref.LoadOp | memref.StoreOp) and isinstance(op.memref.type, MemRefType):
                loads.append(self._make_access(op))
            elif isinstance(op, memref.AllocaOp | memref.AllocOp):
                allocas.append(op.memref)
            else:
                kind = _op_kind(op)
                if kind is not None:
                    ops[kind] += _trips(self.loops_of[op])
        flops = _flops(ops)
        moved = sum(a.bytes for a in loads)
        unique_per_buffer: dict[SSAValue, int] = {}
        lines = 0.0
        for a in loads:
            if a.local:
                continue
            top = self.footprint(a, len(a.loops) - 1) if a.loops else a.elem_bytes
            unique_per_buffer[a.op.memref] = max(unique_per_buffer.get(a.op.memref, 0), top)
            if a.loops:
                lines += self._lines(self.access_at(a.op, a.loops[0])[1], a) * a.executions / a.loops[0].trip_count
            else:
                lines += a.executions
        unique = sum(unique_per_buffer.values())
        count = sum(st.executions for st in statements) or 1

        def share(pred: Any) -> float:
            return sum(st.executions for st in statements if pred(st)) / count

        par_loops = [lp for lp in loops if lp.kind == PARALLEL]
        if par_loops:
            widest = max(par_loops, key=lambda lp: lp.trip_count)
            threads = self.target.thread_count
            par_extent = widest.trip_count
            par_balance = -(-par_extent // threads) * threads / par_extent
        else:
            par_extent, par_balance = 0, 0.0
        vec_weight = vec_eff = 0.0
        for st in statements:
            v_loop = next((lp for lp in st.loops if lp.kind == VECTORIZE and lp.trip_count > 1), None)
            if v_loop is not None and self.vector(v_loop).effective:
                vec_weight += st.executions
                vec_eff += st.executions * self.vector(v_loop).efficiency
        registers = [self.registers(b) for b in allocas]
        elements = sum(math.prod(b.type.get_shape()) for b in allocas if isinstance(b.type, MemRefType))
        top = sorted(statements, key=lambda s: (-s.executions, s.order))[:TOP_STORES]
        return [
            _log(count),
            *(_log(ops[k]) for k in OP_KINDS),
            _log(flops),
            _log(moved),
            _log(unique),
            _log(lines),
            _log(flops / moved if moved else 0.0),
            _log(flops / unique if unique else 0.0),
            float(len(statements)),
            float(len(loops)),
            float(sum(1 for op in self.kernel.body.block.ops if isinstance(op, ForOp))),
            float(max((len(self.loops_of[lp]) + 1 for lp in loops), default=0)),
            float(len(allocas)),
            _log(elements),
            float(max(registers, default=0)),
            max(registers, default=0) / self.target.vector_registers,
            float(len(par_loops)),
            share(lambda st: any(lp.kind == PARALLEL for lp in st.loops)),
            _log(par_extent),
            par_balance,
            vec_weight / count,
            vec_eff / vec_weight if vec_weight else 0.0,
            share(lambda st: any(lp.kind == UNROLL and lp.trip_count > 1 for lp in st.loops)),
            share(lambda st: any(".tail" in lp.axis_name for lp in st.loops)),
            1.0 - sum(st.executions for st in top) / count,
            float(self.target.lanes(32)),
            float(self.target.thread_count),
            float(self.target.vector_registers),
        ]

    def features(self) -> np.ndarray:
        stores = [op for op in self.order if isinstance(op, memref.StoreOp)]
        statements = [self.statement(s, i) for i, s in enumerate(stores)]
        top = sorted(statements, key=lambda s: (-s.executions, s.order))[:TOP_STORES]
        values: list[float] = []
        for i in range(TOP_STORES):
            if i < len(top):
                values += self.store_features(top[i])
            else:
                values += [0.0] * _STORE_WIDTH
        values += self.total_features(statements)
        out = np.asarray(values, dtype=np.float32)
        assert out.shape == (FEATURE_LENGTH,), (out.shape, FEATURE_LENGTH)
        return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
