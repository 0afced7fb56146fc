"""ONNX op converters, one function per ONNX op (or family), grouped by kind.

Importing this package registers every converter in
`compiler.frontend.converter.DOMAIN_CONVERTERS` (ONNX's own ops in `CONVERTERS`,
onnxruntime's com.microsoft contrib ops in the `contrib_*` modules);
`compiler.frontend.onnx` imports it.
"""

from compiler.frontend.onnx_ops import (
    activations,
    affine_grid,
    attention,
    bitwise,
    causal_conv,
    col2im,
    contrib_attention,
    contrib_fused,
    contrib_quant,
    conv_transpose,
    crop,
    elementwise,
    grid_sample,
    indexing,
    losses,
    nn,
    normalization,
    quant,
    reduce,
    resize,
    rnn,
    sequence,
    structured,
    tensor,
    windows,
)

__all__ = [
    "activations",
    "affine_grid",
    "attention",
    "bitwise",
    "causal_conv",
    "col2im",
    "contrib_attention",
    "contrib_fused",
    "contrib_quant",
    "conv_transpose",
    "crop",
    "elementwise",
    "grid_sample",
    "indexing",
    "losses",
    "nn",
    "normalization",
    "quant",
    "reduce",
    "resize",
    "rnn",
    "sequence",
    "structured",
    "tensor",
    "windows",
]
