"""`convert-math-to-llvm`: math ops to LLVM intrinsics, or to libm calls.

Where LLVM has an intrinsic (`llvm.exp`, `llvm.tanh`, `llvm.sqrt`,
`llvm.roundeven`, ...) the op becomes that intrinsic on the same scalar or
vector type; the backend picks an instruction (sqrt, floor, fma on AVX-512)
or a libm call per lane (expf, tanhf). `math.rsqrt` is `1 / sqrt(x)`: exact
division, because an approximate reciprocal is not IEEE-exact.

The rest (erf, expm1, log1p, cbrt, asinh, acosh, atanh) call the C library
(`erff`, `expm1f`, ... or the double versions) directly; a vector op is
unrolled into one call per lane.

Scalar libm calls are correct but slow on vectors, so with `approximate=true`
(the default) f32 `exp`, `tanh` and `erf` (scalar or vector) become the
straight-line FMA polynomials of `math_approximations` instead, accurate to
about 4e-7 relative. Sigmoid-like expressions (1 / (1 + exp(-x))) benefit
through exp. f64 keeps the exact routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm, math
from xdsl.dialects.builtin import Float32Type, Float64Type, ModuleOp, VectorType
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
    declare_function,
    enclosing_module,
    i64_constant,
    llvm_fastmath,
)
from compiler.lowering.math_approximations import approximate, is_f32_like

_Unary = Callable[[SSAValue, llvm.FastMathAttr], Operation]
_Binary = Callable[[SSAValue, SSAValue, llvm.FastMathAttr], Operation]

_UNARY_INTRINSICS: dict[type[Operation], _Unary] = {
    math.AbsFOp: lambda x, f: llvm.FAbsOp(x, x.type, f),
    math.ExpOp: llvm.FExpOp,
    math.Exp2Op: llvm.FExp2Op,
    math.LogOp: llvm.FLogOp,
    math.Log2Op: llvm.FLog2Op,
    math.Log10Op: llvm_ext.Log10Op,
    math.SqrtOp: llvm.FSqrtOp,
    math.SinOp: llvm.FSinOp,
    math.CosOp: llvm.FCosOp,
    math.TanOp: llvm_ext.TanOp,
    math.AsinOp: llvm_ext.ASinOp,
    math.AcosOp: llvm_ext.ACosOp,
    math.AtanOp: llvm_ext.ATanOp,
    math.SinhOp: llvm_ext.SinhOp,
    math.CoshOp: llvm_ext.CoshOp,
    math.TanhOp: llvm_ext.TanhOp,
    math.FloorOp: llvm.FFloorOp,
    math.CeilOp: llvm.FCeilOp,
    math.TruncOp: llvm_ext.TruncFOp,
    math.RoundOp: llvm_ext.RoundOp,
    math.RoundEvenOp: llvm_ext.RoundEvenOp,
}

_BINARY_INTRINSICS: dict[type[Operation], _Binary] = {
    math.PowFOp: llvm.FPowOp,
    math.CopySignOp: llvm.FCopySignOp,
    math.Atan2Op: llvm_ext.ATan2Op,
}

# math op -> C library function name (float version; double drops the `f`).
_LIBM: dict[type[Operation], str] = {
    math.ErfOp: "erff",
    math.ExpM1Op: "expm1f",
    math.Log1pOp: "log1pf",
    math.CbrtOp: "cbrtf",
    math.AsinhOp: "asinhf",
    math.AcoshOp: "acoshf",
    math.AtanhOp: "atanhf",
}


_APPROXIMATED: dict[type[Operation], str] = {
    math.ExpOp: "exp",
    math.TanhOp: "tanh",
    math.ErfOp: "erf",
}


class ApproximateToLLVM(OpTypedPattern):
    """f32 exp/tanh/erf -> vectorizable polynomials (see `math_approximations`)."""

    op_types = tuple(_APPROXIMATED)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        kind = _APPROXIMATED.get(type(op))
        if kind is None or not is_f32_like(op.operands[0].type):
            return
        rewriter.replace(op, [], [approximate(kind, op.operands[0], rewriter)])


class IntrinsicToLLVM(OpTypedPattern):
    """math ops with an LLVM intrinsic of the same meaning."""

    op_types = (*_UNARY_INTRINSICS, *_BINARY_INTRINSICS)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        flags = llvm_fastmath(op.properties.get("fastmath"))
        if type(op) in _UNARY_INTRINSICS:
            rewriter.replace(op, _UNARY_INTRINSICS[type(op)](op.operands[0], flags))
        elif type(op) in _BINARY_INTRINSICS:
            lhs, rhs = op.operands
            rewriter.replace(op, _BINARY_INTRINSICS[type(op)](lhs, rhs, flags))


class FmaToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.FmaOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm.FMAOp(op.a, op.b, op.c, llvm_fastmath(op.fastmath)))


class RsqrtToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.RsqrtOp, rewriter: PatternRewriter, /) -> None:
        flags = llvm_fastmath(op.fastmath)
        root = rewriter.insert(llvm.FSqrtOp(op.operand, flags)).res
        one = constant(1.0, op.operand.type, rewriter)
        rewriter.replace(op, llvm.FDivOp(one, root, flags))


class FPowIToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.FPowIOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm_ext.PowIOp(op.lhs, op.rhs))


class IntegerMathToLLVM(OpTypedPattern):
    """absi / ctlz / cttz / ctpop. ctlz/cttz of 0 is the bit width, as in math's semantics."""

    op_types = (math.AbsIOp, math.CountLeadingZerosOp, math.CountTrailingZerosOp, math.CtPopOp)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if isinstance(op, math.AbsIOp):
            rewriter.replace(op, llvm_ext.AbsOp(op.operands[0], is_poison=False))
        elif isinstance(op, math.CountLeadingZerosOp):
            rewriter.replace(op, llvm_ext.CtlzOp(op.operands[0], is_poison=False))
        elif isinstance(op, math.CountTrailingZerosOp):
            rewriter.replace(op, llvm_ext.CttzOp(op.operands[0], is_poison=False))
        elif isinstance(op, math.CtPopOp):
            rewriter.replace(op, llvm_ext.CtpopOp(op.operands[0]))


def libm_call(name: str, value: SSAValue, op: Operation, rewriter: PatternRewriter) -> SSAValue:
    """Call the scalar C function `name` on `value`, lane by lane for a vector."""
    type_: Attribute = value.type
    element = type_.element_type if isinstance(type_, VectorType) else type_
    if isinstance(element, Float64Type):
        name = name.removesuffix("f")
    elif not isinstance(element, Float32Type):
        raise DiagnosticException(f"{op.name} on {type_} is not supported")
    declare_function(enclosing_module(op), name, [element], element, rewriter)
    if not isinstance(type_, VectorType):
        return rewriter.insert(llvm.CallOp(name, value, return_type=element)).results[0]
    (width,) = type_.get_shape()
    result = rewriter.insert(llvm.UndefOp(type_)).res
    for lane in range(width):
        index = i64_constant(lane, rewriter)
        scalar = rewriter.insert(llvm_ext.ExtractElementOp(value, index)).res
        mapped = rewriter.insert(llvm.CallOp(name, scalar, return_type=element)).results[0]
        result = rewriter.insert(llvm.InsertElementOp(result, mapped, index)).res
    return result


class LibmToLLVM(OpTypedPattern):
    """math ops without an LLVM intrinsic: a call into the C math library."""

    op_types = tuple(_LIBM)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        name = _LIBM.get(type(op))
        if name is None:
            return
        result = libm_call(name, op.operands[0], op, rewriter)
        rewriter.replace(op, [], [result])


MATH_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (
    IntrinsicToLLVM(),
    FmaToLLVM(),
    RsqrtToLLVM(),
    FPowIToLLVM(),
    IntegerMathToLLVM(),
    LibmToLLVM(),
)


@dataclass(frozen=True)
class ConvertMathToLLVMPass(ModulePass):
    """Lower math ops to LLVM intrinsics, or to C math library calls where LLVM has none.

    `approximate=true` (default) lowers f32 exp/tanh/erf to polynomials.
    """

    name = "convert-math-to-llvm"

    approximate: bool = True

    def patterns(self) -> list[RewritePattern]:
        """The patterns of this pass (ApproximateToLLVM first when `approximate`)."""
        patterns = list(MATH_TO_LLVM_PATTERNS)
        if self.approximate:
            patterns.insert(0, ApproximateToLLVM())
        return patterns

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            DispatchingApplier(self.patterns()),
            apply_recursively=False,
        ).rewrite_module(op)
