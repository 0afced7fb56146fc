"""Helpers for the test_cpu_* tests: parse hand-written upstream-dialect MLIR and JIT it."""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from compiler.lowering.convert_to_llvm import ConvertToLLVMPass
from compiler.registry import make_context
from compiler.targets.cpu.jit import JITModule, jit_compile


def parse(source: str) -> ModuleOp:
    return Parser(make_context(), source).parse_module()


def lower(source: str, **options: bool) -> ModuleOp:
    module = parse(source)
    ConvertToLLVMPass(**options).apply(make_context(), module)
    module.verify()
    return module


def jit(source: str, **options: bool) -> JITModule:
    """Lower through `convert-to-llvm` (with options) and JIT without the disk cache."""
    return jit_compile(lower(source, **options), cache=False)


def parallel_loop(lb: str, ub: str, step: str, iv: str, body: str) -> str:
    """A 1-D scf.parallel in generic syntax (xDSL 0.74 has no custom syntax for it)."""
    return (
        f'"scf.parallel"({lb}, {ub}, {step}) <{{operandSegmentSizes = array<i32: 1, 1, 1, 0>}}> ({{\n'
        f"^bb0({iv}: index):\n{body}\n  scf.reduce\n}}) : (index, index, index) -> ()"
    )
