"""The per-layer quantization error: SQNR of each quantized op's output against FP32.

For every op the QDQ writer quantized (conv, matmul, gemm, add, pools), the
output tensor of the float model is compared with the same tensor of the QDQ
model as its consumers see it (after the output's own QuantizeLinear ->
DequantizeLinear), on the same feeds. The error thus includes what every
earlier layer added, as it accumulates through the network:

    SQNR = 10 log10( sum(x_fp32^2) / sum((x_qdq - x_fp32)^2) )  dB

About 6 dB per bit: an int8 tensor quantized alone reaches at most about
40-50 dB; values falling layer by layer show the error accumulating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx

from compiler.quantization.calibrate import Feeds, make_runner
from compiler.quantization.qdq_writer import QdqPlan


@dataclass(frozen=True)
class LayerError:
    node: str
    op_type: str
    tensor: str
    sqnr_db: float


def sqnr_db(reference: np.ndarray, quantized: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio in dB (inf when equal)."""
    ref = np.asarray(reference, np.float64)
    noise = float(np.sum((np.asarray(quantized, np.float64) - ref) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def layer_errors(
    prepared: onnx.ModelProto, qdq: onnx.ModelProto, qplan: QdqPlan, feeds: Sequence[Feeds], backend: str
) -> list[LayerError]:
    """SQNR of each quantized layer's output, over all `feeds` together."""
    outputs = {o.name for o in qdq.graph.output}
    layers = [(node, node.output[0]) for node in qplan.layers]
    fp32_names = sorted({t for _, t in layers})

    def qdq_name(t: str) -> str:
        return f"{t}_DequantizeLinear_Output" if t in qplan.activations and t not in outputs else t

    qdq_names = [qdq_name(t) for t in fp32_names]
    run_fp32 = make_runner(prepared, fp32_names, backend)
    run_qdq = make_runner(qdq, qdq_names, backend)
    signal = dict.fromkeys(fp32_names, 0.0)
    noise = dict.fromkeys(fp32_names, 0.0)
    for sample in feeds:
        for name, ref, got in zip(fp32_names, run_fp32(sample), run_qdq(sample), strict=True):
            ref64 = np.asarray(ref, np.float64)
            signal[name] += float(np.sum(ref64**2))
            noise[name] += float(np.sum((np.asarray(got, np.float64) - ref64) ** 2))

    def db(name: str) -> float:
        if noise[name] == 0.0:
            return math.inf
        return -math.inf if signal[name] == 0.0 else 10.0 * math.log10(signal[name] / noise[name])

    return [LayerError(node.name, node.op_type, tensor, db(tensor)) for node, tensor in layers]


def format_report(errors: Sequence[LayerError], title: str = "") -> str:
    """A table, one row per layer, then the worst, median and last SQNR."""
    if not errors:
        return "no layer was quantized"
    width = min(40, max(len(e.node) for e in errors))
    lines = [title] if title else []
    lines.append(f"{'layer':<{width}}  {'op':<17}  {'SQNR dB':>8}")
    lines += [f"{e.node[:width]:<{width}}  {e.op_type:<17}  {e.sqnr_db:8.2f}" for e in errors]
    values = [e.sqnr_db for e in errors]
    lines.append(
        f"{len(errors)} quantized layers: SQNR min {min(values):.2f} dB, median {float(np.median(values)):.2f} dB, "
        f"last layer {values[-1]:.2f} dB"
    )
    return "\n".join(lines)
