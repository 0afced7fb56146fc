"""Normalizations that decompose into graph.layer_norm or reductions.

GroupNormalization is a layer norm over [C/G, spatial...] after a reshape to
[N, G, ...] (one fused reduction kernel); RMSNormalization,
MeanVarianceNormalization and LpNormalization are reductions and broadcasts
that fusion turns into a reduction kernel with an elementwise epilogue.
LayerNormalization's optional Mean and InvStdDev outputs are computed here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    elem,
    norm_axis,
    rank,
    require_float,
    require_rank,
    reshape,
    scalar,
    shape,
)


def _mean(b: NodeBuilder, x: SSAValue, axes: Sequence[int]) -> SSAValue:
    return b.make(g.ReduceMeanOp, [x], axes=sorted(axes), keepdims=True)


def mean_and_inv_std(b: NodeBuilder, x: SSAValue, axes: Sequence[int], epsilon: float) -> tuple[SSAValue, SSAValue]:
    """mean(x) and 1 / sqrt(var(x) + epsilon) over `axes`, kept as size-1 dims."""
    mean = _mean(b, x, axes)
    centered = binary(b, g.SubOp, x, mean)
    var = _mean(b, binary(b, g.MulOp, centered, centered), axes)
    std = b.make(g.SqrtOp, [binary(b, g.AddOp, var, scalar(b, epsilon, x))])
    return mean, b.make(g.ReciprocalOp, [std])


@converter("GroupNormalization")
def convert_group_norm(b: NodeBuilder) -> list[SSAValue]:
    x, scale, bias = b.input(0), b.input(1), b.input(2)
    require_float(b, x)
    require_rank(b, x, at_least=3)
    n, c, *spatial = shape(x)
    groups = int(b.required_attr("num_groups"))
    if groups < 1 or c % groups:
        raise b.error(f"num_groups={groups} does not divide {c} channels")
    # Opset 18 scales per group, opset 21 per channel.
    per = groups if b.opset < 21 else c
    for name, v in (("scale", scale), ("bias", bias)):
        if shape(v) != (per,):
            raise b.error(f"{name} must have shape ({per},), got {shape(v)}")
    grouped = reshape(b, x, [n, groups, c // groups * math.prod(spatial)])
    ones = b.constant(np.ones((1,), dtypes.to_numpy_dtype(elem(x))), elem(x))
    eps = float(b.attr("epsilon", 1e-5))
    normed = b.make(g.LayerNormOp, [grouped, ones], axis=2, epsilon=eps)
    if b.opset < 21:
        y = binary(b, g.MulOp, normed, reshape(b, scale, [groups, 1]))
        y = binary(b, g.AddOp, y, reshape(b, bias, [groups, 1]))
        return [reshape(b, y, shape(x))]
    y = reshape(b, normed, shape(x))
    channel = [c] + [1] * len(spatial)
    y = binary(b, g.MulOp, y, reshape(b, scale, channel))
    return [binary(b, g.AddOp, y, reshape(b, bias, channel))]


@converter("RMSNormalization")
def convert_rms_norm(b: NodeBuilder) -> list[SSAValue]:
    x, scale = b.input(0), b.input(1)
    require_float(b, x)
    r = rank(x)
    axis = norm_axis(b, b.attr("axis", -1), r)
    axes = list(range(axis, r))
    mean_square = _mean(b, binary(b, g.MulOp, x, x), axes)
    eps = scalar(b, float(b.attr("epsilon", 1e-5)), x)
    inv = b.make(g.ReciprocalOp, [b.make(g.SqrtOp, [binary(b, g.AddOp, mean_square, eps)])])
    return [binary(b, g.MulOp, binary(b, g.MulOp, x, inv), scale)]


@converter("MeanVarianceNormalization")
def convert_mvn(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_float(b, x)
    r = rank(x)
    axes = sorted({norm_axis(b, a, r) for a in b.ints_attr("axes", [0, 2, 3]) or []})
    mean = _mean(b, x, axes)
    centered = binary(b, g.SubOp, x, mean)
    std = b.make(g.SqrtOp, [_mean(b, binary(b, g.MulOp, centered, centered), axes)])
    # ONNX's function body adds 1e-9 to the standard deviation.
    return [binary(b, g.DivOp, centered, binary(b, g.AddOp, std, scalar(b, 1e-9, x)))]


@converter("LpNormalization")
def convert_lp_norm(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_float(b, x)
    axis = norm_axis(b, b.attr("axis", -1), rank(x))
    p = int(b.attr("p", 2))
    if p == 1:
        norm = b.make(g.ReduceSumOp, [b.make(g.AbsOp, [x])], axes=[axis], keepdims=True)
    elif p == 2:
        norm = b.make(g.SqrtOp, [b.make(g.ReduceSumOp, [binary(b, g.MulOp, x, x)], axes=[axis], keepdims=True)])
    else:
        raise b.error(f"p={p} is not supported (1 or 2)")
    # A zero vector stays zero (0 / 1) instead of 0 / 0.
    zero = binary(b, g.EqualOp, norm, scalar(b, 0.0, x))
    safe = b.make(g.WhereOp, [zero, scalar(b, 1.0, x), norm])
    return [binary(b, g.DivOp, x, safe)]
