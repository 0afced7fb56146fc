"""Converters of the bitwise ONNX ops: BitwiseAnd/Or/Xor/Not and BitShift.

They map one to one onto integer graph ops (And/Or/Xor/Not in the graph
dialect are the boolean ones).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary

_BITWISE: dict[str, type[g.GraphOp]] = {
    "BitwiseAnd": g.BitwiseAndOp,
    "BitwiseOr": g.BitwiseOrOp,
    "BitwiseXor": g.BitwiseXorOp,
}


@converter(*_BITWISE)
def convert_bitwise(b: NodeBuilder) -> list[SSAValue]:
    return [binary(b, _BITWISE[b.node.op_type], b.input(0), b.input(1))]


@converter("BitwiseNot")
def convert_bitwise_not(b: NodeBuilder) -> list[SSAValue]:
    return [b.make(g.BitwiseNotOp, [b.input(0)])]


@converter("BitShift")
def convert_bit_shift(b: NodeBuilder) -> list[SSAValue]:
    direction = b.required_attr("direction")
    if direction not in ("LEFT", "RIGHT"):
        raise b.error(f"direction={direction!r} must be LEFT or RIGHT")
    cls = g.ShiftLeftOp if direction == "LEFT" else g.ShiftRightOp
    return [binary(b, cls, b.input(0), b.input(1))]
