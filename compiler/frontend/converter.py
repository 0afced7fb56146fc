"""What an ONNX op converter works with: the converter registry, `NodeBuilder`
(a node's inputs, attributes and an op emitter) and import-time constant folding.

The converters themselves live in `onnx_ops/` and register here with
`@converter("OpType")` (`@converter("OpType", domain=MS_DOMAIN)` for onnxruntime's
contrib ops); `compiler.frontend.onnx` imports them and drives the
import. Nothing here imports either, so the imports point one way:
onnx -> onnx_ops -> converter.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import onnx
from onnx import numpy_helper
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.errors import CompilerError, ConstantInputError, UnsupportedOpError
from compiler.interpreter import evaluate

# Ops with all-constant operands are evaluated at import when every result
# has at most this many elements; bigger constant work is `fold-constants`' job.
IMPORT_FOLD_LIMIT = 1 << 16

_OpT = TypeVar("_OpT", bound=Operation)
Converter = Callable[["NodeBuilder"], Sequence["Value | None"]]

MS_DOMAIN = "com.microsoft"
"""onnxruntime's contrib ops: what its quantizer (QOperator format) and its
transformer optimizer write besides standard ONNX ops."""

CONVERTERS: dict[str, Converter] = {}
"""Converters of the default ONNX domain ("" or "ai.onnx"), by op type."""

DOMAIN_CONVERTERS: dict[str, dict[str, Converter]] = {"": CONVERTERS, MS_DOMAIN: {}}
"""Converters by domain, then op type; the default domain's table is CONVERTERS."""


def canonical_domain(domain: str) -> str:
    """The default domain, spelled "" or "ai.onnx", as ""."""
    return "" if domain == "ai.onnx" else domain


def converter(*op_types: str, domain: str = "") -> Callable[[Converter], Converter]:
    """Registers the converter of one or more ONNX op types of `domain` (default: ONNX's own)."""
    table = DOMAIN_CONVERTERS[canonical_domain(domain)]

    def register(fn: Converter) -> Converter:
        for op_type in op_types:
            assert op_type not in table, (domain, op_type)
            table[op_type] = fn
        return fn

    return register


@dataclass(frozen=True)
class TensorSequence:
    """An ONNX sequence value, which exists only during the import.

    Shapes are static, so every sequence has a known length: its elements are
    graph values, and the sequence ops (SequenceConstruct, SequenceAt,
    SplitToSequence, ConcatFromSequence, ...) rearrange them, emitting at most
    the slices and concats that split or join tensors. `elem_type` is the
    element type (None for an empty sequence whose type nothing said).
    """

    items: tuple[SSAValue, ...]
    elem_type: Attribute | None


Value = SSAValue | TensorSequence


@dataclass
class ImportState:
    source: str | None
    opset: int
    block: Block
    values: dict[str, Value] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    # Block argument -> the graph input's name, to say which inputs to specialize.
    arg_names: dict[SSAValue, str] = field(default_factory=dict)
    # Converts one node into `block` (compiler.frontend.onnx's); subgraphs (If
    # branches, SequenceMap bodies) go through it too.
    convert_node: Callable[[ImportState, onnx.NodeProto], None] | None = None
    # Values whose dim 0 holds a data-dependent number of rows (NonMaxSuppression's
    # result and what is computed row by row from it): the padded value -> its
    # row count (an i64 scalar) and the node it comes from. See `dynamic_rows.py`.
    dynamic_rows: dict[SSAValue, DynamicRows] = field(default_factory=dict)
    # Small i64 values computed from the shape of such a padded value (`x.shape[0]`
    # and arithmetic on it): what each entry holds, a constant or a run-time row
    # count with its bound. See `dynamic_shapes.py`.
    shape_values: dict[SSAValue, ShapeVector] = field(default_factory=dict)
    # Concat along a padded axis: the gather index that moves the real entries
    # together and their total, per (size, count) of the pieces.
    concat_sources: dict[tuple[Any, ...], tuple[SSAValue, SSAValue]] = field(default_factory=dict)
    # 4-bit initializers (quantize_static's QInt4/QUInt4 weights and their zero
    # points), widened to 8 bits: DequantizeLinear reads them as it reads i8/u8,
    # but a QuantizeLinear to such a zero point's type would saturate at 8 bits.
    four_bit: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class DynamicRows:
    """A value's number of valid leading rows, known at run time only.

    Shapes are static, so such a value is padded to its largest possible
    row count; `count` (an i64 scalar graph value) says how many rows are
    real, and `origin` names the node that made the count data-dependent.
    """

    count: SSAValue
    origin: str
    axis: int = 0
    """The padded axis (NMS's selection: 0; NonZero's [rank, n]: 1)."""


@dataclass(frozen=True)
class RowDim:
    """One entry of a shape vector known at run time only: `count` (an i64
    scalar graph value) is at most `bound`."""

    count: SSAValue
    bound: int
    origin: str


Entry = int | RowDim
"""A shape vector's entry: static, or a run-time count."""


@dataclass(frozen=True)
class ShapeVector:
    """What a small i64 value holds, entry by entry (`scalar`: rank 0, one entry)."""

    entries: tuple[Entry, ...]
    scalar: bool = False

    @property
    def dynamic(self) -> list[tuple[int, RowDim]]:
        return [(i, e) for i, e in enumerate(self.entries) if isinstance(e, RowDim)]

    def bounds(self) -> list[int]:
        return [e.bound if isinstance(e, RowDim) else e for e in self.entries]



class NodeBuilder:
    """What a converter sees: the node's inputs, attributes and an op emitter."""

    def __init__(self, state: ImportState, node: onnx.NodeProto):
        self.state = state
        self.node = node
        self.opset = state.opset
        self.domain = canonical_domain(node.domain)
        self.attrs = {a.name: a for a in node.attribute}

    # errors ------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        """The node's name, or (exporters often leave names empty) its first output's."""
        return self.node.name or (self.node.output[0] if self.node.output else "")

    @property
    def op_label(self) -> str:
        """The op type, qualified by its domain outside ONNX's own ("com.microsoft.QLinearAdd")."""
        return f"{self.domain}.{self.node.op_type}" if self.domain else self.node.op_type

    def error(self, message: str, hint: str | None = None) -> CompilerError:
        return UnsupportedOpError(
            message,
            file=self.state.source,
            node=self.display_name,
            op_type=self.op_label,
            opset=self.opset,
            hint=hint,
        )

    # inputs ------------------------------------------------------------------

    def has_input(self, i: int) -> bool:
        return i < len(self.node.input) and self.node.input[i] != ""

    def input(self, i: int) -> SSAValue:
        value = self.any_input(i)
        if isinstance(value, TensorSequence):
            raise self.error(f"input {i} is a sequence, {self.node.op_type} takes a tensor")
        return value

    def any_input(self, i: int) -> Value:
        """Input i, a tensor or a sequence."""
        if not self.has_input(i):
            raise self.error(f"input {i} is required")
        return self.state.values[self.node.input[i]]

    def sequence_input(self, i: int) -> TensorSequence:
        value = self.any_input(i)
        if not isinstance(value, TensorSequence):
            raise self.error(f"input {i} is a tensor, {self.node.op_type} takes a sequence")
        return value

    def opt_input(self, i: int) -> SSAValue | None:
        return self.input(i) if self.has_input(i) else None

    def set_dynamic_rows(self, value: SSAValue, count: SSAValue, axis: int = 0) -> None:
        """Marks `value`'s dim `axis` as padded, with `count` real entries (an i64 scalar)."""
        origin = f"{self.node.op_type} node '{self.display_name}'"
        self.state.dynamic_rows[value] = DynamicRows(count, origin, axis)

    def dynamic_rows(self, value: SSAValue) -> DynamicRows | None:
        """The count and padded axis of a value with a data-dependent length, else None."""
        return self.state.dynamic_rows.get(value)

    @property
    def inputs(self) -> list[SSAValue]:
        return [self.input(i) for i, n in enumerate(self.node.input) if n]

    def inline_graph(self, graph: onnx.GraphProto, args: Sequence[Value], what: str) -> list[Value]:
        """Converts a subgraph's nodes into the current block, its inputs bound to `args`.

        `what` names the subgraph in errors ("then_branch", "body"). Names of
        the enclosing graphs stay visible, as ONNX's scoping says; the
        subgraph's own names are forgotten afterwards, so a body can be
        inlined once per element.
        """
        if len(graph.input) != len(args):
            raise self.error(f"{what} takes {len(graph.input)} inputs, {len(args)} are given")
        assert self.state.convert_node is not None
        outer = self.state.values
        self.state.values = dict(outer)
        try:
            for vi, arg in zip(graph.input, args, strict=True):
                self.state.values[vi.name] = arg
            for tensor in graph.initializer:
                self.state.values[tensor.name] = self.constant(numpy_helper.to_array(tensor))
            for node in graph.node:
                self.state.convert_node(self.state, node)
            missing = [vi.name for vi in graph.output if vi.name not in self.state.values]
            if missing:
                raise self.error(f"{what} output '{missing[0]}' is never produced")
            return [self.state.values[vi.name] for vi in graph.output]
        finally:
            self.state.values = outer

    def const_input(self, i: int, what: str = "") -> np.ndarray:
        """The value of input i, which must be a constant (e.g. a shape)."""
        value = constant_value(self.input(i))
        if value is None:
            label = f"input {i}{' (' + what + ')' if what else ''}"
            names = self.graph_inputs_behind(self.input(i))
            if not names:
                raise self.error(
                    f"{label} must be a constant",
                    hint="data-dependent shapes are not supported; pin input shapes",
                )
            listed = ", ".join(f"'{n}'" for n in names)
            example = ", ".join(f"{n!r}: array" for n in names)
            raise ConstantInputError(
                f"{label} must be a constant; it comes from graph input {listed}",
                graph_inputs=names,
                file=self.state.source,
                node=self.display_name,
                op_type=self.node.op_type,
                opset=self.opset,
                hint=f"bind it at compile time: compile(..., specialize={{{example}}})",
            )
        return value

    def graph_inputs_behind(self, value: SSAValue) -> tuple[str, ...]:
        """The graph inputs that a non-constant value is computed from (every graph op is pure).

        Empty when it does not depend on graph inputs alone (it cannot then
        become constant by specialization).
        """
        found: list[str] = []
        seen: set[SSAValue] = set()
        stack = [value]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if v in self.state.arg_names:
                found.append(self.state.arg_names[v])
            elif isinstance(v.owner, Operation):
                if isinstance(v.owner, g.ConstantOp):
                    continue
                if v.owner.regions:
                    return ()
                stack.extend(v.owner.operands)
            else:
                return ()  # a block argument of something other than main
        return tuple(sorted(set(found)))

    def one_value(self, array: np.ndarray, what: str) -> np.generic:
        """The single element of a scalar-like constant (min, max, ratio, pad value, ...)."""
        array = np.asarray(array)
        if array.size != 1:
            raise self.error(f"{what} must hold one value, got shape {array.shape}")
        return array.reshape(-1)[0]

    def opt_const_input(self, i: int, what: str = "") -> np.ndarray | None:
        return self.const_input(i, what) if self.has_input(i) else None

    # attributes --------------------------------------------------------------

    def attr(self, name: str, default: Any = None, kind: int | None = None) -> Any:
        """The attribute's value, or `default`. Its type is checked against ONNX's
        schema of the op; ONNX has none of other domains' ops (and a contrib op may
        share a standard op's name, like com.microsoft's Gelu), whose attributes
        must have the type `kind` (an AttributeProto type) or that of `default`."""
        a = self.attrs.get(name)
        if a is None:
            return default
        if self.domain:
            expected = kind if kind is not None else _ATTRIBUTE_KINDS.get(type(default))
        else:
            expected = schema_attribute_types(self.node.op_type, self.opset).get(name)
        if expected is not None and a.type != expected:
            # A damaged or hand-edited file: the converter would misread the payload.
            raise self.error(
                f"attribute '{name}' has type {_attr_type_name(a.type)}, "
                f"{self.node.op_type} expects {_attr_type_name(expected)}"
            )
        try:
            value = onnx.helper.get_attribute_value(a)
        except ValueError:  # a type tag that ONNX does not define
            raise self.error(f"attribute '{name}' has unknown type {a.type}") from None
        if a.type == onnx.AttributeProto.FLOAT:
            # ONNX float attributes are float32: keep the shortest decimal that
            # names the same float32 (0.2, not 0.20000000298023224) so the IR reads well.
            return float(str(np.float32(value)))
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, onnx.TensorProto):
            return numpy_helper.to_array(value)
        if isinstance(value, list):
            return [v.decode() if isinstance(v, bytes) else v for v in value]
        return value

    def required_attr(self, name: str, kind: int | None = None) -> Any:
        """An attribute the op cannot do without (Cast's `to`, LRN's `size`, ...)."""
        value = self.attr(name, kind=kind)
        if value is None:
            raise self.error(f"attribute '{name}' is required")
        return value

    def ints_attr(self, name: str, default: Sequence[int] | None = None) -> list[int] | None:
        value = self.attr(name, kind=onnx.AttributeProto.INTS)
        if value is None:
            return None if default is None else list(default)
        return [int(v) for v in value]

    def reject_attr(self, name: str, allowed: Callable[[Any], bool], why: str) -> None:
        value = self.attr(name)
        if value is not None and not allowed(value):
            raise self.error(f"attribute {name}={value!r} is not supported: {why}")

    # emitting ----------------------------------------------------------------

    def emit(self, op: _OpT) -> _OpT:
        """Inserts `op`, verifying it (a diagnostic names this node)."""
        self.state.block.add_op(op)
        try:
            op.verify()
        except DiagnosticException as err:
            raise self.error(f"invalid {op.name}: {err}") from None
        for result in op.results:
            too_large = tensor_too_large(result.type)
            if too_large:
                raise self.error(f"its result {too_large}", hint="check the shapes in the model")
        return op

    def make(
        self,
        cls: type[g.GraphOp],
        operands: Sequence[SSAValue],
        result_types: Sequence[Attribute] | None = None,
        **props: object,
    ) -> SSAValue:
        """Builds, inserts and (when its operands are small constants) folds one op."""
        try:
            op = cls.make(operands, result_types, **props)
        except DiagnosticException as err:
            raise self.error(f"invalid {cls.name}: {err}") from None
        self.emit(op)
        return fold_if_constant(op)

    def constant(self, array: np.ndarray, element_type: Attribute | None = None) -> SSAValue:
        op = g.ConstantOp.from_numpy(np.asarray(array), element_type)
        self.state.block.add_op(op)
        return op.result


def constant_value(value: SSAValue) -> np.ndarray | None:
    owner = value.owner
    if isinstance(owner, g.ConstantOp):
        return owner.to_numpy()
    return None


def fold_if_constant(op: Operation) -> SSAValue:
    """Replaces `op` by a constant when its operands are constants and its result is small."""
    result = op.results[0]
    if not op.operands or len(op.results) != 1:
        return result
    args = [constant_value(v) for v in op.operands]
    if any(a is None for a in args):
        return result
    if math.prod(g.shape_of(result)) > IMPORT_FOLD_LIMIT:
        return result
    (array,) = evaluate(op, [a for a in args if a is not None])
    const = g.ConstantOp.from_numpy(array, g.elem_of(result))
    block = op.parent_block()
    assert block is not None
    block.insert_op_before(const, op)
    result.replace_all_uses_with(const.result)
    op.detach()
    op.erase()
    return const.result


_ATTRIBUTE_KINDS: dict[type, int] = {
    int: onnx.AttributeProto.INT,
    float: onnx.AttributeProto.FLOAT,
    str: onnx.AttributeProto.STRING,
}
"""The attribute type a default value implies (for ops ONNX has no schema of)."""


@functools.cache
def schema_attribute_types(op_type: str, opset: int) -> dict[str, int]:
    """{attribute name: AttributeProto type} of the default-domain op at `opset` ({} if unknown)."""
    try:
        schema = onnx.defs.get_schema(op_type, opset, "")
    except onnx.defs.SchemaError:
        return {}
    return {name: int(a.type.value) for name, a in schema.attributes.items()}


def _attr_type_name(tag: int) -> str:
    try:
        return onnx.AttributeProto.AttributeType.Name(tag)
    except ValueError:
        return str(tag)


MAX_TENSOR_BYTES = 1 << 48
"""256 TiB: far beyond any real tensor, and far enough below 2**63 that byte
sizes and offsets computed from shapes never overflow int64."""


def tensor_too_large(type_: Attribute) -> str | None:
    """A one-line reason when `type_` is a tensor of more than MAX_TENSOR_BYTES, else None."""
    if not isinstance(type_, TensorType):
        return None
    elements = math.prod(int(d) for d in type_.get_shape())
    try:
        itemsize = dtypes.to_numpy_dtype(type_.get_element_type()).itemsize
    except CompilerError:
        itemsize = 1
    if elements * itemsize <= MAX_TENSOR_BYTES:
        return None
    return f"tensor of shape {list(type_.get_shape())} would take {elements * itemsize:.3g} bytes"
