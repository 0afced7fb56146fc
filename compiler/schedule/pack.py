"""`pack`: re-layout a constant operand at compile time (TVM's weight packing).

`{"primitive": "pack", "operand": 1, "axis": 1, "factor": 16}` splits dim
`axis` of kernel argument `operand` into (D / factor, factor) and moves the
outer part first and the inner part last: a matmul's B[K, N] becomes
B'[N / 16, K, 16], so that the column panel a tile reads is one contiguous
stream instead of K rows N apart. Every load is rewritten to the new layout;
the index splits symbolically when the loop structure allows it (the panel
loop times 16 plus a lane), else by a division and a remainder. The operand
must be read-only in the kernel.

The kernel records what it packed (`loop.packed`); `apply-schedule` then
repacks the constant that each call passes (a `memref.global`), so the data
is laid out once, at compile time. A caller passing anything else is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
)
from xdsl.ir import SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from compiler import dtypes
from compiler.ir_walk import ops_of_type
from compiler.schedule.primitives import IndexEmitter, Primitive, ScheduleError, kernel_name
from compiler.schedule.stages import Affine, affine_form, emit_affine, loop_of

PACKED_ATTR = "loop.packed"
"""JSON list on a kernel: the packings applied to its operands, in order."""


def packed_shape(shape: tuple[int, ...] | list[int], axis: int, factor: int, outer: int = 0) -> list[int]:
    rest = [*shape[:axis], *shape[axis + 1 :]]
    return [*rest[:outer], -(-shape[axis] // factor), *rest[outer:], factor]


def pack_array(array: np.ndarray, axis: int, factor: int, outer: int = 0) -> np.ndarray:
    """The numpy image of the packing (zero padding up to a multiple of factor)."""
    d = array.shape[axis]
    padded_d = -(-d // factor) * factor
    if padded_d != d:
        pad = [(0, 0)] * array.ndim
        pad[axis] = (0, padded_d - d)
        array = np.pad(array, pad)
    shape = list(array.shape)
    split = shape[:axis] + [padded_d // factor, factor] + shape[axis + 1 :]
    moved = np.moveaxis(array.reshape(split), [axis, axis + 1], [outer, array.ndim])
    return np.ascontiguousarray(moved)


@dataclass(frozen=True)
class Pack(Primitive):
    """Lay out constant operand `operand` with dim `axis` split by `factor` (outer first, inner last)."""

    primitive: ClassVar[str] = "pack"
    operand: int
    axis: int
    factor: int
    outer: int = 0
    """Where the outer part goes among the other dims (0: first). An integer
    conv's weight [.., ii, oc] packed at `outer = axis` keeps its streams:
    [.., ii / g, oc, g]."""

    def __post_init__(self) -> None:
        for name in ("operand", "axis", "factor", "outer"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "factor" else 0):
                raise ValueError(f"{name} must be a {'positive' if name == 'factor' else 'non-negative'} integer, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.outer:
            del out["outer"]
        return out

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"pack operand {self.operand} along dim {self.axis} by {self.factor}"
        args = kernel.body.block.args
        if self.operand >= len(args):
            raise ScheduleError(f"{what}: the kernel has {len(args)} operands")
        arg = args[self.operand]
        mtype = arg.type
        if not isinstance(mtype, MemRefType) or self.axis >= len(mtype.get_shape()):
            raise ScheduleError(f"{what}: the operand is not a memref with a dim {self.axis}")
        if self.factor >= mtype.get_shape()[self.axis] and self.factor != mtype.get_shape()[self.axis]:
            raise ScheduleError(f"{what}: the factor exceeds the dim ({mtype.get_shape()[self.axis]})")
        loads = []
        for use in list(arg.uses):
            if not isinstance(use.operation, memref.LoadOp):
                raise ScheduleError(f"{what}: the kernel does more than load the operand ({use.operation.name})")
            loads.append(use.operation)
        if self.outer >= len(mtype.get_shape()):
            raise ScheduleError(f"{what}: outer position {self.outer} is past the other dims")
        new_type = MemRefType(mtype.element_type, packed_shape(mtype.get_shape(), self.axis, self.factor, self.outer))
        rewriter = Rewriter()
        for load in loads:
            emitter = IndexEmitter()
            idx = list(load.indices)
            hi, lo = _split_index(idx[self.axis], self.factor, emitter)
            rest = [*idx[: self.axis], *idx[self.axis + 1 :]]
            new_idx = [*rest[: self.outer], hi, *rest[self.outer :], lo]
            new = memref.LoadOp.get(arg, new_idx)
            rewriter.insert_op(emitter.ops, InsertPoint.before(load))
            rewriter.replace_op(load, new)
        kernel.replace_argument_type(self.operand, new_type, rewriter)
        done = json.loads(kernel.attributes[PACKED_ATTR].data) if PACKED_ATTR in kernel.attributes else []  # type: ignore[union-attr]
        done.append({"operand": self.operand, "axis": self.axis, "factor": self.factor} | ({"outer": self.outer} if self.outer else {}))
        kernel.attributes[PACKED_ATTR] = StringAttr(json.dumps(done))


def _split_index(value: SSAValue, factor: int, emitter: IndexEmitter) -> tuple[SSAValue, SSAValue]:
    """(value / factor, value % factor), symbolically when the digits do not carry."""
    form = affine_form(value)
    if form is not None and form.const % factor == 0:
        hi, lo = Affine({}, form.const // factor), Affine()
        for v, c in form.terms.items():
            if c % factor == 0:
                hi = hi.add(Affine({v: c // factor}))
            else:
                lo = lo.add(Affine({v: c}))
        top = 0
        for v, c in lo.terms.items():
            loop = loop_of(v)
            if loop is None or c < 0 or loop.lower < 0:
                top = factor
                break
            top += c * (loop.lower + loop.stride * (loop.trip_count - 1))
        if top < factor:
            return emit_affine(emitter, hi), emit_affine(emitter, lo)
    return emitter.div(value, factor), emitter.rem(value, factor)


def packings(kernel: func.FuncOp) -> list[Pack]:
    attr = kernel.attributes.get(PACKED_ATTR)
    if not isinstance(attr, StringAttr):
        return []
    return [Pack(**p) for p in json.loads(attr.data)]


def repack_constants(module: ModuleOp, kernel: func.FuncOp) -> None:
    """Give every call of a packed kernel packed copies of the constants it passes."""
    packs = packings(kernel)
    if not packs:
        return
    name = kernel_name(kernel)
    globals_ = {op.sym_name.data: op for op in module.ops if isinstance(op, memref.GlobalOp)}
    for call in [op for op in ops_of_type(module, func.CallOp) if op.callee.root_reference.data == name]:
        for pack in packs:
            source = call.operands[pack.operand].owner
            glob = globals_.get(source.name_.root_reference.data) if isinstance(source, memref.GetGlobalOp) else None
            if glob is None or glob.constant is None or not isinstance(glob.initial_value, DenseIntOrFPElementsAttr):
                raise ScheduleError(
                    f"kernel @{name}: pack operand {pack.operand}: the caller does not pass a constant"
                )
            array = dtypes.dense_to_numpy(glob.initial_value).reshape(glob.type.get_shape())  # type: ignore[union-attr]
            packed = pack_array(array, pack.axis, pack.factor, pack.outer)
            new_type = MemRefType(glob.type.element_type, list(packed.shape))  # type: ignore[union-attr]
            new_name = f"{glob.sym_name.data}_packed_{pack.axis}_{pack.factor}" + (f"_{pack.outer}" if pack.outer else "")
            if new_name not in globals_:
                new_glob = memref.GlobalOp.get(
                    StringAttr(new_name),
                    new_type,
                    dtypes.dense_from_numpy(packed, glob.type.element_type),  # type: ignore[union-attr]
                    constant=glob.constant,
                    alignment=glob.alignment,
                )
                module.body.block.insert_op_after(new_glob, glob)
                globals_[new_name] = new_glob
            get = memref.GetGlobalOp(SymbolRefAttr(new_name), new_type)
            call.parent_block().insert_op_before(get, call)  # type: ignore[union-attr]
            call.operands[pack.operand] = get.memref
            if not source.memref.uses:  # type: ignore[union-attr]
                source.detach()
                source.erase()
    # Unpacked originals that nothing reads any more do not reach the params blob.
    used = {op.name_.root_reference.data for op in ops_of_type(module, memref.GetGlobalOp)}
    for glob_name, glob in globals_.items():
        if glob_name not in used and glob.parent is not None:
            glob.detach()
            glob.erase()
