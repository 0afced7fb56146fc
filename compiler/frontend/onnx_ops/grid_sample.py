"""Converter of ONNX GridSample (opset 16: 4-D, bilinear/nearest/bicubic;
opset 20+: N-D, linear/nearest/cubic).

Decomposed into existing graph ops, separably per spatial dim: each output
point's grid coordinate is denormalized, adjusted for `padding_mode`, and
turned into taps (1 for nearest, 2 for linear, 4 for cubic per dim) of an
integer index and a weight. A tap combination across the dims reads the input
viewed as (N, C, S) (S = the spatial size) at one flat index per output point
(graph.gather_elements on axis 2) and adds weight * value. 'zeros' padding
zeroes the weight of a tap outside the input; 'border' and 'reflection'
clamp/reflect its index, as ONNX's reference does.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    require_float,
    reshape,
    scalar,
    shape,
)

_I64 = dtypes.from_numpy_dtype(np.int64)
_MODES = {"bilinear": "linear", "bicubic": "cubic", "linear": "linear", "cubic": "cubic", "nearest": "nearest"}
_PADDING = ("zeros", "border", "reflection")
_CUBIC_A = -0.75  # Keys' cubic convolution coefficient, as PyTorch and ONNX use


class _Coords:
    """Emits the scalar arithmetic of one spatial dim on tensors shaped like the
    coordinates (N, P), in the grid's float type."""

    def __init__(self, b: NodeBuilder, like: SSAValue):
        """`like`: any value of the grid's element type (constants take it)."""
        self.b, self.like = b, like

    def c(self, value: float) -> SSAValue:
        return scalar(self.b, value, self.like)

    def add(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return binary(self.b, g.AddOp, x, y)

    def sub(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return binary(self.b, g.SubOp, x, y)

    def mul(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return binary(self.b, g.MulOp, x, y)

    def where(self, cond: SSAValue, x: SSAValue, y: SSAValue) -> SSAValue:
        return self.b.make(g.WhereOp, [cond, x, y])

    def floor(self, x: SSAValue) -> SSAValue:
        return self.b.make(g.FloorOp, [x])

    def clamp(self, x: SSAValue, lo: float, hi: float) -> SSAValue:
        return binary(self.b, g.MinOp, binary(self.b, g.MaxOp, x, self.c(lo)), self.c(hi))

    def outside(self, x: SSAValue, lo: float, hi: float) -> SSAValue:
        return binary(
            self.b, g.OrOp, binary(self.b, g.LessOp, x, self.c(lo)), binary(self.b, g.GreaterOp, x, self.c(hi))
        )

    def reflect(self, x: SSAValue, lo: float, hi: float) -> SSAValue:
        """Reflects x by the nearer border until it lies in [lo, hi]."""
        span = hi - lo
        below = binary(self.b, g.LessOp, x, self.c(lo))
        dx = self.where(below, self.sub(self.c(lo), x), self.sub(x, self.c(hi)))
        flips = self.floor(binary(self.b, g.DivOp, dx, self.c(span)))
        r = self.sub(dx, self.mul(flips, self.c(span)))
        odd = self.sub(flips, self.mul(self.floor(self.mul(flips, self.c(0.5))), self.c(2.0)))
        from_lo, from_hi = self.add(self.c(lo), r), self.sub(self.c(hi), r)
        even = binary(self.b, g.LessOp, odd, self.c(0.5))
        reflected = self.where(even, self.where(below, from_lo, from_hi), self.where(below, from_hi, from_lo))
        return self.where(self.outside(x, lo, hi), reflected, x)


def _taps(
    k: _Coords, x: SSAValue, size: int, mode: str, padding: str, align_corners: bool
) -> list[tuple[SSAValue, SSAValue | None]]:
    """(index, weight) per tap of one dim; weight None means 1."""
    lo, hi = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
    if mode == "nearest":
        x = k.b.make(g.RoundOp, [x])
    if padding == "border":
        x = k.where(k.outside(x, lo, hi), k.clamp(x, 0.0, size - 1.0), x)
    elif padding == "reflection":
        x = k.reflect(x, lo, hi)
    if mode == "nearest":
        points: list[tuple[SSAValue, SSAValue | None]] = [(x, None)]
    else:
        x0 = k.floor(x)
        t = k.sub(x, x0)
        if mode == "linear":
            offsets, weights = (0.0, 1.0), [k.sub(k.c(1.0), t), t]
        else:
            offsets, weights = (-1.0, 0.0, 1.0, 2.0), _cubic_weights(k, t)
        points = [(k.add(x0, k.c(o)), w) for o, w in zip(offsets, weights, strict=True)]
    taps = []
    for pos, w in points:
        if padding == "zeros":
            valid = k.b.make(g.NotOp, [k.outside(pos, 0.0, size - 1.0)])
            w = k.where(valid, k.c(1.0) if w is None else w, k.c(0.0))
            pos = k.clamp(pos, 0.0, size - 1.0)
        elif padding == "border":
            pos = k.clamp(pos, 0.0, size - 1.0)
        else:
            pos = k.reflect(pos, lo, hi)
        # Truncation toward zero, as the reference's int(); positions are in range now.
        taps.append((cast(k.b, pos, _I64), w))
    return taps


def _cubic_weights(k: _Coords, t: SSAValue) -> list[SSAValue]:
    """Keys' cubic weights of the taps at -1, 0, 1, 2 for fraction t in [0, 1)."""
    a = _CUBIC_A

    def far(d: SSAValue) -> SSAValue:  # 1 < d < 2
        return k.sub(k.mul(k.add(k.mul(k.sub(k.mul(k.c(a), d), k.c(5 * a)), d), k.c(8 * a)), d), k.c(4 * a))

    def near(d: SSAValue) -> SSAValue:  # 0 <= d <= 1
        return k.add(k.mul(k.mul(k.sub(k.mul(k.c(a + 2), d), k.c(a + 3)), d), d), k.c(1.0))

    one_minus = k.sub(k.c(1.0), t)
    return [far(k.add(t, k.c(1.0))), near(t), near(one_minus), far(k.sub(k.c(2.0), t))]


@converter("GridSample")
def convert_grid_sample(b: NodeBuilder) -> list[SSAValue]:
    x, grid = b.input(0), b.input(1)
    require_float(b, x)
    require_float(b, grid, "grid")
    xs, gs = shape(x), shape(grid)
    k = len(xs) - 2
    if k < 1 or len(gs) != k + 2 or gs[0] != xs[0] or gs[-1] != k:
        raise b.error(f"grid of shape {gs} does not fit input of shape {xs} (expected (N, ..., {k}))")
    if b.opset < 20 and k != 2:
        raise b.error(f"GridSample-{b.opset} takes 4-D input, got rank {len(xs)}", hint="use opset 20")
    mode = _MODES.get(b.attr("mode", "bilinear" if b.opset < 20 else "linear"))
    if mode is None:
        raise b.error(f"mode={b.attr('mode')!r} is not supported ({', '.join(_MODES)})")
    padding = b.attr("padding_mode", "zeros")
    if padding not in _PADDING:
        raise b.error(f"padding_mode={padding!r} is not supported ({', '.join(_PADDING)})")
    align_corners = bool(b.attr("align_corners", 0))

    n, c, dims = xs[0], xs[1], xs[2:]
    out_spatial = gs[1:-1]
    points = math.prod(out_spatial)
    flat_grid = reshape(b, grid, [n, points, k])
    coords = _Coords(b, grid)
    per_dim = []
    for i, size in enumerate(dims):
        # The grid's last dim lists coordinates innermost first: (x, y[, z]).
        nx = b.make(g.GatherOp, [flat_grid, b.constant(np.asarray(k - 1 - i, np.int64))], axis=2)
        if align_corners:
            pos = coords.mul(coords.add(nx, coords.c(1.0)), coords.c((size - 1) / 2))
        else:
            pos = coords.mul(
                coords.sub(coords.mul(coords.add(nx, coords.c(1.0)), coords.c(float(size))), coords.c(1.0)),
                coords.c(0.5),
            )
        per_dim.append(_taps(coords, pos, size, mode, padding, align_corners))

    strides = [math.prod(dims[i + 1 :]) for i in range(k)]
    table = reshape(b, x, [n, c, math.prod(dims)])
    out: SSAValue | None = None
    for combo in itertools.product(*per_dim):
        index: SSAValue | None = None
        weight: SSAValue | None = None
        for (idx, w), stride in zip(combo, strides, strict=True):
            if stride != 1:
                idx = binary(b, g.MulOp, idx, b.constant(np.asarray(stride, np.int64)))
            index = idx if index is None else binary(b, g.AddOp, index, idx)
            if w is not None:
                weight = w if weight is None else binary(b, g.MulOp, weight, w)
        assert index is not None
        index = b.make(g.BroadcastToOp, [reshape(b, index, [n, 1, points])], [TensorType(_I64, [n, c, points])])
        term = b.make(g.GatherElementsOp, [table, index], axis=2)
        if weight is not None:
            term = binary(b, g.MulOp, term, reshape(b, cast(b, weight, elem(x)), [n, 1, points]))
        out = term if out is None else binary(b, g.AddOp, out, term)
    assert out is not None
    return [reshape(b, out, [n, c, *out_spatial])]
