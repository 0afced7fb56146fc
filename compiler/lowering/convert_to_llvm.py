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

That is the order as separate passes (`ConvertToLLVMPass.passes`). `apply`
produces the same module in fewer walks (a walk visits every op, and the
per-op cost of xDSL's walker is most of this pass's time):

- every function's block arguments get their llvm types first (steps 7-8
  do this for their blocks), so a use of a memref argument needs no cast;
- steps 3-7 share one walk: each op's patterns act on that op alone and
  insert the new ops in its place, so the order of the steps does not matter
  to the result. An op is converted before its users, so a memref a user
  needs as a pointer meets the inverse cast its converted definition left
  (no new cast) and a user that folds a constant index into a GEP leaves the index's
  llvm.mlir.constant unused: such constants are erased at the end (3-6 as
  separate passes erased the arith.constant instead);
- in that walk an index result is not cast back (`uncast_results`): its
  users, converted after it, take the i64 value as it is;
- the patterns go through `DispatchingApplier`, which tries on an op only
  the patterns of its type;
- convert-func-to-llvm visits each op in a plain loop rather than a walker;
- reconcile-unrealized-casts applies xDSL's pattern to the casts alone, in
  order, once: visiting each chain's first cast removes the whole chain, so
  the walker's visits of every other op and its second, confirming walk
  find nothing.

Any op left outside the llvm dialect afterwards is an error naming the op.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp, UnrealizedConversionCastOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker
from xdsl.rewriter import Rewriter
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf
from xdsl.transforms.reconcile_unrealized_casts import (
    ReconcileUnrealizedCastsPass,
    ReconcileUnrealizedCastsPattern,
)
from xdsl.utils.exceptions import DiagnosticException

from compiler.lowering.convert_arith_to_llvm import ARITH_TO_LLVM_PATTERNS, ConvertArithToLLVMPass
from compiler.lowering.convert_cf_to_llvm import (
    CF_TO_LLVM_PATTERNS,
    ConvertCfToLLVMPass,
    convert_all_block_args,
)
from compiler.lowering.convert_func_to_llvm import ConvertFuncToLLVMPass
from compiler.lowering.convert_math_to_llvm import ConvertMathToLLVMPass
from compiler.lowering.convert_parallel_to_gomp import ConvertParallelToGompPass
from compiler.lowering.convert_vector_to_llvm import (
    VECTOR_TO_LLVM_PATTERNS,
    ConvertVectorToLLVMPass,
)
from compiler.lowering.finalize_memref_to_llvm import (
    MEMREF_TO_LLVM_PATTERNS,
    FinalizeMemRefToLLVMPass,
)
from compiler.lowering.llvm_common import DispatchingApplier, uncast_results
from compiler.lowering.outline_parallel_loops import OutlineParallelLoopsPass


def finish_llvm_module(module: ModuleOp) -> None:
    """Erase unused constants; raise if an op outside the llvm dialect survived the lowering.

    The one walk converts each op before its users, so a constant index
    becomes an `llvm.mlir.constant` before the GEP it feeds folds it in; those
    left unused go here (LLVM IR has no constant instructions: only the
    llvm-dialect text shows them).
    """
    unused: list[Operation] = []
    for op in module.walk():
        if op is module:
            continue
        if isinstance(op, llvm.ConstantOp):
            if not op.result.uses:
                unused.append(op)
            continue
        if op.name.startswith("llvm.") or isinstance(op, llvm.FuncOp | llvm.GlobalOp):
            continue
        if isinstance(op, UnrealizedConversionCastOp):
            raise DiagnosticException(
                f"a value of type {op.inputs[0].type} could not be converted to an llvm type "
                f"(left as {op.results[0].type}) in {op}"
            )
        raise DiagnosticException(f"no lowering to the llvm dialect for '{op.name}'")
    for op in unused:
        Rewriter.erase_op(op)


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
        """The conversion as separate passes, one walk each (`apply` gives the same module)."""
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
        OutlineParallelLoopsPass(sequential=not self.parallel).apply(ctx, op)
        ConvertScfToCf().apply(ctx, op)
        convert_all_block_args(op)
        with uncast_results():
            PatternRewriteWalker(
                DispatchingApplier(
                    [
                        *VECTOR_TO_LLVM_PATTERNS,
                        *MEMREF_TO_LLVM_PATTERNS,
                        *ConvertMathToLLVMPass(approximate=self.approximate_math).patterns(),
                        *ARITH_TO_LLVM_PATTERNS,
                        *CF_TO_LLVM_PATTERNS,
                    ]
                ),
                apply_recursively=False,
            ).rewrite_module(op)
        ConvertFuncToLLVMPass().apply(ctx, op)
        reconcile = ReconcileUnrealizedCastsPattern(warn_on_failure=True)
        for cast in [inner for inner in op.body.walk() if isinstance(inner, UnrealizedConversionCastOp)]:
            if cast.parent is not None:  # else removed with the chain of an earlier cast
                reconcile.match_and_rewrite(cast, PatternRewriter(cast))
        ConvertParallelToGompPass().apply(ctx, op)
        finish_llvm_module(op)
