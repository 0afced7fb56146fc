"""ONNX op converters, one function per ONNX op (or family), grouped by kind.

Importing this package registers every converter in
`compiler.frontend.converter.CONVERTERS`; `compiler.frontend.onnx` imports it.
"""

from compiler.frontend.onnx_ops import elementwise, nn, quant, reduce, tensor

__all__ = ["elementwise", "nn", "quant", "reduce", "tensor"]
