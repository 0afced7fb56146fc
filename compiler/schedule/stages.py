"""Stages of a kernel and the index algebra that moves them into each other.

A compute definition emits one top-level nest per stage: `init` (the
reduction's starting value), `compute` (the update), `epilogue` (the fused
elementwise ops), each marked on its outermost loop (`stage "init"`). The
memory primitives (`cache_write`, `compute_at`) place an init or epilogue
stage inside a loop of the compute stage. To do that they need the affine
form of each buffer index over the loop induction variables, and the values
the stage's own induction variables take at a given element: the inverse of
the stage's (affine, mixed-radix) index map. Both live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.dialects import arith, func, memref
from xdsl.ir import Block, BlockArgument, Operation, OpResult, SSAValue

from compiler.dialects.loop import ForOp, YieldOp
from compiler.schedule.analysis import constant_int
from compiler.schedule.primitives import IndexEmitter, ScheduleError

INIT = "init"
COMPUTE = "compute"
EPILOGUE = "epilogue"
WRITEBACK_ATTR = "loop.writeback"
"""Unit attribute on the store of a `cache_write` tile back into its buffer."""
FILL_ATTR = "loop.tile_fill"
"""Unit attribute on the load that starts a tile from its buffer's partial results."""
PLACED_ATTR = "loop.placed"
"""Unit attribute on the outer loop of a nest that `cache_write` / `compute_at` made."""


@dataclass
class Affine:
    """`sum(coeff * iv) + const` over loop induction variables (or opaque values)."""

    terms: dict[SSAValue, int] = field(default_factory=dict)
    const: int = 0

    def add(self, other: Affine, sign: int = 1) -> Affine:
        terms = dict(self.terms)
        for v, c in other.terms.items():
            terms[v] = terms.get(v, 0) + sign * c
            if terms[v] == 0:
                del terms[v]
        return Affine(terms, self.const + sign * other.const)

    def scale(self, k: int) -> Affine:
        return Affine({v: c * k for v, c in self.terms.items() if c * k}, self.const * k)

    def split(self, inner: set[SSAValue]) -> tuple[Affine, Affine]:
        """(the part over values outside `inner`, with the constant; the part over `inner`)."""
        out = Affine({v: c for v, c in self.terms.items() if v not in inner}, self.const)
        ins = Affine({v: c for v, c in self.terms.items() if v in inner}, 0)
        return out, ins

    def substitute(self, mapping: dict[SSAValue, Affine]) -> Affine:
        result = Affine({}, self.const)
        for v, c in self.terms.items():
            result = result.add(mapping[v].scale(c) if v in mapping else Affine({v: c}))
        return result


def loop_of(value: SSAValue) -> ForOp | None:
    """The loop whose induction variable `value` is."""
    if isinstance(value, BlockArgument):
        parent = value.owner.parent_op() if isinstance(value.owner, Block) else None
        if isinstance(parent, ForOp):
            return parent
    return None


def affine_form(value: SSAValue) -> Affine | None:
    """The affine form of an index value over induction variables; None when not affine.

    Values defined outside every loop (function arguments are not indices) are
    opaque atoms with coefficient 1.
    """
    k = constant_int(value)
    if k is not None:
        return Affine({}, k)
    if loop_of(value) is not None:
        return Affine({value: 1})
    if not isinstance(value, OpResult):
        return None
    op = value.op
    if isinstance(op, arith.IndexCastOp):
        return affine_form(op.input)
    if isinstance(op, arith.AddiOp | arith.SubiOp):
        a, b = affine_form(op.lhs), affine_form(op.rhs)
        if a is None or b is None:
            return None
        return a.add(b, 1 if isinstance(op, arith.AddiOp) else -1)
    if isinstance(op, arith.MuliOp):
        for x, y in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            c = constant_int(y)
            if c is not None:
                form = affine_form(x)
                return None if form is None else form.scale(c)
    return None


def emit_affine(emitter: IndexEmitter, form: Affine) -> SSAValue:
    acc: SSAValue | int = form.const
    for v, c in form.terms.items():
        acc = emitter.add(acc, emitter.mul(v, c))
    return emitter.value(acc)


def access_forms(op: memref.LoadOp | memref.StoreOp) -> list[Affine] | None:
    forms = [affine_form(i) for i in op.indices]
    return None if any(f is None for f in forms) else forms  # type: ignore[return-value]


def same_forms(a: Sequence[Affine], b: Sequence[Affine]) -> bool:
    return len(a) == len(b) and all(x.terms == y.terms and x.const == y.const for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------------------
# Nests and stages


def top_level_nests(kernel: func.FuncOp) -> list[ForOp]:
    return [op for op in kernel.body.block.ops if isinstance(op, ForOp)]


def stage_nests(kernel: func.FuncOp, stage: str) -> list[ForOp]:
    return [op for op in top_level_nests(kernel) if op.stage_name == stage]


def nest_root(op: Operation) -> ForOp | None:
    """The top-level loop of the kernel that holds `op`."""
    root = None
    current: Operation | None = op
    while current is not None:
        if isinstance(current, ForOp):
            root = current
        parent = current.parent_op()
        if isinstance(parent, func.FuncOp):
            break
        current = parent
    return root


def perfect_chain(nest: ForOp) -> list[ForOp]:
    """The loops of a perfect nest, outermost first; ScheduleError if it is not one."""
    chain = [nest]
    while True:
        loops = chain[-1].child_loops()
        if not loops:
            return chain
        if len(loops) != 1:
            raise ScheduleError(
                f"stage '{nest.stage_name}' is no longer a perfect nest (loop "
                f"'{chain[-1].axis_name}' holds {len(loops)} loops); place it before scheduling it"
            )
        chain.append(loops[0])


def accesses(region_ops: Sequence[Operation], buf: SSAValue) -> list[memref.LoadOp | memref.StoreOp]:
    found: list[memref.LoadOp | memref.StoreOp] = []
    for top in region_ops:
        for op in top.walk():
            if isinstance(op, memref.LoadOp | memref.StoreOp) and op.memref is buf:
                found.append(op)
    return found


# ---------------------------------------------------------------------------
# Inverting a stage's index map


def _digit_values(
    access: Sequence[Affine], target: Sequence[Affine], ivs: dict[SSAValue, ForOp], emitter: IndexEmitter
) -> dict[SSAValue, SSAValue]:
    """The value of each stage induction variable when `access` equals `target`.

    `access[d]` is affine over the stage's induction variables `ivs`; each must
    appear in exactly one dimension. Within a dimension, the terms are digits
    of a mixed radix (coefficients c0 < c1 < ... with c(i+1) >= c(i) * extent(i)).
    Target terms are matched to digits symbolically when their coefficients
    allow it (no division is emitted), else the digit is a division and a
    remainder of the target value.
    """
    values: dict[SSAValue, SSAValue] = {}
    for form, goal in zip(access, target, strict=True):
        terms = sorted(form.terms.items(), key=lambda t: t[1])
        if not terms:
            continue
        for iv, _ in terms:
            if iv not in ivs:
                raise ScheduleError("a stage indexes its buffer with a value that is not its own loop")
        rest = goal.add(Affine({}, form.const), -1)
        digits = _match_digits(terms, rest, ivs)
        if digits is None:
            flat = emit_affine(emitter, rest)
            digits = {}
            for i, (iv, coeff) in enumerate(terms):
                q = emitter.div(flat, coeff) if coeff != 1 else flat
                last = i == len(terms) - 1
                digits[iv] = Affine({q: 1}) if last else Affine({emitter.rem(q, ivs[iv].trip_count): 1})
        for iv, digit in digits.items():
            loop = ivs[iv]
            if loop.lower != 0 or loop.stride != 1:
                digit = digit.scale(loop.stride).add(Affine({}, loop.lower))
            values[iv] = emit_affine(emitter, digit)
    return values


def _match_digits(
    terms: list[tuple[SSAValue, int]], rest: Affine, ivs: dict[SSAValue, ForOp]
) -> dict[SSAValue, Affine] | None:
    if rest.const != 0 and len(terms) > 1:
        return None
    if len(terms) == 1:
        iv, coeff = terms[0]
        if coeff == 1:
            return {iv: rest}
        if rest.const % coeff or any(c % coeff for c in rest.terms.values()):
            return None
        return {iv: Affine({v: c // coeff for v, c in rest.terms.items()}, rest.const // coeff)}
    digits: dict[SSAValue, Affine] = {iv: Affine() for iv, _ in terms}
    for v, c in rest.terms.items():
        placed = False
        for i in range(len(terms) - 1, -1, -1):
            iv, coeff = terms[i]
            if c >= coeff and c % coeff == 0:
                digits[iv] = digits[iv].add(Affine({v: c // coeff}))
                placed = True
                break
        if not placed:
            return None
    # No carries: the largest value of each digit stays below its radix.
    for iv, _ in terms[:-1]:
        top = sum(c * (_extent(v) - 1) for v, c in digits[iv].terms.items())
        if top >= ivs[iv].trip_count or any(c < 0 for c in digits[iv].terms.values()):
            return None
    return digits


def _extent(value: SSAValue) -> int:
    loop = loop_of(value)
    if loop is None or loop.lower != 0 or loop.stride != 1:
        return 1 << 40  # unknown: refuse the symbolic match
    return loop.trip_count


def inline_stage(
    nest: ForOp,
    buf: SSAValue,
    target: Sequence[Affine],
    before: Operation,
    *,
    loaded: SSAValue | None = None,
    store_to: tuple[SSAValue, Sequence[SSAValue]] | None = None,
) -> SSAValue | None:
    """Clone the body of a (perfect) stage nest before `before`, at the element
    of `buf` whose index is `target`.

    The stage's access to `buf` defines the element: its store (an init), or
    its load (an epilogue), whose value is then `loaded`. `store_to` redirects
    the stage's store of `buf` (a tile buffer and its index). Returns the
    value the stage stores.
    """
    chain = perfect_chain(nest)
    ivs = {loop.iv: loop for loop in chain}
    body: list[Operation] = []
    for loop in chain:
        body += [op for op in loop.body.block.ops if not isinstance(op, ForOp | YieldOp)]
    key = next(
        (op for op in body if isinstance(op, memref.LoadOp if loaded is not None else memref.StoreOp) and op.memref is buf),
        None,
    )
    if key is None:
        raise ScheduleError(f"stage '{nest.stage_name}' does not access the buffer it is placed for")
    forms = access_forms(key)
    if forms is None:
        raise ScheduleError(f"stage '{nest.stage_name}' indexes its buffer with non-affine values")
    emitter = IndexEmitter()
    mapping: dict[SSAValue, SSAValue] = dict(_digit_values(forms, target, ivs, emitter))
    block = before.parent_block()
    assert block is not None
    block.insert_ops_before(emitter.ops, before)
    stored: SSAValue | None = None
    for op in body:
        if loaded is not None and isinstance(op, memref.LoadOp) and op.memref is buf:
            mapping[op.res] = loaded
            continue
        if isinstance(op, memref.StoreOp) and (op.memref is buf or loaded is not None):
            stored = mapping.get(op.value, op.value)
            if store_to is not None and op.memref is buf:
                block.insert_op_before(memref.StoreOp.get(stored, store_to[0], list(store_to[1])), before)
                continue
        for operand in op.operands:
            _materialize(operand, mapping, block, before)
        _clone_before(op, mapping, block, before)
    return stored


def _clone_before(op: Operation, mapping: dict[SSAValue, SSAValue], block: Block, before: Operation) -> None:
    clone = op.clone(value_mapper=mapping)
    for old, new in zip(op.results, clone.results, strict=True):
        mapping[old] = new
    block.insert_op_before(clone, before)


def _materialize(value: SSAValue, mapping: dict[SSAValue, SSAValue], block: Block, before: Operation) -> None:
    """Clone, before `before`, the pure top-level ops (constants and index
    arithmetic of them) that the stage uses from outside its nest: they may be
    defined after the place the stage moves to."""
    if value in mapping or not isinstance(value, OpResult):
        return
    op = value.op
    if not isinstance(op.parent_op(), func.FuncOp) or op.regions or not op.name.startswith("arith."):
        return
    for operand in op.operands:
        _materialize(operand, mapping, block, before)
    _clone_before(op, mapping, block, before)
