"""`compiler-opt`: xdsl-opt with our dialects, passes, targets and an ONNX frontend.

It keeps every xdsl-opt flag (`-p` pipelines with options,
`--print-between-passes`, `--split-input-file`, `--verify-diagnostics`, `-t`).
`.onnx` inputs go through the ONNX importer; `--input-shape name=1x3x224x224`
pins symbolic dims. User errors print one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.xdsl_opt_main import xDSLOptMain

from compiler import registry
from compiler.errors import CompilerError


def parse_input_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """`name=1x3x224x224` (repeatable) -> {name: (1, 3, 224, 224)}."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            raise CompilerError(
                f"bad --input-shape '{spec}'", hint="write it as name=1x3x224x224"
            ) from None
    return shapes


class CompilerOptMain(xDSLOptMain):
    def register_all_dialects(self) -> None:
        for name, factory in registry.all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        for name, factory in registry.all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        for name, factory in registry.all_targets().items():
            self.available_targets[name] = factory

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_onnx(stream: IO[bytes]) -> ModuleOp:
            from compiler.frontend.onnx import import_onnx

            data = stream.read()
            shapes = parse_input_shapes(self.args.input_shape or [])
            return import_onnx(data, input_shapes=shapes, source_name=self.args.input_file)

        def parse_onnx_text(stream: IO[bytes]) -> ModuleOp:
            from compiler.frontend.onnx import import_onnx, parse_onnx_text

            proto = parse_onnx_text(stream.read().decode(), self.args.input_file)
            shapes = parse_input_shapes(self.args.input_shape or [])
            return import_onnx(proto, input_shapes=shapes, source_name=self.args.input_file)

        self.available_frontends["onnx"] = parse_onnx
        self.available_frontends["onnxtxt"] = parse_onnx_text

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        from compiler.passes.graph_optimize import describe_levels

        # --help ends with what each optimization level runs.
        arg_parser.epilog = describe_levels()
        arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter
        arg_parser.add_argument(
            "--input-shape",
            action="append",
            metavar="NAME=DxDx..",
            help="pin the shape of a model input with symbolic dims (repeatable)",
        )


def main(argv: Sequence[str] | None = None) -> None:
    output = None
    try:
        opt = CompilerOptMain(args=argv)
        output = opt.args.output_file
        if opt.args.input_file is not None and not os.path.exists(opt.args.input_file):
            raise CompilerError(
                "no such file", file=opt.args.input_file, hint="check the path"
            )
        opt.run()
    except CompilerError as err:
        _fail(str(err), output)
    except KeyboardInterrupt:
        _fail("interrupted", output)


def _fail(message: str, output: str | None) -> None:
    # A failing run never leaves a half-written output file behind.
    if output and os.path.exists(output):
        os.remove(output)
    print(f"compiler-opt: error: {message}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
