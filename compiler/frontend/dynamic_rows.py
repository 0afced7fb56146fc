"""Data-dependent lengths through the import.

Shapes are static, so a result whose length depends on values
(NonMaxSuppression's selection, NonZero of a run-time mask) is padded to its
largest length along one axis and carries its real length beside it
(`ImportState.dynamic_rows`: the count, an i64 scalar graph value, and the
axis). A detector then works on the selection element by element along that
axis: the selected box indices are sliced out, boxes and scores gathered by
them, scaled, concatenated along columns, unsqueezed into a batch for the
next NMS. Each such op keeps the entries where they are, so its result has
the same count, along the axis where those entries land; padded entries hold
garbage that no real one depends on.

`prepare` runs before a node's converter: a max, min or sum over the padded
axis (torchvision's batched NMS takes the max coordinate of the boxes) reads
the padding as the reduction's identity. `propagate` runs after it: the
result gets its count and axis, a prefix Slice along the axis (`keep[:k]`)
the count min(count, k). Ops that take the padded value's shape, and Concat
or TopK along the padded axis, are `dynamic_shapes.py`'s. An op that would
mix padded entries into real ones (a sort or mean over them, a Reshape across
them) is a one-line error naming the node and the op that made the length
data-dependent. The graph
outputs that have a count get it as a hidden output of `main` (`graph.rows`
names it, `graph.rows_axis` the axis when it is not 0) and the runtime cuts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import DynamicRows, NodeBuilder, Value, constant_value

ROWS_ATTR = "graph.rows"
"""Result attribute of `main`: the index of the result that holds this one's row count."""
ROWS_AXIS_ATTR = "graph.rows_axis"
"""Result attribute of `main`: the padded axis, when it is not dim 0."""
HIDDEN_ATTR = "graph.hidden"
"""Result attribute of `main`: a row count, not a model output."""

_UNARY = {
    "Identity", "Cast", "CastLike", "Neg", "Abs", "Relu", "Sigmoid", "Tanh", "Exp", "Log",
    "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Not", "Clip", "Sign", "IsNaN", "IsInf",
}
_ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Min", "Max", "Pow", "Mod", "Equal", "Less", "LessOrEqual",
    "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Where", "BitwiseAnd", "BitwiseOr",
}
_PER_SAMPLE = {
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "LRN", "InstanceNormalization", "LpNormalization",
}
"""Ops that compute each sample (dim 0) of their first input on its own."""
_ALONG_AXIS = {"Softmax": -1, "LogSoftmax": -1, "Hardmax": -1, "ArgMax": 0, "ArgMin": 0, "LayerNormalization": -1}
"""Ops along one axis (default at opset 13+): row-wise unless it is dim 0."""
_REDUCTIONS = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceLogSumExp"}
_MASKABLE = {
    "ReduceMax": "low", "ReduceMin": "high", "ReduceSum": "zero", "ArgMax": "low", "ArgMin": "high", "NonZero": "zero",
}
"""Reductions that may run over the padded axis: the padding reads as their
identity (NonZero of a padded mask: the padding is no hit, and NonZero's own
count replaces the input's)."""
_SELF_HANDLED = {"NonMaxSuppression"}
"""Converters that read their inputs' counts themselves (NMS of a padded selection)."""


def _dynamic_inputs(b: NodeBuilder) -> dict[int, DynamicRows]:
    table = b.state.dynamic_rows
    found: dict[int, DynamicRows] = {}
    for i, name in enumerate(b.node.input):
        value = b.state.values.get(name) if name else None
        if isinstance(value, SSAValue) and value in table:
            found[i] = table[value]
    return found


def prepare(b: NodeBuilder) -> list[tuple[str, Value]]:
    """Before the converter: masks the padding of an input that a max, min or sum
    reduces over. Returns the (name, original value) pairs to put back afterwards."""
    dynamic = _dynamic_inputs(b)
    op = b.node.op_type
    if op not in _MASKABLE or set(dynamic) != {0}:
        return []
    x = b.input(0)
    rows = dynamic[0]
    r = len(_shape(x))
    if op == "NonZero":
        covered = True
    elif op in ("ArgMax", "ArgMin"):
        covered = int(b.attr("axis", 0)) % r == rows.axis
    else:
        axes = _axes(b)
        noop = bool(b.attr("noop_with_empty_axes", 0))
        covered = (not axes and not noop) or any(a % r == rows.axis for a in axes or [])
    if not covered:
        return []
    n = _shape(x)[rows.axis]
    positions = np.arange(n, dtype=np.int64).reshape([n if d == rows.axis else 1 for d in range(r)])
    real = b.make(g.LessOp, [b.constant(positions), rows.count])
    fill = b.constant(np.asarray(_identity(_MASKABLE[op], dtypes.to_numpy_dtype(g.elem_of(x))), dtypes.to_numpy_dtype(g.elem_of(x))), g.elem_of(x))
    masked = b.make(g.WhereOp, [real, x, fill])
    name = b.node.input[0]
    original = b.state.values[name]
    b.state.values[name] = masked
    return [(name, original)]


def _identity(kind: str, dtype: np.dtype) -> float | int:
    if kind == "zero":
        return 0
    if np.issubdtype(dtype, np.floating):
        return -np.inf if kind == "low" else np.inf
    if dtype == np.bool_:
        return kind == "high"
    info = np.iinfo(dtype)
    return int(info.min if kind == "low" else info.max)


def propagate(b: NodeBuilder, results: Sequence[Value | None], masked: bool = False) -> None:
    """Gives the node's first result the count of its inputs, or refuses the node.

    `masked`: `prepare` masked the padding, so the result has none.
    """
    if masked or b.node.op_type in _SELF_HANDLED:
        return
    dynamic = _dynamic_inputs(b)
    if not dynamic:
        return
    first = next(iter(dynamic.values()))
    out = results[0] if results else None
    if b.node.op_type == "Split" and _split_keeps_rows(b, dynamic):
        # Each piece has every entry along the padded axis: the input's count.
        for piece in results:
            if isinstance(piece, SSAValue) and piece not in b.state.dynamic_rows:
                b.state.dynamic_rows[piece] = dynamic[0]
        return
    rows = None
    if len(results) == 1 and isinstance(out, SSAValue):
        rows = _result_rows(b, dynamic, out)
    if rows is not None:
        assert isinstance(out, SSAValue)
        if out not in b.state.dynamic_rows:
            b.state.dynamic_rows[out] = rows
        return
    i = next(iter(dynamic))
    raise b.error(
        f"input {i} has a data-dependent number of rows (from {first.origin}), "
        f"which {b.node.op_type} cannot take here: only row-wise ops may follow it",
        hint="output the selection (or what row-wise ops make of it) and finish the post-processing outside the model",
    )


def _split_keeps_rows(b: NodeBuilder, dynamic: dict[int, DynamicRows]) -> bool:
    """A Split of a padded value along another axis (torchvision's boxes.unbind(1))."""
    if set(dynamic) != {0}:
        return False
    r = len(_shape(b.input(0)))
    return int(b.attr("axis", 0)) % r != dynamic[0].axis


def _shape(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[attr-defined]


def _result_rows(b: NodeBuilder, dynamic: dict[int, DynamicRows], out: SSAValue) -> DynamicRows | None:
    """The result's count and axis when each of its entries along that axis depends
    only on the matching entries of the dynamic inputs (and on whole static inputs)."""
    op = b.node.op_type
    out_shape = _shape(out)
    if not out_shape:
        return None
    inputs = {i: b.input(i) for i in range(len(b.node.input)) if b.has_input(i)}
    if op in ("Gather", "GatherND") and 1 in dynamic:
        # Real indices only point at real entries: data padded along the
        # indexed axis is fine, and the result has the indices' count.
        idx = dynamic[1]
        if op == "Gather":
            axis = int(b.attr("axis", 0)) % len(_shape(inputs[0]))
            if 0 in dynamic and dynamic[0].axis != axis:
                return None
            return DynamicRows(idx.count, idx.origin, axis + idx.axis)
        if b.attr("batch_dims", 0) or idx.axis >= len(_shape(inputs[1])) - 1:
            return None
        if 0 in dynamic and dynamic[0].axis != 0:
            return None
        return DynamicRows(idx.count, idx.origin, idx.axis)
    if len({d.count for d in dynamic.values()}) != 1:
        return None
    first = next(iter(dynamic.values()))

    def at(axis: int) -> DynamicRows | None:
        if not 0 <= axis < len(out_shape):
            return None
        return DynamicRows(first.count, first.origin, axis)

    only0 = set(dynamic) == {0}
    a = first.axis
    kept = only0 and _shape(inputs[0])[a] == out_shape[a] if a < len(out_shape) else False
    if op in _UNARY:
        return at(a) if only0 and _shape(inputs[0]) == out_shape else None
    if op in _ELEMENTWISE:
        return _elementwise(dynamic, inputs, out_shape, at)
    if op == "Gather":
        return _gather(b, dynamic, inputs, at)
    if op == "Slice":
        return _slice(b, first, out_shape) if only0 else None
    if op == "Squeeze" and only0:
        axes = _axes(b)
        r = len(_shape(inputs[0]))
        squeezed = {x % r for x in axes} if axes else {d for d, n in enumerate(_shape(inputs[0])) if n == 1}
        return None if a in squeezed else at(a - sum(1 for d in squeezed if d < a))
    if op == "Unsqueeze" and only0:
        axes = _axes(b)
        if axes is None:
            return None
        r = len(out_shape)
        kept_dims = [d for d in range(r) if d not in {x % r for x in axes}]
        return at(kept_dims[a])
    if op == "Transpose" and only0:
        perm = b.ints_attr("perm") or list(reversed(range(len(out_shape))))
        return at(perm.index(a))
    if op == "Concat":
        axis = int(b.attr("axis", 0)) % len(out_shape)
        same = all(i in dynamic and dynamic[i].axis == a for i in inputs)
        return at(a) if same and axis != a else None
    if a != 0:
        return None
    # The rest: rows along dim 0.
    if op in ("Reshape", "Flatten"):
        # Row-major: keeping dim 0 keeps each row's elements together.
        return at(0) if kept else None
    if op in _PER_SAMPLE:
        return at(0) if kept else None
    if op == "Gemm":
        # Rows of A are rows of the result; B and a C that broadcasts along them are whole.
        c_rows = len(_shape(inputs[2])) == 2 and _shape(inputs[2])[0] != 1 if 2 in inputs else False
        return at(0) if kept and not b.attr("transA", 0) and not c_rows else None
    if op == "MatMul":
        lhs, rhs = _shape(inputs[0]), _shape(inputs[1])
        broadcast = len(lhs) == 2 or len(rhs) < len(lhs) or rhs[0] == 1
        return at(0) if kept and len(lhs) >= 2 and broadcast else None
    if op in _ALONG_AXIS:
        axis = int(b.attr("axis", _ALONG_AXIS[op] if b.opset >= 13 or op in ("ArgMax", "ArgMin") else 1))
        return at(0) if kept and axis % len(_shape(inputs[0])) != 0 else None
    if op in _REDUCTIONS:
        axes = _axes(b)  # none: all axes
        r = len(_shape(inputs[0]))
        return at(0) if kept and axes and all(x % r != 0 for x in axes) else None
    if op in ("RoiAlign", "MaxRoiPool"):
        return at(0) if 1 in dynamic and 0 not in dynamic else None
    return None


def _elementwise(dynamic, inputs, out_shape, at):  # type: ignore[no-untyped-def]
    """Broadcasting ops: every dynamic operand's axis lands on one result axis,
    along which every static operand has size 1 (or no dim)."""
    r = len(out_shape)
    target = {dynamic[i].axis + r - len(_shape(inputs[i])) for i in dynamic}
    if len(target) != 1:
        return None
    (axis,) = target
    for i, value in inputs.items():
        s = _shape(value)
        pos = axis - (r - len(s))
        if i in dynamic:
            if s[pos] != out_shape[axis]:
                return None
        elif pos >= 0 and s[pos] != 1:
            return None  # a static operand along the padded axis
    return at(axis)


def _gather(b: NodeBuilder, dynamic: dict[int, DynamicRows], inputs: dict[int, SSAValue], at):  # type: ignore[no-untyped-def]
    data = _shape(inputs[0])
    axis = int(b.attr("axis", 0)) % len(data)
    idx_rank = len(_shape(inputs[1]))
    if set(dynamic) == {0}:
        a = dynamic[0].axis
        if a == axis:
            return None
        return at(a if a < axis else a - 1 + idx_rank)
    return None


def _slice(b: NodeBuilder, rows: DynamicRows, out_shape: tuple[int, ...]) -> DynamicRows | None:
    """Slices that leave the padded axis alone, or keep a prefix of it (`keep[:k]`:
    the count becomes min(count, k))."""
    spec = _slice_spec(b)
    if spec is None:
        return None
    n = _shape(b.input(0))[rows.axis]
    r = len(_shape(b.input(0)))
    for axis, start, end, step in spec:
        if axis % r != rows.axis:
            continue
        if step != 1 or not (start == 0 or start <= -n) or end < 0:
            return None
        if end < n:
            limit = b.constant(np.asarray(end, np.int64))
            return DynamicRows(b.make(g.MinOp, [rows.count, limit]), rows.origin, rows.axis)
    return DynamicRows(rows.count, rows.origin, rows.axis) if out_shape[rows.axis] == n else None


def _slice_spec(b: NodeBuilder) -> list[tuple[int, int, int, int]] | None:
    """(axis, start, end, step) per sliced axis, from constant inputs (opset >= 10) or attributes."""
    if b.opset < 10:
        starts, ends = b.ints_attr("starts") or [], b.ints_attr("ends") or []
        axes = b.ints_attr("axes") or list(range(len(starts)))
        steps = [1] * len(starts)
    else:
        consts = [constant_value(b.input(i)) if b.has_input(i) else None for i in (1, 2, 3, 4)]
        if consts[0] is None or consts[1] is None:
            return None
        if (b.has_input(3) and consts[2] is None) or (b.has_input(4) and consts[3] is None):
            return None
        starts = [int(v) for v in np.ravel(consts[0])]
        ends = [int(v) for v in np.ravel(consts[1])]
        axes = [int(v) for v in np.ravel(consts[2])] if consts[2] is not None else list(range(len(starts)))
        steps = [int(v) for v in np.ravel(consts[3])] if consts[3] is not None else [1] * len(starts)
    return list(zip(axes, starts, ends, steps, strict=False))


def _axes(b: NodeBuilder) -> list[int] | None:
    if b.has_input(1):
        value = constant_value(b.input(1))
        return None if value is None else [int(a) for a in np.ravel(value)]
    return b.ints_attr("axes", [])
