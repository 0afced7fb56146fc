"""`compiler-opt`: xdsl-opt with our dialects, passes, targets and an ONNX frontend.

It keeps every xdsl-opt flag (`-p` pipelines with options,
`--print-between-passes`, `--split-input-file`, `--verify-diagnostics`, `-t`).
`.onnx` inputs go through the ONNX importer; `--input-shape name=1x3x224x224`
pins symbolic dims. User errors (bad files, unsupported ops, parse and
verifier errors) print one line and exit with status 1; `-o` is written only
by a run that succeeds.

The CPU targets (`-t llvm`, `llvm-opt`, `asm`) need an llvm-dialect module
(or upstream dialects, which they lower with `convert-to-llvm`). Without `-p`
a graph- or loop-level input runs the rest of the compile pipeline first, as
`compiler.compile()` does (`compile_pipeline`), so `compiler-opt model.onnx
-t llvm` prints the model's LLVM IR; with a `-p` that leaves the module at
graph or loop level they fail with one line naming the pipeline to run.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from typing import IO

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.utils.arg_spec import parse_spec
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from compiler import registry
from compiler.api import run_pipeline
from compiler.driver import graph_pipeline, loop_pipeline, lower_to_llvm
from compiler.errors import CompilerError
from compiler.passes import memory
from compiler.targets.cpu.params import PARAMS_ATTR, extract_params
from compiler.targets.cpu.targets import TARGETS as CPU_TARGETS
from compiler.targets.cuda.pipeline import cuda_pipeline
from compiler.targets.cuda.targets import TARGETS as CUDA_TARGETS
from compiler.targets.tensorrt.onnx_export import EXPORT_PIPELINE
from compiler.targets.tensorrt.targets import TARGETS as ONNX_TARGETS

# The optimization level of `compiler.compile()`'s default, used by `-t llvm` without -p.
DEFAULT_OPT_LEVEL = 3


def parse_input_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """`name=1x3x224x224` (repeatable) -> {name: (1, 3, 224, 224)}."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = tuple(int(d) for d in dims.lower().split("x"))
            if any(d < 0 for d in shapes[name]):
                raise ValueError
        except ValueError:
            raise CompilerError(
                f"bad --input-shape '{spec}'", hint="write it as name=1x3x224x224"
            ) from None
    return shapes


def _entry(module: ModuleOp) -> func.FuncOp | None:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    return None


def module_level(module: ModuleOp) -> str:
    """Where `module` is in the compile pipeline: "graph", "loop", "upstream" or "llvm"."""
    dialects = {op.name.split(".", 1)[0] for op in module.walk() if op is not module}
    tensor_signature = any(
        isinstance(t, TensorType)
        for op in module.ops
        if isinstance(op, func.FuncOp)
        for t in (*op.function_type.inputs, *op.function_type.outputs)
    )
    if "graph" in dialects or tensor_signature:
        return "graph"
    if "loop" in dialects:
        return "loop"
    if dialects <= {"llvm"}:
        return "llvm"
    return "upstream"


def _params_extracted(module: ModuleOp) -> bool:
    entry = _entry(module)
    return entry is not None and PARAMS_ATTR in entry.attributes


def _memory_planned(module: ModuleOp) -> bool:
    entry = _entry(module)
    return entry is not None and memory.int_attr_of(entry, memory.ARENA_ATTR) is not None


def compile_pipeline(module: ModuleOp, opt_level: int = DEFAULT_OPT_LEVEL) -> list[str]:
    """The `-p` steps that `run_compile_pipeline` runs on `module` (empty at
    upstream or llvm level): the driver's, as `compiler.compile()` runs them.

    A graph module whose memory is planned already (graph-optimize at O2/O3
    ran) is only lowered, not optimized a second time.
    """
    level = module_level(module)
    if level == "graph":
        optimize = [] if _memory_planned(module) else [graph_pipeline(opt_level)]
        return [*optimize, "convert-graph-to-loop", *loop_pipeline()]
    if level == "loop":
        return loop_pipeline(params_extracted=_params_extracted(module))
    return []


def run_compile_pipeline(module: ModuleOp, opt_level: int = DEFAULT_OPT_LEVEL) -> None:
    """Lowers `module` in place to the llvm dialect (see `compile_pipeline`),
    with the driver's own functions."""
    level = module_level(module)
    if level == "graph":
        if not _memory_planned(module):
            run_pipeline(module, graph_pipeline(opt_level))
        lower_to_llvm(module)
    elif level == "loop":
        for spec in loop_pipeline(params_extracted=_params_extracted(module)):
            if spec == "extract-params":
                extract_params(module)
            else:
                run_pipeline(module, spec)


class CompilerOptMain(xDSLOptMain):
    def register_all_dialects(self) -> None:
        for name, factory in registry.all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        for name, factory in registry.all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        # Ours replace xDSL's `llvm`, which does not know our extra llvm ops.
        self.available_targets.update(CPU_TARGETS)
        self.available_targets.update(CUDA_TARGETS)
        self.available_targets.update(ONNX_TARGETS)

    def _cpu_target(self) -> str | None:
        name = parse_spec(self.args.target).name
        return name if name in CPU_TARGETS else None

    def apply_passes(self, prog: ModuleOp) -> None:
        if not self.args.passes and parse_spec(self.args.target).name in CUDA_TARGETS:
            # No -p: the CUDA pipeline, from the graph or the (unscheduled) loop level.
            level = module_level(prog)
            if level in ("graph", "loop"):
                run_pipeline(prog, ",".join(cuda_pipeline(level)))
            return
        if not self.args.passes and parse_spec(self.args.target).name in ONNX_TARGETS:
            # No -p: the passes that target="tensorrt" runs before its export.
            if module_level(prog) == "graph":
                run_pipeline(prog, EXPORT_PIPELINE)
            return
        if not self.args.passes and self._cpu_target():
            # No -p: the compile pipeline, as compiler.compile() runs it.
            run_compile_pipeline(prog)
            return
        super().apply_passes(prog)

    def output_resulting_program(self, prog: ModuleOp) -> str:
        target = self._cpu_target()
        level = module_level(prog)
        if parse_spec(self.args.target).name in ONNX_TARGETS and level != "graph":
            raise CompilerError(
                f"-t onnx needs a graph-level module, and this one is at {level} level",
                file=self.args.input_file,
                hint="export before convert-graph-to-loop",
            )
        if target and level in ("graph", "loop"):
            steps = ",".join(compile_pipeline(prog))
            raise CompilerError(
                f"-t {target} needs an llvm-dialect module, and -p leaves it at {level} level",
                file=self.args.input_file,
                hint=f"append '{steps}' to -p, or leave out -p to run the compile pipeline",
            )
        return super().output_resulting_program(prog)

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


    def prepare_input(self) -> tuple[list[tuple[IO[bytes], int]], str]:
        try:
            return super().prepare_input()
        except ValueError as err:  # xDSL: "Unrecognized file extension 'x'"
            raise CompilerError(
                str(err), file=self.args.input_file, hint="name the frontend with -f (mlir, onnx, onnxtxt)"
            ) from None

    def prepare_output(self) -> IO[str]:
        # Write to a temporary file beside the output and rename it into place
        # only when the whole run succeeded (see run): a failing run never
        # leaves a half-written output file, nor clobbers an existing one.
        if self.args.output_file is None:
            return sys.stdout
        directory = os.path.dirname(os.path.abspath(self.args.output_file))
        fd, self._tmp_output = tempfile.mkstemp(prefix=".compiler-opt-", suffix=".tmp", dir=directory)
        return os.fdopen(fd, "w")

    def run(self) -> None:
        self._tmp_output: str | None = None
        try:
            super().run()
        except BaseException:
            if self._tmp_output is not None and os.path.exists(self._tmp_output):
                os.remove(self._tmp_output)
            raise
        if self._tmp_output is not None:
            os.replace(self._tmp_output, self.args.output_file)


def _parse_error_line(err: ParseError) -> str:
    """xDSL's parse error (location, source line, carets, message) as one line."""
    loc = err.span.get_location()
    return f"{loc.file}:{loc.line}:{loc.col}: {err.msg}"


def _diagnostic_line(err: DiagnosticException, file: str | None) -> str:
    """xDSL's verifier error as one line: file, the failing op's name, the message.

    xDSL attaches the whole module, with carets under the failing op, as a
    note; the op's name is taken from the line above the carets.
    """
    message = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    op_name = None
    note_lines = "\n".join(getattr(err, "__notes__", [])).splitlines()
    for i, line in enumerate(note_lines):
        if "does not verify" in line:
            for above in reversed(note_lines[:i]):
                if above.strip() and above.strip()[0] not in "^|-":
                    found = re.search(r'"([A-Za-z_][\w.$]*)"', above)
                    op_name = found.group(1) if found else None
                    break
            break
    parts = [p for p in (file, op_name and f"'{op_name}'", message or type(err).__name__) if p]
    return ": ".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    path: str | None = None
    try:
        opt = CompilerOptMain(args=argv)
        path = opt.args.input_file
        if path is not None and not os.path.exists(path):
            raise CompilerError("no such file", file=path, hint="check the path")
        if path is not None and os.path.isdir(path):
            raise CompilerError("is a directory, not an input file", file=path)
        # Check --input-shape up front, whatever the input's format.
        parse_input_shapes(opt.args.input_shape or [])
        opt.run()
    except CompilerError as err:
        _fail(str(err))
    except ParseError as err:
        _fail(_parse_error_line(err))
    except DiagnosticException as err:  # verifier or pass failure outside --verify-diagnostics
        _fail(_diagnostic_line(err, path))
    except ArgSpecParseError as err:  # a malformed -p spec (xDSL raises a BaseException)
        # xDSL's text: a header, "pass-pipeline:1:COL", the spec, a caret, the reason.
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        if len(lines) >= 5:
            col = lines[1].rsplit(":", 1)[-1]
            _fail(f"bad pass pipeline '{lines[2]}': {lines[-1]} at column {col}; quote option values with \"...\"")
        _fail(f"bad pass pipeline: {lines[-1] if lines else err!r}")
    except MemoryError:
        _fail(f"{path or 'input'}: ran out of memory; check the shapes in the model")
    except KeyboardInterrupt:
        _fail("interrupted")


def _fail(message: str) -> None:
    print(f"compiler-opt: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
