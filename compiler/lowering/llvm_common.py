"""Shared pieces of the conversions to the llvm dialect.

Type mapping (the same in every `convert-*-to-llvm` pass):

- `index` becomes `i64`, `vector<N x index>` becomes `vector<N x i64>`;
- every `memref` becomes a bare `!llvm.ptr` to its element at all-zero indices,
  the layout offset already applied (xDSL's memref-to-ptr convention). Shapes
  are static, so strides are constants and no descriptor is needed;
- integers, floats and vectors of them are unchanged.

Each pass converts its own ops only. Where a converted op meets a value of a
not-yet-converted type (or the reverse) it inserts a
`builtin.unrealized_conversion_cast`, as MLIR's dialect conversion does; after
the last pass every cast meets its inverse and `reconcile-unrealized-casts`
removes both. The passes can therefore run (and be tested) one at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import UnionType
from typing import ClassVar, Union, get_args, get_origin

from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    NoneAttr,
    ShapedType,
    StridedLayoutAttr,
    UnrealizedConversionCastOp,
    VectorType,
    i64,
)
from xdsl.dialects.utils import FastMathAttrBase
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriter, RewritePattern
from xdsl.rewriter import InsertPoint
from xdsl.transforms.dead_code_elimination import is_trivially_dead
from xdsl.utils.exceptions import DiagnosticException

LLVM_PTR = llvm.LLVMPointerType()


def convert_type(type_: Attribute) -> Attribute:
    """The llvm-dialect type of a value of upstream type `type_`."""
    if isinstance(type_, IndexType):
        return i64
    if isinstance(type_, MemRefType):
        return LLVM_PTR
    if isinstance(type_, VectorType) and isinstance(type_.element_type, IndexType):
        return VectorType(i64, type_.get_shape())
    return type_


def needs_conversion(type_: Attribute) -> bool:
    return convert_type(type_) != type_


def to_llvm(value: SSAValue, rewriter: PatternRewriter) -> SSAValue:
    """`value` as its llvm-dialect type, through a cast when its type differs.

    Casting back a value that a cast produced reuses the cast's input, so
    chains do not grow with every pass.
    """
    target = convert_type(value.type)
    if target == value.type:
        return value
    owner = value.owner
    if (
        isinstance(owner, UnrealizedConversionCastOp)
        and len(owner.inputs) == 1
        and owner.inputs[0].type == target
    ):
        return owner.inputs[0]
    return rewriter.insert(UnrealizedConversionCastOp.get([value], [target])).results[0]


_uncast: list[SSAValue] | None = None
"""Within `uncast_results`: the nameless values `from_llvm` left uncast."""


@contextmanager
def uncast_results() -> Iterator[None]:
    """Within the block, `from_llvm` casts back memref values only.

    For a walk that converts every op, each before its users (convert-to-llvm's
    one walk): a user reads an index (or vector of index) value through
    `to_llvm`, which takes an i64 value as it is, so the cast back would only
    be removed again by reconcile-unrealized-casts. A memref value keeps its
    cast: users read its shape and layout from the memref type.

    A value that replaces an op takes the op's name. With the cast, the cast
    took it, and passed it on only if it was still used when the walk ended,
    i.e. by a func.call or func.return (convert-func-to-llvm's, later): the
    names of the other values left uncast are cleared at the end, so that the
    module reads the same either way.
    """
    global _uncast
    saved, _uncast = _uncast, []
    try:
        yield
    finally:
        for value in _uncast:
            if not any(isinstance(use.operation, func.CallOp | func.ReturnOp) for use in value.uses):
                value.name_hint = None
        _uncast = saved


def from_llvm(value: SSAValue, original_type: Attribute, rewriter: PatternRewriter) -> SSAValue:
    """The inverse of `to_llvm`: `value` (an llvm-dialect value) as `original_type`."""
    if value.type == original_type:
        return value
    if _uncast is not None and not isinstance(original_type, MemRefType):
        if value.name_hint is None:
            _uncast.append(value)
        return value
    owner = value.owner
    if (
        isinstance(owner, UnrealizedConversionCastOp)
        and len(owner.inputs) == 1
        and owner.inputs[0].type == original_type
    ):
        return owner.inputs[0]
    return rewriter.insert(UnrealizedConversionCastOp.get([value], [original_type])).results[0]


def convert_block_args(block: Block, rewriter: PatternRewriter) -> None:
    """Give `block`'s arguments their llvm types; casts at the block start keep old uses valid."""
    for arg in list(block.args):
        old_type = arg.type
        new_type = convert_type(old_type)
        if new_type == old_type:
            continue
        new_arg = rewriter.replace_value_with_new_type(arg, new_type)
        if not new_arg.uses:
            continue
        cast = UnrealizedConversionCastOp.get([new_arg], [old_type])
        rewriter.insert(cast, InsertPoint.at_start(block))
        rewriter.replace_uses_with_if(
            new_arg, cast.results[0], lambda u, c=cast: u.operation is not c
        )


@functools.lru_cache(maxsize=256)
def _llvm_fastmath(attr: Attribute | None) -> llvm.FastMathAttr:
    if isinstance(attr, FastMathAttrBase):
        return llvm.FastMathAttr(attr.data)
    return llvm.FastMathAttr(None)


def llvm_fastmath(attr: Attribute | None) -> llvm.FastMathAttr:
    """arith/math fastmath flags as llvm fastmath flags (the same bits).

    Attributes are immutable, so each one is built once (building is slow).
    """
    return _llvm_fastmath(attr)


@functools.lru_cache(maxsize=4096)
def integer_attr(value: int, type_: IntegerType) -> IntegerAttr:
    """`IntegerAttr(value, type_)`, built once per value and type (attributes are immutable)."""
    return IntegerAttr(value, type_)


def constant(value: int | float, type_: Attribute, rewriter: PatternRewriter) -> SSAValue:
    """An `llvm.mlir.constant` of a scalar or splat-vector type."""
    if isinstance(type_, VectorType):
        count = 1
        for dim in type_.get_shape():
            count *= dim
        attr: Attribute = DenseIntOrFPElementsAttr.from_list(type_, [value] * count)
    elif isinstance(type_, IntegerType):
        attr = integer_attr(int(value), type_)
    else:
        attr = FloatAttr(float(value), type_)  # type: ignore[arg-type]
    return rewriter.insert(llvm.ConstantOp(attr, type_)).result


def i64_constant(value: int, rewriter: PatternRewriter) -> SSAValue:
    return constant(value, i64, rewriter)


def strides_and_offset(memref_type: MemRefType) -> tuple[list[int], int]:
    """Static element strides and offset of a memref (identity or strided layout)."""
    shape = memref_type.get_shape()
    layout = memref_type.layout
    if isinstance(layout, NoneAttr):
        return list(ShapedType.strides_for_shape(shape)), 0
    if isinstance(layout, StridedLayoutAttr):
        strides = layout.get_strides()
        offset = layout.get_offset()
        if any(s is None for s in strides) or offset is None:
            raise DiagnosticException(f"dynamic strides or offset are not supported: {memref_type}")
        return [int(s) for s in strides if s is not None], int(offset)
    raise DiagnosticException(f"unsupported memref layout {layout} in {memref_type}")


def element_bytes(type_: Attribute) -> int:
    """Storage size of one element (i1 and i8 take one byte)."""
    if isinstance(type_, VectorType):
        count = 1
        for dim in type_.get_shape():
            count *= dim
        return count * element_bytes(type_.element_type)
    if isinstance(type_, IntegerType):
        return max(1, (type_.width.data + 7) // 8)
    if isinstance(type_, IndexType):
        return 8
    bitwidth = getattr(type_, "bitwidth", None)
    if isinstance(bitwidth, int):
        return bitwidth // 8
    raise DiagnosticException(f"no storage size for element type {type_}")


def storage_type(type_: Attribute) -> Attribute:
    """The llvm type a memref element is stored as in memory."""
    return convert_type(type_)


def element_pointer(
    memref: SSAValue,
    indices: Sequence[SSAValue],
    rewriter: PatternRewriter,
) -> SSAValue:
    """Address of `memref[indices]`: one inbounds GEP over the linearized index.

    The pointer of a memref already includes its layout offset, so only
    `sum(index_i * stride_i)` is added. Constant indices fold into the GEP.
    """
    memref_type = memref.type
    assert isinstance(memref_type, MemRefType)
    base = to_llvm(memref, rewriter)
    strides, _ = strides_and_offset(memref_type)
    linear: SSAValue | None = None
    static_part = 0
    for index, stride in zip(indices, strides, strict=True):
        known = constant_int(index)
        if known is not None:
            static_part += known * stride
            continue
        term = to_llvm(index, rewriter)
        if stride != 1:
            term = rewriter.insert(llvm.MulOp(term, i64_constant(stride, rewriter))).res
        linear = term if linear is None else rewriter.insert(llvm.AddOp(linear, term)).res
    if linear is None and static_part == 0:
        return base
    gep_indices: list[int | SSAValue]
    if linear is None:
        gep_indices = [static_part]
    elif static_part:
        linear = rewriter.insert(llvm.AddOp(linear, i64_constant(static_part, rewriter))).res
        gep_indices = [linear]
    else:
        gep_indices = [linear]
    elem = storage_type(memref_type.element_type)
    return rewriter.insert(
        llvm.GEPOp.from_mixed_indices(base, gep_indices, elem, inbounds=True)
    ).result


def constant_int(value: SSAValue) -> int | None:
    """The integer a value is known to be (from arith/llvm constants), else None."""
    from xdsl.dialects import arith

    owner = value.owner
    if isinstance(owner, UnrealizedConversionCastOp) and len(owner.inputs) == 1:
        return constant_int(owner.inputs[0])
    if isinstance(owner, arith.ConstantOp | llvm.ConstantOp):
        attr = owner.value
        if isinstance(attr, IntegerAttr):
            return attr.value.data
    return None


def byte_offset_pointer(
    base: SSAValue, offset: SSAValue | int, rewriter: PatternRewriter
) -> SSAValue:
    """`base + offset` bytes, as a GEP on i8 (keeps pointer provenance, unlike inttoptr)."""
    if isinstance(offset, int):
        if offset == 0:
            return base
        indices: list[int | SSAValue] = [offset]
    else:
        indices = [offset]
    return rewriter.insert(
        llvm.GEPOp.from_mixed_indices(base, indices, IntegerType(8), inbounds=True)
    ).result


def enclosing_module(op: Operation) -> ModuleOp:
    current: Operation | None = op
    while current is not None and not isinstance(current, ModuleOp):
        current = current.parent_op()
    if current is None:
        raise DiagnosticException(f"{op.name} is not inside a module")
    return current


def declare_function(
    module: ModuleOp,
    name: str,
    inputs: Sequence[Attribute],
    output: Attribute,
    rewriter: PatternRewriter | None = None,
) -> None:
    """Add `llvm.func @name` (an external declaration) to the module unless a symbol exists.

    A `func.func` declaration of the same name counts: convert-func-to-llvm
    turns it into the same llvm.func later.
    """
    for op in module.ops:
        sym = op.properties.get("sym_name") or op.attributes.get("sym_name")
        if sym is not None and getattr(sym, "data", None) == name:
            return
    decl = llvm.FuncOp(
        name,
        llvm.LLVMFunctionType(list(inputs), output),
        linkage=llvm.LinkageAttr("external"),
    )
    if rewriter is not None:
        rewriter.insert(decl, InsertPoint.at_end(module.body.block))
    else:
        module.body.block.add_op(decl)


class OpTypedPattern(RewritePattern):
    """A pattern that acts on ops of `op_types` only (a hint for `DispatchingApplier`)."""

    op_types: ClassVar[tuple[type[Operation], ...]]


def matched_op_types(pattern: RewritePattern) -> tuple[type[Operation], ...] | None:
    """The op types `pattern` can act on, or None when it may act on any op.

    Known for an `OpTypedPattern` and for a `match_and_rewrite` decorated with
    `op_type_rewrite_pattern` (the decorator keeps the annotated type as its
    `expected_type`); every other pattern may act on any op.
    """
    if isinstance(pattern, OpTypedPattern):
        return pattern.op_types
    method = type(pattern).match_and_rewrite
    names = method.__code__.co_freevars
    if "expected_type" not in names or method.__closure__ is None:
        return None
    expected = method.__closure__[names.index("expected_type")].cell_contents
    if get_origin(expected) in (Union, UnionType):
        return get_args(expected)
    return (expected,) if isinstance(expected, type) else None


class DispatchingApplier(GreedyRewritePatternApplier):
    """`GreedyRewritePatternApplier` (trivial DCE, then the first pattern that acts, in
    order) that tries on an op only the patterns that can act on its type.

    Several conversions' patterns share one walk this way at the cost of one
    dictionary look-up per op, rather than of a type test per pattern.
    """

    def __init__(self, rewrite_patterns: Sequence[RewritePattern]):
        super().__init__(list(rewrite_patterns))
        self._types = [matched_op_types(p) for p in self.rewrite_patterns]
        self._by_type: dict[type[Operation], list[RewritePattern]] = {}

    def _candidates(self, kind: type[Operation]) -> list[RewritePattern]:
        found = self._by_type.get(kind)
        if found is None:
            found = [
                pattern
                for pattern, types in zip(self.rewrite_patterns, self._types, strict=True)
                if types is None or issubclass(kind, types)
            ]
            self._by_type[kind] = found
        return found

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if self.dce_enabled and is_trivially_dead(op):
            rewriter.erase(op)
            return
        for pattern in self._candidates(type(op)):
            pattern.match_and_rewrite(op, rewriter)
            if rewriter.has_done_action:
                return
