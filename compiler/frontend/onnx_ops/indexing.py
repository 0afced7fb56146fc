"""Converters of the index-driven ONNX ops: GatherElements, GatherND,
ScatterElements (and its opset-9 name Scatter), ScatterND.

GatherElements and ScatterElements map to their graph ops. The ND forms
decompose: the index tuples become row numbers of the data viewed as
[rows, row...] (a small injective computation, then a reduction over the
tuple), so that GatherND is graph.gather on axis 0 and ScatterND is
graph.scatter_elements on axis 0 of a [rows, row size] view.
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import cast, elem, norm_axis, rank, reshape, shape

_I64 = dtypes.from_numpy_dtype(np.int64)


@converter("GatherElements")
def convert_gather_elements(b: NodeBuilder) -> list[SSAValue]:
    data, indices = b.input(0), b.input(1)
    axis = norm_axis(b, b.attr("axis", 0), rank(data))
    return [b.make(g.GatherElementsOp, [data, indices], axis=axis)]


def _reduction(b: NodeBuilder) -> str:
    reduction = b.attr("reduction", "none")
    if reduction not in g.SCATTER_REDUCTIONS:
        raise b.error(f"reduction={reduction!r} is not supported ({', '.join(g.SCATTER_REDUCTIONS)})")
    return reduction


@converter("ScatterElements", "Scatter")
def convert_scatter_elements(b: NodeBuilder) -> list[SSAValue]:
    data, indices, updates = b.input(0), b.input(1), b.input(2)
    axis = norm_axis(b, b.attr("axis", 0), rank(data))
    return [b.make(g.ScatterElementsOp, [data, indices, updates], axis=axis, reduction=_reduction(b))]


def _row_numbers(b: NodeBuilder, indices: SSAValue, dims: tuple[int, ...], batch_dims: int) -> SSAValue:
    """Index tuples (last dim of `indices`) -> row numbers of the data viewed as
    [prod(dims[:batch_dims + k]), ...]; batch dims add their own offset.

    Shape: indices' shape without its last dim.
    """
    idx_shape = shape(indices)
    k = idx_shape[-1]
    tuple_dims = dims[batch_dims : batch_dims + k]
    out_shape = list(idx_shape[:-1])
    indices = cast(b, indices, _I64)
    if k:
        # Negative components count from the end of their dim.
        sizes = b.constant(np.asarray(tuple_dims, dtype=np.int64))
        negative = b.make(g.LessOp, [indices, b.constant(np.asarray(0, dtype=np.int64))])
        wrapped = b.make(g.AddOp, [indices, sizes])
        indices = b.make(g.WhereOp, [negative, wrapped, indices])
        strides = [math.prod(tuple_dims[m + 1 :]) for m in range(k)]
        weighted = b.make(g.MulOp, [indices, b.constant(np.asarray(strides, dtype=np.int64))])
        rows = b.make(g.ReduceSumOp, [weighted], axes=[len(idx_shape) - 1], keepdims=0)
    else:
        rows = b.constant(np.zeros(out_shape, dtype=np.int64))
    if batch_dims:
        block = math.prod(tuple_dims)
        batch_shape = dims[:batch_dims]
        offsets = (np.arange(math.prod(batch_shape), dtype=np.int64) * block).reshape(batch_shape)
        offsets = offsets.reshape(batch_shape + (1,) * (len(out_shape) - batch_dims))
        rows = b.make(g.AddOp, [rows, b.constant(offsets)])
    return rows


def _check_nd(b: NodeBuilder, data: SSAValue, indices: SSAValue, batch_dims: int) -> int:
    """The tuple length k, after checking the shapes GatherND/ScatterND need."""
    ds, is_ = shape(data), shape(indices)
    if not dtypes.is_integer(elem(indices)) or dtypes.is_bool(elem(indices)):
        raise b.error(f"indices must be integers, got {elem(indices)}")
    if len(is_) < 1 or batch_dims < 0 or batch_dims >= min(len(ds), len(is_)):
        raise b.error(f"batch_dims={batch_dims} does not fit data rank {len(ds)} and indices rank {len(is_)}")
    if ds[:batch_dims] != is_[:batch_dims]:
        raise b.error(f"the first {batch_dims} dims of data {ds} and indices {is_} differ")
    k = is_[-1]
    if batch_dims + k > len(ds):
        raise b.error(f"index tuples of length {k} are too long for data of rank {len(ds)}")
    return k


@converter("GatherND")
def convert_gather_nd(b: NodeBuilder) -> list[SSAValue]:
    data, indices = b.input(0), b.input(1)
    batch_dims = int(b.attr("batch_dims", 0))
    k = _check_nd(b, data, indices, batch_dims)
    ds = shape(data)
    rows = _row_numbers(b, indices, ds, batch_dims)
    table = reshape(b, data, [math.prod(ds[: batch_dims + k]), *ds[batch_dims + k :]])
    return [b.make(g.GatherOp, [table, rows], axis=0)]


@converter("ScatterND")
def convert_scatter_nd(b: NodeBuilder) -> list[SSAValue]:
    data, indices, updates = b.input(0), b.input(1), b.input(2)
    k = _check_nd(b, data, indices, 0)
    ds, is_ = shape(data), shape(indices)
    want = (*is_[:-1], *ds[k:])
    if shape(updates) != want:
        raise b.error(f"updates have shape {shape(updates)}, expected {want}")
    n_rows, row = math.prod(ds[:k]), math.prod(ds[k:])
    n_updates = math.prod(is_[:-1])
    rows = reshape(b, _row_numbers(b, indices, ds, 0), [n_updates, 1])
    if row != 1:
        rows = b.make(g.BroadcastToOp, [rows], [TensorType(_I64, [n_updates, row])])
    table = reshape(b, data, [n_rows, row])
    flat_updates = reshape(b, updates, [n_updates, row])
    out = b.make(
        g.ScatterElementsOp, [table, rows, flat_updates], axis=0, reduction=_reduction(b)
    )
    return [reshape(b, out, list(ds))]
