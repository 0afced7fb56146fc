"""Converters of data-movement and shape ONNX ops.

Shape, Size and ConstantOfShape always become constants (shapes are static);
the rest become graph ops that fold at import when their operands are
constants (see `fold_if_constant`).
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    elem,
    norm_axis,
    rank,
    require_rank,
    reshape,
    shape,
    transpose,
    unsqueeze,
    variadic_inputs,
)


@converter("Constant")
def convert_constant(b: NodeBuilder) -> list[SSAValue]:
    for name, dt in (
        ("value_float", np.float32),
        ("value_floats", np.float32),
        ("value_int", np.int64),
        ("value_ints", np.int64),
    ):
        if name in b.attrs:
            return [b.constant(np.asarray(b.attr(name), dtype=dt))]
    if "value" in b.attrs:
        a = b.attrs["value"]
        t = a.t
        elem_type = dtypes.from_onnx_dtype(t.data_type)
        return [b.constant(np.asarray(b.attr("value")), elem_type)]
    raise b.error("only tensor, float(s) and int(s) values are supported")


@converter("Shape")
def convert_shape(b: NodeBuilder) -> list[SSAValue]:
    dims = list(shape(b.input(0)))
    start = b.attr("start", 0)
    end = b.attr("end", None)
    r = len(dims)
    start = min(max(start + r if start < 0 else start, 0), r)
    end = r if end is None else min(max(end + r if end < 0 else end, 0), r)
    return [b.constant(np.asarray(dims[start:end], dtype=np.int64))]


@converter("Size")
def convert_size(b: NodeBuilder) -> list[SSAValue]:
    return [b.constant(np.asarray(math.prod(shape(b.input(0))), dtype=np.int64))]


@converter("ConstantOfShape")
def convert_constant_of_shape(b: NodeBuilder) -> list[SSAValue]:
    dims = [int(d) for d in b.const_input(0, "shape").reshape(-1)]
    if any(d < 0 for d in dims):
        raise b.error(f"negative dim in shape {dims}")
    fill = b.attr("value")
    if fill is None:
        fill = np.zeros((1,), dtype=np.float32)
    if not isinstance(fill, np.ndarray):
        raise b.error("attribute 'value' must be a one-element tensor")
    value = np.asarray(b.one_value(fill, "attribute 'value'")).reshape(1)
    elem_type = dtypes.from_numpy_dtype(fill.dtype)
    # A splat keeps one element; huge placeholder weights cost nothing.
    op = g.ConstantOp(dtypes.dense_splat(value, dims, elem_type))
    b.state.block.add_op(op)
    return [op.result]


@converter("Range")
def convert_range(b: NodeBuilder) -> list[SSAValue]:
    start, limit, delta = (
        b.one_value(b.const_input(i, name), name) for i, name in enumerate(("start", "limit", "delta"))
    )
    if delta == 0:
        raise b.error("delta must not be zero")
    values = np.arange(start.item(), limit.item(), delta.item()).astype(start.dtype)
    return [b.constant(values, elem(b.input(0)))]


@converter("Reshape")
def convert_reshape(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if b.opset < 5:
        target = list(b.attr("shape"))
    else:
        target = [int(d) for d in b.const_input(1, "shape").reshape(-1)]
    allowzero = b.attr("allowzero", 0)
    src = shape(x)
    out = []
    for i, d in enumerate(target):
        if d == 0 and not allowzero:
            if i >= len(src):
                raise b.error(f"shape {target} copies dim {i}, the input has rank {len(src)}")
            out.append(src[i])
        else:
            out.append(d)
    if out.count(-1) > 1:
        raise b.error(f"shape {target} has more than one -1")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        total = math.prod(src)
        if known == 0 or total % known:
            raise b.error(f"cannot reshape {src} into {target}")
        out[out.index(-1)] = total // known
    if math.prod(out) != math.prod(src) or any(d < 0 for d in out):
        raise b.error(f"cannot reshape {src} into {target}")
    return [reshape(b, x, out)]


@converter("Flatten")
def convert_flatten(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    src = shape(x)
    axis = b.attr("axis", 1)
    if not -len(src) <= axis <= len(src):
        raise b.error(f"axis {axis} is out of range for rank {len(src)}")
    axis = axis + len(src) if axis < 0 else axis
    return [reshape(b, x, [math.prod(src[:axis]), math.prod(src[axis:])])]


def _axes(b: NodeBuilder, attr_until: int) -> list[int] | None:
    """Axes from the attribute (opset < attr_until) or from input 1."""
    if b.opset < attr_until:
        return b.ints_attr("axes")
    value = b.opt_const_input(1, "axes")
    return None if value is None else [int(a) for a in value.reshape(-1)]


@converter("Squeeze")
def convert_squeeze(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    src = shape(x)
    axes = _axes(b, 13)
    if axes is None:
        dims = [d for d in src if d != 1]
    else:
        norm = {norm_axis(b, a, len(src)) for a in axes}
        for a in norm:
            if src[a] != 1:
                raise b.error(f"cannot squeeze dim {a} of size {src[a]}")
        dims = [d for i, d in enumerate(src) if i not in norm]
    return [reshape(b, x, dims)]


@converter("Unsqueeze")
def convert_unsqueeze(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    axes = _axes(b, 13)
    if not axes:
        raise b.error("axes are required")
    out_rank = rank(x) + len(axes)
    norm = [norm_axis(b, a, out_rank) for a in axes]
    if len(set(norm)) != len(norm):
        raise b.error(f"axes {axes} name an output dim twice")
    return [unsqueeze(b, x, axes)]


@converter("Transpose")
def convert_transpose(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    perm = b.ints_attr("perm") or list(reversed(range(rank(x))))
    return [transpose(b, x, perm)]


@converter("Expand")
def convert_expand(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    target = [int(d) for d in b.const_input(1, "shape").reshape(-1)]
    try:
        out = g.broadcast_shapes(shape(x), target)
    except Exception:
        raise b.error(f"cannot expand {shape(x)} to {target}") from None
    if out == shape(x):
        return [x]
    return [b.make(g.BroadcastToOp, [x], [TensorType(elem(x), list(out))])]


@converter("Concat")
def convert_concat(b: NodeBuilder) -> list[SSAValue]:
    inputs = variadic_inputs(b)
    if len({rank(v) for v in inputs}) != 1:
        raise b.error(f"inputs have different ranks {[rank(v) for v in inputs]}")
    axis = norm_axis(b, b.attr("axis", 1 if b.opset < 4 else 0), rank(inputs[0]))
    inputs = [v for v in inputs if shape(v)[axis] != 0] or inputs[:1]
    if len(inputs) == 1:
        return [inputs[0]]
    return [b.make(g.ConcatOp, inputs, axis=axis)]


def slice_value(
    b: NodeBuilder, x: SSAValue, starts: list[int], ends: list[int], axes: list[int], steps: list[int]
) -> SSAValue:
    """ONNX Slice semantics (clamping, negative indices and steps) -> graph.slice."""
    src = shape(x)
    offsets = [0] * len(src)
    strides = [1] * len(src)
    sizes = list(src)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        a = norm_axis(b, axis, len(src))
        n = src[a]
        if step == 0:
            raise b.error("slice step must not be zero")
        if start < 0:
            start += n
        if end < 0:
            end += n
        if step > 0:
            start, end = min(max(start, 0), n), min(max(end, 0), n)
            size = max(0, -(-(end - start) // step))
        else:
            start, end = min(max(start, 0), n - 1), min(max(end, -1), n - 1)
            size = max(0, -(-(start - end) // -step))
        offsets[a], strides[a], sizes[a] = (start if size else 0), step, size
    if sizes == list(src) and all(s == 1 for s in strides):
        return x
    return b.make(
        g.SliceOp, [x], [TensorType(elem(x), sizes)], offsets=offsets, strides=strides
    )


@converter("Slice")
def convert_slice(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    if b.opset < 10:
        starts, ends = b.ints_attr("starts") or [], b.ints_attr("ends") or []
        axes = b.ints_attr("axes") or list(range(len(starts)))
        steps = [1] * len(starts)
    else:
        starts = [int(v) for v in b.const_input(1, "starts").reshape(-1)]
        ends = [int(v) for v in b.const_input(2, "ends").reshape(-1)]
        ax = b.opt_const_input(3, "axes")
        st = b.opt_const_input(4, "steps")
        axes = list(range(len(starts))) if ax is None else [int(v) for v in ax.reshape(-1)]
        steps = [1] * len(starts) if st is None else [int(v) for v in st.reshape(-1)]
    # INT64 max/min stand for "to the end"; clamp before arithmetic.
    big = 1 << 62
    starts = [max(min(s, big), -big) for s in starts]
    ends = [max(min(e, big), -big) for e in ends]
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise b.error("starts, ends, axes and steps must have one length")
    return [slice_value(b, x, starts, ends, axes, steps)]


@converter("Split")
def convert_split(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    src = shape(x)
    axis = norm_axis(b, b.attr("axis", 0), len(src))
    n_out = len(b.node.output)
    if b.opset < 13:
        split = b.ints_attr("split")
    else:
        value = b.opt_const_input(1, "split")
        split = None if value is None else [int(v) for v in value.reshape(-1)]
    if split is None:
        parts = b.attr("num_outputs", n_out)
        if parts < 1 or parts != n_out:
            raise b.error(f"num_outputs={parts} does not match the {n_out} outputs")
        if b.opset < 18 and src[axis] % parts:
            # Only opset 18's num_outputs allows a smaller last part.
            raise b.error(f"dim {axis} ({src[axis]}) does not split into {parts} equal parts")
        chunk = -(-src[axis] // parts)
        split = [min(chunk, src[axis] - i * chunk) for i in range(parts)]
    if sum(split) != src[axis] or len(split) != n_out:
        raise b.error(f"split sizes {split} do not cover dim {axis} ({src[axis]}) in {n_out} outputs")
    outs = []
    start = 0
    for size in split:
        outs.append(slice_value(b, x, [start], [start + size], [axis], [1]))
        start += size
    return outs


@converter("Gather")
def convert_gather(b: NodeBuilder) -> list[SSAValue]:
    data, indices = b.input(0), b.input(1)
    axis = norm_axis(b, b.attr("axis", 0), rank(data))
    return [b.make(g.GatherOp, [data, indices], axis=axis)]


@converter("Pad")
def convert_pad(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    r = rank(x)
    mode = b.attr("mode", "constant")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise b.error(f"mode={mode!r} is not supported")
    if b.opset < 11:
        pads = b.ints_attr("pads") or []
        value = float(b.attr("value", 0.0))
    else:
        pads = [int(v) for v in b.const_input(1, "pads").reshape(-1)]
        cv = b.opt_const_input(2, "constant_value")
        value = 0.0 if cv is None else float(b.one_value(cv, "constant_value"))
        axes_value = b.opt_const_input(3, "axes")
        if axes_value is not None:
            axes = [norm_axis(b, int(a), r) for a in axes_value.reshape(-1)]
            full = [0] * (2 * r)
            for i, a in enumerate(axes):
                full[a], full[r + a] = pads[i], pads[len(axes) + i]
            pads = full
    if len(pads) != 2 * r:
        raise b.error(f"pads needs {2 * r} values, got {len(pads)}")
    if any(p < 0 for p in pads):
        # Negative pads crop: slice first, then pad the rest.
        src = shape(x)
        starts = [max(0, -pads[d]) for d in range(r)]
        ends = [src[d] - max(0, -pads[r + d]) for d in range(r)]
        x = slice_value(b, x, starts, ends, list(range(r)), [1] * r)
        pads = [max(0, p) for p in pads]
    if not any(pads):
        return [x]
    if mode == "wrap":
        return [_wrap_pad(b, x, pads)]
    return [b.make(g.PadOp, [x], pads=pads, mode=mode, value=value)]


def _wrap_pad(b: NodeBuilder, x: SSAValue, pads: list[int]) -> SSAValue:
    """Pad mode "wrap" (circular) as a concat of slices along each padded dim.

    Opset 19 added the mode, and PyTorch's dynamo exporter writes it for
    `F.pad(mode="circular")` and `padding_mode="circular"` convs (at opset 18
    too, which onnxruntime accepts). Output index i of a dim of size n reads
    input index (i - before) mod n: the runs of consecutive indices become
    slices, so a pad up to the dim's size is [tail, x, head] and a larger one
    repeats x.
    """
    r = rank(x)
    for d in range(r):
        before, after = pads[d], pads[r + d]
        if not before and not after:
            continue
        n = shape(x)[d]
        if n == 0:
            raise b.error(f"cannot wrap-pad dim {d}, which is empty")
        runs: list[list[int]] = []
        for i in range(-before, n + after):
            j = i % n
            if runs and runs[-1][1] == j:
                runs[-1][1] = j + 1
            else:
                runs.append([j, j + 1])
        parts = [slice_value(b, x, [start], [end], [d], [1]) for start, end in runs]
        x = b.make(g.ConcatOp, parts, axis=d)
    return x


@converter("Tile")
def convert_tile(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    repeats = [int(v) for v in b.const_input(1, "repeats").reshape(-1)]
    src = shape(x)
    if len(repeats) != len(src):
        raise b.error(f"repeats has {len(repeats)} values for rank {len(src)}")
    if any(r < 0 for r in repeats):
        raise b.error(f"repeats {repeats} must be non-negative")
    if all(r == 1 for r in repeats):
        return [x]
    # Tile = interleave size-1 dims, broadcast them to the repeats, merge pairs.
    inter = [v for d in src for v in (1, d)]
    wide = [v for r, d in zip(repeats, src, strict=True) for v in (r, d)]
    y = reshape(b, x, inter)
    if wide != inter:
        y = b.make(g.BroadcastToOp, [y], [TensorType(elem(x), wide)])
    return [reshape(b, y, [r * d for r, d in zip(repeats, src, strict=True)])]


@converter("DepthToSpace")
def convert_depth_to_space(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_rank(b, x, exactly=4)
    n, c, h, w = shape(x)
    bs = int(b.required_attr("blocksize"))
    if bs < 1 or c % (bs * bs):
        raise b.error(f"blocksize {bs} does not divide {c} channels into blocksize**2 groups")
    mode = b.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise b.error(f"mode={mode!r} is not supported (DCR or CRD)")
    if mode == "DCR":
        y = reshape(b, x, [n, bs, bs, c // (bs * bs), h, w])
        y = transpose(b, y, [0, 3, 4, 1, 5, 2])
    else:
        y = reshape(b, x, [n, c // (bs * bs), bs, bs, h, w])
        y = transpose(b, y, [0, 1, 4, 2, 5, 3])
    return [reshape(b, y, [n, c // (bs * bs), h * bs, w * bs])]


@converter("SpaceToDepth")
def convert_space_to_depth(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_rank(b, x, exactly=4)
    n, c, h, w = shape(x)
    bs = int(b.required_attr("blocksize"))
    if bs < 1 or h % bs or w % bs:
        raise b.error(f"blocksize {bs} does not divide the spatial dims {h}x{w}")
    # Opset 28 adds `mode`: DCR (the old behaviour) puts the block offsets before
    # the channel in the output's channel order, CRD after it.
    mode = b.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise b.error(f"mode '{mode}' is not supported", hint="use DCR or CRD")
    y = reshape(b, x, [n, c, h // bs, bs, w // bs, bs])
    y = transpose(b, y, [0, 3, 5, 1, 2, 4] if mode == "DCR" else [0, 1, 3, 5, 2, 4])
    return [reshape(b, y, [n, c * bs * bs, h // bs, w // bs])]
