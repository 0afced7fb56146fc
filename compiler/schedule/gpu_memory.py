"""GPU memory scopes as schedule primitives: shared-memory stages and per-thread register tiles.

TVM stages a read operand into `shared` memory with `cache_read` and keeps a
thread's outputs in `local` memory (registers) with `cache_write`; the
threads of a block share the first and own the second. Here both work on
the loop nest in *phases*: inside the block-bound loops, the sibling
thread-bound nests run one after the other, each by every thread of the
block, with `loop.barrier` (`__syncthreads()`) between those that hand data
through shared memory. That is how a GPU runs them (each thread walks the
phases in order, the barrier makes the others wait) and how the loop
interpreter runs them (a thread-bound nest runs to its end before the next
op), so a schedule's numerics can be checked on the CPU.

`cache_read(axis, operand, scope="shared")`: the box of kernel argument
`operand` that one iteration of `axis` reads (the range of each index over
the loops inside `axis`) is copied into a `__shared__` buffer at the top of
each iteration, by a copy nest bound to the same thread indices as the
threads inside `axis`, followed by a barrier; the reads inside `axis` then
read the shared buffer, and a barrier ends the iteration (the next copy must
not overwrite a tile that slower threads still read). With `vector=4` the
copy moves four contiguous elements per thread and step (a float4 where the
CUDA emitter proves the alignment). Under a guarded split (`tail="guard"`)
the box runs past the axis' end: the copy clamps its reads into the buffer
(a clamp, not a guard, so that every thread reaches the barriers).

`cache_write(axis, scope="local")` (see `CacheWrite`): the register tile.
The accumulator has one dimension per tile loop, the thread-bound ones
first, so that each thread's elements are its own slice; the emitter keeps
only that slice, as a thread-local array. A tile under a guarded split
fills and writes back only the elements inside the output (an `scf.if` on
its bounds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    FixedBitwidthType,
    IndexType,
    IntegerAttr,
    MemRefType,
    StringAttr,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue

from compiler.dialects.loop import (
    GPU_BLOCK_BINDINGS,
    GPU_THREAD_BINDINGS,
    LOCAL,
    SCOPE_ATTR,
    SHARED,
    THREAD_DIMS_ATTR,
    UNROLL,
    VECTORIZE,
    BarrierOp,
    ForOp,
)
from compiler.schedule.placement import _finalize, _first_update, _region, _single_stage, _tile
from compiler.schedule.primitives import (
    IndexEmitter,
    Primitive,
    ScheduleError,
    _check_str,
    _verify,
    find_loop,
    guard_block,
    is_guarded,
    unique_axis,
)
from compiler.schedule.stages import (
    FILL_ATTR,
    INIT,
    PLACED_ATTR,
    WRITEBACK_ATTR,
    Affine,
    access_forms,
    accesses,
    emit_affine,
    inline_stage,
    loop_of,
)

COPY_ATTR = "loop.copy"
"""Unit attribute on the outer loop of a `cache_read` copy nest."""

MAX_SHARED_BYTES = 48 * 1024
"""Static shared memory per block that every CUDA GPU gives without opting in."""


def _emit(before: Operation, forms: list[Affine]) -> list[SSAValue]:
    """The values of affine forms, computed right before `before` (a fresh emitter:
    its cached constants must not be reused in another block)."""
    emitter = IndexEmitter()
    values = [emit_affine(emitter, f) for f in forms]
    block = before.parent_block()
    assert block is not None
    block.insert_ops_before(emitter.ops, before)
    return values


def _clamp(before: Operation, index: list[SSAValue], shape: tuple[int, ...]) -> list[SSAValue]:
    """Clamp a copy's global index into the buffer. Under a guarded split the
    box runs past the axis' end; those elements are read only by guarded-off
    iterations, so the copy may fill them with any in-bounds value, but must not
    load out of bounds. (A clamp, not a guard: every thread reaches the barrier.)"""
    clamped = []
    for value, extent in zip(index, shape, strict=True):
        bound = arith.ConstantOp(IntegerAttr(extent - 1, IndexType()))
        low = arith.MinUIOp(value, bound.result)
        before.parent_block().insert_ops_before([bound, low], before)  # type: ignore[union-attr]
        clamped.append(low.result)
    return clamped


def _in_bounds(before: Operation, forms: list[Affine], shape: tuple[int, ...]) -> SSAValue:
    """`forms[d] < shape[d]` for every dimension, emitted before `before`: whether a
    guarded register tile's element lies inside the buffer."""
    emitter = IndexEmitter()
    condition: SSAValue | None = None
    for value, extent in zip(_emit(before, forms), shape, strict=True):
        inside = emitter.less(value, extent)
        if condition is None:
            condition = inside
        else:
            both = arith.AndIOp(condition, inside)
            emitter.ops.append(both)
            condition = both.result
    assert condition is not None
    before.parent_block().insert_ops_before(emitter.ops, before)  # type: ignore[union-attr]
    return condition


def _thread_extents(loops: list[ForOp]) -> dict[str, int]:
    """Per thread binding, the largest extent among `loops` (the block's size along it)."""
    extents: dict[str, int] = {}
    for lp in loops:
        if lp.kind in GPU_THREAD_BINDINGS:
            extents[lp.kind] = max(extents.get(lp.kind, 1), lp.trip_count)
    return extents


def _bytes(t: Attribute) -> int:
    assert isinstance(t, MemRefType)
    elem = t.element_type
    return math.prod(t.get_shape()) * (elem.bitwidth // 8 if isinstance(elem, FixedBitwidthType) else 8)


def _scope(op: Operation) -> str:
    attr = op.attributes.get(SCOPE_ATTR)
    return attr.data if isinstance(attr, StringAttr) else ""


def _range(form: Affine) -> tuple[int, int]:
    """The smallest and largest value of an affine form over its loops' iterations."""
    lo = hi = form.const
    for v, c in form.terms.items():
        lp = loop_of(v)
        assert lp is not None
        a, b = c * lp.lower, c * (lp.lower + lp.stride * (lp.trip_count - 1))
        lo, hi = lo + min(a, b), hi + max(a, b)
    return lo, hi


@dataclass(frozen=True)
class CacheRead(Primitive):
    """Stage what one iteration of `axis` reads of kernel argument `operand` in a shared buffer."""

    primitive: ClassVar[str] = "cache_read"
    axis: str
    operand: int
    scope: str = SHARED
    vector: int = 1
    """Elements each thread copies per step along the last dimension (1, 2 or 4)."""

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")
        if not isinstance(self.operand, int) or isinstance(self.operand, bool) or self.operand < 0:
            raise ValueError(f"operand must be a non-negative integer, got {self.operand!r}")
        if self.scope != SHARED:
            raise ValueError(f"scope must be '{SHARED}' (a thread's own copy is a register tile: cache_write), got {self.scope!r}")
        if self.vector not in (1, 2, 4):
            raise ValueError(f"vector must be 1, 2 or 4, got {self.vector!r}")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"cache_read of operand {self.operand} at '{self.axis}'"
        loop = find_loop(kernel, self.axis)
        args = kernel.body.block.args
        if self.operand >= len(args):
            raise ScheduleError(f"{what}: the kernel has {len(args)} arguments")
        buf = args[self.operand]
        t = buf.type
        assert isinstance(t, MemRefType)
        enclosing = list(loop.enclosing_loops())
        if loop.kind != "serial" or any(lp.kind in GPU_THREAD_BINDINGS for lp in enclosing):
            raise ScheduleError(
                f"{what}: the loop must be a serial loop outside the thread-bound loops "
                "(every thread of the block takes part in the copy)"
            )
        if not any(lp.kind in GPU_BLOCK_BINDINGS for lp in enclosing):
            raise ScheduleError(f"{what}: the loop is not inside a loop bound to blockIdx (shared memory is per block)")
        if any(isinstance(op, memref.StoreOp) and op.memref is buf for op in kernel.walk()):
            raise ScheduleError(f"{what}: the kernel writes that buffer; only read-only operands are staged")
        region = [op for op in loop.body.block.ops if COPY_ATTR not in op.attributes]
        loads = accesses(region, buf)
        if not loads:
            raise ScheduleError(f"{what}: the loop does not read that operand")
        inner = [op for top in region for op in top.walk() if isinstance(op, ForOp)]
        threads = _thread_extents(inner)
        if not threads:
            raise ScheduleError(f"{what}: no thread-bound loop inside the loop to do the copy")
        inner_ivs = {lp.iv for lp in inner}
        outer: list[Affine] | None = None
        lows: list[int] = []
        highs: list[int] = []
        for load in loads:
            forms = access_forms(load)
            if forms is None:
                raise ScheduleError(f"{what}: the operand is indexed with non-affine values (stage it before fusing)")
            parts = [f.split(inner_ivs) for f in forms]
            if outer is None:
                outer = [p[0] for p in parts]
                lows, highs = [1 << 62] * len(parts), [-(1 << 62)] * len(parts)
            elif any(p[0].terms != o.terms or p[0].const != o.const for p, o in zip(parts, outer, strict=True)):
                raise ScheduleError(f"{what}: the reads of the operand are not one box per iteration")
            for d, (_, local) in enumerate(parts):
                lo, hi = _range(local)
                lows[d], highs[d] = min(lows[d], lo), max(highs[d], hi)
        assert outer is not None
        shape = [hi - lo + 1 for lo, hi in zip(lows, highs, strict=True)]
        elem = t.element_type
        nbytes = _bytes(MemRefType(elem, shape))
        root = enclosing[-1]
        staged = sum(_bytes(op.memref.type) for op in root.walk() if isinstance(op, memref.AllocaOp) and _scope(op) == SHARED)
        if nbytes + staged > MAX_SHARED_BYTES:
            raise ScheduleError(
                f"{what}: the {'x'.join(map(str, shape))} tile takes {nbytes} bytes of shared memory "
                f"({staged} taken already), more than {MAX_SHARED_BYTES}"
            )
        vector = self.vector
        if shape[-1] % vector:
            raise ScheduleError(f"{what}: the tile's last dimension ({shape[-1]}) is not a multiple of vector={vector}")
        # The shared buffer, once per block iteration, before the loop.
        alloca = memref.AllocaOp.get(elem, shape=shape)
        alloca.attributes[SCOPE_ATTR] = StringAttr(SHARED)
        shared = alloca.memref
        shared.name_hint = f"shared{self.operand}"
        parent = loop.parent_block()
        assert parent is not None
        parent.insert_op_before(alloca, loop)
        # Reads go to the shared buffer.
        for load in loads:
            forms = access_forms(load)
            assert forms is not None
            local = [f.split(inner_ivs)[1].add(Affine({}, -lo)) for f, lo in zip(forms, lows, strict=True)]
            new = memref.LoadOp.get(shared, _emit(load, local))
            load.parent_block().insert_op_before(new, load)  # type: ignore[union-attr]
            load.res.replace_all_uses_with(new.res)
            load.detach()
            load.erase()
        # The copy nest: each thread of the block copies every T-th chunk.
        block = loop.body.block
        first = next((op for op in block.ops if COPY_ATTR not in op.attributes), block.last_op)
        assert first is not None
        copy_loops: list[ForOp] = []
        for binding in reversed(GPU_THREAD_BINDINGS):  # z, y, x: x innermost
            if binding in threads:
                lp = ForOp(0, threads[binding], 1, unique_axis(kernel, f"{self.axis}.copy{self.operand}.{binding[-1]}"), binding)
                if copy_loops:
                    copy_loops[-1].body.block.insert_op_before(lp, copy_loops[-1].body.block.last_op)  # type: ignore[arg-type]
                copy_loops.append(lp)
        copy_loops[0].attributes[COPY_ATTR] = UnitAttr()
        copy_loops[0].attributes[PLACED_ATTR] = UnitAttr()
        block.insert_op_before(copy_loops[0], first)
        emitter = IndexEmitter()
        total = math.prod(threads.values())
        chunks = math.prod(shape) // vector
        body_loop = copy_loops[-1]
        # The thread's linear index, x fastest.
        linear: SSAValue | int = 0
        stride = 1
        for lp in reversed(copy_loops):
            linear = emitter.add(linear, emitter.mul(lp.iv, stride))
            stride *= lp.trip_count
        steps = -(-chunks // total)
        if steps > 1:
            step_loop = ForOp(0, steps, 1, unique_axis(kernel, f"{self.axis}.copy{self.operand}.step"), UNROLL if steps <= 8 else "serial")
            body_loop.body.block.insert_op_before(step_loop, body_loop.body.block.last_op)  # type: ignore[arg-type]
            anchor = step_loop.body.block.last_op
            chunk = emitter.add(emitter.mul(step_loop.iv, total), linear)
        else:
            anchor = body_loop.body.block.last_op
            chunk = linear
        assert anchor is not None
        chunk_value = emitter.value(chunk)
        if steps * total > chunks:
            # The last step's extra threads copy the last chunk again (the same
            # value to the same place: no guard, no race that changes a result).
            clamp = arith.MinUIOp(chunk_value, emitter.const(chunks - 1))
            emitter.ops.append(clamp)
            chunk_value = clamp.result
        # Chunk -> box coordinates (last dimension in chunks of `vector`).
        dims = [*shape[:-1], shape[-1] // vector]
        coords: list[SSAValue] = []
        rest = chunk_value
        for d in range(len(dims) - 1, -1, -1):
            if d == 0:
                coords.insert(0, rest)
            else:
                coords.insert(0, emitter.rem(rest, dims[d]))
                rest = emitter.div(rest, dims[d])
        anchor.parent_block().insert_ops_before(emitter.ops, anchor)  # type: ignore[union-attr]
        if vector > 1:
            vec = ForOp(0, vector, 1, unique_axis(kernel, f"{self.axis}.copy{self.operand}.vec"), VECTORIZE)
            anchor.parent_block().insert_op_before(vec, anchor)  # type: ignore[union-attr]
            anchor = vec.body.block.last_op
            assert anchor is not None
            emitter = IndexEmitter()
            last = emitter.value(emitter.add(emitter.mul(coords[-1], vector), vec.iv))
            anchor.parent_block().insert_ops_before(emitter.ops, anchor)  # type: ignore[union-attr]
            coords[-1] = last
        box = [Affine({c: 1}) for c in coords]
        global_index = _emit(anchor, [o.add(b).add(Affine({}, lo)) for o, b, lo in zip(outer, box, lows, strict=True)])
        if is_guarded(region):
            global_index = _clamp(anchor, global_index, t.get_shape())
        value = memref.LoadOp.get(buf, global_index)
        anchor.parent_block().insert_ops_before([value, memref.StoreOp.get(value.res, shared, coords)], anchor)  # type: ignore[union-attr]
        # Barriers: after the copies, and at the end of the iteration.
        after = next((op for op in block.ops if COPY_ATTR not in op.attributes), None)
        if not isinstance(after, BarrierOp):
            block.insert_op_before(BarrierOp(), after)  # type: ignore[arg-type]
        end = block.last_op
        assert end is not None
        if not isinstance(end.prev_op, BarrierOp):
            block.insert_op_before(BarrierOp(), end)
        _verify(kernel, what)


def _injective(tile_forms: list[Affine], loops: list[ForOp]) -> bool:
    """Whether distinct iterations of the tile loops index distinct elements (each
    loop in one dimension, and each dimension's loops a mixed radix)."""
    seen: set[SSAValue] = set()
    for form in tile_forms:
        terms = sorted(((c * loop_of(v).stride, loop_of(v).trip_count) for v, c in form.terms.items()), key=lambda x: x[0])  # type: ignore[union-attr]
        if seen & set(form.terms):
            return False
        seen |= set(form.terms)
        reach = 0
        for coeff, trips in terms:
            if trips == 1:
                continue  # always its first value
            if coeff <= reach:
                return False
            reach += coeff * (trips - 1)
    return seen == {lp.iv for lp in loops}


def cache_write_local(kernel: func.FuncOp, axis: str) -> None:
    """`cache_write(axis, scope="local")`: a per-thread register tile (see the module docstring)."""
    what = f"cache_write '{axis}' (local)"
    loop, region, scope = _region(kernel, axis, "inside")
    guarded = is_guarded(region)
    tile = _tile(what, region, scope, None, guarded=True)
    buf = tile.buf
    assert isinstance(buf.type, MemRefType)
    for lp in tile.loops:
        if lp.lower != 0 or lp.stride != 1:
            raise ScheduleError(f"{what}: tile loop '{lp.axis_name}' does not run from 0 by 1 (a split remainder)")
    if not _injective(tile.local, tile.loops):
        raise ScheduleError(f"{what}: two iterations of the tile loops update one element")
    inside = [op for top in region for op in top.walk() if isinstance(op, ForOp)]
    for lp in inside:
        if lp.kind in GPU_THREAD_BINDINGS and lp not in tile.loops:
            raise ScheduleError(
                f"{what}: thread loop '{lp.axis_name}' does not index the tile; its threads would share an accumulator"
            )
    threaded = [lp for lp in tile.loops if lp.kind in GPU_THREAD_BINDINGS]
    order = threaded + [lp for lp in tile.loops if lp not in threaded]
    alloca = memref.AllocaOp.get(buf.type.element_type, shape=[lp.trip_count for lp in order])
    alloca.attributes[SCOPE_ATTR] = StringAttr(LOCAL)
    alloca.attributes[THREAD_DIMS_ATTR] = IntegerAttr(len(threaded), i64)
    acc = alloca.memref
    acc.name_hint = "acc"
    block = loop.body.block
    start = block.first_op
    assert start is not None
    block.insert_op_before(alloca, start)
    init_nest = _single_stage(kernel, INIT, buf)
    first = init_nest is not None and _first_update(kernel, loop, region, buf, tile)  # type: ignore[arg-type]

    def mirror(suffix: str, before: Operation) -> tuple[Operation, list[SSAValue], list[Affine], ForOp | None]:
        made: list[ForOp] = []
        for lp in tile.loops:
            kind = lp.kind if lp.kind in (*GPU_THREAD_BINDINGS, UNROLL) else "serial"
            new = ForOp(0, lp.trip_count, 1, unique_axis(kernel, f"{lp.axis_name}.{suffix}"), kind)
            new.iv.name_hint = lp.iv.name_hint
            if made:
                made[-1].body.block.insert_op_before(new, made[-1].body.block.last_op)  # type: ignore[arg-type]
            else:
                new.attributes[PLACED_ATTR] = UnitAttr()
                block.insert_op_before(new, before)
            made.append(new)
        mapping = {old.iv: Affine({new.iv: 1}) for old, new in zip(tile.loops, made, strict=True)}
        ivs = {old: new.iv for old, new in zip(tile.loops, made, strict=True)}
        anchor = made[-1].body.block.last_op if made else before
        assert anchor is not None
        global_forms = [o.add(loc.substitute(mapping)) for o, loc in zip(tile.outer, tile.local, strict=True)]
        return anchor, [ivs[lp] for lp in order], global_forms, made[0] if made else None

    anchor, lidx, gforms, init_root = mirror("init", start)
    init_bound = _in_bounds(anchor, gforms, buf.type.get_shape()) if guarded else None
    if first:
        assert init_nest is not None
        inline_stage(init_nest, buf, gforms, anchor, store_to=(acc, lidx))
    else:
        value = memref.LoadOp.get(buf, _emit(anchor, gforms))
        value.attributes[FILL_ATTR] = UnitAttr()
        anchor.parent_block().insert_ops_before([value, memref.StoreOp.get(value.res, acc, lidx)], anchor)  # type: ignore[union-attr]
    for access in accesses(region, buf):
        index = [lp.iv for lp in order]
        if isinstance(access, memref.LoadOp):
            new = memref.LoadOp.get(acc, index)
            access.parent_block().insert_op_before(new, access)  # type: ignore[union-attr]
            access.res.replace_all_uses_with(new.res)
        else:
            access.parent_block().insert_op_before(memref.StoreOp.get(access.value, acc, index), access)  # type: ignore[union-attr]
        access.detach()
        access.erase()
    end = block.last_op
    assert end is not None
    anchor, lidx, gforms, wb_root = mirror("wb", end)
    wb_bound = _in_bounds(anchor, gforms, buf.type.get_shape()) if guarded else None
    value = memref.LoadOp.get(acc, lidx)
    store = memref.StoreOp.get(value.res, buf, _emit(anchor, gforms))
    store.attributes[WRITEBACK_ATTR] = UnitAttr()
    anchor.parent_block().insert_ops_before([value, store], anchor)  # type: ignore[union-attr]
    _finalize(kernel, buf)
    # Under a guarded split the tile runs past the output's edge: its fill and
    # write-back (with the epilogue placed in it) touch only the elements inside.
    for root, bound in ((init_root, init_bound), (wb_root, wb_bound)):
        if root is not None and bound is not None:
            guard_block(root.body.block, bound, what)
    _verify(kernel, what)
