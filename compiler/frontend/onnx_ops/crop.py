"""Converters of ONNX ops that pick or place elements by shapes and constants:
EyeLike (a constant: every shape is static here), CenterCropPad (a
graph.slice for the dims that shrink, a zero graph.pad for those that grow)
Compress (a graph.gather of the positions its condition selects; the
condition decides the result's shape, so it must be constant, or bound with
`specialize=` when it is a graph input) and MaxUnpool (a graph.scatter_elements
of the pooled values into zeros, at the flat indices MaxPool gave).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    elem,
    norm_axis,
    rank,
    require_rank,
    reshape,
    scalar,
    shape,
)
from compiler.frontend.onnx_ops.tensor import slice_value


@converter("EyeLike")
def convert_eye_like(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_rank(b, x, exactly=2)
    dtype_attr = b.attr("dtype")
    out_elem = elem(x) if dtype_attr is None else dtypes.from_onnx_dtype(int(dtype_attr))
    rows, cols = shape(x)
    eye = np.eye(rows, cols, int(b.attr("k", 0)), dtype=dtypes.to_numpy_dtype(out_elem))
    return [b.constant(eye, out_elem)]


@converter("CenterCropPad")
def convert_center_crop_pad(b: NodeBuilder) -> list[SSAValue]:
    """Each listed axis cropped or zero-padded to its target size around the centre
    (an odd difference leaves the extra element at the end)."""
    x = b.input(0)
    r = rank(x)
    target = [int(v) for v in b.const_input(1, "shape").reshape(-1)]
    axes_attr = b.ints_attr("axes")
    axes = list(range(r)) if axes_attr is None else [norm_axis(b, a, r) for a in axes_attr]
    if len(axes) != len(target):
        raise b.error(f"shape gives {len(target)} sizes for {len(axes)} axes")
    if len(set(axes)) != len(axes):
        raise b.error(f"axes {axes_attr} repeat an axis")
    if any(t < 0 for t in target):
        raise b.error(f"shape {target} must not be negative")
    dims = shape(x)
    starts, ends, crop_axes = [], [], []
    pads = [0] * (2 * r)
    for axis, size in zip(axes, target, strict=True):
        if size < dims[axis]:
            start = (dims[axis] - size) // 2
            starts.append(start)
            ends.append(start + size)
            crop_axes.append(axis)
        elif size > dims[axis]:
            grow = size - dims[axis]
            pads[axis], pads[r + axis] = grow // 2, grow - grow // 2
    y = slice_value(b, x, starts, ends, crop_axes, [1] * len(crop_axes)) if crop_axes else x
    if any(pads):
        y = b.make(g.PadOp, [y], pads=pads, mode="constant", value=0.0)
    return [y]


@converter("Compress")
def convert_compress(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    condition = np.asarray(b.const_input(1, "condition")).reshape(-1).astype(bool)
    axis_attr = b.attr("axis")
    if axis_attr is None:
        x = reshape(b, x, [int(np.prod(shape(x)))])
        axis = 0
    else:
        axis = norm_axis(b, int(axis_attr), rank(x))
    if condition.size > shape(x)[axis]:
        raise b.error(f"condition has {condition.size} values for a dim of {shape(x)[axis]}")
    picked = np.flatnonzero(condition).astype(np.int64)
    return [b.make(g.GatherOp, [x, b.constant(picked)], axis=axis)]


@converter("MaxUnpool")
def convert_max_unpool(b: NodeBuilder) -> list[SSAValue]:
    """Y = 0 except Y.flat[I[i]] = X[i]: MaxPool's Indices are flat over the whole [N, C, spatial...] output."""
    x, indices = b.input(0), b.input(1)
    require_rank(b, x, at_least=3)
    if shape(indices) != shape(x):
        raise b.error(f"indices {list(shape(indices))} must have the input's shape {list(shape(x))}")
    n_sp = rank(x) - 2
    kernel = b.ints_attr("kernel_shape")
    if kernel is None or len(kernel) != n_sp:
        raise b.error("kernel_shape must give one size per spatial dim")
    strides = b.ints_attr("strides") or [1] * n_sp
    pads = b.ints_attr("pads") or [0] * (2 * n_sp)
    out = [*shape(x)[:2], *(
        (size - 1) * s + k - pb - pe
        for size, s, k, pb, pe in zip(shape(x)[2:], strides, kernel, pads[:n_sp], pads[n_sp:], strict=True)
    )]
    if b.has_input(2):
        # The indices address the output_shape tensor (the pooled input's shape;
        # onnxruntime and PyTorch do so; ONNX's reference pads the inferred shape instead).
        inferred, out = out, [int(v) for v in b.const_input(2, "output_shape").reshape(-1)]
        if len(out) != rank(x) or out[:2] != inferred[:2] or any(o < i for o, i in zip(out, inferred, strict=True)):
            raise b.error(f"output_shape {out} must be [N, C, spatial...], at least the inferred {inferred}")
    total = int(np.prod(out))
    zeros = b.make(g.BroadcastToOp, [scalar(b, 0, x)], [TensorType(elem(x), [total])])
    flat_x = reshape(b, x, [int(np.prod(shape(x)))])
    flat_i = reshape(b, indices, [int(np.prod(shape(x)))])
    y = b.make(g.ScatterElementsOp, [zeros, flat_i, flat_x], axis=0, reduction="none")
    return [reshape(b, y, out)]
