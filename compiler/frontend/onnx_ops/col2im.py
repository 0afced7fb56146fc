"""Col2Im: columns of image blocks summed back into the image (the inverse of im2col).

Input [N, C * K, L] holds, for each of the K = prod(block_shape) taps, the
value each of the L = prod(B) block positions saw there. Tap t of block b
lands at image position b * s + t * d - pad_begin, so each tap is a [N, C,
B...] slice spread out by the strides (zeros between) and shifted into place
by padding or cropping; the image is the sum of the K placed taps. The
image and block shapes decide the result's shape: they must be constant (or
bound with `specialize=`).
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary, rank, require_float, reshape, shape
from compiler.frontend.onnx_ops.conv_transpose import _dilate, _pad_or_crop
from compiler.frontend.onnx_ops.tensor import slice_value


@converter("Col2Im")
def convert_col2im(b: NodeBuilder) -> list[SSAValue]:
    x = b.input(0)
    require_float(b, x)
    if rank(x) != 3:
        raise b.error(f"input must be [N, C * prod(block_shape), L], got rank {rank(x)}")
    image = [int(v) for v in b.const_input(1, "image_shape").reshape(-1)]
    block = [int(v) for v in b.const_input(2, "block_shape").reshape(-1)]
    n_sp = len(image)
    if len(block) != n_sp or any(k < 1 for k in block):
        raise b.error(f"block_shape {block} must give {n_sp} positive sizes")
    strides = b.ints_attr("strides") or [1] * n_sp
    dilations = b.ints_attr("dilations") or [1] * n_sp
    pads = b.ints_attr("pads") or [0] * (2 * n_sp)
    if len(strides) != n_sp or len(dilations) != n_sp or len(pads) != 2 * n_sp:
        raise b.error(f"strides, dilations and pads must give {n_sp}, {n_sp} and {2 * n_sp} values")
    blocks = [
        (size + pads[d] + pads[n_sp + d] - dilations[d] * (block[d] - 1) - 1) // strides[d] + 1
        for d, size in enumerate(image)
    ]
    n, ck, length = shape(x)
    taps = int(np.prod(block))
    if ck % taps or length != int(np.prod(blocks)) or min(blocks) < 1:
        raise b.error(f"input {list(shape(x))} does not hold {taps} taps of {blocks} blocks per channel")
    c = ck // taps
    cols = reshape(b, x, [n, c, taps, *blocks])
    total: SSAValue | None = None
    for i, tap in enumerate(np.ndindex(*block)):
        part = reshape(b, slice_value(b, cols, [i], [i + 1], [2], [1]), [n, c, *blocks])
        spread = _dilate(b, part, strides)
        begins = [t * dl - pads[d] for d, (t, dl) in enumerate(zip(tap, dilations, strict=True))]
        ends = [image[d] - begins[d] - shape(spread)[2 + d] for d in range(n_sp)]
        placed = _pad_or_crop(b, spread, begins, ends)
        total = placed if total is None else binary(b, g.AddOp, total, placed)
    assert total is not None
    return [total]
