"""Writing a float model as a standard QDQ ONNX model, in onnxruntime's layout.

Which tensors are quantized (`plan`), following onnxruntime's QDQ format so
that its own QDQ fusions (and ours, `fold-qdq`) recognize the patterns:

* Conv, MatMul, Gemm: the activation inputs and the output; constant weights
  become int8 initializers read through a DequantizeLinear (symmetric, zero
  point 0, range [-127, 127]; per output channel: axis 0 of a Conv weight,
  the last axis of a MatMul weight (axis 1 of a 2-D one, as onnxruntime), the
  N axis of a Gemm weight: 0 with transB, else 1); a constant bias
  becomes int32 with scale s_x * s_w and zero point 0.
* Add and Mul of two activations, AveragePool and GlobalAveragePool: the
  inputs and the output, each with its own scale.
* MaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze: when the input is
  quantized, the output is too, with the input's scale and zero point (these
  ops commute with quantization, so a Q after them is exact).
* A Relu whose input is the only use of a quantized op's output disappears:
  that output is quantized with the Relu output's range, which starts at 0,
  so quantization's clamp at the zero point is the Relu (onnxruntime does the
  same).
* Graph outputs stay float unless `quantize_outputs`: the last layer's
  output (logits) keeps full precision, as TensorRT keeps network outputs.

Activations are int8, asymmetric (zero point from the range), which is
onnxruntime `quantize_static`'s default (activation_type=QInt8,
ActivationSymmetric=False); `activation_type="uint8"` gives QUInt8, the
type onnxruntime recommends for x86 with VNNI (without VNNI its AVX2 u8 x s8
kernels can saturate pairs of products at int16, so its results then differ
from exact int32 arithmetic).

Every quantized tensor T is followed by T -> QuantizeLinear -> DequantizeLinear
right after its producer, and every consumer reads the dequantized value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

COMPUTE_OPS = {"Conv": 0, "MatMul": -1, "Gemm": 1}  # op -> its weight's output-channel axis (Gemm: _weight_axis)
BINARY_OPS = ("Add", "Mul")
POOL_OPS = ("AveragePool", "GlobalAveragePool")
DIRECT_OPS = ("MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze")
ACTIVATION_TYPES = {"int8": (TensorProto.INT8, np.int8, -128, 127), "uint8": (TensorProto.UINT8, np.uint8, 0, 255)}


@dataclass
class QdqPlan:
    """What gets quantized: activation tensors (with the tensor whose range sets their
    scale), weights (initializer -> channel axis or None) and biases (initializer -> (x, w))."""

    model: onnx.ModelProto
    activations: dict[str, str] = field(default_factory=dict)  # tensor -> range source tensor
    weights: dict[str, int | None] = field(default_factory=dict)
    biases: dict[str, tuple[str, str]] = field(default_factory=dict)
    layers: list[onnx.NodeProto] = field(default_factory=list)  # the quantized compute/binary/pool ops

    @property
    def observed(self) -> list[str]:
        """Tensors whose range calibration must record."""
        return sorted({source for source in self.activations.values()})


def _weight_axis(node: onnx.NodeProto, per_channel: bool) -> int | None:
    if not per_channel:
        return None
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    return COMPUTE_OPS[node.op_type]


def _fold_relus(model: onnx.ModelProto, keep_outputs: set[str]) -> None:
    """Drop each Relu that is the only consumer of a Conv/MatMul/Gemm/Add output."""
    graph = model.graph
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    producer = {out: node for node in graph.node for out in node.output}
    dropped = []
    for relu in graph.node:
        if relu.op_type != "Relu":
            continue
        source = producer.get(relu.input[0])
        if (source is None or source.op_type not in (*COMPUTE_OPS, *BINARY_OPS)
                or uses.get(relu.input[0]) != 1 or relu.input[0] in keep_outputs
                or relu.output[0] in keep_outputs):
            continue
        source.output[0] = relu.output[0]
        dropped.append(relu)
    for relu in dropped:
        graph.node.remove(relu)


def plan(prepared: onnx.ModelProto, per_channel: bool = True, quantize_outputs: bool = False) -> QdqPlan:
    """Choose the tensors to quantize in `prepared` (see the module docstring).

    The returned plan's model is `prepared` with the foldable Relus removed;
    every tensor it names also exists in `prepared` with the value to observe.
    """
    model = onnx.ModelProto()
    model.CopyFrom(prepared)
    graph_outputs = {o.name for o in model.graph.output}
    _fold_relus(model, set() if quantize_outputs else graph_outputs)
    inits = {t.name for t in model.graph.initializer}
    result = QdqPlan(model)
    floating = _float_tensors(model)

    def activation(name: str, source: str | None = None) -> None:
        if name and name not in inits and name in floating and name not in result.activations:
            if name in graph_outputs and not quantize_outputs:
                return
            result.activations[name] = source or name

    for node in model.graph.node:
        op = node.op_type
        if op in COMPUTE_OPS:
            weight = node.input[1]
            if op == "Gemm" and any(a.name == "transA" and a.i for a in node.attribute):
                continue
            activation(node.input[0])
            if weight in inits:
                result.weights[weight] = _weight_axis(node, per_channel)
            else:
                activation(weight)
            if len(node.input) > 2 and node.input[2] in inits and weight in inits and _plain_bias(node, model):
                result.biases[node.input[2]] = (node.input[0], weight)
            activation(node.output[0])
            result.layers.append(node)
        elif op in BINARY_OPS and all(i not in inits for i in node.input):
            for name in node.input:
                activation(name)
            activation(node.output[0])
            result.layers.append(node)
        elif op in POOL_OPS:
            activation(node.input[0])
            activation(node.output[0])
            result.layers.append(node)
        elif op in DIRECT_OPS and node.input[0] in result.activations:
            activation(node.output[0], result.activations[node.input[0]])
    # A bias is int32 only when its activation input is quantized with one scale.
    result.biases = {b: (x, w) for b, (x, w) in result.biases.items() if x in result.activations}
    return result


def _plain_bias(node: onnx.NodeProto, model: onnx.ModelProto) -> bool:
    """Conv's bias, or a Gemm's 1-D C with alpha = beta = 1 (then it adds per output column)."""
    if node.op_type == "Conv":
        return True
    if node.op_type != "Gemm":
        return False
    attrs = {a.name: a.f for a in node.attribute if a.name in ("alpha", "beta")}
    init = next(t for t in model.graph.initializer if t.name == node.input[2])
    return attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and len(init.dims) == 1


def _float_tensors(model: onnx.ModelProto) -> set[str]:
    """Names of the float32 tensors of the graph (by shape inference; inputs and initializers too)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    infos = [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    names = {v.name for v in infos if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    names |= {t.name for t in model.graph.initializer if t.data_type == TensorProto.FLOAT}
    return names


# -- quantization parameters ---------------------------------------------------------------


def activation_params(rmin: float, rmax: float, activation_type: str) -> tuple[np.float32, int]:
    """Scale and zero point covering [min(0, rmin), max(0, rmax)] (zero exactly representable)."""
    _, _, qmin, qmax = ACTIVATION_TYPES[activation_type]
    rmin, rmax = min(0.0, rmin), max(0.0, rmax)
    if rmax == rmin:
        return np.float32(1.0), 0 if qmin < 0 else qmin
    scale = np.float32((rmax - rmin) / (qmax - qmin))
    zero_point = int(np.clip(np.round(qmin - rmin / float(scale)), qmin, qmax))
    return scale, zero_point


def weight_params(w: np.ndarray, axis: int | None) -> np.ndarray:
    """Symmetric int8 scales: max |w| / 127, per slice along `axis` or one for the tensor."""
    if axis is None:
        absmax = np.asarray(np.max(np.abs(w)))
    else:
        absmax = np.max(np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)), axis=1)
    scale = (absmax / 127.0).astype(np.float32)
    return np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)


def _quantize_weight(w: np.ndarray, scale: np.ndarray, axis: int | None) -> np.ndarray:
    shaped = scale if axis is None else scale.reshape([-1 if d == axis else 1 for d in range(w.ndim)])
    return np.clip(np.round(w / shaped), -127, 127).astype(np.int8)


# -- writing -------------------------------------------------------------------------------


def write_qdq(
    qplan: QdqPlan, ranges: dict[str, tuple[float, float]], activation_type: str = "int8"
) -> onnx.ModelProto:
    """The QDQ model of `qplan` with activation scales from `ranges` (source tensor -> [rmin, rmax])."""
    src = qplan.model
    q_type, q_dtype, _, _ = ACTIVATION_TYPES[activation_type]
    inits = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
    graph_outputs = {o.name for o in src.graph.output}
    new_inits: list[onnx.TensorProto] = []
    scales: dict[str, np.float32] = {}

    for source in sorted(set(qplan.activations.values())):
        rmin, rmax = ranges[source]
        scale, zero_point = activation_params(rmin, rmax, activation_type)
        scales[source] = scale
        new_inits += [
            numpy_helper.from_array(np.array(scale, np.float32), f"{source}_scale"),
            numpy_helper.from_array(np.array(zero_point, q_dtype), f"{source}_zero_point"),
        ]

    def float_name(t: str) -> str:  # what the producer writes
        return f"{t}_float" if t in graph_outputs else t

    def dq_name(t: str) -> str:  # what consumers read
        return t if t in graph_outputs else f"{t}_DequantizeLinear_Output"

    def qdq_nodes(t: str) -> list[onnx.NodeProto]:
        source = qplan.activations[t]
        params = [f"{source}_scale", f"{source}_zero_point"]
        return [
            helper.make_node("QuantizeLinear", [float_name(t), *params], [f"{t}_QuantizeLinear_Output"], name=f"{t}_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [f"{t}_QuantizeLinear_Output", *params], [dq_name(t)], name=f"{t}_DequantizeLinear"),
        ]

    weight_scales: dict[str, np.ndarray] = {}
    nodes: list[onnx.NodeProto] = []
    for name, axis in qplan.weights.items():
        w = inits[name]
        axis = None if axis is None or w.ndim < 2 else axis % w.ndim
        scale = weight_params(w, axis)
        weight_scales[name] = scale
        nodes.append(_dq_initializer(name, _quantize_weight(w, scale, axis), scale, np.zeros(scale.shape, np.int8), axis, new_inits))
    for name, (x, w) in qplan.biases.items():
        scale = (np.float32(scales[qplan.activations[x]]) * weight_scales[w]).astype(np.float32).reshape(-1)
        if scale.size == 1:
            scale = np.full(inits[name].shape, scale[0], np.float32)
        q = np.clip(np.round(inits[name].astype(np.float64) / scale.astype(np.float64)), -(2**31), 2**31 - 1)
        nodes.append(_dq_initializer(name, q.astype(np.int32), scale, None, 0, new_inits))

    real_inputs = [i.name for i in src.graph.input if i.name not in inits]
    for name in real_inputs:
        if name in qplan.activations:
            nodes += qdq_nodes(name)
    renamed = {**{t: dq_name(t) for t in qplan.activations}, **{w: f"{w}_DequantizeLinear_Output" for w in (*qplan.weights, *qplan.biases)}}
    for node in src.graph.node:
        new = onnx.NodeProto()
        new.CopyFrom(node)
        for i, name in enumerate(new.input):
            new.input[i] = renamed.get(name, name)
        for i, name in enumerate(new.output):
            if name in qplan.activations:
                new.output[i] = float_name(name)
        nodes.append(new)
        nodes += [n for out in node.output if out in qplan.activations for n in qdq_nodes(out)]

    kept_inits = [t for t in src.graph.initializer if t.name not in qplan.weights and t.name not in qplan.biases]
    graph = helper.make_graph(
        nodes, f"{src.graph.name}_qdq", list(src.graph.input), list(src.graph.output), [*kept_inits, *new_inits]
    )
    model = helper.make_model(graph, opset_imports=list(src.opset_import), ir_version=src.ir_version)
    model.producer_name = "compiler.quantize"
    return model


def _dq_initializer(
    name: str, q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, axis: int | None,
    inits: list[onnx.TensorProto],
) -> onnx.NodeProto:
    """An integer initializer `name`_quantized read through a DequantizeLinear."""
    per_axis = axis is not None and scale.ndim == 1 and scale.size > 1
    if not per_axis:
        scale = np.asarray(scale.reshape(-1)[0], np.float32)
        zero_point = None if zero_point is None else np.asarray(zero_point.reshape(-1)[0])
    inits += [numpy_helper.from_array(q, f"{name}_quantized"), numpy_helper.from_array(scale, f"{name}_scale")]
    inputs = [f"{name}_quantized", f"{name}_scale"]
    if zero_point is not None:
        inits.append(numpy_helper.from_array(zero_point, f"{name}_zero_point"))
        inputs.append(f"{name}_zero_point")
    attrs = {"axis": axis} if per_axis else {}
    return helper.make_node("DequantizeLinear", inputs, [f"{name}_DequantizeLinear_Output"], name=f"{name}_DequantizeLinear", **attrs)
