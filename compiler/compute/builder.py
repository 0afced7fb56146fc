"""Building loop-dialect kernels: loop nests, index arithmetic, typed loads/stores.

Tensors of i1 are stored one byte per element (as numpy stores bool), so a
kernel sees them as `memref<...xi8>` and converts at each load and store;
`ui8` tensors are `memref<...xi8>` too, read with unsigned ops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    Signedness,
    StringAttr,
    TensorType,
    UnitAttr,
    i1,
    i8,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from compiler import dtypes
from compiler.dialects import loop

index = IndexType()


def storage_type(elem: Attribute) -> Attribute:
    """The memref element type that holds a tensor element type."""
    if elem == i1 or (isinstance(elem, IntegerType) and elem.signedness.data != Signedness.SIGNLESS):
        return IntegerType(elem.width.data) if elem != i1 else i8
    return elem


def value_type(elem: Attribute) -> Attribute:
    """The SSA type computations use for a tensor element type (signless)."""
    if isinstance(elem, IntegerType) and elem.signedness.data != Signedness.SIGNLESS:
        return IntegerType(elem.width.data)
    return elem


def is_unsigned(elem: Attribute) -> bool:
    return isinstance(elem, IntegerType) and elem.signedness.data == Signedness.UNSIGNED


def memref_type(t: TensorType) -> MemRefType:
    return MemRefType(storage_type(t.get_element_type()), list(t.get_shape()))


@dataclass
class Buffer:
    """A kernel argument holding a tensor: its memref value and tensor type."""

    value: SSAValue
    tensor: TensorType

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.get_shape())

    @property
    def elem(self) -> Attribute:
        return self.tensor.get_element_type()


class KernelBuilder:
    """Appends ops at an insertion point and opens `loop.for` nests."""

    def __init__(self, name: str, tensors: Sequence[TensorType]):
        self.name = name
        self.block = Block(arg_types=[memref_type(t) for t in tensors])
        self.buffers = [Buffer(arg, t) for arg, t in zip(self.block.args, tensors, strict=True)]
        self.ip = InsertPoint.at_end(self.block)
        self._axes: dict[str, int] = {}
        self.algorithm = ""
        """Which compute definition built the kernel (`matmul`, `conv2d_NCHWc`, ...):
        default schedules choose their rule by it."""

    def finish(self) -> func.FuncOp:
        self.block.add_op(func.ReturnOp())
        fn = func.FuncOp(
            self.name,
            ([a.type for a in self.block.args], []),
            Region(self.block),
            visibility="private",
        )
        fn.attributes[loop.KERNEL_ATTR] = UnitAttr()
        if self.algorithm:
            fn.attributes[loop.ALGORITHM_ATTR] = StringAttr(self.algorithm)
        return fn

    # -- insertion ------------------------------------------------------------

    def insert(self, op: Operation) -> Operation:
        from xdsl.rewriter import Rewriter

        Rewriter.insert_op(op, self.ip)
        return op

    def value(self, op: Operation) -> SSAValue:
        self.insert(op)
        return op.results[0]

    def axis(self, base: str) -> str:
        """A loop name unique within this kernel."""
        n = self._axes.get(base, 0)
        self._axes[base] = n + 1
        return base if n == 0 else f"{base}.{n}"

    @contextmanager
    def loop(self, extent: int, axis: str, annotation: str = loop.SERIAL, lb: int = 0) -> Iterator[SSAValue]:
        """Opens `loop.for iv = lb to lb + extent`; ops go into its body until exit."""
        op = loop.ForOp(lb, lb + extent, 1, self.axis(axis), annotation)
        self.insert(op)
        saved = self.ip
        self.ip = InsertPoint.before(op.body.block.last_op) if op.body.block.last_op else InsertPoint.at_end(op.body.block)
        try:
            yield op.iv
        finally:
            self.ip = saved

    @contextmanager
    def nest(
        self, shape: Sequence[int], names: Sequence[str], stage: str | None = None
    ) -> Iterator[list[SSAValue]]:
        """A perfect nest over `shape`; dims of extent 1 get the constant 0, no loop.

        `stage` names the compute stage on the outermost loop (see loop.ForOp).
        """
        saved = self.ip
        ivs: list[SSAValue] = []
        ops: list[loop.ForOp] = []
        try:
            for extent, name in zip(shape, names, strict=True):
                if extent == 1:
                    ivs.append(self.index(0))
                    continue
                op = loop.ForOp(0, extent, 1, self.axis(name), stage=None if ops else stage)
                self.insert(op)
                ops.append(op)
                self.ip = InsertPoint.before(op.body.block.last_op) if op.body.block.last_op else InsertPoint.at_end(op.body.block)
                ivs.append(op.iv)
            yield ivs
        finally:
            self.ip = saved

    # -- constants and index arithmetic --------------------------------------

    def index(self, v: int) -> SSAValue:
        return self.value(arith.ConstantOp(IntegerAttr(v, index)))

    def const(self, v: float | int | bool, elem: Attribute) -> SSAValue:
        t = value_type(elem)
        if dtypes.is_float(t):
            return self.value(arith.ConstantOp(FloatAttr(float(v), t)))
        assert isinstance(t, IntegerType)
        if t == i1:
            return self.value(arith.ConstantOp(IntegerAttr(1 if v else 0, i1)))
        return self.value(arith.ConstantOp(IntegerAttr(int(v), t, truncate_bits=True)))

    def add(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        if isinstance(b, int):
            if b == 0:
                return a
            b = self.index(b)
        return self.value(arith.AddiOp(a, b))

    def mul(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        if isinstance(b, int):
            if b == 1:
                return a
            b = self.index(b)
        return self.value(arith.MuliOp(a, b))

    def affine(self, terms: Sequence[tuple[SSAValue, int]], const: int = 0) -> SSAValue:
        """sum(iv * coeff) + const, as plain addi/muli chains (the vectorizer reads them)."""
        acc: SSAValue | None = None
        for iv, coeff in terms:
            if coeff == 0:
                continue
            term = self.mul(iv, coeff)
            acc = term if acc is None else self.value(arith.AddiOp(acc, term))
        if acc is None:
            return self.index(const)
        return self.add(acc, const)

    def linearize(self, idx: Sequence[SSAValue], shape: Sequence[int]) -> SSAValue:
        strides = row_major_strides(shape)
        return self.affine([(i, s) for i, s, n in zip(idx, strides, shape, strict=True) if n != 1])

    def delinearize(self, flat: SSAValue, shape: Sequence[int]) -> list[SSAValue]:
        strides = row_major_strides(shape)
        out = []
        for n, s in zip(shape, strides, strict=True):
            if n == 1:
                out.append(self.index(0))
                continue
            q = self.value(arith.DivUIOp(flat, self.index(s))) if s != 1 else flat
            out.append(self.value(arith.RemUIOp(q, self.index(n))) if n * s != _prod(shape) else q)
        return out

    def clamp_index(self, i: SSAValue, lo: int, hi: int) -> SSAValue:
        """min(max(i, lo), hi) on index values (signed)."""
        i = self.value(arith.MaxSIOp(i, self.index(lo)))
        return self.value(arith.MinSIOp(i, self.index(hi)))

    def in_range(self, i: SSAValue, lo: int, hi: int) -> SSAValue:
        """lo <= i < hi, as i1."""
        a = self.value(arith.CmpiOp(i, self.index(lo), "sge"))
        b = self.value(arith.CmpiOp(i, self.index(hi), "slt"))
        return self.value(arith.AndIOp(a, b))

    # -- memory ----------------------------------------------------------------

    def load(self, buf: Buffer, idx: Sequence[SSAValue]) -> SSAValue:
        v = self.value(memref.LoadOp.get(buf.value, list(idx)))
        if buf.elem == i1:
            return self.value(arith.CmpiOp(v, self.const(0, i8), "ne"))
        return v

    def store(self, v: SSAValue, buf: Buffer, idx: Sequence[SSAValue]) -> None:
        if buf.elem == i1:
            v = self.value(arith.ExtUIOp(v, i8))
        self.insert(memref.StoreOp.get(v, buf.value, list(idx)))

    def alloca(self, elem: Attribute, shape: Sequence[int] = (1,)) -> Buffer:
        t = TensorType(elem, list(shape))
        op = memref.AllocaOp.get(storage_type(elem), shape=list(shape))
        return Buffer(self.value(op), t)

    def alloc(self, elem: Attribute, shape: Sequence[int]) -> Buffer:
        """A heap buffer (aligned_alloc): for tensors too big for the stack; pair with dealloc."""
        t = TensorType(elem, list(shape))
        return Buffer(self.value(memref.AllocOp.get(storage_type(elem), shape=list(shape))), t)

    def dealloc(self, buf: Buffer) -> None:
        self.insert(memref.DeallocOp.get(buf.value))


def row_major_strides(shape: Sequence[int]) -> list[int]:
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def _prod(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
