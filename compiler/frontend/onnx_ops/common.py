"""Small building blocks shared by the converters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder


def shape(value: SSAValue) -> tuple[int, ...]:
    return g.shape_of(value)


def elem(value: SSAValue) -> Attribute:
    return g.elem_of(value)


def rank(value: SSAValue) -> int:
    return len(g.shape_of(value))


def norm_axis(b: NodeBuilder, axis: int, r: int) -> int:
    """axis in [-r, r) as a non-negative axis; a rank-0 tensor has none."""
    if not -r <= axis < r:
        raise b.error(f"axis {axis} is out of range for rank {r}")
    return axis % r


def variadic_inputs(b: NodeBuilder) -> list[SSAValue]:
    """The inputs of Sum/Max/Min/Mean/Concat, of which there must be one at least."""
    inputs = b.inputs
    if not inputs:
        raise b.error("needs at least one input")
    return inputs


def require_rank(b: NodeBuilder, value: SSAValue, exactly: int | None = None, at_least: int = 0) -> None:
    r = rank(value)
    if (exactly is not None and r != exactly) or r < at_least:
        want = exactly if exactly is not None else f"{at_least} or more"
        raise b.error(f"input must have rank {want}, got {r}")


def scalar(b: NodeBuilder, value: float | int | bool, like: SSAValue) -> SSAValue:
    """A rank-0 constant with `like`'s element type."""
    dt = dtypes.to_numpy_dtype(elem(like))
    return b.constant(np.asarray(value, dtype=dt), elem(like))


def reshape(b: NodeBuilder, value: SSAValue, new_shape: Sequence[int]) -> SSAValue:
    if tuple(new_shape) == shape(value):
        return value
    return b.make(g.ReshapeOp, [value], [TensorType(elem(value), list(new_shape))])


def cast(b: NodeBuilder, value: SSAValue, to: Attribute) -> SSAValue:
    if elem(value) == to:
        return value
    return b.make(g.CastOp, [value], [TensorType(to, list(shape(value)))])


def transpose(b: NodeBuilder, value: SSAValue, perm: Sequence[int]) -> SSAValue:
    if list(perm) == list(range(len(perm))):
        return value
    return b.make(g.TransposeOp, [value], perm=list(perm))


def binary(b: NodeBuilder, cls: type[g.GraphOp], lhs: SSAValue, rhs: SSAValue) -> SSAValue:
    return b.make(cls, [lhs, rhs])


def unsqueeze(b: NodeBuilder, value: SSAValue, axes: Sequence[int]) -> SSAValue:
    out_rank = rank(value) + len(axes)
    norm = sorted(a % out_rank for a in axes)
    dims = list(shape(value))
    for a in norm:
        dims.insert(a, 1)
    return reshape(b, value, dims)


def require_float(b: NodeBuilder, value: SSAValue, what: str = "input") -> None:
    if not dtypes.is_float(elem(value)):
        raise b.error(f"{what} must be a floating-point tensor, got {elem(value)}")
