"""`convert-precision{precision=fp16|bf16}`: an FP32 model's weights and
activations in 16-bit floats, numerically sensitive ops kept in f32.

The idea is onnxruntime's float16 converter (onnxconverter-common's
`convert_float_to_float16`): every op whose float tensors are f32 is retyped
to the 16-bit type, its f32 weights are converted once at compile time, and
a small block list of ops stays in f32 with casts around it. Halving the
bytes of weights and activations is the point; the kernels still compute in
f32 (see `widen-half-floats`), so what is lost is the rounding of stored
tensors. The model's inputs and outputs keep their f32 types (cast at the
edges), so a converted model is a drop-in replacement.

Kept in f32 (`F32_OPS`), where 16-bit storage of the input or the result
costs accuracy or range: softmax and log-softmax (exponentials of logits),
normalizations (layer norm, LRN: sums of squares overflow f16), and
reductions (sums and means of many terms). Three more rules keep BF16's
8-bit mantissa from compounding (BERT-like encoders lose 2e-2 without them):

- an op reading the result of a block-listed op stays f32: `x - mean(x)`
  of a decomposed layer norm cancels, so the mean must not be rounded, and
  the matmul after a layer norm reads it unrounded;
- an add feeding a kept op stays f32: the residual stream of a transformer
  (`x + f(x)` into a layer norm) is not rounded at every layer;
- the ops that produce the model's outputs stay f32, back through unary
  element-wise ops to the first other op (a classifier's Gemm before its
  Tanh or Relu): the outputs are f32 anyway, so rounding them buys nothing;
- the logits of a softmax stay f32, back through element-wise ops to the
  matmul that makes them (attention scores: an absolute error in a logit is
  a relative error in its probability).

Runs on the graph dialect after import and before `graph-optimize`. The
driver folds batch norms into their convolutions first (in f32), so that
each folded weight is rounded to 16 bits once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import BFloat16Type, Float16Type, Float32Type, ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.errors import CompilerError

F32_OPS: tuple[type[Operation], ...] = (
    g.SoftmaxOp,
    g.LogSoftmaxOp,
    g.LayerNormOp,
    g.LRNOp,
    g.ReduceOp,
)
"""Ops that stay in f32 (onnxconverter-common's block list, for our op set)."""

PRECISIONS: dict[str, Attribute] = {"fp16": Float16Type(), "bf16": BFloat16Type()}


def _is_f32_tensor(type_: Attribute) -> bool:
    return isinstance(type_, TensorType) and type_.get_element_type() == Float32Type()


def _retyped(type_: TensorType, element: Attribute) -> TensorType:
    return TensorType(element, type_.get_shape())


def _walk_back(value: SSAValue, through: tuple[type[Operation], ...], into: set[Operation]) -> None:
    """Add value's producer to `into`, and theirs while the producer is one of `through`."""
    op = value.owner
    if not isinstance(op, g.GraphOp) or isinstance(op, g.ConstantOp) or op in into:
        return
    into.add(op)
    if isinstance(op, through):
        for operand in op.operands:
            _walk_back(operand, through, into)


def _near_f32_ends(fn: func.FuncOp) -> set[Operation]:
    """The ops producing the function's results (back through unary ops) and
    softmax logits (back through element-wise ops)."""
    kept: set[Operation] = set()
    ret = fn.body.block.last_op
    for value in ret.operands if ret is not None else ():
        _walk_back(value, (g.UnaryOp,), kept)
    for op in fn.body.block.ops:
        if isinstance(op, (g.SoftmaxOp, g.LogSoftmaxOp)):
            _walk_back(op.operands[0], (g.UnaryOp, g.BinaryOp), kept)
    return kept


def _kept_in_f32(op: Operation, producers: set[Operation]) -> bool:
    """The rules of the module docstring: block-listed ops and the ops next to them."""
    if isinstance(op, F32_OPS) or op in producers:
        return True
    if any(isinstance(operand.owner, F32_OPS) for operand in op.operands):
        return True
    return isinstance(op, g.AddOp) and any(
        isinstance(use.operation, F32_OPS) for result in op.results for use in result.uses
    )


def _convertible(op: Operation, converted: set[SSAValue], producers: set[Operation]) -> bool:
    """Whether `op` computes on f32 tensors (some already made 16-bit: `converted`)
    and may take 16-bit ones instead."""
    if not isinstance(op, g.GraphOp) or _kept_in_f32(op, producers):
        return False
    values = [v for v in (*op.operands, *op.results) if isinstance(v.type, TensorType)]
    floats = [v for v in values if dtypes.is_float(v.type.get_element_type())]  # type: ignore[union-attr]
    return bool(floats) and all(v in converted or _is_f32_tensor(v.type) for v in floats)


@dataclass(frozen=True)
class ConvertPrecisionPass(ModulePass):
    """f32 weights and activations -> fp16 or bf16, F32_OPS kept in f32."""

    name = "convert-precision"

    precision: str = "fp16"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.precision not in PRECISIONS:
            raise CompilerError(
                f"precision {self.precision!r} is not supported", hint="use fp16 or bf16"
            )
        half = PRECISIONS[self.precision]
        for fn in op.ops:
            if isinstance(fn, func.FuncOp) and fn.body.blocks:
                _convert_function(fn, half)


def _convert_function(fn: func.FuncOp, half: Attribute) -> None:
    rewriter = Rewriter()
    as_half: dict[SSAValue, SSAValue] = {}
    as_f32: dict[SSAValue, SSAValue] = {}
    converted: set[SSAValue] = set()  # results retyped to the 16-bit type
    producers = _near_f32_ends(fn)

    def half_of(value: SSAValue, before: Operation) -> SSAValue:
        if value not in as_half:
            owner = value.owner
            if isinstance(owner, g.ConstantOp):
                new: Operation = _half_constant(owner, half)
                rewriter.insert_op(new, InsertPoint.after(owner))
                new.results[0].name_hint = owner.results[0].name_hint
            else:
                assert isinstance(value.type, TensorType)
                new = g.CastOp.make([value], [_retyped(value.type, half)])
                rewriter.insert_op(new, InsertPoint.before(before))
            as_half[value] = new.results[0]
        return as_half[value]

    def f32_of(value: SSAValue, before: Operation) -> SSAValue:
        if value not in as_f32:
            assert isinstance(value.type, TensorType)
            cast = g.CastOp.make([value], [_retyped(value.type, Float32Type())])
            rewriter.insert_op(cast, InsertPoint.before(before))
            as_f32[value] = cast.results[0]
        return as_f32[value]

    for op in list(fn.body.block.ops):
        if isinstance(op, g.ConstantOp):
            continue  # converted where a 16-bit op uses it
        if _convertible(op, converted, producers):
            for i, operand in enumerate(op.operands):
                if _is_f32_tensor(operand.type) and operand not in converted:
                    op.operands[i] = half_of(operand, op)
            for result in op.results:
                if _is_f32_tensor(result.type):
                    assert isinstance(result.type, TensorType)
                    new = rewriter.replace_value_with_new_type(result, _retyped(result.type, half))
                    converted.add(new)
        else:
            for i, operand in enumerate(op.operands):
                if operand in converted:
                    op.operands[i] = f32_of(operand, op)
    for op in list(fn.body.block.ops):
        if isinstance(op, g.ConstantOp) and not op.result.uses:
            rewriter.erase_op(op)


def _half_constant(const: g.ConstantOp, half: Attribute) -> g.ConstantOp:
    """The constant converted at compile time (a splat stays a splat)."""
    value = const.value
    array = dtypes.dense_to_numpy(value)
    target = dtypes.to_numpy_dtype(half)
    if len(value.data.data) == 4 and array.size != 1:
        return g.ConstantOp(
            dtypes.dense_splat(np.asarray(array.reshape(-1)[:1]).astype(target), array.shape, half)
        )
    return g.ConstantOp.from_numpy(np.asarray(array).astype(target), half)
