"""`fold-constants`: evaluates ops whose operands are all constants at compile time."""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern

from compiler.dialects import graph as g
from compiler.errors import CompilerError
from compiler.interpreter import KERNELS, evaluate
from compiler.passes.constants import constant_array, erase_dead_constants, make_constant

# Large enough for every weight transform the importer leaves behind, such as
# the Transpose of VGG-19's first Gemm weight (25088 x 4096 = 102.8M elements),
# small enough to refuse a broadcast that would blow a tiny constant up to GiBs.
DEFAULT_SIZE_LIMIT = 1 << 27


@dataclass
class FoldConstantOp(RewritePattern):
    """Replaces an op whose operands are all `graph.constant`s by constants of its results.

    The op is evaluated with the reference interpreter's kernel, so folding and
    interpretation agree bit for bit. Ops without a kernel, ops whose results
    exceed `size_limit` elements and ops whose evaluation fails (an
    out-of-range gather index, ...) are left alone.
    """

    size_limit: int

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if isinstance(op, g.ConstantOp | g.YieldOp) or not op.operands or not op.results:
            return
        if type(op) not in KERNELS:
            return
        arrays = [constant_array(v) for v in op.operands]
        if any(a is None for a in arrays):
            return
        if any(math.prod(g.shape_of(r)) > self.size_limit for r in op.results):
            return
        try:
            results = evaluate(op, [a for a in arrays if a is not None])
        except (CompilerError, NotImplementedError, ValueError, ArithmeticError):
            # Leave the op to fail (or not) at run time, where the user sees it.
            return
        constants = [
            make_constant(array, r.type, r.name_hint)
            for array, r in zip(results, op.results, strict=True)
        ]
        operands = list(op.operands)
        rewriter.replace(op, constants, [c.result for c in constants])
        erase_dead_constants(rewriter, operands)


@dataclass(frozen=True)
class FoldConstantsPass(ModulePass):
    """Constant folding, shape subgraphs included: every op whose operands are
    all `graph.constant`s becomes `graph.constant`s holding its results.

    Options:
      size-limit: the most elements a folded result may have (default 2^27,
        which covers weight transforms such as the Transpose of VGG-19's
        102.8M-element Gemm weight). Splat results are stored as one element
        whatever their shape.
    """

    name = "fold-constants"

    size_limit: int = DEFAULT_SIZE_LIMIT

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FoldConstantOp(self.size_limit), apply_recursively=True).rewrite_module(op)
