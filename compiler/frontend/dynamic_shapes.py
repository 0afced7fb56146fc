"""Shapes of padded values: run-time shape vectors with a static bound.

A value with a data-dependent length (`dynamic_rows.py`) is padded to its
largest length; its real length is an i64 scalar in the graph. torch.onnx
writes the detectors' post-processing (torchvision's SSD, RetinaNet and
friends) with `x.shape[0]` of such a value in the graph: `Shape`, then shape
arithmetic (`Gather`, `Unsqueeze`, `Concat`, `ReduceMin`: `min(300,
score.size(0))`), then an op that takes the result as a shape or a size
(`TopK`'s k, `ConstantOfShape`, `Range`, `Expand`, `Reshape`, `Slice`).

Here `Shape` of a padded value is a run-time i64 vector whose padded entry is
the count (`ShapeVector`, kept in `ImportState.shape_values`); the entries
are followed through the shape arithmetic, each a static int or a `RowDim`
(a run-time scalar and the most it can be). Entries that turn out static
fold to constants, so `x.shape[1]` of a padded `x` stays a constant. An op
that takes a shape or a size with a `RowDim` gets the bound in its place (its
static size) and the `RowDim`'s count as its own row count along that axis.
The ops that combine padded values the new way live here too: `TopK` of a
padded axis (its padding masked to sort last) and `Concat` along the padded
axis (the real entries moved together, see `_concat_rows`).

Anything else that takes such a vector sees it as an ordinary run-time
tensor, and a converter that needs a constant fails on one line naming the
node, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import (
    DynamicRows,
    Entry,
    NodeBuilder,
    RowDim,
    ShapeVector,
    Value,
    constant_value,
)

_I64 = dtypes.from_numpy_dtype(np.int64)


Converter = Callable[[NodeBuilder], Sequence[Value | None]]


def _shape(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[attr-defined]


def _vector(b: NodeBuilder, i: int) -> ShapeVector | None:
    if not b.has_input(i):
        return None
    value = b.state.values.get(b.node.input[i])
    return b.state.shape_values.get(value) if isinstance(value, SSAValue) else None


def _rows(b: NodeBuilder, i: int) -> DynamicRows | None:
    if not b.has_input(i):
        return None
    value = b.state.values.get(b.node.input[i])
    return b.state.dynamic_rows.get(value) if isinstance(value, SSAValue) else None


def involved(b: NodeBuilder) -> bool:
    """Whether the node reads a padded value or a shape vector (cheap pre-check)."""
    state = b.state
    for name in b.node.input:
        value = state.values.get(name) if name else None
        if isinstance(value, SSAValue) and (value in state.dynamic_rows or value in state.shape_values):
            return True
    return False


# -- conversion of the nodes that take shape vectors or combine padded values ---


def convert(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    """Converts the node here when it takes a shape vector with a run-time entry
    or combines padded values in a way `dynamic_rows.propagate` cannot say;
    None: the ordinary converter (and `track` after it) does."""
    op = b.node.op_type
    special = _SPECIAL.get(op)
    return special(b, conv) if special else None


def _convert_shape(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    x = b.input(0)
    rows = _rows(b, 0)
    if rows is None:
        return None
    dims: list[Entry] = list(_shape(x))
    dims[rows.axis] = RowDim(rows.count, _shape(x)[rows.axis], rows.origin)
    r = len(dims)
    start, end = int(b.attr("start", 0)), b.attr("end", None)
    start = min(max(start + r if start < 0 else start, 0), r)
    end = r if end is None else min(max(int(end) + r if end < 0 else int(end), 0), r)
    vector = ShapeVector(tuple(dims[start:end]))
    return [_materialize(b, vector)]


def _materialize(b: NodeBuilder, vector: ShapeVector) -> SSAValue:
    """The graph value of a shape vector (a constant when every entry is static)."""
    if not vector.dynamic:
        array = np.asarray(vector.entries, np.int64)
        return b.constant(array.reshape(()) if vector.scalar else array)
    if vector.scalar:
        (entry,) = vector.entries
        assert isinstance(entry, RowDim)
        value = entry.count
    else:
        parts = [
            _reshape(b, e.count, [1]) if isinstance(e, RowDim) else b.constant(np.asarray([e], np.int64))
            for e in vector.entries
        ]
        value = parts[0] if len(parts) == 1 else b.make(g.ConcatOp, parts, axis=0)
    b.state.shape_values[value] = vector
    return value


def _reshape(b: NodeBuilder, value: SSAValue, dims: list[int]) -> SSAValue:
    if list(_shape(value)) == dims:
        return value
    return b.make(g.ReshapeOp, [value], [TensorType(value.type.get_element_type(), dims)])  # type: ignore[attr-defined]


def _one_row_dim(b: NodeBuilder, vector: ShapeVector, what: str) -> tuple[int, RowDim]:
    found = vector.dynamic
    if len(found) != 1:
        raise b.error(
            f"{what} has {len(found)} entries known at run time only (from {found[0][1].origin}); "
            "one is supported",
            hint="keep at most one data-dependent length per shape",
        )
    return found[0]


def _with_constants(b: NodeBuilder, conv: Converter, replaced: dict[int, np.ndarray]) -> list[Value | None]:
    """Runs the ordinary converter with inputs `replaced` by constants (a shape
    vector by its bounds): the result has the static size it is padded to."""
    saved: dict[str, Value] = {}
    for i, array in replaced.items():
        name = b.node.input[i]
        saved.setdefault(name, b.state.values[name])
        old = b.state.values[name]
        assert isinstance(old, SSAValue)
        b.state.values[name] = b.constant(array.astype(dtypes.to_numpy_dtype(old.type.get_element_type())))  # type: ignore[attr-defined]
    try:
        return list(conv(b))
    finally:
        b.state.values.update(saved)


def _bounds_array(vector: ShapeVector) -> np.ndarray:
    array = np.asarray(vector.bounds(), np.int64)
    return array.reshape(()) if vector.scalar else array


def _set_rows(b: NodeBuilder, value: Value | None, count: SSAValue, origin: str, axis: int) -> None:
    assert isinstance(value, SSAValue)
    b.state.dynamic_rows[value] = DynamicRows(count, origin, axis)


def _convert_constant_of_shape(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    vector = _vector(b, 0)
    if vector is None:
        return None
    axis, dim = _one_row_dim(b, vector, "the shape")
    results = _with_constants(b, conv, {0: _bounds_array(vector)})
    _set_rows(b, results[0], dim.count, dim.origin, axis)
    return results


def _convert_expand(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    vector = _vector(b, 1)
    if vector is None:
        return None
    pos, dim = _one_row_dim(b, vector, "the shape")
    x = b.input(0)
    out_rank = max(len(_shape(x)), len(vector.entries))
    axis = pos + out_rank - len(vector.entries)
    x_axis = axis - (out_rank - len(_shape(x)))
    rows = _rows(b, 0)
    stretched = x_axis < 0 or _shape(x)[x_axis] == 1
    same = rows is not None and rows.axis == x_axis and rows.count is dim.count
    if not (stretched or same) or (rows is not None and not same):
        raise b.error(
            f"the shape's entry {pos} is a data-dependent length (from {dim.origin}) that the input "
            "does not have along that axis",
            hint="expand a size-1 axis, or the padded axis of the same selection",
        )
    results = _with_constants(b, conv, {1: _bounds_array(vector)})
    _set_rows(b, results[0], dim.count, dim.origin, axis)
    return results


def _convert_reshape(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    vector = _vector(b, 1)
    if vector is None:
        return None
    pos, dim = _one_row_dim(b, vector, "the shape")
    rows = _rows(b, 0)
    x = b.input(0)
    # Row-major: a reshape that keeps the padded dim 0 as it is keeps each row together.
    if pos != 0 or rows is None or rows.axis != 0 or rows.count is not dim.count or dim.bound != _shape(x)[0]:
        raise b.error(
            f"the shape's entry {pos} is a data-dependent length (from {dim.origin}); only a reshape "
            "that keeps the padded dim 0 of the same selection is supported",
            hint="reshape the selection's rows only (x.reshape(x.shape[0], ...))",
        )
    results = _with_constants(b, conv, {1: _bounds_array(vector)})
    _set_rows(b, results[0], dim.count, dim.origin, 0)
    return results


def _convert_range(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    vectors = [_vector(b, i) for i in range(3)]
    if all(v is None for v in vectors):
        return None
    start, delta = (constant_value(b.input(i)) for i in (0, 2))
    limit = vectors[1]
    if vectors[0] is not None or vectors[2] is not None or limit is None or start is None or delta is None:
        raise b.error(
            "start and delta must be constants, limit may be a data-dependent length",
            hint="write torch.arange(n) or torch.arange(c, n, step) with constants c and step",
        )
    s, d = int(np.ravel(start)[0]), int(np.ravel(delta)[0])
    if d <= 0 or not dtypes.is_integer(b.input(0).type.get_element_type()):  # type: ignore[attr-defined]
        raise b.error("a data-dependent limit needs an integer Range with a positive delta")
    _, dim = _one_row_dim(b, limit, "limit")
    results = _with_constants(b, conv, {1: _bounds_array(limit)})
    # max(0, ceil((limit - start) / delta)), all operands non-negative after the max.
    span = b.make(g.SubOp, [dim.count, b.constant(np.asarray(s - (d - 1), np.int64))])
    span = b.make(g.MaxOp, [span, b.constant(np.asarray(0, np.int64))])
    count = b.make(g.DivOp, [span, b.constant(np.asarray(d, np.int64))]) if d != 1 else span
    _set_rows(b, results[0], count, dim.origin, 0)
    return results


def _convert_slice(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    """`x[:k]` with a data-dependent k: a prefix, min(count, k) entries real."""
    if b.opset < 10 or _vector(b, 2) is None:
        return None
    if any(_vector(b, i) is not None for i in (1, 3, 4)) or any(
        b.has_input(i) and constant_value(b.input(i)) is None for i in (1, 3, 4)
    ):
        raise b.error(
            "only ends may be a data-dependent length: starts, axes and steps must be constants",
            hint="slice a prefix, x[:n]",
        )
    ends = _vector(b, 2)
    assert ends is not None
    pos, dim = _one_row_dim(b, ends, "ends")
    x = b.input(0)
    r = len(_shape(x))
    starts = [int(v) for v in np.ravel(constant_value(b.input(1)))]  # type: ignore[arg-type]
    axes = [int(v) % r for v in np.ravel(constant_value(b.input(3)))] if b.has_input(3) else list(range(len(starts)))  # type: ignore[arg-type]
    steps = [int(v) for v in np.ravel(constant_value(b.input(4)))] if b.has_input(4) else [1] * len(starts)  # type: ignore[arg-type]
    axis = axes[pos]
    rows = _rows(b, 0)
    if starts[pos] != 0 or steps[pos] != 1 or (rows is not None and rows.axis != axis):
        raise b.error(
            f"a data-dependent end (from {dim.origin}) needs a prefix slice (start 0, step 1) "
            "along the padded axis",
            hint="slice a prefix, x[:n]",
        )
    results = _with_constants(b, conv, {2: _bounds_array(ends)})
    have = rows.count if rows is not None else b.constant(np.asarray(_shape(x)[axis], np.int64))
    _set_rows(b, results[0], b.make(g.MinOp, [have, dim.count]), dim.origin, axis)
    return results


def _convert_top_k(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    """TopK with a data-dependent k (`score.topk(min(k, score.size(0)))`): the
    padded axis sorts its padding last, k's bound is the static k, and both
    results have k's count."""
    k = _vector(b, 1) if b.opset >= 10 else None
    if k is None:
        return None  # a constant k after a padded axis stays an error (propagate)
    _, dim = _one_row_dim(b, k, "k")
    x = b.input(0)
    axis = int(b.attr("axis", -1)) % len(_shape(x))
    rows = _rows(b, 0)
    if rows is not None and rows.axis != axis:
        raise b.error(
            f"input 0 is padded along axis {rows.axis} (from {rows.origin}), not along the TopK axis {axis}",
            hint="take the top k of the selection's entries (along its padded axis)",
        )
    bound = np.asarray([min(dim.bound, _shape(x)[axis])], np.int64)
    saved = b.state.values[b.node.input[0]]
    if rows is not None:
        b.state.values[b.node.input[0]] = _mask_padding(b, x, rows, largest=bool(b.attr("largest", 1)))
    try:
        results = _with_constants(b, conv, {1: bound})
    finally:
        b.state.values[b.node.input[0]] = saved
    for result in results:
        _set_rows(b, result, dim.count, dim.origin, axis)
    return results


def _mask_padding(b: NodeBuilder, x: SSAValue, rows: DynamicRows, largest: bool) -> SSAValue:
    """`x` with its padding the worst value, so that it sorts after every real entry
    (ties go to the lower index, a real one)."""
    dims = _shape(x)
    n = dims[rows.axis]
    positions = np.arange(n, dtype=np.int64).reshape([n if d == rows.axis else 1 for d in range(len(dims))])
    real = b.make(g.LessOp, [b.constant(positions), rows.count])
    np_type = dtypes.to_numpy_dtype(x.type.get_element_type())  # type: ignore[attr-defined]
    if np.issubdtype(np_type, np.floating):
        worst = -np.inf if largest else np.inf
    else:
        info = np.iinfo(np_type)
        worst = info.min if largest else info.max
    fill = b.constant(np.asarray(worst, np_type), x.type.get_element_type())  # type: ignore[attr-defined]
    return b.make(g.WhereOp, [real, x, fill])


def _convert_concat(b: NodeBuilder, conv: Converter) -> list[Value | None] | None:
    """Concat along the padded axis of padded inputs (the per-class detections of
    torchvision's postprocess_detections): the real entries of each input are
    moved to follow those of the one before, the padding of all of them last."""
    inputs = [b.input(i) for i in range(len(b.node.input)) if b.has_input(i)]
    out_rank = len(_shape(inputs[0]))
    axis = int(b.attr("axis", 0)) % max(out_rank, 1)
    rows = [_rows(b, i) for i in range(len(inputs))]
    if not any(r is not None and r.axis == axis for r in rows):
        return None
    if any(r is not None and r.axis != axis for r in rows):
        return None  # padded along different axes: propagate refuses it
    (value,) = conv(b)
    assert isinstance(value, SSAValue)
    origin = next(r.origin for r in rows if r is not None)
    sizes = [_shape(x)[axis] for x in inputs]
    counts = [r.count if r is not None else None for r in rows]
    # Boxes, scores and labels of one postprocess concatenate pieces with the
    # same counts: one gather index (and one total) serves them all.
    key = tuple(zip(sizes, counts, strict=True))
    if key not in b.state.concat_sources:
        b.state.concat_sources[key] = _concat_source(b, sizes, counts)
    source, total = b.state.concat_sources[key]
    compact = b.make(g.GatherOp, [value, source], axis=axis)
    b.state.dynamic_rows[compact] = DynamicRows(total, origin, axis)
    return [compact]


def _concat_source(b: NodeBuilder, sizes: list[int], dynamic: list[SSAValue | None]) -> tuple[SSAValue, SSAValue]:
    """Where each entry of the compacted concatenation comes from in the padded
    one (input i: `sizes[i]` entries, `dynamic[i]` of them real, all when None),
    so that the real entries come first, in order; and the total count.

    Output entry p comes from input i, the one whose real entries cover p once
    those of the inputs before it are counted (i = how many inputs end at or
    before p), and there from entry p - (real entries before i)."""
    counts = [c if c is not None else b.constant(np.asarray(n, np.int64)) for n, c in zip(sizes, dynamic, strict=True)]
    m = len(sizes)
    total_static = sum(sizes)
    counts_vec = b.make(g.ConcatOp, [_reshape(b, c, [1]) for c in counts], axis=0) if m > 1 else _reshape(b, counts[0], [1])
    ends = b.make(g.CumSumOp, [counts_vec], axis=0, exclusive=0, reverse=0)
    starts = b.make(g.SubOp, [ends, counts_vec])
    total = _reshape(b, b.make(g.SliceOp, [ends], [TensorType(_I64, [1])], offsets=[m - 1], strides=[1]), [])
    positions = np.arange(total_static, dtype=np.int64)
    after = b.make(g.GreaterEqualOp, [b.constant(positions.reshape(-1, 1)), _reshape(b, ends, [1, m])])
    seg = b.make(g.ReduceSumOp, [b.make(g.CastOp, [after], [TensorType(_I64, [total_static, m])])], axes=[1], keepdims=0)
    seg = b.make(g.MinOp, [seg, b.constant(np.asarray(m - 1, np.int64))])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    base = b.make(g.SubOp, [b.make(g.GatherOp, [b.constant(offsets), seg], axis=0), b.make(g.GatherOp, [starts, seg], axis=0)])
    source = b.make(g.AddOp, [base, b.constant(positions)])
    # Entries past the total are padding: any in-range source will do.
    source = b.make(g.MinOp, [b.make(g.MaxOp, [source, b.constant(np.asarray(0, np.int64))]), b.constant(np.asarray(total_static - 1, np.int64))])
    return source, total


_SPECIAL: dict[str, Callable[[NodeBuilder, Converter], list[Value | None] | None]] = {
    "Shape": _convert_shape,
    "ConstantOfShape": _convert_constant_of_shape,
    "Expand": _convert_expand,
    "Reshape": _convert_reshape,
    "Range": _convert_range,
    "Slice": _convert_slice,
    "TopK": _convert_top_k,
    "Concat": _convert_concat,
}


# -- shape arithmetic -----------------------------------------------------------


def track(b: NodeBuilder, results: list[Value | None]) -> list[Value | None]:
    """After the ordinary converter: the entries of a shape-arithmetic result
    whose inputs are shape vectors (and constants). A result whose entries are
    all static becomes a constant."""
    if len(results) != 1 or not isinstance(results[0], SSAValue):
        return results
    ins = [_entries_of(b, i) for i in range(len(b.node.input))]
    if not any(isinstance(v, ShapeVector) and v.dynamic for v in ins):
        return results
    if any(v is None for i, v in enumerate(ins) if b.has_input(i) and i in _data_inputs(b)):
        return results
    out = results[0]
    vector = _TRACKERS.get(b.node.op_type, _untracked)(b, ins, out)
    if vector is None:
        return results
    if not vector.dynamic:
        array = np.asarray(vector.entries, dtypes.to_numpy_dtype(out.type.get_element_type()))  # type: ignore[attr-defined]
        return [b.constant(array.reshape(_shape(out)), out.type.get_element_type())]  # type: ignore[attr-defined]
    b.state.shape_values[out] = vector
    return results


def _data_inputs(b: NodeBuilder) -> set[int]:
    """The inputs whose entries the result is made of (not axes, indices or shapes)."""
    op = b.node.op_type
    if op in ("Gather", "Unsqueeze", "Squeeze", "Reshape", "Cast", "Identity", "Flatten"):
        return {0}
    if op.startswith("Reduce"):
        return {0}
    return set(range(len(b.node.input)))


def _entries_of(b: NodeBuilder, i: int) -> ShapeVector | None:
    """Input i as a shape vector: tracked, or a small integer constant."""
    if not b.has_input(i):
        return None
    vector = _vector(b, i)
    if vector is not None:
        return vector
    value = b.state.values.get(b.node.input[i])
    array = constant_value(value) if isinstance(value, SSAValue) else None
    if array is None or array.ndim > 1 or array.size > 64 or not np.issubdtype(array.dtype, np.integer):
        return None
    return ShapeVector(tuple(int(v) for v in np.ravel(array)), scalar=array.ndim == 0)


def _untracked(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    return None


def _layout(out: SSAValue, entries: Sequence[Entry]) -> ShapeVector | None:
    """`entries` as the vector `out` holds, when `out` is a scalar or a vector of them."""
    dims = _shape(out)
    if len(dims) > 1 or math.prod(dims) != len(entries):
        return None
    return ShapeVector(tuple(entries), scalar=not dims)


def _same_entries(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    """Ops that move a vector's entries around without changing them (Cast to an
    integer type, Identity, Reshape/Squeeze/Unsqueeze between [], [1] and [n])."""
    if not dtypes.is_integer(out.type.get_element_type()):  # type: ignore[attr-defined]
        return None
    vector = ins[0]
    return _layout(out, vector.entries) if vector is not None else None


def _gather(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    data, indices = ins[0], ins[1] if len(ins) > 1 else None
    if data is None or indices is None or data.scalar or _vector(b, 1) is not None:
        return None
    n = len(data.entries)
    if any(not -n <= i < n for i in indices.entries):  # type: ignore[operator]
        return None
    picked = [data.entries[int(i) % n] for i in indices.entries]  # type: ignore[call-overload]
    return _layout(out, picked)


def _concat(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    if any(v is None or v.scalar for v in ins):
        return None
    return _layout(out, [e for v in ins if v is not None for e in v.entries])


def _combine(b: NodeBuilder, op: str, entries: Sequence[Entry], value: SSAValue, at: int) -> Entry | None:
    """The entry of `op` over `entries`: static when they all are, else a
    RowDim whose count is element `at` of the op's run-time result `value`."""
    static = [e for e in entries if isinstance(e, int)]
    dynamic = [e for e in entries if isinstance(e, RowDim)]
    fold = _FOLDS[op]
    if not dynamic:
        return int(fold(static))
    if op == "Sub":
        first, rest = entries[0], entries[1:]
        if not isinstance(first, RowDim):
            return None
        bound = first.bound - sum(e for e in rest if isinstance(e, int))
    elif op in ("Mul", "ReduceProd") and any(e < 0 for e in static):
        return None
    else:
        bound = int(fold([e.bound for e in dynamic] + static))
    count = _element(b, value, at)
    return RowDim(count, bound, dynamic[0].origin)


_FOLDS: dict[str, Callable[[list[int]], int]] = {
    "Min": min, "ReduceMin": min, "Max": max, "ReduceMax": max,
    "Add": sum, "ReduceSum": sum, "Mul": math.prod, "ReduceProd": math.prod,
    "Sub": lambda xs: xs[0] - sum(xs[1:]),
}


def _element(b: NodeBuilder, value: SSAValue, at: int) -> SSAValue:
    """Element `at` of a scalar or vector i64 `value`, as an i64 scalar."""
    dims = _shape(value)
    if dims and (dims[0] != 1 or at):
        value = b.make(g.SliceOp, [value], [TensorType(value.type.get_element_type(), [1])], offsets=[at], strides=[1])  # type: ignore[attr-defined]
    value = _reshape(b, value, [])
    elem = value.type.get_element_type()  # type: ignore[attr-defined]
    return value if elem == _I64 else b.make(g.CastOp, [value], [TensorType(_I64, [])])


def _reduce(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    vector = ins[0]
    if vector is None or _shape(out) not in ((), (1,)) or b.attr("noop_with_empty_axes", 0):
        return None
    entry = _combine(b, b.node.op_type, vector.entries, out, 0)
    return None if entry is None else _layout(out, [entry])


def _elementwise(b: NodeBuilder, ins: list[ShapeVector | None], out: SSAValue) -> ShapeVector | None:
    vectors = [v for v in ins if v is not None]
    n = len(_shape(out)) and _shape(out)[0]
    if len(_shape(out)) > 1 or not dtypes.is_integer(out.type.get_element_type()):  # type: ignore[attr-defined]
        return None
    size = max(1, n)
    if any(len(v.entries) not in (1, size) for v in vectors):
        return None
    entries: list[Entry] = []
    for at in range(size):
        per = [v.entries[at if len(v.entries) > 1 else 0] for v in vectors]
        entry = _combine(b, b.node.op_type, per, out, at)
        if entry is None:
            return None
        entries.append(entry)
    return _layout(out, entries)


_TRACKERS: dict[str, Callable[[NodeBuilder, list[ShapeVector | None], SSAValue], ShapeVector | None]] = {
    "Cast": _same_entries, "Identity": _same_entries, "Reshape": _same_entries,
    "Squeeze": _same_entries, "Unsqueeze": _same_entries, "Flatten": _same_entries,
    "Gather": _gather, "Concat": _concat,
    "ReduceMin": _reduce, "ReduceMax": _reduce, "ReduceSum": _reduce, "ReduceProd": _reduce,
    "Min": _elementwise, "Max": _elementwise, "Add": _elementwise, "Sub": _elementwise, "Mul": _elementwise,
}
