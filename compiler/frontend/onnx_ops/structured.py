"""Converters of ONNX ops that decompose into masks, matmuls and reductions
(Trilu, OneHot, Einsum, NonZero and Unique on constants), and of those that
need a graph op of their own: CumSum and CumProd (graph.cumsum / graph.cumprod,
scans), TopK (graph.topk_indices, then graph.gather_elements for the values)
and NonZero of a run-time input (graph.non_zero).

The decompositions:
- Trilu is a `where` with a constant triangular mask;
- OneHot compares the indices with a constant `arange(depth)`;
- Einsum becomes transposes, reshapes, reduce_sum and one batched matmul per
  pair of operands (the forms transformer exporters emit);
- NonZero's and Unique's result shapes depend on values, so they fold when
  their input is a constant; a run-time NonZero is graph.non_zero, padded,
  with its count (as NonMaxSuppression's selection); Unique is refused.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    cast,
    elem,
    norm_axis,
    rank,
    reshape,
    scalar,
    shape,
    transpose,
)

_I64 = dtypes.from_numpy_dtype(np.int64)


@converter("Trilu")
def convert_trilu(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if rank(x) < 2:
        raise b.error(f"input must have rank 2 or more, got {rank(x)}")
    n, m = shape(x)[-2:]
    if math.prod(shape(x)) == 0:
        return [x]
    offset = np.arange(m)[None, :] - np.arange(n)[:, None]  # col - row
    upper = bool(b.attr("upper", 1))
    k = b.opt_input(1)
    known = None if k is None else constant_value(k)
    if k is not None and known is None:
        # A runtime k: compare the constant diagonal offsets with it.
        if shape(k) not in ((), (1,)) or not dtypes.is_integer(elem(k)):
            raise b.error(f"k must be one integer, got {elem(k)} of shape {shape(k)}")
        kk = reshape(b, cast(b, k, _I64), [])
        cmp = g.GreaterEqualOp if upper else g.LessEqualOp
        keep = b.make(cmp, [b.constant(offset.astype(np.int64)), kk])
        return [b.make(g.WhereOp, [keep, x, scalar(b, 0, x)])]
    diag = 0 if known is None else int(b.one_value(known, "k"))
    mask = (offset >= diag) if upper else (offset <= diag)
    if mask.all():
        return [x]
    return [b.make(g.WhereOp, [b.constant(mask), x, scalar(b, 0, x)])]


@converter("CumSum")
def convert_cumsum(b: NodeBuilder) -> list[SSAValue]:
    return [_scan(b, g.CumSumOp)]


@converter("CumProd")
def convert_cumprod(b: NodeBuilder) -> list[SSAValue]:
    return [_scan(b, g.CumProdOp)]


def _scan(b: NodeBuilder, cls: type[g.ScanOp]) -> SSAValue:
    x = b.input(0)
    if rank(x) == 0:
        raise b.error("input must have rank 1 or more")
    if dtypes.is_bool(elem(x)):
        raise b.error("input must be numeric, got i1")
    if rank(x) == 1:
        axis = 0  # the only axis, whatever input 1 holds at run time
    else:
        axis = norm_axis(b, int(b.one_value(b.const_input(1, "axis"), "axis")), rank(x))
    exclusive, reverse = int(b.attr("exclusive", 0)), int(b.attr("reverse", 0))
    return b.make(cls, [x], axis=axis, exclusive=exclusive, reverse=reverse)


@converter("OneHot")
def convert_one_hot(b: NodeBuilder) -> list[SSAValue]:
    indices, values = b.input(0), b.input(2)
    depth = int(b.one_value(b.const_input(1, "depth"), "depth"))
    if depth < 1:
        raise b.error(f"depth must be positive, got {depth}")
    if shape(values) != (2,):
        raise b.error(f"values must hold [off, on], got shape {shape(values)}")
    r = rank(indices) + 1
    axis = norm_axis(b, b.attr("axis", -1), r)
    if dtypes.is_float(elem(indices)):
        # Float ids name the same class as their integer part (ONNX casts them).
        indices = b.make(g.CastOp, [indices], [TensorType(_I64, list(shape(indices)))])
    idx = cast(b, indices, _I64)
    negative = b.make(g.LessOp, [idx, b.constant(np.asarray(0, np.int64))])
    idx = b.make(g.WhereOp, [negative, b.make(g.AddOp, [idx, b.constant(np.asarray(depth, np.int64))]), idx])
    dims = list(shape(idx))
    dims.insert(axis, 1)
    idx = reshape(b, idx, dims)
    classes = np.arange(depth, dtype=np.int64).reshape([depth if d == axis else 1 for d in range(r)])
    hot = b.make(g.EqualOp, [idx, b.constant(classes)])
    off = reshape(b, b.make(g.SliceOp, [values], [TensorType(elem(values), [1])], offsets=[0], strides=[1]), [])
    on = reshape(b, b.make(g.SliceOp, [values], [TensorType(elem(values), [1])], offsets=[1], strides=[1]), [])
    return [b.make(g.WhereOp, [hot, on, off])]


@converter("NonZero")
def convert_non_zero(b: NodeBuilder) -> list[SSAValue]:
    """A constant input folds; a run-time one gives graph.non_zero, padded to one
    column per element, with the count of nonzeros (compiler/frontend/dynamic_rows.py)."""
    x = b.input(0)
    value = constant_value(x)
    if value is not None:
        found = np.asarray(np.nonzero(np.atleast_1d(value)), dtype=np.int64)[: value.ndim]
        return [b.constant(found)]
    if rank(x) == 0:
        raise b.error(
            "a runtime scalar input is not supported: NonZero's result shape depends on its value",
            hint="make the input a constant (it folds then), or give it rank 1",
        )
    found = b.make(g.NonZeroOp, [x])
    nonzero = x if dtypes.is_bool(elem(x)) else b.make(g.NotOp, [b.make(g.EqualOp, [x, scalar(b, 0, x)])])
    ones = b.make(g.CastOp, [nonzero], [TensorType(_I64, list(shape(x)))])
    count = b.make(g.ReduceSumOp, [ones], axes=list(range(rank(x))), keepdims=0)
    b.set_dynamic_rows(found, count, axis=1)
    return [found]


@converter("Unique")
def convert_unique(b: NodeBuilder) -> list[SSAValue]:
    """Unique folds on a constant input, like NonZero: every result but
    inverse_indices has a data-dependent length."""
    value = constant_value(b.input(0))
    if value is None:
        raise b.error(
            "a runtime input is not supported: Unique's result shape depends on its values",
            hint="make the input a constant (it folds then), or compute Unique outside the model",
        )
    axis = b.attr("axis")
    if axis is not None:
        axis = norm_axis(b, int(axis), value.ndim)
    data = value.reshape(-1) if axis is None else value
    y, first, inverse, counts = np.unique(data, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(-1)
    if not b.attr("sorted", 1):
        # In order of first occurrence: renumber the sorted uniques.
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        y = np.take(y, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse]
    return [
        b.constant(y, elem(b.input(0))),
        *(b.constant(np.asarray(a, np.int64)) for a in (first, inverse, counts)),
    ]


# ---------------------------------------------------------------------------
# Einsum


def _parse_einsum(b: NodeBuilder, equation: str, ranks: Sequence[int]) -> tuple[list[list[str]], list[str]]:
    """Per-operand label lists and the output labels; ellipsis dims get labels '.0', '.1', ..."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise b.error(f"equation {equation!r} names {len(terms)} operands, the node has {len(ranks)}")
    n_ellipsis = 0
    parsed: list[list[str]] = []
    for term, r in zip(terms, ranks, strict=True):
        letters = term.replace("...", "")
        if any(c not in string.ascii_letters for c in letters) or term.count("...") > 1:
            raise b.error(f"cannot parse einsum term {term!r}")
        e = r - len(letters)
        if e < 0 or (e and "..." not in term):
            raise b.error(f"einsum term {term!r} does not match an operand of rank {r}")
        n_ellipsis = max(n_ellipsis, e)
        parsed.append([*term.partition("...")[0], *(f".{-e + i}" for i in range(e)), *term.partition("...")[2]]
                      if "..." in term else list(term))
    # Right-align ellipsis labels: '.{-e+i}' -> '.{E-e+i}'.
    labels = [[f".{n_ellipsis + int(lab[1:])}" if lab.startswith(".") else lab for lab in t] for t in parsed]
    ell = [f".{i}" for i in range(n_ellipsis)]
    if arrow:
        if any(c not in string.ascii_letters for c in out.replace("...", "")):
            raise b.error(f"cannot parse einsum output {out!r}")
        head, dots, tail = out.partition("...")
        output = [*head, *ell, *tail] if dots else list(out)
    else:
        counts: dict[str, int] = {}
        for t in labels:
            for lab in t:
                counts[lab] = counts.get(lab, 0) + 1
        output = ell + sorted(lab for lab, c in counts.items() if c == 1 and not lab.startswith("."))
    if len(set(output)) != len(output):
        raise b.error(f"equation {equation!r} repeats a label in its output")
    return labels, output


def _diagonals(b: NodeBuilder, x: SSAValue, labels: list[str]) -> tuple[SSAValue, list[str]]:
    """A label repeated in one term takes the diagonal: mask off-diagonal elements, sum one dim away."""
    labels = list(labels)
    for lab in dict.fromkeys(labels):
        while labels.count(lab) > 1:
            p = labels.index(lab)
            q = labels.index(lab, p + 1)
            dims = shape(x)
            if dims[p] != dims[q]:
                raise b.error(f"label {lab!r} names dims of sizes {dims[p]} and {dims[q]}")
            eye = np.eye(dims[p], dtype=np.bool_).reshape(
                [dims[d] if d in (p, q) else 1 for d in range(len(dims))]
            )
            x = b.make(g.WhereOp, [b.constant(eye), x, scalar(b, 0, x)])
            x = b.make(g.ReduceSumOp, [x], axes=[q], keepdims=0)
            del labels[q]
    return x, labels


def _sum_out(b: NodeBuilder, x: SSAValue, labels: list[str], drop: set[str]) -> tuple[SSAValue, list[str]]:
    axes = [d for d, lab in enumerate(labels) if lab in drop]
    if not axes:
        return x, labels
    y = b.make(g.ReduceSumOp, [x], axes=axes, keepdims=0)
    return y, [lab for lab in labels if lab not in drop]


def _contract(
    b: NodeBuilder, x: SSAValue, lx: list[str], y: SSAValue, ly: list[str], keep: set[str]
) -> tuple[SSAValue, list[str]]:
    """x * y summed over shared labels not in `keep`, as one batched matmul."""
    x, lx = _sum_out(b, x, lx, {lab for lab in lx if lab not in keep and lab not in ly})
    y, ly = _sum_out(b, y, ly, {lab for lab in ly if lab not in keep and lab not in lx})
    size = {**dict(zip(ly, shape(y), strict=True))}
    for lab, n in zip(lx, shape(x), strict=True):
        size[lab] = max(n, size.get(lab, n))
    batch = [lab for lab in lx if lab in ly and lab in keep]
    summed = [lab for lab in lx if lab in ly and lab not in keep]
    free_x = [lab for lab in lx if lab not in ly]
    free_y = [lab for lab in ly if lab not in lx]

    def arrange(v: SSAValue, labels: list[str], order: list[str], groups: list[list[str]]) -> SSAValue:
        v = transpose(b, v, [labels.index(lab) for lab in order])
        full = [size[lab] for lab in order]
        if tuple(full) != shape(v):  # size-1 ellipsis dims broadcast against the other operand
            v = b.make(g.BroadcastToOp, [v], [TensorType(elem(v), full)])
        return reshape(b, v, [math.prod(size[lab] for lab in grp) for grp in groups])

    xm = arrange(x, lx, batch + free_x + summed, [batch, free_x, summed])
    ym = arrange(y, ly, batch + summed + free_y, [batch, summed, free_y])
    z = b.make(g.MatMulOp, [xm, ym])
    labels = batch + free_x + free_y
    return reshape(b, z, [size[lab] for lab in labels]), labels


@converter("Einsum")
def convert_einsum(b: NodeBuilder) -> list[SSAValue]:
    operands = b.inputs
    if not operands:
        raise b.error("needs at least one input")
    if dtypes.is_bool(elem(operands[0])):
        raise b.error("operands must be numeric, got i1")
    labels, output = _parse_einsum(b, str(b.required_attr("equation")), [rank(v) for v in operands])
    for lab in output:
        if not any(lab in t for t in labels):
            raise b.error(f"output label {lab!r} appears in no operand")
    operands = list(operands)
    for i, v in enumerate(operands):
        operands[i], labels[i] = _diagonals(b, v, labels[i])
    acc, acc_labels = operands[0], labels[0]
    for i in range(1, len(operands)):
        later = {lab for t in labels[i + 1 :] for lab in t}
        acc, acc_labels = _contract(b, acc, acc_labels, operands[i], labels[i], later | set(output))
    acc, acc_labels = _sum_out(b, acc, acc_labels, {lab for lab in acc_labels if lab not in output})
    return [transpose(b, acc, [acc_labels.index(lab) for lab in output])]


@converter("TopK")
def convert_top_k(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if rank(x) == 0:
        raise b.error("input must have rank 1 or more")
    axis = norm_axis(b, b.attr("axis", -1), rank(x))
    if b.opset < 10:
        k = int(b.required_attr("k"))
    else:
        k = int(b.one_value(b.const_input(1, "k"), "k"))
    if not 0 <= k <= shape(x)[axis]:
        raise b.error(f"k={k} must be in [0, {shape(x)[axis]}] (the size of axis {axis})")
    largest = int(b.attr("largest", 1))
    # sorted=0 allows any order: the sorted one is as good.
    indices = b.make(g.TopKIndicesOp, [x], axis=axis, k=k, largest=largest)
    values = b.make(g.GatherElementsOp, [x, indices], axis=axis)
    return [values, indices]
