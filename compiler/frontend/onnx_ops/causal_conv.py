"""CausalConvWithState (opset 27): the stateful causal depthwise 1-D conv of
Mamba and Gated DeltaNet blocks, as the Concat + Conv + Slice it replaces.

The past state (zeros when absent) is prepended along time, a depthwise
graph.conv without padding produces one output per input step (SiLU fused as
its epilogue by the fusion pass when asked), and the present state is the last
k - 1 steps of the extended input.
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, converter
from compiler.frontend.onnx_ops.common import binary, require_float, require_rank, shape
from compiler.frontend.onnx_ops.spatial import conv_nd
from compiler.frontend.onnx_ops.tensor import slice_value

_ACTIVATIONS = ("none", "silu", "swish")


@converter("CausalConvWithState")
def convert_causal_conv_with_state(b: NodeBuilder) -> list[SSAValue]:
    x, w = b.input(0), b.input(1)
    require_float(b, x)
    require_rank(b, x, exactly=3)
    require_rank(b, w, exactly=3)
    batch, channels, length = shape(x)
    if shape(w)[:2] != (channels, 1):
        raise b.error(f"weight {list(shape(w))} must be [{channels}, 1, k] (depthwise)")
    k = shape(w)[2]
    activation = b.attr("activation", "none") or "none"
    if activation not in _ACTIVATIONS:
        raise b.error(f"activation={activation!r} is not supported ({', '.join(_ACTIVATIONS)})")
    past = b.opt_input(3)
    if past is not None and shape(past) != (batch, channels, k - 1):
        raise b.error(f"past_state {list(shape(past))} must be [{batch}, {channels}, {k - 1}]")
    if k == 1:
        extended = x
    elif past is None:
        extended = b.make(g.PadOp, [x], pads=[0, 0, k - 1, 0, 0, 0], mode="constant", value=0.0)
    else:
        extended = b.make(g.ConcatOp, [past, x], axis=2)
    y = conv_nd(b, extended, w, b.opt_input(2), [1], [0, 0], [1], channels)
    if activation != "none":
        y = binary(b, g.MulOp, y, b.make(g.SigmoidOp, [y]))
    total = length + k - 1
    present = slice_value(b, extended, [total - (k - 1)], [total], [2], [1])
    return [y, present]
