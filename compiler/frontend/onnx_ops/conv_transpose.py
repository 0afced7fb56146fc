"""ConvTranspose, lowered onto graph.conv (any spatial rank, through spatial.py).

A transposed convolution scatters each input pixel, times the kernel, into
the output at stride s. Two rewrites onto the existing convolution:

- Sub-pixel (constant weight, stride > 1, no dilation; the U-Net and GAN up
  layers): output position t = q * s + r reads input q - u with tap r + s * u,
  so each output phase r is a stride-1 convolution of the input with a
  sub-kernel of ceil(k / s) taps. The phases are the output channels of one
  graph.conv (weights rearranged at compile time), interleaved by a pixel
  shuffle (reshape, transpose, reshape) and cropped by the pads. No
  multiplication by an inserted zero; kernel == stride is a 1x1 conv.
- General (runtime weights, dilations, stride 1): insert s - 1 zeros between
  input pixels, pad by the kernel's dilated extent less the ONNX pads (plus
  output_padding at the end), and correlate with the kernel flipped in space
  and with its in/out channels swapped per group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import elem, rank, require_float, reshape, shape, transpose
from compiler.frontend.onnx_ops.spatial import conv_nd
from compiler.frontend.onnx_ops.tensor import slice_value


def _geometry(
    b: NodeBuilder, spatial: Sequence[int], kernel: Sequence[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """strides, dilations, output_padding and ONNX pads [begins..., ends...]."""
    n = len(spatial)
    strides = b.ints_attr("strides") or [1] * n
    dilations = b.ints_attr("dilations") or [1] * n
    out_pad = b.ints_attr("output_padding") or [0] * n
    for name, values in (("strides", strides), ("dilations", dilations)):
        if len(values) != n or any(v < 1 for v in values):
            raise b.error(f"{name} {values} must be {n} positive values")
    if len(out_pad) != n or any(p < 0 for p in out_pad):
        raise b.error(f"output_padding {out_pad} must be {n} non-negative values")
    full = [s * (x - 1) + p + (k - 1) * d + 1 for x, s, p, k, d in zip(spatial, strides, out_pad, kernel, dilations, strict=True)]
    auto_pad = b.attr("auto_pad", "NOTSET") or "NOTSET"
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise b.error(f"auto_pad={auto_pad!r} is not supported")
    out_shape = b.ints_attr("output_shape")
    if out_shape is not None and len(out_shape) > n:
        out_shape = out_shape[-n:]  # some exporters give [N, C, spatial...]
    if out_shape is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = [x * s for x, s in zip(spatial, strides, strict=True)]
    if out_shape is not None:
        if len(out_shape) != n:
            raise b.error(f"output_shape {out_shape} must give {n} spatial dims")
        total = [f - o for f, o in zip(full, out_shape, strict=True)]
        if auto_pad == "SAME_UPPER":
            pads = [t // 2 for t in total] + [t - t // 2 for t in total]
        else:
            pads = [t - t // 2 for t in total] + [t // 2 for t in total]
    elif auto_pad == "VALID":
        pads = [0] * (2 * n)
    else:
        pads = b.ints_attr("pads") or [0] * (2 * n)
        if len(pads) != 2 * n:
            raise b.error(f"pads needs {2 * n} values, got {len(pads)}")
    return strides, dilations, out_pad, pads


def _flipped_weight(b: NodeBuilder, w: SSAValue, group: int) -> SSAValue:
    """[C, M/g, k...] -> [M, C/g, k...] flipped in space: the equivalent conv's weight."""
    c, m_g, *kernel = shape(w)
    n_sp = len(kernel)
    split = reshape(b, w, [group, c // group, m_g, *kernel])
    swapped = transpose(b, split, [0, 2, 1, *range(3, 3 + n_sp)])
    merged = reshape(b, swapped, [group * m_g, c // group, *kernel])
    r = rank(merged)
    return slice_value(b, merged, [-1] * n_sp, [-(1 << 62)] * n_sp, list(range(2, r)), [-1] * n_sp)


def _dilate(b: NodeBuilder, x: SSAValue, strides: Sequence[int]) -> SSAValue:
    """s - 1 zeros between neighbours along each spatial dim: [.., n, ..] -> [.., s(n-1)+1, ..]."""
    for d, s in enumerate(strides):
        if s == 1:
            continue
        axis = 2 + d
        dims = list(shape(x))
        n = dims[axis]
        split = [*dims[: axis + 1], 1, *dims[axis + 1 :]]
        pads = [0] * (2 * len(split))
        pads[len(split) + axis + 1] = s - 1
        wide = b.make(g.PadOp, [reshape(b, x, split)], pads=pads, mode="constant", value=0.0)
        flat = reshape(b, wide, [*dims[:axis], n * s, *dims[axis + 1 :]])
        x = slice_value(b, flat, [0], [s * (n - 1) + 1], [axis], [1])
    return x


def _pad_or_crop(b: NodeBuilder, x: SSAValue, begins: Sequence[int], ends: Sequence[int]) -> SSAValue:
    """Spatial padding with zeros where positive, cropping where negative."""
    r = rank(x)
    n_sp = len(begins)
    dims = shape(x)
    starts = [max(0, -p) for p in begins]
    stops = [dims[2 + i] - max(0, -p) for i, p in enumerate(ends)]
    x = slice_value(b, x, starts, stops, list(range(2, r)), [1] * n_sp)
    pads = [0, 0, *(max(0, p) for p in begins), 0, 0, *(max(0, p) for p in ends)]
    if not any(pads):
        return x
    return b.make(g.PadOp, [x], pads=pads, mode="constant", value=0.0)


def _conv(b: NodeBuilder, x: SSAValue, w: SSAValue, bias: SSAValue | None, group: int, dilations: Sequence[int]) -> SSAValue:
    """A stride-1, unpadded convolution over any spatial rank (spatial.py maps it onto graph.conv)."""
    n_sp = rank(x) - 2
    return conv_nd(b, x, w, bias, [1] * n_sp, [0] * (2 * n_sp), dilations, group)


def phase_weight(w: np.ndarray, group: int, strides: Sequence[int]) -> np.ndarray:
    """[C, M/g, k...] -> [M * prod(s), C/g, K...] with K = ceil(k / s): one sub-kernel per output phase.

    Output channel (o, r...) holds, flipped, the taps w[.., r + s * u] of phase r
    (zero where r + s * u runs past the kernel).
    """
    c, m_g, *kernel = w.shape
    n_sp = len(kernel)
    sub = [-(-k // s) for k, s in zip(kernel, strides, strict=True)]
    # Zero-extend the kernel to K * s taps, then split each tap index j = r + s * u.
    full = np.zeros((c, m_g, *(kk * s for kk, s in zip(sub, strides, strict=True))), w.dtype)
    full[(slice(None), slice(None), *(slice(0, k) for k in kernel))] = w
    split = full.reshape(c, m_g, *(v for kk, s in zip(sub, strides, strict=True) for v in (kk, s)))
    # [C, M/g, (u, r)...] -> [C, M/g, r..., u...], u flipped
    perm = [0, 1, *(3 + 2 * d for d in range(n_sp)), *(2 + 2 * d for d in range(n_sp))]
    phases = split.transpose(perm)[(Ellipsis, *([slice(None, None, -1)] * n_sp))]
    grouped = phases.reshape(group, c // group, m_g, *strides, *sub)
    # -> [g, M/g, r..., C/g, u...] -> [M * prod(s), C/g, u...]
    order = [0, 2, *range(3, 3 + n_sp), 1, *range(3 + n_sp, 3 + 2 * n_sp)]
    out = grouped.transpose(order).reshape(group * m_g * math.prod(strides), c // group, *sub)
    return np.ascontiguousarray(out)


def _sub_pixel(
    b: NodeBuilder,
    x: SSAValue,
    w: np.ndarray,
    bias: SSAValue | None,
    group: int,
    strides: Sequence[int],
    pads: Sequence[int],
    out_dims: Sequence[int],
) -> SSAValue:
    """Stride-s ConvTranspose (dilation 1) as one stride-1 conv per output phase, interleaved.

    Output t = q * s + r (before cropping the begin pad) reads input q - u with
    tap r + s * u, so phase r is a correlation of x with its flipped
    sub-kernel; all phases are the output channels of one conv, and a pixel
    shuffle interleaves them. q covers [q0, q1), just what the output needs.
    """
    n, _, *spatial = shape(x)
    n_sp = len(spatial)
    m = w.shape[1] * group
    weight = phase_weight(w, group, strides)
    sub = weight.shape[2:]
    q0 = [p // s for p, s in zip(pads[:n_sp], strides, strict=True)]
    q1 = [-(-(p + o) // s) for p, o, s in zip(pads[:n_sp], out_dims, strides, strict=True)]
    begins = [kk - 1 - lo for kk, lo in zip(sub, q0, strict=True)]
    ends = [hi - size for hi, size in zip(q1, spatial, strict=True)]
    padded = _pad_or_crop(b, x, begins, ends)
    y = _conv(b, padded, b.constant(weight, elem(x)), None, group, [1] * n_sp)
    q = [hi - lo for lo, hi in zip(q0, q1, strict=True)]
    y = reshape(b, y, [n, m, *strides, *q])
    y = transpose(b, y, [0, 1, *(p for d in range(n_sp) for p in (2 + n_sp + d, 2 + d))])
    y = reshape(b, y, [n, m, *(qq * s for qq, s in zip(q, strides, strict=True))])
    offsets = [p - lo * s for p, lo, s in zip(pads[:n_sp], q0, strides, strict=True)]
    y = slice_value(b, y, offsets, [o + d for o, d in zip(offsets, out_dims, strict=True)],
                    list(range(2, 2 + n_sp)), [1] * n_sp)
    if bias is not None:
        y = b.make(g.AddOp, [y, reshape(b, bias, [m] + [1] * n_sp)])
    return y


@converter("ConvTranspose")
def convert_conv_transpose(b: NodeBuilder) -> list[SSAValue]:
    x, w = b.input(0), b.input(1)
    bias = b.opt_input(2)
    require_float(b, x)
    r = rank(x)
    if r < 3:
        raise b.error(f"the input has rank {r}; ConvTranspose needs [N, C, spatial...]")
    if rank(w) != r:
        raise b.error(f"the weight has rank {rank(w)}, the input rank {r}")
    group = int(b.attr("group", 1))
    c, m_g, *kernel = shape(w)
    if group < 1 or shape(x)[1] != c or c % group:
        raise b.error(f"weight [{c}, ...] does not fit {shape(x)[1]} input channels in {group} groups")
    declared = b.ints_attr("kernel_shape")
    if declared is not None and list(declared) != list(kernel):
        raise b.error(f"kernel_shape {declared} differs from the weight's spatial dims {kernel}")
    spatial = shape(x)[2:]
    strides, dilations, out_pad, pads = _geometry(b, spatial, kernel)
    n_sp = len(spatial)
    out_dims = [
        s * (size - 1) + o + (k - 1) * d + 1 - pb - pe
        for s, size, o, k, d, pb, pe in zip(
            strides, spatial, out_pad, kernel, dilations, pads[:n_sp], pads[n_sp:], strict=True
        )
    ]
    if any(o < 1 for o in out_dims):
        raise b.error(f"pads {pads} leave no output (output dims {out_dims})")
    w_value = constant_value(w)
    if w_value is not None and any(s > 1 for s in strides) and all(d == 1 for d in dilations):
        return [_sub_pixel(b, x, w_value, bias, group, strides, pads, out_dims)]
    extent = [(k - 1) * d for k, d in zip(kernel, dilations, strict=True)]
    begins = [e - p for e, p in zip(extent, pads[:n_sp], strict=True)]
    ends = [e - p + o for e, p, o in zip(extent, pads[n_sp:], out_pad, strict=True)]
    dilated = _dilate(b, x, strides)
    padded = _pad_or_crop(b, dilated, begins, ends)
    for d in range(n_sp):
        if shape(padded)[2 + d] < extent[d] + 1:
            raise b.error(f"pads {pads} leave no output along spatial dim {d}")
    y = _conv(b, padded, _flipped_weight(b, w, group), bias, group, dilations)
    return [y]

