"""Converters of onnxruntime's quantized BERT contrib ops (domain com.microsoft).

`quantize_dynamic` on a model from onnxruntime's transformer optimizer maps
Attention to QAttention and EmbedLayerNormalization to QEmbedLayerNormalization.
With onnxruntime's CPU kernels' formulas:

- QAttention(input, weight, bias, input_scale, weight_scale, mask_index,
  input_zero_point, weight_zero_point, past): the merged Q/K/V projection is
  `float(int32 (input - zi)(weight - zw)) * (weight_scale * input_scale) + bias`
  (scale and zero point of the weight per tensor or per column), then the
  float Attention (contrib_attention.attend) with the same attributes and
  mask_index variants. past/present state is not supported.
- QEmbedLayerNormalization: EmbedLayerNormalization of the dequantized tables,
  `dq(word[ids]) + dq(position[s]) (+ dq(segment[segment_ids]))`, positions
  0..S-1, then LayerNorm with the dequantized gamma and beta (per-tensor
  parameters). Its mask index counts the elements of each row of `mask` that
  are exactly 1, as the kernel does.

Rows are gathered before they are dequantized: the same values as
dequantizing the tables, without float copies of them.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import Float32Type
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary, cast, rank, scalar, shape
from compiler.frontend.onnx_ops.contrib_attention import attend
from compiler.frontend.onnx_ops.contrib_quant_matmul import integer_matmul_to_float
from compiler.frontend.onnx_ops.quant import I32, dequantize, scalar_param

F32 = Float32Type()


def _opt_scalar(b: NodeBuilder, i: int, what: str) -> SSAValue | None:
    value = b.opt_input(i)
    return None if value is None else scalar_param(b, value, what)


@converter("QAttention", domain=MS_DOMAIN)
def convert_qattention(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if rank(x) != 3:
        raise b.error(f"input must be (batch, sequence, hidden), got shape {shape(x)}")
    if b.has_input(8) or (len(b.node.output) > 1 and b.node.output[1]):
        raise b.error(
            "past and present key/value state are not supported",
            hint="quantize the model without past state (an encoder has none)",
        )
    b.reject_attr("do_rotary", lambda v: not v, "rotary embedding is not supported")
    if not b.has_input(2):
        raise b.error("bias is required")
    input_scale = scalar_param(b, b.input(3), "input_scale")
    input_zp = _opt_scalar(b, 6, "input_zero_point")
    proj = integer_matmul_to_float(b, x, input_scale, input_zp, 1, 4, 7, 2)
    return [attend(b, proj, mask_input=5)]


def _dq_rows(b: NodeBuilder, table: int, ids: SSAValue, scale: int, zero_point: int, what: str) -> SSAValue:
    """dq(table[ids]) with the table's per-tensor scale and zero point at those inputs."""
    rows = b.make(g.GatherOp, [b.input(table), ids], axis=0)
    return _dq(b, rows, scale, zero_point, what)


def _dq(b: NodeBuilder, x: SSAValue, scale: int, zero_point: int, what: str) -> SSAValue:
    s = scalar_param(b, b.input(scale), f"the scale of {what}")
    return dequantize(b, x, s, _opt_scalar(b, zero_point, f"the zero point of {what}"))


@converter("QEmbedLayerNormalization", domain=MS_DOMAIN)
def convert_qembed_layer_norm(b: NodeBuilder) -> list[SSAValue | None]:
    """Outputs: the normalized embedding sum and the mask index."""
    ids = b.input(0)
    if rank(ids) != 2:
        raise b.error(f"input_ids must be (batch, sequence), got shape {shape(ids)}")
    batch, seq = shape(ids)
    if seq > shape(b.input(3))[0]:
        raise b.error(f"sequence length {seq} exceeds the {shape(b.input(3))[0]} rows of position_embedding")
    positions = b.constant(np.arange(seq, dtype=np.int32)[None, :])
    total = binary(b, g.AddOp, _dq_rows(b, 2, ids, 8, 13, "word_embedding"), _dq_rows(b, 3, positions, 9, 14, "position_embedding"))
    if b.has_input(1) and b.has_input(4):
        total = binary(b, g.AddOp, total, _dq_rows(b, 4, b.input(1), 10, 15, "segment_embedding"))
    gamma, beta = _dq(b, b.input(5), 11, 16, "gamma"), _dq(b, b.input(6), 12, 17, "beta")
    eps = float(b.attr("epsilon", 1e-12))
    y = b.make(g.LayerNormOp, [total, gamma, beta], axis=2, epsilon=eps)
    if b.has_input(7):
        mask = b.input(7)
        ones = b.make(g.EqualOp, [mask, scalar(b, 1, mask)])
        mask_index = b.make(g.ReduceSumOp, [cast(b, ones, I32)], axes=[1], keepdims=False)
    else:
        mask_index = b.constant(np.zeros(batch, dtype=np.int32))
    return [y, mask_index]
