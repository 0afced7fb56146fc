"""`outline-parallel-loops`: each outermost scf.parallel becomes a function run by every thread.

Threading design (two passes, so that every conversion in between stays a
plain sequential rewrite):

1. This pass, on upstream dialects. For an outermost 1-D `scf.parallel`
   (%lb to %ub step %s) in `@f`, it creates

       func.func private @f__parallel_0(<captured values>, %begin: index, %end: index) {
         scf.for %iv = %lb + %begin * %s to min(%lb + %end * %s, %ub) step %s { <body> }
       }

   which runs the iterations [%begin, %end) of the range (counted from 0),
   and replaces the loop by
   `func.call @f__parallel_0(<captures>, 0, <trip count>) {compiler.parallel, compiler.chunks = N}`,
   i.e. a call that runs every iteration, so the IR is still correct
   sequential code. Captured values are whatever the body uses from outside
   (memrefs, index values, scalars, vectors); constants are cloned into the
   function instead so they fold. `compiler.chunks` is the `parallel`
   schedule primitive's chunk count (the `compiler.chunks` attribute of the
   scf.parallel; 0, the default, lets the runtime choose).

2. `convert-parallel-to-gomp`, on the llvm dialect once every capture is a
   pointer, integer, float or vector: each marked call becomes a struct of
   its arguments on the stack plus `GOMP_parallel(@f__parallel_0__omp,
   &struct, compiler_num_threads, 0)`; the `__omp` wrapper unpacks the
   struct and runs the range in chunks that the team's threads take
   dynamically (see that pass for why).

Inner scf.parallel ops (nested in an outlined one, or multi-dimensional) run
sequentially: they become scf.for nests. Loops with reductions are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, UnitAttr, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

PARALLEL_ATTR = "compiler.parallel"
"""Unit attribute on a func.call/llvm.call that must run on every thread of a team."""

CHUNKS_ATTR = "compiler.chunks"
"""i64 attribute on an scf.parallel and on its marked call: the number of chunks
its iterations are cut into for the threads (0 or absent: the runtime's choice)."""


def _is_inside(value: SSAValue, op: Operation) -> bool:
    """Whether `value` is defined inside `op`'s regions."""
    owner = value.owner
    parent = owner.parent_op()
    return parent is not None and op.is_ancestor(parent)


def _is_constant(value: SSAValue) -> bool:
    return isinstance(value.owner, arith.ConstantOp)


def _captures(loop: scf.ParallelOp) -> list[SSAValue]:
    """Values used inside `loop` (or as its bounds) but defined outside, in first-use order."""
    found: dict[SSAValue, None] = {}
    for operand in loop.operands:
        found.setdefault(operand, None)
    for inner in loop.body.walk():
        for operand in inner.operands:
            if not _is_inside(operand, loop):
                found.setdefault(operand, None)
    return list(found)


def _unique_name(module: ModuleOp, base: str) -> str:
    names = {
        op.properties["sym_name"].data  # type: ignore[union-attr]
        for op in module.ops
        if "sym_name" in op.properties
    }
    index = 0
    while f"{base}{index}" in names:
        index += 1
    return f"{base}{index}"


def _outline(loop: scf.ParallelOp, module: ModuleOp, caller: func.FuncOp) -> None:
    if loop.initVals or loop.res:
        raise DiagnosticException("scf.parallel with reductions is not supported")
    if len(loop.lowerBound) != 1:
        # Parallelize the outer dimension; the inner ones run sequentially.
        loop = _split_outer_dimension(loop)
    captures = _captures(loop)
    passed = [v for v in captures if not _is_constant(v)]
    name = _unique_name(module, f"{caller.sym_name.data}__parallel_")

    index = IndexType()
    outlined = func.FuncOp(name, ([*(v.type for v in passed), index, index], []), visibility="private")
    entry = outlined.body.blocks[0]
    *args, begin, end = entry.args
    begin.name_hint, end.name_hint = "begin", "end"
    mapping: dict[SSAValue, SSAValue] = dict(zip(passed, args, strict=True))
    for value, arg in mapping.items():
        arg.name_hint = value.name_hint
    for value in captures:
        if _is_constant(value):
            clone = value.owner.clone()  # type: ignore[union-attr]
            entry.add_op(clone)
            mapping[value] = clone.results[0]

    ops: list[Operation] = []

    def emit(op: Operation) -> SSAValue:
        ops.append(op)
        return op.results[0]

    lb, ub, step = (mapping[v] for v in (loop.lowerBound[0], loop.upperBound[0], loop.step[0]))
    lo = emit(arith.AddiOp(lb, emit(arith.MuliOp(begin, step))))
    hi = emit(arith.MinSIOp(emit(arith.AddiOp(lb, emit(arith.MuliOp(end, step)))), ub))
    lo.name_hint, hi.name_hint = "lo", "hi"

    body = Block(arg_types=[index])
    for_op = scf.ForOp(lo, hi, step, [], Region(body))
    ops.append(for_op)
    ops.append(func.ReturnOp())
    entry.add_ops(ops)

    old_block = loop.body.blocks[0]
    iv = old_block.args[0]
    body.args[0].name_hint = iv.name_hint
    iv.replace_all_uses_with(body.args[0])
    for op in list(old_block.ops):
        op.detach()
        if isinstance(op, scf.ReduceOp):
            body.add_op(scf.YieldOp())
            op.erase()
            continue
        body.add_op(op)
    for value, replacement in mapping.items():
        value.replace_uses_with_if(replacement, lambda use: outlined.is_ancestor(use.operation))

    call_ops = _trip_count(loop)
    call = func.CallOp(name, [*passed, call_ops[0].results[0], call_ops[-1].results[0]], [])
    call.attributes[PARALLEL_ATTR] = UnitAttr()
    call.attributes[CHUNKS_ATTR] = IntegerAttr(chunk_count(loop), i64)
    Rewriter.replace_op(loop, [*call_ops, call], [])
    module.body.block.insert_op_after(outlined, caller)


def chunk_count(loop: scf.ParallelOp) -> int:
    """The loop's `compiler.chunks` (0 when absent: the runtime chooses)."""
    attr = loop.attributes.get(CHUNKS_ATTR)
    return attr.value.data if isinstance(attr, IntegerAttr) else 0


def _trip_count(loop: scf.ParallelOp) -> list[Operation]:
    """Ops computing 0 (first) and max(ceildiv(ub - lb, step), 0) (last) before `loop`."""
    zero = arith.ConstantOp.from_int_and_width(0, IndexType())
    span = arith.SubiOp(loop.upperBound[0], loop.lowerBound[0])
    quotient = arith.CeilDivSIOp(span, loop.step[0])
    trips = arith.MaxSIOp(quotient, zero)
    zero.result.name_hint, trips.result.name_hint = "zero", "trips"
    return [zero, span, quotient, trips]


def _split_outer_dimension(loop: scf.ParallelOp) -> scf.ParallelOp:
    """scf.parallel (i, j) -> scf.parallel (i) { scf.parallel (j) }, in place."""
    block = loop.body.blocks[0]
    inner_block = Block(arg_types=[IndexType()] * (len(block.args) - 1))
    for old, new in zip(block.args[1:], inner_block.args, strict=True):
        new.name_hint = old.name_hint
        old.replace_all_uses_with(new)
    for op in list(block.ops):
        op.detach()
        inner_block.add_op(op)
    inner = scf.ParallelOp(
        list(loop.lowerBound[1:]),
        list(loop.upperBound[1:]),
        list(loop.step[1:]),
        Region(inner_block),
    )
    block.add_op(inner)
    block.add_op(scf.ReduceOp())
    for _ in range(len(block.args) - 1):
        block.erase_arg(block.args[-1])
    new_loop = scf.ParallelOp(
        [loop.lowerBound[0]], [loop.upperBound[0]], [loop.step[0]], loop.detach_region(0)
    )
    new_loop.attributes.update(loop.attributes)
    Rewriter.replace_op(loop, new_loop)
    return new_loop


class ParallelToSequentialFor(RewritePattern):
    """An scf.parallel that is not outlined runs as an scf.for nest on the calling thread."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ParallelOp, rewriter: PatternRewriter, /) -> None:
        if op.initVals or op.res:
            raise DiagnosticException("scf.parallel with reductions is not supported")
        old_block = op.body.blocks[0]
        loops: list[scf.ForOp] = []
        for lb, ub, step in zip(op.lowerBound, op.upperBound, op.step, strict=True):
            body = Block(arg_types=[IndexType()])
            loops.append(scf.ForOp(lb, ub, step, [], Region(body)))
        for outer, inner in zip(loops, loops[1:], strict=False):
            outer.body.blocks[0].add_ops([inner, scf.YieldOp()])
        innermost = loops[-1].body.blocks[0]
        for old, loop in zip(old_block.args, loops, strict=True):
            loop.body.blocks[0].args[0].name_hint = old.name_hint
            old.replace_all_uses_with(loop.body.blocks[0].args[0])
        for inner_op in list(old_block.ops):
            if isinstance(inner_op, scf.ReduceOp):
                # Through the rewriter: the walker's worklist must forget it.
                rewriter.erase(inner_op)
                continue
            inner_op.detach()
            innermost.add_op(inner_op)
        innermost.add_op(scf.YieldOp())
        rewriter.replace(op, loops[0], [])


@dataclass(frozen=True)
class OutlineParallelLoopsPass(ModulePass):
    """Outline each outermost scf.parallel into a per-thread function called with `compiler.parallel`.

    See the module docstring for the design. `sequential=true` skips
    outlining and runs every parallel loop on the calling thread.
    """

    name = "outline-parallel-loops"

    sequential: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.sequential:
            for caller in list(op.ops):
                if not isinstance(caller, func.FuncOp) or caller.is_declaration:
                    continue
                for loop in _outermost_parallel_loops(caller):
                    _outline(loop, op, caller)
        # The pattern acts on scf.parallel alone (no DCE): without one left, the
        # walk would visit every op for nothing. One visit each: the loops the
        # pattern creates are scf.for, never scf.parallel.
        if any(isinstance(inner, scf.ParallelOp) for inner in op.walk()):
            PatternRewriteWalker(ParallelToSequentialFor(), apply_recursively=False).rewrite_module(op)


def _outermost_parallel_loops(fn: func.FuncOp) -> list[scf.ParallelOp]:
    loops: list[scf.ParallelOp] = []
    for inner in fn.walk():
        if isinstance(inner, scf.ParallelOp) and not any(other.is_ancestor(inner) for other in loops):
            loops.append(inner)
    return loops
