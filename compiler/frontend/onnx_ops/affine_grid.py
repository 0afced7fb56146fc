"""AffineGrid: the sampling grid that GridSample reads, for a batch of affine matrices.

The normalized positions of the output grid ([-1, 1] along each dim, pixel
centres unless align_corners) are a constant [1, P, r + 1] table of
homogeneous coordinates (x first, then y, then z); one batched graph.matmul
with theta transposed maps them: [N, P, r + 1] x [N, r + 1, r] -> [N, P, r],
reshaped to [N, spatial..., r]. `size` decides the shape, so it must be
constant (or bound with `specialize=`).
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import elem, require_float, reshape, shape, transpose


def _positions(steps: int, align_corners: bool) -> np.ndarray:
    """steps evenly spaced normalized coordinates along one dim."""
    if steps <= 1:
        return np.zeros(steps)
    line = np.linspace(-1.0, 1.0, steps)
    return line if align_corners else line * (steps - 1) / steps


@converter("AffineGrid")
def convert_affine_grid(b: NodeBuilder) -> list[SSAValue]:
    theta = b.input(0)
    require_float(b, theta, "theta")
    size = [int(v) for v in b.const_input(1, "size").reshape(-1)]
    if len(size) not in (4, 5):
        raise b.error(f"size {size} must be [N, C, H, W] or [N, C, D, H, W]")
    r = len(size) - 2
    n, spatial = size[0], size[2:]
    if shape(theta) != (n, r, r + 1):
        raise b.error(f"theta {list(shape(theta))} must be [{n}, {r}, {r + 1}] for size {size}")
    align = bool(b.attr("align_corners", 0))
    # Coordinates of dims (z,) y, x for every output position, then reversed to x, y (, z).
    axes = np.meshgrid(*(_positions(s, align) for s in spatial), indexing="ij")
    coords = [a.reshape(-1) for a in reversed(axes)]
    table = np.stack([*coords, np.ones_like(coords[0])], axis=-1)[None]
    base = b.constant(table.astype(dtypes.to_numpy_dtype(elem(theta))), elem(theta))
    grid = b.make(g.MatMulOp, [base, transpose(b, theta, [0, 2, 1])])
    return [reshape(b, grid, [n, *spatial, r])]
