"""`convert-to-llvm`: the whole chain from upstream dialects to the llvm dialect.

Input: func.func kernels over static memrefs using scf, arith, math, memref,
vector and func (what the loop-dialect lowering produces). Output: a module of
llvm.func / llvm.mlir.global ops only, ready for `compiler.targets.cpu`.

Order, and why:

 1. outline-parallel-loops        scf.parallel -> per-thread func + marked call
                                  (needs scf and func still intact)
 2. convert-scf-to-cf             scf.for/if -> blocks and cf branches
 3. convert-vector-to-llvm        vector.load/store address memrefs by their ptr
 4. finalize-memref-to-llvm       memref ops -> GEP/load/store/alloca
 5. convert-math-to-llvm          f32 exp/tanh/erf as polynomials unless
                                  approximate_math=false
 6. convert-arith-to-llvm
 7. convert-cf-to-llvm            block arguments get llvm types
 8. convert-func-to-llvm          signatures last: every body op is already llvm
 9. reconcile-unrealized-casts    each boundary cast now meets its inverse
10. convert-parallel-to-gomp      needs llvm types for the capture struct

Any op left outside the llvm dialect afterwards is an error naming the op.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp, UnrealizedConversionCastOp
from xdsl.passes import ModulePass
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf
from xdsl.transforms.reconcile_unrealized_casts import ReconcileUnrealizedCastsPass
from xdsl.utils.exceptions import DiagnosticException

from compiler.lowering.convert_arith_to_llvm import ConvertArithToLLVMPass
from compiler.lowering.convert_cf_to_llvm import ConvertCfToLLVMPass
from compiler.lowering.convert_func_to_llvm import ConvertFuncToLLVMPass
from compiler.lowering.convert_math_to_llvm import ConvertMathToLLVMPass
from compiler.lowering.convert_parallel_to_gomp import ConvertParallelToGompPass
from compiler.lowering.convert_vector_to_llvm import ConvertVectorToLLVMPass
from compiler.lowering.finalize_memref_to_llvm import FinalizeMemRefToLLVMPass
from compiler.lowering.outline_parallel_loops import OutlineParallelLoopsPass


def check_llvm_only(module: ModuleOp) -> None:
    """Raise if an op outside the llvm dialect survived the lowering."""
    for op in module.walk():
        if op is module:
            continue
        if op.name.startswith("llvm.") or isinstance(op, llvm.FuncOp | llvm.GlobalOp):
            continue
        if isinstance(op, UnrealizedConversionCastOp):
            raise DiagnosticException(
                f"a value of type {op.inputs[0].type} could not be converted to an llvm type "
                f"(left as {op.results[0].type}) in {op}"
            )
        raise DiagnosticException(f"no lowering to the llvm dialect for '{op.name}'")


@dataclass(frozen=True)
class ConvertToLLVMPass(ModulePass):
    """Lower upstream dialects (scf/arith/math/memref/vector/func) to the llvm dialect.

    Options: `parallel=false` runs parallel loops on the calling thread (no
    libgomp); `approximate_math=false` keeps libm calls for exp/tanh/erf.
    """

    name = "convert-to-llvm"

    parallel: bool = True
    approximate_math: bool = True

    def passes(self) -> list[ModulePass]:
        return [
            OutlineParallelLoopsPass(sequential=not self.parallel),
            ConvertScfToCf(),
            ConvertVectorToLLVMPass(),
            FinalizeMemRefToLLVMPass(),
            ConvertMathToLLVMPass(approximate=self.approximate_math),
            ConvertArithToLLVMPass(),
            ConvertCfToLLVMPass(),
            ConvertFuncToLLVMPass(),
            ReconcileUnrealizedCastsPass(),
            ConvertParallelToGompPass(),
        ]

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for one_pass in self.passes():
            one_pass.apply(ctx, op)
        check_llvm_only(op)
