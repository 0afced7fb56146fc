"""`compiler quantize`: post-training int8 quantization of an ONNX model into a QDQ model.

    compiler quantize model.onnx --calibration feeds.npz -o model.int8.onnx
                      [--method minmax|percentile|entropy] [--percentile 99.99]
                      [--per-channel | --no-per-channel] [--activation-type int8|uint8]
                      [--quantize-outputs] [--backend auto|onnxruntime|compiler] [--report-samples N]

feeds.npz holds one array per model input, named like the input, with a
leading sample axis (np.savez("feeds.npz", x=np.stack(images))). Prints the
per-layer SQNR report, writes OUT atomically (nothing on failure).
See compiler/quantization/ for the steps.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from compiler.errors import CompilerError


def add_quantize_parser(sub: Any, count: Any) -> None:
    q = sub.add_parser(
        "quantize",
        help="quantize an FP32 ONNX model to int8 (QDQ ONNX) from calibration inputs",
        description="Run the calibration inputs through the model, choose activation scales "
        "(min-max, percentile or entropy), quantize weights to int8 (per output channel by default) "
        "and write a QDQ ONNX model that 'compiler build' and onnxruntime both run; print the "
        "quantization error (SQNR) per layer.",
    )
    q.add_argument("model", metavar="MODEL", help="the FP32 .onnx model")
    q.add_argument("--calibration", required=True, metavar="FEEDS.npz",
                   help="one array per input, named like it, with a leading sample axis")
    q.add_argument("-o", "--output", metavar="OUT.onnx", help="the QDQ model (default: MODEL's name with .int8.onnx)")
    q.add_argument("--method", choices=("minmax", "percentile", "entropy"), default="minmax",
                   help="how activation ranges are chosen (default: minmax)")
    q.add_argument("--percentile", type=float, default=99.99, help="for --method percentile (default: 99.99)")
    q.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                   help="one weight scale per output channel (default: on)")
    q.add_argument("--activation-type", choices=("int8", "uint8"), default="int8",
                   help="activation integer type, asymmetric (default: int8, as onnxruntime)")
    q.add_argument("--quantize-outputs", action="store_true", help="quantize the graph outputs too")
    q.add_argument("--backend", choices=("auto", "onnxruntime", "compiler"), default="auto",
                   help="what runs the FP32 model during calibration (default: onnxruntime if installed)")
    q.add_argument("--report-samples", type=count("sample count", 0), default=4, metavar="N",
                   help="calibration samples the SQNR report runs (0: no report; default: 4)")


def onnx_output(model: Path, output: str | None, suffix: str) -> Path:
    """`-o` of a command that writes an ONNX model (default: MODEL's name with `suffix`, here),
    checked before any work: not a directory, in a directory that exists, not the model itself."""
    out = Path(output) if output else Path(model.name.removesuffix(".onnx") + suffix)
    if out.is_dir():
        raise CompilerError(f"output '{out}' is a directory", hint=f"give a file name like model{suffix}")
    if not out.parent.is_dir():
        raise CompilerError("output directory does not exist", file=str(out), hint=f"create '{out.parent}' first")
    if out.resolve() == model.resolve():
        raise CompilerError("the output would overwrite the model", file=str(out), hint="give another -o")
    return out


def main(args: argparse.Namespace) -> int:
    import onnx

    from compiler.quantization import quantize
    from compiler.tools.cli import _require_file

    model_path = _require_file(args.model)
    out = onnx_output(model_path, args.output, ".int8.onnx")
    feeds_path = _require_file(args.calibration)
    try:
        model = onnx.load(str(model_path))
    except Exception as err:  # protobuf's decode errors
        raise CompilerError(f"cannot read the model ({type(err).__name__})", file=str(model_path),
                            hint="give an ONNX model file") from None
    arrays = _load_arrays(feeds_path)
    result = quantize(
        model, arrays, method=args.method, per_channel=args.per_channel, percentile=args.percentile,
        activation_type=args.activation_type, quantize_outputs=args.quantize_outputs,
        backend=args.backend, report_samples=args.report_samples, feeds_source=str(feeds_path),
    )
    if result.layers:
        print(result.report())
    result.save(out)
    print(f"wrote {out} ({sum(n.op_type == 'QuantizeLinear' for n in result.model.graph.node)} quantized activations, "
          f"{args.method} calibration)")
    return 0


def _load_arrays(path: Path) -> dict[str, Any]:
    import zipfile

    import numpy as np

    if path.suffix != ".npz":
        raise CompilerError("expected a .npz file", file=str(path),
                            hint="save the calibration inputs with np.savez(path, input_name=samples, ...)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise CompilerError(f"cannot read calibration arrays ({type(err).__name__})", file=str(path),
                            hint="save them with np.savez(path, input_name=samples, ...)") from None
