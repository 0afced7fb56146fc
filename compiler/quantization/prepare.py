"""Float-model preparation before calibration: what quantizers do first.

* The opset goes up to 13 (per-axis DequantizeLinear needs it) with ONNX's
  version converter.
* A BatchNormalization that reads a Conv's only output folds into the conv's
  weights and bias, so the int8 conv computes the normalized result (a BN
  between a quantized conv and its Relu would otherwise run in float and cut
  the integer chain in two).
* A two-input Sum becomes Add, which the QDQ writer treats as quantizable.

The prepared model computes what the original does (up to float rounding of
the folded weights); calibration and the FP32 side of the report run it.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper, version_converter

from compiler.errors import CompilerError

MIN_OPSET = 13


def _opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)


def _upgrade(model: onnx.ModelProto) -> onnx.ModelProto:
    if _opset(model) >= MIN_OPSET:
        return model
    try:
        return version_converter.convert_version(model, MIN_OPSET)
    except Exception as err:  # the converter's own error types
        text = str(err).strip().splitlines()
        raise CompilerError(
            f"cannot convert the model from opset {_opset(model)} to {MIN_OPSET} for per-axis quantization "
            f"({text[0][:160] if text else type(err).__name__})",
            hint="convert the model to opset 13 or later first",
        ) from None


def _fold_batch_norms(model: onnx.ModelProto) -> None:
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    outputs = {o.name for o in graph.output}
    producer = {out: node for node in graph.node for out in node.output}
    dropped: list[onnx.NodeProto] = []
    for bn in graph.node:
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1 and any(bn.output[1:]):
            continue
        conv = producer.get(bn.input[0])
        params = [inits.get(name) for name in bn.input[1:5]]
        if (
            conv is None or conv.op_type != "Conv" or consumers.get(bn.input[0], 0) != 1
            or bn.input[0] in outputs or any(p is None for p in params)
            or conv.input[1] not in inits or (len(conv.input) > 2 and conv.input[2] and conv.input[2] not in inits)
        ):
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (numpy_helper.to_array(p).astype(np.float64) for p in params)  # type: ignore[arg-type]
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = (numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
             if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0]))
        s = gamma / np.sqrt(var + eps)
        w_name, b_name = f"{conv.name or conv.output[0]}_bn_w", f"{conv.name or conv.output[0]}_bn_b"
        graph.initializer.extend([
            numpy_helper.from_array((w * s.reshape(-1, *[1] * (w.ndim - 1))).astype(np.float32), w_name),
            numpy_helper.from_array(((b - mean) * s + beta).astype(np.float32), b_name),
        ])
        del conv.input[1:]
        conv.input.extend([w_name, b_name])
        conv.output[0] = bn.output[0]
        dropped.append(bn)
    for bn in dropped:
        graph.node.remove(bn)
    _drop_unused_initializers(graph)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _sum_to_add(model: onnx.ModelProto) -> None:
    for node in model.graph.node:
        if node.op_type == "Sum" and len(node.input) == 2:
            node.op_type = "Add"


def prepare(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` at opset >= 13 with batch norms folded into convs and Sums of two as Add."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    copy = _upgrade(copy)
    _fold_batch_norms(copy)
    _sum_to_add(copy)
    for i, node in enumerate(copy.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
    return helper.make_model(copy.graph, opset_imports=list(copy.opset_import), ir_version=max(copy.ir_version, 7))
