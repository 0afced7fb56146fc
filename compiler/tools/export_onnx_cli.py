"""`compiler export-onnx`: the optimized graph written back out as an ONNX model.

    compiler export-onnx model.onnx -o model.opt.onnx [--input-shape x=1x3x224x224] [--precision fp16]

It is what `compiler.compile(..., target="tensorrt")` hands to TensorRT
(compiler/targets/tensorrt/onnx_export.py): the model imported, run through
the export pipeline (constant folding, batch-norm folding, CSE, ...) and
checked by onnx.checker, with static shapes. It needs no GPU; onnxruntime
or TensorRT's `trtexec --onnx=` can run the result. OUT is written
atomically (nothing on failure).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_export_onnx_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export-onnx",
        help="write the optimized graph as an ONNX model (what target='tensorrt' builds)",
        description="Import an ONNX model, run the graph passes of the TensorRT target's export "
        "pipeline and write the result as a standard ONNX model (static shapes, weights as initializers).",
    )
    p.add_argument("model", metavar="MODEL", help="the .onnx model")
    p.add_argument("-o", "--output", metavar="OUT.onnx", help="the model to write (default: MODEL's name with .opt.onnx, here)")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=DxDx..",
                   help="pin the shape of a model input with symbolic dims (repeatable)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32",
                   help="store weights and activations in fp16 or bf16 in the export (default: fp32)")


def main(args: argparse.Namespace) -> int:
    from compiler.driver import precision_pipeline
    from compiler.targets.cpu.cache import write_atomically
    from compiler.targets.tensorrt.onnx_export import export_model
    from compiler.tools.cli import _require_file
    from compiler.tools.opt import parse_input_shapes
    from compiler.tools.quantize_cli import onnx_output

    model_path = _require_file(args.model)
    out = onnx_output(model_path, args.output, ".opt.onnx")
    shapes = parse_input_shapes(args.input_shape)
    before = None if args.precision == "fp32" else precision_pipeline(args.precision)
    proto = export_model(str(model_path), input_shapes=shapes or None, before=before)
    write_atomically(out, proto.SerializeToString())
    print(f"wrote {out} ({len(proto.graph.node)} nodes, {len(proto.graph.initializer)} initializers)")
    return 0
