"""Horizontal fusion: sibling ops that read one tensor become one wider op.

TensorRT's horizontal layer fusion. Two kinds of siblings are merged:

- `graph.conv` ops with the same input (operand 0), constant weights and
  biases, `group = 1`, and the same kernel size, strides, pads and
  dilations: the parallel 1x1 convolutions of an Inception block. Weights
  (and biases; a missing bias counts as zeros) are concatenated along the
  output channels. Only batch-1 inputs are merged: then the channel slices
  of the wide result are views (docs/graph-contracts.md), while with a
  larger batch every slice would be a copy that costs what the merge saves.
- `graph.matmul` ops with the same left operand and constant right operands
  of one shape but the last dim (the Q/K/V projections of attention): the
  right operands are concatenated along their last dim. Their slices along
  the last dim are views only when all leading dims are 1, so no such
  condition is imposed: the consumers of Q/K/V projections (bias add,
  reshape, transpose) are injective and `fuse-ops` reads the slice inline.

The wide op is followed by one `graph.slice` per sibling (along the channel
axis for convolutions, the last axis for matmuls). Before slicing, an
epilogue that every sibling applies identically is applied once to the wide
result (repeatedly, so conv -> bias add -> relu chains move too): a unary
elementwise op with equal properties (ReLU, clip, ...), a batch norm with
constant parameters, or a binary elementwise op whose other operand is a
constant that is either the same for all siblings and broadcast along the
sliced axis, or per-channel (full extent along the sliced axis), in which
case the constants are concatenated. So conv + ReLU stays one `fuse-ops`
group and the slices stay views.

Run it before `fuse-ops` (it rewrites plain ops, not groups). New constants
replace the siblings' ones, which are erased once unused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint

from compiler.dialects import graph as g
from compiler.dialects.graph import FusionKind, fusion_kind


def _constant(value: SSAValue) -> g.ConstantOp | None:
    owner = value.owner
    return owner if isinstance(owner, g.ConstantOp) else None


def _in_block_order(ops: Sequence[Operation]) -> list[Operation]:
    def compare(a: Operation, b: Operation) -> int:
        return 0 if a is b else (-1 if a.is_before_in_block(b) else 1)

    return sorted(ops, key=functools.cmp_to_key(compare))


def _siblings(
    op: Operation, input_value: SSAValue, compatible: Callable[[Operation, Operation], bool]
) -> list[Operation] | None:
    """The ops reading `input_value` as operand 0 that merge with `op`, if `op` comes first."""
    found: list[Operation] = []
    for use in input_value.uses:
        user = use.operation
        if use.index == 0 and type(user) is type(op) and user not in found and compatible(op, user):
            found.append(user)
    if len(found) < 2:
        return None
    found = _in_block_order(found)
    # Rewrite once per sibling set, from the first sibling: every new op is
    # then inserted before all the ops it replaces.
    return found if found[0] is op else None


def _same_props(a: Operation, b: Operation) -> bool:
    return a.properties == b.properties and a.attributes == b.attributes


# ---------------------------------------------------------------------------
# Epilogues shared by all siblings


def _hoist_epilogue(
    values: list[SSAValue], wide: SSAValue, axis: int, rewriter: PatternRewriter
) -> tuple[list[SSAValue], SSAValue] | None:
    """Applies the epilogue that every value in `values` has to `wide` instead.

    Returns the epilogue results (to be replaced by slices) and the new wide
    value, or None when the siblings' consumers differ.
    """
    users: list[Operation] = []
    for value in values:
        user = value.get_user_of_unique_use()
        if user is None or len(user.results) != 1:
            return None
        if fusion_kind(user) not in (FusionKind.ELEMWISE, FusionKind.BROADCAST):
            return None
        users.append(user)
    first = users[0]
    if any(type(u) is not type(first) or not _same_props(u, first) for u in users):
        return None
    positions = [list(u.operands).index(v) for u, v in zip(users, values, strict=True)]
    if len(set(positions)) != 1 or any(
        list(u.operands).count(v) != 1 for u, v in zip(users, values, strict=True)
    ):
        return None
    pos = positions[0]
    if any(g.shape_of(u.results[0]) != g.shape_of(v) for u, v in zip(users, values, strict=True)):
        return None  # the epilogue must keep the shape so that slicing commutes with it

    wide_shape = g.shape_of(wide)
    operands: list[SSAValue] = []
    new_constants: list[g.ConstantOp] = []
    for index in range(len(first.operands)):
        if index == pos:
            operands.append(wide)
            continue
        merged = _merge_operand(values, first, index, axis, len(wide_shape))
        if merged is None:
            return None
        if (hint := first.operands[index].name_hint) is not None:
            merged.result.name_hint = hint + "_wide"
        new_constants.append(merged)
        operands.append(merged.result)

    result_type = TensorType(g.elem_of(first.results[0]), list(wide_shape))
    props: dict[str, Attribute] = dict(first.properties)
    op_type = type(first)
    assert issubclass(op_type, g.GraphOp)
    epilogue = op_type.make(operands, [result_type], **props)
    epilogue.attributes.update(first.attributes)
    if first.results[0].name_hint is not None:
        epilogue.results[0].name_hint = first.results[0].name_hint + "_wide"
    rewriter.insert_op([*new_constants, epilogue], InsertPoint.after(wide.owner))  # pyright: ignore[reportArgumentType]
    return [u.results[0] for u in users], epilogue.results[0]


def _merge_operand(
    values: list[SSAValue], user: Operation, index: int, axis: int, rank: int
) -> g.ConstantOp | None:
    """One constant standing for the siblings' `index`-th epilogue operands.

    `values` are the siblings' (pre-epilogue) results; `axis` is the sliced
    axis of the wide result, of rank `rank`.
    """
    operands = [v.get_user_of_unique_use().operands[index] for v in values]  # pyright: ignore[reportOptionalMemberAccess]
    constants = [c for v in operands if (c := _constant(v)) is not None]
    if len(constants) != len(operands):
        return None
    arrays = [c.to_numpy() for c in constants]
    elem = g.elem_of(operands[0])
    if isinstance(user, g.BatchNormOp):
        # Per-channel parameters of dim 1, whatever numpy broadcasting says.
        return g.ConstantOp.from_numpy(np.concatenate(arrays), elem) if axis == 1 else None
    shape = arrays[0].shape
    local = axis - (rank - len(shape))  # the sliced axis among the operand's dims
    if (local < 0 or shape[local] == 1) and all(
        a.shape == shape and np.array_equal(a, arrays[0]) for a in arrays
    ):
        return g.ConstantOp(constants[0].value)  # one value broadcast along the axis
    if local < 0:
        return None
    for array, value in zip(arrays, values, strict=True):
        if len(array.shape) != len(shape) or any(
            array.shape[d] != shape[d] for d in range(len(shape)) if d != local
        ):
            return None
        if array.shape[local] != g.shape_of(value)[axis]:
            return None  # broadcast along the axis with differing values: not a concat
    return g.ConstantOp.from_numpy(np.concatenate(arrays, axis=local), elem)


# ---------------------------------------------------------------------------
# The merge itself


def _merge(
    siblings: list[Operation],
    wide_ops: list[Operation],
    axis: int,
    rewriter: PatternRewriter,
) -> None:
    """Inserts `wide_ops` (last one: the wide op) before the first sibling,
    hoists shared epilogues, slices the result and erases the siblings."""
    first = siblings[0]
    rewriter.insert_op(wide_ops, InsertPoint.before(first))
    wide = wide_ops[-1].results[0]
    _name_like(wide_ops, first)
    values = [s.results[0] for s in siblings]
    to_erase: list[Operation] = list(siblings)
    while (hoisted := _hoist_epilogue(values, wide, axis, rewriter)) is not None:
        values, wide = hoisted
        to_erase.extend(v.owner for v in values)  # pyright: ignore[reportArgumentType]

    offset = 0
    last: Operation = wide.owner  # pyright: ignore[reportAssignmentType]
    for value in values:
        shape = g.shape_of(value)
        offsets = [0] * len(shape)
        offsets[axis] = offset
        piece = g.SliceOp.make(
            [wide], [value.type], offsets=offsets, strides=[1] * len(shape)
        )
        rewriter.insert_op(piece, InsertPoint.after(last))
        last = piece
        if value.name_hint is not None:
            piece.result.name_hint = value.name_hint
        value.replace_all_uses_with(piece.result)
        offset += shape[axis]

    old_constants = {
        c for op in to_erase for v in op.operands if (c := _constant(v)) is not None
    }
    for op in reversed(to_erase):
        rewriter.erase_op(op)
    for constant in old_constants:
        if not constant.result.uses:
            rewriter.erase_op(constant)


def _name_like(new_ops: list[Operation], first: Operation) -> None:
    """Names the new values after the first sibling's, for readable IR."""
    for new in new_ops:
        if isinstance(new, g.ConstantOp):
            uses = [u for u in new.result.uses]
            index = uses[0].index if uses else 1
            source = first.operands[index] if index < len(first.operands) else None
        else:
            source = first.results[0]
        if source is not None and source.name_hint is not None:
            new.results[0].name_hint = source.name_hint + "_wide"


class MergeSiblingConvs(RewritePattern):
    """Parallel convolutions of one batch-1 input -> one conv + channel slices."""

    @staticmethod
    def mergeable(a: Operation, b: Operation) -> bool:
        assert isinstance(a, g.ConvOp) and isinstance(b, g.ConvOp)
        for conv in (a, b):
            if conv.int_prop("group") != 1 or _constant(conv.weight) is None:
                return False
            if conv.bias is not None and _constant(conv.bias) is None:
                return False
        # Equal properties: strides, pads, dilations, group and any layout.
        return (
            _same_props(a, b)
            and g.shape_of(a.weight)[1:] == g.shape_of(b.weight)[1:]
            and g.elem_of(a.weight) == g.elem_of(b.weight)
        )

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if g.shape_of(op.input)[0] != 1 or not self.mergeable(op, op):
            return
        siblings = _siblings(op, op.input, self.mergeable)
        if siblings is None:
            return
        convs = [s for s in siblings if isinstance(s, g.ConvOp)]
        elem = g.elem_of(op.weight)
        weights = [c.to_numpy() for s in convs if (c := _constant(s.weight)) is not None]
        weight = g.ConstantOp.from_numpy(np.concatenate(weights, axis=0), elem)
        new_ops: list[Operation] = [weight]
        operands = [op.input, weight.result]
        if any(s.bias is not None for s in convs):
            biases = [
                c.to_numpy() if s.bias is not None and (c := _constant(s.bias)) is not None
                else np.zeros(g.shape_of(s.weight)[0], dtype=w.dtype)
                for s, w in zip(convs, weights, strict=True)
            ]
            bias = g.ConstantOp.from_numpy(np.concatenate(biases), elem)
            new_ops.append(bias)
            operands.append(bias.result)
        wide = g.ConvOp.make(operands, **dict(op.properties))
        wide.attributes.update(op.attributes)
        new_ops.append(wide)
        _merge(siblings, new_ops, 1, rewriter)


class MergeSiblingMatmuls(RewritePattern):
    """Matmuls of one left operand by constants -> one matmul + last-dim slices."""

    @staticmethod
    def mergeable(a: Operation, b: Operation) -> bool:
        assert isinstance(a, g.MatMulOp) and isinstance(b, g.MatMulOp)
        if _constant(a.rhs) is None or _constant(b.rhs) is None:
            return False
        sa, sb = g.shape_of(a.rhs), g.shape_of(b.rhs)
        return sa[:-1] == sb[:-1] and g.elem_of(a.rhs) == g.elem_of(b.rhs)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.MatMulOp, rewriter: PatternRewriter) -> None:
        if not self.mergeable(op, op):
            return
        siblings = _siblings(op, op.lhs, self.mergeable)
        if siblings is None:
            return
        rhs = [c.to_numpy() for s in siblings if (c := _constant(s.operands[1])) is not None]
        weight = g.ConstantOp.from_numpy(np.concatenate(rhs, axis=-1), g.elem_of(op.rhs))
        wide = g.MatMulOp.make([op.lhs, weight.result])
        _merge(siblings, [weight, wide], len(g.shape_of(wide.result)) - 1, rewriter)


@dataclass(frozen=True)
class FuseHorizontalPass(ModulePass):
    """Merges sibling convolutions / matmuls that read one tensor into one wider op."""

    name = "fuse-horizontal"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([MergeSiblingConvs(), MergeSiblingMatmuls()]),
            apply_recursively=False,
        ).rewrite_module(op)
