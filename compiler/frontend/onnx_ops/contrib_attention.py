"""Converters of onnxruntime's BERT contrib ops Attention and EmbedLayerNormalization
(domain com.microsoft), which its transformer optimizer fuses when it recognizes
a BERT's self-attention and embeddings.

- Attention projects the input with merged Q/K/V weights (and bias), then is
  `softmax(Q K^T * scale + mask) V` per head. Masked keys get
  `mask_filter_value` (default -10000, finite: onnxruntime's CPU kernel adds it,
  it does not use -inf). `mask_index` may be key lengths (B), end and start
  positions (2B), a raw 0/1 mask (B, T) or (B, S, T); `unidirectional` masks
  later keys; `attention_bias` is added. No past/present state, rotary
  embedding or 4-D (Megatron) mask. `attend` (all but the projection) is
  shared with QAttention (contrib_quant_bert), whose projection is an integer one.
- EmbedLayerNormalization is LayerNorm(word[ids] + position[position_ids or
  0..S-1] (+ segment[segment_ids])); its second output, the mask index that
  Attention reads, is the number of ones of each row of `mask` (0 without one).
"""

from __future__ import annotations

import math

import numpy as np
from onnx import AttributeProto
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, converter
from compiler.frontend.onnx_ops.attention import slice_last, to_heads
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    rank,
    require_float,
    reshape,
    scalar,
    shape,
    transpose,
)
from compiler.frontend.onnx_ops.nn import matmul

I32 = IntegerType(32)
INT = AttributeProto.INT
I64 = IntegerType(64)


# Attention -----------------------------------------------------------------------------


def _reject_state(b: NodeBuilder) -> None:
    if b.has_input(4) or b.has_input(6) or (len(b.node.output) > 1 and b.node.output[1]):
        raise b.error("past and present key/value state are not supported")
    b.reject_attr("do_rotary", lambda v: not v, "rotary embedding is not supported")


def _projections(b: NodeBuilder, x: SSAValue) -> SSAValue:
    """x @ weights (+ bias): Q, K and V side by side."""
    proj = matmul(b, x, b.input(1))
    return binary(b, g.AddOp, proj, b.input(2)) if b.has_input(2) else proj


def split_qkv(b: NodeBuilder, proj: SSAValue) -> tuple[SSAValue, SSAValue, SSAValue]:
    """The merged projection split into Q, K and V by qkv_hidden_sizes (equal thirds without it)."""
    total = shape(proj)[-1]
    sizes = b.ints_attr("qkv_hidden_sizes") or [total // 3] * 3
    if len(sizes) != 3 or sum(sizes) != total or sizes[0] != sizes[1]:
        raise b.error(f"qkv_hidden_sizes {sizes} do not split the weights' {total} columns into Q, K (same size), V")
    return slice_last(b, proj, 0, sizes[0]), slice_last(b, proj, sizes[0], sizes[1]), slice_last(b, proj, sum(sizes[:2]), sizes[2])


def _allowed_keys(b: NodeBuilder, mask: SSAValue, batch: int, seq: int, total: int) -> SSAValue:
    """Which keys each query may attend, by mask_index: (B, 1, 1|S, T) booleans."""
    keys = b.constant(np.arange(total, dtype=np.int64))
    if rank(mask) == 1 and shape(mask)[0] in (batch, 2 * batch):
        bounds = cast(b, mask, I64)
        end = reshape(b, slice_last(b, bounds, 0, batch), [batch, 1, 1, 1])
        allowed = b.make(g.LessOp, [keys, end])
        if shape(mask)[0] == 2 * batch:
            start = reshape(b, slice_last(b, bounds, batch, batch), [batch, 1, 1, 1])
            allowed = b.make(g.AndOp, [allowed, b.make(g.GreaterEqualOp, [keys, start])])
        return allowed
    if rank(mask) == 2 and shape(mask) == (batch, total):
        return reshape(b, b.make(g.GreaterOp, [mask, scalar(b, 0, mask)]), [batch, 1, 1, total])
    if rank(mask) == 3 and shape(mask) == (batch, seq, total):
        return reshape(b, b.make(g.GreaterOp, [mask, scalar(b, 0, mask)]), [batch, 1, seq, total])
    raise b.error(f"mask_index of shape {shape(mask)} is not supported (B), (2B), (B, T) or (B, S, T) are")


def _mask_bias(b: NodeBuilder, mask_input: int, batch: int, seq: int, like: SSAValue) -> SSAValue | None:
    """mask_filter_value where a key is masked (by the mask_index at input `mask_input`
    or unidirectional), else 0."""
    allowed = None if not b.has_input(mask_input) else _allowed_keys(b, b.input(mask_input), batch, seq, seq)
    if b.attr("unidirectional", 0):
        causal = b.constant(np.tril(np.ones((seq, seq), dtype=np.bool_)))
        allowed = causal if allowed is None else b.make(g.AndOp, [allowed, causal])
    if allowed is None:
        return None
    fill = float(b.attr("mask_filter_value", -10000.0))
    return b.make(g.WhereOp, [allowed, scalar(b, 0.0, like), scalar(b, fill, like)])


@converter("Attention", domain=MS_DOMAIN)
def convert_ms_attention(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_float(b, x)
    if rank(x) != 3:
        raise b.error(f"input must be (batch, sequence, hidden), got shape {shape(x)}")
    _reject_state(b)
    return [attend(b, _projections(b, x), mask_input=3, bias_input=5)]


def attend(b: NodeBuilder, proj: SSAValue, mask_input: int, bias_input: int | None = None) -> SSAValue:
    """softmax(Q K^T * scale + mask (+ attention_bias)) V per head, for the merged
    (B, S, Q|K|V) projection `proj`, with the node's num_heads, scale, unidirectional
    and mask_filter_value and its mask_index at input `mask_input`; (B, S, V's hidden)."""
    heads = int(b.required_attr("num_heads", kind=INT))
    q, k, v = (to_heads(b, t, heads, what) for t, what in zip(split_qkv(b, proj), "QKV", strict=True))
    scale = float(b.attr("scale", 0.0)) or 1.0 / math.sqrt(shape(q)[-1])
    scores = binary(b, g.MulOp, b.make(g.MatMulOp, [q, transpose(b, k, [0, 1, 3, 2])]), scalar(b, scale, proj))
    batch, seq = shape(proj)[:2]
    bias = _mask_bias(b, mask_input, batch, seq, proj)
    if bias is not None:
        scores = binary(b, g.AddOp, scores, bias)
    if bias_input is not None and b.has_input(bias_input):
        scores = binary(b, g.AddOp, scores, b.input(bias_input))
    probs = b.make(g.SoftmaxOp, [scores], axis=3)
    context = transpose(b, b.make(g.MatMulOp, [probs, v]), [0, 2, 1, 3])
    return reshape(b, context, [batch, seq, shape(context)[2] * shape(context)[3]])


# EmbedLayerNormalization ---------------------------------------------------------------------


def _lookup(b: NodeBuilder, table: int, ids: SSAValue) -> SSAValue:
    return b.make(g.GatherOp, [b.input(table), ids], axis=0)


@converter("EmbedLayerNormalization", domain=MS_DOMAIN)
def convert_embed_layer_norm(b: NodeBuilder) -> list[SSAValue | None]:
    """Outputs: the normalized embedding sum, the mask index, the embedding sum."""
    ids = b.input(0)
    if rank(ids) != 2:
        raise b.error(f"input_ids must be (batch, sequence), got shape {shape(ids)}")
    batch, seq = shape(ids)
    positions = b.input(8) if b.has_input(8) else b.constant(np.arange(seq, dtype=np.int32)[None, :])
    total = binary(b, g.AddOp, _lookup(b, 2, ids), _lookup(b, 3, positions))
    if b.has_input(1) and b.has_input(4):
        total = binary(b, g.AddOp, total, _lookup(b, 4, b.input(1)))
    eps = float(b.attr("epsilon", 1e-12))
    y = b.make(g.LayerNormOp, [total, b.input(5), b.input(6)], axis=2, epsilon=eps)
    if b.has_input(7):
        mask_index = b.make(g.ReduceSumOp, [cast(b, b.input(7), I32)], axes=[1], keepdims=False)
    else:
        mask_index = b.constant(np.zeros(batch, dtype=np.int32))
    return [y, mask_index, total]
