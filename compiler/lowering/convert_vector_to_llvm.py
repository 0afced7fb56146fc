"""`convert-vector-to-llvm`: 1-D vector ops to llvm vector instructions and intrinsics.

- `vector.load/store` -> GEP + `llvm.load/store` with the *element* alignment.
  LLVM assumes the ABI alignment of the whole vector type (64 bytes for
  vector<16xf32>) when none is given, and vector loads from a row interior
  are rarely that aligned; a wrong claim would compile to a faulting aligned
  move.
- `vector.maskedload/maskedstore` -> `llvm.intr.masked.load/store`.
- `vector.broadcast` of a scalar -> insertelement + shufflevector with a zero
  mask (the canonical splat LLVM matches to vbroadcastss).
- `vector.fma` -> `llvm.intr.fma`; `vector.extract/insert` of one element ->
  extractelement/insertelement; `vector.shuffle` -> shufflevector;
  `vector.bitcast` -> bitcast; `vector.create_mask` -> `iota < n`.
- `vector.reduction` -> `llvm.intr.vector.reduce.*`. Float add/mul stay
  ordered (sequential) unless the op carries `reassoc`, as in MLIR.

Only 1-D vectors are supported, which is what the scheduled loop nests produce.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects import llvm, vector
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    VectorType,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException

from compiler.dialects import llvm_ext
from compiler.lowering.llvm_common import (
    DispatchingApplier,
    constant,
    convert_type,
    element_bytes,
    element_pointer,
    from_llvm,
    i64_constant,
    llvm_fastmath,
    to_llvm,
)


def _vector_type(type_: Attribute) -> VectorType:
    if not isinstance(type_, VectorType) or len(type_.get_shape()) != 1:
        raise DiagnosticException(f"only 1-D vectors are supported, got {type_}")
    return type_


def _alignment(memref_type: Attribute) -> int:
    assert isinstance(memref_type, MemRefType)
    return element_bytes(memref_type.element_type)


def _is_bool_vector(type_: Attribute) -> bool:
    return isinstance(type_, VectorType) and type_.element_type == IntegerType(1)


def _as_bytes(type_: VectorType) -> VectorType:
    return VectorType(IntegerType(8), type_.get_shape())


class LoadToLLVM(RewritePattern):
    """A vector<N x i1> is loaded as N bytes: in memory LLVM packs i1 vectors into bits,
    while a memref<... x i1> (and numpy's bool) holds one byte per element."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.LoadOp, rewriter: PatternRewriter, /) -> None:
        result_type = _vector_type(op.result.type)
        pointer = element_pointer(op.base, op.indices, rewriter)
        alignment = _alignment(op.base.type)
        if _is_bool_vector(result_type):
            load = rewriter.insert(
                llvm.LoadOp(pointer, _as_bytes(result_type), alignment=alignment)
            )
            bits = rewriter.insert(llvm.TruncOp(load.dereferenced_value, result_type)).res
            rewriter.replace(op, [], [bits])
            return
        load = rewriter.insert(llvm.LoadOp(pointer, convert_type(result_type), alignment=alignment))
        rewriter.replace(op, [], [from_llvm(load.dereferenced_value, result_type, rewriter)])


class StoreToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.StoreOp, rewriter: PatternRewriter, /) -> None:
        vector_type = _vector_type(op.vector.type)
        pointer = element_pointer(op.base, op.indices, rewriter)
        value = to_llvm(op.vector, rewriter)
        if _is_bool_vector(vector_type):
            value = rewriter.insert(llvm.ZExtOp(value, _as_bytes(vector_type))).res
        rewriter.replace(op, llvm.StoreOp(value, pointer, alignment=_alignment(op.base.type)))


class MaskedLoadToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.MaskedLoadOp, rewriter: PatternRewriter, /) -> None:
        pointer = element_pointer(op.base, op.indices, rewriter)
        load = rewriter.insert(
            llvm_ext.MaskedLoadOp(
                pointer, op.mask, to_llvm(op.pass_thru, rewriter), _alignment(op.base.type)
            )
        )
        rewriter.replace(op, [], [from_llvm(load.res, op.result.type, rewriter)])


class MaskedStoreToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.MaskedStoreOp, rewriter: PatternRewriter, /) -> None:
        pointer = element_pointer(op.base, op.indices, rewriter)
        rewriter.replace(
            op,
            llvm_ext.MaskedStoreOp(
                to_llvm(op.value_to_store, rewriter), pointer, op.mask, _alignment(op.base.type)
            ),
        )


def splat(value: SSAValue, vector_type: VectorType, rewriter: PatternRewriter) -> SSAValue:
    """insertelement into lane 0 of undef, then shuffle lane 0 everywhere."""
    undef = rewriter.insert(llvm.UndefOp(vector_type)).res
    lane0 = i64_constant(0, rewriter)
    inserted = rewriter.insert(llvm.InsertElementOp(undef, value, lane0)).res
    (width,) = vector_type.get_shape()
    mask = DenseArrayBase.from_list(i32, [0] * width)
    return rewriter.insert(llvm.ShuffleVectorOp(inserted, inserted, mask, vector_type)).res


class BroadcastToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.BroadcastOp, rewriter: PatternRewriter, /) -> None:
        result_type = _vector_type(op.vector.type)
        llvm_type = convert_type(result_type)
        assert isinstance(llvm_type, VectorType)
        source = to_llvm(op.source, rewriter)
        if isinstance(source.type, VectorType):
            (width,) = _vector_type(source.type).get_shape()
            if source.type == llvm_type:
                rewriter.replace(op, [], [from_llvm(source, result_type, rewriter)])
                return
            if width != 1:
                raise DiagnosticException(f"cannot broadcast {source.type} to {result_type}")
            source = rewriter.insert(
                llvm_ext.ExtractElementOp(source, i64_constant(0, rewriter))
            ).res
        result = splat(source, llvm_type, rewriter)
        rewriter.replace(op, [], [from_llvm(result, result_type, rewriter)])


class FMAToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.FMAOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm.FMAOp(op.lhs, op.rhs, op.acc))


def _position(op: vector.ExtractOp | vector.InsertOp, rewriter: PatternRewriter) -> SSAValue:
    positions = list(op.static_position.iter_values())
    if len(positions) != 1:
        raise DiagnosticException(f"{op.name} needs exactly one position on a 1-D vector")
    if positions[0] == DYNAMIC_INDEX:
        return to_llvm(op.dynamic_position[0], rewriter)
    return i64_constant(positions[0], rewriter)


class ExtractToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ExtractOp, rewriter: PatternRewriter, /) -> None:
        _vector_type(op.vector.type)
        if isinstance(op.result.type, VectorType):
            raise DiagnosticException("vector.extract of a sub-vector is not supported")
        element = rewriter.insert(
            llvm_ext.ExtractElementOp(to_llvm(op.vector, rewriter), _position(op, rewriter))
        ).res
        rewriter.replace(op, [], [from_llvm(element, op.result.type, rewriter)])


class InsertToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.InsertOp, rewriter: PatternRewriter, /) -> None:
        _vector_type(op.dest.type)
        if isinstance(op.source.type, VectorType):
            raise DiagnosticException("vector.insert of a sub-vector is not supported")
        inserted = rewriter.insert(
            llvm.InsertElementOp(
                to_llvm(op.dest, rewriter), to_llvm(op.source, rewriter), _position(op, rewriter)
            )
        ).res
        rewriter.replace(op, [], [from_llvm(inserted, op.result.type, rewriter)])


class ShuffleToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ShuffleOp, rewriter: PatternRewriter, /) -> None:
        v1, v2 = to_llvm(op.v1, rewriter), to_llvm(op.v2, rewriter)
        if v1.type != v2.type:
            raise DiagnosticException(
                "vector.shuffle of vectors of different types is not supported"
            )
        mask = DenseArrayBase.from_list(i32, list(op.mask.iter_values()))
        result_type = convert_type(op.result.type)
        shuffled = rewriter.insert(llvm.ShuffleVectorOp(v1, v2, mask, result_type)).res
        rewriter.replace(op, [], [from_llvm(shuffled, op.result.type, rewriter)])


class BitcastToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.BitcastOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(
            op, llvm.BitcastOp(to_llvm(op.source, rewriter), convert_type(op.result.type))
        )


class CreateMaskToLLVM(RewritePattern):
    """`vector.create_mask %n : vector<Wxi1>` -> `[0, 1, .., W-1] < splat(n)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.CreateMaskOp, rewriter: PatternRewriter, /) -> None:
        mask_type = _vector_type(op.mask_vector.type)
        (width,) = mask_type.get_shape()
        index_type = VectorType(i64, [width])
        iota = rewriter.insert(
            llvm.ConstantOp(
                DenseIntOrFPElementsAttr.from_list(index_type, list(range(width))), index_type
            )
        ).result
        bound = splat(to_llvm(op.mask_dim_sizes[0], rewriter), index_type, rewriter)
        predicate = IntegerAttr(llvm.ICmpPredicateFlag.SLT.to_int(), i64)
        rewriter.replace(op, llvm.ICmpOp(iota, bound, predicate))


_INT_REDUCTIONS: dict[
    str, tuple[Callable[[SSAValue], Operation], Callable[[SSAValue, SSAValue], Operation]]
] = {
    "add": (llvm_ext.VectorReduceAddOp, lambda a, b: llvm.AddOp(a, b)),
    "mul": (llvm_ext.VectorReduceMulOp, lambda a, b: llvm.MulOp(a, b)),
    "and": (llvm_ext.VectorReduceAndOp, lambda a, b: llvm.AndOp(a, b)),
    "or": (llvm_ext.VectorReduceOrOp, lambda a, b: llvm.OrOp(a, b)),
    "xor": (llvm_ext.VectorReduceXorOp, lambda a, b: llvm.XOrOp(a, b)),
    "maxsi": (llvm_ext.VectorReduceSMaxOp, llvm_ext.SMaxOp),
    "minsi": (llvm_ext.VectorReduceSMinOp, llvm_ext.SMinOp),
    "maxui": (llvm_ext.VectorReduceUMaxOp, llvm_ext.UMaxOp),
    "minui": (llvm_ext.VectorReduceUMinOp, llvm_ext.UMinOp),
}

_FloatCombine = Callable[[SSAValue, SSAValue, llvm.FastMathAttr], Operation]
_FLOAT_REDUCTIONS: dict[str, tuple[type[llvm_ext.VectorReduceOp], _FloatCombine]] = {
    "maxnumf": (llvm_ext.VectorReduceFMaxOp, llvm.VectorFMaxOp),
    "minnumf": (llvm_ext.VectorReduceFMinOp, llvm.VectorFMinOp),
    "maximumf": (llvm_ext.VectorReduceFMaximumOp, llvm_ext.MaximumOp),
    "minimumf": (llvm_ext.VectorReduceFMinimumOp, llvm_ext.MinimumOp),
}


class ReductionToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ReductionOp, rewriter: PatternRewriter, /) -> None:
        kind = op.kind.data.value
        source = to_llvm(op.vector, rewriter)
        vector_type = _vector_type(source.type)
        element = vector_type.element_type
        flags = llvm_fastmath(op.fastmath)
        acc = to_llvm(op.acc, rewriter) if op.acc is not None else None
        if isinstance(element, IntegerType):
            if kind not in _INT_REDUCTIONS:
                raise DiagnosticException(f"vector.reduction <{kind}> on integers is not supported")
            reduce, combine = _INT_REDUCTIONS[kind]
            result = rewriter.insert(reduce(source)).results[0]
            if acc is not None:
                result = rewriter.insert(combine(result, acc)).results[0]
        elif kind in ("add", "mul"):
            # fadd/fmul reductions take their start value as an operand; the
            # neutral start of an ordered fadd is -0.0 (x + -0.0 == x for every x).
            start = (
                acc
                if acc is not None
                else constant(-0.0 if kind == "add" else 1.0, element, rewriter)
            )
            reduce_op = llvm.VectorReduceFAddOp if kind == "add" else llvm.VectorReduceFMulOp
            result = rewriter.insert(reduce_op(start, source, flags)).results[0]
        elif kind in _FLOAT_REDUCTIONS:
            reduce_f, combine_f = _FLOAT_REDUCTIONS[kind]
            result = rewriter.insert(reduce_f(source, flags)).results[0]
            if acc is not None:
                result = rewriter.insert(combine_f(result, acc, flags)).results[0]
        else:
            raise DiagnosticException(f"vector.reduction <{kind}> on floats is not supported")
        rewriter.replace(op, [], [from_llvm(result, op.dest.type, rewriter)])


VECTOR_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (
    LoadToLLVM(),
    StoreToLLVM(),
    MaskedLoadToLLVM(),
    MaskedStoreToLLVM(),
    BroadcastToLLVM(),
    FMAToLLVM(),
    ExtractToLLVM(),
    InsertToLLVM(),
    ShuffleToLLVM(),
    BitcastToLLVM(),
    CreateMaskToLLVM(),
    ReductionToLLVM(),
)


class ConvertVectorToLLVMPass(ModulePass):
    """Lower 1-D vector ops (memory, lanes, reductions) to llvm vector ops and intrinsics."""

    name = "convert-vector-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            DispatchingApplier(VECTOR_TO_LLVM_PATTERNS),
            apply_recursively=False,
        ).rewrite_module(op)
