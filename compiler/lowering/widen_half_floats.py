"""`widen-half-floats`: float16/bfloat16 are stored in 16 bits and computed in f32.

Few CPUs compute in 16-bit floats, and accumulating a reduction in them
loses too much (a 1000-term f16 dot product is off by ~1e-2 relative). So on
the scf/arith/memref/vector level, before `convert-to-llvm`:

- a load from a 16-bit memref is followed by a conversion to f32, and a
  value stored into one is converted from f32 just before the store;
- every other 16-bit float value (arithmetic, constants, loop-carried
  values, vectors) becomes f32, and so do kernel-local buffers (`alloca`
  accumulators) that only loads and stores use;
- a conversion *to* a 16-bit float (`truncf`, `sitofp`, ...) still rounds
  to it: it converts back to f32 right after, so Cast keeps ONNX semantics.

How the conversion is done depends on the target, which is why this is an
option rather than a guess:

- `native-f16=true` (the host has F16C, which every AVX-512 part also has):
  `arith.extf`/`arith.truncf` between f16 and f32, which LLVM lowers to
  `vcvtph2ps`/`vcvtps2ph` (or to native AVX-512 FP16 code where it exists);
- `native-f16=false`, and always for bfloat16 (llvmlite has no `bfloat`
  type): the memrefs become `i16` memrefs (the same bytes) and the
  conversion is integer arithmetic, with round-to-nearest-even on the way
  down. It needs no runtime helper (`__truncsfhf2`), so it runs anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, llvm, memref, vector
from xdsl.dialects.builtin import (
    BFloat16Type,
    DenseIntOrFPElementsAttr,
    Float16Type,
    FloatAttr,
    FunctionType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    TensorType,
    VectorType,
    f32,
    i16,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.dialects import llvm_ext

HALF = (Float16Type(), BFloat16Type())
_LOADS = (memref.LoadOp, vector.LoadOp)
_STORES = (memref.StoreOp, vector.StoreOp)
# Conversions whose result must still be rounded to the 16-bit type.
_ROUNDING = (arith.TruncFOp, arith.SIToFPOp, arith.UIToFPOp)


def _like(type_: Attribute, element: Attribute) -> Attribute:
    """`element`, or a vector of it shaped like `type_`."""
    if isinstance(type_, VectorType):
        return VectorType(element, type_.get_shape())
    return element


def _element(type_: Attribute) -> Attribute:
    return type_.element_type if isinstance(type_, VectorType | MemRefType) else type_


def _widened(type_: Attribute) -> Attribute:
    """The f32 counterpart of a 16-bit float scalar or vector type; other types unchanged."""
    if isinstance(type_, MemRefType):
        return type_
    return _like(type_, f32) if _element(type_) in HALF else type_


class _Emitter:
    """Inserts arith ops before a point; scalars and vectors alike."""

    def __init__(self, rewriter: Rewriter, point: InsertPoint) -> None:
        self.rewriter, self.point = rewriter, point

    def op(self, op: Operation) -> SSAValue:
        self.rewriter.insert_op(op, self.point)
        return op.results[0]

    def const(self, value: int | float, shape_of: Attribute, element: Attribute) -> SSAValue:
        type_ = _like(shape_of, element)
        if isinstance(type_, VectorType):
            attr = DenseIntOrFPElementsAttr.from_list(type_, [value] * type_.get_shape()[0])  # type: ignore[list-item]
            return self.op(arith.ConstantOp(attr, type_))
        if isinstance(element, IntegerType):
            return self.op(arith.ConstantOp(IntegerAttr(int(value), element)))
        return self.op(arith.ConstantOp(FloatAttr(float(value), element)))  # type: ignore[arg-type]

    def icmp(self, a: SSAValue, b: SSAValue, predicate: str) -> SSAValue:
        flag = IntegerAttr(llvm.ICmpPredicateFlag(predicate).to_int(), i64)
        return self.op(llvm.ICmpOp(a, b, flag))

    def is_nan(self, value: SSAValue) -> SSAValue:
        return self.op(llvm_ext.FCmpOp(value, value, "uno", llvm.FastMathAttr(None)))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.op(llvm_ext.SelectOp(cond, a, b))

    def zext(self, value: SSAValue, element: Attribute) -> SSAValue:
        return self.op(llvm.ZExtOp(value, _like(value.type, element)))

    def trunc(self, value: SSAValue, element: Attribute) -> SSAValue:
        return self.op(llvm.TruncOp(value, _like(value.type, element)))

    def int_op(self, cls: type[Operation], a: SSAValue, b: int | SSAValue) -> SSAValue:
        if isinstance(b, int):
            b = self.const(b, a.type, _element(a.type))
        return self.op(cls(a, b))  # type: ignore[call-arg]

    # -- 16 bits (i16 pattern) <-> f32 -------------------------------------------

    def bf16_to_f32(self, bits: SSAValue) -> SSAValue:
        wide = self.zext(bits, i32)
        return self.op(arith.BitcastOp(self.int_op(arith.ShLIOp, wide, 16), _like(bits.type, f32)))

    def f32_to_bf16(self, value: SSAValue) -> SSAValue:
        """Round to nearest even; a NaN stays a (quiet) NaN."""
        u = self.op(arith.BitcastOp(value, _like(value.type, i32)))
        lsb = self.int_op(arith.AndIOp, self.int_op(arith.ShRUIOp, u, 16), 1)
        rounded = self.int_op(arith.AddiOp, self.int_op(arith.AddiOp, u, 0x7FFF), lsb)
        nan = self.int_op(arith.OrIOp, u, 0x00400000)
        is_nan = self.is_nan(value)
        chosen = self.select(is_nan, nan, rounded)
        return self.trunc(self.int_op(arith.ShRUIOp, chosen, 16), i16)

    def f16_to_f32(self, bits: SSAValue) -> SSAValue:
        """Exact: the magnitude shifted into f32 position, scaled by 2^112 (subnormals
        included); exponent 31 (inf/NaN) maps to 255; the sign is or'ed back."""
        h = self.zext(bits, i32)
        sign = self.int_op(arith.ShLIOp, self.int_op(arith.AndIOp, h, 0x8000), 16)
        mag = self.int_op(arith.ShLIOp, self.int_op(arith.AndIOp, h, 0x7FFF), 13)
        as_f32 = self.op(arith.BitcastOp(mag, _like(bits.type, f32)))
        scaled = self.op(arith.MulfOp(as_f32, self.const(2.0**112, bits.type, f32)))
        scaled_bits = self.op(arith.BitcastOp(scaled, _like(bits.type, i32)))
        special = self.icmp(self.int_op(arith.AndIOp, h, 0x7C00), self.const(0x7C00, bits.type, i32), "eq")
        inf_nan = self.int_op(arith.OrIOp, mag, 0x7F800000)
        chosen = self.select(special, inf_nan, scaled_bits)
        return self.op(arith.BitcastOp(self.op(arith.OrIOp(chosen, sign)), _like(bits.type, f32)))

    def f32_to_f16(self, value: SSAValue) -> SSAValue:
        """Round to nearest even, branch-free: overflow -> inf, NaN -> quiet NaN,
        subnormal results by a float add that lets the FPU round."""
        t = value.type
        u = self.op(arith.BitcastOp(value, _like(t, i32)))
        sign = self.int_op(arith.AndIOp, u, 0x80000000 - 2**32)
        a = self.int_op(arith.XOrIOp, u, sign)
        # |x| >= 65520 (rounds to inf) or inf/nan
        big = self.icmp(a, self.const(143 << 23, t, i32), "uge")
        is_nan = self.icmp(a, self.const(0x7F800000, t, i32), "ugt")
        inf_nan = self.select(is_nan, self.const(0x7E00, t, i32), self.const(0x7C00, t, i32))
        # subnormal or zero half: |x| < 2^-14
        small = self.icmp(a, self.const(113 << 23, t, i32), "ult")
        # 0.5 (bits 126 << 23): adding it lets the FPU round the mantissa to the half ulp
        magic = self.const(0.5, t, f32)
        a_f = self.op(arith.BitcastOp(a, _like(t, f32)))
        summed = self.op(arith.BitcastOp(self.op(arith.AddfOp(a_f, magic)), _like(t, i32)))
        sub = self.int_op(arith.SubiOp, summed, 126 << 23)
        # normal: rebias the exponent, round to nearest even on bit 13
        odd = self.int_op(arith.AndIOp, self.int_op(arith.ShRUIOp, a, 13), 1)
        biased = self.int_op(arith.AddiOp, a, ((15 - 127) << 23) + 0xFFF)
        normal = self.int_op(arith.ShRUIOp, self.op(arith.AddiOp(biased, odd)), 13)
        result = self.select(small, sub, normal)
        result = self.select(big, inf_nan, result)
        result = self.op(arith.OrIOp(result, self.int_op(arith.ShRUIOp, sign, 16)))
        return self.trunc(result, i16)


@dataclass(frozen=True)
class WidenHalfFloatsPass(ModulePass):
    """16-bit float storage, f32 compute (see the module docstring).

    `native-f16`: convert f16 with `arith.extf`/`truncf` (the host has F16C);
    otherwise with integer code. bfloat16 always uses integer code.
    """

    name = "widen-half-floats"

    native_f16: bool = False

    def _soft(self, element: Attribute) -> bool:
        return element == BFloat16Type() or (element == Float16Type() and not self.native_f16)

    def _storage(self, type_: Attribute) -> Attribute:
        """A memref's type after the pass: soft 16-bit floats become i16 bit patterns."""
        if isinstance(type_, MemRefType) and self._soft(type_.element_type):
            return MemRefType(i16, type_.get_shape(), type_.layout, type_.memory_space)
        return type_

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        rewriter = Rewriter()
        for alloc in [o for o in op.walk() if isinstance(o, memref.AllocaOp | memref.AllocOp)]:
            self._widen_local(alloc, rewriter)
        for inner in list(op.walk()):
            if inner.parent is None:
                continue  # erased on the way
            self._rewrite(inner, rewriter)
        # Last, so that loads and stores above still saw which 16-bit float they access.
        for glob in [o for o in op.walk() if isinstance(o, memref.GlobalOp)]:
            self._retype_global(glob)
        for inner in list(op.walk()):
            if isinstance(inner, func.FuncOp):
                inputs = [self._storage(t) for t in inner.function_type.inputs]
                outputs = [self._storage(t) for t in inner.function_type.outputs]
                inner.properties["function_type"] = FunctionType.from_lists(inputs, outputs)
            for region in inner.regions:
                for block in region.blocks:
                    for arg in list(block.args):
                        if self._storage(arg.type) != arg.type:
                            rewriter.replace_value_with_new_type(arg, self._storage(arg.type))
            for result in list(inner.results):
                if self._storage(result.type) != result.type:
                    rewriter.replace_value_with_new_type(result, self._storage(result.type))

    # -- memrefs ------------------------------------------------------------------

    def _widen_local(self, alloc: memref.AllocaOp | memref.AllocOp, rewriter: Rewriter) -> None:
        """A kernel-local 16-bit buffer read and written only by loads/stores becomes f32."""
        type_ = alloc.memref.type
        assert isinstance(type_, MemRefType)
        if type_.element_type not in HALF:
            return
        if not all(
            isinstance(use.operation, _LOADS + _STORES)
            and use.index == (1 if isinstance(use.operation, _STORES) else 0)
            for use in alloc.memref.uses
        ):
            return
        rewriter.replace_value_with_new_type(
            alloc.memref, MemRefType(f32, type_.get_shape(), type_.layout, type_.memory_space)
        )

    def _retype_global(self, glob: memref.GlobalOp) -> None:
        type_ = glob.type
        new = self._storage(type_)
        if new == type_:
            return
        glob.properties["type"] = new
        value = glob.initial_value
        if isinstance(value, DenseIntOrFPElementsAttr):
            assert isinstance(new, MemRefType)
            glob.properties["initial_value"] = DenseIntOrFPElementsAttr(
                TensorType(i16, new.get_shape()), value.data
            )

    def _retype_block_args(self, block: Block, rewriter: Rewriter) -> None:
        for arg in list(block.args):
            new = _widened(arg.type)
            if new != arg.type:
                rewriter.replace_value_with_new_type(arg, new)

    # -- ops ----------------------------------------------------------------------

    def _rewrite(self, op: Operation, rewriter: Rewriter) -> None:
        for region in op.regions:
            for block in region.blocks:
                self._retype_block_args(block, rewriter)
        if isinstance(op, _LOADS):
            self._rewrite_load(op, rewriter)
        elif isinstance(op, _STORES):
            self._rewrite_store(op, rewriter)
        elif isinstance(op, arith.ConstantOp) and _element(op.result.type) in HALF:
            self._rewrite_constant(op, rewriter)
        elif isinstance(op, arith.ExtFOp) and _element(op.result.type) == f32:
            # its 16-bit operand is f32 by now (operands are rewritten before their users)
            rewriter.replace_op(op, [], [op.input])
        elif isinstance(op, _ROUNDING) and _element(op.results[0].type) in HALF:
            self._rewrite_rounding(op, rewriter)
        else:
            for result in list(op.results):
                new = _widened(result.type)
                if new != result.type:
                    rewriter.replace_value_with_new_type(result, new)

    def _rewrite_load(self, op: Operation, rewriter: Rewriter) -> None:
        mem_type = op.operands[0].type
        assert isinstance(mem_type, MemRefType)
        result = op.results[0]
        stored = mem_type.element_type
        if stored == f32 and _element(result.type) in HALF:  # a widened local buffer
            rewriter.replace_value_with_new_type(result, _like(result.type, f32))
            return
        if stored not in HALF:
            return
        if self._soft(stored):
            result = rewriter.replace_value_with_new_type(result, _like(result.type, i16))
        emit = _Emitter(rewriter, InsertPoint.after(op))
        if not self._soft(stored):
            wide = emit.op(arith.ExtFOp(result, _like(result.type, f32)))
        elif stored == BFloat16Type():
            wide = emit.bf16_to_f32(result)
        else:
            wide = emit.f16_to_f32(result)
        owner = wide.owner
        result.replace_uses_with_if(wide, lambda use: not _within(use.operation, owner, op))

    def _rewrite_store(self, op: Operation, rewriter: Rewriter) -> None:
        mem_type = op.operands[1].type
        assert isinstance(mem_type, MemRefType)
        stored = mem_type.element_type
        if stored not in HALF:
            return
        value = op.operands[0]
        if _element(value.type) != f32:
            return
        emit = _Emitter(rewriter, InsertPoint.before(op))
        if not self._soft(stored):
            narrow = emit.op(arith.TruncFOp(value, _like(value.type, stored)))
        elif stored == BFloat16Type():
            narrow = emit.f32_to_bf16(value)
        else:
            narrow = emit.f32_to_f16(value)
        op.operands[0] = narrow

    def _rewrite_constant(self, op: arith.ConstantOp, rewriter: Rewriter) -> None:
        type_ = _widened(op.result.type)
        value = op.value
        if isinstance(value, FloatAttr):
            new = arith.ConstantOp(FloatAttr(value.value.data, f32))
        else:
            assert isinstance(value, DenseIntOrFPElementsAttr) and isinstance(type_, VectorType)
            new = arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(type_, list(value.get_values())), type_)  # type: ignore[arg-type]
        rewriter.replace_op(op, new)

    def _rewrite_rounding(self, op: Operation, rewriter: Rewriter) -> None:
        result = op.results[0]
        half = _element(result.type)
        source = op.operands[0]
        emit = _Emitter(rewriter, InsertPoint.after(op))
        if isinstance(op, arith.TruncFOp) and _element(source.type) == f32:
            value: SSAValue = source
        else:  # f64 -> half or int -> half: to f32 first (a second rounding, far below half precision)
            value = result
            rewriter.replace_value_with_new_type(result, _like(result.type, f32))
        if not self._soft(half):
            narrow = emit.op(arith.TruncFOp(value, _like(value.type, half)))
            wide = emit.op(arith.ExtFOp(narrow, _like(value.type, f32)))
        elif half == BFloat16Type():
            wide = emit.bf16_to_f32(emit.f32_to_bf16(value))
        else:
            wide = emit.f16_to_f32(emit.f32_to_f16(value))
        if value is source:
            rewriter.replace_op(op, [], [wide])
        else:
            owner = wide.owner
            value.replace_uses_with_if(wide, lambda use: not _within(use.operation, owner, op))


def _within(user: Operation, last: Operation | None, first: Operation) -> bool:
    """Whether `user` is one of the conversion ops inserted between `first` and `last`."""
    node = first.next_op
    while node is not None:
        if node is user:
            return True
        if node is last:
            return False
        node = node.next_op
    return False
