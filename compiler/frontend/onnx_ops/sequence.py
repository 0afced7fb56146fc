"""Converters of ONNX sequence ops and of If with a constant condition.

PyTorch's dynamo exporter writes them for list-valued code: `torch.hstack`,
`torch.vstack` and `torch.atleast_*d` become SequenceConstruct, a SequenceMap
whose body Reshapes under an If on the element's rank, and SequenceAt;
`torch.split` / `torch.unbind` become SplitToSequence when the export is not
optimized. Shapes are static here, so a sequence has a known length and is a
`TensorSequence` of graph values during the import; only the slices and
concats of splitting and joining reach the graph. An If whose condition folds
to a constant (a rank or shape test) is its chosen branch, inlined; a
data-dependent one (`torch.cond`) is an error.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.errors import CompilerError
from compiler.frontend.converter import (
    DynamicRows,
    NodeBuilder,
    TensorSequence,
    Value,
    constant_value,
    converter,
)
from compiler.frontend.onnx_ops.common import elem, norm_axis, rank, reshape, shape, unsqueeze
from compiler.frontend.onnx_ops.tensor import slice_value


def _position(b: NodeBuilder, i: int, length: int, insert: bool = False) -> int | None:
    """The (optional) position input i as an index into a sequence of `length` (None: absent)."""
    if not b.has_input(i):
        return None
    pos = int(b.one_value(b.const_input(i, "position"), "position"))
    high = length if insert else length - 1
    if not -length <= pos <= high:
        raise b.error(f"position {pos} is out of range for a sequence of {length}")
    return pos + length if pos < 0 else pos


def _same_type(b: NodeBuilder, items: tuple[SSAValue, ...], elem_type: Attribute | None) -> Attribute | None:
    for v in items:
        if elem_type is not None and elem(v) != elem_type:
            raise b.error(f"sequence elements must all be {elem_type}, got {elem(v)}")
        elem_type = elem(v)
    return elem_type


def _sequence(b: NodeBuilder, items: list[SSAValue] | tuple[SSAValue, ...], elem_type: Attribute | None) -> TensorSequence:
    items = tuple(items)
    return TensorSequence(items, _same_type(b, items, elem_type))


@converter("SequenceEmpty")
def convert_sequence_empty(b: NodeBuilder) -> list[Value]:
    return [TensorSequence((), dtypes.from_onnx_dtype(b.attr("dtype", 1)))]


@converter("SequenceConstruct")
def convert_sequence_construct(b: NodeBuilder) -> list[Value]:
    return [_sequence(b, b.inputs, None)]


@converter("SequenceInsert")
def convert_sequence_insert(b: NodeBuilder) -> list[Value]:
    seq = b.sequence_input(0)
    items = list(seq.items)
    pos = _position(b, 2, len(items), insert=True)
    items.insert(len(items) if pos is None else pos, b.input(1))
    return [_sequence(b, items, seq.elem_type)]


@converter("SequenceErase")
def convert_sequence_erase(b: NodeBuilder) -> list[Value]:
    seq = b.sequence_input(0)
    if not seq.items:
        raise b.error("cannot erase from an empty sequence")
    items = list(seq.items)
    pos = _position(b, 1, len(items))
    del items[-1 if pos is None else pos]
    return [TensorSequence(tuple(items), seq.elem_type)]


@converter("SequenceAt")
def convert_sequence_at(b: NodeBuilder) -> list[Value]:
    seq = b.sequence_input(0)
    pos = _position(b, 1, len(seq.items))
    if pos is None:
        raise b.error("input 1 (position) is required")
    return [seq.items[pos]]


@converter("SequenceLength")
def convert_sequence_length(b: NodeBuilder) -> list[Value]:
    return [b.constant(np.asarray(len(b.sequence_input(0).items), dtype=np.int64))]


@converter("SplitToSequence")
def convert_split_to_sequence(b: NodeBuilder) -> list[Value]:
    x = b.input(0)
    axis = norm_axis(b, b.attr("axis", 0), rank(x))
    n = shape(x)[axis]
    split = b.opt_const_input(1, "split")
    squeeze = False
    if split is None:
        sizes = [1] * n
        squeeze = not b.attr("keepdims", 1)
    elif split.ndim == 0:
        chunk = int(split)
        if chunk <= 0:
            raise b.error(f"split {chunk} must be positive")
        sizes = [min(chunk, n - start) for start in range(0, n, chunk)]
    else:
        sizes = [int(v) for v in split.reshape(-1)]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise b.error(f"split sizes {sizes} do not cover dim {axis} ({n})")
    items = []
    start = 0
    for size in sizes:
        part = slice_value(b, x, [start], [start + size], [axis], [1])
        if squeeze:
            part = reshape(b, part, [d for i, d in enumerate(shape(part)) if i != axis])
        items.append(part)
        start += size
    return [TensorSequence(tuple(items), elem(x))]


@converter("ConcatFromSequence")
def convert_concat_from_sequence(b: NodeBuilder) -> list[Value]:
    seq = b.sequence_input(0)
    if not seq.items:
        raise b.error("cannot concatenate an empty sequence")
    new_axis = bool(b.attr("new_axis", 0))
    r = rank(seq.items[0])
    axis = norm_axis(b, b.required_attr("axis"), r + 1 if new_axis else r)
    items = [unsqueeze(b, v, [axis]) for v in seq.items] if new_axis else list(seq.items)
    if len({rank(v) for v in items}) != 1:
        raise b.error(f"sequence elements have different ranks {[rank(v) for v in items]}")
    if len(items) == 1:
        return [items[0]]
    return [b.make(g.ConcatOp, items, axis=axis)]


@converter("SequenceMap")
def convert_sequence_map(b: NodeBuilder) -> list[Value]:
    """The body inlined once per element; extra sequence inputs are walked in step, tensors repeat."""
    args = [b.any_input(i) for i in range(len(b.node.input)) if b.has_input(i)]
    length = len(b.sequence_input(0).items)
    for a in args:
        if isinstance(a, TensorSequence) and len(a.items) != length:
            raise b.error(f"input sequences have lengths {length} and {len(a.items)}")
    body = b.required_attr("body")
    outputs: list[list[SSAValue]] = [[] for _ in body.output]
    for i in range(length):
        step = [a.items[i] if isinstance(a, TensorSequence) else a for a in args]
        for out, value in zip(outputs, b.inline_graph(body, step, "body"), strict=True):
            if isinstance(value, TensorSequence):
                raise b.error("body outputs must be tensors")
            out.append(value)
    types = [_elem_type_of(vi) for vi in body.output]
    return [_sequence(b, out, t) for out, t in zip(outputs, types, strict=True)]


def _elem_type_of(vi: onnx.ValueInfoProto) -> Attribute | None:
    """The declared element type of a body output, which an empty map still has."""
    if vi.type.HasField("sequence_type"):
        vi_type = vi.type.sequence_type.elem_type
    else:
        vi_type = vi.type
    if vi_type.HasField("tensor_type") and vi_type.tensor_type.elem_type:
        try:
            return dtypes.from_onnx_dtype(vi_type.tensor_type.elem_type)
        except CompilerError:
            return None
    return None


@converter("If")
def convert_if(b: NodeBuilder) -> list[Value]:
    cond = constant_value(b.input(0))
    if cond is None:
        if any(_constant_only(b.required_attr(branch)) for branch in ("then_branch", "else_branch")):
            return _select_branches(b)
        raise b.error(
            "the condition is computed from the inputs: data-dependent control flow is not supported",
            hint="keep the branch choice static (no torch.cond or data-dependent Python `if` in forward)",
        )
    branch = "then_branch" if bool(b.one_value(cond, "condition")) else "else_branch"
    outs = b.inline_graph(b.required_attr(branch), [], branch)
    if len(outs) != len(b.node.output):
        raise b.error(f"{branch} has {len(outs)} outputs, the node {len(b.node.output)}")
    return outs


def _constant_only(graph: onnx.GraphProto) -> bool:
    """A branch that only returns constants (torchvision's `if boxes.numel() == 0:
    return torch.empty(0)` early exit)."""
    defined = {n.output[0] for n in graph.node if n.op_type == "Constant"}
    return all(n.op_type == "Constant" for n in graph.node) and all(o.name in defined for o in graph.output)


def _select_branches(b: NodeBuilder) -> list[Value]:
    """A run-time condition where one branch only returns constants: both
    branches are converted (graph ops have no side effects, and the constant
    one costs nothing) and each output picks its branch's value by the
    condition. An output that is empty in one branch is the other branch's
    value with zero real rows there (`dynamic_rows.py`)."""
    cond = b.input(0)
    if math.prod(shape(cond)) != 1:
        raise b.error(f"the condition must hold one value, got shape {list(shape(cond))}")
    cond = reshape(b, cond, [])
    if not dtypes.is_bool(elem(cond)):
        cond = b.make(g.NotOp, [b.make(g.EqualOp, [cond, b.constant(np.asarray(0, dtypes.to_numpy_dtype(elem(cond))), elem(cond))])])
    then = b.inline_graph(b.required_attr("then_branch"), [], "then_branch")
    other = b.inline_graph(b.required_attr("else_branch"), [], "else_branch")
    if len(then) != len(b.node.output) or len(other) != len(b.node.output):
        raise b.error(f"the branches have {len(then)} and {len(other)} outputs, the node {len(b.node.output)}")
    return [_select(b, cond, i, t, e) for i, (t, e) in enumerate(zip(then, other, strict=True))]


def _select(b: NodeBuilder, cond: SSAValue, i: int, then: Value, other: Value) -> SSAValue:
    if not isinstance(then, SSAValue) or not isinstance(other, SSAValue) or elem(then) != elem(other):
        raise b.error(f"output {i} has different types in the two branches; a run-time condition needs the same type")
    ts, es = shape(then), shape(other)
    rows_t, rows_e = b.dynamic_rows(then), b.dynamic_rows(other)
    empty = [
        a for a in range(len(ts)) if len(ts) == len(es) and ts[a] != es[a] and 0 in (ts[a], es[a])
    ]
    if ts == es:
        value = b.make(g.WhereOp, [cond, then, other])
        axis = (rows_t or rows_e).axis if rows_t or rows_e else None
    elif len(empty) == 1 and all(ts[a] == es[a] for a in range(len(ts)) if a != empty[0]):
        # One branch has no entries along this axis: the other's value, none of it real there.
        axis = empty[0]
        kept = other if ts[axis] == 0 else then
        # A value of its own: `kept` may be an outer value, whose rows stay its own.
        value = b.make(g.ReshapeOp, [kept], [kept.type])
    else:
        raise b.error(
            f"output {i} has shape {list(ts)} in then_branch and {list(es)} in else_branch; "
            "a run-time condition needs the same shapes (or an empty one)"
        )
    if axis is None:
        return value
    if any(r is not None and r.axis != axis for r in (rows_t, rows_e)):
        raise b.error(f"output {i} is padded along different axes in the two branches")

    def count(v: SSAValue, rows: DynamicRows | None) -> SSAValue:
        return rows.count if rows is not None else b.constant(np.asarray(shape(v)[axis], np.int64))

    origin = (rows_t or rows_e).origin if rows_t or rows_e else f"If node '{b.display_name}'"
    total = b.make(g.WhereOp, [cond, count(then, rows_t), count(other, rows_e)])
    b.state.dynamic_rows[value] = DynamicRows(total, origin, axis)
    return value
