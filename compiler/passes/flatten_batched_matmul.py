"""`flatten-batched-matmul`: a batched matmul by one 2-D matrix is one GEMM.

`graph.matmul` of a [B1, ..., Bj, M, K] operand by a [K, N] matrix computes
every batch with the same matrix, so it is one [B1*...*Bj*M, K] x [K, N]
product of a free reshape of a contiguous buffer. Left batched, the kernel
runs B products of M rows each: PyTorch's `nn.MultiheadAttention` (and so
`nn.Transformer*` layers) exported by torch.onnx projects a sequence-first
[L, 1, E] tensor, which is L matrix-vector products that each read the whole
weight (3.9 GFLOP/s where the GEMM runs near peak). onnxruntime flattens the
same way.

The element-wise ops that follow the matmul (the bias add, an activation:
what `fuse-ops` makes its epilogue) move inside the reshape with it, their
other operands reshaped alike when they have the full shape, kept when they
broadcast along the last axis only, so that the fusion stays. Runs before
`fuse-ops`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint

from compiler.dialects import graph as g
from compiler.passes.reshape_sinking import elementwise_user, reshaped, sink_users


def _rows_operand(shape: tuple[int, ...], full: tuple[int, ...]) -> bool:
    """An operand that broadcasts along the rows: only its last axis may be more than 1."""
    return len(shape) <= len(full) and all(d == 1 for d in shape[:-1])


def _sinkable(user: Operation, value: SSAValue) -> bool:
    """An element-wise op on `value` whose other operands are full-shape or broadcast along the rows."""
    return elementwise_user(user, value, _rows_operand)


class FlattenBatchedMatmul(RewritePattern):
    """matmul(a [B..., M, K], w [K, N]) -> reshape(matmul(reshape(a) [B*M, K], w)) [B..., M, N]
    where B... holds more than one batch; then, while the single user u of the result is
    element-wise: u(reshape(v), y) -> reshape(u(v, y')), y' = reshape(y) when full-shape,
    [1, N] when it broadcasts along the rows."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.MatMulOp, rewriter: PatternRewriter) -> None:
        if isinstance(op.parent_op(), g.FusedOp) or len(op.operands) != 2:
            return
        lhs_shape, rhs_shape = g.shape_of(op.lhs), g.shape_of(op.rhs)
        if len(rhs_shape) != 2 or len(lhs_shape) < 3 or math.prod(lhs_shape[:-2]) == 1:
            return
        out_shape = g.shape_of(op.result)
        rows = math.prod(out_shape[:-1])
        flat_shape = [rows, out_shape[-1]]
        lhs = reshaped(op.lhs, [rows, lhs_shape[-1]], rewriter, op)
        matmul = type(op).create(
            operands=[lhs, op.rhs],
            result_types=[TensorType(g.elem_of(op.result), flat_shape)],
            properties=dict(op.properties),
            attributes=dict(op.attributes),
        )
        rewriter.insert(matmul, InsertPoint.before(op))

        def operand(other: SSAValue, user: Operation) -> SSAValue:
            shape = g.shape_of(other)
            if shape == out_shape:
                return reshaped(other, flat_shape, rewriter, user)
            return reshaped(other, [1, shape[-1]], rewriter, user) if len(shape) > 2 else other

        sink_users(op, matmul.results[0], rewriter, _sinkable, operand)


@dataclass(frozen=True)
class FlattenBatchedMatmulPass(ModulePass):
    """Runs batched matmuls by a 2-D matrix (and their element-wise users) as one GEMM."""

    name = "flatten-batched-matmul"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FlattenBatchedMatmul(), apply_recursively=False).rewrite_module(op)
