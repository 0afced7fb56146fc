"""`convert-loop-to-scf`: lower `loop.for` nests to upstream scf/arith/vector ops.

Loops are lowered innermost first, by annotation:

- serial (and GPU bindings, which run serially on the CPU): `scf.for` over
  `arith.constant` index bounds; a loop of one iteration becomes its body,
  a loop of none disappears;
- unroll: the body cloned once per iteration, with the induction variable a
  constant (no loop is left);
- parallel: a one-dimensional `scf.parallel` with static bounds and the empty
  `scf.reduce` terminator (outlining it onto threads is a later pass), with
  the schedule's chunk count (`loop.chunks`) as its `compiler.chunks`;
- vectorize: explicit vector code (see `loop_vectorizer`): chunks of VL lanes
  then smaller chunks and scalar code for the rest. A loop that cannot be vectorized safely stays serial,
  with the reason in a `loop.not_vectorized` attribute on its `scf.for`
  (and on stderr with `remarks=true`).

The output holds only func, scf, arith, math, memref and vector ops.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType, ModuleOp, StringAttr, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from compiler.dialects.allreduce import OPS, AllReduceOp
from compiler.dialects.loop import PARALLEL, UNROLL, VECTORIZE, ForOp, YieldOp
from compiler.lowering.dot_product import lower_dot
from compiler.lowering.loop_vectorizer import VECTORIZE_REMARK_ATTR, clone_body, vectorize
from compiler.lowering.outline_parallel_loops import CHUNKS_ATTR as SCF_CHUNKS_ATTR
from compiler.schedule.dot import DOT_ATTR
from compiler.schedule.primitives import CHUNKS_ATTR as LOOP_CHUNKS_ATTR


def _const(n: int, ops: list[Operation]) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr(n, IndexType()))
    ops.append(op)
    return op.result


def _move_body(loop: ForOp, block: Block) -> None:
    """Move the loop body (minus its terminator) into `block`, rebinding the IV."""
    loop.iv.replace_all_uses_with(block.args[0])
    for op in list(loop.body.block.ops):
        if isinstance(op, YieldOp):
            continue
        op.detach()
        block.add_op(op)


def lower_serial(loop: ForOp) -> list[Operation]:
    ops: list[Operation] = []
    trips = loop.trip_count
    if trips == 0:
        return ops
    if trips == 1:
        iv = _const(loop.lower, ops)
        loop.iv.replace_all_uses_with(iv)
        for op in list(loop.body.block.ops):
            if not isinstance(op, YieldOp):
                op.detach()
                ops.append(op)
        return ops
    lb, ub, step = _const(loop.lower, ops), _const(loop.upper, ops), _const(loop.stride, ops)
    block = Block(arg_types=[IndexType()])
    block.args[0].name_hint = loop.iv.name_hint
    _move_body(loop, block)
    block.add_op(scf.YieldOp())
    ops.append(scf.ForOp(lb, ub, step, [], block))
    return ops


def lower_unroll(loop: ForOp) -> list[Operation]:
    ops: list[Operation] = []
    for k in range(loop.trip_count):
        iv = _const(loop.lower + k * loop.stride, ops)
        ops.extend(clone_body(loop, iv))
    return ops


def lower_parallel(loop: ForOp) -> list[Operation]:
    ops: list[Operation] = []
    if loop.trip_count == 0:
        return ops
    lb, ub, step = _const(loop.lower, ops), _const(loop.upper, ops), _const(loop.stride, ops)
    block = Block(arg_types=[IndexType()])
    block.args[0].name_hint = loop.iv.name_hint
    _move_body(loop, block)
    block.add_op(scf.ReduceOp())
    parallel = scf.ParallelOp([lb], [ub], [step], Region(block))
    chunks = loop.attributes.get(LOOP_CHUNKS_ATTR)
    if isinstance(chunks, IntegerAttr):
        parallel.attributes[SCF_CHUNKS_ATTR] = IntegerAttr(chunks.value.data, i64)
    ops.append(parallel)
    return ops


def serial_allreduce(op: AllReduceOp) -> None:
    """A GPU row reduction's combine on the CPU: fold the partials into the accumulator in order."""
    partials = op.partial.type
    assert isinstance(partials, MemRefType)
    loop = ForOp(0, partials.get_shape()[0], 1, f"allreduce.{id(op)}")
    indices = list(op.acc_indices)
    current = memref.LoadOp.get(op.acc, indices)
    partial = memref.LoadOp.get(op.partial, [loop.iv])
    combined = OPS[op.combiner.data](current.res, partial.res)  # type: ignore[call-arg]
    store = memref.StoreOp.get(combined.results[0], op.acc, indices)
    loop.body.block.insert_ops_before([current, partial, combined, store], loop.body.block.last_op)
    block = op.parent_block()
    assert block is not None
    block.insert_op_before(loop, op)
    op.detach()
    op.erase()


@dataclass(frozen=True)
class ConvertLoopToScf(ModulePass):
    """Lower every `loop.for` to scf.for / scf.parallel / unrolled / vector code."""

    name = "convert-loop-to-scf"

    vector_bits: int = 512
    """Width of one SIMD register (AVX-512: 512); VL = vector_bits / element bits."""

    fma: bool = True
    """Contract a vectorized mulf feeding a single addf into vector.fma."""

    remarks: bool = False
    """Print why a vectorize loop stayed scalar on stderr."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for combine in [o for o in op.walk() if isinstance(o, AllReduceOp)]:
            serial_allreduce(combine)
        for loop in [o for o in op.walk() if isinstance(o, ForOp) and DOT_ATTR in o.attributes]:
            self.lower_dot(loop)
        loops = [o for o in op.walk() if isinstance(o, ForOp)]
        # Innermost first: a loop's body is plain upstream code when it is lowered
        # (unrolled loops inside a vectorized loop are straight-line by then).
        for loop in reversed(loops):
            self.lower(loop)

    def lower_dot(self, loop: ForOp) -> None:
        """A `dot`-marked loop as dot-product intrinsics; else it stays for the vectorizer."""
        result = lower_dot(loop, self.vector_bits)
        if isinstance(result, str):
            del loop.attributes[DOT_ATTR]
            if self.remarks:
                print(f"remark: loop '{loop.axis_name}' has no dot product: {result}", file=sys.stderr)
            return
        block = loop.parent_block()
        assert block is not None
        block.insert_ops_before(result, loop)
        loop.detach()
        loop.erase()

    def lower(self, loop: ForOp) -> None:
        kind = loop.kind
        reason: str | None = None
        if kind == UNROLL:
            ops = lower_unroll(loop)
        elif kind == PARALLEL:
            ops = lower_parallel(loop)
        elif kind == VECTORIZE:
            result = vectorize(loop, self.vector_bits, fma=self.fma)
            if isinstance(result, str):
                reason = result
                ops = lower_serial(loop)
            else:
                ops = result
        else:
            ops = lower_serial(loop)
        if reason is not None:
            for o in ops:
                if isinstance(o, scf.ForOp):
                    o.attributes[VECTORIZE_REMARK_ATTR] = StringAttr(reason)
            if self.remarks:
                print(
                    f"remark: loop '{loop.axis_name}' not vectorized: {reason}",
                    file=sys.stderr,
                )
        block = loop.parent_block()
        assert block is not None
        block.insert_ops_before(ops, loop)
        loop.detach()
        loop.erase()
