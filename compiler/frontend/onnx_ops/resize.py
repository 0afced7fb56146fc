"""Resize and Upsample, decomposed into gathers and weighted sums along each axis.

Every ONNX interpolation mode (nearest, linear, cubic, with antialias and
exclude_outside) is separable: along one axis, output position i reads a few
input positions (taps) with fixed weights. Shapes are static, so the taps are
known at compile time: `axis_taps` computes them in numpy as index and weight
tables, and `apply_taps` emits, per resized axis,

    y = sum_k gather(x, index[:, k], axis) * weight[:, k]     (+ extrapolation)

which the fusion pass turns into one injective kernel reading constant tables.
Cheaper special cases keep the common layers fast: an integer nearest
upsampling is a broadcast (reshape [.., n, 1, ..] -> [.., n, f, ..] ->
[.., n * f, ..]), a strided nearest downsampling a slice, and a tap whose
weight is one everywhere a plain gather.

Axes are resized in increasing order, each `where(outside, extrapolation_value,
taps)`, as ONNX's reference implementation does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import cast, elem, norm_axis, rank, reshape, shape

COORDINATE_MODES = (
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
)
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


@dataclass(frozen=True)
class ResizeSpec:
    """The attributes that decide the taps of every axis."""

    mode: str = "nearest"
    coordinate_mode: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False
    extrapolation_value: float = 0.0


@dataclass(frozen=True)
class AxisTaps:
    """Output position i of one axis = sum_k weight[i, k] * input[index[i, k]].

    `outside` marks the positions that tf_crop_and_resize fills with the
    extrapolation value (their weights are zero); None when there are none.
    """

    index: np.ndarray  # [m, K] int64, within [0, n)
    weight: np.ndarray  # [m, K] float64
    outside: np.ndarray | None  # [m] bool


# ---------------------------------------------------------------------------
# Tap tables (numpy, compile time)


def source_coordinates(
    spec: ResizeSpec, m: int, n: int, scale: float, roi: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray | None]:
    """x_original of each output position (ONNX's coordinate_transformation_mode)."""
    y = np.arange(m, dtype=np.float64)
    out_width = scale * n
    mode = spec.coordinate_mode
    outside = None
    if mode == "align_corners":
        x = np.zeros(m) if out_width == 1 else y * (n - 1) / (out_width - 1)
    elif mode == "asymmetric":
        x = y / scale
    elif mode == "tf_half_pixel_for_nn":
        x = (y + 0.5) / scale
    elif mode == "pytorch_half_pixel":
        x = np.full(m, -0.5) if out_width == 1 else (y + 0.5) / scale - 0.5
    elif mode == "half_pixel":
        x = (y + 0.5) / scale - 0.5
    elif mode == "half_pixel_symmetric":
        offset = n / 2 * (1 - m / out_width)
        x = offset + (y + 0.5) / scale - 0.5
    else:  # tf_crop_and_resize
        start, end = roi
        if out_width == 1:
            x = np.full(m, (end - start) * (n - 1) / 2)
        else:
            x = y * (end - start) * (n - 1) / (out_width - 1)
        x = x + start * (n - 1)
        outside = (x < 0) | (x > n - 1)
    return x, outside


def _nearest_coeffs(ratio: np.ndarray, mode: str) -> np.ndarray:
    """Weights of the taps [floor, floor + 1]; `ratio` is in (0, 1]."""
    whole = ratio == 1.0
    if mode == "round_prefer_floor":
        upper = ratio > 0.5
    elif mode == "round_prefer_ceil":
        upper = ratio >= 0.5
    elif mode == "floor":
        upper = np.zeros_like(whole)
    else:
        upper = np.ones_like(whole)
    upper = upper | whole
    return np.stack([~upper, upper], axis=1).astype(np.float64)


def _cubic_kernel(x: np.ndarray, a: float) -> np.ndarray:
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _coeffs(spec: ResizeSpec, ratio: np.ndarray, scale: float) -> np.ndarray:
    """[m, K] weights of the K taps starting at the window's first position."""
    if spec.mode == "nearest":
        return _nearest_coeffs(ratio, spec.nearest_mode)
    if spec.mode == "linear":
        if not spec.antialias or scale >= 1:
            return np.stack([1 - ratio, ratio], axis=1)
        start = int(np.floor(-1 / scale) + 1)
        offsets = np.arange(start, 2 - start)
        w = np.clip(1 - np.abs((offsets[None, :] - ratio[:, None]) * scale), 0, 1)
        return w / w.sum(axis=1, keepdims=True)
    a = spec.cubic_coeff_a
    if not spec.antialias or scale >= 1:
        offsets = np.arange(-1, 3)
        return _cubic_kernel(offsets[None, :] - ratio[:, None], a)
    start = int(np.floor(-2 / scale) + 1)
    offsets = np.arange(start, 2 - start)
    w = _cubic_kernel((offsets[None, :] - ratio[:, None]) * scale, a)
    return w / w.sum(axis=1, keepdims=True)


def axis_taps(spec: ResizeSpec, m: int, n: int, scale: float, roi: tuple[float, float]) -> AxisTaps:
    """The taps of one axis resized from n to m positions at `scale`."""
    x, outside = source_coordinates(spec, m, n, scale, roi)
    base = np.floor(x)
    # The window prefers the left neighbour: an integral x has ratio 1.
    ratio = np.where(x == base, 1.0, x - base)
    weight = _coeffs(spec, ratio, scale)
    k = weight.shape[1]
    # Window start: the k nearest positions, ties to the smaller ones.
    first = np.where(x == base, base - k // 2, base - k // 2 + 1).astype(np.int64)
    index = first[:, None] + np.arange(k)[None, :]
    if spec.exclude_outside:
        weight = np.where((index < 0) | (index >= n), 0.0, weight)
        total = weight.sum(axis=1, keepdims=True)
        weight = weight / np.where(total == 0, 1.0, total)
    index = np.clip(index, 0, n - 1)
    if outside is not None:
        weight = np.where(outside[:, None], 0.0, weight)
        if not outside.any():
            outside = None
    return _compact(AxisTaps(index, weight, outside))


def _compact(taps: AxisTaps) -> AxisTaps:
    """Merges taps that read one position and drops columns that are zero everywhere."""
    m, k = taps.index.shape
    merged_i = np.zeros_like(taps.index)
    merged_w = np.zeros_like(taps.weight)
    width = 0
    for row in range(m):
        seen: dict[int, int] = {}
        for col in range(k):
            w = taps.weight[row, col]
            if w == 0:
                continue
            i = int(taps.index[row, col])
            if i not in seen:
                seen[i] = len(seen)
                merged_i[row, seen[i]] = i
            merged_w[row, seen[i]] += w
        width = max(width, len(seen))
    width = max(width, 1)
    return AxisTaps(merged_i[:, :width], merged_w[:, :width], taps.outside)


# ---------------------------------------------------------------------------
# Graph emission


def _repeat_factor(taps: AxisTaps, n: int) -> int | None:
    """f when the axis is nearest upsampling by an integer factor: index = i // f."""
    m = taps.index.shape[0]
    if taps.index.shape[1] != 1 or m % n or taps.outside is not None:
        return None
    f = m // n
    return f if np.array_equal(taps.index[:, 0], np.arange(m) // f) else None


def _stride(taps: AxisTaps) -> tuple[int, int, int] | None:
    """(offset, step, count) when the axis is one unit tap at offset + step * i."""
    index = taps.index[:, 0]
    if taps.index.shape[1] != 1 or taps.outside is not None or not np.all(taps.weight == 1.0):
        return None
    step = int(index[1] - index[0]) if len(index) > 1 else 1
    if step < 1 or not np.array_equal(index, index[0] + step * np.arange(len(index))):
        return None
    return int(index[0]), step, len(index)


def strided_slice(b: NodeBuilder, x: SSAValue, axes: dict[int, tuple[int, int, int]]) -> SSAValue:
    """x[offset : : step][:count] along each of `axes`, in one graph.slice."""
    if not axes:
        return x
    dims = list(shape(x))
    offsets, strides = [0] * len(dims), [1] * len(dims)
    for axis, (offset, step, count) in axes.items():
        offsets[axis], strides[axis], dims[axis] = offset, step, count
    return b.make(g.SliceOp, [x], [TensorType(elem(x), dims)], offsets=offsets, strides=strides)


def repeat(b: NodeBuilder, x: SSAValue, factors: dict[int, int]) -> SSAValue:
    """Each element repeated factors[axis] times along its axis, all axes in one broadcast."""
    if not factors:
        return x
    dims = list(shape(x))
    split: list[int] = []
    wide: list[int] = []
    for axis, n in enumerate(dims):
        f = factors.get(axis)
        split += [n] if f is None else [n, 1]
        wide += [n] if f is None else [n, f]
    y = b.make(g.BroadcastToOp, [reshape(b, x, split)], [TensorType(elem(x), wide)])
    return reshape(b, y, [n * factors.get(axis, 1) for axis, n in enumerate(dims)])


def _along(values: np.ndarray, axis: int, r: int) -> np.ndarray:
    """A [m] table shaped to broadcast along `axis` of a rank-r tensor."""
    return values.reshape([values.shape[0]] + [1] * (r - axis - 1))


def apply_taps(b: NodeBuilder, x: SSAValue, axis: int, taps: AxisTaps, extrapolation: float) -> SSAValue:
    """x resized along `axis` by `taps`."""
    n = shape(x)[axis]
    m = taps.index.shape[0]
    weight_one = bool(np.all(taps.weight == 1.0)) and taps.index.shape[1] == 1
    if weight_one:
        if m == n and np.array_equal(taps.index[:, 0], np.arange(n)):
            return x
        f = _repeat_factor(taps, n)
        if f is not None:
            return repeat(b, x, {axis: f})
        strided = _stride(taps)
        if strided is not None:
            return strided_slice(b, x, {axis: (*strided, m)})
    r = rank(x)
    dt = dtypes.to_numpy_dtype(elem(x))
    y: SSAValue | None = None
    for k in range(taps.index.shape[1]):
        picked = b.make(g.GatherOp, [x, b.constant(taps.index[:, k].astype(np.int64))], axis=axis)
        column = taps.weight[:, k]
        if not np.all(column == 1.0):
            picked = b.make(g.MulOp, [picked, b.constant(_along(column, axis, r).astype(dt), elem(x))])
        y = picked if y is None else b.make(g.AddOp, [y, picked])
    assert y is not None
    if taps.outside is not None and extrapolation != 0.0:
        fill = np.where(taps.outside, extrapolation, 0.0)
        y = b.make(g.AddOp, [y, b.constant(_along(fill, axis, r).astype(dt), elem(x))])
    return y


def resize(
    b: NodeBuilder,
    x: SSAValue,
    spec: ResizeSpec,
    out_shape: Sequence[int],
    scales: Sequence[float],
    roi: Sequence[float] | None,
) -> SSAValue:
    """x resized to out_shape, axis by axis in increasing order."""
    if spec.mode == "linear" and (elem(x) == f32 or dtypes.is_integer(elem(x))):
        resized = _resized_axes(x, out_shape, scales)
        if resized and _bilinear_applies(spec, rank(x), resized):
            return bilinear_2d(b, x, spec, out_shape, scales)
        if dtypes.is_integer(elem(x)):
            raise b.error(
                f"mode='linear' on an integer input ({elem(x)}) is supported on a 2-D or 4-D tensor resized "
                f"over its last two axes without antialias, with coordinate_transformation_mode in "
                f"{sorted(_ORT_COORDINATES)}; got axes {resized}, coordinate_transformation_mode="
                f"{spec.coordinate_mode!r}{', antialias' if spec.antialias else ''}: dequantize before the Resize"
            )
    src = shape(x)
    r = len(src)
    if spec.mode != "nearest" and not dtypes.is_float(elem(x)):
        raise b.error(
            f"mode={spec.mode!r}{' with antialias' if spec.antialias else ''} needs a floating-point input, "
            f"got {elem(x)}"
        )
    per_axis: dict[int, AxisTaps] = {}
    for axis in range(r):
        n, m, scale = src[axis], int(out_shape[axis]), float(scales[axis])
        bounds = (0.0, 1.0) if roi is None else (float(roi[axis]), float(roi[r + axis]))
        if m == n and math.isclose(scale, 1.0) and math.isclose(bounds[0], 0.0) and math.isclose(bounds[1], 1.0):
            continue
        if n == 0 or m == 0:
            raise b.error(f"cannot resize dim {axis} from {n} to {m} positions")
        per_axis[axis] = axis_taps(spec, m, n, scale, bounds)
    # One-tap maps commute with the other axes' maps: one broadcast does every
    # integer nearest upsampling, one slice every strided nearest downsampling.
    factors = {a: f for a, t in per_axis.items() if (f := _repeat_factor(t, src[a])) is not None}
    x = repeat(b, x, factors)
    strided = {a: st for a, t in per_axis.items() if a not in factors and (st := _stride(t)) is not None}
    x = strided_slice(b, x, strided)
    for axis, taps in per_axis.items():
        if axis not in factors and axis not in strided:
            x = apply_taps(b, x, axis, taps, spec.extrapolation_value)
    return x


# ---------------------------------------------------------------------------
# Linear resizing of integer tensors (onnxruntime's u8/s8 kernel)

# Source coordinate of output position x, in float32 as onnxruntime computes it.
_ORT_COORDINATES = {
    "half_pixel": lambda x, scale, m, n: (x + np.float32(0.5)) / scale - np.float32(0.5),
    "asymmetric": lambda x, scale, m, n: x / scale,
    "pytorch_half_pixel": lambda x, scale, m, n: (
        (x + np.float32(0.5)) / scale - np.float32(0.5) if m > 1 else np.zeros_like(x)
    ),
    "tf_half_pixel_for_nn": lambda x, scale, m, n: (x + np.float32(0.5)) / scale,
    # The resized length is scale * n, as ONNX's reference (and source_coordinates)
    # take it; it is onnxruntime's integer output dim whenever that is exact.
    "align_corners": lambda x, scale, m, n: (
        x * np.float32(n - 1) / (np.float32(float(scale) * n) - np.float32(1))
        if np.float32(float(scale) * n) != 1
        else np.zeros_like(x)
    ),
}


def _ort_linear_axis(mode: str, m: int, n: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, weight of the upper, weight of the lower) per output position, in float32."""
    x = np.arange(m, dtype=np.float32)
    original = np.asarray(_ORT_COORDINATES[mode](x, np.float32(scale), m, n), dtype=np.float32)
    clamped = np.clip(original, np.float32(0), np.float32(n - 1)).astype(np.float32)
    lo = np.minimum(clamped.astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    d_lo = np.abs(clamped - lo.astype(np.float32)).astype(np.float32)
    d_hi = np.abs(clamped - hi.astype(np.float32)).astype(np.float32)
    same = lo == hi
    d_lo[same] = np.float32(0.5)
    d_hi[same] = np.float32(0.5)
    return lo, hi, d_lo, d_hi


def _resized_axes(x: SSAValue, out_shape: Sequence[int], scales: Sequence[float]) -> list[int]:
    return [
        a for a, n in enumerate(shape(x)) if int(out_shape[a]) != n or not math.isclose(float(scales[a]), 1.0)
    ]


def _bilinear_applies(spec: ResizeSpec, r: int, resized: list[int]) -> bool:
    """onnxruntime's bilinear kernel: a 2-D or 4-D tensor resized over its last two axes."""
    return (
        not spec.antialias
        and spec.coordinate_mode in _ORT_COORDINATES
        and r in (2, 4)
        and all(a >= r - 2 for a in resized)
    )


def bilinear_2d(
    b: NodeBuilder, x: SSAValue, spec: ResizeSpec, out_shape: Sequence[int], scales: Sequence[float]
) -> SSAValue:
    """Linear resizing over the last two axes of a 2-D or 4-D tensor, as onnxruntime computes it.

    onnxruntime sums the four corners in float32, each times the product of
    its two distances, in a fixed order (an integer input, the u8/s8 Resize
    of QOperator models, is then truncated). The separable path rounds
    differently: in a QDQ model a quantized value near a tie, or in an integer
    one a result near an integer, then goes to the other side. So the weights
    and the order of the sum follow its kernel exactly.
    """
    r = rank(x)
    (oh, ow), (h, w) = (int(out_shape[r - 2]), int(out_shape[r - 1])), shape(x)[r - 2 :]
    y1, y2, dy1, dy2 = _ort_linear_axis(spec.coordinate_mode, oh, h, float(scales[r - 2]))
    x1, x2, dx1, dx2 = _ort_linear_axis(spec.coordinate_mode, ow, w, float(scales[r - 1]))
    values = cast(b, x, f32)
    rows = [b.make(g.GatherOp, [values, b.constant(index)], axis=r - 2) for index in (y1, y2)]
    y: SSAValue | None = None
    # onnxruntime: dx2*dy2*X11 + dx1*dy2*X21 + dx2*dy1*X12 + dx1*dy1*X22
    for row, dy, col, dx in ((0, dy2, x1, dx2), (0, dy2, x2, dx1), (1, dy1, x1, dx2), (1, dy1, x2, dx1)):
        corner = b.make(g.GatherOp, [rows[row], b.constant(col)], axis=r - 1)
        weight = (dx[None, :] * dy[:, None]).astype(np.float32).reshape((1,) * (r - 2) + (oh, ow))
        term = b.make(g.MulOp, [b.constant(weight, f32), corner])
        y = term if y is None else b.make(g.AddOp, [y, term])
    assert y is not None
    return cast(b, y, elem(x))


# ---------------------------------------------------------------------------
# Converters


def _spec(b: NodeBuilder) -> ResizeSpec:
    mode = b.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "cubic") or (b.opset < 11 and mode == "cubic"):
        raise b.error(f"mode={mode!r} is not supported (nearest, linear or cubic)")
    if b.opset < 11 or b.node.op_type == "Upsample":
        # Resize-10 and Upsample: asymmetric coordinates, nearest rounds down.
        return ResizeSpec(mode=mode, coordinate_mode="asymmetric", nearest_mode="floor")
    coord = b.attr("coordinate_transformation_mode", "half_pixel")
    if coord not in COORDINATE_MODES:
        raise b.error(f"coordinate_transformation_mode={coord!r} is not supported")
    nearest = b.attr("nearest_mode", "round_prefer_floor")
    if nearest not in NEAREST_MODES:
        raise b.error(f"nearest_mode={nearest!r} is not supported")
    antialias = bool(b.attr("antialias", 0))
    if antialias and mode == "nearest":
        raise b.error("antialias=1 is not defined for mode='nearest'")
    return ResizeSpec(
        mode=mode,
        coordinate_mode=coord,
        nearest_mode=nearest,
        cubic_coeff_a=float(b.attr("cubic_coeff_a", -0.75)),
        exclude_outside=bool(b.attr("exclude_outside", 0)),
        antialias=antialias,
        extrapolation_value=float(b.attr("extrapolation_value", 0.0)),
    )


def _floats(value: np.ndarray | None) -> list[float] | None:
    if value is None or value.size == 0:
        return None
    return [float(v) for v in value.reshape(-1)]


def _scatter(values: Sequence[float], axes: Sequence[int], full: Sequence[float]) -> list[float]:
    out = list(full)
    for a, v in zip(axes, values, strict=True):
        out[a] = v
    return out


def _sizes_and_scales(
    b: NodeBuilder, src: Sequence[int], axes: list[int], scales: list[float] | None, sizes: list[float] | None
) -> tuple[list[int], list[float]]:
    """Output dims and per-axis scales from either `scales` or `sizes` (over `axes`)."""
    r = len(src)
    if (scales is None) == (sizes is None):
        raise b.error("exactly one of scales and sizes must be given")
    if scales is not None:
        if len(scales) != len(axes) or any(s <= 0 for s in scales):
            raise b.error(f"scales {scales} must be {len(axes)} positive values")
        full = _scatter(scales, axes, [1.0] * r)
        return [int(math.floor(d * s)) for d, s in zip(src, full, strict=True)], full
    assert sizes is not None
    if len(sizes) != len(axes) or any(s < 1 for s in sizes):
        raise b.error(f"sizes {[int(s) for s in sizes]} must be {len(axes)} positive values")
    out = [int(d) for d in _scatter(sizes, axes, list(src))]
    full = [o / d for o, d in zip(out, src, strict=True)]
    policy = b.attr("keep_aspect_ratio_policy", "stretch")
    if policy == "stretch":
        return out, full
    if policy not in ("not_larger", "not_smaller"):
        raise b.error(f"keep_aspect_ratio_policy={policy!r} is not supported")
    chosen = [full[a] for a in axes]
    scale = min(chosen) if policy == "not_larger" else max(chosen)
    full = [scale if a in axes else 1.0 for a in range(r)]
    out = [int(scale * src[a] + 0.5) if a in axes else src[a] for a in range(r)]
    return out, full


@converter("Resize")
def convert_resize(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    r = rank(x)
    spec = _spec(b)
    roi = None
    if b.opset < 11:
        scales, sizes = _floats(b.const_input(1, "scales")), None
    else:
        roi = _floats(b.opt_const_input(1, "roi"))
        scales = _floats(b.opt_const_input(2, "scales"))
        sizes = _floats(b.opt_const_input(3, "sizes"))
    axes = [norm_axis(b, a, r) for a in b.ints_attr("axes", list(range(r))) or []]
    if len(set(axes)) != len(axes):
        raise b.error(f"axes {axes} repeat an axis")
    if roi is not None:
        if spec.coordinate_mode != "tf_crop_and_resize":
            roi = None
        elif len(roi) != 2 * len(axes):
            raise b.error(f"roi needs {2 * len(axes)} values, got {len(roi)}")
        else:
            half = len(axes)
            roi = _scatter(roi[:half], axes, [0.0] * r) + _scatter(roi[half:], axes, [1.0] * r)
    if spec.coordinate_mode == "tf_crop_and_resize" and roi is None:
        raise b.error("coordinate_transformation_mode='tf_crop_and_resize' needs roi")
    out, full = _sizes_and_scales(b, shape(x), axes, scales, sizes)
    return [resize(b, x, spec, out, full, roi)]


@converter("Upsample")
def convert_upsample(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    spec = _spec(b)
    if b.opset < 9:
        scales = b.attr("scales")
    else:
        scales = _floats(b.const_input(1, "scales"))
    if scales is None or len(scales) != rank(x) or any(s < 1 for s in scales):
        raise b.error(f"scales {scales} must be {rank(x)} values of at least 1")
    out, full = _sizes_and_scales(b, shape(x), list(range(rank(x))), [float(s) for s in scales], None)
    return [resize(b, x, spec, out, full, None)]
