"""Access analysis of loop nests: which loops can run their iterations independently.

The schedule primitives `parallel` and `bind`, the vectorizer of
`convert-loop-to-scf` and the default schedule all need one fact about a loop:
that its iterations touch disjoint elements of every buffer they write, so that
they may run at once (threads, GPU lanes or SIMD lanes) in any order.

The analysis is symbolic and conservative. Each memref index is put in the form
`coeff * atom + u` relative to the loop, where `u` is invariant in the loop and
`atom` is the loop's induction variable or `x / C`, `x % C` of such a form (the
div/rem pairs that `fuse` produces). A loop is independent when, for every
buffer written inside it, the dimensions that every load and store of that
buffer index with the same value determine the induction variable (one of them
is `c * iv + u` with `c != 0`, or they hold a div/rem pair of such a value). Buffers allocated inside the loop are private to an iteration.
Distinct kernel arguments are assumed not to alias.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Block, BlockArgument, Operation, OpResult, SSAValue

from compiler.dialects.allreduce import AllReduceOp
from compiler.dialects.loop import ForOp, YieldOp

IV = "iv"
"""The atom standing for the analysed loop's own induction variable."""

Atom = Hashable


@dataclass(frozen=True)
class Linear:
    """`coeff * atom + u + v`: `u` invariant in the loop, `v` in [lo, hi] varying
    with inner loops only (their static bounds give the range); atom None: no atom."""

    atom: Atom | None
    coeff: int
    lo: int = 0
    hi: int = 0

    @property
    def has_atom(self) -> bool:
        return self.atom is not None and self.coeff != 0

    @property
    def invariant(self) -> bool:
        """The same value in every iteration of the loop and of its inner loops."""
        return not self.has_atom and self.lo == 0 and self.hi == 0

    def plus(self, other: Linear, sign: int = 1) -> Linear | None:
        lo, hi = (self.lo + other.lo, self.hi + other.hi) if sign > 0 else (
            self.lo - other.hi,
            self.hi - other.lo,
        )
        if not other.has_atom:
            return Linear(self.atom if self.has_atom else None, self.coeff if self.has_atom else 0, lo, hi)
        if not self.has_atom:
            return Linear(other.atom, sign * other.coeff, lo, hi)
        if self.atom == other.atom:
            coeff = self.coeff + sign * other.coeff
            return Linear(self.atom if coeff else None, coeff, lo, hi)
        return None

    def times(self, k: int) -> Linear:
        lo, hi = sorted((self.lo * k, self.hi * k))
        coeff = self.coeff * k
        return Linear(self.atom if coeff else None, coeff, lo, hi)


INVARIANT = Linear(None, 0, 0, 0)

_INT_CASTS = ("arith.index_cast", "arith.extsi", "arith.extui", "arith.trunci", "arith.index_castui")
_DIVS = ("arith.divui", "arith.divsi", "arith.floordivsi")
_REMS = ("arith.remui", "arith.remsi")


def constant_int(value: SSAValue) -> int | None:
    """The integer a value is known to hold (an `arith.constant`), else None."""
    if isinstance(value, OpResult) and isinstance(value.op, arith.ConstantOp):
        attr = value.op.value
        if isinstance(attr, IntegerAttr):
            return attr.value.data
    return None


def defined_inside(value: SSAValue, op: Operation) -> bool:
    """Whether `value` is defined in one of `op`'s regions (at any depth)."""
    owner = value.owner
    block: Block | None = owner if isinstance(owner, Block) else owner.parent_block()
    while block is not None:
        parent = block.parent_op()
        if parent is op:
            return True
        if parent is None:
            return False
        block = parent.parent_block()
    return False


class StructuralKeys:
    """Hashable keys that are equal for structurally equal (pure) values."""

    def __init__(self) -> None:
        self._memo: dict[SSAValue, Hashable] = {}

    def key(self, value: SSAValue) -> Hashable:
        if value in self._memo:
            return self._memo[value]
        result: Hashable
        if isinstance(value, BlockArgument) or not isinstance(value, OpResult):
            result = ("arg", id(value))
        else:
            op = value.op
            if isinstance(op, memref.LoadOp | memref.AllocaOp | memref.AllocOp) or op.regions:
                # Loads and allocations are not interchangeable by structure.
                result = ("op", id(op), value.index)
            else:
                props = tuple(sorted((k, str(v)) for k, v in op.properties.items()))
                result = (
                    op.name,
                    props,
                    str(value.type),
                    tuple(self.key(o) for o in op.operands),
                    value.index,
                )
        self._memo[value] = result
        return result


class LoopAccessAnalysis:
    """Index forms and the independence verdict for one `loop.for`."""

    def __init__(self, loop: ForOp) -> None:
        self.loop = loop
        self.keys = StructuralKeys()
        self._forms: dict[SSAValue, Linear | None] = {}
        # atom -> the Linear form of the value it divides (for div/rem atoms)
        self._atom_base: dict[Atom, Linear] = {}
        self.stores: list[memref.StoreOp] = []
        self.loads: list[memref.LoadOp] = []
        self.local: set[SSAValue] = set()
        self.unknown_users: list[Operation] = []
        for op in loop.body.walk():
            if isinstance(op, memref.StoreOp):
                self.stores.append(op)
            elif isinstance(op, memref.LoadOp):
                self.loads.append(op)
            elif isinstance(op, memref.AllocaOp | memref.AllocOp):
                self.local.add(op.memref)
            elif isinstance(op, AllReduceOp):
                # acc[idx] = combine(acc[idx], partials): a load and a store of
                # the accumulator; the partials are read whole (private when local).
                self.stores.append(op)  # type: ignore[arg-type]
                self.loads.append(op)  # type: ignore[arg-type]
                if op.partial not in self.local:
                    self.unknown_users.append(op)
            elif any(isinstance(o.type, memref.MemRefType) for o in op.operands):
                self.unknown_users.append(op)
        self.written = {s.memref for s in self.stores} - self.local

    # -- forms ----------------------------------------------------------------

    def form(self, value: SSAValue) -> Linear | None:
        """The Linear form of an integer value relative to the loop; None: unknown."""
        if value in self._forms:
            return self._forms[value]
        result = self._compute_form(value)
        self._forms[value] = result
        return result

    def _compute_form(self, value: SSAValue) -> Linear | None:
        if value is self.loop.iv:
            return Linear(IV, 1)
        if not defined_inside(value, self.loop):
            return INVARIANT
        if not isinstance(value, OpResult):
            # The induction variable of an inner loop: varies within its bounds.
            owner = value.owner
            parent = owner.parent_op() if isinstance(owner, Block) else None
            if isinstance(parent, ForOp) and parent.trip_count > 0:
                last = parent.lower + (parent.trip_count - 1) * parent.stride
                return Linear(None, 0, parent.lower, last)
            return None
        op = value.op
        if isinstance(op, arith.ConstantOp):
            return INVARIANT
        if isinstance(op, memref.LoadOp):
            if op.memref in self.written or op.memref in self.local:
                return None
            forms = [self.form(i) for i in op.indices]
            return INVARIANT if all(f is not None and f.invariant for f in forms) else None
        ops = list(op.operands)
        if op.name in ("arith.addi", "arith.subi") and len(ops) == 2:
            a, b = self.form(ops[0]), self.form(ops[1])
            if a is None or b is None:
                return None
            return a.plus(b, 1 if op.name == "arith.addi" else -1)
        if op.name == "arith.muli" and len(ops) == 2:
            a, b = self.form(ops[0]), self.form(ops[1])
            if a is None or b is None:
                return None
            if a.invariant and b.invariant:
                return INVARIANT
            for lin, other in ((a, ops[1]), (b, ops[0])):
                k = constant_int(other)
                if k is not None:
                    return lin.times(k)
            return None
        if op.name in _INT_CASTS:
            return self.form(ops[0])
        if (op.name in _DIVS or op.name in _REMS) and len(ops) == 2:
            a = self.form(ops[0])
            c = constant_int(ops[1])
            if a is None:
                return None
            if a.invariant and self.form(ops[1]) == INVARIANT:
                return INVARIANT
            if c is None or c <= 0 or a.lo != a.hi:
                return None
            kind = "div" if op.name in _DIVS else "rem"
            atom = (kind, self.keys.key(ops[0]), c)
            self._atom_base[atom] = a
            return Linear(atom, 1)
        # Any other pure op of invariant operands is invariant.
        if not op.regions and all(
            (f := self.form(o)) is not None and f.invariant for o in ops
        ) and _is_pure_scalar(op):
            return INVARIANT
        return None

    def offset(self, value: SSAValue) -> int | None:
        """The constant part of an index that `form` reads as `c*iv + u + v`: `u`
        when it is a known integer (constants, sums and constant multiples of
        them); None when `u` holds anything else (an outer loop's variable)."""
        k = constant_int(value)
        if k is not None:
            return k
        if value is self.loop.iv:
            return 0
        if not isinstance(value, OpResult):
            owner = value.owner
            parent = owner.parent_op() if isinstance(owner, Block) else None
            # An inner loop's variable: its range is in the form's [lo, hi].
            return 0 if isinstance(parent, ForOp) and defined_inside(value, self.loop) else None
        op, ops = value.op, list(value.op.operands)
        if op.name in _INT_CASTS:
            return self.offset(ops[0])
        if op.name in ("arith.addi", "arith.subi") and len(ops) == 2:
            a, b = self.offset(ops[0]), self.offset(ops[1])
            if a is None or b is None:
                return None
            return a + b if op.name == "arith.addi" else a - b
        if op.name == "arith.muli" and len(ops) == 2:
            for x, other in ((ops[0], ops[1]), (ops[1], ops[0])):
                k = constant_int(other)
                a = self.offset(x)
                if k is not None and a is not None:
                    return a * k
        return None

    def disjoint_slices(self, accesses: Sequence[Sequence[SSAValue]]) -> bool:
        """Whether some dimension keeps iterations apart in every access: each
        index there is `c*iv + k + v` with one coefficient c, a known constant k
        and v in [lo, hi], and the accesses' k + [lo, hi] together span less
        than |c| * step (a grouped conv's output channel g*C + tile offsets)."""
        for d in range(len(accesses[0])):
            parts = [
                (f, k)
                for a in accesses
                if (f := self.form(a[d])) is not None and f.has_atom and f.atom == IV
                and (k := self.offset(a[d])) is not None
            ]
            if len(parts) != len(accesses):
                continue
            coeffs = {f.coeff for f, _ in parts}
            lo = min(k + f.lo for f, k in parts)
            hi = max(k + f.hi for f, k in parts)
            if len(coeffs) == 1 and abs(coeffs.pop()) * self.loop.stride > hi - lo:
                return True
        return False

    def determines_iv(self, indices: Sequence[SSAValue]) -> bool:
        """Whether distinct iterations of the loop map to distinct index tuples."""
        forms = [self.form(i) for i in indices]
        # A dimension `c*atom + u + v` separates iterations when the atom's
        # successive values, |c| * (loop step) apart for the IV, are further
        # apart than the range of `v` (tiles of inner loops do not overlap).
        available = set()
        for f in forms:
            if f is None or not f.has_atom:
                continue
            spread = f.hi - f.lo
            gap = abs(f.coeff) * (self.loop.stride if f.atom == IV else 1)
            if spread == 0 or (f.atom == IV and gap > spread):
                available.add(f.atom)

        def determined(atom: Atom, depth: int = 0) -> bool:
            if atom in available:
                return True
            if depth > 16:
                return False
            # x is determined when both x / C and x % C are.
            for (kind, key, c), base in list(self._atom_base.items()):
                if kind != "div" or base.atom != atom or base.coeff == 0:
                    continue
                if ("rem", key, c) in self._atom_base and determined(
                    ("div", key, c), depth + 1
                ) and determined(("rem", key, c), depth + 1):
                    return True
            return False

        return determined(IV)

    def lane_strides(self, indices: Sequence[SSAValue]) -> list[int] | None:
        """Per-dimension coefficients of the induction variable, None if not affine in it."""
        strides: list[int] = []
        for i in indices:
            f = self.form(i)
            if f is None or f.lo != f.hi or (f.has_atom and f.atom != IV):
                return None
            strides.append(f.coeff if f.has_atom else 0)
        return strides

    def walks_contiguously(self, accesses: Sequence[memref.LoadOp | memref.StoreOp]) -> bool:
        """Whether one of `accesses` walks its buffer's last dimension with stride 1 along the loop."""
        for access in accesses:
            strides = self.lane_strides(list(access.indices))
            if strides and all(s == 0 for s in strides[:-1]) and strides[-1] * self.loop.stride == 1:
                return True
        return False

    def same_indices(self, a: Sequence[SSAValue], b: Sequence[SSAValue]) -> bool:
        return len(a) == len(b) and all(
            self.keys.key(x) == self.keys.key(y) for x, y in zip(a, b, strict=True)
        )

    # -- the verdict -------------------------------------------------------------

    def reductions(self) -> list[Reduction]:
        """The buffers the loop reduces into: in its body, `acc[u] = combine(acc[u], x)`
        with `u` invariant, one load and one store of `acc` and no other use of
        it, the loaded value read by the combine alone and the combined value
        only stored (`REDUCTION_KINDS` says which combines)."""
        found = []
        body = list(self.loop.body.block.ops)
        for buf in self.written:
            loads = [a for a in self.loads if a.memref is buf]
            stores = [a for a in self.stores if a.memref is buf]
            if len(loads) != 1 or len(stores) != 1:
                continue
            load, store = loads[0], stores[0]
            combine = store.value.owner
            if (
                not isinstance(load, memref.LoadOp)
                or not isinstance(store, memref.StoreOp)
                or not isinstance(combine, Operation)
                or combine.name not in REDUCTION_KINDS
                or load.res.get_user_of_unique_use() is not combine
                or store.value.get_user_of_unique_use() is not store
                or not all(op in body for op in (load, combine, store))
                or not body.index(load) < body.index(combine) < body.index(store)
                or not self.same_indices(list(load.indices), list(store.indices))
                or any((f := self.form(i)) is None or f.has_atom for i in load.indices)
            ):
                continue
            found.append(Reduction(load, combine, store))
        return found

    def independence_problem(self, but_reductions: bool = False) -> str | None:
        """Why iterations of the loop may not run at once; None when they may.
        With `but_reductions`, the accumulators of `reductions` are left out."""
        axis = self.loop.axis_name
        reduced = {r.buffer for r in self.reductions()} if but_reductions else set()
        if self.unknown_users:
            return f"'{self.unknown_users[0].name}' uses a buffer in a way the analysis does not know"
        for buf in self.written:
            if buf in reduced:
                continue
            name = _value_name(buf)
            accesses = [list(a.indices) for a in [*self.stores, *self.loads] if a.memref is buf]
            stores = [list(s.indices) for s in self.stores if s.memref is buf]
            # Dimensions indexed by the same value in every access: if they
            # determine the induction variable, different iterations touch
            # different elements, whatever the other dimensions do.
            rank = len(accesses[0])
            common = [
                d
                for d in range(rank)
                if all(self.keys.key(a[d]) == self.keys.key(accesses[0][d]) for a in accesses)
            ]
            if self.determines_iv([accesses[0][d] for d in common]) or self.disjoint_slices(accesses):
                continue
            if all(
                (f := self.form(i)) is not None and not f.has_atom for idx in stores for i in idx
            ):
                return (
                    f"{name} is stored at an address that does not depend on '{axis}' "
                    "(a reduction over it)"
                )
            if len(accesses) > 1 and any(self.determines_iv(a) for a in accesses):
                return (
                    f"{name} is accessed at different addresses in one iteration of "
                    f"'{axis}' (a possible dependence between iterations)"
                )
            return f"cannot prove that iterations of '{axis}' write distinct elements of {name}"
        return None


REDUCTION_KINDS = {
    "arith.addf": "add",
    "arith.mulf": "mul",
    "arith.maximumf": "maximumf",
    "arith.minimumf": "minimumf",
    "arith.maxnumf": "maxnumf",
    "arith.minnumf": "minnumf",
}
"""Float combines a reduction may use, by their `vector.reduction` kind: the
ones whose vector partials recombine into the same kind of result (sums in
another order, max and min exactly)."""


@dataclass(frozen=True)
class Reduction:
    """`store(combine(load(acc[u]), x), acc[u])` in a loop body: a reduction into `acc`."""

    load: memref.LoadOp
    combine: Operation
    store: memref.StoreOp

    @property
    def buffer(self) -> SSAValue:
        return self.load.memref


def _is_pure_scalar(op: Operation) -> bool:
    name = op.name
    return name.startswith("arith.") or name.startswith("math.")


def _value_name(value: SSAValue) -> str:
    return f"%{value.name_hint}" if value.name_hint else "a buffer"


def independence_problem(loop: ForOp) -> str | None:
    """Why the iterations of `loop` may not run at once; None when they may."""
    return LoopAccessAnalysis(loop).independence_problem()


def is_straight_line(loop: ForOp) -> bool:
    """Whether the body holds no nested loops (other than loops to be unrolled)."""
    for op in loop.body.walk():
        if isinstance(op, ForOp) and op.kind != "unroll":
            return False
    return True


def contiguous_store(loop: ForOp) -> bool:
    """Whether some store in the loop walks its buffer's last dimension with stride 1."""
    analysis = LoopAccessAnalysis(loop)
    return analysis.walks_contiguously(analysis.stores)


def body_ops(loop: ForOp) -> list[Operation]:
    """The ops of a loop body without its terminator."""
    return [op for op in loop.body.block.ops if not isinstance(op, YieldOp)]


__all__ = [
    "IV",
    "INVARIANT",
    "Linear",
    "LoopAccessAnalysis",
    "REDUCTION_KINDS",
    "Reduction",
    "StructuralKeys",
    "body_ops",
    "constant_int",
    "contiguous_store",
    "defined_inside",
    "independence_problem",
    "is_straight_line",
]
