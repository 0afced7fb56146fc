"""The graph dialect: tensor-level ops over static-shaped builtin tensors.

The op set is a normalized core, not a copy of ONNX (the frontend decomposes
ONNX ops into it). Every op class declares its fusion kind, TVM's op pattern:
ELEMWISE and BROADCAST are the injective sub-kinds, then INJECTIVE, REDUCTION,
COMPLEX_OUT_FUSABLE (conv, matmul, pooling: an elementwise epilogue may fuse
into their output) and OPAQUE (never fused).

Each op knows how to infer its result type from its operand types and
properties (`infer`), and its verifier checks the declared type against that,
so a malformed op is a diagnostic at its location, never a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import ClassVar, Self, cast

import numpy as np
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
    f64,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    base,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    ConstantLike,
    HasParent,
    IsTerminator,
    Pure,
    SingleBlockImplicitTerminator,
)
from xdsl.utils.exceptions import VerifyException

from compiler import dtypes
from compiler.dialects import layouts, winograd

AnyTensor = base(TensorType)


class FusionKind(IntEnum):
    """TVM's op pattern kinds; smaller is more fusable."""

    ELEMWISE = 0
    BROADCAST = 1
    INJECTIVE = 2
    REDUCTION = 3
    COMPLEX_OUT_FUSABLE = 4
    OPAQUE = 8

    @property
    def label(self) -> str:
        """The four classes of DESIGN.md: injective covers elemwise and broadcast."""
        if self <= FusionKind.INJECTIVE:
            return "injective"
        return self.name.lower().replace("_", "-")


# ---------------------------------------------------------------------------
# Property helpers


def ints_attr(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def float_attr(value: float) -> FloatAttr:
    return FloatAttr(float(value), f64)


def bool_attr(value: bool) -> IntegerAttr:
    return IntegerAttr(1 if value else 0, i1)


def to_attr(value: object) -> Attribute:
    """Python value -> property attribute (lists of ints, ints, floats, bools, strs)."""
    if isinstance(value, Attribute):
        return value
    if isinstance(value, bool):
        return bool_attr(value)
    if isinstance(value, int | np.integer):
        return int_attr(int(value))
    if isinstance(value, float | np.floating):
        return float_attr(float(value))
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, list | tuple):
        return ints_attr(cast(Sequence[int], value))
    raise TypeError(f"cannot turn {value!r} into a property")


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def elem_of(value: SSAValue | Attribute) -> Attribute:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return t.get_element_type()


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """Numpy (multidirectional) broadcasting; raises VerifyException if impossible."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise VerifyException(
                f"shapes {' and '.join(str(tuple(s)) for s in shapes)} are not broadcastable"
            )
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _check_element_type(elem: Attribute) -> None:
    """A diagnostic, not dtypes' UnsupportedDtypeError: verifiers raise VerifyException."""
    if elem not in dtypes.supported_element_types():
        supported = ", ".join(str(t) for t in dtypes.supported_element_types())
        raise VerifyException(f"element type {elem} is not supported (supported: {supported})")


def _tensor(shape: Sequence[int], elem: Attribute) -> TensorType:
    return TensorType(elem, list(shape))


# ---------------------------------------------------------------------------
# Base class


class GraphOp(IRDLOperation):
    """Common base: uniform syntax, type inference and property accessors."""

    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE

    assembly_format = "operands attr-dict `:` functional-type(operands, results)"
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())

    @classmethod
    def infer(
        cls, types: Sequence[TensorType], props: Mapping[str, Attribute]
    ) -> list[TensorType] | None:
        """Result types from operand types and properties; None: given by the user."""
        return None

    def verify_(self) -> None:
        for what, values in (("operand", self.operands), ("result", self.results)):
            for value in values:
                if not isinstance(value.type, TensorType):
                    raise VerifyException(f"{what}s must be tensors, got {value.type}")
                if any(d < 0 for d in value.type.get_shape()):
                    raise VerifyException(f"{what} shapes must be static, got {value.type}")
                _check_element_type(value.type.get_element_type())
        self.check()
        expected = self.infer([cast(TensorType, o.type) for o in self.operands], self.properties)
        if expected is None:
            return
        actual = [r.type for r in self.results]
        if list(expected) != actual:
            want = ", ".join(str(t) for t in expected)
            got = ", ".join(str(t) for t in actual)
            raise VerifyException(f"result type should be {want}, but is {got}")

    def check(self) -> None:
        """Extra invariants that type inference does not cover."""

    @classmethod
    def make(
        cls,
        operands: Sequence[SSAValue],
        result_types: Sequence[Attribute] | None = None,
        **props: object,
    ) -> Self:
        """Build the op, inferring result types unless they are given."""
        properties = {k: to_attr(v) for k, v in props.items() if v is not None}
        if result_types is None:
            types = [cast(TensorType, o.type) for o in operands]
            inferred = cls.infer(types, properties)
            if inferred is None:
                raise ValueError(f"{cls.name} needs explicit result types")
            result_types = inferred
        definition = cls.get_irdl_definition()
        grouped: list[SSAValue | list[SSAValue]] = []
        rest = list(operands)
        n_fixed = sum(1 for _, d in definition.operands if type(d).__name__ == "OperandDef")
        for _, d in definition.operands:
            kind = type(d).__name__
            if kind == "OperandDef":
                grouped.append(rest.pop(0))
                n_fixed -= 1
            elif kind == "OptOperandDef":
                take = len(rest) - n_fixed > 0
                grouped.append([rest.pop(0)] if take else [])
            else:
                count = len(rest) - n_fixed
                grouped.append(rest[:count])
                rest = rest[count:]
        if len(definition.results) == 1 and type(definition.results[0][1]).__name__ != "ResultDef":
            results: list[Attribute | list[Attribute]] = [list(result_types)]
        else:
            results = list(result_types)
        return cls.build(operands=grouped, result_types=results, properties=properties)

    # property accessors -----------------------------------------------------

    def ints(self, name: str) -> tuple[int, ...]:
        attr = self.properties[name]
        assert isinstance(attr, DenseArrayBase)
        return tuple(cast(Sequence[int], attr.get_values()))

    def int_prop(self, name: str) -> int:
        attr = self.properties[name]
        assert isinstance(attr, IntegerAttr)
        return attr.value.data

    def float_prop(self, name: str, default: float | None = None) -> float:
        attr = self.properties.get(name)
        if attr is None:
            assert default is not None, name
            return default
        assert isinstance(attr, FloatAttr)
        return attr.value.data

    def str_prop(self, name: str) -> str:
        attr = self.properties[name]
        assert isinstance(attr, StringAttr)
        return attr.data

    @property
    def result_type(self) -> TensorType:
        return cast(TensorType, self.results[0].type)


def _props_ints(props: Mapping[str, Attribute], name: str) -> tuple[int, ...]:
    attr = props.get(name)
    if not isinstance(attr, DenseArrayBase):
        raise VerifyException(f"property '{name}' must be an array<i64: ...>")
    return tuple(cast(Sequence[int], attr.get_values()))


def _props_int(props: Mapping[str, Attribute], name: str) -> int:
    attr = props.get(name)
    if not isinstance(attr, IntegerAttr):
        raise VerifyException(f"property '{name}' must be an integer")
    return attr.value.data


def _props_str(props: Mapping[str, Attribute], name: str, default: str | None = None) -> str:
    attr = props.get(name)
    if attr is None and default is not None:
        return default
    if not isinstance(attr, StringAttr):
        raise VerifyException(f"property '{name}' must be a string")
    return attr.data


def _data_block(props: Mapping[str, Attribute], name: str) -> int:
    """Channel block of the data layout property `name` (absent: NCHW, 0)."""
    try:
        return layouts.data_block(_props_str(props, name, layouts.NCHW))
    except ValueError as err:
        raise VerifyException(f"{name}: {err}") from None


# ---------------------------------------------------------------------------
# Constants and structure


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A tensor constant (weights included) held as a dense attribute."""

    name = "graph.constant"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE

    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(AnyTensor)
    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(result_types=[value.type], properties={"value": value})

    @staticmethod
    def from_numpy(array: np.ndarray, element_type: Attribute | None = None) -> ConstantOp:
        return ConstantOp(dtypes.dense_from_numpy(array, element_type))

    def to_numpy(self) -> np.ndarray:
        return dtypes.dense_to_numpy(self.value)

    def verify_(self) -> None:
        if self.value.type != self.result.type:
            raise VerifyException(
                f"value type {self.value.type} does not match result type {self.result.type}"
            )
        if any(d < 0 for d in self.value.get_shape()):
            raise VerifyException("constant shapes must be static")
        _check_element_type(self.value.get_element_type())
        n = math.prod(self.value.get_shape())
        width = dtypes.to_numpy_dtype(self.value.get_element_type()).itemsize
        if len(self.value.data.data) not in (width, n * width):
            raise VerifyException(f"constant holds {len(self.value.data.data)} bytes for {n} elements")

    def print(self, printer: Printer) -> None:
        # xDSL's generic dense printer unpacks every element into Python
        # objects to look for a splat; numpy does it without that cost.
        printer.print_string(" ")
        printer.print_string(format_dense(self.value))
        printer.print_string(" : ")
        printer.print_attribute(self.value.type)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error("graph.constant expects a dense<...> attribute")
        attrs = parser.parse_optional_attr_dict()
        op = ConstantOp(value)
        op.attributes.update(attrs)
        return op


def format_dense(attr: DenseIntOrFPElementsAttr) -> str:
    """`dense<...>` text that xDSL's parser reads back to the same bytes, computed with numpy.

    Splats and small tensors print their values; big ones, and any float
    tensor holding NaN or infinities, print as hex bytes: xDSL prints those
    as integer bit patterns (0x7fc00000) that its parser reads back as
    integers converted to floats.
    """
    elem = attr.get_element_type()
    n = math.prod(attr.get_shape())
    if n == 0:
        return "dense<>"
    raw = attr.data.data
    width = dtypes.to_numpy_dtype(elem).itemsize
    if len(raw) == width:
        splat = True  # stored once (a splat constant): never expand it
    else:
        # Compare bit patterns, not values: -0.0 == 0.0 and NaN != NaN.
        bits = np.frombuffer(raw, dtype=f"<u{width}")
        splat = bool(np.all(bits == bits[0]))
    first = dtypes.dense_to_numpy(attr).reshape(-1)[:1]
    if splat:
        if dtypes.is_float(elem) and not np.isfinite(first).all():
            return f'dense<"0x{raw[:width].hex().upper()}">'
        return f"dense<{_format_scalar(first[0], elem)}>"
    array = dtypes.dense_to_numpy(attr)
    finite = not dtypes.is_float(elem) or bool(np.isfinite(array).all())
    if n > 100 or not finite:
        return f'dense<"0x{raw.hex().upper()}">'
    return f"dense<{_format_nested(array, elem)}>"


def _format_scalar(value: object, elem: Attribute) -> str:
    from io import StringIO

    stream = StringIO()
    printer = Printer(stream=stream)
    if dtypes.is_bool(elem):
        return "true" if bool(value) else "false"
    if dtypes.is_float(elem):
        printer.print_float(float(cast(float, value)), cast(dtypes.Float32Type, elem))
    else:
        printer.print_int(int(cast(int, value)), cast(IntegerType, elem))
    return stream.getvalue()


def _format_nested(array: np.ndarray, elem: Attribute) -> str:
    if array.ndim == 0:
        return _format_scalar(array.item(), elem)
    if array.ndim == 1:
        return "[" + ", ".join(_format_scalar(v, elem) for v in array.tolist()) + "]"
    return "[" + ", ".join(_format_nested(sub, elem) for sub in array) + "]"


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Terminator of a `graph.fused` region: the group's results."""

    name = "graph.yield"
    values = var_operand_def(AnyTensor)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(FusedOp), Pure()))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, *values: SSAValue):
        super().__init__(operands=[list(values)])


@irdl_op_definition
class FusedOp(IRDLOperation):
    """A group of ops that becomes one kernel (TVM's fused function).

    The region's block arguments stand for the operands; `graph.yield` gives
    the results. `kind` is the fusion kind of the group's anchor op, `anchor`
    names it (e.g. "conv").
    """

    name = "graph.fused"
    inputs = var_operand_def(AnyTensor)
    outputs = var_result_def(AnyTensor)
    body = region_def("single_block")
    kind = prop_def(StringAttr)
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE

    traits = traits_def(SingleBlockImplicitTerminator(YieldOp), Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "`(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs) $body"
    )

    def __init__(
        self,
        inputs: Sequence[SSAValue],
        result_types: Sequence[Attribute],
        body: Region,
        kind: str,
    ):
        super().__init__(
            operands=[list(inputs)],
            result_types=[list(result_types)],
            regions=[body],
            properties={"kind": StringAttr(kind)},
        )

    def verify_(self) -> None:
        block = self.body.block
        if [a.type for a in block.args] != [o.type for o in self.inputs]:
            raise VerifyException("region arguments must match the operand types")
        term = block.last_op
        if not isinstance(term, YieldOp):
            raise VerifyException("region must end with graph.yield")
        if [v.type for v in term.values] != [r.type for r in self.outputs]:
            raise VerifyException("graph.yield operand types must match the results")
        for op in block.ops:
            if op is not term and not isinstance(op, GraphOp | ConstantOp):
                raise VerifyException(f"'{op.name}' may not appear inside graph.fused")


# ---------------------------------------------------------------------------
# Elementwise unary ops


class UnaryOp(GraphOp):
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.ELEMWISE
    FLOAT_ONLY: ClassVar[bool] = False
    BOOL_ONLY: ClassVar[bool] = False

    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        elem = t.get_element_type()
        if cls.FLOAT_ONLY and not dtypes.is_float(elem):
            raise VerifyException(f"{cls.name} takes floating-point tensors, got {elem}")
        if cls.BOOL_ONLY and not dtypes.is_bool(elem):
            raise VerifyException(f"{cls.name} takes i1 tensors, got {elem}")
        if not cls.BOOL_ONLY and dtypes.is_bool(elem) and cls.name != "graph.identity":
            raise VerifyException(f"{cls.name} does not take i1 tensors")
        return [t]


class FloatUnaryOp(UnaryOp):
    FLOAT_ONLY: ClassVar[bool] = True


@irdl_op_definition
class IdentityOp(UnaryOp):
    """Returns its operand (removed by `remove-identity`)."""

    name = "graph.identity"


@irdl_op_definition
class NegOp(UnaryOp):
    name = "graph.neg"


@irdl_op_definition
class AbsOp(UnaryOp):
    name = "graph.abs"


@irdl_op_definition
class SignOp(UnaryOp):
    name = "graph.sign"


@irdl_op_definition
class ReluOp(UnaryOp):
    """max(x, 0)."""

    name = "graph.relu"


@irdl_op_definition
class ExpOp(FloatUnaryOp):
    name = "graph.exp"


@irdl_op_definition
class LogOp(FloatUnaryOp):
    name = "graph.log"


@irdl_op_definition
class SqrtOp(FloatUnaryOp):
    name = "graph.sqrt"


@irdl_op_definition
class ReciprocalOp(FloatUnaryOp):
    name = "graph.reciprocal"


@irdl_op_definition
class SigmoidOp(FloatUnaryOp):
    name = "graph.sigmoid"


@irdl_op_definition
class TanhOp(FloatUnaryOp):
    name = "graph.tanh"


@irdl_op_definition
class ErfOp(FloatUnaryOp):
    name = "graph.erf"


@irdl_op_definition
class FloorOp(FloatUnaryOp):
    name = "graph.floor"


@irdl_op_definition
class CeilOp(FloatUnaryOp):
    name = "graph.ceil"


@irdl_op_definition
class RoundOp(FloatUnaryOp):
    """Round half to even, as ONNX Round."""

    name = "graph.round"


@irdl_op_definition
class SinOp(FloatUnaryOp):
    name = "graph.sin"


@irdl_op_definition
class CosOp(FloatUnaryOp):
    name = "graph.cos"


# Trigonometric and hyperbolic functions beyond sin/cos/tanh (ONNX Tan ... Atanh).


@irdl_op_definition
class TanOp(FloatUnaryOp):
    name = "graph.tan"


@irdl_op_definition
class AsinOp(FloatUnaryOp):
    name = "graph.asin"


@irdl_op_definition
class AcosOp(FloatUnaryOp):
    name = "graph.acos"


@irdl_op_definition
class AtanOp(FloatUnaryOp):
    name = "graph.atan"


@irdl_op_definition
class SinhOp(FloatUnaryOp):
    name = "graph.sinh"


@irdl_op_definition
class CoshOp(FloatUnaryOp):
    name = "graph.cosh"


@irdl_op_definition
class AsinhOp(FloatUnaryOp):
    name = "graph.asinh"


@irdl_op_definition
class AcoshOp(FloatUnaryOp):
    name = "graph.acosh"


@irdl_op_definition
class AtanhOp(FloatUnaryOp):
    name = "graph.atanh"


@irdl_op_definition
class SoftplusOp(FloatUnaryOp):
    name = "graph.softplus"


@irdl_op_definition
class NotOp(UnaryOp):
    name = "graph.not"
    BOOL_ONLY: ClassVar[bool] = True


@irdl_op_definition
class LeakyReluOp(FloatUnaryOp):
    """x if x >= 0 else alpha * x."""

    name = "graph.leaky_relu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class EluOp(FloatUnaryOp):
    """x if x >= 0 else alpha * (exp(x) - 1)."""

    name = "graph.elu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class HardSigmoidOp(FloatUnaryOp):
    """max(0, min(1, alpha * x + beta))."""

    name = "graph.hard_sigmoid"
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)


@irdl_op_definition
class ClipOp(UnaryOp):
    """min(max(x, min), max); a missing bound is unbounded."""

    name = "graph.clip"
    min = opt_prop_def(FloatAttr)
    max = opt_prop_def(FloatAttr)

    def check(self) -> None:
        lo, hi = self.min, self.max
        if lo is not None and hi is not None and lo.value.data > hi.value.data:
            # ONNX defines this case (all outputs equal max), so it is legal.
            pass


@irdl_op_definition
class CastOp(GraphOp):
    """Element type conversion (the result type names the target)."""

    name = "graph.cast"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.ELEMWISE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    def check(self) -> None:
        if shape_of(self.input) != shape_of(self.result):
            raise VerifyException("graph.cast must keep the shape")


# ---------------------------------------------------------------------------
# Elementwise binary ops (numpy broadcasting)


class BinaryOp(GraphOp):
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.BROADCAST
    FLOAT_ONLY: ClassVar[bool] = False
    BOOL_ONLY: ClassVar[bool] = False
    ALLOW_BOOL: ClassVar[bool] = False
    RETURNS_BOOL: ClassVar[bool] = False

    lhs = operand_def(AnyTensor)
    rhs = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        a, b = types
        ea, eb = a.get_element_type(), b.get_element_type()
        if ea != eb:
            raise VerifyException(f"operand element types differ: {ea} and {eb}")
        if cls.FLOAT_ONLY and not dtypes.is_float(ea):
            raise VerifyException(f"{cls.name} takes floating-point tensors, got {ea}")
        if cls.BOOL_ONLY and not dtypes.is_bool(ea):
            raise VerifyException(f"{cls.name} takes i1 tensors, got {ea}")
        if dtypes.is_bool(ea) and not (cls.BOOL_ONLY or cls.ALLOW_BOOL):
            raise VerifyException(f"{cls.name} does not take i1 tensors")
        shape = broadcast_shapes(a.get_shape(), b.get_shape())
        return [_tensor(shape, i1 if cls.RETURNS_BOOL else ea)]


@irdl_op_definition
class AddOp(BinaryOp):
    name = "graph.add"


@irdl_op_definition
class SubOp(BinaryOp):
    name = "graph.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    name = "graph.mul"


@irdl_op_definition
class DivOp(BinaryOp):
    """Division; integer division truncates toward zero (as ONNX)."""

    name = "graph.div"


@irdl_op_definition
class PowOp(BinaryOp):
    name = "graph.pow"


@irdl_op_definition
class MaxOp(BinaryOp):
    name = "graph.max"


@irdl_op_definition
class MinOp(BinaryOp):
    name = "graph.min"


@irdl_op_definition
class ModOp(BinaryOp):
    """Remainder with the sign of the divisor (ONNX Mod, fmod=0) for integers,
    C fmod for floats."""

    name = "graph.mod"


class CompareOp(BinaryOp):
    RETURNS_BOOL: ClassVar[bool] = True


@irdl_op_definition
class EqualOp(CompareOp):
    name = "graph.equal"
    ALLOW_BOOL: ClassVar[bool] = True


@irdl_op_definition
class LessOp(CompareOp):
    name = "graph.less"


@irdl_op_definition
class LessEqualOp(CompareOp):
    name = "graph.less_equal"


@irdl_op_definition
class GreaterOp(CompareOp):
    name = "graph.greater"


@irdl_op_definition
class GreaterEqualOp(CompareOp):
    name = "graph.greater_equal"


@irdl_op_definition
class AndOp(BinaryOp):
    name = "graph.and"
    BOOL_ONLY: ClassVar[bool] = True


@irdl_op_definition
class OrOp(BinaryOp):
    name = "graph.or"
    BOOL_ONLY: ClassVar[bool] = True


@irdl_op_definition
class XorOp(BinaryOp):
    name = "graph.xor"
    BOOL_ONLY: ClassVar[bool] = True


def _require_integer(name: str, t: TensorType) -> None:
    """Bitwise ops take integer tensors (bool has its own and/or/xor/not)."""
    elem = t.get_element_type()
    if not dtypes.is_integer(elem) or dtypes.is_bool(elem):
        raise VerifyException(f"{name} takes integer tensors, got {elem}")


class IntegerBinaryOp(BinaryOp):
    """A bitwise op: integer tensors only (ONNX BitwiseAnd/Or/Xor, BitShift)."""

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        _require_integer(cls.name, types[0])
        return super().infer(types, props)


@irdl_op_definition
class BitwiseAndOp(IntegerBinaryOp):
    name = "graph.bitwise_and"


@irdl_op_definition
class BitwiseOrOp(IntegerBinaryOp):
    name = "graph.bitwise_or"


@irdl_op_definition
class BitwiseXorOp(IntegerBinaryOp):
    name = "graph.bitwise_xor"


@irdl_op_definition
class ShiftLeftOp(IntegerBinaryOp):
    """lhs << rhs; shifting by the bit width or more gives 0."""

    name = "graph.shift_left"


@irdl_op_definition
class ShiftRightOp(IntegerBinaryOp):
    """lhs >> rhs, logical for unsigned types and arithmetic for signed ones;
    shifting by the bit width or more gives 0 (-1 for negative signed lhs)."""

    name = "graph.shift_right"


@irdl_op_definition
class BitwiseNotOp(UnaryOp):
    """~x on integer tensors."""

    name = "graph.bitwise_not"

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        _require_integer(cls.name, types[0])
        return super().infer(types, props)

@irdl_op_definition
class WhereOp(GraphOp):
    """condition ? x : y, with numpy broadcasting of all three."""

    name = "graph.where"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.BROADCAST
    condition = operand_def(AnyTensor)
    true_value = operand_def(AnyTensor)
    false_value = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        c, x, y = types
        if not dtypes.is_bool(c.get_element_type()):
            raise VerifyException("graph.where condition must be an i1 tensor")
        if x.get_element_type() != y.get_element_type():
            raise VerifyException("graph.where branches must have one element type")
        shape = broadcast_shapes(c.get_shape(), x.get_shape(), y.get_shape())
        return [_tensor(shape, x.get_element_type())]


# ---------------------------------------------------------------------------
# Data movement (injective)


@irdl_op_definition
class ReshapeOp(GraphOp):
    """Same elements in row-major order, new shape (given by the result type)."""

    name = "graph.reshape"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    def check(self) -> None:
        if elem_of(self.input) != elem_of(self.result):
            raise VerifyException("graph.reshape must keep the element type")
        if math.prod(shape_of(self.input)) != math.prod(shape_of(self.result)):
            raise VerifyException(
                f"cannot reshape {shape_of(self.input)} into {shape_of(self.result)}: "
                "element counts differ"
            )


@irdl_op_definition
class BroadcastToOp(GraphOp):
    """Numpy broadcast of the input to the result type's shape (ONNX Expand)."""

    name = "graph.broadcast_to"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.BROADCAST
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    def check(self) -> None:
        if elem_of(self.input) != elem_of(self.result):
            raise VerifyException("graph.broadcast_to must keep the element type")
        src, dst = shape_of(self.input), shape_of(self.result)
        if len(src) > len(dst) or broadcast_shapes(src, dst) != dst:
            raise VerifyException(f"cannot broadcast {src} to {dst}")


@irdl_op_definition
class TransposeOp(GraphOp):
    """result.shape[i] = input.shape[perm[i]]."""

    name = "graph.transpose"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    perm = prop_def(DenseArrayBase)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        perm = _props_ints(props, "perm")
        shape = t.get_shape()
        if sorted(perm) != list(range(len(shape))):
            raise VerifyException(f"perm {list(perm)} is not a permutation of rank {len(shape)}")
        return [_tensor([shape[p] for p in perm], t.get_element_type())]


@irdl_op_definition
class SliceOp(GraphOp):
    """result[i...] = input[offsets + i * strides] (strides may be negative).

    The result type gives the sizes, as MLIR's tensor.extract_slice.
    """

    name = "graph.slice"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    offsets = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)

    def check(self) -> None:
        src, dst = shape_of(self.input), shape_of(self.result)
        offsets, strides = self.ints("offsets"), self.ints("strides")
        if not len(src) == len(dst) == len(offsets) == len(strides):
            raise VerifyException("offsets, strides, input and result must have one rank")
        if elem_of(self.input) != elem_of(self.result):
            raise VerifyException("graph.slice must keep the element type")
        for d, (n, size, off, step) in enumerate(zip(src, dst, offsets, strides, strict=True)):
            if step == 0:
                raise VerifyException(f"stride of dim {d} is zero")
            if size == 0:
                continue
            last = off + (size - 1) * step
            if not (0 <= off < n and 0 <= last < n):
                raise VerifyException(
                    f"slice of dim {d} reads [{off}, {last}] outside [0, {n})"
                )


@irdl_op_definition
class ConcatOp(GraphOp):
    name = "graph.concat"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    inputs = var_operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        if not types:
            raise VerifyException("graph.concat needs at least one operand")
        rank = len(types[0].get_shape())
        axis = _props_int(props, "axis")
        if not 0 <= axis < rank:
            raise VerifyException(f"axis {axis} is out of range for rank {rank}")
        elem = types[0].get_element_type()
        shape = list(types[0].get_shape())
        shape[axis] = 0
        for t in types:
            s = t.get_shape()
            if t.get_element_type() != elem or len(s) != rank:
                raise VerifyException("graph.concat operands must share element type and rank")
            if any(s[d] != shape[d] for d in range(rank) if d != axis):
                raise VerifyException(f"graph.concat operand shapes disagree off axis {axis}")
            shape[axis] += s[axis]
        return [_tensor(shape, elem)]


@irdl_op_definition
class GatherOp(GraphOp):
    """ONNX Gather: out[i.., j.., k..] = data[i.., indices[j..], k..]; negative
    indices count from the end."""

    name = "graph.gather"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    data = operand_def(AnyTensor)
    indices = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        data, idx = types
        if not dtypes.is_integer(idx.get_element_type()):
            raise VerifyException("graph.gather indices must be integers")
        shape = data.get_shape()
        axis = _props_int(props, "axis")
        if not 0 <= axis < len(shape):
            raise VerifyException(f"axis {axis} is out of range for rank {len(shape)}")
        out = [*shape[:axis], *idx.get_shape(), *shape[axis + 1 :]]
        return [_tensor(out, data.get_element_type())]


@irdl_op_definition
class PadOp(GraphOp):
    """Pads each dim by pads[d] before and pads[rank + d] after (ONNX order).

    mode: "constant" (with `value`), "reflect" or "edge".
    """

    name = "graph.pad"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    pads = prop_def(DenseArrayBase)
    mode = prop_def(StringAttr)
    value = prop_def(FloatAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        shape = t.get_shape()
        pads = _props_ints(props, "pads")
        if len(pads) != 2 * len(shape):
            raise VerifyException(f"pads needs {2 * len(shape)} values, got {len(pads)}")
        if any(p < 0 for p in pads):
            raise VerifyException("pads must be non-negative")
        mode = props.get("mode")
        if not isinstance(mode, StringAttr) or mode.data not in ("constant", "reflect", "edge"):
            raise VerifyException("mode must be \"constant\", \"reflect\" or \"edge\"")
        rank = len(shape)
        for d in range(rank):
            before, after = pads[d], pads[rank + d]
            # Reflection mirrors without repeating the border element, so it
            # needs pad < size (numpy would reflect again; ONNX runtimes refuse).
            if mode.data == "reflect" and max(before, after) >= shape[d] and (before or after):
                raise VerifyException(
                    f"reflect pads of dim {d} ({before}, {after}) must be smaller than its size {shape[d]}"
                )
            if mode.data == "edge" and shape[d] == 0 and (before or after):
                raise VerifyException(f"edge padding of dim {d} needs a non-empty dim")
        out = [shape[d] + pads[d] + pads[rank + d] for d in range(rank)]
        return [_tensor(out, t.get_element_type())]


@irdl_op_definition
class LayoutTransformOp(GraphOp):
    """Stores an [N, C, H, W] tensor in another data layout ("NCHW", "NCHW{c}c").

    `convert-layout` places these at the edges of blocked regions.
    """

    name = "graph.layout_transform"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    src_layout = prop_def(StringAttr)
    dst_layout = prop_def(StringAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        src, dst = _data_block(props, "src_layout"), _data_block(props, "dst_layout")
        try:
            logical = layouts.data_logical_shape(t.get_shape(), src)
            out = layouts.data_physical_shape(logical, dst)
        except ValueError as err:
            raise VerifyException(f"graph.layout_transform: {err}") from None
        return [_tensor(out, t.get_element_type())]


# ---------------------------------------------------------------------------
# Reductions


class ReduceOp(GraphOp):
    """Reduces `axes` (sorted, non-negative, possibly empty = no-op)."""

    FUSION_KIND: ClassVar[FusionKind] = FusionKind.REDUCTION
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axes = prop_def(DenseArrayBase)
    keepdims = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        shape = t.get_shape()
        axes = _props_ints(props, "axes")
        if list(axes) != sorted(set(axes)) or any(not 0 <= a < len(shape) for a in axes):
            raise VerifyException(
                f"axes {list(axes)} must be sorted, unique and in [0, {len(shape)})"
            )
        if dtypes.is_bool(t.get_element_type()):
            raise VerifyException(f"{cls.name} does not take i1 tensors")
        keep = _props_int(props, "keepdims") != 0
        out = [1 if d in axes else n for d, n in enumerate(shape) if keep or d not in axes]
        return [_tensor(out, t.get_element_type())]


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    name = "graph.reduce_sum"


@irdl_op_definition
class ReduceMeanOp(ReduceOp):
    name = "graph.reduce_mean"


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    name = "graph.reduce_max"


@irdl_op_definition
class ReduceMinOp(ReduceOp):
    name = "graph.reduce_min"


@irdl_op_definition
class ReduceProdOp(ReduceOp):
    name = "graph.reduce_prod"


class ArgReduceOp(GraphOp):
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.REDUCTION
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)
    keepdims = prop_def(IntegerAttr)
    select_last_index = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        shape = t.get_shape()
        axis = _props_int(props, "axis")
        if not 0 <= axis < len(shape):
            raise VerifyException(f"axis {axis} is out of range for rank {len(shape)}")
        if shape[axis] == 0:
            raise VerifyException(f"{cls.name} of an empty dim (axis {axis}) has no answer")
        keep = _props_int(props, "keepdims") != 0
        out = [1 if d == axis else n for d, n in enumerate(shape) if keep or d != axis]
        return [_tensor(out, i64)]


@irdl_op_definition
class ArgMaxOp(ArgReduceOp):
    name = "graph.argmax"


@irdl_op_definition
class ArgMinOp(ArgReduceOp):
    name = "graph.argmin"


class AxisFloatOp(GraphOp):
    """An op over one axis of a float tensor, result shaped like the input."""

    FUSION_KIND: ClassVar[FusionKind] = FusionKind.REDUCTION
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        axis = _props_int(props, "axis")
        if not 0 <= axis < len(t.get_shape()):
            raise VerifyException(f"axis {axis} is out of range for rank {len(t.get_shape())}")
        if not dtypes.is_float(t.get_element_type()):
            raise VerifyException(f"{cls.name} takes floating-point tensors")
        return [t]


@irdl_op_definition
class SoftmaxOp(AxisFloatOp):
    """exp(x - max) / sum(exp(x - max)) along `axis` (ONNX opset 13 semantics)."""

    name = "graph.softmax"


@irdl_op_definition
class LogSoftmaxOp(AxisFloatOp):
    name = "graph.log_softmax"


@irdl_op_definition
class LayerNormOp(GraphOp):
    """Normalizes over dims [axis, rank), then * scale (+ bias)."""

    name = "graph.layer_norm"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.REDUCTION
    input = operand_def(AnyTensor)
    scale = operand_def(AnyTensor)
    bias = opt_operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)
    epsilon = prop_def(FloatAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        x = types[0]
        shape = x.get_shape()
        axis = _props_int(props, "axis")
        if not 0 <= axis < len(shape):
            raise VerifyException(f"axis {axis} is out of range for rank {len(shape)}")
        if not dtypes.is_float(x.get_element_type()):
            raise VerifyException("graph.layer_norm takes floating-point tensors")
        norm_shape = tuple(shape[axis:])
        for t in types[1:]:
            if t.get_element_type() != x.get_element_type():
                raise VerifyException("scale and bias must have the input's element type")
            s = t.get_shape()
            if len(s) > len(norm_shape) or broadcast_shapes(s, norm_shape) != norm_shape:
                raise VerifyException(
                    f"scale/bias shape {tuple(s)} does not broadcast to {norm_shape}"
                )
        return [x]


# ---------------------------------------------------------------------------
# Complex-out-fusable ops


def _window_out(size: int, kernel: int, stride: int, dilation: int, pad: int) -> int:
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def _check_window(props: Mapping[str, Attribute], spatial: int, with_dilations: bool) -> None:
    strides = _props_ints(props, "strides")
    pads = _props_ints(props, "pads")
    if len(strides) != spatial or any(s < 1 for s in strides):
        raise VerifyException(f"strides must be {spatial} positive values")
    if len(pads) != 2 * spatial or any(p < 0 for p in pads):
        raise VerifyException(f"pads must be {2 * spatial} non-negative values")
    if with_dilations:
        dil = _props_ints(props, "dilations")
        if len(dil) != spatial or any(d < 1 for d in dil):
            raise VerifyException(f"dilations must be {spatial} positive values")


_CONV_INTS = (IntegerType(32), IntegerType(16), IntegerType(8))
_UI8 = IntegerType(8, Signedness.UNSIGNED)


def _conv_result_elem(elem: Attribute) -> Attribute:
    """Narrow integer convs (i8/ui8/i16 operands, `narrow-integer-conv`) accumulate in i32."""
    return IntegerType(32) if elem in _CONV_INTS or elem == _UI8 else elem


def _conv_operand_types_ok(x: Attribute, w: Attribute) -> bool:
    """One element type for both, or a ui8 input with an i8 weight (VNNI's vpdpbusd pair)."""
    return x == w or (x == _UI8 and w == IntegerType(8))


@irdl_op_definition
class ConvOp(GraphOp):
    """2-D convolution, NCHW input, OIHW weight (O = out channels, I = in/group).

    pads are [top, left, bottom, right] (ONNX order: begins, then ends).

    Optional layouts (see compiler/dialects/layouts.py) store the same
    convolution blocked: `data_layout` / `out_layout` "NCHW{c}c" ([N, C/c, H,
    W, c]) and `kernel_layout` "OIHW{i}i{o}o" ([O/o, I/i, KH, KW, i, o]);
    absent means "NCHW", "OIHW", "NCHW". The bias stays [O] in every layout
    (its bytes are those of [O/o, o] anyway).

    Integer convs (ConvInteger, QLinearConv) accumulate in i32 and wrap on
    overflow as onnxruntime's int32 accumulators do. Their input and weight
    may be i16 or i8 (both the same), or a ui8 input with an i8 weight (the
    bias, if any, i32): the products are taken after extension to i32 (zero
    extension of ui8, sign extension otherwise), so that kernels may read
    narrow data and use widening dot products (pmaddwd, vpdpbusd).
    """

    name = "graph.conv"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.COMPLEX_OUT_FUSABLE
    input = operand_def(AnyTensor)
    weight = operand_def(AnyTensor)
    bias = opt_operand_def(AnyTensor)
    result = result_def(AnyTensor)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    group = prop_def(IntegerAttr)
    data_layout = opt_prop_def(StringAttr)
    kernel_layout = opt_prop_def(StringAttr)
    out_layout = opt_prop_def(StringAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        x, w = types[0], types[1]
        xs, ws = x.get_shape(), w.get_shape()
        data_b, out_b = _data_block(props, "data_layout"), _data_block(props, "out_layout")
        try:
            ki, ko = layouts.kernel_blocks(_props_str(props, "kernel_layout", layouts.OIHW))
            # Checks below run on the logical NCHW / OIHW shapes.
            if data_b or ki:
                xs = layouts.data_logical_shape(xs, data_b)
                ws = layouts.kernel_logical_shape(ws, ki, ko)
        except ValueError as err:
            raise VerifyException(f"graph.conv: {err}") from None
        if len(xs) != 4 or len(ws) != 4:
            raise VerifyException("graph.conv takes a 4-D NCHW input and a 4-D OIHW weight")
        xe = x.get_element_type()
        if not (dtypes.is_float(xe) or xe in _CONV_INTS or xe == _UI8):
            raise VerifyException("graph.conv takes floating-point, i32, or i16/i8/ui8 (accumulated in i32) tensors")
        if not _conv_operand_types_ok(xe, w.get_element_type()):
            raise VerifyException("graph.conv operands must share one element type (or be a ui8 input and an i8 weight)")
        if len(types) == 3 and types[2].get_element_type() != _conv_result_elem(x.get_element_type()):
            raise VerifyException("graph.conv bias must have the result's element type")
        _check_window(props, 2, True)
        group = _props_int(props, "group")
        if group < 1 or xs[1] % group or ws[0] % group:
            raise VerifyException(f"group {group} must divide input ({xs[1]}) and output ({ws[0]}) channels")
        if xs[1] // group != ws[1]:
            raise VerifyException(
                f"weight has {ws[1]} input channels per group, input gives {xs[1] // group}"
            )
        if len(types) == 3 and tuple(types[2].get_shape()) != (ws[0],):
            raise VerifyException(f"bias must have shape ({ws[0]},)")
        strides, pads, dil = (_props_ints(props, k) for k in ("strides", "pads", "dilations"))
        oh = _window_out(xs[2], ws[2], strides[0], dil[0], pads[0] + pads[2])
        ow = _window_out(xs[3], ws[3], strides[1], dil[1], pads[1] + pads[3])
        if oh < 1 or ow < 1:
            raise VerifyException("the convolution window is larger than the padded input")
        if ws[0] % max(out_b, 1):
            raise VerifyException(f"out_layout: {ws[0]} channels do not divide into blocks of {out_b}")
        out = layouts.data_physical_shape([xs[0], ws[0], oh, ow], out_b)
        return [_tensor(out, _conv_result_elem(x.get_element_type()))]


@irdl_op_definition
class MatMulOp(GraphOp):
    """Batched matrix product of rank >= 2 operands with numpy batch broadcasting."""

    name = "graph.matmul"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.COMPLEX_OUT_FUSABLE
    lhs = operand_def(AnyTensor)
    rhs = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        a, b = types
        sa, sb = a.get_shape(), b.get_shape()
        if len(sa) < 2 or len(sb) < 2:
            raise VerifyException("graph.matmul operands must have rank >= 2")
        if a.get_element_type() != b.get_element_type():
            raise VerifyException("graph.matmul operands must share one element type")
        if dtypes.is_bool(a.get_element_type()):
            raise VerifyException("graph.matmul does not take i1 tensors")
        if sa[-1] != sb[-2]:
            raise VerifyException(f"contraction dims differ: {sa[-1]} and {sb[-2]}")
        batch = broadcast_shapes(sa[:-2], sb[:-2])
        return [_tensor([*batch, sa[-2], sb[-1]], a.get_element_type())]


@irdl_op_definition
class WinogradInputOp(GraphOp):
    """Winograd input transform of a 3x3 stride-1 conv (compiler/dialects/winograd.py).

    V[xi, t, c] = (B^T d B)[xi] for the (m+2) x (m+2) input tile d of output
    tile t = (n * TH + th) * TW + tw and channel c; tiles start every m rows
    and columns at -pads, and reads outside the input are 0. `tile` is m (2
    or 4), `pads` [top, left, bottom, right] as in graph.conv, `layout` the
    input's data layout ("NCHW" or "NCHW{c}c", absent: "NCHW"). The result
    [alpha^2, N*TH*TW, C] is the left operand of the batched GEMM.
    """

    name = "graph.winograd_input"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    tile = prop_def(IntegerAttr)
    pads = prop_def(DenseArrayBase)
    layout = opt_prop_def(StringAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (x,) = types
        m = _winograd_tile(props)
        try:
            n, c, h, w = layouts.data_logical_shape(x.get_shape(), _data_block(props, "layout"))
        except ValueError as err:
            raise VerifyException(f"{cls.name}: {err}") from None
        if not dtypes.is_float(x.get_element_type()):
            raise VerifyException(f"{cls.name} takes floating-point tensors")
        pads = _props_ints(props, "pads")
        if len(pads) != 4 or min(pads) < 0:
            raise VerifyException("pads must be 4 non-negative integers [top, left, bottom, right]")
        oh, ow = h + pads[0] + pads[2] - 2, w + pads[1] + pads[3] - 2
        if oh < 1 or ow < 1:
            raise VerifyException("the 3x3 window is larger than the padded input")
        th, tw = winograd.tile_counts(oh, ow, m)
        return [_tensor([winograd.alpha(m) ** 2, n * th * tw, c], x.get_element_type())]


@irdl_op_definition
class WinogradOutputOp(GraphOp):
    """Winograd output transform: y = A^T M A (+ bias) per tile, ragged edge tiles cut.

    `input` is the batched GEMM's [alpha^2, N*TH*TW, K] result, `bias` an
    optional [K]; `output` is the logical [N, OH, OW] of the result, stored in
    `layout` ("NCHW" or "NCHW{c}c", absent: "NCHW"). Complex-out-fusable as
    graph.conv: an element-wise epilogue fuses into the transform.
    """

    name = "graph.winograd_output"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.COMPLEX_OUT_FUSABLE
    input = operand_def(AnyTensor)
    bias = opt_operand_def(AnyTensor)
    result = result_def(AnyTensor)
    tile = prop_def(IntegerAttr)
    output = prop_def(DenseArrayBase)
    layout = opt_prop_def(StringAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        mm = types[0]
        m = _winograd_tile(props)
        shape = mm.get_shape()
        out = _props_ints(props, "output")
        if len(out) != 3 or min(out) < 1:
            raise VerifyException("output must be the logical [N, OH, OW], all positive")
        n, oh, ow = out
        th, tw = winograd.tile_counts(oh, ow, m)
        if len(shape) != 3 or shape[0] != winograd.alpha(m) ** 2 or shape[1] != n * th * tw:
            raise VerifyException(
                f"input must be [{winograd.alpha(m) ** 2}, {n * th * tw}, K] for tile {m} and output {list(out)}"
            )
        k = shape[2]
        if any(t.get_element_type() != mm.get_element_type() for t in types):
            raise VerifyException(f"{cls.name} operands must share one element type")
        if len(types) == 2 and tuple(types[1].get_shape()) != (k,):
            raise VerifyException(f"bias must have shape ({k},)")
        try:
            physical = layouts.data_physical_shape([n, k, oh, ow], _data_block(props, "layout"))
        except ValueError as err:
            raise VerifyException(f"{cls.name}: {err}") from None
        return [_tensor(physical, mm.get_element_type())]


def _winograd_tile(props: Mapping[str, Attribute]) -> int:
    m = _props_int(props, "tile")
    if m not in winograd.TILES:
        raise VerifyException(f"tile {m} is not a Winograd tile (use one of {winograd.TILES})")
    return m


class PoolOp(GraphOp):
    """2-D pooling over NCHW; pads as in graph.conv.

    Optional `layout` "NCHW{c}c": input and result are stored blocked
    ([N, C/c, H, W, c]); absent means "NCHW".
    """

    FUSION_KIND: ClassVar[FusionKind] = FusionKind.COMPLEX_OUT_FUSABLE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    kernel_shape = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    layout = opt_prop_def(StringAttr)
    HAS_DILATIONS: ClassVar[bool] = False
    TAKES_INTEGERS: ClassVar[bool] = False

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (x,) = types
        xs = x.get_shape()
        block = _data_block(props, "layout")
        if block:
            try:
                xs = layouts.data_logical_shape(xs, block)
            except ValueError as err:
                raise VerifyException(f"{cls.name}: {err}") from None
        if len(xs) != 4:
            raise VerifyException(f"{cls.name} takes a 4-D NCHW input")
        elem = x.get_element_type()
        if not (dtypes.is_float(elem) or (cls.TAKES_INTEGERS and dtypes.is_integer(elem))):
            kinds = "floating-point or integer" if cls.TAKES_INTEGERS else "floating-point"
            raise VerifyException(f"{cls.name} takes {kinds} tensors")
        _check_window(props, 2, cls.HAS_DILATIONS)
        kernel = _props_ints(props, "kernel_shape")
        if len(kernel) != 2 or any(k < 1 for k in kernel):
            raise VerifyException("kernel_shape must be 2 positive values")
        strides, pads = _props_ints(props, "strides"), _props_ints(props, "pads")
        dil = _props_ints(props, "dilations") if cls.HAS_DILATIONS else (1, 1)
        if any(p >= k * d for p, k, d in zip(pads, (*kernel, *kernel), (*dil, *dil), strict=True)):
            raise VerifyException("pads must be smaller than the kernel")
        oh = _window_out(xs[2], kernel[0], strides[0], dil[0], pads[0] + pads[2])
        ow = _window_out(xs[3], kernel[1], strides[1], dil[1], pads[1] + pads[3])
        if oh < 1 or ow < 1:
            raise VerifyException("the pooling window is larger than the padded input")
        out = layouts.data_physical_shape([xs[0], xs[1], oh, ow], block)
        return [_tensor(out, x.get_element_type())]


@irdl_op_definition
class MaxPoolOp(PoolOp):
    """Max over each window; padding never wins (it is -inf, or the integer type's minimum)."""

    name = "graph.max_pool"
    dilations = prop_def(DenseArrayBase)
    HAS_DILATIONS: ClassVar[bool] = True
    TAKES_INTEGERS: ClassVar[bool] = True


@irdl_op_definition
class AvgPoolOp(PoolOp):
    """Mean over each window; count_include_pad=0 divides by the in-bounds count."""

    name = "graph.avg_pool"
    count_include_pad = prop_def(IntegerAttr)


# ---------------------------------------------------------------------------
# Other ops


@irdl_op_definition
class BatchNormOp(GraphOp):
    """Inference batch norm over channel dim 1: (x - mean) / sqrt(var + eps) * scale + bias."""

    name = "graph.batch_norm"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.BROADCAST
    input = operand_def(AnyTensor)
    scale = operand_def(AnyTensor)
    bias = operand_def(AnyTensor)
    mean = operand_def(AnyTensor)
    var = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    epsilon = prop_def(FloatAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        x = types[0]
        xs = x.get_shape()
        if len(xs) < 2:
            raise VerifyException("graph.batch_norm takes an input of rank >= 2")
        if not dtypes.is_float(x.get_element_type()):
            raise VerifyException("graph.batch_norm takes floating-point tensors")
        for t in types[1:]:
            if tuple(t.get_shape()) != (xs[1],) or t.get_element_type() != x.get_element_type():
                raise VerifyException(f"scale, bias, mean and var must be tensor<{xs[1]}x{x.get_element_type()}>")
        return [x]


@irdl_op_definition
class LRNOp(GraphOp):
    """Local response normalization across channels (ONNX LRN)."""

    name = "graph.lrn"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    size = prop_def(IntegerAttr)
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)
    bias = prop_def(FloatAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (x,) = types
        if len(x.get_shape()) < 3 or not dtypes.is_float(x.get_element_type()):
            raise VerifyException("graph.lrn takes a floating-point tensor of rank >= 3")
        if _props_int(props, "size") < 1:
            raise VerifyException("size must be positive")
        return [x]


# ---------------------------------------------------------------------------
# Element-indexed gather and scatter (ONNX GatherElements / ScatterElements)


def _check_index_operands(name: str, data: TensorType, idx: TensorType, axis: int) -> None:
    if not dtypes.is_integer(idx.get_element_type()) or dtypes.is_bool(idx.get_element_type()):
        raise VerifyException(f"{name} indices must be integers")
    rank = len(data.get_shape())
    if len(idx.get_shape()) != rank:
        raise VerifyException(f"{name} indices must have the data's rank {rank}")
    if not 0 <= axis < rank:
        raise VerifyException(f"axis {axis} is out of range for rank {rank}")


@irdl_op_definition
class GatherElementsOp(GraphOp):
    """out[i] = data[i with dim `axis` replaced by indices[i]]; negative indices
    count from the end. The result has the indices' shape.

    Injective: each result element reads one data element, so it fuses like
    graph.gather (position ids of exported encoders go through it).
    """

    name = "graph.gather_elements"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.INJECTIVE
    data = operand_def(AnyTensor)
    indices = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        data, idx = types
        axis = _props_int(props, "axis")
        _check_index_operands(cls.name, data, idx, axis)
        for d, (n, m) in enumerate(zip(data.get_shape(), idx.get_shape(), strict=True)):
            if d != axis and m > n:
                raise VerifyException(f"indices dim {d} ({m}) is larger than the data's ({n})")
        return [_tensor(idx.get_shape(), data.get_element_type())]


SCATTER_REDUCTIONS = ("none", "add", "mul", "max", "min")


@irdl_op_definition
class ScatterElementsOp(GraphOp):
    """A copy of data where out[u with dim `axis` replaced by indices[u]] is
    updates[u] (reduction "none") or combined with it by add/mul/max/min, for
    every u of the updates, in row-major order. Negative indices count from the end.

    Opaque: writes land at data-dependent places, so the kernel copies and
    then scatters; ScatterND lowers to it on a [rows, row size] view.
    """

    name = "graph.scatter_elements"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    data = operand_def(AnyTensor)
    indices = operand_def(AnyTensor)
    updates = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)
    reduction = prop_def(StringAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        data, idx, upd = types
        axis = _props_int(props, "axis")
        _check_index_operands(cls.name, data, idx, axis)
        if tuple(idx.get_shape()) != tuple(upd.get_shape()):
            raise VerifyException("indices and updates must have one shape")
        if upd.get_element_type() != data.get_element_type():
            raise VerifyException("updates must have the data's element type")
        for d, (n, m) in enumerate(zip(data.get_shape(), idx.get_shape(), strict=True)):
            if d != axis and m > n:
                raise VerifyException(f"updates dim {d} ({m}) is larger than the data's ({n})")
        reduction = _props_str(props, "reduction")
        if reduction not in SCATTER_REDUCTIONS:
            raise VerifyException(f"reduction must be one of {', '.join(SCATTER_REDUCTIONS)}")
        if reduction != "none" and dtypes.is_bool(data.get_element_type()):
            raise VerifyException(f"reduction {reduction} does not take i1 tensors")
        return [data]


@irdl_op_definition
class TopKIndicesOp(GraphOp):
    """ONNX TopK's indices: along `axis`, the positions of the k largest
    (`largest` = 1) or smallest elements, best first, ties to the lower index.

    ONNX TopK is this op then graph.gather_elements for the values: one
    result keeps the op within what a kernel writes (one output buffer).
    """

    name = "graph.topk_indices"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)
    k = prop_def(IntegerAttr)
    largest = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        shape = list(t.get_shape())
        axis, k = _props_int(props, "axis"), _props_int(props, "k")
        if not 0 <= axis < len(shape):
            raise VerifyException(f"axis {axis} is out of range for rank {len(shape)}")
        if not 0 <= k <= shape[axis]:
            raise VerifyException(f"k={k} must be in [0, {shape[axis]}]")
        if dtypes.is_bool(t.get_element_type()):
            raise VerifyException(f"{cls.name} does not take i1 tensors")
        shape[axis] = k
        return [_tensor(shape, i64)]


@irdl_op_definition
class NonMaxSuppressionOp(GraphOp):
    """ONNX NonMaxSuppression with onnxruntime's order: rows [batch, class, box]
    for each batch, then class, in the order the greedy pass selects them
    (score descending, ties to the lower box index; a box is dropped when its
    IoU with a selected one exceeds the threshold).

    The number of selected rows depends on the data, and shapes are static:
    the result has room for `per_class` rows per batch and class, the
    selected rows come first and the rest are -1 (the frontend counts the
    rows >= 0 and the runtime cuts outputs to that count). Operands: boxes
    [B, N, 4], scores [B, C, N], max_output_boxes_per_class (i64 scalar),
    iou_threshold and score_threshold (f32 scalars; the latter is ignored
    unless `has_score_threshold`), num_boxes (i64 scalar: only the first
    num_boxes boxes take part, the rest being padding of a data-dependent
    selection). Opaque: a serial greedy scan.
    """

    name = "graph.non_max_suppression"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    boxes = operand_def(AnyTensor)
    scores = operand_def(AnyTensor)
    max_output = operand_def(AnyTensor)
    iou_threshold = operand_def(AnyTensor)
    score_threshold = operand_def(AnyTensor)
    num_boxes = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    center_point_box = prop_def(IntegerAttr)
    has_score_threshold = prop_def(IntegerAttr)
    per_class = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        boxes, scores, max_out, iou, score, num_boxes = types
        b_shape, s_shape = tuple(boxes.get_shape()), tuple(scores.get_shape())
        if len(b_shape) != 3 or b_shape[2] != 4:
            raise VerifyException(f"boxes must have shape [batch, boxes, 4], got {list(b_shape)}")
        if len(s_shape) != 3 or s_shape[0] != b_shape[0] or s_shape[2] != b_shape[1]:
            raise VerifyException(
                f"scores must have shape [{b_shape[0]}, classes, {b_shape[1]}], got {list(s_shape)}"
            )
        for name, t in (("boxes", boxes), ("scores", scores), ("iou_threshold", iou), ("score_threshold", score)):
            if not dtypes.is_float(t.get_element_type()) or t.get_element_type() != boxes.get_element_type():
                raise VerifyException(f"{name} must have the boxes' float element type")
        for name, t in (("max_output", max_out), ("iou_threshold", iou), ("score_threshold", score), ("num_boxes", num_boxes)):
            if tuple(t.get_shape()) != ():
                raise VerifyException(f"{name} must be a scalar")
        if max_out.get_element_type() != i64 or num_boxes.get_element_type() != i64:
            raise VerifyException("max_output and num_boxes must be i64")
        if _props_int(props, "center_point_box") not in (0, 1):
            raise VerifyException("center_point_box must be 0 or 1")
        per_class = _props_int(props, "per_class")
        if not 0 <= per_class <= b_shape[1]:
            raise VerifyException(f"per_class={per_class} must be in [0, {b_shape[1]}]")
        return [_tensor([s_shape[0] * s_shape[1] * per_class, 3], i64)]


@irdl_op_definition
class NonZeroOp(GraphOp):
    """ONNX NonZero of a run-time input: [rank, size] i64, the coordinates of the
    nonzero elements in row-major order, then columns of -1 (the count of
    real columns is data-dependent; see NonMaxSuppressionOp). Opaque: a serial scan."""

    name = "graph.non_zero"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        shape = tuple(t.get_shape())
        if not shape:
            raise VerifyException("input must have rank 1 or more")
        return [_tensor([len(shape), math.prod(shape)], i64)]


ROI_ALIGN_MODES = ("avg", "max")


def _roi_shapes(x: TensorType, rois: TensorType, columns: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shapes of a rank-4 float input and its [num_rois, columns] rois of the same type."""
    shape = tuple(x.get_shape())
    if len(shape) != 4:
        raise VerifyException(f"input must have rank 4, got {len(shape)}")
    if not dtypes.is_float(x.get_element_type()) or rois.get_element_type() != x.get_element_type():
        raise VerifyException("input and rois must have one float element type")
    r_shape = tuple(rois.get_shape())
    if len(r_shape) != 2 or r_shape[1] != columns:
        raise VerifyException(f"rois must have shape [num_rois, {columns}], got {list(r_shape)}")
    return shape, r_shape


@irdl_op_definition
class RoiAlignOp(GraphOp):
    """ONNX RoiAlign as onnxruntime computes it: for each roi [x1, y1, x2, y2]
    (scaled by `spatial_scale`, shifted by half a pixel when `half_pixel`) of
    image batch_indices[r], an output_height x output_width grid of bins, each
    the average (or max) of a grid of bilinear samples: `sampling_ratio` per
    side, or ceil(bin size) when it is 0 (adaptive: a data-dependent count).

    Max mode is onnxruntime's: the max over samples of the max of the four
    weighted corners, not of the interpolated values. Opaque: its loads go to
    data-dependent places.
    """

    name = "graph.roi_align"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    rois = operand_def(AnyTensor)
    batch_indices = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    mode = prop_def(StringAttr)
    output_height = prop_def(IntegerAttr)
    output_width = prop_def(IntegerAttr)
    sampling_ratio = prop_def(IntegerAttr)
    spatial_scale = prop_def(FloatAttr)
    half_pixel = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        x, rois, idx = types
        shape, r_shape = _roi_shapes(x, rois, 4)
        if tuple(idx.get_shape()) != (r_shape[0],) or idx.get_element_type() != i64:
            raise VerifyException(f"batch_indices must be i64 of shape [{r_shape[0]}]")
        if _props_str(props, "mode") not in ROI_ALIGN_MODES:
            raise VerifyException(f"mode must be one of {', '.join(ROI_ALIGN_MODES)}")
        oh, ow = _props_int(props, "output_height"), _props_int(props, "output_width")
        if oh < 1 or ow < 1:
            raise VerifyException("output_height and output_width must be positive")
        if _props_int(props, "sampling_ratio") < 0:
            raise VerifyException("sampling_ratio must be >= 0")
        return [_tensor([r_shape[0], shape[1], oh, ow], x.get_element_type())]


@irdl_op_definition
class MaxRoiPoolOp(GraphOp):
    """ONNX MaxRoiPool as onnxruntime computes it: rois are [batch, x1, y1, x2, y2]
    rows, scaled by `spatial_scale` and rounded (half away from zero) to pixels;
    each of the pooled_height x pooled_width bins is the max over its pixels,
    0 when the bin is empty. Opaque: its loads go to data-dependent places."""

    name = "graph.max_roi_pool"
    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    rois = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    pooled_height = prop_def(IntegerAttr)
    pooled_width = prop_def(IntegerAttr)
    spatial_scale = prop_def(FloatAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        x, rois = types
        shape, r_shape = _roi_shapes(x, rois, 5)
        ph, pw = _props_int(props, "pooled_height"), _props_int(props, "pooled_width")
        if ph < 1 or pw < 1:
            raise VerifyException("pooled_height and pooled_width must be positive")
        return [_tensor([r_shape[0], shape[1], ph, pw], x.get_element_type())]


class ScanOp(GraphOp):
    """Running sums or products along `axis` (ONNX CumSum, CumProd): out[i]
    combines x[j] for j <= i (j < i when `exclusive`, its first element the
    identity; j >= i / j > i when `reverse`).

    Opaque: its kernel is a scan, each element from the previous one.
    """

    FUSION_KIND: ClassVar[FusionKind] = FusionKind.OPAQUE
    input = operand_def(AnyTensor)
    result = result_def(AnyTensor)
    axis = prop_def(IntegerAttr)
    exclusive = prop_def(IntegerAttr)
    reverse = prop_def(IntegerAttr)

    @classmethod
    def infer(cls, types: Sequence[TensorType], props: Mapping[str, Attribute]) -> list[TensorType]:
        (t,) = types
        axis = _props_int(props, "axis")
        if not 0 <= axis < len(t.get_shape()):
            raise VerifyException(f"axis {axis} is out of range for rank {len(t.get_shape())}")
        if dtypes.is_bool(t.get_element_type()):
            raise VerifyException(f"{cls.name} does not take i1 tensors")
        return [t]


@irdl_op_definition
class CumSumOp(ScanOp):
    """Running sums (ONNX CumSum)."""

    name = "graph.cumsum"


@irdl_op_definition
class CumProdOp(ScanOp):
    """Running products (ONNX CumProd); an exclusive scan starts from 1."""

    name = "graph.cumprod"


GRAPH_OPS: list[type[Operation]] = [
    ConstantOp,
    FusedOp,
    YieldOp,
    IdentityOp,
    NegOp,
    AbsOp,
    SignOp,
    ReluOp,
    ExpOp,
    LogOp,
    SqrtOp,
    ReciprocalOp,
    SigmoidOp,
    TanhOp,
    ErfOp,
    FloorOp,
    CeilOp,
    RoundOp,
    SinOp,
    CosOp,
    TanOp,
    AsinOp,
    AcosOp,
    AtanOp,
    SinhOp,
    CoshOp,
    AsinhOp,
    AcoshOp,
    AtanhOp,
    SoftplusOp,
    NotOp,
    LeakyReluOp,
    EluOp,
    HardSigmoidOp,
    ClipOp,
    CastOp,
    AddOp,
    SubOp,
    MulOp,
    DivOp,
    PowOp,
    MaxOp,
    MinOp,
    ModOp,
    EqualOp,
    LessOp,
    LessEqualOp,
    GreaterOp,
    GreaterEqualOp,
    AndOp,
    OrOp,
    XorOp,
    BitwiseAndOp,
    BitwiseOrOp,
    BitwiseXorOp,
    ShiftLeftOp,
    ShiftRightOp,
    BitwiseNotOp,
    WhereOp,
    ReshapeOp,
    BroadcastToOp,
    TransposeOp,
    SliceOp,
    ConcatOp,
    GatherOp,
    GatherElementsOp,
    ScatterElementsOp,
    TopKIndicesOp,
    NonMaxSuppressionOp,
    NonZeroOp,
    RoiAlignOp,
    MaxRoiPoolOp,
    CumSumOp,
    CumProdOp,
    PadOp,
    ReduceSumOp,
    ReduceMeanOp,
    ReduceMaxOp,
    ReduceMinOp,
    ReduceProdOp,
    ArgMaxOp,
    ArgMinOp,
    SoftmaxOp,
    LogSoftmaxOp,
    LayerNormOp,
    ConvOp,
    MatMulOp,
    WinogradInputOp,
    WinogradOutputOp,
    MaxPoolOp,
    AvgPoolOp,
    BatchNormOp,
    LRNOp,
    LayoutTransformOp,
]

Graph = Dialect("graph", GRAPH_OPS, [])


def fusion_kind(op: Operation) -> FusionKind:
    """The fusion kind of any op (non-graph ops are opaque)."""
    return getattr(type(op), "FUSION_KIND", FusionKind.OPAQUE)


__all__ = ["FusionKind", "Graph", "GraphOp", "fusion_kind"]
