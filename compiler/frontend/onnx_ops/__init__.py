"""ONNX op converters, one function per ONNX op (or family), grouped by kind.

Importing this package registers every converter with `compiler.frontend.onnx`.
"""

from compiler.frontend.onnx_ops import elementwise, nn, reduce, tensor

__all__ = ["elementwise", "nn", "reduce", "tensor"]
