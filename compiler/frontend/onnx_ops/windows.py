"""Converters of the signal windows HannWindow, HammingWindow and BlackmanWindow.

Their only input is the window length, which decides the result's shape: it
must be constant (or bound with `specialize=` when it is a graph input), and
the window is then a constant computed here.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.frontend.converter import NodeBuilder, converter

# Each window is sum_k a_k * cos(2 pi k n / N) over its coefficients a_k.
_COEFFICIENTS: dict[str, tuple[float, ...]] = {
    "HannWindow": (0.5, -0.5),
    "HammingWindow": (25 / 46, -(1 - 25 / 46)),
    "BlackmanWindow": (0.42, -0.5, 0.08),
}


@converter(*_COEFFICIENTS)
def convert_window(b: NodeBuilder) -> list[SSAValue]:
    size = int(b.one_value(b.const_input(0, "size"), "size"))
    if size < 0:
        raise b.error(f"size {size} must not be negative")
    out_elem = dtypes.from_onnx_dtype(int(b.attr("output_datatype", 1)))
    # A periodic window is one period of length N = size; a symmetric one spans N = size - 1.
    period = size if b.attr("periodic", 1) else size - 1
    n = np.arange(size, dtype=np.float64)
    phase = 2 * np.pi * n / period if period > 0 else np.zeros(size)
    window = sum(a * np.cos(k * phase) for k, a in enumerate(_COEFFICIENTS[b.node.op_type]))
    return [b.constant(np.asarray(window).astype(dtypes.to_numpy_dtype(out_elem)), out_elem)]
