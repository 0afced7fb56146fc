"""`convert-cf-to-llvm`: cf.br / cf.cond_br / cf.switch / cf.assert to llvm branches.

Block arguments are converted first (index -> i64, memref -> !llvm.ptr),
with a cast at the top of each block so the not-yet-converted body still
type-checks; branch operands are cast the other way. LLVM has no block
arguments: the llvmlite translation turns them into phi nodes.

`cf.switch` becomes a chain of compare-and-branch blocks (xDSL's llvm dialect
has no llvm.switch; the chain is what LLVM would build for a few cases anyway),
and `cf.assert` a branch to a block that calls `abort`.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import cf, func, llvm
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import BlockInsertPoint, InsertPoint, Rewriter

from compiler.lowering.llvm_common import (
    DispatchingApplier,
    constant,
    convert_block_args,
    declare_function,
    enclosing_module,
    to_llvm,
)


def _args(
    values: tuple[SSAValue, ...] | list[SSAValue], rewriter: PatternRewriter
) -> list[SSAValue]:
    return [to_llvm(v, rewriter) for v in values]


class BranchToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.BranchOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm.BrOp(op.successor, *_args(op.arguments, rewriter)))


class CondBranchToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.ConditionalBranchOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(
            op,
            llvm.CondBrOp(
                op.cond,
                op.then_block,
                _args(op.then_arguments, rewriter),
                op.else_block,
                _args(op.else_arguments, rewriter),
            ),
        )


class SwitchToLLVM(RewritePattern):
    """`cf.switch %flag` -> one `icmp eq` + `llvm.cond_br` per case, default last."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.SwitchOp, rewriter: PatternRewriter, /) -> None:
        flag = to_llvm(op.flag, rewriter)
        case_values = list(op.case_values.get_values()) if op.case_values is not None else []
        operands = list(op.case_operands)
        operand_lists: list[list[SSAValue]] = []
        start = 0
        for size in op.case_operand_segments.get_values():
            operand_lists.append(operands[start : start + size])
            start += size
        block = op.parent_block()
        assert block is not None
        # Each case test lives in its own block; the first in the switch's block.
        for value, target, case_args in zip(
            case_values, op.case_blocks, operand_lists, strict=True
        ):
            cmp_value = constant(value, flag.type, rewriter)
            pred = IntegerAttr(llvm.ICmpPredicateFlag.EQ.to_int(), i64)
            is_case = rewriter.insert(llvm.ICmpOp(flag, cmp_value, pred)).res
            args = _args(case_args, rewriter)
            next_block = Block()
            Rewriter.insert_block(next_block, BlockInsertPoint.after(block))
            rewriter.insert(llvm.CondBrOp(is_case, target, args, next_block, []))
            block = next_block
            rewriter.insertion_point = InsertPoint.at_end(next_block)
        rewriter.insert(llvm.BrOp(op.default_block, *_args(op.default_operands, rewriter)))
        rewriter.erase(op)


class AssertToLLVM(RewritePattern):
    """`cf.assert %ok` -> branch to a block that calls `abort()` when %ok is false."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.AssertOp, rewriter: PatternRewriter, /) -> None:
        block = op.parent_block()
        assert block is not None
        declare_function(enclosing_module(op), "abort", [], llvm.LLVMVoidType(), rewriter)
        # Split: everything after the assert moves to a continuation block.
        continuation = Block()
        Rewriter.insert_block(continuation, BlockInsertPoint.after(block))
        after = op.next_op
        while after is not None:
            following = after.next_op
            after.detach()
            continuation.add_op(after)
            after = following
        failure = Block()
        Rewriter.insert_block(failure, BlockInsertPoint.after(continuation))
        failure.add_op(llvm.CallOp("abort"))
        failure.add_op(llvm.UnreachableOp())
        rewriter.replace(op, llvm.CondBrOp(op.arg, continuation, [], failure, []))


def convert_all_block_args(module: ModuleOp, entry: bool = True) -> None:
    """Give the block arguments of every function llvm types (see `convert_block_args`).

    Non-entry blocks are the branch targets: their argument types must match
    the converted branch operands. Entry blocks (`entry=True`) are the
    function arguments, which convert-func-to-llvm would convert otherwise;
    converting them first saves a cast per use of a memref argument.
    """
    for fn in module.ops:
        if not isinstance(fn, func.FuncOp | llvm.FuncOp):
            continue
        for block in list(fn.body.blocks)[0 if entry else 1 :]:
            convert_block_args(block, PatternRewriter(InsertPoint.at_start(block)))


CF_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (
    BranchToLLVM(),
    CondBranchToLLVM(),
    SwitchToLLVM(),
    AssertToLLVM(),
)


class ConvertCfToLLVMPass(ModulePass):
    """Lower cf branches to llvm branches, converting block argument types."""

    name = "convert-cf-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        convert_all_block_args(op, entry=False)
        PatternRewriteWalker(
            DispatchingApplier(CF_TO_LLVM_PATTERNS),
            apply_recursively=False,
        ).rewrite_module(op)
