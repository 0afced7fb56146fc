"""`compiler-opt -t onnx`: a graph-level module printed as an ONNX model in ONNX's text format.

Without `-p`, `compiler-opt` runs the export pipeline first
(`EXPORT_PIPELINE`, compiler/targets/tensorrt/onnx_export.py), so
`compiler-opt model.onnx -t onnx` prints what `target="tensorrt"` hands to
TensorRT. The text (weights included) reads back with `-f onnxtxt` or
`onnx.parser.parse_model`; `compiler export-onnx` writes the binary model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import onnx.printer
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from compiler.targets.tensorrt.onnx_export import export_onnx


@dataclass(frozen=True)
class OnnxTextTarget(Target):
    """The module's `@main` as ONNX text (opset onnx_export.OPSET)."""

    name = "onnx"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        print(onnx.printer.to_text(export_onnx(module)), file=output)


TARGETS: dict[str, Callable[[], type[Target]]] = {"onnx": lambda: OnnxTextTarget}
