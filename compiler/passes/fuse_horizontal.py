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

Option `require-same-epilogue` (default true): siblings are merged only if,
after that shared chain, none of them has an epilogue of its own left (an
elementwise op that `fuse-ops` would fuse into the sibling's group). Merging
them would cost that fusion: e.g. ResNet's first block, where one 1x1 conv
feeds a ReLU and its sibling feeds the residual add. With false, such
siblings are merged anyway and their own epilogues read the slices.

Run it before `fuse-ops` (it rewrites plain ops, not groups). New constants
replace the siblings' ones, which are erased once unused. It also works on
the blocked convolutions of `convert-layout` (equal layout properties are
part of "same geometry"): packed weights [O/o, I/i, KH, KW, i, o] are
concatenated along O/o and the slices take whole channel blocks of the
[N, C/c, H, W, c] result, which are views too. Running it after
`convert-layout` is the better order: `convert-layout` does not carry the
blocked layout through `graph.slice`, so slices made before it get layout
transforms on both sides.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
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


@dataclass
class _Level:
    """One epilogue op that every sibling applies, to be applied once to the wide value."""

    users: list[Operation]  # each sibling's epilogue op
    position: int  # the operand that reads the sibling's value
    constants: dict[int, g.ConstantOp]  # the merged other operands, by index


def _fusable_epilogue(value: SSAValue) -> Operation | None:
    """The op that `fuse-ops` would append to `value`'s group as an epilogue."""
    user = value.get_user_of_unique_use()
    if (
        user is None
        or len(user.results) != 1
        or fusion_kind(user) not in (FusionKind.ELEMWISE, FusionKind.BROADCAST)
        or g.shape_of(user.results[0]) != g.shape_of(value)
    ):
        return None
    return user


def _shared_epilogue(values: list[SSAValue], axis: int) -> _Level | None:
    """The epilogue op that every value in `values` has, if they agree."""
    users = [_fusable_epilogue(v) for v in values]
    first = users[0]
    if first is None or any(
        u is None or type(u) is not type(first) or not _same_props(u, first) for u in users
    ):
        return None
    ops = [u for u in users if u is not None]
    positions = {list(u.operands).index(v) for u, v in zip(ops, values, strict=True)}
    if len(positions) != 1 or any(
        list(u.operands).count(v) != 1 for u, v in zip(ops, values, strict=True)
    ):
        return None
    position = positions.pop()
    rank = len(g.shape_of(values[0]))
    constants: dict[int, g.ConstantOp] = {}
    for index in range(len(first.operands)):
        if index != position:
            merged = _merge_operand(ops, values, index, axis, rank)
            if merged is None:
                return None
            if (hint := first.operands[index].name_hint) is not None:
                merged.result.name_hint = hint + "_wide"
            constants[index] = merged
    return _Level(ops, position, constants)


def _merge_operand(
    users: list[Operation], values: list[SSAValue], index: int, axis: int, rank: int
) -> g.ConstantOp | None:
    """One constant standing for the `index`-th operands of the siblings' epilogue ops.

    `values` are the siblings' values that the epilogue ops read; `axis` is
    the sliced axis, `rank` their rank.
    """
    operands = [u.operands[index] for u in users]
    constants = [c for v in operands if (c := _constant(v)) is not None]
    if len(constants) != len(operands):
        return None
    arrays = [c.to_numpy() for c in constants]
    elem = g.elem_of(operands[0])
    if isinstance(users[0], g.BatchNormOp):
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


def _plan_epilogues(siblings: list[Operation], axis: int) -> tuple[list[_Level], list[SSAValue]]:
    """The chain of shared epilogue ops, and the values the slices will replace."""
    values = [s.results[0] for s in siblings]
    levels: list[_Level] = []
    while (level := _shared_epilogue(values, axis)) is not None:
        levels.append(level)
        values = [u.results[0] for u in level.users]
    return levels, values


# ---------------------------------------------------------------------------
# The merge itself


def _merge(
    siblings: list[Operation],
    wide_ops: list[Operation],
    levels: list[_Level],
    values: list[SSAValue],
    axis: int,
    rewriter: PatternRewriter,
) -> None:
    """Inserts `wide_ops` (last one: the wide op) before the first sibling,
    applies the shared epilogues to it, slices the result into `values`'
    replacements and erases the siblings and their epilogues."""
    first = siblings[0]
    _name_like(wide_ops, first)
    new_ops = list(wide_ops)
    wide = wide_ops[-1].results[0]
    for level in levels:
        template = level.users[0]
        operands = [
            wide if i == level.position else level.constants[i].result
            for i in range(len(template.operands))
        ]
        op_type = type(template)
        assert issubclass(op_type, g.GraphOp)
        result_type = TensorType(g.elem_of(template.results[0]), list(g.shape_of(wide)))
        epilogue = op_type.make(operands, [result_type], **dict(template.properties))
        epilogue.attributes.update(template.attributes)
        if (hint := template.results[0].name_hint) is not None:
            epilogue.results[0].name_hint = hint + "_wide"
        new_ops.extend([*level.constants.values(), epilogue])
        wide = epilogue.results[0]

    offset = 0
    for value in values:
        shape = g.shape_of(value)
        offsets = [0] * len(shape)
        offsets[axis] = offset
        piece = g.SliceOp.make([wide], [value.type], offsets=offsets, strides=[1] * len(shape))
        if value.name_hint is not None:
            piece.result.name_hint = value.name_hint
        new_ops.append(piece)
        offset += shape[axis]
    rewriter.insert(new_ops, InsertPoint.before(first))
    for value, piece in zip(values, new_ops[-len(values) :], strict=True):
        value.replace_all_uses_with(piece.results[0])

    to_erase = [*siblings, *(u for level in levels for u in level.users)]
    old_constants = {c for op in to_erase for v in op.operands if (c := _constant(v)) is not None}
    for op in reversed(to_erase):
        rewriter.erase(op)
    for constant in old_constants:
        if not constant.result.uses:
            rewriter.erase(constant)


def _name_like(new_ops: list[Operation], first: Operation) -> None:
    """Names the wide op and its constants after the first sibling's values."""
    wide = new_ops[-1]
    for new in new_ops:
        source: SSAValue | None = first.results[0]
        if isinstance(new, g.ConstantOp):
            index = next(i for i, v in enumerate(wide.operands) if v is new.result)
            source = first.operands[index] if index < len(first.operands) else None
        if source is not None and source.name_hint is not None:
            new.results[0].name_hint = source.name_hint + "_wide"


@dataclass
class _SiblingMerge(RewritePattern):
    """Shared driver: find siblings, plan epilogues, build the wide op, merge."""

    require_same_epilogue: bool = True

    def worth_it(self, values: list[SSAValue]) -> bool:
        # After the shared epilogue chain, a sibling that still has an
        # epilogue of its own would lose it (fuse-ops cannot put it in the
        # wide op's group): leave such siblings apart unless asked not to.
        return not self.require_same_epilogue or all(_fusable_epilogue(v) is None for v in values)


def _out_channels(weight_shape: tuple[int, ...]) -> int:
    """O of an OIHW weight, or of a packed OIHW{i}i{o}o one ([O/o, I/i, KH, KW, i, o])."""
    return weight_shape[0] * weight_shape[5] if len(weight_shape) == 6 else weight_shape[0]


class MergeSiblingConvs(_SiblingMerge):
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
        # Quantized convs have i32 biases beside i8 weights: biases must agree among themselves.
        same_bias = a.bias is None or b.bias is None or g.elem_of(a.bias) == g.elem_of(b.bias)
        return (
            _same_props(a, b)
            and g.shape_of(a.weight)[1:] == g.shape_of(b.weight)[1:]
            and g.elem_of(a.weight) == g.elem_of(b.weight)
            and same_bias
        )

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if g.shape_of(op.input)[0] != 1 or not self.mergeable(op, op):
            return
        siblings = _siblings(op, op.input, self.mergeable)
        if siblings is None:
            return
        levels, values = _plan_epilogues(siblings, 1)
        if not self.worth_it(values):
            return
        convs = [s for s in siblings if isinstance(s, g.ConvOp)]
        elem = g.elem_of(op.weight)
        weights = [c.to_numpy() for s in convs if (c := _constant(s.weight)) is not None]
        weight = g.ConstantOp.from_numpy(np.concatenate(weights, axis=0), elem)
        new_ops: list[Operation] = [weight]
        operands = [op.input, weight.result]
        given = {id(s): c.to_numpy() for s in convs if s.bias is not None and (c := _constant(s.bias)) is not None}
        if given:
            kind = next(iter(given.values())).dtype
            biases = [
                given.get(id(s), np.zeros(_out_channels(g.shape_of(s.weight)), dtype=kind)) for s in convs
            ]
            bias_elem = next(g.elem_of(s.bias) for s in convs if s.bias is not None)
            bias = g.ConstantOp.from_numpy(np.concatenate(biases), bias_elem)
            new_ops.append(bias)
            operands.append(bias.result)
        wide = g.ConvOp.make(operands, **dict(op.properties))
        wide.attributes.update(op.attributes)
        new_ops.append(wide)
        _merge(siblings, new_ops, levels, values, 1, rewriter)


class MergeSiblingMatmuls(_SiblingMerge):
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
        axis = len(g.shape_of(op.result)) - 1
        levels, values = _plan_epilogues(siblings, axis)
        if not self.worth_it(values):
            return
        rhs = [c.to_numpy() for s in siblings if (c := _constant(s.operands[1])) is not None]
        weight = g.ConstantOp.from_numpy(np.concatenate(rhs, axis=-1), g.elem_of(op.rhs))
        wide = g.MatMulOp.make([op.lhs, weight.result])
        _merge(siblings, [weight, wide], levels, values, axis, rewriter)


@dataclass(frozen=True)
class FuseHorizontalPass(ModulePass):
    """Merges sibling convolutions / matmuls that read one tensor into one wider op."""

    name = "fuse-horizontal"

    require_same_epilogue: bool = True
    """Merge only siblings whose fusable epilogues can all move to the wide op."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        same = self.require_same_epilogue
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [MergeSiblingConvs(same), MergeSiblingMatmuls(same)]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
