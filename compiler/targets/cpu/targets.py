"""`compiler-opt -t` targets of the CPU backend.

- `llvm`: LLVM IR text of an llvm-dialect module, as translated (replaces
  xDSL's target of the same name, which does not know our extra ops);
- `llvm-opt`: the same IR after LLVM's -O3 pipeline for the host CPU;
- `asm`: host assembly of the optimized IR.

`llvm-opt` and `asm` take `{cpu=NAME features=+a,-b}` to stand for another
x86-64 machine (`-t 'asm{cpu=znver4 features=+avx512f,+avx512vnni}'`), so
that tests need not depend on the host; either one left out is the host's.

A module that still holds upstream dialects (scf, arith, memref, vector,
func) is lowered with `convert-to-llvm` first. Graph- and loop-level modules
never get here: `compiler-opt` (compiler/tools/opt.py) runs the rest of the
compile pipeline on them when there is no `-p`, and reports the steps still
to run when a `-p` stops short.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from compiler.targets.cpu.jit import llvm_module
from compiler.targets.cpu.machine import HostTarget, assembly, optimized_ir
from compiler.targets.cpu.translate import to_llvm_ir


def _ir(module: ModuleOp) -> str:
    host = HostTarget.detect()
    return to_llvm_ir(llvm_module(module), host.triple, host.data_layout)


def _machine(cpu: str, features: str) -> HostTarget:
    """The host, or the machine that `cpu` / `features` describe (same triple)."""
    host = HostTarget.detect()
    if not cpu and not features:
        return host
    return HostTarget(host.triple, cpu or host.cpu, features or host.features)


@dataclass(frozen=True)
class LLVMIRTarget(Target):
    """LLVM IR text, unoptimized."""

    name = "llvm"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        print(_ir(module), file=output)


@dataclass(frozen=True)
class OptimizedLLVMIRTarget(Target):
    """LLVM IR text after -O3 for the host CPU."""

    name = "llvm-opt"

    cpu: str = ""
    features: str = ""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        print(optimized_ir(_ir(module), _machine(self.cpu, self.features)), file=output)


@dataclass(frozen=True)
class AssemblyTarget(Target):
    """Host assembly."""

    name = "asm"

    cpu: str = ""
    features: str = ""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        print(assembly(_ir(module), _machine(self.cpu, self.features)), file=output)


TARGETS: dict[str, Callable[[], type[Target]]] = {
    "llvm": lambda: LLVMIRTarget,
    "llvm-opt": lambda: OptimizedLLVMIRTarget,
    "asm": lambda: AssemblyTarget,
}
