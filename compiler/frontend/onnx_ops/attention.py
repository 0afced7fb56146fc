"""Converters of the transformer ops Attention (opsets 23-25) and RotaryEmbedding (23).

Both decompose into existing graph ops, so fusion and the matmul/softmax
schedules apply to them unchanged:

- Attention is `softmax(Q K^T * scale + bias) V` with the bias built from the
  mask inputs: the attn_mask (bool -> 0/-inf), the causal and sliding-window
  masks (constants when their offset is static, compares against
  `nonpad_kv_seqlen` when it is given at run time) and the key padding mask.
  Grouped-query attention folds each group of query heads into the rows of
  one matmul against its KV head; the KV cache is a concat on the sequence axis. As ONNX's reference, the scale is split as
  sqrt(scale) on Q and on K, softcap comes before the bias, and a query row whose
  bias is -inf everywhere gets zero probabilities (not NaN).
- RotaryEmbedding rotates pairs of features, halves or interleaved, by the
  cos/sin caches (gathered by position_ids when given).
"""

from __future__ import annotations

import math

import numpy as np
from onnx import helper
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    rank,
    reshape,
    scalar,
    shape,
    transpose,
)

_I64 = dtypes.from_numpy_dtype(np.int64)


def slice_last(b: NodeBuilder, x: SSAValue, start: int, size: int, step: int = 1) -> SSAValue:
    """x[..., start : start + size * step : step]."""
    dims = list(shape(x))
    if start == 0 and step == 1 and size == dims[-1]:
        return x
    dims[-1] = size
    r = rank(x)
    return b.make(
        g.SliceOp, [x], [TensorType(elem(x), dims)],
        offsets=[0] * (r - 1) + [start], strides=[1] * (r - 1) + [step],
    )


def to_heads(b: NodeBuilder, x: SSAValue, heads: int, what: str) -> SSAValue:
    """(B, S, heads * D) -> (B, heads, S, D)."""
    batch, seq, hidden = shape(x)
    if heads <= 0 or hidden % heads:
        raise b.error(f"{what} hidden size {hidden} is not a multiple of its head count {heads}")
    return transpose(b, reshape(b, x, [batch, seq, heads, hidden // heads]), [0, 2, 1, 3])


def _bias_of(b: NodeBuilder, allowed: SSAValue, like: SSAValue) -> SSAValue:
    """An additive bias: 0 where `allowed`, -inf elsewhere."""
    return b.make(g.WhereOp, [allowed, scalar(b, 0.0, like), scalar(b, -math.inf, like)])


def _add(b: NodeBuilder, bias: SSAValue | None, term: SSAValue) -> SSAValue:
    return term if bias is None else binary(b, g.AddOp, bias, term)


def _position_mask(
    b: NodeBuilder, q_len: int, kv_len: int, offset: int | SSAValue, left: int, right: int, causal: bool
) -> SSAValue:
    """Which keys j a query i may attend: `diff = i + offset - j`, causal keeps
    diff >= 0, a window keeps -right <= diff <= left. A static offset gives a
    (q, kv) constant, a per-batch runtime one a (B, 1, q, kv) compare."""
    i = np.arange(q_len, dtype=np.int64)[:, None]
    j = np.arange(kv_len, dtype=np.int64)[None, :]
    if isinstance(offset, int):
        diff = i + offset - j
        keep = np.ones((q_len, kv_len), dtype=np.bool_)
        if causal:
            keep &= diff >= 0
        if left >= 0:
            keep &= diff <= left
        if right >= 0:
            keep &= -diff <= right
        return b.constant(keep)
    off = reshape(b, offset, [shape(offset)[0], 1, 1, 1])
    diff = binary(b, g.AddOp, off, b.constant(i - j))  # (B, 1, q, kv)
    conds = []
    if causal:
        conds.append(b.make(g.GreaterEqualOp, [diff, b.constant(np.asarray(0, np.int64))]))
    if left >= 0:
        conds.append(b.make(g.LessEqualOp, [diff, b.constant(np.asarray(left, np.int64))]))
    if right >= 0:
        conds.append(b.make(g.GreaterEqualOp, [diff, b.constant(np.asarray(-right, np.int64))]))
    keep = conds[0]
    for c in conds[1:]:
        keep = b.make(g.AndOp, [keep, c])
    return keep


def _mask_bias(b: NodeBuilder, mask: SSAValue, kv_len: int, like: SSAValue) -> SSAValue:
    """attn_mask as an additive bias, padded with -inf (False) up to kv_len keys."""
    pad = kv_len - shape(mask)[-1]
    if pad < 0:
        raise b.error(f"attn_mask has {shape(mask)[-1]} keys, more than the {kv_len} of K")
    if pad:
        fill = np.full([*shape(mask)[:-1], pad], False if dtypes.is_bool(elem(mask)) else -np.inf)
        mask = b.make(g.ConcatOp, [mask, b.constant(fill, elem(mask))], axis=rank(mask) - 1)
    if dtypes.is_bool(elem(mask)):
        return _bias_of(b, mask, like)
    if elem(mask) != elem(like):
        raise b.error(f"a float attn_mask must have Q's type {elem(like)}, got {elem(mask)}")
    return mask


def _attention_bias(
    b: NodeBuilder, q_len: int, kv_len: int, past_len: int | None, like: SSAValue
) -> SSAValue | None:
    """The additive (..., q, kv) bias of all masks, or None when nothing is masked."""
    mask, nonpad = b.opt_input(3), b.opt_input(6)
    causal = bool(b.attr("is_causal", 0))
    left, right = int(b.attr("left_window_size", -1)), int(b.attr("right_window_size", -1))
    if nonpad is not None and past_len is not None:
        raise b.error("nonpad_kv_seqlen cannot be combined with past_key/past_value")
    bias = None if mask is None else _mask_bias(b, mask, kv_len, like)
    if causal or left >= 0 or right >= 0:
        offset: int | SSAValue = past_len or 0
        if nonpad is not None:
            offset = binary(b, g.SubOp, cast(b, nonpad, _I64), b.constant(np.asarray(q_len, np.int64)))
        bias = _add(b, bias, _bias_of(b, _position_mask(b, q_len, kv_len, offset, left, right, causal), like))
    if nonpad is not None:
        keys = b.constant(np.arange(kv_len, dtype=np.int64))
        lens = reshape(b, cast(b, nonpad, _I64), [shape(nonpad)[0], 1, 1, 1])
        bias = _add(b, bias, _bias_of(b, b.make(g.LessOp, [keys, lens]), like))
    return bias


def _grouped_matmul(b: NodeBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    """x (B, H, M, K) @ y (B, kv_heads, K, N), each KV head serving H / kv_heads
    consecutive heads of x (grouped-query attention). The heads of a group fold
    into the rows of one matmul (free reshapes), so K and V are never repeated."""
    batch, heads, rows, _ = shape(x)
    kv_heads, cols = shape(y)[1], shape(y)[3]
    if kv_heads == heads:
        return b.make(g.MatMulOp, [x, y])
    if kv_heads <= 0 or heads % kv_heads:
        raise b.error(f"q heads ({heads}) must be a multiple of kv heads ({kv_heads})")
    folded = reshape(b, x, [batch, kv_heads, heads // kv_heads * rows, shape(x)[3]])
    return reshape(b, b.make(g.MatMulOp, [folded, y]), [batch, heads, rows, cols])


def _safe_softmax(b: NodeBuilder, qk: SSAValue, bias: SSAValue | None, precision: int | None) -> SSAValue:
    """softmax(qk + bias) over keys (in `precision` if given). A row whose bias is
    -inf everywhere attends nothing: its probabilities are 0, and its bias is
    zeroed first so that no NaN (-inf - -inf) is ever computed."""
    ty = elem(qk)
    if precision:
        ty = dtypes.from_numpy_dtype(helper.tensor_dtype_to_np_dtype(precision))
    dead = None
    logits = qk
    if bias is not None:
        known = constant_value(bias)
        if known is None:
            row_max = b.make(g.ReduceMaxOp, [bias], axes=[rank(bias) - 1], keepdims=1)
            dead = b.make(g.EqualOp, [row_max, scalar(b, -math.inf, bias)])
        else:  # a constant mask (causal, window): decided here, in float32 for bfloat16's sake
            rows = np.isneginf(known.astype(np.float32).max(axis=-1, keepdims=True))
            dead = b.constant(rows) if rows.any() else None
        if dead is not None:
            bias = b.make(g.WhereOp, [dead, scalar(b, 0.0, bias), bias])
        logits = binary(b, g.AddOp, qk, bias)
    probs = b.make(g.SoftmaxOp, [cast(b, logits, ty)], axis=rank(logits) - 1)
    if dead is not None:
        probs = b.make(g.WhereOp, [dead, scalar(b, 0.0, probs), probs])
    return probs


@converter("Attention")
def convert_attention(b: NodeBuilder) -> list[SSAValue | None]:
    q, k, v = b.input(0), b.input(1), b.input(2)
    if not rank(q) == rank(k) == rank(v) or rank(q) not in (3, 4):
        raise b.error(f"Q, K and V must all have rank 3 or 4, got {rank(q)}, {rank(k)}, {rank(v)}")
    if not dtypes.is_float(elem(q)):
        raise b.error(f"Q must be a floating-point tensor, got {elem(q)}")
    three_d = rank(q) == 3
    if three_d:
        q_heads, kv_heads = b.attr("q_num_heads"), b.attr("kv_num_heads")
        if q_heads is None or kv_heads is None:
            raise b.error("3-D inputs need the q_num_heads and kv_num_heads attributes")
        q, k, v = to_heads(b, q, q_heads, "Q"), to_heads(b, k, kv_heads, "K"), to_heads(b, v, kv_heads, "V")
    past_k, past_v = b.opt_input(4), b.opt_input(5)
    if (past_k is None) != (past_v is None):
        raise b.error("past_key and past_value must be given together")
    scale = b.attr("scale")
    if scale is None:
        scale = 1.0 / math.sqrt(shape(q)[3])
    # Split as ONNX's reference: sqrt(scale) on both Q and K, rounded to Q's type.
    root = scalar(b, float(np.sqrt(np.float64(scale))), q)
    present_k, present_v = k, v
    if past_k is not None and past_v is not None:
        present_k = b.make(g.ConcatOp, [past_k, k], axis=2)
        present_v = b.make(g.ConcatOp, [past_v, v], axis=2)
    q_len, kv_len = shape(q)[2], shape(present_k)[2]
    past_len = None if past_k is None else shape(past_k)[2]
    bias = _attention_bias(b, q_len, kv_len, past_len, q)

    heads = shape(q)[1]
    keys_t = transpose(b, binary(b, g.MulOp, present_k, root), [0, 1, 3, 2])
    qk = _grouped_matmul(b, binary(b, g.MulOp, q, root), keys_t)
    softcap = float(b.attr("softcap", 0.0))
    if softcap > 0:
        capped = b.make(g.TanhOp, [binary(b, g.DivOp, qk, scalar(b, softcap, qk))])
        qk = binary(b, g.MulOp, capped, scalar(b, softcap, qk))
    probs = _safe_softmax(b, qk, bias, b.attr("softmax_precision"))
    y = _grouped_matmul(b, cast(b, probs, elem(q)), present_v)
    if three_d:
        batch, _, seq, v_dim = shape(y)
        y = reshape(b, transpose(b, y, [0, 2, 1, 3]), [batch, seq, heads * v_dim])
    mode = int(b.attr("qk_matmul_output_mode", 0))
    if mode not in (0, 1, 2, 3):
        raise b.error(f"qk_matmul_output_mode {mode} is not one of 0, 1, 2, 3")
    qk_out = probs if mode == 3 else qk
    if mode == 2 and bias is not None:
        qk_out = binary(b, g.AddOp, qk, bias)
    if shape(qk_out) != (shape(q)[0], heads, q_len, kv_len):
        qk_out = b.make(g.BroadcastToOp, [qk_out], [TensorType(elem(qk_out), [shape(q)[0], heads, q_len, kv_len])])
    return [y, present_k, present_v, cast(b, qk_out, elem(q))]


@converter("RotaryEmbedding")
def convert_rotary_embedding(b: NodeBuilder) -> list[SSAValue]:
    x, cos, sin = b.input(0), b.input(1), b.input(2)
    positions = b.opt_input(3)
    if rank(x) == 4:
        seq_major = transpose(b, x, [0, 2, 1, 3])  # (B, S, H, D)
    elif rank(x) == 3:
        heads = int(b.attr("num_heads", 0))
        batch, seq, hidden = shape(x)
        if heads <= 0 or hidden % heads:
            raise b.error(f"a 3-D input needs num_heads dividing its hidden size {hidden}, got {heads}")
        seq_major = reshape(b, x, [batch, seq, heads, hidden // heads])
    else:
        raise b.error(f"input must have rank 3 or 4, got {rank(x)}")
    head_size = shape(seq_major)[3]
    dim = int(b.attr("rotary_embedding_dim", 0)) or head_size
    if dim % 2 or dim > head_size:
        raise b.error(f"rotary_embedding_dim {dim} must be even and at most the head size {head_size}")
    half = dim // 2
    if positions is not None:
        idx = cast(b, positions, _I64)
        cos, sin = b.make(g.GatherOp, [cos, idx], axis=0), b.make(g.GatherOp, [sin, idx], axis=0)
    if shape(cos)[-1] != half or shape(sin)[-1] != half:
        raise b.error(f"cos/sin caches must end in rotary_embedding_dim / 2 = {half}, got {shape(cos)}")
    batch, seq = shape(seq_major)[:2]
    cos, sin = reshape(b, cos, [batch, seq, 1, half]), reshape(b, sin, [batch, seq, 1, half])
    interleaved = bool(b.attr("interleaved", 0))
    x1 = slice_last(b, seq_major, 0, half, 2 if interleaved else 1)
    x2 = slice_last(b, seq_major, 1 if interleaved else half, half, 2 if interleaved else 1)
    real = binary(b, g.SubOp, binary(b, g.MulOp, cos, x1), binary(b, g.MulOp, sin, x2))
    imag = binary(b, g.AddOp, binary(b, g.MulOp, sin, x1), binary(b, g.MulOp, cos, x2))
    if interleaved:
        pair_dims = [*shape(real), 1]
        rotated = b.make(g.ConcatOp, [reshape(b, real, pair_dims), reshape(b, imag, pair_dims)], axis=4)
        rotated = reshape(b, rotated, [*shape(real)[:-1], dim])
    else:
        rotated = b.make(g.ConcatOp, [real, imag], axis=3)
    if dim < head_size:
        rotated = b.make(g.ConcatOp, [rotated, slice_last(b, seq_major, dim, head_size - dim)], axis=3)
    if rank(x) == 4:
        return [transpose(b, rotated, [0, 2, 1, 3])]
    return [reshape(b, rotated, shape(x))]
