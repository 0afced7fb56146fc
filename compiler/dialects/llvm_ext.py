"""LLVM dialect ops that xDSL 0.74 lacks, and the combined `llvm` dialect.

xDSL's `llvm` dialect covers scalar arithmetic, memory and control flow, but
the CPU lowering also needs vector-capable comparisons and selects, the
float<->int casts other than `sitofp`, `extractelement`, masked loads, integer
and float vector reductions, and the math intrinsics without an xDSL op
(`llvm.intr.tanh`, `llvm.intr.maximum`, `llvm.intr.fmuladd`, ...). They are
defined here with MLIR's names and syntax, and `LLVMExt` registers them next to
xDSL's ops under the `llvm.` prefix (see `compiler.registry`).

Three xDSL ops are replaced rather than extended, because their constraints are
scalar-only or float-only: `llvm.fcmp`, `llvm.select` and
`llvm.intr.masked.store`. Our versions accept everything xDSL's accept.

`compiler.targets.cpu.translate` turns every op here into llvmlite IR.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects import llvm as xllvm
from xdsl.dialects.builtin import (
    I1,
    AnyFloatConstr,
    IntegerAttr,
    IntegerType,
    SignlessIntegerConstraint,
    StringAttr,
    VectorType,
    i1,
    i32,
    i64,
)
from xdsl.dialects.llvm import FastMathAttr, FCmpPredicateFlag, LLVMPointerType
from xdsl.dialects.utils import FastMathFlag
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AnyAttr,
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoMemoryEffect, Pure
from xdsl.utils.exceptions import VerifyException

_FLOAT_OR_VECTOR = AnyFloatConstr | VectorType.constr(AnyFloatConstr)
_INT_OR_VECTOR = SignlessIntegerConstraint | VectorType.constr(SignlessIntegerConstraint)
_INTRINSIC_FORMAT = "`(` operands `)` attr-dict `:` functional-type(operands, results)"


def _fastmath(flags: FastMathAttr | FastMathFlag | None) -> FastMathAttr:
    return flags if isinstance(flags, FastMathAttr) else FastMathAttr(flags)


def i1_like(type_: Attribute) -> Attribute:
    """i1 for a scalar type, vector<N x i1> for a vector type (comparison results)."""
    if isinstance(type_, VectorType):
        return VectorType(i1, type_.get_shape())
    return i1


# --------------------------------------------------------------------------
# Intrinsics: the LLVM intrinsic is the op name without `.intr`, mangled by
# the overloaded types at translation time (llvm.intr.tanh on vector<16xf32>
# becomes a call to @llvm.tanh.v16f32).
# --------------------------------------------------------------------------


class IntrinsicOp(IRDLOperation, ABC):
    """Marker base: an op that translates to a call of the LLVM intrinsic of its name."""

    @classmethod
    def intrinsic_name(cls) -> str:
        return cls.name.replace("llvm.intr.", "llvm.", 1)


class UnaryFloatIntrinsic(IntrinsicOp, ABC):
    T: ClassVar = VarConstraint("T", _FLOAT_OR_VECTOR)

    input = operand_def(T)
    result = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self, input: Operation | SSAValue, fast_math: FastMathAttr | FastMathFlag | None = None
    ):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"fastmathFlags": _fastmath(fast_math)},
        )


class BinaryFloatIntrinsic(IntrinsicOp, ABC):
    T: ClassVar = VarConstraint("T", _FLOAT_OR_VECTOR)

    lhs = operand_def(T)
    rhs = operand_def(T)
    res = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        lhs: Operation | SSAValue,
        rhs: Operation | SSAValue,
        fast_math: FastMathAttr | FastMathFlag | None = None,
    ):
        super().__init__(
            operands=[lhs, rhs],
            result_types=[SSAValue.get(lhs).type],
            properties={"fastmathFlags": _fastmath(fast_math)},
        )


class UnaryIntIntrinsic(IntrinsicOp, ABC):
    T: ClassVar = VarConstraint("T", _INT_OR_VECTOR)

    input = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT

    def __init__(self, input: Operation | SSAValue):
        super().__init__(operands=[input], result_types=[SSAValue.get(input).type])


class UnaryIntIntrinsicWithFlag(IntrinsicOp, ABC):
    """abs/ctlz/cttz: an int operand plus an i1 `immarg` flag (poison on INT_MIN / zero)."""

    T: ClassVar = VarConstraint("T", _INT_OR_VECTOR)

    input = operand_def(T)
    result = result_def(T)
    is_poison = prop_def(IntegerAttr[IntegerType], default_value=IntegerAttr(0, i1))

    traits = traits_def(Pure())
    assembly_format = "`(` operands `)` attr-dict `:` functional-type(operands, results)"
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: Operation | SSAValue, is_poison: bool = False):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"is_poison": IntegerAttr(int(is_poison), i1)},
        )


class BinaryIntIntrinsic(IntrinsicOp, ABC):
    T: ClassVar = VarConstraint("T", _INT_OR_VECTOR)

    lhs = operand_def(T)
    rhs = operand_def(T)
    res = result_def(T)

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT

    def __init__(self, lhs: Operation | SSAValue, rhs: Operation | SSAValue):
        super().__init__(operands=[lhs, rhs], result_types=[SSAValue.get(lhs).type])


@irdl_op_definition
class TanhOp(UnaryFloatIntrinsic):
    name = "llvm.intr.tanh"


@irdl_op_definition
class TruncFOp(UnaryFloatIntrinsic):
    """Round toward zero (C `truncf`); not the integer `llvm.trunc` cast."""

    name = "llvm.intr.trunc"


@irdl_op_definition
class RoundOp(UnaryFloatIntrinsic):
    name = "llvm.intr.round"


@irdl_op_definition
class RoundEvenOp(UnaryFloatIntrinsic):
    name = "llvm.intr.roundeven"


@irdl_op_definition
class RintOp(UnaryFloatIntrinsic):
    name = "llvm.intr.rint"


@irdl_op_definition
class Log10Op(UnaryFloatIntrinsic):
    name = "llvm.intr.log10"


@irdl_op_definition
class Exp10Op(UnaryFloatIntrinsic):
    name = "llvm.intr.exp10"


@irdl_op_definition
class TanOp(UnaryFloatIntrinsic):
    name = "llvm.intr.tan"


@irdl_op_definition
class ASinOp(UnaryFloatIntrinsic):
    name = "llvm.intr.asin"


@irdl_op_definition
class ACosOp(UnaryFloatIntrinsic):
    name = "llvm.intr.acos"


@irdl_op_definition
class ATanOp(UnaryFloatIntrinsic):
    name = "llvm.intr.atan"


@irdl_op_definition
class SinhOp(UnaryFloatIntrinsic):
    name = "llvm.intr.sinh"


@irdl_op_definition
class CoshOp(UnaryFloatIntrinsic):
    name = "llvm.intr.cosh"


@irdl_op_definition
class MaximumOp(BinaryFloatIntrinsic):
    """IEEE-754 2019 maximum: NaN-propagating, -0 < +0 (arith.maximumf)."""

    name = "llvm.intr.maximum"


@irdl_op_definition
class MinimumOp(BinaryFloatIntrinsic):
    """IEEE-754 2019 minimum: NaN-propagating, -0 < +0 (arith.minimumf)."""

    name = "llvm.intr.minimum"


@irdl_op_definition
class ATan2Op(BinaryFloatIntrinsic):
    name = "llvm.intr.atan2"


@irdl_op_definition
class FMulAddOp(IntrinsicOp):
    """a*b+c, fused only where the target makes that cheaper (unlike llvm.intr.fma)."""

    name = "llvm.intr.fmuladd"

    T: ClassVar = VarConstraint("T", _FLOAT_OR_VECTOR)

    a = operand_def(T)
    b = operand_def(T)
    c = operand_def(T)
    res = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        a: Operation | SSAValue,
        b: Operation | SSAValue,
        c: Operation | SSAValue,
        fast_math: FastMathAttr | FastMathFlag | None = None,
    ):
        super().__init__(
            operands=[a, b, c],
            result_types=[SSAValue.get(a).type],
            properties={"fastmathFlags": _fastmath(fast_math)},
        )


@irdl_op_definition
class PowIOp(IntrinsicOp):
    """Float to an i32 power (math.fpowi)."""

    name = "llvm.intr.powi"

    T: ClassVar = VarConstraint("T", _FLOAT_OR_VECTOR)

    val = operand_def(T)
    power = operand_def(SignlessIntegerConstraint | VectorType.constr(SignlessIntegerConstraint))
    res = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, val: Operation | SSAValue, power: Operation | SSAValue):
        super().__init__(operands=[val, power], result_types=[SSAValue.get(val).type])


@irdl_op_definition
class SMaxOp(BinaryIntIntrinsic):
    name = "llvm.intr.smax"


@irdl_op_definition
class SMinOp(BinaryIntIntrinsic):
    name = "llvm.intr.smin"


@irdl_op_definition
class UMaxOp(BinaryIntIntrinsic):
    name = "llvm.intr.umax"


@irdl_op_definition
class UMinOp(BinaryIntIntrinsic):
    name = "llvm.intr.umin"


@irdl_op_definition
class AbsOp(UnaryIntIntrinsicWithFlag):
    name = "llvm.intr.abs"


@irdl_op_definition
class CtlzOp(UnaryIntIntrinsicWithFlag):
    name = "llvm.intr.ctlz"


@irdl_op_definition
class CttzOp(UnaryIntIntrinsicWithFlag):
    name = "llvm.intr.cttz"


@irdl_op_definition
class CtpopOp(UnaryIntIntrinsic):
    name = "llvm.intr.ctpop"


# --------------------------------------------------------------------------
# Vector reductions with one vector operand (xDSL has fadd/fmul, which take
# a start value).
# --------------------------------------------------------------------------


class VectorReduceOp(IntrinsicOp, ABC):
    T: ClassVar = VarConstraint("T", AnyAttr())

    vector = operand_def(VectorType.constr(T))
    res = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = _INTRINSIC_FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self, vector: Operation | SSAValue, fast_math: FastMathAttr | FastMathFlag | None = None
    ):
        vector_type = SSAValue.get(vector).type
        assert isinstance(vector_type, VectorType)
        super().__init__(
            operands=[vector],
            result_types=[vector_type.element_type],
            properties={"fastmathFlags": _fastmath(fast_math)},
        )


@irdl_op_definition
class VectorReduceAddOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.add"


@irdl_op_definition
class VectorReduceMulOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.mul"


@irdl_op_definition
class VectorReduceAndOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.and"


@irdl_op_definition
class VectorReduceOrOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.or"


@irdl_op_definition
class VectorReduceXorOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.xor"


@irdl_op_definition
class VectorReduceSMaxOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.smax"


@irdl_op_definition
class VectorReduceSMinOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.smin"


@irdl_op_definition
class VectorReduceUMaxOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.umax"


@irdl_op_definition
class VectorReduceUMinOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.umin"


@irdl_op_definition
class VectorReduceFMaxOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.fmax"


@irdl_op_definition
class VectorReduceFMinOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.fmin"


@irdl_op_definition
class VectorReduceFMaximumOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.fmaximum"


@irdl_op_definition
class VectorReduceFMinimumOp(VectorReduceOp):
    name = "llvm.intr.vector.reduce.fminimum"


# --------------------------------------------------------------------------
# Memory intrinsics.
# --------------------------------------------------------------------------


@irdl_op_definition
class MaskedLoadOp(IRDLOperation):
    """`llvm.intr.masked.load`: lanes whose mask bit is 0 read `pass_thru` instead of memory."""

    name = "llvm.intr.masked.load"

    data = operand_def(LLVMPointerType)
    mask = operand_def(VectorType[I1])
    pass_thru = operand_def(VectorType)
    res = result_def(VectorType)
    alignment = prop_def(IntegerAttr[IntegerType])

    assembly_format = (
        "$data `,` $mask `,` $pass_thru attr-dict `:` functional-type(operands, results)"
    )
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        data: Operation | SSAValue,
        mask: Operation | SSAValue,
        pass_thru: Operation | SSAValue,
        alignment: int,
    ):
        super().__init__(
            operands=[data, mask, pass_thru],
            result_types=[SSAValue.get(pass_thru).type],
            properties={"alignment": IntegerAttr(alignment, i32)},
        )


@irdl_op_definition
class MaskedStoreOp(IRDLOperation):
    """`llvm.intr.masked.store` on any vector type (xDSL's accepts float vectors only)."""

    name = "llvm.intr.masked.store"

    value = operand_def(VectorType)
    data = operand_def(LLVMPointerType)
    mask = operand_def(VectorType[I1])
    alignment = prop_def(IntegerAttr[IntegerType])

    assembly_format = (
        "$value `,` $data `,` $mask attr-dict `:` type($value) `,` type($mask) `into` type($data)"
    )
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        value: Operation | SSAValue,
        data: Operation | SSAValue,
        mask: Operation | SSAValue,
        alignment: int,
    ):
        super().__init__(
            operands=[value, data, mask],
            properties={"alignment": IntegerAttr(alignment, i32)},
        )


@irdl_op_definition
class MemcpyOp(IRDLOperation):
    """`llvm.intr.memcpy(dst, src, len)` on non-overlapping buffers."""

    name = "llvm.intr.memcpy"

    dst = operand_def(LLVMPointerType)
    src = operand_def(LLVMPointerType)
    len = operand_def(IntegerType)
    isVolatile = prop_def(IntegerAttr[IntegerType], default_value=IntegerAttr(0, i1))

    assembly_format = (
        "$dst `,` $src `,` $len attr-dict `:` type($dst) `,` type($src) `,` type($len)"
    )
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self, dst: Operation | SSAValue, src: Operation | SSAValue, length: Operation | SSAValue
    ):
        super().__init__(operands=[dst, src, length])


# --------------------------------------------------------------------------
# Casts, vector elements, and vector-capable fcmp/select.
# --------------------------------------------------------------------------


class _CastOp(IRDLOperation, ABC):
    arg = operand_def(Attribute)
    result = result_def(Attribute)

    traits = traits_def(NoMemoryEffect())
    assembly_format = "$arg attr-dict `:` type($arg) `to` type($result)"

    def __init__(self, val: Operation | SSAValue, res_type: Attribute):
        super().__init__(operands=[val], result_types=[res_type])


@irdl_op_definition
class FPToSIOp(_CastOp):
    name = "llvm.fptosi"


@irdl_op_definition
class FPToUIOp(_CastOp):
    name = "llvm.fptoui"


@irdl_op_definition
class UIToFPOp(_CastOp):
    name = "llvm.uitofp"


@irdl_op_definition
class ExtractElementOp(IRDLOperation):
    """`%e = llvm.extractelement %v[%i : i64] : vector<16xf32>`."""

    name = "llvm.extractelement"

    vector = operand_def(VectorType)
    position = operand_def(SignlessIntegerConstraint)
    res = result_def()

    traits = traits_def(NoMemoryEffect())

    def __init__(self, vector: Operation | SSAValue, position: Operation | SSAValue):
        vector_type = SSAValue.get(vector).type
        assert isinstance(vector_type, VectorType)
        super().__init__(operands=[vector, position], result_types=[vector_type.element_type])

    @classmethod
    def parse(cls, parser: Parser) -> ExtractElementOp:
        vector = parser.parse_unresolved_operand()
        parser.parse_punctuation("[")
        position = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        position_type = parser.parse_type()
        parser.parse_punctuation("]")
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        vector_type = parser.parse_type()
        op = cls(
            parser.resolve_operand(vector, vector_type),
            parser.resolve_operand(position, position_type),
        )
        op.attributes |= attrs
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.vector)
        printer.print_string("[")
        printer.print_ssa_value(self.position)
        printer.print_string(" : ")
        printer.print_attribute(self.position.type)
        printer.print_string("]")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.vector.type)

    def verify_(self) -> None:
        vector_type = self.vector.type
        assert isinstance(vector_type, VectorType)
        if self.res.type != vector_type.element_type:
            raise VerifyException("result type must be the element type of the vector")


@irdl_op_definition
class FCmpOp(IRDLOperation):
    """`llvm.fcmp` on scalars and vectors (xDSL's is scalar-only)."""

    name = "llvm.fcmp"

    T: ClassVar = VarConstraint("T", _FLOAT_OR_VECTOR)

    lhs = operand_def(T)
    rhs = operand_def(T)
    res = result_def(I1 | VectorType[I1])
    predicate = prop_def(IntegerAttr[IntegerType])
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        lhs: Operation | SSAValue,
        rhs: Operation | SSAValue,
        predicate: str | IntegerAttr[IntegerType],
        fast_math: FastMathAttr | FastMathFlag | None = None,
    ):
        if isinstance(predicate, str):
            predicate = IntegerAttr(FCmpPredicateFlag(predicate).to_int(), i64)
        super().__init__(
            operands=[lhs, rhs],
            result_types=[i1_like(SSAValue.get(lhs).type)],
            properties={"predicate": predicate, "fastmathFlags": _fastmath(fast_math)},
        )

    @property
    def predicate_name(self) -> str:
        return FCmpPredicateFlag.from_int(self.predicate.value.data).value

    @classmethod
    def parse(cls, parser: Parser) -> FCmpOp:
        predicate = parser.parse_str_literal()
        lhs = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        rhs = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        type_ = parser.parse_type()
        lhs_v, rhs_v = parser.resolve_operands([lhs, rhs], [type_, type_], parser.pos)
        fast_math = attrs.pop("fastmathFlags", None)
        op = cls(
            lhs_v, rhs_v, predicate, fast_math if isinstance(fast_math, FastMathAttr) else None
        )
        op.attributes |= attrs
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(f' "{self.predicate_name}" ')
        printer.print_ssa_value(self.lhs)
        printer.print_string(", ")
        printer.print_ssa_value(self.rhs)
        attrs = dict(self.attributes)
        if self.fastmathFlags.data:
            attrs["fastmathFlags"] = self.fastmathFlags
        printer.print_op_attributes(attrs)
        printer.print_string(" : ")
        printer.print_attribute(self.lhs.type)


@irdl_op_definition
class SelectOp(IRDLOperation):
    """`llvm.select` with a scalar or per-lane (vector<N x i1>) condition."""

    name = "llvm.select"

    T: ClassVar = VarConstraint("T", AnyAttr())

    cond = operand_def(I1 | VectorType[I1])
    lhs = operand_def(T)
    rhs = operand_def(T)
    res = result_def(T)
    fastmathFlags = prop_def(FastMathAttr, default_value=FastMathAttr(None))

    traits = traits_def(Pure())
    assembly_format = "$cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($res)"
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(
        self,
        cond: Operation | SSAValue,
        lhs: Operation | SSAValue,
        rhs: Operation | SSAValue,
    ):
        super().__init__(operands=[cond, lhs, rhs], result_types=[SSAValue.get(lhs).type])


@irdl_op_definition
class AssumeOp(IRDLOperation):
    """`llvm.intr.assume %cond : i1`."""

    name = "llvm.intr.assume"

    cond = operand_def(I1)

    assembly_format = "$cond attr-dict `:` type($cond)"

    def __init__(self, cond: Operation | SSAValue):
        super().__init__(operands=[cond])


EXTRA_OPS: Sequence[type[IRDLOperation]] = (
    TanhOp,
    TruncFOp,
    RoundOp,
    RoundEvenOp,
    RintOp,
    Log10Op,
    Exp10Op,
    TanOp,
    ASinOp,
    ACosOp,
    ATanOp,
    SinhOp,
    CoshOp,
    MaximumOp,
    MinimumOp,
    ATan2Op,
    FMulAddOp,
    PowIOp,
    SMaxOp,
    SMinOp,
    UMaxOp,
    UMinOp,
    AbsOp,
    CtlzOp,
    CttzOp,
    CtpopOp,
    VectorReduceAddOp,
    VectorReduceMulOp,
    VectorReduceAndOp,
    VectorReduceOrOp,
    VectorReduceXorOp,
    VectorReduceSMaxOp,
    VectorReduceSMinOp,
    VectorReduceUMaxOp,
    VectorReduceUMinOp,
    VectorReduceFMaxOp,
    VectorReduceFMinOp,
    VectorReduceFMaximumOp,
    VectorReduceFMinimumOp,
    MaskedLoadOp,
    MaskedStoreOp,
    MemcpyOp,
    FPToSIOp,
    FPToUIOp,
    UIToFPOp,
    ExtractElementOp,
    FCmpOp,
    SelectOp,
    AssumeOp,
)

@irdl_op_definition
class TargetIntrinsicOp(IRDLOperation):
    """A call of a target-specific, non-overloaded LLVM intrinsic named by `intrinsic`.

    For instructions that generic LLVM IR does not reliably select, such as
    `llvm.x86.avx2.pmadd.wd` or `llvm.x86.avx512.vpdpbusd.512`: the caller
    (a schedule's `dot` lowering) chose them from the target's features.
    """

    name = "llvm.intr.target"

    args = var_operand_def()
    res = result_def()
    intrinsic = prop_def(StringAttr)

    traits = traits_def(Pure())
    assembly_format = "$intrinsic `(` $args `)` attr-dict `:` functional-type($args, $res)"

    def __init__(self, intrinsic: str, args: Sequence[SSAValue], result_type: Attribute):
        super().__init__(operands=[args], result_types=[result_type], properties={"intrinsic": StringAttr(intrinsic)})


EXTRA_OPS = (*EXTRA_OPS, TargetIntrinsicOp)

_REPLACED = {op.name for op in EXTRA_OPS}

LLVMExt = Dialect(
    "llvm",
    [
        *(op for op in xllvm.LLVM.operations if op.name not in _REPLACED),
        *EXTRA_OPS,
    ],
    list(xllvm.LLVM.attributes),
)
"""xDSL's llvm dialect plus the ops above, registered as `llvm`."""
