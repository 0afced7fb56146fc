"""A numpy reference interpreter of the graph dialect.

It is the oracle for graph passes (every pass must leave its results
unchanged), and `fold-constants` and the importer reuse its kernels to
evaluate ops whose operands are constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Block, Operation, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.dialects import layouts, winograd
from compiler.errors import InputError

Kernel = Callable[[Operation, list[np.ndarray]], list[np.ndarray]]
KERNELS: dict[type[Operation], Kernel] = {}

_Op = TypeVar("_Op", bound=Operation)


def kernel(*op_types: type[Operation]) -> Callable[[Kernel], Kernel]:
    """Registers a numpy kernel for the given op classes."""

    def register(fn: Kernel) -> Kernel:
        for op_type in op_types:
            KERNELS[op_type] = fn
        return fn

    return register


def _np_dtype(value: SSAValue) -> np.dtype:
    assert isinstance(value.type, TensorType)
    return dtypes.to_numpy_dtype(value.type.get_element_type())


def _out(op: Operation, value: np.ndarray | np.generic) -> list[np.ndarray]:
    """Cast a result to the op's declared element type; its shape must already match.

    A kernel that computes the wrong shape is a bug: broadcasting it to the
    declared shape would hide it, so that is an error.
    """
    dt = _np_dtype(op.results[0])
    arr = np.asarray(value)
    if arr.dtype != dt:
        arr = arr.astype(dt)
    shape = g.shape_of(op.results[0])
    if arr.shape != shape:
        raise AssertionError(f"{op.name} kernel computed shape {arr.shape}, the op declares {shape}")
    # Not np.ascontiguousarray: it turns rank-0 arrays into shape (1,).
    return [np.asarray(arr, order="C")]


# --- elementwise ---------------------------------------------------------------

_UNARY: dict[type[Operation], Callable[[np.ndarray], np.ndarray]] = {
    g.IdentityOp: lambda x: x,
    g.NegOp: np.negative,
    g.AbsOp: np.abs,
    g.SignOp: np.sign,
    g.ReluOp: lambda x: np.maximum(x, np.zeros((), x.dtype)),
    g.ExpOp: np.exp,
    g.LogOp: np.log,
    g.SqrtOp: np.sqrt,
    g.ReciprocalOp: np.reciprocal,
    g.SigmoidOp: lambda x: 1 / (1 + np.exp(-x)),
    g.TanhOp: np.tanh,
    g.ErfOp: lambda x: _erf(x),
    g.FloorOp: np.floor,
    g.CeilOp: np.ceil,
    g.RoundOp: np.round,
    g.SinOp: np.sin,
    g.CosOp: np.cos,
    g.TanOp: np.tan,
    g.AsinOp: np.arcsin,
    g.AcosOp: np.arccos,
    g.AtanOp: np.arctan,
    g.SinhOp: np.sinh,
    g.CoshOp: np.cosh,
    g.AsinhOp: np.arcsinh,
    g.AcoshOp: np.arccosh,
    g.AtanhOp: np.arctanh,
    g.SoftplusOp: lambda x: np.logaddexp(np.zeros((), x.dtype), x),
    g.NotOp: np.logical_not,
    g.BitwiseNotOp: np.invert,
}


def _erf(x: np.ndarray) -> np.ndarray:
    # scipy.special costs 0.6 s to import; only models with Erf pay it.
    from scipy import special

    return special.erf(x)


@kernel(*_UNARY)
def _unary(op: Operation, args: list[np.ndarray]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        return _out(op, _UNARY[type(op)](args[0]))


@kernel(g.LeakyReluOp)
def _leaky_relu(op: g.LeakyReluOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    return _out(op, np.where(x >= 0, x, x * x.dtype.type(op.float_prop("alpha"))))


@kernel(g.EluOp)
def _elu(op: g.EluOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    with np.errstate(all="ignore"):
        return _out(op, np.where(x >= 0, x, x.dtype.type(op.float_prop("alpha")) * np.expm1(x)))


@kernel(g.HardSigmoidOp)
def _hard_sigmoid(op: g.HardSigmoidOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    alpha, beta = x.dtype.type(op.float_prop("alpha")), x.dtype.type(op.float_prop("beta"))
    return _out(op, np.clip(alpha * x + beta, 0, 1))


@kernel(g.ClipOp)
def _clip(op: g.ClipOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    if op.min is not None:
        x = np.maximum(x, np.asarray(op.min.value.data).astype(x.dtype))
    if op.max is not None:
        x = np.minimum(x, np.asarray(op.max.value.data).astype(x.dtype))
    return _out(op, x)


@kernel(g.CastOp)
def _cast(op: g.CastOp, args: list[np.ndarray]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        return _out(op, args[0].astype(_np_dtype(op.result)))


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # C semantics: truncate toward zero (numpy floors).
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
    return q + fix.astype(q.dtype)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return _int_div(a, b)
    return np.divide(a, b)


def _mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return np.mod(a, b)
    return np.fmod(a, b)


def _pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.any(b < 0):
        # numpy refuses negative integer powers; ONNX runtimes compute them in
        # double and truncate (2 ** -1 == 0, (-1) ** -1 == -1).
        exact = np.power(a, np.maximum(b, 0))
        approx = np.trunc(np.power(a.astype(np.float64), b.astype(np.float64)))
        return np.where(b < 0, approx.astype(a.dtype), exact)
    return np.power(a, b)


def _shift(a: np.ndarray, b: np.ndarray, left: bool) -> np.ndarray:
    """Shifts by the bit width or more give 0 (or -1 right-shifting negative signed values)."""
    width = a.dtype.itemsize * 8
    over = (b >= width) | (b < 0)
    safe = np.where(over, 0, b).astype(a.dtype)
    shifted = np.left_shift(a, safe) if left else np.right_shift(a, safe)
    fill = np.zeros((), a.dtype) if left else np.where(a < 0, a.dtype.type(-1) if a.dtype.kind == "i" else 0, 0)
    return np.where(over, fill, shifted).astype(a.dtype)


_BINARY: dict[type[Operation], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    g.AddOp: np.add,
    g.SubOp: np.subtract,
    g.MulOp: np.multiply,
    g.DivOp: _div,
    g.PowOp: _pow,
    g.MaxOp: np.maximum,
    g.MinOp: np.minimum,
    g.ModOp: _mod,
    g.EqualOp: np.equal,
    g.LessOp: np.less,
    g.LessEqualOp: np.less_equal,
    g.GreaterOp: np.greater,
    g.GreaterEqualOp: np.greater_equal,
    g.AndOp: np.logical_and,
    g.OrOp: np.logical_or,
    g.XorOp: np.logical_xor,
    g.BitwiseAndOp: np.bitwise_and,
    g.BitwiseOrOp: np.bitwise_or,
    g.BitwiseXorOp: np.bitwise_xor,
    g.ShiftLeftOp: lambda a, b: _shift(a, b, left=True),
    g.ShiftRightOp: lambda a, b: _shift(a, b, left=False),
}


@kernel(*_BINARY)
def _binary(op: Operation, args: list[np.ndarray]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        return _out(op, _BINARY[type(op)](args[0], args[1]))


@kernel(g.WhereOp)
def _where(op: g.WhereOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, np.where(*args))


# --- data movement -------------------------------------------------------------


@kernel(g.ReshapeOp)
def _reshape(op: g.ReshapeOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, args[0].reshape(g.shape_of(op.result)))


@kernel(g.BroadcastToOp)
def _broadcast_to(op: g.BroadcastToOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, np.broadcast_to(args[0], g.shape_of(op.result)))


@kernel(g.TransposeOp)
def _transpose(op: g.TransposeOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, np.transpose(args[0], op.ints("perm")))


@kernel(g.SliceOp)
def _slice(op: g.SliceOp, args: list[np.ndarray]) -> list[np.ndarray]:
    index: list[slice] = []
    for off, step, size in zip(op.ints("offsets"), op.ints("strides"), g.shape_of(op.result), strict=True):
        stop = off + size * step
        index.append(slice(off, stop if stop >= 0 else None, step))
    return _out(op, args[0][tuple(index)])


@kernel(g.ConcatOp)
def _concat(op: g.ConcatOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, np.concatenate(args, axis=op.int_prop("axis")))


@kernel(g.GatherOp)
def _gather(op: g.GatherOp, args: list[np.ndarray]) -> list[np.ndarray]:
    data, idx = args
    axis = op.int_prop("axis")
    n = data.shape[axis]
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise InputError(f"graph.gather index {int(idx[bad].flat[0])} is out of range for a dim of size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    return _out(op, np.take(data, idx, axis=axis))


def _element_positions(idx: np.ndarray, n: int, what: str) -> np.ndarray:
    """Indices along a dim of size n, negatives counted from the end; InputError if out of range."""
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise InputError(f"{what} index {int(idx[bad].flat[0])} is out of range for a dim of size {n}")
    return np.where(idx < 0, idx + n, idx).astype(np.int64)


@kernel(g.GatherElementsOp)
def _gather_elements(op: g.GatherElementsOp, args: list[np.ndarray]) -> list[np.ndarray]:
    data, idx = args
    axis = op.int_prop("axis")
    pos = _element_positions(idx, data.shape[axis], op.name)
    return _out(op, np.take_along_axis(data, pos, axis=axis))


_SCATTER_COMBINE: dict[str, np.ufunc] = {
    "add": np.add,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
}


@kernel(g.ScatterElementsOp)
def _scatter_elements(op: g.ScatterElementsOp, args: list[np.ndarray]) -> list[np.ndarray]:
    data, idx, updates = args
    axis = op.int_prop("axis")
    pos = _element_positions(idx, data.shape[axis], op.name)
    target = list(np.indices(updates.shape, sparse=True))
    target[axis] = pos
    out = data.copy()
    combine = _SCATTER_COMBINE.get(op.str_prop("reduction"))
    if combine is None:
        # With duplicate indices numpy keeps the last update, as the compiled kernel.
        out[tuple(target)] = updates
    else:
        combine.at(out, tuple(target), updates)
    return _out(op, out)


@kernel(g.TopKIndicesOp)
def _topk_indices(op: g.TopKIndicesOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    axis, k = op.int_prop("axis"), op.int_prop("k")
    if op.int_prop("largest"):
        # Descending values, ties to the lower index: a stable ascending sort of
        # the flipped input, reversed, names the flipped positions.
        n = x.shape[axis]
        order = n - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
    else:
        order = np.argsort(x, axis=axis, kind="stable")
    return _out(op, np.take(order, np.arange(k), axis=axis))


@kernel(g.NonMaxSuppressionOp)
def _non_max_suppression(op: g.NonMaxSuppressionOp, args: list[np.ndarray]) -> list[np.ndarray]:
    boxes, scores, max_out, iou, score_thr, num_boxes = args
    per_class = op.int_prop("per_class")
    limit = min(max(int(max_out), 0), per_class)
    center = op.int_prop("center_point_box")
    has_score = bool(op.int_prop("has_score_threshold"))
    rows: list[tuple[int, int, int]] = []
    for b in range(scores.shape[0]):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            # Score descending, ties to the lower index (onnxruntime's priority queue).
            order = sorted(range(min(int(num_boxes), s.shape[0])), key=lambda i: (-s[i], i))
            chosen: list[int] = []
            for i in order:
                if len(chosen) >= limit:
                    break
                if has_score and not s[i] > score_thr:
                    continue
                if not any(nms_suppresses(boxes[b, j], boxes[b, i], center, iou) for j in chosen):
                    chosen.append(i)
                    rows.append((b, c, i))
    out = np.full(op.result_type.get_shape(), -1, dtype=np.int64)
    if rows:
        out[: len(rows)] = rows
    return _out(op, out)


def nms_suppresses(box1: np.ndarray, box2: np.ndarray, center: int, iou: np.generic) -> bool:
    """onnxruntime's SuppressByIOU in the boxes' float type: IoU > threshold;
    empty and degenerate boxes never suppress."""
    t = box1.dtype.type
    if center:
        w1, h1, w2, h2 = box1[2] / t(2), box1[3] / t(2), box2[2] / t(2), box2[3] / t(2)
        x1 = (box1[0] - w1, box1[0] + w1)
        x2 = (box2[0] - w2, box2[0] + w2)
        y1 = (box1[1] - h1, box1[1] + h1)
        y2 = (box2[1] - h2, box2[1] + h2)
    else:
        def min_max(a: np.generic, b: np.generic) -> tuple[np.generic, np.generic]:
            return (b, a) if a >= b else (a, b)

        x1, x2 = min_max(box1[1], box1[3]), min_max(box2[1], box2[3])
        y1, y2 = min_max(box1[0], box1[2]), min_max(box2[0], box2[2])
    ix_min, ix_max = max(x1[0], x2[0]), min(x1[1], x2[1])
    iy_min, iy_max = max(y1[0], y2[0]), min(y1[1], y2[1])
    if not (ix_max > ix_min and iy_max > iy_min):
        return False
    inter = (ix_max - ix_min) * (iy_max - iy_min)
    area1 = (x1[1] - x1[0]) * (y1[1] - y1[0])
    area2 = (x2[1] - x2[0]) * (y2[1] - y2[0])
    union = area1 + area2 - inter
    if not (inter > 0 and area1 > 0 and area2 > 0 and union > 0):
        return False
    return bool(inter / union > iou)


@kernel(g.NonZeroOp)
def _non_zero(op: g.NonZeroOp, args: list[np.ndarray]) -> list[np.ndarray]:
    found = np.asarray(np.nonzero(args[0]), dtype=np.int64)
    out = np.full(op.result_type.get_shape(), -1, dtype=np.int64)
    out[:, : found.shape[1]] = found
    return _out(op, out)


@kernel(g.RoiAlignOp)
def _roi_align(op: g.RoiAlignOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x, rois, batch = args
    t = x.dtype.type
    _, channels, height, width = x.shape
    oh, ow = op.int_prop("output_height"), op.int_prop("output_width")
    ratio = op.int_prop("sampling_ratio")
    scale = t(op.float_prop("spatial_scale"))
    half_pixel = bool(op.int_prop("half_pixel"))
    is_max = op.str_prop("mode") == "max"
    out = np.zeros(op.result_type.get_shape(), dtype=x.dtype)
    offset = t(0.5) if half_pixel else t(0)
    for r in range(rois.shape[0]):
        start_w, start_h, end_w, end_h = (rois[r, k] * scale - offset for k in range(4))
        roi_w, roi_h = end_w - start_w, end_h - start_h
        if not half_pixel:  # malformed rois become 1x1
            roi_w, roi_h = max(roi_w, t(1)), max(roi_h, t(1))
        bin_h, bin_w = roi_h / t(oh), roi_w / t(ow)
        grid_h = ratio if ratio > 0 else int(np.ceil(roi_h / t(oh)))
        grid_w = ratio if ratio > 0 else int(np.ceil(roi_w / t(ow)))
        count = t(max(grid_h * grid_w, 1))
        data = x[int(batch[r])]
        for ph in range(oh):
            for pw in range(ow):
                acc = np.zeros(channels, dtype=x.dtype)
                for iy in range(grid_h):
                    yy = start_h + t(ph) * bin_h + t(iy + 0.5) * bin_h / t(grid_h)
                    for ix in range(grid_w):
                        xx = start_w + t(pw) * bin_w + t(ix + 0.5) * bin_w / t(grid_w)
                        corners = roi_align_corners(yy, xx, height, width)
                        if corners is None:
                            terms = np.zeros((4, channels), dtype=x.dtype)
                        else:
                            terms = np.stack([w * data[:, yi, xi] for yi, xi, w in corners])
                        if is_max:
                            val = terms.max(axis=0)
                            acc = val if iy == 0 and ix == 0 else np.maximum(acc, val)
                        else:
                            acc = acc + terms[0] + terms[1] + terms[2] + terms[3]
                out[r, :, ph, pw] = acc if is_max else acc / count
    return _out(op, out)


def roi_align_corners(
    y: np.generic, x: np.generic, height: int, width: int
) -> list[tuple[int, int, np.generic]] | None:
    """The four (row, col, weight) taps of a bilinear sample, as onnxruntime's
    pre_calc_for_bilinear_interpolate; None when the sample lies outside."""
    t = type(y)
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return None
    y, x = max(y, t(0)), max(x, t(0))
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_low = y_high = height - 1
        y = t(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        x = t(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - t(y_low), x - t(x_low)
    hy, hx = t(1) - ly, t(1) - lx
    return [(y_low, x_low, hy * hx), (y_low, x_high, hy * lx), (y_high, x_low, ly * hx), (y_high, x_high, ly * lx)]


@kernel(g.MaxRoiPoolOp)
def _max_roi_pool(op: g.MaxRoiPoolOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x, rois = args
    t = x.dtype.type
    _, channels, height, width = x.shape
    ph_n, pw_n = op.int_prop("pooled_height"), op.int_prop("pooled_width")
    scale = t(op.float_prop("spatial_scale"))

    def round_away(v: np.generic) -> int:  # std::round: halves away from zero
        return int(np.sign(v)) * math.floor(abs(float(v)) + 0.5)

    out = np.zeros(op.result_type.get_shape(), dtype=x.dtype)
    for r in range(rois.shape[0]):
        batch = int(rois[r, 0])
        start_w, start_h, end_w, end_h = (round_away(rois[r, k] * scale) for k in range(1, 5))
        bin_h = t(max(end_h - start_h + 1, 1)) / t(ph_n)
        bin_w = t(max(end_w - start_w + 1, 1)) / t(pw_n)
        for ph in range(ph_n):
            h0 = min(max(int(np.floor(t(ph) * bin_h)) + start_h, 0), height)
            h1 = min(max(int(np.ceil(t(ph + 1) * bin_h)) + start_h, 0), height)
            for pw in range(pw_n):
                w0 = min(max(int(np.floor(t(pw) * bin_w)) + start_w, 0), width)
                w1 = min(max(int(np.ceil(t(pw + 1) * bin_w)) + start_w, 0), width)
                if h1 > h0 and w1 > w0:
                    out[r, :, ph, pw] = x[batch, :, h0:h1, w0:w1].max(axis=(1, 2))
    return _out(op, out)


@kernel(g.CumSumOp, g.CumProdOp)
def _cumsum(op: g.ScanOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    axis = op.int_prop("axis")
    is_prod = isinstance(op, g.CumProdOp)
    if op.int_prop("reverse"):
        x = np.flip(x, axis)
    y = (np.cumprod if is_prod else np.cumsum)(x, axis=axis, dtype=x.dtype)
    if op.int_prop("exclusive") and x.shape[axis]:
        # Shift by one (combining x[:-1]), not y - x: floats would round differently.
        head = (np.ones_like if is_prod else np.zeros_like)(np.take(x, [0], axis=axis))
        y = np.concatenate([head, np.take(y, np.arange(x.shape[axis] - 1), axis=axis)], axis=axis)
    if op.int_prop("reverse"):
        y = np.flip(y, axis)
    return _out(op, y)


@kernel(g.PadOp)
def _pad(op: g.PadOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    pads = op.ints("pads")
    r = x.ndim
    widths = [(pads[d], pads[r + d]) for d in range(r)]
    mode = op.str_prop("mode")
    if mode == "constant":
        value = np.asarray(op.float_prop("value")).astype(x.dtype)
        return _out(op, np.pad(x, widths, mode="constant", constant_values=value))
    return _out(op, np.pad(x, widths, mode="reflect" if mode == "reflect" else "edge"))


# --- reductions ----------------------------------------------------------------

_REDUCE: dict[type[Operation], Callable[..., np.ndarray]] = {
    g.ReduceSumOp: np.sum,
    g.ReduceMeanOp: np.mean,
    g.ReduceMaxOp: np.max,
    g.ReduceMinOp: np.min,
    g.ReduceProdOp: np.prod,
}


@kernel(*_REDUCE)
def _reduce(op: g.ReduceOp, args: list[np.ndarray]) -> list[np.ndarray]:
    axes = op.ints("axes")
    x = args[0]
    if not axes:
        return _out(op, x)
    keep = op.int_prop("keepdims") != 0
    if isinstance(op, g.ReduceMaxOp | g.ReduceMinOp):
        # np.max/np.min take no dtype (they keep the input's). Over empty dims
        # ONNX gives the identity of max/min: -inf/+inf, or the int type's
        # min/max (numpy would raise).
        is_max = isinstance(op, g.ReduceMaxOp)
        if dtypes.is_float(dtypes.from_numpy_dtype(x.dtype)):  # bfloat16 is no numpy floating
            initial = -np.inf if is_max else np.inf
        else:
            info = np.iinfo(x.dtype)
            initial = info.min if is_max else info.max
        return _out(op, _REDUCE[type(op)](x, axis=axes, keepdims=keep, initial=initial))
    # dtype keeps numpy from widening small ints (and from a float64 mean of ints).
    return _out(op, _REDUCE[type(op)](x, axis=axes, keepdims=keep, dtype=x.dtype))


@kernel(g.ArgMaxOp, g.ArgMinOp)
def _arg_reduce(op: g.ArgReduceOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    axis = op.int_prop("axis")
    fn = np.argmax if isinstance(op, g.ArgMaxOp) else np.argmin
    if op.int_prop("select_last_index"):
        flipped = np.flip(x, axis=axis)
        res = x.shape[axis] - 1 - fn(flipped, axis=axis)
    else:
        res = fn(x, axis=axis)
    if op.int_prop("keepdims"):
        res = np.expand_dims(res, axis)
    return _out(op, res)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@kernel(g.SoftmaxOp)
def _softmax(op: g.SoftmaxOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, softmax(args[0], op.int_prop("axis")))


@kernel(g.LogSoftmaxOp)
def _log_softmax(op: g.LogSoftmaxOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    axis = op.int_prop("axis")
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return _out(op, shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)))


@kernel(g.LayerNormOp)
def _layer_norm(op: g.LayerNormOp, args: list[np.ndarray]) -> list[np.ndarray]:
    # ONNX computes the statistics in float32 at least (stash_type=1), so f16
    # inputs are normalized in float32 and rounded once at the end.
    wide = np.promote_types(args[0].dtype, np.float32)
    x, scale = args[0].astype(wide), args[1].astype(wide)
    axes = tuple(range(op.int_prop("axis"), x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean(np.square(x - mean), axis=axes, keepdims=True)
    eps = x.dtype.type(op.float_prop("epsilon"))
    y = (x - mean) / np.sqrt(var + eps) * scale
    if len(args) == 3:
        y = y + args[2]
    return _out(op, y)


# --- convolution, matmul, pooling ---------------------------------------------


def _windows(
    x: np.ndarray, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
    out_hw: Sequence[int],
) -> np.ndarray:
    """View [N, C, OH, OW, KH, KW] of an already padded NCHW input."""
    kh, kw = kernel
    dh, dw = dilations
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    view = np.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(2, 3))
    view = view[:, :, :: strides[0], :: strides[1], ::dh, ::dw]
    return view[:, :, : out_hw[0], : out_hw[1]]


def _pad_nchw(x: np.ndarray, pads: Sequence[int], value: float) -> np.ndarray:
    if not any(pads):
        return x
    widths = [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _layout(op: Operation, name: str, default: str) -> str:
    attr = op.properties.get(name)
    return attr.data if isinstance(attr, StringAttr) else default


def _data_block(op: Operation, name: str) -> int:
    return layouts.data_block(_layout(op, name, layouts.NCHW))


@kernel(g.ConvOp)
def _conv(op: g.ConvOp, args: list[np.ndarray]) -> list[np.ndarray]:
    # Blocked layouts compute the same logical conv: unpack, compute, pack.
    ki, ko = layouts.kernel_blocks(_layout(op, "kernel_layout", layouts.OIHW))
    out_block = _data_block(op, "out_layout")
    x = layouts.unpack_data(args[0], _data_block(op, "data_layout"))
    w = layouts.unpack_kernel(args[1], ki, ko)
    if x.dtype in (np.int8, np.uint8, np.int16):  # narrow integer conv (ui8 x i8 too): products in i32
        x, w = x.astype(np.int32), w.astype(np.int32)
    n, _, oh, ow = layouts.data_logical_shape(g.shape_of(op.result), out_block)
    group = op.int_prop("group")
    xp = _pad_nchw(x, op.ints("pads"), 0.0)
    cols = _windows(xp, w.shape[2:], op.ints("strides"), op.ints("dilations"), (oh, ow))
    cin_g = w.shape[1]
    cout_g = w.shape[0] // group
    out = np.empty((n, w.shape[0], oh, ow), dtype=x.dtype)
    for gi in range(group):
        c = cols[:, gi * cin_g : (gi + 1) * cin_g]  # N, Cg, OH, OW, KH, KW
        wg = w[gi * cout_g : (gi + 1) * cout_g]  # Og, Cg, KH, KW
        out[:, gi * cout_g : (gi + 1) * cout_g] = np.einsum(
            "nchwij,ocij->nohw", c, wg, optimize=True
        )
    if len(args) == 3:
        out += args[2].reshape(1, -1, 1, 1)
    return _out(op, layouts.pack_data(out, out_block))


@kernel(g.MatMulOp)
def _matmul(op: g.MatMulOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return _out(op, np.matmul(args[0], args[1]))


@kernel(g.WinogradInputOp)
def _winograd_input(op: g.WinogradInputOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = layouts.unpack_data(args[0], _data_block(op, "layout"))
    pads = op.ints("pads")
    out_hw = (x.shape[2] + pads[0] + pads[2] - 2, x.shape[3] + pads[1] + pads[3] - 2)
    v = winograd.transform_input(x, op.int_prop("tile"), pads, out_hw)  # type: ignore[arg-type]
    return _out(op, v.astype(x.dtype))


@kernel(g.WinogradOutputOp)
def _winograd_output(op: g.WinogradOutputOp, args: list[np.ndarray]) -> list[np.ndarray]:
    n, oh, ow = op.ints("output")
    y = winograd.transform_output(args[0], op.int_prop("tile"), n, (oh, ow))
    if len(args) == 2:
        y = y + args[1].reshape(1, -1, 1, 1)
    return _out(op, layouts.pack_data(y.astype(args[0].dtype), _data_block(op, "layout")))


@kernel(g.MaxPoolOp)
def _max_pool(op: g.MaxPoolOp, args: list[np.ndarray]) -> list[np.ndarray]:
    block = _data_block(op, "layout")
    _, _, oh, ow = layouts.data_logical_shape(g.shape_of(op.result), block)
    x = layouts.unpack_data(args[0], block)
    lowest = -np.inf if dtypes.is_float(dtypes.from_numpy_dtype(x.dtype)) else np.iinfo(x.dtype).min
    xp = _pad_nchw(x, op.ints("pads"), lowest)
    win = _windows(xp, op.ints("kernel_shape"), op.ints("strides"), op.ints("dilations"), (oh, ow))
    return _out(op, layouts.pack_data(win.max(axis=(4, 5)), block))


@kernel(g.AvgPoolOp)
def _avg_pool(op: g.AvgPoolOp, args: list[np.ndarray]) -> list[np.ndarray]:
    block = _data_block(op, "layout")
    x = layouts.unpack_data(args[0], block)
    _, _, oh, ow = layouts.data_logical_shape(g.shape_of(op.result), block)
    kernel_shape, strides, pads = op.ints("kernel_shape"), op.ints("strides"), op.ints("pads")
    sums = _windows(_pad_nchw(x, pads, 0.0), kernel_shape, strides, (1, 1), (oh, ow)).sum(axis=(4, 5))
    if op.int_prop("count_include_pad"):
        count: np.ndarray | int = math.prod(kernel_shape)
    else:
        ones = np.ones((1, 1, *x.shape[2:]), dtype=x.dtype)
        count = _windows(_pad_nchw(ones, pads, 0.0), kernel_shape, strides, (1, 1), (oh, ow)).sum(axis=(4, 5))
    return _out(op, layouts.pack_data(sums / count, block))


@kernel(g.LayoutTransformOp)
def _layout_transform(op: g.LayoutTransformOp, args: list[np.ndarray]) -> list[np.ndarray]:
    src, dst = _data_block(op, "src_layout"), _data_block(op, "dst_layout")
    return _out(op, layouts.convert_data(args[0], src, dst))


# --- others --------------------------------------------------------------------


@kernel(g.BatchNormOp)
def _batch_norm(op: g.BatchNormOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x, scale, bias, mean, var = args
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = x.dtype.type(op.float_prop("epsilon"))
    inv = scale / np.sqrt(var + eps)
    return _out(op, (x - mean.reshape(shape)) * inv.reshape(shape) + bias.reshape(shape))


@kernel(g.LRNOp)
def _lrn(op: g.LRNOp, args: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    size = op.int_prop("size")
    alpha, beta, bias = (x.dtype.type(op.float_prop(k)) for k in ("alpha", "beta", "bias"))
    c = x.shape[1]
    sq = np.square(x)
    lo, hi = (size - 1) // 2, size // 2  # ONNX: floor((size-1)/2) before, ceil((size-1)/2) after
    padded = np.pad(sq, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
    window = sum(padded[:, i : i + c] for i in range(size))
    return _out(op, x / np.power(bias + alpha / size * window, beta))


@kernel(g.ConstantOp)
def _constant(op: g.ConstantOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return [op.to_numpy()]


@kernel(g.FusedOp)
def _fused(op: g.FusedOp, args: list[np.ndarray]) -> list[np.ndarray]:
    return run_block(op.body.block, args)


# --- driver --------------------------------------------------------------------


def evaluate(op: Operation, args: list[np.ndarray]) -> list[np.ndarray]:
    """Runs one op on numpy arrays."""
    try:
        fn = KERNELS[type(op)]
    except KeyError:
        raise NotImplementedError(f"the interpreter has no kernel for '{op.name}'") from None
    return fn(op, args)


def run_block(block: Block, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Runs a block whose terminator (func.return / graph.yield) gives the results."""
    env: dict[SSAValue, np.ndarray] = dict(zip(block.args, args, strict=True))
    for op in block.ops:
        if isinstance(op, func.ReturnOp | g.YieldOp):
            return [env[v] for v in op.operands]
        results = evaluate(op, [env[v] for v in op.operands])
        for res, arr in zip(op.results, results, strict=True):
            env[res] = arr
    raise ValueError("block has no terminator")


def main_function(module: ModuleOp, name: str = "main") -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    raise ValueError(f"module has no function @{name}")


def input_names(fn: func.FuncOp) -> list[str]:
    """Model input names (the `graph.name` arg attributes), else arg0, arg1, ..."""
    names = []
    for i in range(len(fn.args)):
        attrs = fn.arg_attrs.data[i].data if fn.arg_attrs is not None else {}
        name = attrs.get("graph.name")
        names.append(name.data if isinstance(name, StringAttr) else f"arg{i}")
    return names


def output_names(fn: func.FuncOp) -> list[str]:
    names = []
    for i in range(len(fn.function_type.outputs)):
        attrs = fn.res_attrs.data[i].data if fn.res_attrs is not None else {}
        name = attrs.get("graph.name")
        names.append(name.data if isinstance(name, StringAttr) else f"result{i}")
    return names


def output_rows(fn: func.FuncOp) -> list[tuple[int | None, bool, int]]:
    """Per result of a model function: the index of the result holding its
    length along a padded axis (`graph.rows`, see compiler/frontend/dynamic_rows.py)
    or None, whether it is such a hidden count (`graph.hidden`), and the padded
    axis (`graph.rows_axis`, default 0)."""
    layout: list[tuple[int | None, bool, int]] = []
    for i in range(len(fn.function_type.outputs)):
        attrs = fn.res_attrs.data[i].data if fn.res_attrs is not None else {}
        rows, axis = attrs.get("graph.rows"), attrs.get("graph.rows_axis")
        layout.append((
            rows.value.data if isinstance(rows, IntegerAttr) else None,
            "graph.hidden" in attrs,
            axis.value.data if isinstance(axis, IntegerAttr) else 0,
        ))
    return layout


def trim_outputs(layout: Sequence[tuple[int | None, bool, int]], outputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs: padded ones cut to their counts, the counts left out."""
    trimmed = []
    for (rows, hidden, axis), value in zip(layout, outputs, strict=True):
        if hidden:
            continue
        if rows is not None:
            value = value[(slice(None),) * axis + (slice(0, int(outputs[rows])),)]
        trimmed.append(value)
    return trimmed


def check_feeds(
    fn: func.FuncOp, feeds: Mapping[str, np.ndarray] | Sequence[np.ndarray]
) -> list[np.ndarray]:
    """Orders and validates the inputs of a model function; raises InputError."""
    from compiler.runtime import TensorSpec, check_inputs

    specs = []
    for name, t in zip(input_names(fn), fn.function_type.inputs, strict=True):
        assert isinstance(t, TensorType)
        dt = dtypes.to_numpy_dtype(t.get_element_type())
        specs.append(TensorSpec(name, tuple(t.get_shape()), dt.name))
    return check_inputs(specs, feeds)


def interpret(
    module: ModuleOp, feeds: Mapping[str, np.ndarray] | Sequence[np.ndarray]
) -> list[np.ndarray]:
    """Runs `@main` of a graph-dialect module on numpy inputs (by name or position)."""
    fn = main_function(module)
    return trim_outputs(output_rows(fn), run_block(fn.body.block, check_feeds(fn, feeds)))
