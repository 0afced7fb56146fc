"""Explicit SIMD code for `loop.for ... vectorize` (used by `convert-loop-to-scf`).

The body of a vectorized loop must be straight-line code: memref loads and
stores, arith and math ops. It is emitted VL iterations at a time (VL lanes),
where VL = vector-bits / (the narrowest element type the body touches), capped
by the trip count (rounded down to a power of two). The last `trips % VL`
iterations run as halving power-of-two chunks (VL/2, VL/4, ... 2 lanes) and
at most one scalar iteration.

Every value of the body gets one of four representations in the vector code:

- Uniform: one scalar, the same in every lane (values defined outside the
  loop, or computed only from such values);
- Affine: an integer `base + lane * stride` (the induction variable and
  add/sub/mul-by-constant/cast of it), kept as the scalar of lane 0 so that
  addresses stay scalar;
- Vec: a `vector<VLxT>` value;
- Lanes: VL scalars, for what xDSL's upstream dialects cannot express on
  vectors (compares, casts, selects on a varying condition) and for gathers.

Loads whose indices are uniform in every dimension but the last, where the
stride is 1, become `vector.load`; with a stride of 2 (strided pools and
convs), two overlapping `vector.load`s and a `vector.shuffle` of their even
lanes; uniform loads stay scalar and are broadcast
when a vector needs them; any other access pattern is gathered (scalar loads,
`vector.insert`) or scattered (`vector.extract`, scalar stores).

The loop is refused, with a reason, when its body is not straight-line, or
when its iterations are not provably independent: a store to an address that
does not depend on the induction variable (a reduction) or two different
addresses into one written buffer. `convert-loop-to-scf` then lowers it as a
serial loop and records the reason as a `loop.not_vectorized` attribute.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith, llvm, memref, scf, vector
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    VectorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, OpResult, SSAValue
from xdsl.utils.test_value import create_ssa_value

from compiler.dialects.loop import ForOp, YieldOp
from compiler.schedule.analysis import REDUCTION_KINDS, LoopAccessAnalysis, Reduction, constant_int

VECTORIZE_REMARK_ATTR = "loop.not_vectorized"


@dataclass
class Uniform:
    value: SSAValue


@dataclass
class Affine:
    base: SSAValue
    stride: int


@dataclass
class Vec:
    value: SSAValue


@dataclass
class Lanes:
    values: list[SSAValue]


@dataclass
class Deferred:
    """A value folded into its single user (a mulf into an fma, a cmp into a max)."""

    op: Operation


Repr = Uniform | Affine | Vec | Lanes | Deferred


def _is_int(t: Attribute) -> bool:
    return isinstance(t, IndexType) or (isinstance(t, IntegerType) and t.width.data > 1)


def _is_float(t: Attribute) -> bool:
    return isinstance(t, AnyFloat)


def _bits(t: Attribute) -> int:
    if isinstance(t, IndexType):
        return 64
    if isinstance(t, IntegerType):
        return max(8, t.width.data)
    if isinstance(t, AnyFloat):
        # f16/bf16 are computed in f32 (widen-half-floats): their vectors are f32 wide.
        return max(32, t.bitwidth)
    return 64


def _allowed(op: Operation) -> bool:
    if isinstance(op, memref.LoadOp | memref.StoreOp | YieldOp):
        return True
    if op.regions:
        return False
    return op.name.startswith("arith.") or op.name.startswith("math.")


def _scalar_types(op: Operation) -> bool:
    types = [*op.operand_types, *op.result_types]
    return all(
        isinstance(t, IndexType | IntegerType | AnyFloat | MemRefType) for t in types
    )


def vectorization_blocker(loop: ForOp) -> str | None:
    """Why `loop` cannot be vectorized; None when it can (reductions included, see `reductions`)."""
    for op in loop.body.block.ops:
        if isinstance(op, ForOp):
            return f"its body holds the loop '{op.axis_name}' (only straight-line bodies vectorize)"
        if not _allowed(op):
            return f"its body holds '{op.name}' (only loads, stores, arith and math vectorize)"
        if not _scalar_types(op):
            return f"'{op.name}' works on non-scalar values"
    return LoopAccessAnalysis(loop).independence_problem(but_reductions=True)


def reductions(loop: ForOp) -> list[Reduction]:
    """The loop's float reductions `acc[u] = combine(acc[u], x)`, vectorized as
    `vector<VLxT>` partials: each lane reduces its own iterations, starting
    from the combine's identity, and after the vector loop the lanes and the
    accumulator's value are reduced into the accumulator (`vector.reduction`).
    A sum is so added in another order than the scalar loop's: the result
    differs in rounding, as onnxruntime's vectorized reductions do."""
    return LoopAccessAnalysis(loop).reductions()


def vector_length(loop: ForOp, vector_bits: int) -> int:
    """Lanes per chunk: vector_bits over the narrowest element type, a power of two <= trips."""
    types = [
        op.memref.type.element_type
        for op in loop.body.block.ops
        if isinstance(op, memref.LoadOp | memref.StoreOp)
        and isinstance(op.memref.type, MemRefType)
    ]
    # i1 buffers (masks) do not set the width: their vectors are built lane by lane.
    widths = [_bits(t) for t in types if t != IntegerType(1)] or [_bits(t) for t in types]
    lanes = max(1, vector_bits // (min(widths) if widths else 64))
    trips = loop.trip_count
    vl = 1
    while vl * 2 <= min(lanes, trips):
        vl *= 2
    return vl


_CAPABLE: dict[tuple[str, int, tuple[Attribute, ...], tuple[Attribute, ...], str], bool] = {}


@functools.cache
def _vector_of(element: Attribute, vl: int) -> VectorType:
    """vector<vl x element>, built once (types are immutable; building one is slow)."""
    return VectorType(element, [vl])


def _vector_capable(op: Operation, vl: int) -> bool:
    """Whether xDSL accepts `op` with every operand and result widened to a vector."""
    key = (
        op.name,
        vl,
        tuple(op.operand_types),
        tuple(op.result_types),
        str(sorted((k, str(v)) for k, v in op.properties.items())),
    )
    if key not in _CAPABLE:
        operand_types = [_vector_of(t, vl) for t in op.operand_types]
        result_types = [_vector_of(t, vl) for t in op.result_types]
        probe = type(op).create(
            operands=[create_ssa_value(t) for t in operand_types],
            result_types=result_types,
            properties=dict(op.properties),
            attributes=dict(op.attributes),
        )
        try:
            probe.verify()
            _CAPABLE[key] = True
        except Exception:
            _CAPABLE[key] = False
    return _CAPABLE[key]


# cmpf predicates (arith): 2 ogt, 3 oge, 4 olt, 5 ole, 9 ugt, 10 uge, 11 ult, 12 ule
_CMPF_GREATER = {2: True, 3: True, 4: False, 5: False, 9: True, 10: True, 11: False, 12: False}
_CMPF_ORDERED = {2, 3, 4, 5}
# cmpi predicates: 2 slt, 3 sle, 4 sgt, 5 sge, 6 ult, 7 ule, 8 ugt, 9 uge
_CMPI_GREATER = {2: False, 3: False, 4: True, 5: True, 6: False, 7: False, 8: True, 9: True}
_CMPI_SIGNED = {2, 3, 4, 5}


def _float_constant(value: SSAValue) -> float | None:
    if isinstance(value, OpResult) and isinstance(value.op, arith.ConstantOp):
        attr = value.op.value
        if isinstance(attr, FloatAttr):
            return attr.value.data
    return None


def _min_max_of_select(select: arith.SelectOp) -> tuple[str, Operation] | None:
    """`select(cmp(a, b), a, b)`-like selects that are a min or max: (op name, the cmp)."""
    cond = select.cond
    if not isinstance(cond, OpResult) or not isinstance(cond.op, arith.CmpfOp | arith.CmpiOp):
        return None
    cmp = cond.op
    a, b = cmp.operands
    u, v = select.lhs, select.rhs
    if {id(u), id(v)} != {id(a), id(b)} or a is b:
        return None
    pred = cmp.predicate.value.data
    if isinstance(cmp, arith.CmpfOp):
        if pred not in _CMPF_GREATER:
            return None
        # When an operand is NaN the compare picks one side; maxnumf/minnumf
        # return the non-NaN operand, so they agree only if that side is a
        # (non-NaN) constant.
        picked_on_nan = v if pred in _CMPF_ORDERED else u
        c = _float_constant(picked_on_nan)
        if c is None or c != c:
            return None
        greater = _CMPF_GREATER[pred]
        want_max = greater == (u is a)
        return ("arith.maxnumf" if want_max else "arith.minnumf"), cmp
    if pred not in _CMPI_GREATER:
        return None
    greater = _CMPI_GREATER[pred]
    want_max = greater == (u is a)
    signed = pred in _CMPI_SIGNED
    name = {
        (True, True): "arith.maxsi",
        (False, True): "arith.minsi",
        (True, False): "arith.maxui",
        (False, False): "arith.minui",
    }[(want_max, signed)]
    return name, cmp


_MINMAX = {
    "arith.maxnumf": arith.MaxnumfOp,
    "arith.minnumf": arith.MinnumfOp,
    "arith.maxsi": arith.MaxSIOp,
    "arith.minsi": arith.MinSIOp,
    "arith.maxui": arith.MaxUIOp,
    "arith.minui": arith.MinUIOp,
}

_INT_WIDTH_CASTS = {"arith.extsi": llvm.SExtOp, "arith.extui": llvm.ZExtOp, "arith.trunci": llvm.TruncOp}
"""Integer width casts of a vector, as llvm ops (convert-to-llvm keeps them)."""

_AFFINE_CASTS = ("arith.index_cast", "arith.extsi", "arith.index_castui", "arith.extui")


class VectorBody:
    """Emits one chunk of VL iterations of a loop body as vector code."""

    def __init__(
        self, loop: ForOp, vl: int, base: SSAValue, *, fma: bool = True, partials: Mapping[Operation, SSAValue] = {}
    ) -> None:
        self.loop = loop
        self.partials = partials
        """The load and store of each reduction's accumulator -> its memref<VLxT> of lane partials."""
        self.vl = vl
        self.base = base
        self.ops: list[Operation] = []
        self.values: dict[SSAValue, Repr] = {loop.iv: Affine(base, loop.stride)}
        self._consts: dict[tuple[int, str], SSAValue] = {}
        # Memo keys are built from SSA values (hashed by identity), never from
        # the ids of short-lived Repr objects.
        self._vec_memo: dict[object, SSAValue] = {}
        self._lane_memo: dict[tuple[object, int], SSAValue] = {}
        self.fma = fma

    # -- emission helpers ----------------------------------------------------

    def emit(self, op: Operation) -> Operation:
        self.ops.append(op)
        return op

    def int_const(self, n: int, t: Attribute) -> SSAValue:
        key = (n, str(t))
        if key not in self._consts:
            self._consts[key] = self.emit(arith.ConstantOp(IntegerAttr(n, t))).results[0]
        return self._consts[key]

    def get(self, value: SSAValue) -> Repr:
        r = self.values.get(value)
        if r is None:
            r = self.values[value] = Uniform(value)
        return r

    @staticmethod
    def _key(r: Repr) -> object:
        if isinstance(r, Uniform | Vec):
            return r.value
        if isinstance(r, Affine):
            return (r.base, r.stride)
        if isinstance(r, Lanes):
            return tuple(r.values)
        return r.op

    def vtype(self, t: Attribute) -> VectorType:
        return _vector_of(t, self.vl)

    def lane(self, r: Repr, lane: int) -> SSAValue:
        """The scalar value of lane `lane`."""
        if isinstance(r, Uniform):
            return r.value
        if isinstance(r, Lanes):
            return r.values[lane]
        key = (self._key(r), lane)
        if key in self._lane_memo:
            return self._lane_memo[key]
        if isinstance(r, Affine):
            if lane == 0:
                return r.base
            offset = self.int_const(lane * r.stride, r.base.type)
            out = self.emit(arith.AddiOp(r.base, offset)).results[0]
        else:
            assert isinstance(r, Vec)
            elem = r.value.type.get_element_type()
            out = self.emit(vector.ExtractOp(r.value, [lane], elem)).results[0]
        self._lane_memo[key] = out
        return out

    def vec(self, r: Repr) -> SSAValue:
        """The value as a vector<VLxT>."""
        if isinstance(r, Vec):
            return r.value
        assert not isinstance(r, Deferred)
        key = self._key(r)
        if key in self._vec_memo:
            return self._vec_memo[key]
        if isinstance(r, Uniform):
            out = self.emit(vector.BroadcastOp(r.value, self.vtype(r.value.type))).results[0]
        elif isinstance(r, Affine):
            t = r.base.type
            splat = self.emit(vector.BroadcastOp(r.base, self.vtype(t))).results[0]
            steps = DenseIntOrFPElementsAttr.from_list(
                self.vtype(t), [lane * r.stride for lane in range(self.vl)]
            )
            offsets = self.emit(arith.ConstantOp(steps)).results[0]
            out = self.emit(arith.AddiOp(splat, offsets)).results[0]
        else:
            assert isinstance(r, Lanes)
            t = r.values[0].type
            out = self.emit(vector.BroadcastOp(r.values[0], self.vtype(t))).results[0]
            for lane in range(1, self.vl):
                out = self.emit(vector.InsertOp(r.values[lane], out, [lane])).results[0]
        self._vec_memo[key] = out
        return out

    # -- the body --------------------------------------------------------------

    def run(self) -> list[Operation]:
        body = [op for op in self.loop.body.block.ops if not isinstance(op, YieldOp)]
        deferred = self._plan_deferred(body)
        for op in body:
            self._vectorize(op, deferred)
        return self.ops

    def _plan_deferred(self, body: Sequence[Operation]) -> set[Operation]:
        """Ops whose only user absorbs them: mulf -> fma, cmp -> min/max."""
        inside = set(body)
        out: set[Operation] = set()
        for op in body:
            if self.fma and isinstance(op, arith.MulfOp):
                user = op.result.get_user_of_unique_use()
                if isinstance(user, arith.AddfOp) and user in inside and not op.attributes and _accumulates(user, op):
                    out.add(op)
            if isinstance(op, arith.SelectOp):
                match = _min_max_of_select(op)
                if match is not None and match[1] in inside:
                    cmp = match[1]
                    if cmp.results[0].get_user_of_unique_use() is op:
                        out.add(cmp)
        return out

    def _vectorize(self, op: Operation, deferred: set[Operation]) -> None:
        if (partial := self.partials.get(op)) is not None:
            self._partial(op, partial)
            return
        reprs = [self.get(o) for o in op.operands]
        if isinstance(op, memref.StoreOp):
            self._store(op, reprs)
            return
        if all(isinstance(r, Uniform) for r in reprs):
            # Uniform: one scalar copy (LLVM hoists it out of the loop).
            mapping = {o: r.value for o, r in zip(op.operands, reprs, strict=True) if isinstance(r, Uniform)}
            clone = self.emit(op.clone(value_mapper=mapping))
            for old, new in zip(op.results, clone.results, strict=True):
                self.values[old] = Uniform(new)
            return
        if isinstance(op, memref.LoadOp):
            self.values[op.res] = self._load(op, reprs)
            return
        if op in deferred:
            self.values[op.results[0]] = Deferred(op)
            return
        if (affine := self._affine(op, reprs)) is not None:
            self.values[op.results[0]] = affine
            return
        if isinstance(op, arith.AddfOp) and self.fma:
            for i, r in enumerate(reprs):
                if isinstance(r, Deferred):
                    mul = r.op
                    a, b = (self.get(o) for o in mul.operands)
                    # a*b + c*d: both mulfs were deferred; only one fuses.
                    acc = self._undefer(reprs[1 - i])
                    fma = self.emit(vector.FMAOp(self.vec(a), self.vec(b), self.vec(acc)))
                    self.values[op.results[0]] = Vec(fma.results[0])
                    return
        if isinstance(op, arith.SelectOp):
            self.values[op.result] = self._select(op, reprs)
            return
        if any(isinstance(r, Deferred) for r in reprs):
            # A deferred mulf whose user did not absorb it: emit it now.
            reprs = [self._undefer(r) for r in reprs]
        if _vector_capable(op, self.vl):
            new = self.emit(
                type(op).create(
                    operands=[self.vec(r) for r in reprs],
                    result_types=[self.vtype(t) for t in op.result_types],
                    properties=dict(op.properties),
                    attributes=dict(op.attributes),
                )
            )
            for old, res in zip(op.results, new.results, strict=True):
                self.values[old] = Vec(res)
            return
        if (cast := _INT_WIDTH_CASTS.get(op.name)) is not None and all(
            isinstance(t, IntegerType) for t in (op.operands[0].type, op.results[0].type)
        ):
            # xDSL's arith casts take scalars only: the llvm cast of the whole vector
            # (vpmovsxwd) instead of a cast per lane.
            new = self.emit(cast(self.vec(reprs[0]), self.vtype(op.results[0].type)))
            self.values[op.results[0]] = Vec(new.results[0])
            return
        self._per_lane(op, reprs)

    def _partial(self, op: Operation, partial: SSAValue) -> None:
        """A reduction's accumulator access: the lanes' partials instead."""
        zero = self.int_const(0, IndexType())
        if isinstance(op, memref.LoadOp):
            load = self.emit(vector.LoadOp(partial, [zero], self.vtype(op.res.type)))
            self.values[op.res] = Vec(load.results[0])
        else:
            assert isinstance(op, memref.StoreOp)
            self.emit(vector.StoreOp(self.vec(self._undefer(self.get(op.value))), partial, [zero]))

    def _undefer(self, r: Repr) -> Repr:
        if not isinstance(r, Deferred):
            return r
        mul = r.op
        reprs = [self.get(o) for o in mul.operands]
        new = self.emit(
            type(mul).create(
                operands=[self.vec(x) for x in reprs],
                result_types=[self.vtype(t) for t in mul.result_types],
                properties=dict(mul.properties),
            )
        )
        return Vec(new.results[0])

    def _per_lane(self, op: Operation, reprs: Sequence[Repr]) -> None:
        lanes: list[list[SSAValue]] = [[] for _ in op.results]
        for lane in range(self.vl):
            mapping = {o: self.lane(r, lane) for o, r in zip(op.operands, reprs, strict=True)}
            clone = self.emit(op.clone(value_mapper=mapping))
            for i, res in enumerate(clone.results):
                lanes[i].append(res)
        for old, vals in zip(op.results, lanes, strict=True):
            self.values[old] = Lanes(vals)

    def _affine(self, op: Operation, reprs: Sequence[Repr]) -> Affine | Uniform | None:
        """Integer index arithmetic that stays `base + lane * stride`."""
        if len(op.results) != 1 or not _is_int(op.results[0].type):
            return None
        if not all(isinstance(r, Uniform | Affine) for r in reprs):
            return None

        def parts(r: Repr) -> tuple[SSAValue, int]:
            assert isinstance(r, Uniform | Affine)
            return (r.value, 0) if isinstance(r, Uniform) else (r.base, r.stride)

        if isinstance(op, arith.AddiOp | arith.SubiOp):
            (a, sa), (b, sb) = parts(reprs[0]), parts(reprs[1])
            new = self.emit(type(op)(a, b))
            stride = sa + sb if isinstance(op, arith.AddiOp) else sa - sb
            return Affine(new.results[0], stride) if stride else Uniform(new.results[0])
        if isinstance(op, arith.MuliOp):
            (a, sa), (b, sb) = parts(reprs[0]), parts(reprs[1])
            ka, kb = constant_int(op.operands[0]), constant_int(op.operands[1])
            if sb == 0 and kb is not None:
                stride = sa * kb
            elif sa == 0 and ka is not None:
                stride = sb * ka
            else:
                return None
            new = self.emit(arith.MuliOp(a, b))
            return Affine(new.results[0], stride) if stride else Uniform(new.results[0])
        if op.name in _AFFINE_CASTS:
            a, sa = parts(reprs[0])
            new = self.emit(op.clone(value_mapper={op.operands[0]: a}))
            return Affine(new.results[0], sa)
        return None

    def _index_lanes(self, reprs: Sequence[Repr]) -> list[int] | None:
        strides: list[int] = []
        for r in reprs:
            if isinstance(r, Uniform):
                strides.append(0)
            elif isinstance(r, Affine):
                strides.append(r.stride)
            else:
                return None
        return strides

    def _load(self, op: memref.LoadOp, reprs: Sequence[Repr]) -> Repr:
        index_reprs = reprs[1:]
        strides = self._index_lanes(index_reprs)
        mem = self.lane(reprs[0], 0)
        if strides is not None and all(s == 0 for s in strides[:-1]) and strides[-1] == 1:
            indices = [self.lane(r, 0) for r in index_reprs]
            elem = op.res.type
            load = self.emit(vector.LoadOp(mem, indices, self.vtype(elem)))
            return Vec(load.results[0])
        if strides is not None and all(s == 0 for s in strides[:-1]) and strides[-1] == 2 and self.vl > 1:
            return self._load_stride2(mem, [self.lane(r, 0) for r in index_reprs], op.res.type)
        # Gather: one scalar load per lane.
        values = []
        for lane in range(self.vl):
            indices = [self.lane(r, lane) for r in index_reprs]
            values.append(self.emit(memref.LoadOp.get(mem, indices)).results[0])
        return Lanes(values)

    def _load_stride2(self, mem: SSAValue, indices: list[SSAValue], elem: Attribute) -> Repr:
        """Every other element from `indices` on (a stride-2 pool or conv reading
        its input row): two contiguous vector loads and one shuffle instead of a
        gather. The second load starts at element vl - 1, so that together they
        cover exactly the 2 * vl - 1 elements spanned, never one past the last:

            lanes 0 .. vl-1 of the result = [a0 a2 a4 .. | b1 b3 ..] with a = x[i ..], b = x[i + vl - 1 ..]
        """
        vl = self.vl
        vt = self.vtype(elem)
        first = self.emit(vector.LoadOp(mem, indices, vt)).results[0]
        shifted = self.emit(arith.AddiOp(indices[-1], self.int_const(vl - 1, IndexType()))).results[0]
        second = self.emit(vector.LoadOp(mem, [*indices[:-1], shifted], vt)).results[0]
        mask = [2 * i if 2 * i < vl else 2 * i + 1 for i in range(vl)]
        shuffle = vector.ShuffleOp(first, second, DenseArrayBase.from_list(i64, mask), result_type=vt)
        return Vec(self.emit(shuffle).results[0])

    def _store(self, op: memref.StoreOp, reprs: Sequence[Repr]) -> None:
        value, mem = reprs[0], self.lane(reprs[1], 0)
        value = self._undefer(value)
        index_reprs = reprs[2:]
        strides = self._index_lanes(index_reprs)
        if strides is not None and all(s == 0 for s in strides[:-1]) and strides[-1] == 1:
            indices = [self.lane(r, 0) for r in index_reprs]
            self.emit(vector.StoreOp(self.vec(value), mem, indices))
            return
        # Scatter, lane by lane, in iteration order.
        for lane in range(self.vl):
            indices = [self.lane(r, lane) for r in index_reprs]
            self.emit(memref.StoreOp.get(self.lane(value, lane), mem, indices))

    def _select(self, op: arith.SelectOp, reprs: Sequence[Repr]) -> Repr:
        cond, lhs, rhs = reprs
        if isinstance(cond, Uniform):
            new = self.emit(arith.SelectOp(cond.value, self.vec(lhs), self.vec(rhs)))
            return Vec(new.results[0])
        if isinstance(cond, Deferred):
            match = _min_max_of_select(op)
            assert match is not None
            new = self.emit(_MINMAX[match[0]](self.vec(lhs), self.vec(rhs)))
            return Vec(new.results[0])
        # xDSL's arith.select takes a scalar i1 only: select lane by lane.
        values = []
        for lane in range(self.vl):
            values.append(
                self.emit(
                    arith.SelectOp(self.lane(cond, lane), self.lane(lhs, lane), self.lane(rhs, lane))
                ).results[0]
            )
        return Lanes(values)


def _index_const(n: int, ops: list[Operation]) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr(n, IndexType()))
    ops.append(op)
    return op.result


def clone_body(loop: ForOp, iv: SSAValue) -> list[Operation]:
    """Copies of the loop body's ops (no terminator) with the induction variable replaced."""
    mapping: dict[SSAValue, SSAValue] = {loop.iv: iv}
    return [op.clone(value_mapper=mapping) for op in loop.body.block.ops if not isinstance(op, YieldOp)]


def scalar_loop(loop: ForOp, lb: int, ub: int, step: int) -> list[Operation]:
    """A serial `scf.for` (or inline code for one iteration) over part of `loop`."""
    ops: list[Operation] = []
    trips = max(0, -(-(ub - lb) // step))
    if trips == 0:
        return ops
    if trips == 1:
        iv = _index_const(lb, ops)
        ops.extend(clone_body(loop, iv))
        return ops
    lo, hi, st = _index_const(lb, ops), _index_const(ub, ops), _index_const(step, ops)
    block = Block(arg_types=[IndexType()])
    block.args[0].name_hint = loop.iv.name_hint
    block.add_ops(clone_body(loop, block.args[0]))
    block.add_op(scf.YieldOp())
    ops.append(scf.ForOp(lo, hi, st, [], block))
    return ops


def _accumulates(add: arith.AddfOp, mul: arith.MulfOp) -> bool:
    """Whether `add` is a reduction step, `buf[i] = buf[i] + a * b`: its other
    operand is loaded from the buffer that its only user stores it to.

    Only these contract into an fma. Elsewhere (an epilogue's `x * scale +
    bias`) the product is rounded before the sum, as onnxruntime's separate
    Mul and Add round it: a dequantization computed with one rounding fewer
    moves values across the next quantization's rounding boundaries.
    """
    other = add.rhs if add.lhs is mul.result else add.lhs
    load, store = other.owner, add.result.get_user_of_unique_use()
    return (
        isinstance(load, memref.LoadOp)
        and isinstance(store, memref.StoreOp)
        and store.value is add.result
        and store.memref is load.memref
    )


_IDENTITY = {
    "add": -0.0,  # x + -0.0 == x for every x, -0.0 included
    "mul": 1.0,
    "maximumf": float("-inf"),
    "maxnumf": float("-inf"),
    "minimumf": float("inf"),
    "minnumf": float("inf"),
}


def _start_partials(reduced: Sequence[Reduction], vl: int, ops: list[Operation]) -> dict[Operation, SSAValue]:
    """A memref<VLxT> per reduction, every lane at the combine's identity."""
    partials: dict[Operation, SSAValue] = {}
    for r in reduced:
        elem = r.load.res.type
        partial = memref.AllocaOp.get(elem, shape=[vl])
        identity = arith.ConstantOp(FloatAttr(_IDENTITY[REDUCTION_KINDS[r.combine.name]], elem))
        splat = vector.BroadcastOp(identity.result, _vector_of(elem, vl))
        zero = _index_const(0, ops)
        ops.extend([partial, identity, splat, vector.StoreOp(splat.vector, partial.memref, [zero])])
        partials[r.load] = partials[r.store] = partial.memref
    return partials


def _outside(value: SSAValue, loop: ForOp, ops: list[Operation], copies: dict[SSAValue, SSAValue]) -> SSAValue:
    """`value`, invariant in `loop`, usable after it: ops of the body that compute it are copied."""
    if value in copies:
        return copies[value]
    owner = value.owner
    if not isinstance(owner, Operation) or owner.parent_block() is not loop.body.block:
        return value
    mapping = {o: _outside(o, loop, ops, copies) for o in owner.operands}
    clone = owner.clone(value_mapper=mapping)
    ops.append(clone)
    for old, new in zip(owner.results, clone.results, strict=True):
        copies[old] = new
    return copies[value]


def _finish_partials(
    loop: ForOp, reduced: Sequence[Reduction], partials: Mapping[Operation, SSAValue], vl: int, ops: list[Operation]
) -> None:
    """acc[u] = reduce(lanes, acc[u]), before the scalar remainder adds its iterations."""
    copies: dict[SSAValue, SSAValue] = {}
    for r in reduced:
        elem = r.load.res.type
        zero = _index_const(0, ops)
        lanes = vector.LoadOp(partials[r.load], [zero], _vector_of(elem, vl))
        indices = [_outside(i, loop, ops, copies) for i in r.load.indices]
        acc = memref.LoadOp.get(_outside(r.load.memref, loop, ops, copies), indices)
        kind = vector.CombiningKindAttr(vector.CombiningKindFlag(REDUCTION_KINDS[r.combine.name]))
        # Built by hand: xDSL's ReductionOp.__init__ gives the result the vector's type.
        total = vector.ReductionOp.create(
            operands=[lanes.result, acc.res],
            result_types=[elem],
            properties={"kind": kind, "fastmath": vector.FastMathFlagsAttr("none")},
        )
        ops.extend([lanes, acc, total, memref.StoreOp.get(total.results[0], acc.memref, indices)])


def vectorize(loop: ForOp, vector_bits: int = 512, *, fma: bool = True) -> list[Operation] | str:
    """The vector code for `loop` (chunks, smaller chunks, a scalar rest), or why it cannot be."""
    reason = vectorization_blocker(loop)
    if reason is not None:
        return reason
    vl = vector_length(loop, vector_bits)
    if vl < 2:
        return "it has fewer than two iterations"
    chunks, rest = divmod(loop.trip_count, vl)
    lb, step = loop.lower, loop.stride
    end = lb + chunks * vl * step
    ops: list[Operation] = []
    reduced = reductions(loop)
    partials = _start_partials(reduced, vl, ops)
    if chunks == 1:
        base = _index_const(lb, ops)
        ops.extend(VectorBody(loop, vl, base, fma=fma, partials=partials).run())
    else:
        lo, hi, st = _index_const(lb, ops), _index_const(end, ops), _index_const(vl * step, ops)
        block = Block(arg_types=[IndexType()])
        block.args[0].name_hint = loop.iv.name_hint
        block.add_ops(VectorBody(loop, vl, block.args[0], fma=fma, partials=partials).run())
        block.add_op(scf.YieldOp())
        ops.append(scf.ForOp(lo, hi, st, [], block))
    _finish_partials(loop, reduced, partials, vl, ops)
    # The remainder: halving power-of-two chunks (8, 4, 2 lanes; not after
    # reductions, whose partials are reduced by now), then scalar code.
    rest, width = loop.trip_count - chunks * vl, 1 if reduced else vl // 2
    while rest >= 2 and width >= 2:
        if rest >= width:
            base = _index_const(end, ops)
            ops.extend(VectorBody(loop, width, base, fma=fma).run())
            end += width * step
            rest -= width
        width //= 2
    ops.extend(scalar_loop(loop, end, loop.upper, step))
    return ops
