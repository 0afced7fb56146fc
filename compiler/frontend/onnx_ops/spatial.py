"""Convolution and pooling over any number of spatial dims, built on the 2-D graph ops.

graph.conv and the graph pools are 2-D (NCHW): that is where the blocked
layouts, the schedules and the tuner live. Other spatial ranks map onto them
in the frontend, so every one of them gets those kernels:

- 1-D: a unit height ([N, C, L] -> [N, C, 1, L]).
- 3-D and up, convolution: the leading spatial dim (depth) is folded away
  by an im2col along depth only. Output depth od reads input depths
  od * s + kd * d, so the KD strided depth slices become extra input channels
  (ordered group, tap, channel) and the output depths extra batch items:
  [N, C, D, ...] -> [N * OD, KD * C, ...], weight [O, C/g, KD, ...] ->
  [O, KD * C/g, ...]. One (N-1)-D conv then does the same multiply-adds as the
  direct N-D conv; the cost is a KD-fold copy of the input (a single copy for
  a 1-tap depth).
- 3-D and up, max and average pooling: a box window is separable. Pool the
  trailing dims with depth folded into channels, then the depth with the
  trailing dims flattened into one width. Average pooling stays exact: each
  pass divides by its own in-bounds count (or kernel size), and the count of
  a box is the product of the per-dim counts.
- Window sums that a graph pool cannot express (dilated or Lp pooling, the
  ceil_mode end padding that count_include_pad must not count) are a
  depthwise convolution with a kernel of ones; the average divides by a
  count map computed at compile time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder
from compiler.frontend.onnx_ops.common import elem, rank, reshape, shape, transpose
from compiler.frontend.onnx_ops.tensor import slice_value


def _split_pads(pads: Sequence[int]) -> tuple[list[int], list[int]]:
    half = len(pads) // 2
    return list(pads[:half]), list(pads[half:])


def _drop_first(pads: Sequence[int]) -> list[int]:
    """ONNX pads [begins..., ends...] without the first spatial dim."""
    begins, ends = _split_pads(pads)
    return begins[1:] + ends[1:]


def conv_nd(
    b: NodeBuilder,
    x: SSAValue,
    w: SSAValue,
    bias: SSAValue | None,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    group: int,
) -> SSAValue:
    """ONNX Conv geometry (pads [begins..., ends...]) over 1 or more spatial dims."""
    r = rank(x)
    if r == 4:
        operands = [x, w] if bias is None else [x, w, bias]
        return b.make(
            g.ConvOp, operands, strides=list(strides), pads=list(pads), dilations=list(dilations), group=group
        )
    if r == 3:
        n, c, length = shape(x)
        o, i, k = shape(w)
        begins, ends = _split_pads(pads)
        y = conv_nd(
            b,
            reshape(b, x, [n, c, 1, length]),
            reshape(b, w, [o, i, 1, k]),
            bias,
            [1, *strides],
            [0, *begins, 0, *ends],
            [1, *dilations],
            group,
        )
        return reshape(b, y, [shape(y)[0], shape(y)[1], shape(y)[3]])
    if r < 3:
        raise b.error(f"the input has rank {r}; a convolution needs [N, C, spatial...]")
    return _fold_depth_conv(b, x, w, bias, strides, pads, dilations, group)


def _fold_depth_conv(
    b: NodeBuilder,
    x: SSAValue,
    w: SSAValue,
    bias: SSAValue | None,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    group: int,
) -> SSAValue:
    """[N, C, D, S...] conv -> one conv over S... of [N * OD, G * KD * C/g, S...] (see the module doc)."""
    n, c, depth, *rest = shape(x)
    o, cg, kd, *_ = shape(w)
    n_sp = rank(x) - 2
    if group < 1 or c % group or o % group or c // group != cg:
        raise b.error(f"weight [{o}, {cg}, ...] does not fit {c} input channels in {group} groups")
    sd, dd = strides[0], dilations[0]
    begins, ends = _split_pads(pads)
    padded_depth = depth + begins[0] + ends[0]
    od = (padded_depth - dd * (kd - 1) - 1) // sd + 1
    if od < 1:
        raise b.error(f"the kernel's depth {kd} (dilation {dd}) is larger than the padded input depth {padded_depth}")
    if begins[0] or ends[0]:
        pad = [0] * (2 * rank(x))
        pad[2], pad[rank(x) + 2] = begins[0], ends[0]
        x = b.make(g.PadOp, [x], pads=pad, mode="constant", value=0.0)
    taps = []
    for k in range(kd):
        tap = slice_value(b, x, [k * dd], [k * dd + (od - 1) * sd + 1], [2], [sd])
        taps.append(reshape(b, tap, [n, group, 1, cg, od, *rest]))
    stacked = taps[0] if kd == 1 else b.make(g.ConcatOp, taps, axis=2)
    # [N, G, KD, C/g, OD, S...] -> [N, OD, G, KD, C/g, S...] -> [N * OD, G * KD * C/g, S...]
    moved = transpose(b, stacked, [0, 4, 1, 2, 3, *range(5, 5 + len(rest))])
    folded = reshape(b, moved, [n * od, c * kd, *rest])
    w_moved = transpose(b, w, [0, 2, 1, *range(3, 2 + n_sp)])
    w_folded = reshape(b, w_moved, [o, kd * cg, *shape(w)[3:]])
    y = conv_nd(b, folded, w_folded, bias, strides[1:], _drop_first(pads), dilations[1:], group)
    out_rest = list(shape(y)[2:])
    y = reshape(b, y, [n, od, o, *out_rest])
    return transpose(b, y, [0, 2, 1, *range(3, 3 + len(out_rest))])


def pool_nd(
    b: NodeBuilder,
    cls: type[g.MaxPoolOp] | type[g.AvgPoolOp],
    x: SSAValue,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    **props: object,
) -> SSAValue:
    """A graph max or average pool over 1 or more spatial dims; `dilations` only for max."""
    r = rank(x)
    geometry: dict[str, object] = {"kernel_shape": list(kernel), "strides": list(strides), "pads": list(pads)}
    if cls is g.MaxPoolOp:
        geometry["dilations"] = list(dilations)
    if r == 4:
        return b.make(cls, [x], **geometry, **props)
    if r == 3:
        n, c, length = shape(x)
        begins, ends = _split_pads(pads)
        y = pool_nd(
            b, cls, reshape(b, x, [n, c, 1, length]), [1, *kernel], [1, *strides],
            [0, *begins, 0, *ends], [1, *dilations], **props,
        )
        return reshape(b, y, [n, c, shape(y)[3]])
    if r < 3:
        raise b.error(f"the input has rank {r}; pooling needs [N, C, spatial...]")
    # Separable: the trailing dims with depth as channels, then the depth alone.
    n, c, depth, *rest = shape(x)
    inner = pool_nd(
        b, cls, reshape(b, x, [n, c * depth, *rest]), kernel[1:], strides[1:], _drop_first(pads),
        dilations[1:], **props,
    )
    out_rest = list(shape(inner)[2:])
    begins, ends = _split_pads(pads)
    y = pool_nd(
        b, cls, reshape(b, inner, [n, c, depth, math.prod(out_rest)]), [kernel[0], 1], [strides[0], 1],
        [begins[0], 0, ends[0], 0], [dilations[0], 1], **props,
    )
    return reshape(b, y, [n, c, shape(y)[2], *out_rest])


def window_sum(
    b: NodeBuilder,
    x: SSAValue,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
) -> SSAValue:
    """The sum of each (dilated) window, padding reading 0: a depthwise conv with a kernel of ones."""
    c = shape(x)[1]
    ones = b.constant(np.ones([c, 1, *kernel], dtype=np.float32), elem(x))
    return conv_nd(b, x, ones, None, strides, pads, dilations, c)


def window_count(
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    counted_pads: Sequence[int],
) -> np.ndarray:
    """How many taps of each output window fall in [-counted begin, size + counted end): [1, 1, out...].

    `pads` place the windows; `counted_pads` say which padding counts: zeros
    for count_include_pad=0, the explicit ONNX pads for count_include_pad=1
    (the end padding that ceil_mode adds never counts).
    """
    begins, ends = _split_pads(pads)
    lows, highs = _split_pads(counted_pads)
    total = np.ones([1, 1], dtype=np.int64)
    for dim, size in enumerate(spatial):
        k, s, d = kernel[dim], strides[dim], dilations[dim]
        out = (size + begins[dim] + ends[dim] - d * (k - 1) - 1) // s + 1
        pos = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d - begins[dim]
        count = ((pos >= -lows[dim]) & (pos < size + highs[dim])).sum(axis=1)
        total = np.multiply.outer(total, count)
    return total


def max_pool_indices(
    b: NodeBuilder,
    x: SSAValue,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    column_major: bool,
) -> SSAValue:
    """MaxPool's Indices output: the flat position in x (over [N, C, spatial...],
    row-major, or with the spatial dims column-major for storage_order=1) of
    each window's first maximum.

    The K = prod(kernel) strided tap slices of x, padded with the lowest
    value, are stacked on a new axis; graph.argmax (first maximum, as
    onnxruntime scans the window) picks the tap, and constant tables turn
    tap and window into a flat position.
    """
    n, c, *spatial = shape(x)
    n_sp = len(spatial)
    begins, ends = _split_pads(pads)
    low = -np.inf if np.issubdtype(_np_dtype(x), np.floating) else np.iinfo(_np_dtype(x)).min
    padded = x
    if any(pads):
        padded = b.make(g.PadOp, [x], pads=[0, 0, *begins, 0, 0, *ends], mode="constant", value=float(low))
    out = [
        (size + pb + pe - d * (k - 1) - 1) // s + 1
        for size, k, s, d, pb, pe in zip(spatial, kernel, strides, dilations, begins, ends, strict=True)
    ]
    taps = []
    for tap in np.ndindex(*kernel):
        starts = [t * d for t, d in zip(tap, dilations, strict=True)]
        stops = [st + (o - 1) * s + 1 for st, o, s in zip(starts, out, strides, strict=True)]
        sliced = slice_value(b, padded, starts, stops, list(range(2, 2 + n_sp)), list(strides))
        taps.append(reshape(b, sliced, [n, c, 1, *out]))
    stacked = taps[0] if len(taps) == 1 else b.make(g.ConcatOp, taps, axis=2)
    best = b.make(g.ArgMaxOp, [stacked], axis=2, keepdims=0, select_last_index=0)
    # Flat position = (n * C + c) * prod(spatial) + sum over dims of coordinate * dim stride.
    dim_strides = [math.prod(spatial[d + 1 :]) for d in range(n_sp)]
    if column_major:
        dim_strides = [math.prod(spatial[:d]) for d in range(n_sp)]
    tap_offsets = np.array(
        [sum(t * dl * st for t, dl, st in zip(tap, dilations, dim_strides, strict=True)) for tap in np.ndindex(*kernel)],
        dtype=np.int64,
    )
    window = np.zeros(out, dtype=np.int64)
    for d in range(n_sp):
        starts = np.arange(out[d]) * strides[d] - begins[d]
        window += (starts * dim_strides[d]).reshape([-1 if i == d else 1 for i in range(n_sp)])
    plane = (np.arange(n * c, dtype=np.int64) * math.prod(spatial)).reshape([n, c] + [1] * n_sp)
    offsets = b.make(g.GatherOp, [b.constant(tap_offsets), best], axis=0)
    return b.make(g.AddOp, [offsets, b.constant(window[None, None] + plane)])


def _np_dtype(value: SSAValue) -> np.dtype:
    return dtypes.to_numpy_dtype(elem(value))
