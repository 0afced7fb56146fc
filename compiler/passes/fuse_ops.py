"""Operator fusion: groups the ops of `@main` into `graph.fused` kernels.

TVM's FuseOps rules, restricted to the group shapes that
docs/graph-contracts.md lets the lowering rely on. Ops are visited in block
order; an op X may join the group of a producer P (the group whose last op,
its root, is P) when P's value is consumed by X alone. Then:

- X injective (ELEMWISE, BROADCAST, INJECTIVE kinds): X merges with every
  operand's group that is injective-only, so chains and DAGs of injective ops
  become one group (contract shape 1).
- X a reduction: the injective-only group that computes X's first operand
  (its input) becomes X's prologue (shape 2). Other operands (layer-norm
  scale, ...) stay block arguments.
- X ELEMWISE or BROADCAST after an anchor (a reduction or a
  complex-out-fusable op): X joins the anchor's group as an epilogue op when X
  produces the anchor's result shape and reads the anchor-derived value
  through exactly one operand (bias add, ReLU, clip, batch norm, residual
  add, ...) and keeps its element type (anchors accumulate in the output
  buffer, so a cast or a compare does not join; an integer conv's
  requantization does: its kernel keeps the int32 sums in a buffer of their own). This is preferred over merging X with injective producers, as it
  saves the anchor's large intermediate. The other operands stay outside
  (block arguments), so when X has two anchored producers (a residual add of
  two conv branches) only the first operand's group takes it (shape 3).
- X complex-out-fusable (conv, matmul, pools) starts a new group: the
  contract gives the anchor its operands straight from block arguments, so
  there is no prologue.
- Opaque ops (LRN, existing `graph.fused`, non-graph ops) stay alone and
  nothing joins them.
- A `graph.concat` whose dims before the axis are all 1 stays alone too,
  although TVM calls it injective: `eliminate-concat` (which runs after this
  pass) can then make it free by letting its producers write into its
  slices, which beats inlining it into one group's loop nest. Other concats
  (batch > 1 along a later axis) can never be in place, so they fuse like
  any injective op.

Choices:
- A value with several consumers ends its group: it becomes the group's only
  result and every consumer reads it from memory (it is never recomputed in
  two groups). Together with the rule above each group is a tree whose only
  exit is its root, so groups are convex and have exactly one result. A
  value returned by `@main` has the return as a second consumer, so it ends
  its group as well.
- Constants: a `graph.constant` with at most `inline-constant-elements`
  elements (default 1: scalars such as a clip bound or an epsilon) is copied
  into each region that uses it, so the kernel can use it as an immediate.
  Larger constants (weights, biases, per-channel scales) stay outside and
  reach the region as block arguments, as they live in the params blob.
- A group of one op stays a plain op (no `graph.fused` around a lone op).

`kind` is the anchor's kind label: "complex-out-fusable", "reduction", or
"injective" for a group of injective ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerType, ModuleOp
from xdsl.ir import Block, Operation, OpResult, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.dialects import graph as g
from compiler.dialects.graph import FusionKind, fusion_kind
from compiler.passes.eliminate_concat import contiguous, main_function
from compiler.passes.narrow_integer_conv import INTEGER_SUMS

_EPILOGUE_KINDS = (FusionKind.ELEMWISE, FusionKind.BROADCAST)


@dataclass(eq=False)
class _Group:
    """Ops that become one kernel; `anchor` is None for an injective-only group."""

    ops: list[Operation]
    anchor: Operation | None = None
    # A closed group never grows (opaque ops, concat).
    closed: bool = False

    @property
    def root(self) -> Operation:
        return self.ops[-1]

    @property
    def injective_only(self) -> bool:
        return self.anchor is None and not self.closed

    @property
    def kind_label(self) -> str:
        if self.anchor is None:
            return FusionKind.INJECTIVE.label
        return fusion_kind(self.anchor).label


def _only_consumer(value: SSAValue, consumer: Operation) -> bool:
    """True if every use of `value` is by `consumer` (several operands of it allowed)."""
    return bool(value.uses) and all(use.operation is consumer for use in value.uses)


def _is_groupable(op: Operation) -> bool:
    return isinstance(op, g.GraphOp) and len(op.results) == 1


class _Planner:
    """Assigns the ops of one block to groups (the analysis half of the pass)."""

    def __init__(self) -> None:
        self.group_of: dict[Operation, _Group] = {}
        self.groups: list[_Group] = []

    def _new(self, op: Operation, *, anchor: Operation | None = None, closed: bool = False) -> _Group:
        group = _Group([op], anchor=anchor, closed=closed)
        self.group_of[op] = group
        self.groups.append(group)
        return group

    def _merge_into(self, target: _Group, others: list[_Group], op: Operation) -> None:
        """Absorbs `others` into `target` and appends `op` as the new root."""
        for other in others:
            if other is target:
                continue
            target.ops.extend(other.ops)
            for member in other.ops:
                self.group_of[member] = target
            self.groups.remove(other)
        target.ops.append(op)
        self.group_of[op] = target

    def _open_producer(self, value: SSAValue, consumer: Operation) -> _Group | None:
        """The group whose root produces `value`, if `consumer` may join it."""
        if not isinstance(value, OpResult):
            return None
        group = self.group_of.get(value.op)
        if group is None or group.closed or group.root is not value.op:
            return None
        if not _only_consumer(value, consumer):
            return None
        return group

    def visit(self, op: Operation) -> None:
        if not _is_groupable(op) or isinstance(op, g.ConstantOp):
            return
        kind = fusion_kind(op)
        if kind == FusionKind.OPAQUE or isinstance(op, g.ConcatOp) and contiguous(op):
            self._new(op, closed=True)
            return
        if kind == FusionKind.COMPLEX_OUT_FUSABLE:
            self._new(op, anchor=op)
            return
        if kind == FusionKind.REDUCTION:
            prologue = self._open_producer(op.operands[0], op)
            if prologue is not None and prologue.injective_only:
                prologue.anchor = op
                self._merge_into(prologue, [], op)
            else:
                self._new(op, anchor=op)
            return
        # Injective kinds: an epilogue of an anchored producer first, else merge
        # with every injective-only producer group.
        if kind in _EPILOGUE_KINDS:
            for value in op.operands:
                group = self._open_producer(value, op)
                if (
                    group is not None
                    and group.anchor is not None
                    and list(op.operands).count(value) == 1
                    and g.shape_of(op.results[0]) == g.shape_of(value)
                    # Anchors accumulate in their output buffer, so the
                    # epilogue keeps the element type (no cast, no compare),
                    # except after an integer conv (a requantization).
                    and (g.elem_of(op.results[0]) == g.elem_of(value) or _requantizes(group.anchor))
                ):
                    self._merge_into(group, [], op)
                    return
        producers: list[_Group] = []
        for value in op.operands:
            group = self._open_producer(value, op)
            if group is not None and group.injective_only and group not in producers:
                producers.append(group)
        if producers:
            self._merge_into(producers[0], producers[1:], op)
        else:
            self._new(op)


def _requantizes(anchor: Operation) -> bool:
    """An integer conv: its int32 sums are requantized (cast, scale, round,
    clip, cast) by the epilogue, which the kernel then runs from a buffer of
    its own (`epilogue_may_change_type`) instead of another pass over int32 data.
    So is a float conv that computes integer sums exactly (`INTEGER_SUMS`,
    narrow-integer-conv's float32 form of an odd-channel integer conv)."""
    return isinstance(anchor, g.ConvOp) and (
        g.elem_of(anchor.result) == IntegerType(32) or INTEGER_SUMS in anchor.attributes
    )


def _outline(group: _Group, position: dict[Operation, int], max_inline: int) -> None:
    """Replaces the group's ops by one `graph.fused` op at the root's position."""
    ops = sorted(group.ops, key=position.__getitem__)
    members = set(ops)
    root = ops[-1]
    result = root.results[0]

    def inlined(value: SSAValue) -> g.ConstantOp | None:
        owner = value.owner
        if isinstance(owner, g.ConstantOp) and math.prod(g.shape_of(value)) <= max_inline:
            return owner
        return None

    inputs: list[SSAValue] = []
    for op in ops:
        for value in op.operands:
            if value.owner in members or value in inputs or inlined(value) is not None:
                continue
            inputs.append(value)

    block = Block(arg_types=[v.type for v in inputs])
    mapping: dict[SSAValue, SSAValue] = {}
    for outer, arg in zip(inputs, block.args, strict=True):
        mapping[outer] = arg
        if outer.name_hint is not None:
            arg.name_hint = outer.name_hint
    copied_constants: list[g.ConstantOp] = []
    for op in ops:
        for value in op.operands:
            constant = inlined(value)
            if constant is not None and value not in mapping:
                block.add_op(copy := constant.clone())
                mapping[value] = copy.result
                copied_constants.append(constant)
        block.add_op(op.clone(value_mapper=mapping))
    block.add_op(g.YieldOp(mapping[result]))

    fused = g.FusedOp(inputs, [result.type], Region(block), group.kind_label)
    fused.results[0].name_hint = result.name_hint
    Rewriter.insert_op(fused, InsertPoint.before(root))
    result.replace_all_uses_with(fused.results[0])
    for op in reversed(ops):
        Rewriter.erase_op(op)
    for constant in copied_constants:
        if constant.parent is not None and not constant.result.uses:
            Rewriter.erase_op(constant)


@dataclass(frozen=True)
class FuseOpsPass(ModulePass):
    """Groups the ops of @main into `graph.fused` kernels by TVM's fusion rules."""

    name = "fuse-ops"

    inline_constant_elements: int = 1
    """Constants with at most this many elements are copied into the regions."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        fn = main_function(op)
        if fn is None:
            return
        block = fn.body.block
        planner = _Planner()
        position: dict[Operation, int] = {}
        for index, member in enumerate(block.ops):
            position[member] = index
            planner.visit(member)
        for group in planner.groups:
            if len(group.ops) > 1:
                _outline(group, position, self.inline_constant_elements)
