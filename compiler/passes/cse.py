"""`cse`: xDSL's common subexpression elimination, adapted to the graph dialect.

xDSL's `cse` already merges our ops (they are `Pure`, and it compares names,
properties, operands and result types, which for `graph.constant` includes
the dense bytes). This wrapper, registered under the same name (ours win on
a clash, see `compiler.registry.all_passes`), adds two things:

* identical `graph.constant`s are merged even when one stores a splat as one
  element and the other as every element; they are grouped by type, size and
  first and last bytes and compared with a memcmp, never hashed in full nor
  compared element by element in Python;
* a `graph.fused` region is a scope of its own: an op inside it is never
  replaced by an equal op outside it, since the region may only read its
  block arguments (docs/graph-contracts.md).
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region
from xdsl.passes import ModulePass
from xdsl.transforms.common_subexpression_elimination import CSEDriver, KnownOps

from compiler.dialects import graph as g
from compiler.passes.constants import is_splat


def _canonical_bytes(op: g.ConstantOp) -> bytes:
    """The constant's bytes, a splat reduced to its one element."""
    raw = op.value.data.data
    array = op.to_numpy()
    width = array.dtype.itemsize
    if len(raw) > width and is_splat(array):
        return raw[:width]
    return raw


def merge_constants(block: Block) -> int:
    """Replaces each `graph.constant` of `block` equal to an earlier one; returns how many."""
    # Candidates are grouped by type, size and the first and last bytes, so
    # that distinct weights (which differ there) are never compared or hashed
    # in full; the full comparison is a memcmp.
    groups: dict[tuple[object, int, bytes, bytes], list[tuple[bytes, g.ConstantOp]]] = {}
    merged = 0
    for op in list(block.ops):
        if not isinstance(op, g.ConstantOp) or op.attributes:
            continue
        raw = _canonical_bytes(op)
        group = groups.setdefault((op.result.type, len(raw), raw[:64], raw[-64:]), [])
        kept = next((other for data, other in group if data == raw), None)
        if kept is None:
            group.append((raw, op))
            continue
        # `kept` comes first in the block, so it dominates every use of `op`.
        op.result.replace_all_uses_with(kept.result)
        op.detach()
        op.erase()
        merged += 1
    return merged


class _GraphCSEDriver(CSEDriver):
    """xDSL's CSE driver, with `graph.fused` regions as fresh scopes, that
    leaves constants to `merge_constants` (which does not hash their bytes)."""

    def _simplify_operation(self, op: Operation) -> None:
        if isinstance(op, g.ConstantOp) and op.result.uses and not op.attributes:
            return  # merge_constants already saw it
        super()._simplify_operation(op)

    def _simplify_region(self, region: Region) -> None:
        if not isinstance(region.parent_op(), g.FusedOp):
            super()._simplify_region(region)
            return
        outer = self._known_ops
        self._known_ops = KnownOps()
        try:
            super()._simplify_region(region)
        finally:
            self._known_ops = outer


class CSEPass(ModulePass):
    """Common subexpression elimination (xDSL's), merging equal graph.constants
    by bytes and keeping graph.fused regions closed."""

    name = "cse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks = [block for nested in op.walk() for region in nested.regions for block in region.blocks]
        for block in blocks:
            merge_constants(block)
        _GraphCSEDriver().simplify(op)
