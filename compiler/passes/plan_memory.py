"""`plan-memory`: static, liveness-based placement of every intermediate of
`@main` in one arena (docs/graph-contracts.md, "Memory plan").

1. Aliases. A view (`memory.is_view`) lives inside its source's buffer at its
   byte offset; each operand of an in-place concat (`graph.in_place`, set by
   `eliminate-concat`) lives inside the concat's buffer at its prefix. Values
   tied this way form one buffer whose lifetime is the union of theirs: a
   concat's buffer is born with its first operand, a view keeps its source
   alive.
2. In place. An op whose group is purely elementwise (ELEMWISE ops, and
   BROADCAST ops whose aliased operand has the result's shape) writes its
   result into an operand's buffer when that whole buffer dies at this op and
   has the result's size. The op reads element i and then writes element i,
   so nothing is clobbered before it is read.
3. Placement. Buffers are the intervals [first def, last use] (op indices of
   the block; an input dying at an op and that op's output overlap, since
   both are live while it runs). Offsets come from TFLite's "greedy by size"
   planner: largest buffer first, each put in the smallest gap between the
   already placed buffers whose lifetimes overlap its own (best fit), else on
   top of them. A first-fit pass in definition order (TVM's / TFLite's
   simple arena) is also tried, and the smaller arena wins. Every size is
   rounded up to 64 bytes, so every offset is 64-byte aligned.

Results: `graph.offsets` on every op producing arena values or model
outputs (-1 for a model output: it lives in the caller's buffer), and
`graph.arena_bytes` / `graph.naive_bytes` on the function (naive: the sum
of the 64-byte-rounded sizes of all arena values that are not views, i.e.
one buffer per op result, no reuse).

An in-place concat whose conditions (the contract's list) do not hold is
demoted: its `graph.in_place` attribute is removed, so it is planned and
lowered as an ordinary copying concat instead of an inconsistent plan.

`verify_plan(func)` re-derives liveness and aliasing from the IR and checks
that no two simultaneously live buffers overlap; tests call it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.passes import ModulePass

from compiler.dialects import graph as g
from compiler.passes import memory
from compiler.passes.memory import (
    ARENA_ATTR,
    IN_PLACE_ATTR,
    NAIVE_ATTR,
    OFFSETS_ATTR,
    align,
    concat_prefixes,
    is_elementwise_group,
    is_in_place_concat,
    is_view,
    live_ranges,
    lives_in_arena,
    nbytes,
    top_level_ops,
    view_offset,
)


class PlanError(ValueError):
    """A memory plan that breaks the contract (raised by `verify_plan`)."""


@dataclass
class Buffer:
    """One arena allocation: a root value and everything aliased into it."""

    root: SSAValue
    size: int
    start: int
    end: int
    offset: int = -1


@dataclass
class MemoryPlan:
    """Where every arena value of a function lives."""

    #: value -> (value it lives inside, byte offset there); roots are absent
    parent: dict[SSAValue, tuple[SSAValue, int]] = field(default_factory=dict[SSAValue, tuple[SSAValue, int]])
    #: root value -> its buffer
    buffers: dict[SSAValue, Buffer] = field(default_factory=dict[SSAValue, Buffer])
    arena_bytes: int = 0
    naive_bytes: int = 0

    def root(self, value: SSAValue) -> tuple[SSAValue, int]:
        offset = 0
        while value in self.parent:
            value, rel = self.parent[value]
            offset += rel
        return value, offset

    def offset(self, value: SSAValue) -> int:
        root, rel = self.root(value)
        return self.buffers[root].offset + rel


# ---------------------------------------------------------------------------
# In-place concats


def _concat_in_place_ok(op: g.ConcatOp, returned: set[SSAValue]) -> bool:
    """The contract's conditions for `graph.in_place` on a concat."""
    block = op.parent_block()
    if op.result in returned or block is None:
        return False
    if any(d != 1 for d in g.shape_of(op.result)[: op.int_prop("axis")]):
        return False
    if len(set(op.operands)) != len(op.operands):
        return False
    for operand in op.operands:
        if not isinstance(operand, OpResult):
            return False
        owner = operand.op
        if owner.parent_block() is not block or isinstance(owner, g.ConstantOp):
            return False
        if len(owner.results) != 1 or operand in returned or is_view(owner):
            return False
        if operand.uses.get_length() != 1:
            return False
    return True


def demote_bad_in_place_concats(fn: func.FuncOp) -> list[g.ConcatOp]:
    """Removes `graph.in_place` from concats that break the contract; returns them."""
    returned = set(fn.body.block.last_op.operands) if fn.body.block.last_op else set()
    demoted: list[g.ConcatOp] = []
    for op in top_level_ops(fn):
        if is_in_place_concat(op):
            assert isinstance(op, g.ConcatOp)
            if not _concat_in_place_ok(op, returned):
                del op.attributes[IN_PLACE_ATTR]
                demoted.append(op)
    return demoted


# ---------------------------------------------------------------------------
# Planning


def _may_write_in_place(
    plan: MemoryPlan, op: Operation, t: int, operand: SSAValue, result: SSAValue
) -> bool:
    if not lives_in_arena(operand):
        return False
    root, rel = plan.root(operand)
    buf = plan.buffers[root]
    if rel or nbytes(root) != nbytes(operand) or nbytes(operand) != nbytes(result):
        return False  # only a whole buffer of the result's size
    if g.shape_of(operand) != g.shape_of(result) or buf.end != t:
        return False  # not index-for-index, or still read after this op
    # Another operand reading the same buffer elsewhere could be overwritten
    # before it is read.
    return all(
        other == operand or not lives_in_arena(other) or plan.root(other)[0] != root
        for other in op.operands
    )


def _place_best_fit(buffers: Sequence[Buffer], order: Sequence[Buffer]) -> int:
    """Places `order` one by one in the best-fitting gap; returns the arena size."""
    placed: list[Buffer] = []
    top = 0
    for buf in order:
        live = sorted(
            (p for p in placed if p.start <= buf.end and buf.start <= p.end), key=lambda p: p.offset
        )
        best: tuple[int, int] | None = None
        edge = 0
        for p in live:
            gap = p.offset - edge
            if gap >= buf.size and (best is None or gap < best[0]):
                best = (gap, edge)
            edge = max(edge, p.offset + p.size)
        buf.offset = best[1] if best is not None else edge
        top = max(top, buf.offset + buf.size)
        placed.append(buf)
    return top


def _assign_offsets(buffers: list[Buffer]) -> int:
    by_size = sorted(buffers, key=lambda b: (-b.size, b.start))
    by_time = sorted(buffers, key=lambda b: (b.start, -b.size))
    best_size, best_offsets = math.inf, [0] * len(buffers)
    for order in (by_size, by_time):
        size = _place_best_fit(buffers, order)
        if size < best_size:
            best_size, best_offsets = size, [b.offset for b in buffers]
    for buf, offset in zip(buffers, best_offsets, strict=True):
        buf.offset = offset
    return int(best_size) if buffers else 0


def plan_function(fn: func.FuncOp, in_place: bool = True) -> MemoryPlan:
    """Computes (without writing attributes) the memory plan of a model function."""
    demote_bad_in_place_concats(fn)
    ops = top_level_ops(fn)
    ranges = live_ranges(fn)
    plan = MemoryPlan()

    # 1. Aliases: views and in-place concat operands.
    arena: list[SSAValue] = []
    for op in ops:
        arena.extend(r for r in op.results if lives_in_arena(r))
        if is_view(op):
            plan.parent[op.results[0]] = (op.operands[0], view_offset(op))
        elif is_in_place_concat(op):
            assert isinstance(op, g.ConcatOp)
            for operand, prefix in zip(op.operands, concat_prefixes(op), strict=True):
                plan.parent[operand] = (op.result, prefix)
    for value in arena:
        root, _ = plan.root(value)
        start, end = ranges[value]
        buf = plan.buffers.get(root)
        if buf is None:
            plan.buffers[root] = Buffer(root, align(nbytes(root)), start, end)
        else:
            buf.start, buf.end = min(buf.start, start), max(buf.end, end)

    # 2. In place: the result takes over a dying operand's buffer.
    for t, op in enumerate(ops):
        if not in_place or len(op.results) != 1 or not is_elementwise_group(op):
            continue
        result = op.results[0]
        if result not in plan.buffers or plan.buffers[result].start != t:
            continue  # a model output, a view, or a slice of an in-place concat
        for operand in dict.fromkeys(op.operands):
            if _may_write_in_place(plan, op, t, operand, result):
                mine = plan.buffers.pop(result)
                host = plan.buffers[plan.root(operand)[0]]
                host.end = max(host.end, mine.end)
                plan.parent[result] = (operand, 0)
                break

    # 3. Placement.
    plan.arena_bytes = _assign_offsets(list(plan.buffers.values()))
    plan.naive_bytes = sum(align(nbytes(v)) for v in arena if not is_view(v.owner))  # pyright: ignore
    return plan


def apply_plan(fn: func.FuncOp, plan: MemoryPlan) -> None:
    for op in top_level_ops(fn):
        if isinstance(op, g.ConstantOp) or not op.results:
            continue
        offsets = [plan.offset(r) if lives_in_arena(r) else -1 for r in op.results]
        op.attributes[OFFSETS_ATTR] = DenseArrayBase.from_list(i64, offsets)
    fn.attributes[ARENA_ATTR] = IntegerAttr(plan.arena_bytes, i64)
    fn.attributes[NAIVE_ATTR] = IntegerAttr(plan.naive_bytes, i64)


@dataclass(frozen=True)
class PlanMemoryPass(ModulePass):
    """Plans the arena of every function of the module (the model is `@main`)."""

    name = "plan-memory"

    #: write elementwise results into their dying operand's buffer
    in_place: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.ops:
            if isinstance(fn, func.FuncOp) and fn.body.blocks:
                apply_plan(fn, plan_function(fn, self.in_place))


# ---------------------------------------------------------------------------
# Verification


def _fail(op: Operation, message: str) -> PlanError:
    hint = op.results[0].name_hint if op.results and op.results[0].name_hint else op.name
    return PlanError(f"{hint}: {message}")


def verify_plan(fn: func.FuncOp) -> None:
    """Checks a function's recorded plan; raises PlanError on the first violation.

    From the IR alone it re-derives which values must share bytes (views,
    in-place concat operands) and checks their offsets, then checks that
    two groups of values that are live at the same time never overlap in the
    arena, except for an elementwise op writing in place over an operand
    that dies at that op.
    """
    ops = top_level_ops(fn)
    ranges = live_ranges(fn)
    arena_bytes = memory.int_attr_of(fn, ARENA_ATTR)
    naive_bytes = memory.int_attr_of(fn, NAIVE_ATTR)
    if arena_bytes is None or naive_bytes is None:
        raise PlanError(f"@{fn.sym_name.data} has no {ARENA_ATTR} / {NAIVE_ATTR}")
    if arena_bytes > naive_bytes:
        raise PlanError(f"arena ({arena_bytes} B) is larger than the naive sum ({naive_bytes} B)")

    offset: dict[SSAValue, int] = {}
    for op in ops:
        if isinstance(op, g.ConstantOp):
            if memory.offsets_of(op) is not None:
                raise _fail(op, "a constant has an arena offset")
            continue
        offs = memory.offsets_of(op)
        if offs is None or len(offs) != len(op.results):
            raise _fail(op, f"needs {OFFSETS_ATTR} with one entry per result")
        for res, off in zip(op.results, offs, strict=True):
            if not lives_in_arena(res):
                if off != -1:
                    raise _fail(op, f"a model output must have offset -1, has {off}")
                continue
            if off < 0 or off % memory.ALIGNMENT or off + nbytes(res) > arena_bytes:
                raise _fail(op, f"offset {off} is unaligned or outside the {arena_bytes}-byte arena")
            offset[res] = off

    # Values that must share bytes, grouped (union-find over view/concat ties).
    group: dict[SSAValue, SSAValue] = {v: v for v in offset}

    def find(v: SSAValue) -> SSAValue:
        while group[v] != v:
            group[v] = group[group[v]]
            v = group[v]
        return v

    for op in ops:
        if is_view(op):
            src, res = op.operands[0], op.results[0]
            if offset[res] != offset[src] + view_offset(op):
                raise _fail(op, "a view must sit at its source's offset plus its byte offset")
            group[find(res)] = find(src)
        elif is_in_place_concat(op):
            assert isinstance(op, g.ConcatOp)
            for operand, prefix in zip(op.operands, concat_prefixes(op), strict=True):
                if offset.get(operand) != offset[op.result] + prefix:
                    raise _fail(op, "an in-place concat operand must sit at its slice of the result")
                group[find(operand)] = find(op.result)

    @dataclass
    class Span:
        lo: int
        hi: int
        start: int
        end: int

    spans: dict[SSAValue, Span] = {}
    for v, off in offset.items():
        root = find(v)
        start, end = ranges[v]
        span = spans.get(root)
        if span is None:
            spans[root] = Span(off, off + nbytes(v), start, end)
        else:
            span.lo, span.hi = min(span.lo, off), max(span.hi, off + nbytes(v))
            span.start, span.end = min(span.start, start), max(span.end, end)

    def hands_over(a: SSAValue, b: SSAValue) -> bool:
        """Whether group b is written in place over group a by an elementwise op."""
        sa, sb = spans[a], spans[b]
        if sa.end != sb.start or (sa.lo, sa.hi) != (sb.lo, sb.hi):
            return False
        op = ops[sb.start]
        if not is_elementwise_group(op) or len(op.results) != 1 or find(op.results[0]) != b:
            return False
        result = op.results[0]
        return any(
            v in offset and find(v) == a and offset[v] == offset[result] and g.shape_of(v) == g.shape_of(result)
            for v in op.operands
        )

    roots = sorted(spans, key=lambda r: spans[r].start)
    for i, a in enumerate(roots):
        sa = spans[a]
        for b in roots[i + 1 :]:
            sb = spans[b]
            if sb.start > sa.end:
                break
            if sa.lo < sb.hi and sb.lo < sa.hi and not (hands_over(a, b) or hands_over(b, a)):
                owner_a, owner_b = a.owner, b.owner
                assert isinstance(owner_a, Operation) and isinstance(owner_b, Operation)
                raise PlanError(
                    f"{a.name_hint or owner_a.name} [{sa.lo}, {sa.hi}) live over ops "
                    f"{sa.start}..{sa.end} overlaps {b.name_hint or owner_b.name} "
                    f"[{sb.lo}, {sb.hi}) live over ops {sb.start}..{sb.end}"
                )
