"""Converters of onnxruntime's fused float contrib ops (domain com.microsoft).

onnxruntime's transformer optimizer (`onnxruntime.transformers.optimizer`)
and the models its sessions save after optimization fuse subgraphs into
these. Each is undone here into the graph ops it stands for, which the
compiler's own fusion passes put back together:

    FusedMatMul / TransposeMatMul  alpha * op(A) @ op(B), op transposing the last two dims
                                   (transA/B) and moving dim 0 to the rows (transBatchA/B)
    FusedGemm                      activation(Gemm(A, B, C)): Relu, Tanh, Sigmoid or LeakyRelu
    Gelu                           0.5 * x * (1 + erf(x / sqrt(2)))
    BiasGelu                       Gelu(A + B)
    FastGelu                       0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x^3))), x (+ bias)
    QuickGelu                      x * sigmoid(alpha * x)
    BiasAdd                        X + bias + skip
    SkipLayerNormalization         LayerNorm(input + skip (+ bias)) over the last dim,
                                   also giving mean, 1/std and the sum
    SkipSimplifiedLayerNormalization  the same with RMS normalization (no mean, no beta)
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    rank,
    require_float,
    scalar,
    transpose,
)
from compiler.frontend.onnx_ops.elementwise import gelu
from compiler.frontend.onnx_ops.nn import convert_gemm, matmul
from compiler.frontend.onnx_ops.normalization import mean_and_inv_std

DEFAULT_SKIP_EPSILON = 1e-12
"""onnxruntime's default epsilon of SkipLayerNormalization (its optimizer always sets one)."""


# MatMul ------------------------------------------------------------------------------


def _matrix_operand(b: NodeBuilder, x: SSAValue, trans: bool, trans_batch: bool) -> SSAValue:
    """A FusedMatMul operand as the matrices it stands for: transBatch makes dim 0 the
    row dim (the batch dims are 1..r-2), trans then swaps rows and columns; a vector
    stays as is (onnxruntime's shape inference)."""
    r = rank(x)
    if r < 2:
        return x
    batch, rows, cols = (list(range(1, r - 1)), 0, r - 1) if trans_batch else (list(range(r - 2)), r - 2, r - 1)
    if trans:
        rows, cols = cols, rows
    return transpose(b, x, [*batch, rows, cols])


@converter("FusedMatMul", "TransposeMatMul", domain=MS_DOMAIN)
def convert_fused_matmul(b: NodeBuilder) -> list[SSAValue]:
    a = _matrix_operand(b, b.input(0), bool(b.attr("transA", 0)), bool(b.attr("transBatchA", 0)))
    w = _matrix_operand(b, b.input(1), bool(b.attr("transB", 0)), bool(b.attr("transBatchB", 0)))
    y = matmul(b, a, w)
    alpha = float(b.attr("alpha", 1.0))
    return [y if alpha == 1.0 else binary(b, g.MulOp, y, scalar(b, alpha, y))]


@converter("FusedGemm", domain=MS_DOMAIN)
def convert_fused_gemm(b: NodeBuilder) -> list[SSAValue]:
    """Gemm (same inputs and attributes), then `activation` (onnxruntime's session fuses these)."""
    (y,) = convert_gemm(b)
    activation = b.attr("activation", "")
    if not activation:
        return [y]
    if activation == "LeakyRelu":
        return [b.make(g.LeakyReluOp, [y], alpha=float(b.attr("activation_alpha", 0.01)))]
    unary = {"Relu": g.ReluOp, "Tanh": g.TanhOp, "Sigmoid": g.SigmoidOp}.get(activation)
    if unary is None:
        raise b.error(f"activation={activation!r} is not supported (Relu, Tanh, Sigmoid, LeakyRelu are)")
    return [b.make(unary, [y])]


# Gelu family -----------------------------------------------------------------------


def _with_bias(b: NodeBuilder, x: SSAValue, bias_input: int) -> SSAValue:
    require_float(b, x)
    return binary(b, g.AddOp, x, b.input(bias_input)) if b.has_input(bias_input) else x


@converter("Gelu", domain=MS_DOMAIN)
def convert_ms_gelu(b: NodeBuilder) -> list[SSAValue]:
    return [gelu(b, b.input(0))]


@converter("BiasGelu", domain=MS_DOMAIN)
def convert_bias_gelu(b: NodeBuilder) -> list[SSAValue]:
    return [gelu(b, _with_bias(b, b.input(0), 1))]


@converter("FastGelu", domain=MS_DOMAIN)
def convert_fast_gelu(b: NodeBuilder) -> list[SSAValue]:
    return [gelu(b, _with_bias(b, b.input(0), 1), approximate="tanh")]


@converter("QuickGelu", domain=MS_DOMAIN)
def convert_quick_gelu(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_float(b, x)
    alpha = float(b.attr("alpha", 1.702))
    scaled = x if alpha == 1.0 else binary(b, g.MulOp, x, scalar(b, alpha, x))
    return [binary(b, g.MulOp, x, b.make(g.SigmoidOp, [scaled]))]


@converter("BiasAdd", domain=MS_DOMAIN)
def convert_bias_add(b: NodeBuilder) -> list[SSAValue]:
    return [binary(b, g.AddOp, _with_bias(b, b.input(0), 1), b.input(2))]


# Skip layer normalization ------------------------------------------------------------


def _skip_sum(b: NodeBuilder, bias_input: int) -> SSAValue:
    """input + skip (+ bias), in onnxruntime's order; skip may broadcast (S, H) or (1, S, H)."""
    x = b.input(0)
    require_float(b, x)
    total = binary(b, g.AddOp, x, b.input(1))
    if b.has_input(bias_input):
        total = binary(b, g.AddOp, total, b.input(bias_input))
    return total


def _wants(b: NodeBuilder, *outputs: int) -> bool:
    return any(len(b.node.output) > i and b.node.output[i] for i in outputs)


@converter("SkipLayerNormalization", domain=MS_DOMAIN)
def convert_skip_layer_norm(b: NodeBuilder) -> list[SSAValue | None]:
    """Outputs: the normalized sum, then (optional) mean, 1/std and the sum itself."""
    total = _skip_sum(b, 4)
    eps = float(b.attr("epsilon", DEFAULT_SKIP_EPSILON))
    operands = [total, b.input(2)] + ([b.input(3)] if b.has_input(3) else [])
    y = b.make(g.LayerNormOp, operands, axis=rank(total) - 1, epsilon=eps)
    mean = inv_std = None
    if _wants(b, 1, 2):
        mean, inv_std = mean_and_inv_std(b, total, [rank(total) - 1], eps)
    return [y, mean, inv_std, total]


@converter("SkipSimplifiedLayerNormalization", domain=MS_DOMAIN)
def convert_skip_simplified_layer_norm(b: NodeBuilder) -> list[SSAValue | None]:
    """RMS normalization of the sum: sum / sqrt(mean(sum^2) + epsilon) * gamma.
    Outputs: that, then (optional) mean (none: not computed), 1/rms and the sum."""
    total = _skip_sum(b, 3)
    if _wants(b, 1):
        raise b.error("the mean output is not supported (RMS normalization computes none)")
    last = rank(total) - 1
    mean_square = b.make(g.ReduceMeanOp, [binary(b, g.MulOp, total, total)], axes=[last], keepdims=True)
    eps = scalar(b, float(b.attr("epsilon", DEFAULT_SKIP_EPSILON)), total)
    inv_rms = b.make(g.ReciprocalOp, [b.make(g.SqrtOp, [binary(b, g.AddOp, mean_square, eps)])])
    y = binary(b, g.MulOp, binary(b, g.MulOp, total, inv_rms), b.input(2))
    return [y, None, inv_rms, total]
