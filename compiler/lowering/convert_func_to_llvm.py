"""`convert-func-to-llvm`: func.func / func.call / func.return to llvm.func / call / return.

Signatures go through the shared type mapping: memref arguments become bare
`!llvm.ptr` (to the element at all-zero indices), index becomes i64, and a
function returns void, one value, or (never produced upstream) fails. So a
kernel `func.func @k(%a: memref<4x8xf32>, %n: index)` is natively
`void k(float *a, int64_t n)`: ctypes callers pass `array.ctypes.data` and a
Python int.

Linkage: public functions keep external linkage (callable from Python or a
.so), private *definitions* become internal so LLVM may inline and drop
them, declarations stay external (resolved from libm, libgomp or the process).

Discardable attributes of func.call (e.g. `compiler.parallel`, set by
`outline-parallel-loops`) are kept on the llvm.call for later passes.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.ir import Attribute, Operation, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import Rewriter
from xdsl.transforms.dead_code_elimination import is_trivially_dead
from xdsl.utils.exceptions import DiagnosticException

from compiler.lowering.llvm_common import (
    convert_block_args,
    convert_type,
    from_llvm,
    to_llvm,
)


def llvm_function_type(
    inputs: tuple[Attribute, ...], outputs: tuple[Attribute, ...]
) -> llvm.LLVMFunctionType:
    if len(outputs) > 1:
        raise DiagnosticException("functions with more than one result are not supported")
    output = convert_type(outputs[0]) if outputs else llvm.LLVMVoidType()
    return llvm.LLVMFunctionType([convert_type(t) for t in inputs], output)


class FuncToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter, /) -> None:
        fn_type = llvm_function_type(op.function_type.inputs.data, op.function_type.outputs.data)
        is_private = op.sym_visibility is not None and op.sym_visibility.data == "private"
        linkage = "internal" if is_private and not op.is_declaration else "external"
        body = Region()
        if not op.is_declaration:
            # Entry block arguments take the llvm types; casts keep the body valid.
            convert_block_args(op.body.blocks[0], rewriter)
            body = rewriter.move_region_contents_to_new_regions(op.body)
        new_func = llvm.FuncOp(
            op.sym_name.data,
            fn_type,
            linkage=llvm.LinkageAttr(linkage),
            body=body,
            other_props={"no_unwind": UnitAttr()},
        )
        rewriter.replace(op, new_func)


class ReturnToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter, /) -> None:
        if len(op.arguments) > 1:
            raise DiagnosticException("returning more than one value is not supported")
        value = to_llvm(op.arguments[0], rewriter) if op.arguments else None
        rewriter.replace(op, llvm.ReturnOp(value))


class CallToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.CallOp, rewriter: PatternRewriter, /) -> None:
        if len(op.res) > 1:
            raise DiagnosticException("calls with more than one result are not supported")
        args = [to_llvm(arg, rewriter) for arg in op.arguments]
        return_type = convert_type(op.res[0].type) if op.res else None
        call = rewriter.insert(
            llvm.CallOp(op.callee.string_value(), *args, return_type=return_type)
        )
        call.attributes.update(op.attributes)
        results = [from_llvm(call.results[0], op.res[0].type, rewriter)] if op.res else []
        rewriter.replace(op, [], results)


class ConvertFuncToLLVMPass(ModulePass):
    """Lower func.func/call/return to llvm.func/call/return with llvm types at the boundaries."""

    name = "convert-func-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # What PatternRewriteWalker(GreedyRewritePatternApplier([...]),
        # apply_recursively=False) does (each op once, in order: erased if
        # trivially dead, else converted), without the walker's per-op cost:
        # the three patterns match a few ops of a module of thousands.
        patterns: dict[type[Operation], RewritePattern] = {
            func.FuncOp: FuncToLLVM(),
            func.ReturnOp: ReturnToLLVM(),
            func.CallOp: CallToLLVM(),
        }
        for inner in list(op.body.walk()):
            if inner.parent is None:
                continue  # erased on the way
            if is_trivially_dead(inner):
                Rewriter.erase_op(inner)
                continue
            pattern = patterns.get(type(inner))
            if pattern is not None:
                pattern.match_and_rewrite(inner, PatternRewriter(inner))
