"""Local tiles laid out for the loop that vectorizes over them.

`cache_write` gives its tile (a `memref.alloca`) the output buffer's dim
order. When the vectorized loop walks a tile dim that is not the last, every
vector access of the tile would be strided: a gather and a scatter per
update, which also keeps LLVM from promoting the tile to registers (SqueezeNet's
1000-class conv writes NCHW while its tile vectorizes over channels). A tile
is private to its kernel, so `vectorize` may move that dim last.
"""

from __future__ import annotations

from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Operation, SSAValue

from compiler.dialects.loop import ForOp


def _depends_on(value: SSAValue, iv: SSAValue, inside: Operation) -> bool:
    """Whether an index is computed from `iv` (through ops inside `inside`)."""
    if value is iv:
        return True
    owner = value.owner
    if not isinstance(owner, Operation) or not inside.is_ancestor(owner):
        return False
    return any(_depends_on(v, iv, inside) for v in owner.operands)


def _walked_dims(loop: ForOp, tile: SSAValue) -> set[int]:
    dims: set[int] = set()
    for op in loop.body.walk():
        if isinstance(op, memref.LoadOp | memref.StoreOp) and op.memref is tile:
            dims |= {d for d, i in enumerate(op.indices) if _depends_on(i, loop.iv, loop)}
    return dims


def _only_indexed(tile: SSAValue) -> bool:
    """Whether every use of the buffer is a load or store into it (else it is left alone)."""
    return all(
        isinstance(op := use.operation, memref.LoadOp) or (isinstance(op, memref.StoreOp) and op.memref is tile)
        for use in tile.uses
    )


def _permute(alloca: memref.AllocaOp, order: list[int]) -> None:
    old = alloca.memref
    assert isinstance(old.type, MemRefType)
    shape = old.type.get_shape()
    new = memref.AllocaOp.get(old.type.element_type, shape=[shape[d] for d in order])
    new.memref.name_hint = old.name_hint
    block = alloca.parent_block()
    assert block is not None
    block.insert_op_before(new, alloca)
    for use in list(old.uses):
        op = use.operation
        assert isinstance(op, memref.LoadOp | memref.StoreOp)
        idx = list(op.indices)
        head = [new.memref] if isinstance(op, memref.LoadOp) else [op.value, new.memref]
        op.operands = [*head, *[idx[d] for d in order]]
    alloca.detach()
    alloca.erase()


def make_tiles_contiguous(loop: ForOp) -> None:
    """Move the tile dim that `loop` walks last, in every local tile it accesses."""
    tiles = {
        op.memref: op.memref.owner
        for op in loop.body.walk()
        if isinstance(op, memref.LoadOp | memref.StoreOp) and isinstance(op.memref.owner, memref.AllocaOp)
    }
    for tile, alloca in tiles.items():
        assert isinstance(alloca, memref.AllocaOp) and isinstance(tile.type, MemRefType)
        dims = _walked_dims(loop, tile)
        rank = len(tile.type.get_shape())
        if len(dims) != 1 or rank - 1 in dims or not _only_indexed(tile):
            continue
        (d,) = dims
        _permute(alloca, [k for k in range(rank) if k != d] + [d])
