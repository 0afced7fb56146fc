"""Python parity with `compiler-opt`: parse, print and run pass pipelines."""

from __future__ import annotations

from io import StringIO

from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import PassPipeline
from xdsl.printer import Printer
from xdsl.utils.exceptions import ArgSpecParseError, ParseError

from compiler import registry
from compiler.errors import CompilerError, PipelineError


def parse_mlir(text: str, source: str = "<string>") -> ModuleOp:
    """Parses IR text (any dialect we register) into a module."""
    try:
        return Parser(registry.make_context(), text, source).parse_module()
    except ParseError as err:
        raise CompilerError(f"cannot parse IR: {str(err).strip().splitlines()[0]}", file=source) from None


def print_mlir(module: ModuleOp) -> str:
    stream = StringIO()
    Printer(stream=stream).print_op(module)
    return stream.getvalue()


def run_pipeline(module: ModuleOp, pipeline: str) -> ModuleOp:
    """Applies a `-p`-style pipeline (e.g. "graph-optimize{level=3}") in place."""
    try:
        passes = PassPipeline.parse_spec(registry.all_passes(), pipeline)
    except (Exception, ArgSpecParseError) as err:
        # xDSL raises plain exceptions for unknown passes/options, and a
        # BaseException (ArgSpecParseError) for a malformed spec.
        raise PipelineError(f"bad pipeline {pipeline!r}: {_first_line(err)}") from None
    passes.apply(registry.make_context(), module)
    return module


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    # ArgSpecParseError: a header, the position, the spec, a caret, the reason.
    if isinstance(err, ArgSpecParseError) and lines:
        return lines[-1]
    return lines[0] if lines else type(err).__name__
