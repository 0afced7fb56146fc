"""Helpers shared by the graph passes that read and create `graph.constant`s.

Not a pass: the values of constants as numpy arrays, new constants that keep
splats compact, and the clean-up of constants a rewrite left without users.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter

from compiler import dtypes
from compiler.dialects import graph as g


def constant_array(value: SSAValue) -> np.ndarray | None:
    """The value of `value` if a `graph.constant` defines it (a read-only view), else None."""
    owner = value.owner
    if isinstance(owner, g.ConstantOp):
        return owner.to_numpy()
    return None


def is_splat(array: np.ndarray) -> bool:
    """Whether every element has the same bits as the first (so NaNs and -0.0 count)."""
    if array.size <= 1:
        return True
    flat = np.ascontiguousarray(array).reshape(-1)
    # Bitwise, not by value: 0.0 and -0.0 differ, equal NaNs agree.
    bits = flat.view(np.dtype(f"u{flat.dtype.itemsize}"))
    # Weights almost never are splats: a few probes reject them without a
    # pass over hundreds of MB.
    first = bits[0]
    if bits[1] != first or bits[-1] != first or bits[bits.size // 2] != first:
        return False
    return bool(np.all(bits == first))


def dense_attr(array: np.ndarray, type_: Attribute) -> DenseIntOrFPElementsAttr:
    """A dense attribute of tensor type `type_` holding `array` (one element if a splat)."""
    assert isinstance(type_, TensorType)
    shape = tuple(type_.get_shape())
    elem = type_.get_element_type()
    array = np.asarray(array, dtype=dtypes.to_numpy_dtype(elem))
    if array.size > 1 and is_splat(array):
        return dtypes.dense_splat(array, shape, elem)
    return dtypes.dense_from_numpy(array.reshape(shape), elem)


def make_constant(array: np.ndarray, type_: Attribute, name_hint: str | None = None) -> g.ConstantOp:
    """A new (not inserted) `graph.constant` of type `type_` holding `array`."""
    op = g.ConstantOp(dense_attr(array, type_))
    op.result.name_hint = name_hint
    return op


def erase_dead_constants(rewriter: PatternRewriter, values: Iterable[SSAValue]) -> None:
    """Erases the constants defining `values` that no longer have any use.

    Rewrites that replace an op's constant operands (a folded weight, a new
    bias) call this so that big dead weights do not linger until `dce`.
    """
    seen: set[Operation] = set()
    for value in values:
        owner = value.owner
        if isinstance(owner, g.ConstantOp) and owner not in seen and not owner.result.uses:
            seen.add(owner)
            if owner.parent is not None:
                rewriter.erase(owner)
