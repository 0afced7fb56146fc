"""`convert-arith-to-llvm`: arith ops on scalars and 1-D vectors to llvm ops.

Index values become i64 (see `llvm_common`); every other type is kept, so an
`arith.addf` on `vector<16xf32>` becomes one `llvm.fadd` on the same vector
type. fastmath flags carry over unchanged: nothing here adds fast-math on its
own, because the default must be IEEE-exact.

The 1:1 ops are table-driven (one generic pattern); the ops that need more
than a rename have their own small pattern: constants, comparisons, index
casts, and the floor/ceil divisions that LLVM has no instruction for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    VectorType,
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
    OpTypedPattern,
    constant,
    convert_type,
    from_llvm,
    integer_attr,
    llvm_fastmath,
    to_llvm,
)

# arith op -> llvm op taking (lhs, rhs). Integer overflow flags are dropped on
# purpose: arith's nsw/nuw are rarely set upstream and dropping them is safe.
_INT_BINARY: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    arith.AddiOp: lambda a, b: llvm.AddOp(a, b),
    arith.SubiOp: lambda a, b: llvm.SubOp(a, b),
    arith.MuliOp: lambda a, b: llvm.MulOp(a, b),
    arith.DivSIOp: lambda a, b: llvm.SDivOp(a, b),
    arith.DivUIOp: lambda a, b: llvm.UDivOp(a, b),
    arith.RemSIOp: lambda a, b: llvm.SRemOp(a, b),
    arith.RemUIOp: lambda a, b: llvm.URemOp(a, b),
    arith.AndIOp: lambda a, b: llvm.AndOp(a, b),
    arith.OrIOp: lambda a, b: llvm.OrOp(a, b),
    arith.XOrIOp: lambda a, b: llvm.XOrOp(a, b),
    arith.ShLIOp: lambda a, b: llvm.ShlOp(a, b),
    arith.ShRSIOp: lambda a, b: llvm.AShrOp(a, b),
    arith.ShRUIOp: lambda a, b: llvm.LShrOp(a, b),
    arith.MaxSIOp: llvm_ext.SMaxOp,
    arith.MinSIOp: llvm_ext.SMinOp,
    arith.MaxUIOp: llvm_ext.UMaxOp,
    arith.MinUIOp: llvm_ext.UMinOp,
}

# arith op -> llvm op taking (lhs, rhs, fastmath).
_FLOAT_BINARY: dict[
    type[Operation], Callable[[SSAValue, SSAValue, llvm.FastMathAttr], Operation]
] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
    arith.MaximumfOp: llvm_ext.MaximumOp,
    arith.MinimumfOp: llvm_ext.MinimumOp,
    arith.MaxnumfOp: llvm.VectorFMaxOp,
    arith.MinnumfOp: llvm.VectorFMinOp,
}

# arith op -> llvm op taking (value, result type).
_CASTS: dict[type[Operation], Callable[[SSAValue, Attribute], Operation]] = {
    arith.ExtFOp: llvm.FPExtOp,
    arith.TruncFOp: llvm.FPTruncOp,
    arith.ExtSIOp: lambda v, t: llvm.SExtOp(v, t),
    arith.ExtUIOp: lambda v, t: llvm.ZExtOp(v, t),
    arith.TruncIOp: lambda v, t: llvm.TruncOp(v, t),
    arith.SIToFPOp: llvm.SIToFPOp,
    arith.UIToFPOp: llvm_ext.UIToFPOp,
    arith.FPToSIOp: llvm_ext.FPToSIOp,
    arith.FPToUIOp: llvm_ext.FPToUIOp,
    arith.BitcastOp: llvm.BitcastOp,
}


def _replace(op: Operation, new_op: Operation, rewriter: PatternRewriter) -> None:
    """Insert `new_op` and replace `op`'s result, casting back from i64 where it was index."""
    rewriter.insert(new_op)
    result = from_llvm(new_op.results[0], op.results[0].type, rewriter)
    rewriter.replace(op, [], [result])


class ElementwiseToLLVM(OpTypedPattern):
    """The 1:1 arith ops: binary integer/float ops and casts."""

    op_types = (*_INT_BINARY, *_FLOAT_BINARY, *_CASTS)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        kind = type(op)
        if kind in _INT_BINARY:
            lhs, rhs = (to_llvm(v, rewriter) for v in op.operands)
            _replace(op, _INT_BINARY[kind](lhs, rhs), rewriter)
        elif kind in _FLOAT_BINARY:
            lhs, rhs = (to_llvm(v, rewriter) for v in op.operands)
            flags = llvm_fastmath(op.properties.get("fastmath"))
            _replace(op, _FLOAT_BINARY[kind](lhs, rhs, flags), rewriter)
        elif kind in _CASTS:
            value = to_llvm(op.operands[0], rewriter)
            result_type = convert_type(op.results[0].type)
            _replace(op, _CASTS[kind](value, result_type), rewriter)


class NegfToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.NegfOp, rewriter: PatternRewriter, /) -> None:
        _replace(op, llvm.FNegOp(op.operand, llvm_fastmath(op.fastmath)), rewriter)


def _constant_attr(value: Attribute, type_: Attribute) -> Attribute:
    """The constant's value re-typed for llvm (index -> i64)."""
    if isinstance(value, IntegerAttr) and isinstance(value.type, IndexType):
        return integer_attr(value.value.data, i64)
    if isinstance(value, DenseIntOrFPElementsAttr) and isinstance(
        value.get_element_type(), IndexType
    ):
        assert isinstance(type_, VectorType)
        return DenseIntOrFPElementsAttr.from_list(type_, list(value.get_values()))  # type: ignore[arg-type]
    return value


class ConstantToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /) -> None:
        type_ = convert_type(op.result.type)
        value = op.value
        if not isinstance(value, IntegerAttr | FloatAttr | DenseIntOrFPElementsAttr):
            raise DiagnosticException(f"unsupported constant {value}")
        _replace(op, llvm.ConstantOp(_constant_attr(value, type_), type_), rewriter)


class CmpiToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpiOp, rewriter: PatternRewriter, /) -> None:
        name = arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]
        predicate = IntegerAttr(llvm.ICmpPredicateFlag(name).to_int(), i64)
        lhs, rhs = to_llvm(op.lhs, rewriter), to_llvm(op.rhs, rewriter)
        _replace(op, llvm.ICmpOp(lhs, rhs, predicate), rewriter)


class CmpfToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpfOp, rewriter: PatternRewriter, /) -> None:
        name = arith.CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]
        if name in ("false", "true"):
            # LLVM spells the constant predicates "false"/"true"; xDSL's enum "_false"/"_true".
            name = "_" + name
        _replace(op, llvm_ext.FCmpOp(op.lhs, op.rhs, name, llvm_fastmath(op.fastmath)), rewriter)


class SelectToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.SelectOp, rewriter: PatternRewriter, /) -> None:
        lhs = to_llvm(op.lhs, rewriter)
        rhs = to_llvm(op.rhs, rewriter)
        _replace(op, llvm_ext.SelectOp(op.cond, lhs, rhs), rewriter)


@dataclass
class IndexCastToLLVM(RewritePattern):
    """index_cast: sign-extend or truncate to the other width (a no-op for i64)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.IndexCastOp, rewriter: PatternRewriter, /) -> None:
        _lower_index_cast(op, op.input, signed=True, rewriter=rewriter)


class IndexCastUIToLLVM(RewritePattern):
    """index_castui: zero-extend or truncate."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if op.name != "arith.index_castui":
            return
        _lower_index_cast(op, op.operands[0], signed=False, rewriter=rewriter)


def _bitwidth(type_: Attribute) -> int:
    if isinstance(type_, VectorType):
        type_ = type_.element_type
    assert isinstance(type_, IntegerType)
    return type_.width.data


def _lower_index_cast(
    op: Operation, source: SSAValue, *, signed: bool, rewriter: PatternRewriter
) -> None:
    value = to_llvm(source, rewriter)
    target = convert_type(op.results[0].type)
    src_width, dst_width = _bitwidth(value.type), _bitwidth(target)
    if src_width == dst_width:
        rewriter.replace(op, [], [from_llvm(value, op.results[0].type, rewriter)])
        return
    if src_width > dst_width:
        new_op: Operation = llvm.TruncOp(value, target)
    elif signed:
        new_op = llvm.SExtOp(value, target)
    else:
        new_op = llvm.ZExtOp(value, target)
    _replace(op, new_op, rewriter)


class FloorCeilDivToLLVM(OpTypedPattern):
    """floordivsi / ceildivsi / ceildivui: a division plus a one-step correction.

    q = a / b (truncating); r = a % b. floor: q - 1 when r != 0 and r, b have
    different signs. ceil (signed): q + 1 when r != 0 and r, b have the same
    sign. ceil (unsigned): q + 1 when r != 0.
    """

    op_types = (arith.FloorDivSIOp, arith.CeilDivSIOp, arith.CeilDivUIOp)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not isinstance(op, arith.FloorDivSIOp | arith.CeilDivSIOp | arith.CeilDivUIOp):
            return
        lhs, rhs = (to_llvm(v, rewriter) for v in op.operands)
        type_ = lhs.type
        unsigned = isinstance(op, arith.CeilDivUIOp)
        quotient = rewriter.insert(llvm.UDivOp(lhs, rhs) if unsigned else llvm.SDivOp(lhs, rhs)).res
        remainder = rewriter.insert(
            llvm.URemOp(lhs, rhs) if unsigned else llvm.SRemOp(lhs, rhs)
        ).res
        zero = constant(0, type_, rewriter)
        one = constant(1, type_, rewriter)

        def icmp(pred: str, a: SSAValue, b: SSAValue) -> SSAValue:
            attr = IntegerAttr(llvm.ICmpPredicateFlag(pred).to_int(), i64)
            return rewriter.insert(llvm.ICmpOp(a, b, attr)).res

        inexact = icmp("ne", remainder, zero)
        if unsigned:
            needs_fix = inexact
        else:
            r_negative = icmp("slt", remainder, zero)
            b_negative = icmp("slt", rhs, zero)
            same_sign = icmp("eq", r_negative, b_negative)
            if isinstance(op, arith.FloorDivSIOp):
                sign_test = rewriter.insert(
                    llvm.XOrOp(same_sign, constant(1, same_sign.type, rewriter))
                ).res
            else:
                sign_test = same_sign
            needs_fix = rewriter.insert(llvm.AndOp(inexact, sign_test)).res
        if isinstance(op, arith.FloorDivSIOp):
            adjusted: Operation = llvm.SubOp(quotient, one)
        else:
            adjusted = llvm.AddOp(quotient, one)
        rewriter.insert(adjusted)
        _replace(op, llvm_ext.SelectOp(needs_fix, adjusted.results[0], quotient), rewriter)


ARITH_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (
    ElementwiseToLLVM(),
    NegfToLLVM(),
    ConstantToLLVM(),
    CmpiToLLVM(),
    CmpfToLLVM(),
    SelectToLLVM(),
    IndexCastToLLVM(),
    IndexCastUIToLLVM(),
    FloorCeilDivToLLVM(),
)


class ConvertArithToLLVMPass(ModulePass):
    """Lower every arith op (scalar or 1-D vector; index as i64) to the llvm dialect."""

    name = "convert-arith-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            DispatchingApplier(ARITH_TO_LLVM_PATTERNS),
            apply_recursively=False,
        ).rewrite_module(op)
