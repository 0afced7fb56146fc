"""Data-dependent row counts through the import.

Shapes are static, so a result whose length depends on values
(NonMaxSuppression's selection) is padded to its largest length and carries
its real row count beside it (`ImportState.dynamic_rows`). A detector then
works on the selection row by row: the selected box indices are sliced out,
boxes and scores gathered by them, scaled, concatenated along columns. Each
such op keeps the rows where they are, so its result has the same count and
is padded the same way; padded rows hold garbage that no real row depends on.

`propagate` runs after each node's converter. An op that would mix rows
(a reduction or a sort over them, Shape, a Concat along them) cannot be
computed on the padded value: it is a one-line error naming the node and
the op that produced the count. The graph outputs that have a count get it as
a hidden output of `main` (`graph.rows` names it) and the runtime cuts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler.frontend.converter import DynamicRows, NodeBuilder, Value, constant_value

ROWS_ATTR = "graph.rows"
"""Result attribute of `main`: the index of the result that holds this one's row count."""
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


def propagate(b: NodeBuilder, results: Sequence[Value | None]) -> None:
    """Gives the node's first result the row count of its inputs, or refuses the node."""
    table = b.state.dynamic_rows
    dynamic: dict[int, DynamicRows] = {}
    for i, name in enumerate(b.node.input):
        value = b.state.values.get(name) if name else None
        if isinstance(value, SSAValue) and value in table:
            dynamic[i] = table[value]
    if not dynamic:
        return
    first = next(iter(dynamic.values()))
    out = results[0] if results else None
    if len(results) == 1 and isinstance(out, SSAValue) and _row_wise(b, dynamic, out):
        if out not in table:
            table[out] = first
        return
    i = next(iter(dynamic))
    raise b.error(
        f"input {i} has a data-dependent number of rows (from {first.origin}), "
        f"which {b.node.op_type} cannot take here: only row-wise ops may follow it",
        hint="output the selection (or what row-wise ops make of it) and finish the post-processing outside the model",
    )


def _shape(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[attr-defined]


def _row_wise(b: NodeBuilder, dynamic: dict[int, DynamicRows], out: SSAValue) -> bool:
    """Whether row r of the result depends only on row r of the dynamic inputs
    (and on whole static inputs), all dynamic inputs sharing one count."""
    if len({d.count for d in dynamic.values()}) != 1:
        return False
    op = b.node.op_type
    out_shape = _shape(out)
    if not out_shape:
        return False
    inputs = {i: b.input(i) for i in range(len(b.node.input)) if b.has_input(i)}
    rows_kept = all(_shape(inputs[i])[:1] == out_shape[:1] for i in dynamic)
    if op in _UNARY:
        return set(dynamic) == {0} and rows_kept
    if op in _ELEMENTWISE:
        for i, value in inputs.items():
            s = _shape(value)
            if i in dynamic:
                if len(s) != len(out_shape) or s[0] != out_shape[0]:
                    return False
            elif len(s) == len(out_shape) and s[0] != 1:
                return False  # a static operand along the rows
        return True
    if op == "Gather":
        axis = int(b.attr("axis", 0))
        axis = axis + len(_shape(inputs[0])) if axis < 0 else axis
        if set(dynamic) == {0}:
            return axis != 0 and rows_kept
        return set(dynamic) == {1} and axis == 0 and len(_shape(inputs[1])) >= 1
    if op == "GatherND":
        # Each index tuple (a row of the indices) picks one slice of the data.
        idx = _shape(inputs[1])
        return set(dynamic) == {1} and not b.attr("batch_dims", 0) and len(idx) >= 2 and idx[:1] == out_shape[:1]
    if op == "Slice":
        return set(dynamic) == {0} and rows_kept and _slice_keeps_rows(b)
    if op in ("Squeeze", "Unsqueeze"):
        axes = _axes(b)
        if axes is None:
            return False
        r = len(out_shape) if op == "Unsqueeze" else len(_shape(inputs[0]))
        return set(dynamic) == {0} and rows_kept and all(a % r != 0 for a in axes)
    if op in ("Reshape", "Flatten"):
        # Row-major: keeping dim 0 keeps each row's elements together.
        return set(dynamic) == {0} and rows_kept
    if op == "Transpose":
        perm = b.ints_attr("perm")
        return set(dynamic) == {0} and perm is not None and perm[0] == 0
    if op == "Concat":
        axis = int(b.attr("axis", 0))
        return axis % len(out_shape) != 0 and set(dynamic) == set(inputs) and rows_kept
    if op in _PER_SAMPLE:
        return set(dynamic) == {0} and rows_kept
    if op == "Gemm":
        # Rows of A are rows of the result; B and a C that broadcasts along them are whole.
        c_rows = len(_shape(inputs[2])) == 2 and _shape(inputs[2])[0] != 1 if 2 in inputs else False
        return set(dynamic) == {0} and not b.attr("transA", 0) and rows_kept and not c_rows
    if op == "MatMul":
        lhs, rhs = _shape(inputs[0]), _shape(inputs[1])
        broadcast = len(lhs) == 2 or len(rhs) < len(lhs) or rhs[0] == 1
        return set(dynamic) == {0} and len(lhs) >= 2 and rows_kept and broadcast
    if op in _ALONG_AXIS:
        axis = int(b.attr("axis", _ALONG_AXIS[op] if b.opset >= 13 or op in ("ArgMax", "ArgMin") else 1))
        return set(dynamic) == {0} and rows_kept and axis % len(_shape(inputs[0])) != 0
    if op in _REDUCTIONS:
        axes = _axes(b)  # none: all axes
        r = len(_shape(inputs[0]))
        return set(dynamic) == {0} and bool(axes) and rows_kept and all(a % r != 0 for a in axes or [0])
    if op == "RoiAlign":
        return 1 in dynamic and 0 not in dynamic
    if op == "MaxRoiPool":
        return set(dynamic) == {1}
    return False


def _axes(b: NodeBuilder) -> list[int] | None:
    if b.has_input(1):
        value = constant_value(b.input(1))
        return None if value is None else [int(a) for a in np.ravel(value)]
    return b.ints_attr("axes", [])


def _slice_keeps_rows(b: NodeBuilder) -> bool:
    """Slice (opset >= 10: starts, ends, axes, steps as inputs) does not cut dim 0 from the front."""
    if b.opset < 10 or b.node.op_type != "Slice":
        axes = b.ints_attr("axes")
        starts = b.ints_attr("starts") or []
        axes = axes if axes is not None else list(range(len(starts)))
        steps = [1] * len(starts)
    else:
        consts = [constant_value(b.input(i)) if b.has_input(i) else None for i in (1, 3, 4)]
        if consts[0] is None or (b.has_input(3) and consts[1] is None) or (b.has_input(4) and consts[2] is None):
            return False
        starts = [int(v) for v in np.ravel(consts[0])]
        axes = [int(v) for v in np.ravel(consts[1])] if consts[1] is not None else list(range(len(starts)))
        steps = [int(v) for v in np.ravel(consts[2])] if consts[2] is not None else [1] * len(starts)
    r = len(_shape(b.input(0)))
    n = _shape(b.input(0))[0]
    for axis, start, step in zip(axes, starts, steps, strict=False):
        if axis % r == 0 and (step != 1 or not (start == 0 or start <= -n)):
            return False
    return True
