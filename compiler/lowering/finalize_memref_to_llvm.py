"""`finalize-memref-to-llvm`: memref ops to pointer arithmetic, loads and stores.

A memref is lowered to a bare `!llvm.ptr` to its element at all-zero indices,
with its layout offset already applied (the convention of xDSL's
convert-memref-to-ptr, see `llvm_common`). Shapes and strides are static, so:

- `memref.load/store %m[%i, %j]` -> one inbounds GEP over `i*s0 + j*s1`
  (typed on the element, so LLVM keeps pointer provenance and alias
  information; xDSL's ptr route goes through inttoptr, which loses both);
- `memref.view %buf[%shift][]` -> GEP of `%shift` bytes on i8;
- `memref.subview` -> GEP of `dot(offsets, source strides)` elements;
- `memref.reinterpret_cast` -> GEP of `(new offset - source offset)` elements
  (exact when the source's offset is static, which it always is here);
- `memref.cast`, `expand_shape`, `collapse_shape`, `assume_alignment` -> the
  same pointer;
- `memref.alloca` -> one `llvm.alloca` in the function's entry block. Allocas
  inside loops are hoisted there on purpose: an alloca in a loop body grows
  the stack each iteration, while each iteration's buffer is dead by the next
  one (nothing upstream carries memrefs across iterations);
- `memref.alloc/dealloc` -> `aligned_alloc(64, bytes)` / `free`;
- `memref.global` / `get_global` -> `llvm.mlir.global` / `llvm.mlir.addressof`;
- `memref.copy` between contiguous buffers -> `llvm.intr.memcpy`;
- `memref.dim` -> a constant (static shapes).
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import func, llvm, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    NoneAttr,
    TensorType,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import DiagnosticException

from compiler.dialects import llvm_ext
from compiler.lowering.llvm_common import (
    LLVM_PTR,
    DispatchingApplier,
    OpTypedPattern,
    byte_offset_pointer,
    constant_int,
    declare_function,
    element_bytes,
    element_pointer,
    enclosing_module,
    from_llvm,
    i64_constant,
    storage_type,
    strides_and_offset,
    to_llvm,
)

# Buffers we allocate are aligned to a cache line, which is also the widest
# AVX-512 vector: aligned vector loads from the start of a buffer are legal.
DEFAULT_ALIGNMENT = 64


def _num_elements(memref_type: MemRefType) -> int:
    count = 1
    for dim in memref_type.get_shape():
        if dim < 0:
            raise DiagnosticException(f"dynamic shapes are not supported: {memref_type}")
        count *= dim
    return count


def _replace_with_pointer(op: Operation, pointer: SSAValue, rewriter: PatternRewriter) -> None:
    rewriter.replace(op, [], [from_llvm(pointer, op.results[0].type, rewriter)])


class LoadToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.LoadOp, rewriter: PatternRewriter, /) -> None:
        pointer = element_pointer(op.memref, op.indices, rewriter)
        load = rewriter.insert(llvm.LoadOp(pointer, storage_type(op.res.type)))
        rewriter.replace(op, [], [from_llvm(load.dereferenced_value, op.res.type, rewriter)])


class StoreToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.StoreOp, rewriter: PatternRewriter, /) -> None:
        pointer = element_pointer(op.memref, op.indices, rewriter)
        rewriter.replace(op, llvm.StoreOp(to_llvm(op.value, rewriter), pointer))


class ViewToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ViewOp, rewriter: PatternRewriter, /) -> None:
        if op.sizes:
            raise DiagnosticException("memref.view with dynamic sizes is not supported")
        base = to_llvm(op.source, rewriter)
        shift = constant_int(op.byte_shift)
        offset: SSAValue | int = shift if shift is not None else to_llvm(op.byte_shift, rewriter)
        _replace_with_pointer(op, byte_offset_pointer(base, offset, rewriter), rewriter)


def _element_offset_pointer(
    base: SSAValue, elements: SSAValue | int, memref_type: MemRefType, rewriter: PatternRewriter
) -> SSAValue:
    if isinstance(elements, int) and elements == 0:
        return base
    element = storage_type(memref_type.element_type)
    return rewriter.insert(
        llvm.GEPOp.from_mixed_indices(base, [elements], element, inbounds=True)
    ).result


class SubviewToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.SubviewOp, rewriter: PatternRewriter, /) -> None:
        source_type = op.source.type
        assert isinstance(source_type, MemRefType)
        strides, _ = strides_and_offset(source_type)
        base = to_llvm(op.source, rewriter)
        dynamic = iter(op.offsets)
        static_part = 0
        linear: SSAValue | None = None
        for offset, stride in zip(op.static_offsets.iter_values(), strides, strict=True):
            if offset != DYNAMIC_INDEX:
                static_part += offset * stride
                continue
            term = to_llvm(next(dynamic), rewriter)
            if stride != 1:
                term = rewriter.insert(llvm.MulOp(term, i64_constant(stride, rewriter))).res
            linear = term if linear is None else rewriter.insert(llvm.AddOp(linear, term)).res
        elements: SSAValue | int = static_part
        if linear is not None:
            elements = linear
            if static_part:
                elements = rewriter.insert(
                    llvm.AddOp(linear, i64_constant(static_part, rewriter))
                ).res
        pointer = _element_offset_pointer(base, elements, source_type, rewriter)
        _replace_with_pointer(op, pointer, rewriter)


class ReinterpretCastToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ReinterpretCastOp, rewriter: PatternRewriter, /) -> None:
        source_type = op.source.type
        assert isinstance(source_type, MemRefType)
        _, source_offset = strides_and_offset(source_type)
        new_offset = next(iter(op.static_offsets.iter_values()))
        base = to_llvm(op.source, rewriter)
        if new_offset == DYNAMIC_INDEX:
            elements: SSAValue | int = to_llvm(op.offsets[0], rewriter)
            if source_offset:
                elements = rewriter.insert(
                    llvm.SubOp(elements, i64_constant(source_offset, rewriter))
                ).res
        else:
            elements = new_offset - source_offset
        pointer = _element_offset_pointer(base, elements, source_type, rewriter)
        _replace_with_pointer(op, pointer, rewriter)


class SamePointerToLLVM(OpTypedPattern):
    """Ops whose result is the source pointer reinterpreted (cast, reshapes, alignment hints)."""

    op_types = (
        memref.CastOp,
        memref.ExpandShapeOp,
        memref.CollapseShapeOp,
        memref.AssumeAlignmentOp,
        memref.MemorySpaceCastOp,
    )

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not isinstance(op, self.op_types):
            return
        if op.results:
            source = to_llvm(op.operands[0], rewriter)
            _replace_with_pointer(op, source, rewriter)
        else:
            rewriter.erase(op)


def _entry_block_insert_point(op: Operation) -> InsertPoint:
    current: Operation | None = op
    while current is not None and not isinstance(current, func.FuncOp | llvm.FuncOp):
        current = current.parent_op()
    if current is None:
        raise DiagnosticException("memref.alloca outside a function")
    entry = current.regions[0].blocks[0]
    return InsertPoint.at_start(entry)


class AllocaToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /) -> None:
        memref_type = op.memref.type
        assert isinstance(memref_type, MemRefType)
        if op.dynamic_sizes:
            raise DiagnosticException("memref.alloca with dynamic sizes is not supported")
        alignment = op.alignment.value.data if op.alignment is not None else DEFAULT_ALIGNMENT
        count = llvm.ConstantOp(IntegerAttr(_num_elements(memref_type), i64), i64)
        alloca = llvm.AllocaOp(count, storage_type(memref_type.element_type), alignment)
        # Hoisted to the entry block: a static alloca there is a fixed stack slot.
        rewriter.insert([count, alloca], _entry_block_insert_point(op))
        _replace_with_pointer(op, alloca.res, rewriter)


class AllocToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocOp, rewriter: PatternRewriter, /) -> None:
        memref_type = op.memref.type
        assert isinstance(memref_type, MemRefType)
        if op.dynamic_sizes:
            raise DiagnosticException("memref.alloc with dynamic sizes is not supported")
        alignment = op.alignment.value.data if op.alignment is not None else DEFAULT_ALIGNMENT
        nbytes = _num_elements(memref_type) * element_bytes(memref_type.element_type)
        # aligned_alloc wants a size that is a multiple of the alignment.
        nbytes = max(alignment, -(-nbytes // alignment) * alignment)
        declare_function(enclosing_module(op), "aligned_alloc", [i64, i64], LLVM_PTR, rewriter)
        call = rewriter.insert(
            llvm.CallOp(
                "aligned_alloc",
                i64_constant(alignment, rewriter),
                i64_constant(nbytes, rewriter),
                return_type=LLVM_PTR,
            )
        )
        _replace_with_pointer(op, call.results[0], rewriter)


class DeallocToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.DeallocOp, rewriter: PatternRewriter, /) -> None:
        declare_function(enclosing_module(op), "free", [LLVM_PTR], llvm.LLVMVoidType(), rewriter)
        rewriter.replace(op, llvm.CallOp("free", to_llvm(op.memref, rewriter)))


class DimToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.DimOp, rewriter: PatternRewriter, /) -> None:
        source_type = op.source.type
        index = constant_int(op.index)
        if not isinstance(source_type, MemRefType) or index is None:
            raise DiagnosticException("memref.dim needs a ranked memref and a constant index")
        size = source_type.get_shape()[index]
        rewriter.replace(
            op, [], [from_llvm(i64_constant(size, rewriter), op.result.type, rewriter)]
        )


class ExtractAlignedPointerToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: memref.ExtractAlignedPointerAsIndexOp, rewriter: PatternRewriter, /
    ) -> None:
        as_int = rewriter.insert(llvm.PtrToIntOp(to_llvm(op.source, rewriter), i64))
        rewriter.replace(op, [], [from_llvm(as_int.results[0], op.aligned_pointer.type, rewriter)])


def _is_contiguous(memref_type: MemRefType) -> bool:
    if isinstance(memref_type.layout, NoneAttr):
        return True
    strides, _ = strides_and_offset(memref_type)
    expected = MemRefType(memref_type.element_type, memref_type.get_shape())
    return strides == list(expected.get_strides() or ())


class CopyToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.CopyOp, rewriter: PatternRewriter, /) -> None:
        source_type, dest_type = op.source.type, op.destination.type
        assert isinstance(source_type, MemRefType) and isinstance(dest_type, MemRefType)
        if not (_is_contiguous(source_type) and _is_contiguous(dest_type)):
            raise DiagnosticException("memref.copy of strided memrefs is not supported")
        nbytes = _num_elements(source_type) * element_bytes(source_type.element_type)
        rewriter.replace(
            op,
            llvm_ext.MemcpyOp(
                to_llvm(op.destination, rewriter),
                to_llvm(op.source, rewriter),
                i64_constant(nbytes, rewriter),
            ),
        )


class GlobalToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.GlobalOp, rewriter: PatternRewriter, /) -> None:
        memref_type = op.type
        element = storage_type(memref_type.element_type)
        array_type = llvm.LLVMArrayType(_num_elements(memref_type), element)
        value = op.initial_value
        initial = None
        if isinstance(value, DenseIntOrFPElementsAttr):
            values = list(value.get_values())
            if len(values) == 1 and _num_elements(memref_type) != 1:
                values = values * _num_elements(memref_type)  # splat
            initial = DenseIntOrFPElementsAttr.from_list(
                TensorType(element, [len(values)]),
                values,  # type: ignore[arg-type]
            )
        is_private = op.sym_visibility.data == "private"
        rewriter.replace(
            op,
            llvm.GlobalOp(
                array_type,
                op.sym_name,
                "internal" if is_private else "external",
                constant=op.constant is not None,
                value=initial,
                alignment=op.alignment.value.data if op.alignment else DEFAULT_ALIGNMENT,
            ),
        )


class GetGlobalToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.GetGlobalOp, rewriter: PatternRewriter, /) -> None:
        address = rewriter.insert(llvm.AddressOfOp(op.name_.root_reference, LLVM_PTR))
        _replace_with_pointer(op, address.result, rewriter)


MEMREF_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (
    LoadToLLVM(),
    StoreToLLVM(),
    ViewToLLVM(),
    SubviewToLLVM(),
    ReinterpretCastToLLVM(),
    SamePointerToLLVM(),
    AllocaToLLVM(),
    AllocToLLVM(),
    DeallocToLLVM(),
    DimToLLVM(),
    ExtractAlignedPointerToLLVM(),
    CopyToLLVM(),
    GlobalToLLVM(),
    GetGlobalToLLVM(),
)


class FinalizeMemRefToLLVMPass(ModulePass):
    """Lower memref ops on static shapes to GEPs, loads, stores and allocas on bare pointers."""

    name = "finalize-memref-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            DispatchingApplier(MEMREF_TO_LLVM_PATTERNS),
            apply_recursively=False,
        ).rewrite_module(op)
