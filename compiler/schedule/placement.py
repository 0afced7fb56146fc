"""Schedule primitives that place stages and buffers: `cache_write` and `compute_at`.

`cache_write(axis)` is TVM's cache_write + compute_at of the cache stage:
the elements of the output buffer that one iteration of `axis` updates (a
tile: the box spanned by the loops inside `axis` that index the buffer) are
accumulated in a local buffer (`memref.alloca`, kept in registers when small)
that is initialized at the top of the iteration and written back once at its
end. The reduction's `init` stage is inlined into the tile's initialization;
once every update of the buffer goes through tiles, the `init` and
`epilogue` stages are removed and the epilogue runs inside each write-back,
on the value about to be stored. The tile's initialization and write-back
loops mirror the tile loops (`<loop>.init`, `<loop>.wb`) so that they can be
unrolled and vectorized like them.

`compute_at(stage, axis)` moves a whole `init` or `epilogue` stage into the
loop `axis` of the nest that updates its buffer, over the box that one
iteration of `axis` touches (`<loop>.init` / `<loop>.epi` loops).

With `position: "around"`, the tile is placed around the loop `axis` itself
(in its parent's body) rather than inside its body: the peeled remainder of a
split, a nest of its own, gets a tile that covers all of its iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import MemRefType, UnitAttr
from xdsl.ir import Block, Operation, SSAValue

from compiler.dialects.loop import ForOp
from compiler.schedule.analysis import body_ops
from compiler.schedule.primitives import (
    IndexEmitter,
    Primitive,
    ScheduleError,
    _check_str,
    _verify,
    find_loop,
    is_guarded,
    unique_axis,
)
from compiler.schedule.stages import (
    EPILOGUE,
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
    nest_root,
    same_forms,
    stage_nests,
    top_level_nests,
)

POSITIONS = ("inside", "around")


@dataclass
class _Tile:
    """The box of `buf` that the ops of a region update, per iteration of the loops around it."""

    buf: SSAValue
    outer: list[Affine]
    local: list[Affine]
    loops: list[ForOp]
    shape: list[int]


def _region(kernel: func.FuncOp, axis: str, position: str) -> tuple[ForOp, list[Operation], list[ForOp]]:
    if position not in POSITIONS:
        raise ScheduleError(f"position must be one of {', '.join(POSITIONS)}, got '{position}'")
    loop = find_loop(kernel, axis)
    if position == "inside":
        return loop, body_ops(loop), [loop, *loop.enclosing_loops()]
    return loop, [loop], list(loop.enclosing_loops())


def _unplaced(region: Sequence[Operation]) -> list[Operation]:
    """The region without the nests that stages were already placed in (they
    access the buffer at their own indices, over the same box)."""
    return [op for op in region if PLACED_ATTR not in op.attributes]


def _tile(
    what: str, region: Sequence[Operation], scope: Sequence[ForOp], buf: SSAValue | None, guarded: bool = False
) -> _Tile:
    """The tile of `buf` (else the one buffer stored) that `region` updates. `guarded`: the caller
    guards the placed stages itself (a register tile), so accesses under a tail guard are allowed."""
    region = _unplaced(region)
    if not guarded and is_guarded(region):
        raise ScheduleError(
            f"{what}: the loop's accesses run under a tail guard (a guarded split); place stages "
            "before splitting with a guard, or split by a divisor"
        )
    local_bufs = {op.memref for top in region for op in top.walk() if isinstance(op, memref.AllocaOp | memref.AllocOp)}
    stored = []
    for top in region:
        for op in top.walk():
            if isinstance(op, memref.StoreOp) and op.memref not in local_bufs and op.memref not in stored:
                stored.append(op.memref)
    if buf is None:
        if len(stored) != 1:
            raise ScheduleError(f"{what}: the loop must store exactly one buffer, it stores {len(stored)}")
        buf = stored[0]
    elif buf not in stored:
        raise ScheduleError(f"{what}: the loop does not store the stage's buffer")
    found = accesses(region, buf)
    forms = [access_forms(a) for a in found]
    if any(f is None for f in forms):
        raise ScheduleError(f"{what}: the buffer is indexed with non-affine values (split/reorder only before it)")
    first = forms[0]
    assert first is not None
    if not all(same_forms(first, f) for f in forms if f is not None):
        raise ScheduleError(f"{what}: the buffer is accessed at more than one index in the loop")
    inner_loops = [op for top in region for op in top.walk() if isinstance(op, ForOp)]
    inner = {lp.iv for lp in inner_loops}
    parts = [f.split(inner) for f in first]
    outer, local = [p[0] for p in parts], [p[1] for p in parts]
    used = {v for p in outer for v in p.terms}
    for lp in scope:
        if lp.iv not in used:
            raise ScheduleError(
                f"{what}: loop '{lp.axis_name}' does not index the buffer (a reduction "
                "outside the tile would restart it); place the tile inside it"
            )
    tile_loops = [lp for lp in inner_loops if any(lp.iv in p.terms for p in local)]
    by_iv = {lp.iv: lp for lp in tile_loops}
    shape = []
    for d, p in enumerate(local):
        if any(c < 0 for c in p.terms.values()):
            raise ScheduleError(f"{what}: the tile is indexed with a negative stride")
        # Tiles start at 0: a loop from lb (a split remainder) shifts the tile's origin.
        offset = sum(c * by_iv[v].lower for v, c in p.terms.items())
        local[d] = Affine(dict(p.terms), -offset)
        outer[d] = outer[d].add(Affine({}, offset))
        shape.append(sum(c * by_iv[v].stride * (by_iv[v].trip_count - 1) for v, c in p.terms.items()) + 1)
    return _Tile(buf, outer, local, tile_loops, shape)


def _mirror(kernel: func.FuncOp, loops: Sequence[ForOp], suffix: str) -> tuple[list[ForOp], dict[SSAValue, Affine]]:
    """Fresh nested loops with the bounds of `loops` (names `<axis>.<suffix>`)."""
    made: list[ForOp] = []
    taken: set[str] = set()
    for lp in loops:
        name = unique_axis(kernel, f"{lp.axis_name}.{suffix}")
        while name in taken:
            name = unique_axis(kernel, name + "_")
        taken.add(name)
        new = ForOp(lp.lower, lp.upper, lp.stride, name)
        new.iv.name_hint = lp.iv.name_hint
        if not made:
            new.attributes[PLACED_ATTR] = UnitAttr()
        if made:
            made[-1].body.block.insert_op_before(new, made[-1].body.block.last_op)  # type: ignore[arg-type]
        made.append(new)
    return made, {old.iv: Affine({new.iv: 1}) for old, new in zip(loops, made, strict=True)}


class _Placer:
    """Inserts a mirrored nest at a point and gives the op to insert before, innermost."""

    def __init__(self, kernel: func.FuncOp, tile: _Tile, suffix: str) -> None:
        self.loops, self.mapping = _mirror(kernel, tile.loops, suffix)
        self.global_index = [o.add(loc.substitute(self.mapping)) for o, loc in zip(tile.outer, tile.local, strict=True)]
        self.local_index = [loc.substitute(self.mapping) for loc in tile.local]

    def insert(self, block: Block, before: Operation | None) -> Operation:
        """Insert the nest (or, with no loops, nothing) and return the innermost anchor op."""
        if self.loops:
            if before is None:
                block.add_op(self.loops[0])
            else:
                block.insert_op_before(self.loops[0], before)
            anchor = self.loops[-1].body.block.last_op
            assert anchor is not None
            return anchor
        if before is None:
            raise ScheduleError("internal: a loop-less tile needs an anchor")
        return before


def _emit_before(anchor: Operation, forms: Sequence[Affine]) -> list[SSAValue]:
    emitter = IndexEmitter()
    values = [emit_affine(emitter, f) for f in forms]
    block = anchor.parent_block()
    assert block is not None
    block.insert_ops_before(emitter.ops, anchor)
    return values


def _single_stage(kernel: func.FuncOp, stage: str, buf: SSAValue) -> ForOp | None:
    nests = [n for n in stage_nests(kernel, stage) if accesses([n], buf)]
    if len(nests) > 1:
        raise ScheduleError(f"stage '{stage}' has {len(nests)} nests; place it before splitting it")
    return nests[0] if nests else None


def _anchor_after(block: Block, at: Operation | None) -> Operation:
    """An op to insert before so that new ops land right after `at` (None: block start)."""
    nxt = block.first_op if at is None else at.next_op
    assert nxt is not None, "loop bodies end with a terminator"
    return nxt


@dataclass(frozen=True)
class CacheWrite(Primitive):
    """Accumulate the tile that one iteration of `axis` updates in a local buffer."""

    primitive: ClassVar[str] = "cache_write"
    axis: str
    position: str = "inside"
    scope: str = ""
    """"": a local buffer in the tile's layout (CPU); "local": a GPU register
    tile, one slice per thread (`compiler.schedule.gpu_memory`)."""

    def __post_init__(self) -> None:
        _check_str(self.axis, "axis")
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {', '.join(POSITIONS)}, got {self.position!r}")
        if self.scope not in ("", "local"):
            raise ValueError(f"scope must be 'local' or absent, got {self.scope!r}")
        if self.scope and self.position != "inside":
            raise ValueError("a local (register) tile is placed inside its loop")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.scope:
            del out["scope"]  # CPU schedules (and their records) stay as they were
        return out

    def apply(self, kernel: func.FuncOp) -> None:
        if self.scope:
            # gpu_memory builds on this module's tile analysis, so it is imported on use.
            from compiler.schedule.gpu_memory import cache_write_local

            cache_write_local(kernel, self.axis)
            return
        what = f"cache_write '{self.axis}'"
        loop, region, scope = _region(kernel, self.axis, self.position)
        tile = _tile(what, region, scope, None)
        buf = tile.buf
        assert isinstance(buf.type, MemRefType)
        elem = buf.type.element_type
        init_nest = _single_stage(kernel, INIT, buf)
        if self.position == "inside":
            block = loop.body.block
            start = _anchor_after(block, None)
            end = block.last_op
        else:
            block = loop.parent_block()  # type: ignore[assignment]
            assert block is not None
            start = loop
            end = _anchor_after(block, loop)
        alloca = memref.AllocaOp.get(elem, shape=tile.shape)
        acc = alloca.memref
        acc.name_hint = "acc"
        block.insert_op_before(alloca, start)
        # Initialize the tile: the init stage's value, or the buffer's.
        init = _Placer(kernel, tile, "init")
        anchor = init.insert(block, start)
        gidx = init.global_index
        lidx = _emit_before(anchor, init.local_index)
        if init_nest is not None and _first_update(kernel, loop, region, buf, tile):
            inline_stage(init_nest, buf, gidx, anchor, store_to=(acc, lidx))
        else:
            # Partial results may be in the buffer already (a split reduction,
            # a tile of an epilogue): start from them.
            g_values = _emit_before(anchor, gidx)
            value = memref.LoadOp.get(buf, g_values)
            value.attributes[FILL_ATTR] = UnitAttr()
            anchor.parent_block().insert_ops_before([value, memref.StoreOp.get(value.res, acc, lidx)], anchor)  # type: ignore[union-attr]
        # The updates read and write the tile.
        for access in accesses(region, buf):
            local = _emit_before(access, tile.local)
            if isinstance(access, memref.LoadOp):
                new = memref.LoadOp.get(acc, local)
                access.parent_block().insert_op_before(new, access)  # type: ignore[union-attr]
                access.res.replace_all_uses_with(new.res)
            else:
                new = memref.StoreOp.get(access.value, acc, local)
                access.parent_block().insert_op_before(new, access)  # type: ignore[union-attr]
            access.detach()
            access.erase()
        # Write the tile back once.
        wb = _Placer(kernel, tile, "wb")
        anchor = wb.insert(block, end)
        lidx = _emit_before(anchor, wb.local_index)
        g_values = _emit_before(anchor, wb.global_index)
        value = memref.LoadOp.get(acc, lidx)
        store = memref.StoreOp.get(value.res, buf, g_values)
        store.attributes[WRITEBACK_ATTR] = UnitAttr()
        anchor.parent_block().insert_ops_before([value, store], anchor)  # type: ignore[union-attr]
        _finalize(kernel, buf)
        _verify(kernel, what)


def _first_update(kernel: func.FuncOp, loop: ForOp, region: Sequence[Operation], buf: SSAValue, tile: _Tile) -> bool:
    """Whether the tile's elements get their whole reduction here: the region is
    in a compute nest, and no access of the buffer outside it (in compute
    nests) can touch the same elements (split remainders of spatial loops
    touch other elements; a split reduction touches the same ones)."""
    root = nest_root(loop)
    if root is None or root.stage_name in (INIT, EPILOGUE):
        return False
    inside = {id(op) for top in region for op in top.walk()}
    mine = [box(f) for f in ([access_forms(a) for a in accesses(region, buf)]) if f is not None]
    for nest in top_level_nests(kernel):
        if nest.stage_name in (INIT, EPILOGUE):
            continue
        for access in accesses([nest], buf):
            if id(access) in inside:
                continue
            forms = access_forms(access)
            if forms is None:
                return False
            other = box(forms)
            if any(_overlap(m, other) for m in mine):
                return False
    return True


def box(forms: Sequence[Affine]) -> list[tuple[int, int] | None]:
    """Per dimension, the range of an affine index over all iterations of its loops (None: unknown)."""
    ranges: list[tuple[int, int] | None] = []
    for f in forms:
        lo = hi = f.const
        known = True
        for v, c in f.terms.items():
            lp = loop_of(v)
            if lp is None or lp.trip_count == 0:
                known = False
                break
            a, b = c * lp.lower, c * (lp.lower + lp.stride * (lp.trip_count - 1))
            lo, hi = lo + min(a, b), hi + max(a, b)
        ranges.append((lo, hi) if known else None)
    return ranges


def _overlap(a: list[tuple[int, int] | None], b: list[tuple[int, int] | None]) -> bool:
    for x, y in zip(a, b, strict=True):
        if x is not None and y is not None and (x[1] < y[0] or y[1] < x[0]):
            return False
    return True


def _finalize(kernel: func.FuncOp, buf: SSAValue) -> None:
    """Once every update of `buf` goes through a tile that holds the whole
    reduction of its elements, the init and epilogue stages move into the tiles."""
    for nest in top_level_nests(kernel):
        if nest.stage_name in (INIT, EPILOGUE):
            continue
        for access in accesses([nest], buf):
            if WRITEBACK_ATTR not in access.attributes:
                return  # an update outside the tiles, or a tile that starts from the buffer
    init_nest = _single_stage(kernel, INIT, buf)
    epilogue = _single_stage(kernel, EPILOGUE, buf)
    if epilogue is not None:
        for nest in top_level_nests(kernel):
            if nest.stage_name in (INIT, EPILOGUE):
                continue
            for store in accesses([nest], buf):
                assert isinstance(store, memref.StoreOp)
                forms = access_forms(store)
                assert forms is not None
                inline_stage(epilogue, buf, forms, store, loaded=store.value)
                store.detach()
                store.erase()
        epilogue.detach()
        epilogue.erase()
    else:
        for nest in top_level_nests(kernel):
            for store in accesses([nest], buf):
                store.attributes.pop(WRITEBACK_ATTR, None)
    if init_nest is not None:
        init_nest.detach()
        init_nest.erase()


@dataclass(frozen=True)
class ComputeAt(Primitive):
    """Move the `init` or `epilogue` stage of a buffer into the loop `axis` that updates it."""

    primitive: ClassVar[str] = "compute_at"
    stage: str
    axis: str

    def __post_init__(self) -> None:
        _check_str(self.stage, "stage")
        _check_str(self.axis, "axis")

    def apply(self, kernel: func.FuncOp) -> None:
        what = f"compute_at '{self.stage}' at '{self.axis}'"
        nests = stage_nests(kernel, self.stage)
        if not nests:
            names = sorted({n.stage_name for n in top_level_nests(kernel) if n.stage_name})
            raise ScheduleError(f"{what}: no stage named '{self.stage}' (stages: {', '.join(names) or 'none'})")
        if len(nests) > 1:
            raise ScheduleError(f"{what}: the stage has {len(nests)} nests; place it before splitting it")
        nest = nests[0]
        loop, region, scope = _region(kernel, self.axis, "inside")
        if nest_root(loop) is nest:
            raise ScheduleError(f"{what}: the loop belongs to the stage itself")
        buf = _stage_buffer(nest, region)
        if buf is None:
            raise ScheduleError(f"{what}: the loop does not update a buffer that the stage accesses")
        tile = _tile(what, region, scope, buf)
        root = nest_root(loop)
        for other in top_level_nests(kernel):
            if other is nest or other is root or other.stage_name in (INIT, EPILOGUE):
                continue
            if accesses([other], buf):
                raise ScheduleError(
                    f"{what}: nest '{other.axis_name}' also updates the buffer; "
                    "compute_at must cover every update (no split remainders)"
                )
        before = _precedes(kernel, nest, root)
        block = loop.body.block
        placer = _Placer(kernel, tile, "init" if before else "epi")
        anchor = placer.insert(block, _anchor_after(block, None) if before else block.last_op)
        if before:
            inline_stage(nest, buf, placer.global_index, anchor)
        else:
            g_values = _emit_before(anchor, placer.global_index)
            value = memref.LoadOp.get(buf, g_values)
            anchor.parent_block().insert_op_before(value, anchor)  # type: ignore[union-attr]
            inline_stage(nest, buf, placer.global_index, anchor, loaded=value.res)
        nest.detach()
        nest.erase()
        _verify(kernel, what)


def _stage_buffer(nest: ForOp, region: Sequence[Operation]) -> SSAValue | None:
    stage_bufs = [a.memref for a in _all_accesses(nest)]
    for top in region:
        for op in top.walk():
            if isinstance(op, memref.StoreOp) and op.memref in stage_bufs:
                return op.memref
    return None


def _all_accesses(nest: ForOp) -> list[memref.LoadOp | memref.StoreOp]:
    return [op for op in nest.walk() if isinstance(op, memref.LoadOp | memref.StoreOp)]


def _precedes(kernel: func.FuncOp, a: ForOp, b: ForOp | None) -> bool:
    for op in kernel.body.block.ops:
        if op is a:
            return True
        if op is b:
            return False
    return False
