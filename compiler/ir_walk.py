"""Pre-order walks of nested IR that are cheaper than xDSL's `Operation.walk()`.

`Operation.walk()` is a chain of generators (operation -> region -> block ->
operation) that every visited op is yielded through, one level per nesting
depth; the scheduler asks a kernel for its loops about a thousand times for
ResNet-50, and most of the ops it passes are loop bodies without regions.
These helpers visit the same ops in the same order (the op itself first, then
its regions, blocks and ops in order) with one plain loop per block, and
descend only into ops that have regions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from xdsl.ir import Operation

OpT = TypeVar("OpT", bound=Operation)


def _collect(op: Operation, out: list[Operation]) -> None:
    for region in op.regions:
        for block in region.blocks:
            child = block.first_op
            while child is not None:
                out.append(child)
                if child.regions:
                    _collect(child, out)
                child = child.next_op


def walk_ops(op: Operation) -> list[Operation]:
    """`list(op.walk())`: `op` and every op nested in it, pre-order."""
    out = [op]
    _collect(op, out)
    return out


def _collect_type(op: Operation, cls: type[OpT], out: list[OpT]) -> None:
    for region in op.regions:
        for block in region.blocks:
            child = block.first_op
            while child is not None:
                if isinstance(child, cls):
                    out.append(child)
                if child.regions:
                    _collect_type(child, cls, out)
                child = child.next_op


def ops_of_type(op: Operation, cls: type[OpT]) -> list[OpT]:
    """`[o for o in op.walk() if isinstance(o, cls)]`, pre-order."""
    out: list[OpT] = [op] if isinstance(op, cls) else []
    _collect_type(op, cls, out)
    return out


def _first_nested(op: Operation, pred: Callable[[Operation], bool]) -> Operation | None:
    for region in op.regions:
        for block in region.blocks:
            child = block.first_op
            while child is not None:
                if pred(child):
                    return child
                if child.regions:
                    found = _first_nested(child, pred)
                    if found is not None:
                        return found
                child = child.next_op
    return None


def first_op(op: Operation, pred: Callable[[Operation], bool]) -> Operation | None:
    """`next((o for o in op.walk() if pred(o)), None)`, without visiting the ops after it."""
    if pred(op):
        return op
    return _first_nested(op, pred)
