"""Buffer facts shared by `plan-memory` and the lowering.

What is a view, what byte range it covers, how big a buffer is, and the
liveness of the values of a model function. `plan-memory` decides offsets
with these; `convert-graph-to-loop` must agree with it on which ops emit no
kernel, which is why `is_view` lives here and nowhere else.
"""

from __future__ import annotations

import math

from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType, UnitAttr
from xdsl.ir import Block, Operation, OpResult, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g

#: Every buffer starts on a cache line (and an AVX-512 vector).
ALIGNMENT = 64

#: Attribute names of the memory-plan contract (docs/graph-contracts.md).
OFFSETS_ATTR = "graph.offsets"
ARENA_ATTR = "graph.arena_bytes"
NAIVE_ATTR = "graph.naive_bytes"
IN_PLACE_ATTR = "graph.in_place"


def align(n: int, alignment: int = ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def nbytes(value: SSAValue) -> int:
    """Bytes of a tensor value (i1 takes a byte)."""
    t = value.type
    assert isinstance(t, TensorType)
    width = dtypes.to_numpy_dtype(t.get_element_type()).itemsize
    return math.prod(t.get_shape()) * width


# ---------------------------------------------------------------------------
# Views


def _contiguous_slice_offset(op: g.SliceOp) -> int | None:
    """Byte offset of the slice's range in its operand, if it is one contiguous range.

    It is when every dim before the first sliced dim is 1, all strides are 1,
    and every dim after the first sliced dim is whole: then the selected
    elements are consecutive in row-major order.
    """
    src, dst = g.shape_of(op.input), g.shape_of(op.result)
    offsets, strides = op.ints("offsets"), op.ints("strides")
    if any(s != 1 for s in strides) or math.prod(dst) == 0:
        return None
    sliced = [d for d in range(len(src)) if dst[d] != src[d]]
    if not sliced:
        return 0
    first = sliced[0]
    if any(src[d] != 1 for d in range(first)):
        return None
    if any(dst[d] != src[d] for d in range(first + 1, len(src))):
        return None
    width = nbytes(op.result) // math.prod(dst)
    return offsets[first] * math.prod(src[first + 1 :]) * width


def _is_structural_view(op: Operation) -> bool:
    if isinstance(op, g.ReshapeOp):
        return True
    return isinstance(op, g.SliceOp) and _contiguous_slice_offset(op) is not None


def _returned(block: Block) -> set[SSAValue]:
    last = block.last_op
    return set(last.operands) if isinstance(last, func.ReturnOp) else set()


def _in_model_function(op: Operation) -> Block | None:
    """The block of the enclosing func.func if `op` sits directly in it."""
    block = op.parent_block()
    parent = block.parent_op() if block is not None else None
    return block if isinstance(parent, func.FuncOp) else None


def lives_in_arena(value: SSAValue) -> bool:
    """Whether a value of a model function's body is stored in the arena.

    Block arguments (model inputs) and model outputs live in the caller's
    buffers, constants in the params blob; every other op result of the
    function's block lives in the arena.
    """
    if not isinstance(value, OpResult) or isinstance(value.op, g.ConstantOp):
        return False
    block = _in_model_function(value.op)
    if block is None:
        return False
    # A view lives where its source does, and `is_view` only holds for
    # sources in the arena; a structural view that is not one is a copy.
    return value not in _returned(block)


def is_view(op: Operation) -> bool:
    """Whether `op` is a view of its operand's buffer: no kernel, no copy.

    graph.reshape always is; graph.slice is when it selects one contiguous
    byte range. Inside a model function's block a view must also alias
    arena memory and stay in it: when the source is a model input, a
    constant or a model output, or when the view itself is a model output,
    it is not a view but a copy kernel, because those buffers belong to the
    caller or the params blob and an arena offset cannot name them. Inside a
    `graph.fused` region only the structural rule applies.
    """
    if not _is_structural_view(op):
        return False
    block = _in_model_function(op)
    if block is None:
        return True
    if op.results[0] in _returned(block):
        return False
    return lives_in_arena(op.operands[0])


def view_offset(op: Operation) -> int:
    """Byte offset of a view's range inside its source's buffer."""
    if isinstance(op, g.SliceOp):
        offset = _contiguous_slice_offset(op)
        assert offset is not None
        return offset
    return 0


def is_in_place_concat(op: Operation) -> bool:
    return isinstance(op, g.ConcatOp) and isinstance(op.attributes.get(IN_PLACE_ATTR), UnitAttr)


def concat_prefixes(op: g.ConcatOp) -> list[int]:
    """Byte offset of each operand's slice in the concat's result.

    Valid for in-place concats, whose dims before `axis` are all 1, so each
    operand's slice is one contiguous range.
    """
    prefixes: list[int] = []
    acc = 0
    for operand in op.operands:
        prefixes.append(acc)
        acc += nbytes(operand)
    return prefixes


# ---------------------------------------------------------------------------
# Groups and liveness


def is_elementwise_group(op: Operation) -> bool:
    """Whether `op` (a graph op or a graph.fused) only maps elements index by index.

    ELEMWISE ops and BROADCAST ops qualify (the caller checks that the aliased
    operand has the result's shape, so it is read at the written index only);
    constants inside a group only feed broadcasts.
    """
    if isinstance(op, g.FusedOp):
        body = [o for o in op.body.block.ops if not isinstance(o, g.YieldOp)]
        return bool(body) and all(
            isinstance(o, g.ConstantOp) or g.fusion_kind(o) <= g.FusionKind.BROADCAST for o in body
        )
    return isinstance(op, g.GraphOp) and g.fusion_kind(op) <= g.FusionKind.BROADCAST


def top_level_ops(fn: func.FuncOp) -> list[Operation]:
    """The ops of a model function's block, terminator excluded."""
    return [op for op in fn.body.block.ops if not isinstance(op, func.ReturnOp)]


def _ancestor_in(op: Operation, block: Block) -> Operation | None:
    current: Operation | None = op
    while current is not None and current.parent_block() is not block:
        current = current.parent_op()
    return current


def live_ranges(fn: func.FuncOp) -> dict[SSAValue, tuple[int, int]]:
    """[def, last use] op indices of every op result of the function's block.

    Uses inside nested regions count at the enclosing top-level op; a value
    without uses still lives during its own op (it is written). Indices
    follow `top_level_ops`; the terminator is index len(ops).
    """
    block = fn.body.block
    index = {op: i for i, op in enumerate(block.ops)}
    ranges: dict[SSAValue, tuple[int, int]] = {}
    for op in block.ops:
        t = index[op]
        for res in op.results:
            end = t
            for use in res.uses:
                user = _ancestor_in(use.operation, block)
                if user is not None:
                    end = max(end, index[user])
            ranges[res] = (t, end)
    return ranges


def offsets_of(op: Operation) -> tuple[int, ...] | None:
    attr = op.attributes.get(OFFSETS_ATTR)
    if not isinstance(attr, DenseArrayBase):
        return None
    return tuple(int(v) for v in attr.get_values())


def int_attr_of(op: Operation, name: str) -> int | None:
    attr = op.attributes.get(name)
    return attr.value.data if isinstance(attr, IntegerAttr) else None


__all__ = [
    "ALIGNMENT",
    "ARENA_ATTR",
    "IN_PLACE_ATTR",
    "NAIVE_ATTR",
    "OFFSETS_ATTR",
    "align",
    "concat_prefixes",
    "is_elementwise_group",
    "is_in_place_concat",
    "is_view",
    "lives_in_arena",
    "live_ranges",
    "nbytes",
    "offsets_of",
    "top_level_ops",
    "view_offset",
]
