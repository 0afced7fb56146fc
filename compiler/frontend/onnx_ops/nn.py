"""Converters of neural-network ONNX ops: conv, pooling, normalization, gemm, softmax."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

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
    transpose,
    unsqueeze,
)
from compiler.frontend.onnx_ops.normalization import mean_and_inv_std
from compiler.frontend.onnx_ops.spatial import (
    conv_nd,
    max_pool_indices,
    pool_nd,
    window_count,
    window_sum,
)


def _auto_pads(
    b: NodeBuilder,
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    """ONNX pads [begins..., ends...] from `pads` or `auto_pad`."""
    n = len(spatial)
    # Checked here, before any arithmetic divides by them (graph verifiers come later).
    for name, values in (("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)):
        if len(values) != n or any(v < 1 for v in values):
            raise b.error(f"{name} {list(values)} must be {n} positive values")
    auto_pad = b.attr("auto_pad", "NOTSET")
    if auto_pad in ("NOTSET", ""):
        pads = b.ints_attr("pads") or [0] * (2 * n)
        if len(pads) != 2 * n:
            raise b.error(f"pads needs {2 * n} values, got {len(pads)}")
        return pads
    if auto_pad == "VALID":
        return [0] * (2 * n)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise b.error(f"auto_pad={auto_pad!r} is not supported")
    begins, ends = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


@converter("Conv")
def convert_conv(b: NodeBuilder) -> list[SSAValue]:
    require_float(b, b.input(0))
    return [conv(b, b.input(0), b.input(1), b.opt_input(2))]


def conv(b: NodeBuilder, x: SSAValue, w: SSAValue, bias: SSAValue | None) -> SSAValue:
    """A graph.conv from the node's geometry attributes (1-D and 3-D convs through
    2-D ones, see spatial.py); ConvInteger and QLinearConv share it."""
    require_rank(b, x, at_least=3)
    if rank(w) != rank(x):
        raise b.error(f"the weight has rank {rank(w)}, the input rank {rank(x)}")
    spatial = shape(x)[2:]
    n_sp = len(spatial)
    kernel = b.ints_attr("kernel_shape") or list(shape(w)[2:])
    if list(kernel) != list(shape(w)[2:]):
        raise b.error(f"kernel_shape {kernel} differs from the weight's spatial dims {list(shape(w)[2:])}")
    strides = b.ints_attr("strides") or [1] * n_sp
    dilations = b.ints_attr("dilations") or [1] * n_sp
    pads = _auto_pads(b, spatial, kernel, strides, dilations)
    return conv_nd(b, x, w, bias, strides, pads, dilations, int(b.attr("group", 1)))


def _pool_geometry(
    b: NodeBuilder, x: SSAValue
) -> tuple[list[int], list[int], list[int], list[int], bool]:
    """kernel, strides, dilations, pads, and whether ceil_mode added end padding."""
    spatial = shape(x)[2:]
    n_sp = len(spatial)
    kernel = b.ints_attr("kernel_shape")
    if kernel is None or len(kernel) != n_sp:
        raise b.error("kernel_shape must give one size per spatial dim")
    strides = b.ints_attr("strides") or [1] * n_sp
    dilations = b.ints_attr("dilations") or [1] * n_sp
    pads = _auto_pads(b, spatial, kernel, strides, dilations)
    grew = False
    if b.attr("ceil_mode", 0):
        # Extra end padding makes floor division round up; the last window
        # must still start inside the input or its begin padding.
        for d in range(n_sp):
            eff = (kernel[d] - 1) * dilations[d] + 1
            padded = spatial[d] + pads[d] + pads[n_sp + d]
            out = -(-(padded - eff) // strides[d]) + 1
            if (out - 1) * strides[d] >= spatial[d] + pads[d]:
                out -= 1
            need = (out - 1) * strides[d] + eff - padded
            if need > 0:
                pads[n_sp + d] += need
                grew = True
    return kernel, strides, dilations, pads, grew


@converter("MaxPool")
def convert_max_pool(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_rank(b, x, at_least=3)
    kernel, strides, dilations, pads, _ = _pool_geometry(b, x)
    y = pool_nd(b, g.MaxPoolOp, x, kernel, strides, pads, dilations)
    if not (len(b.node.output) > 1 and b.node.output[1]):
        return [y]
    column_major = bool(b.attr("storage_order", 0))
    return [y, max_pool_indices(b, x, kernel, strides, pads, dilations, column_major)]


@converter("AveragePool")
def convert_avg_pool(b: NodeBuilder) -> list[SSAValue]:
    return [average_pool(b, b.input(0))]


def average_pool(b: NodeBuilder, x: SSAValue) -> SSAValue:
    """AveragePool of x (NC...) with the node's attributes (also QLinearAveragePool's)."""
    require_rank(b, x, at_least=3)
    require_float(b, x)
    include_pad = bool(b.attr("count_include_pad", 0))
    kernel, strides, dilations, pads, grew = _pool_geometry(b, x)
    if all(d == 1 for d in dilations) and not (include_pad and grew):
        return pool_nd(b, g.AvgPoolOp, x, kernel, strides, pads, dilations, count_include_pad=include_pad)
    # Dilated windows, or end padding from ceil_mode that must not count: a
    # window sum divided by a count map known at compile time.
    total = window_sum(b, x, kernel, strides, pads, dilations)
    counted = _explicit_pads(b, x) if include_pad else [0] * len(pads)
    count = window_count(shape(x)[2:], kernel, strides, pads, dilations, counted)
    return binary(b, g.DivOp, total, b.constant(count.astype(np.float32), elem(x)))


def _explicit_pads(b: NodeBuilder, x: SSAValue) -> list[int]:
    """The pads the node asks for, before ceil_mode adds any."""
    n_sp = rank(x) - 2
    kernel = b.ints_attr("kernel_shape") or [1] * n_sp
    strides = b.ints_attr("strides") or [1] * n_sp
    dilations = b.ints_attr("dilations") or [1] * n_sp
    return _auto_pads(b, shape(x)[2:], kernel, strides, dilations)


@converter("LpPool")
def convert_lp_pool(b: NodeBuilder) -> list[SSAValue]:
    """(sum of |x|^p over the window)^(1/p); padding adds nothing to the sum."""
    x = b.input(0)
    require_rank(b, x, at_least=3)
    require_float(b, x)
    p = float(b.attr("p", 2))
    if p <= 0:
        raise b.error(f"p={p:g} must be positive")
    kernel, strides, dilations, pads, _ = _pool_geometry(b, x)
    if p == 2:
        powered = binary(b, g.MulOp, x, x)
    elif p == 1:
        powered = b.make(g.AbsOp, [x])
    else:
        powered = binary(b, g.PowOp, b.make(g.AbsOp, [x]), scalar(b, p, x))
    total = window_sum(b, powered, kernel, strides, pads, dilations)
    if p == 2:
        return [b.make(g.SqrtOp, [total])]
    if p == 1:
        return [total]
    return [binary(b, g.PowOp, total, scalar(b, 1.0 / p, x))]


@converter("GlobalAveragePool")
def convert_global_avg_pool(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    return [b.make(g.ReduceMeanOp, [x], axes=list(range(2, rank(x))), keepdims=True)]


@converter("GlobalMaxPool")
def convert_global_max_pool(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    return [b.make(g.ReduceMaxOp, [x], axes=list(range(2, rank(x))), keepdims=True)]


@converter("BatchNormalization")
def convert_batch_norm(b: NodeBuilder) -> list[SSAValue]:
    if b.attr("training_mode", 0):
        raise b.error("training_mode=1 is not supported", hint="export the model in eval mode")
    if b.opset < 9 and b.attr("spatial", 1) == 0:
        raise b.error("spatial=0 is not supported")
    x = b.input(0)
    operands = [x, b.input(1), b.input(2), b.input(3), b.input(4)]
    return [b.make(g.BatchNormOp, operands, epsilon=float(b.attr("epsilon", 1e-5)))]


@converter("InstanceNormalization")
def convert_instance_norm(b: NodeBuilder) -> list[SSAValue]:
    x, scale, bias = b.input(0), b.input(1), b.input(2)
    require_float(b, x)
    require_rank(b, x, at_least=3)
    axes = list(range(2, rank(x)))
    mean = b.make(g.ReduceMeanOp, [x], axes=axes, keepdims=True)
    centered = binary(b, g.SubOp, x, mean)
    var = b.make(g.ReduceMeanOp, [binary(b, g.MulOp, centered, centered)], axes=axes, keepdims=True)
    eps = scalar(b, float(b.attr("epsilon", 1e-5)), x)
    normed = binary(b, g.DivOp, centered, b.make(g.SqrtOp, [binary(b, g.AddOp, var, eps)]))
    channel = [shape(x)[1]] + [1] * (rank(x) - 2)
    y = binary(b, g.MulOp, normed, reshape(b, scale, channel))
    return [binary(b, g.AddOp, y, reshape(b, bias, channel))]


@converter("LayerNormalization")
def convert_layer_norm(b: NodeBuilder) -> list[SSAValue | None]:
    x = b.input(0)
    axis = norm_axis(b, b.attr("axis", -1), rank(x))
    operands = [x, b.input(1)]
    if b.has_input(2):
        operands.append(b.input(2))
    eps = float(b.attr("epsilon", 1e-5))
    y = b.make(g.LayerNormOp, operands, axis=axis, epsilon=eps)
    if not any(len(b.node.output) > i and b.node.output[i] for i in (1, 2)):
        return [y]
    # The optional Mean and InvStdDev outputs (training exports) are their own reductions.
    mean, inv_std = mean_and_inv_std(b, x, list(range(axis, rank(x))), eps)
    return [y, mean, inv_std]


@converter("LRN")
def convert_lrn(b: NodeBuilder) -> list[SSAValue]:
    return [
        b.make(
            g.LRNOp,
            [b.input(0)],
            size=int(b.required_attr("size")),
            alpha=float(b.attr("alpha", 1e-4)),
            beta=float(b.attr("beta", 0.75)),
            bias=float(b.attr("bias", 1.0)),
        )
    ]


def matmul(b: NodeBuilder, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
    """ONNX MatMul: 1-D operands are promoted, then the added dim removed."""
    squeeze_lhs, squeeze_rhs = rank(lhs) == 1, rank(rhs) == 1
    if squeeze_lhs:
        lhs = unsqueeze(b, lhs, [0])
    if squeeze_rhs:
        rhs = unsqueeze(b, rhs, [1])
    y = b.make(g.MatMulOp, [lhs, rhs])
    out = list(shape(y))
    if squeeze_rhs:
        out.pop(-1)
    if squeeze_lhs:
        out.pop(-2 if squeeze_rhs is False else -1)
    return reshape(b, y, out)


@converter("MatMul")
def convert_matmul(b: NodeBuilder) -> list[SSAValue]:
    return [matmul(b, b.input(0), b.input(1))]


def gemm_operands(b: NodeBuilder, a: SSAValue, w: SSAValue) -> tuple[SSAValue, SSAValue]:
    """A and B of a Gemm (or QGemm) as [M, K] and [K, N], transposed as transA and transB say."""
    if rank(a) != 2 or rank(w) != 2:
        raise b.error(f"{b.node.op_type} operands must be 2-D")
    if b.attr("transA", 0):
        a = transpose(b, a, [1, 0])
    if b.attr("transB", 0):
        w = transpose(b, w, [1, 0])
    return a, w


@converter("Gemm")
def convert_gemm(b: NodeBuilder) -> list[SSAValue]:
    a, w = gemm_operands(b, b.input(0), b.input(1))
    y = b.make(g.MatMulOp, [a, w])
    alpha = float(b.attr("alpha", 1.0))
    if alpha != 1.0:
        y = binary(b, g.MulOp, y, scalar(b, alpha, y))
    if b.has_input(2):
        c = b.input(2)
        beta = float(b.attr("beta", 1.0))
        if beta != 1.0:
            c = binary(b, g.MulOp, c, scalar(b, beta, c))
        y = binary(b, g.AddOp, y, c)
    return [y]


def softmax_like(b: NodeBuilder, cls: type[g.GraphOp], x: SSAValue, opset: int) -> SSAValue:
    """Softmax or LogSoftmax of x with the node's `axis`, as ONNX defines it at `opset`
    (QLinearSoftmax names the Softmax opset it follows in an attribute)."""
    r = rank(x)
    if opset >= 13:
        return b.make(cls, [x], axis=norm_axis(b, b.attr("axis", -1), r))
    # Before opset 13 the input is coerced to 2-D at `axis`.
    axis = norm_axis(b, b.attr("axis", 1), r)
    if axis == r - 1:
        return b.make(cls, [x], axis=axis)
    src = shape(x)
    flat = reshape(b, x, [math.prod(src[:axis]), math.prod(src[axis:])])
    return reshape(b, b.make(cls, [flat], axis=1), src)


@converter("Softmax")
def convert_softmax(b: NodeBuilder) -> list[SSAValue]:
    return [softmax_like(b, g.SoftmaxOp, b.input(0), b.opset)]


@converter("LogSoftmax")
def convert_log_softmax(b: NodeBuilder) -> list[SSAValue]:
    return [softmax_like(b, g.LogSoftmaxOp, b.input(0), b.opset)]
