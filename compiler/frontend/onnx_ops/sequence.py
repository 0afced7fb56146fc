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

import numpy as np
import onnx
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.errors import CompilerError
from compiler.frontend.converter import (
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
        raise b.error(
            "the condition is computed from the inputs: data-dependent control flow is not supported",
            hint="keep the branch choice static (no torch.cond or data-dependent Python `if` in forward)",
        )
    branch = "then_branch" if bool(b.one_value(cond, "condition")) else "else_branch"
    outs = b.inline_graph(b.required_attr(branch), [], branch)
    if len(outs) != len(b.node.output):
        raise b.error(f"{branch} has {len(outs)} outputs, the node {len(b.node.output)}")
    return outs
