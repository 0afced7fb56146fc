"""Concat elimination: producers write straight into the slices of a concat.

TensorRT's concat elimination. A `graph.concat` of `@main` gets the unit
attribute `graph.in_place` (it then emits no kernel) when
docs/graph-contracts.md allows it:

- every dim of the result before `axis` is 1, so each operand lies in one
  contiguous byte range of the result;
- every operand is the single result of an op in `@main` (a graph op or a
  `graph.fused` group) that is used only by this concat (once), is not a
  model output, not a view (`reshape`, contiguous `slice`), not a constant
  and not a block argument. An operand that is itself a concat qualifies
  like any other op, so in-place concats nest.

Partial elimination (option `partial`, on by default): when some operands
qualify and others do not (in DenseNet every concat's first operand is the
previous concat, which the next layer also reads; after `fuse-horizontal`
an Inception concat reads a view of the wide 1x1 conv), each maximal run of
consecutive non-qualifying operands becomes a smaller `graph.concat` (one
operand: a plain copy) whose result feeds the outer concat. The smaller
concat copies only its operands into its slice of the outer buffer; the
outer concat is in place, so the qualifying producers still write straight
into theirs. A concat where no operand qualifies is left alone.

It must run after `fuse-ops`: it reasons about each value's producer and
consumers, which fusion changes (a ReLU fused into a conv's group makes the
group, not the ReLU, the producer). Each run first clears the flags of
`@main`, then re-derives them, so running it again after another pass is
safe; a pass that runs after it must keep the conditions above (do not CSE
or fold the small copy concats away afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.dialects import graph as g

IN_PLACE = "graph.in_place"


def is_view(op: Operation) -> bool:
    """Whether `op` is a view by the contract; defers to plan-memory's helper."""
    try:
        from compiler.passes.memory import is_view as contract_is_view  # pyright: ignore
    except ImportError:
        pass
    else:
        return bool(contract_is_view(op))
    if isinstance(op, g.ReshapeOp):
        return True
    if not isinstance(op, g.SliceOp):
        return False
    if any(s != 1 for s in op.ints("strides")):
        return False
    src, dst = g.shape_of(op.input), g.shape_of(op.result)
    sliced = [d for d, (a, b) in enumerate(zip(src, dst, strict=True)) if a != b]
    if not sliced:
        return True
    first = sliced[0]
    return all(n == 1 for n in src[:first]) and all(src[d] == dst[d] for d in range(first + 1, len(src)))


def qualifies(value: SSAValue, concat: g.ConcatOp) -> bool:
    """Whether `value`'s producer may write straight into its slice of `concat`."""
    if not isinstance(value, OpResult):
        return False  # a block argument (model input) lives in the caller's buffer
    producer = value.op
    if isinstance(producer, g.ConstantOp) or len(producer.results) != 1:
        return False
    if not isinstance(producer, g.GraphOp | g.FusedOp) or producer.parent is not concat.parent:
        return False
    if is_view(producer):
        return False
    # One use, by this concat: so not a model output (func.return would be a
    # second use), and not an operand twice of this concat.
    use = value.get_unique_use()
    return use is not None and use.operation is concat


def contiguous(concat: g.ConcatOp) -> bool:
    """Every dim before the axis is 1: each operand is one contiguous byte range."""
    axis = concat.int_prop("axis")
    return all(n == 1 for n in g.shape_of(concat.result)[:axis])


def _split_runs(concat: g.ConcatOp) -> g.ConcatOp | None:
    """The concat with each run of non-qualifying operands copied by a smaller concat."""
    operands = list(concat.operands)
    ok = [qualifies(v, concat) for v in operands]
    if not any(ok):
        return None
    axis = concat.int_prop("axis")
    new_operands: list[SSAValue] = []
    run: list[SSAValue] = []

    def flush() -> None:
        if run:
            copy = g.ConcatOp.make(list(run), axis=axis)
            copy.attributes.update({k: v for k, v in concat.attributes.items() if k != IN_PLACE})
            Rewriter.insert_op(copy, InsertPoint.before(concat))
            if concat.result.name_hint is not None:
                copy.result.name_hint = concat.result.name_hint + "_copy"
            new_operands.append(copy.result)
            run.clear()

    for value, good in zip(operands, ok, strict=True):
        if good:
            flush()
            new_operands.append(value)
        else:
            run.append(value)
    flush()
    outer = g.ConcatOp.make(new_operands, axis=axis)
    outer.attributes.update(concat.attributes)
    Rewriter.replace_op(concat, outer)
    if concat.result.name_hint is not None:
        outer.result.name_hint = concat.result.name_hint
    return outer


def main_function(module: ModuleOp) -> func.FuncOp | None:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    return None


@dataclass(frozen=True)
class EliminateConcatPass(ModulePass):
    """Marks concats whose operands can be written in place `graph.in_place`."""

    name = "eliminate-concat"

    partial: bool = True
    """Copy the non-qualifying operands with a smaller concat instead of giving up."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        fn = main_function(op)
        if fn is None:
            return
        block = fn.body.block
        concats = [c for c in block.ops if isinstance(c, g.ConcatOp)]
        for concat in concats:
            concat.attributes.pop(IN_PLACE, None)
        for concat in concats:
            if not contiguous(concat):
                continue
            if all(qualifies(v, concat) for v in concat.operands):
                concat.attributes[IN_PLACE] = UnitAttr()
            elif self.partial and (outer := _split_runs(concat)) is not None:
                outer.attributes[IN_PLACE] = UnitAttr()
