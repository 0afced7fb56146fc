"""ONNX op converters, one function per ONNX op (or family), grouped by kind.

Importing this package registers every converter in
`compiler.frontend.converter.CONVERTERS`; `compiler.frontend.onnx` imports it.
"""

from compiler.frontend.onnx_ops import (
    conv_transpose,
    elementwise,
    nn,
    normalization,
    reduce,
    resize,
    tensor,
)

__all__ = ["conv_transpose", "elementwise", "nn", "normalization", "reduce", "resize", "tensor"]
