"""compiler: an ONNX model compiler built on xDSL.

Public API:
  import_onnx(model, input_shapes=None) -> ModuleOp   ONNX -> graph dialect
  interpret(module, feeds) -> list[np.ndarray]         numpy reference interpreter
  parse_mlir(text) -> ModuleOp                         read our IR
  run_pipeline(module, "p1,p2{opt=v}") -> ModuleOp     apply a compiler-opt pipeline
  compile(model, input_shapes=None, opt_level=3, num_threads=None, schedules=None,
          specialize=None, precision="fp32", records=None) -> CompiledModel
                                                       precision: fp32, fp16 or bf16;
                                                       records: `compiler tune` output
  load(path) -> CompiledModel                          an exported .so (no xDSL work)
  quantize(model, calibration_feeds, method="minmax", per_channel=True, ...) -> QuantizedModel
                                                       post-training int8 quantization: a QDQ
                                                       ONNX model (.model, .save(), .report())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.errors import CompilerError  # noqa: F401

__all__ = [
    "CompiledModel",
    "CompilerError",
    "ScheduleWarning",
    "compile",
    "load",
    "import_onnx",
    "interpret",
    "parse_mlir",
    "print_mlir",
    "quantize",
    "run_pipeline",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import compiler` stays cheap for the CLIs and loading exported models.
    if name == "import_onnx":
        from compiler.frontend.onnx import import_onnx

        return import_onnx
    if name == "interpret":
        from compiler.interpreter import interpret

        return interpret
    if name in ("parse_mlir", "print_mlir", "run_pipeline"):
        from compiler import api

        return getattr(api, name)
    if name == "compile":
        from compiler.driver import compile

        return compile
    if name in ("load", "CompiledModel"):
        from compiler import runtime

        return getattr(runtime, name)
    if name == "quantize":
        from compiler.quantization import quantize

        return quantize
    if name == "ScheduleWarning":
        from compiler.schedule.schedule import ScheduleWarning

        return ScheduleWarning
    if name == "CompilerError":
        from compiler.errors import CompilerError

        return CompilerError
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")
