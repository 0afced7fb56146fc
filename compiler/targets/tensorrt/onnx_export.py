"""Graph dialect -> ONNX: an optimized module written back out as a standard ONNX model.

TensorRT reads ONNX, not our IR, so `target="tensorrt"` optimizes the model
with the passes whose result TensorRT cannot rediscover cheaply or does not
do at all (`EXPORT_PIPELINE`), then hands it over as ONNX (opset
`OPSET`): weights as initializers, every graph op as one standard ONNX
node (a few as two or three). `compiler-opt MODEL -t onnx` prints it.

What the pipeline leaves out, and why:

- the CPU's own passes: blocked NCHW{c} layouts (`convert-layout`),
  Winograd transforms, explicit padding, 1x1 convs as flat GEMMs, narrow
  integer convs, fusion into `graph.fused` groups, concat elimination and
  memory planning. They fit our kernels to a CPU's vector registers and
  arena; TensorRT chooses its own layouts, tactics, fusions and memory, and
  several of these have no ONNX spelling at all (a blocked layout, a
  Winograd tile);
- `fold-qdq`: it turns QDQ convs into i32 convs, which TensorRT does not
  run; the dequantize/quantize arithmetic exports as it is.

What it keeps: constant folding (shape subgraphs come out as initializers,
which TensorRT needs to see static shapes), identity removal, DCE, CSE, and
batch-norm folding with merged constant scale/shift chains (a conv's weights
absorb them, so the ONNX model has fewer nodes and fewer roundings).

An op that has no faithful standard ONNX spelling (a padded data-dependent
output such as NonMaxSuppression's, a CPU-only op, an integer conv) raises
one `CompilerError` line naming it and what to do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType
from xdsl.ir import Operation, SSAValue

from compiler import dtypes
from compiler.api import run_pipeline
from compiler.dialects import graph as g
from compiler.errors import CompilerError
from compiler.interpreter import input_names, main_function, output_names, output_rows

OPSET = 18
"""ONNX opset of the export: 17 brought LayerNormalization, 18 the bitwise ops
and ScatterElements' max/min; TensorRT 10's ONNX parser reads it."""

EXPORT_PIPELINE = "fold-constants,remove-identity,dce,cse,fold-batchnorm"
"""The graph passes run before export (see the module docstring for the choice)."""

SPLAT_EXPAND_MIN = 256
"""A splat constant with at least this many elements exports as Expand of a
scalar, not as a full initializer (a zero bias of a big tensor costs nothing)."""

PRODUCER = "compiler"


class OnnxExportError(CompilerError):
    """A graph op (or an option of it) that has no standard ONNX spelling."""


def _fail(op: Operation, why: str, hint: str = "compile it with target='cpu' or 'cuda'") -> OnnxExportError:
    return OnnxExportError(f"'{op.name}' cannot be exported to ONNX: {why}", hint=hint)


@dataclass
class _Graph:
    """The ONNX graph under construction: nodes, initializers and value names."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    names: dict[SSAValue, str] = field(default_factory=dict)
    reserved: set[str] = field(default_factory=set)
    """The model's input and output names, which no intermediate value may take."""
    counter: int = 0

    def fresh(self, stem: str = "v") -> str:
        while True:
            self.counter += 1
            name = f"{stem}_{self.counter}"
            if name not in self.reserved:
                return name

    def name(self, value: SSAValue) -> str:
        return self.names[value]

    def const(self, array: np.ndarray, stem: str = "c") -> str:
        """A new initializer holding `array`; returns its name."""
        name = self.fresh(stem)
        self.initializers.append(_tensor_proto(np.asarray(array), name))
        return name

    def ints(self, values: Sequence[int], stem: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), stem)

    def node(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | None = None,
             **attrs: Any) -> list[str]:
        outs = list(outputs) if outputs is not None else [self.fresh()]
        self.nodes.append(helper.make_node(
            op_type, list(inputs), outs, name=f"{op_type}_{len(self.nodes)}",
            **{k: v for k, v in attrs.items() if v is not None},
        ))
        return outs


def _tensor_proto(array: np.ndarray, name: str) -> onnx.TensorProto:
    if array.dtype == dtypes.to_numpy_dtype(dtypes.from_onnx_dtype(TensorProto.BFLOAT16)):
        # Raw bytes: numpy_helper's bfloat16 support varies across onnx releases.
        return helper.make_tensor(name, TensorProto.BFLOAT16, array.shape, array.tobytes(), raw=True)
    # Not np.ascontiguousarray: it turns rank-0 arrays into shape (1,).
    return numpy_helper.from_array(np.asarray(array, order="C"), name)


def _elem(value: SSAValue) -> int:
    return dtypes.to_onnx_dtype(g.elem_of(value))


def _np(value: SSAValue) -> np.dtype:
    return dtypes.to_numpy_dtype(g.elem_of(value))


def _value_info(name: str, value: SSAValue | TensorType) -> onnx.ValueInfoProto:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return helper.make_tensor_value_info(name, dtypes.to_onnx_dtype(t.get_element_type()), list(t.get_shape()))


# --- op converters -------------------------------------------------------------

Converter = Callable[[_Graph, Operation, list[str]], list[str]]
CONVERTERS: dict[type[Operation], Converter] = {}


def converter(*op_types: type[Operation]) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for op_type in op_types:
            CONVERTERS[op_type] = fn
        return fn

    return register


_SAME: dict[type[Operation], str] = {
    g.IdentityOp: "Identity", g.NegOp: "Neg", g.AbsOp: "Abs", g.SignOp: "Sign", g.ReluOp: "Relu",
    g.ExpOp: "Exp", g.LogOp: "Log", g.SqrtOp: "Sqrt", g.ReciprocalOp: "Reciprocal",
    g.SigmoidOp: "Sigmoid", g.TanhOp: "Tanh", g.ErfOp: "Erf", g.FloorOp: "Floor", g.CeilOp: "Ceil",
    g.RoundOp: "Round", g.SinOp: "Sin", g.CosOp: "Cos", g.TanOp: "Tan", g.AsinOp: "Asin",
    g.AcosOp: "Acos", g.AtanOp: "Atan", g.SinhOp: "Sinh", g.CoshOp: "Cosh", g.AsinhOp: "Asinh",
    g.AcoshOp: "Acosh", g.AtanhOp: "Atanh", g.SoftplusOp: "Softplus", g.NotOp: "Not",
    g.BitwiseNotOp: "BitwiseNot",
    g.AddOp: "Add", g.SubOp: "Sub", g.MulOp: "Mul", g.DivOp: "Div", g.PowOp: "Pow",
    g.MaxOp: "Max", g.MinOp: "Min", g.EqualOp: "Equal", g.LessOp: "Less",
    g.LessEqualOp: "LessOrEqual", g.GreaterOp: "Greater", g.GreaterEqualOp: "GreaterOrEqual",
    g.AndOp: "And", g.OrOp: "Or", g.XorOp: "Xor", g.BitwiseAndOp: "BitwiseAnd",
    g.BitwiseOrOp: "BitwiseOr", g.BitwiseXorOp: "BitwiseXor", g.WhereOp: "Where",
    g.MatMulOp: "MatMul", g.ConcatOp: "Concat", g.GatherOp: "Gather",
    g.GatherElementsOp: "GatherElements", g.SoftmaxOp: "Softmax", g.LogSoftmaxOp: "LogSoftmax",
    g.LeakyReluOp: "LeakyRelu", g.EluOp: "Elu", g.HardSigmoidOp: "HardSigmoid",
    g.LRNOp: "LRN", g.BatchNormOp: "BatchNormalization", g.TransposeOp: "Transpose",
}
"""Ops that are one ONNX node of the same meaning; their properties (`_ATTRS`) become attributes."""

_ATTRS: dict[str, tuple[str, ...]] = {
    "LeakyRelu": ("alpha",), "Elu": ("alpha",), "HardSigmoid": ("alpha", "beta"),
    "LRN": ("size", "alpha", "beta", "bias"), "BatchNormalization": ("epsilon",),
    "Concat": ("axis",), "Gather": ("axis",), "GatherElements": ("axis",),
    "Softmax": ("axis",), "LogSoftmax": ("axis",), "Transpose": ("perm",),
}


def _prop(op: Operation, name: str) -> Any:
    assert isinstance(op, g.GraphOp)
    attr = op.properties[name]
    if hasattr(attr, "get_values"):
        return list(op.ints(name))
    if isinstance(attr, StringAttr):
        return attr.data
    value = attr.value.data  # type: ignore[attr-defined]
    return float(value) if isinstance(value, float) else int(value)


def _flag(op: Operation, name: str) -> int:
    """A 0/1 property as an ONNX int (an i1 attribute reads -1 when set)."""
    assert isinstance(op, g.GraphOp)
    return 1 if op.int_prop(name) else 0


@converter(*_SAME)
def _same(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    op_type = _SAME[type(op)]
    attrs = {name: _prop(op, name) for name in _ATTRS.get(op_type, ())}
    return b.node(op_type, args, **attrs)


@converter(g.ModOp)
def _mod(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    # Integers: the sign of the divisor (fmod=0); floats: C fmod, which ONNX requires as fmod=1.
    return b.node("Mod", args, fmod=1 if dtypes.is_float(g.elem_of(op.results[0])) else 0)


@converter(g.ShiftLeftOp, g.ShiftRightOp)
def _shift(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    raise _fail(op, "ONNX BitShift takes unsigned integers only and leaves shifts by the bit width or more undefined")


@converter(g.ClipOp)
def _clip(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.ClipOp)
    dt = _np(op.input)
    lo = b.const(np.asarray(op.min.value.data).astype(dt), "min") if op.min is not None else ""
    hi = b.const(np.asarray(op.max.value.data).astype(dt), "max") if op.max is not None else ""
    inputs = [args[0], lo, hi] if hi else [args[0], lo] if lo else [args[0]]
    return b.node("Clip", inputs)


@converter(g.CastOp)
def _cast(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    return b.node("Cast", args, to=_elem(op.results[0]))


@converter(g.ReshapeOp)
def _reshape(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    shape = g.shape_of(op.results[0])
    # allowzero=1 only where a 0 means "size 0" (otherwise it copies the input's dim).
    return b.node("Reshape", [args[0], b.ints(shape)], allowzero=1 if 0 in shape else None)


@converter(g.BroadcastToOp)
def _broadcast_to(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    return b.node("Expand", [args[0], b.ints(g.shape_of(op.results[0]))])


@converter(g.SliceOp)
def _slice(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.SliceOp)
    src, dst = g.shape_of(op.input), g.shape_of(op.result)
    starts, ends, axes, steps = [], [], [], []
    for d, (n, size, off, step) in enumerate(zip(src, dst, op.ints("offsets"), op.ints("strides"), strict=True)):
        if off == 0 and step == 1 and size == n:
            continue
        end = off + size * step
        # A negative step that runs through index 0 ends "before the start": -(n + 1) + n = -1.
        starts.append(off)
        ends.append(end if end >= 0 else -(n + 1))
        axes.append(d)
        steps.append(step)
    if not axes:
        return b.node("Identity", args)
    return b.node("Slice", [args[0], b.ints(starts, "starts"), b.ints(ends, "ends"),
                            b.ints(axes, "axes"), b.ints(steps, "steps")])


@converter(g.PadOp)
def _pad(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.PadOp)
    mode = op.str_prop("mode")
    inputs = [args[0], b.ints(op.ints("pads"), "pads")]
    if mode == "constant":
        inputs.append(b.const(np.asarray(op.float_prop("value")).astype(_np(op.input)), "pad_value"))
    return b.node("Pad", inputs, mode=mode)


_REDUCE = {g.ReduceSumOp: "ReduceSum", g.ReduceMeanOp: "ReduceMean", g.ReduceMaxOp: "ReduceMax",
           g.ReduceMinOp: "ReduceMin", g.ReduceProdOp: "ReduceProd"}


@converter(*_REDUCE)
def _reduce(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.ReduceOp)
    axes = op.ints("axes")
    if not axes:  # the graph op's no-op (ONNX would reduce every axis)
        return b.node("Identity", args)
    return b.node(_REDUCE[type(op)], [args[0], b.ints(axes, "axes")], keepdims=_flag(op, "keepdims"))


@converter(g.ArgMaxOp, g.ArgMinOp)
def _arg_reduce(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.ArgReduceOp)
    return b.node("ArgMax" if isinstance(op, g.ArgMaxOp) else "ArgMin", args, axis=op.int_prop("axis"),
                  keepdims=_flag(op, "keepdims"), select_last_index=_flag(op, "select_last_index"))


@converter(g.LayerNormOp)
def _layer_norm(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.LayerNormOp)
    axis = op.int_prop("axis")
    norm_shape = g.shape_of(op.input)[axis:]
    inputs = list(args)
    for i, value in enumerate(op.operands[1:], start=1):
        if g.shape_of(value) != norm_shape:  # ONNX wants the normalized shape exactly
            inputs[i] = b.node("Expand", [args[i], b.ints(norm_shape)])[0]
    return b.node("LayerNormalization", inputs, axis=axis, epsilon=op.float_prop("epsilon"), stash_type=1)


def _nchw_only(op: Operation, *props: str) -> None:
    for name in props:
        attr = op.properties.get(name)
        if isinstance(attr, StringAttr) and attr.data not in ("NCHW", "OIHW"):
            raise _fail(op, f"its {name} is the blocked {attr.data}",
                        hint=f"export the module as the tensorrt pipeline leaves it ({EXPORT_PIPELINE}), before convert-layout")


@converter(g.ConvOp)
def _conv(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.ConvOp)
    _nchw_only(op, "data_layout", "kernel_layout", "out_layout")
    if not dtypes.is_float(g.elem_of(op.input)):
        raise _fail(op, f"it is an integer conv ({g.elem_of(op.input)} operands accumulated in i32), and ONNX Conv takes floats",
                    hint="export the model before fold-qdq / narrow-integer-conv, or compile it with target='cpu'")
    return b.node("Conv", args, strides=list(op.ints("strides")), pads=list(op.ints("pads")),
                  dilations=list(op.ints("dilations")), group=op.int_prop("group"),
                  kernel_shape=list(g.shape_of(op.weight)[2:]))


@converter(g.MaxPoolOp, g.AvgPoolOp)
def _pool(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.PoolOp)
    _nchw_only(op, "layout")
    common = {"kernel_shape": list(op.ints("kernel_shape")), "strides": list(op.ints("strides")),
              "pads": list(op.ints("pads"))}
    if isinstance(op, g.MaxPoolOp):
        return b.node("MaxPool", args, dilations=list(op.ints("dilations")), **common)
    return b.node("AveragePool", args, count_include_pad=_flag(op, "count_include_pad"), **common)


@converter(g.ScatterElementsOp)
def _scatter_elements(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.ScatterElementsOp)
    return b.node("ScatterElements", args, axis=op.int_prop("axis"), reduction=op.str_prop("reduction"))


@converter(g.TopKIndicesOp)
def _topk_indices(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.TopKIndicesOp)
    k = b.ints([op.int_prop("k")], "k")
    _, indices = b.node("TopK", [args[0], k], [b.fresh("values"), b.fresh()], axis=op.int_prop("axis"),
                        largest=_flag(op, "largest"), sorted=1)
    return [indices]


@converter(g.CumSumOp)
def _cumsum(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.CumSumOp)
    axis = b.const(np.asarray(op.int_prop("axis"), dtype=np.int64), "axis")
    return b.node("CumSum", [args[0], axis], exclusive=_flag(op, "exclusive"), reverse=_flag(op, "reverse"))


@converter(g.CumProdOp)
def _cumprod(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    raise _fail(op, f"ONNX has no CumProd up to opset {OPSET}")


@converter(g.RoiAlignOp)
def _roi_align(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.RoiAlignOp)
    return b.node("RoiAlign", args, mode=op.str_prop("mode"), output_height=op.int_prop("output_height"),
                  output_width=op.int_prop("output_width"), sampling_ratio=op.int_prop("sampling_ratio"),
                  spatial_scale=op.float_prop("spatial_scale"),
                  coordinate_transformation_mode="half_pixel" if _flag(op, "half_pixel") else "output_half_pixel")


@converter(g.MaxRoiPoolOp)
def _max_roi_pool(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    assert isinstance(op, g.MaxRoiPoolOp)
    return b.node("MaxRoiPool", args, pooled_shape=[op.int_prop("pooled_height"), op.int_prop("pooled_width")],
                  spatial_scale=op.float_prop("spatial_scale"))


@converter(g.NonMaxSuppressionOp, g.NonZeroOp)
def _padded(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    raise _fail(op, "its result is padded to a static shape with a data-dependent count of real rows, "
                "which ONNX (and TensorRT) express as a dynamic shape")


@converter(g.WinogradInputOp, g.WinogradOutputOp, g.LayoutTransformOp)
def _cpu_only(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    raise _fail(op, "it is a CPU schedule's op (Winograd tiles, blocked layouts)",
                hint=f"export the module as the tensorrt pipeline leaves it ({EXPORT_PIPELINE})")


@converter(g.FusedOp)
def _fused(b: _Graph, op: Operation, args: list[str]) -> list[str]:
    # A fused group exports as the ops it holds: TensorRT fuses by its own rules.
    assert isinstance(op, g.FusedOp)
    block = op.body.block
    for arg, name in zip(block.args, args, strict=True):
        b.names[arg] = name
    for inner in block.ops:
        if isinstance(inner, g.YieldOp):
            return [b.name(v) for v in inner.values]
        _export_op(b, inner)
    raise AssertionError("graph.fused without graph.yield")


def _export_op(b: _Graph, op: Operation) -> None:
    if isinstance(op, g.ConstantOp):
        b.names[op.result] = _constant(b, op)
        return
    fn = CONVERTERS.get(type(op))
    if fn is None:
        raise OnnxExportError(f"'{op.name}' cannot be exported to ONNX: the exporter does not know it",
                              hint="compile the model with target='cpu'")
    outs = fn(b, op, [b.name(v) for v in op.operands])
    for res, name in zip(op.results, outs, strict=True):
        b.names[res] = name


def _constant(b: _Graph, op: g.ConstantOp) -> str:
    shape = g.shape_of(op.result)
    n = math.prod(shape)
    width = dtypes.to_numpy_dtype(g.elem_of(op.result)).itemsize
    if n >= SPLAT_EXPAND_MIN and len(op.value.data.data) == width:
        scalar = b.const(op.to_numpy().reshape(-1)[:1].reshape(()), "splat")
        return b.node("Expand", [scalar, b.ints(shape)])[0]
    return b.const(op.to_numpy(), "const")


# --- the model -----------------------------------------------------------------


def export_onnx(module: ModuleOp, *, graph_name: str = "main") -> onnx.ModelProto:
    """`@main` of a graph-dialect module as an ONNX ModelProto (opset OPSET), checked by
    onnx.checker with its type and shape checks.

    The module is read, not changed; run `optimize_for_export` on it first
    for the optimized model. Input and output names are the model's own.
    """
    fn = main_function(module)
    for i, (rows, hidden, _) in enumerate(output_rows(fn)):
        if rows is not None or hidden:
            raise OnnxExportError(
                f"output {i} has a data-dependent length (padded to a static shape), which the export cannot express",
                hint="compile it with target='cpu'",
            )
    ins = input_names(fn)
    outs = output_names(fn)
    b = _Graph(reserved={*ins, *outs})
    for arg, name in zip(fn.body.block.args, ins, strict=True):
        b.names[arg] = name
    taken = set(ins)
    ret = None
    for op in fn.body.block.ops:
        if isinstance(op, func.ReturnOp):
            ret = op
            break
        _export_op(b, op)
    assert ret is not None, "@main has no func.return"
    # Each output gets its model name: the producing node's output is renamed
    # when it is a node's and unclaimed, else an Identity node copies it.
    producers = {out: node for node in b.nodes for out in node.output}
    for value, name in zip(ret.operands, outs, strict=True):
        current = b.name(value)
        node = producers.get(current)
        if node is not None and current not in taken and name not in producers:
            _rename(b, current, name)
            producers[name] = node
        else:
            b.node("Identity", [current], [name])
            producers[name] = b.nodes[-1]
        taken.add(name)
    graph = helper.make_graph(
        b.nodes, graph_name,
        [_value_info(n, a) for n, a in zip(ins, fn.body.block.args, strict=True)],
        [_value_info(n, t) for n, t in zip(outs, fn.function_type.outputs, strict=True)],
        b.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    model.ir_version = min(model.ir_version, 9)  # readable by onnxruntime and TensorRT's parser of today
    try:
        # full_check: type constraints and shapes too (a bf16 Elu is not ONNX, whatever runs it).
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise OnnxExportError(f"the exported model is not valid ONNX: {first}",
                              hint="compile the model with target='cpu' or 'cuda'") from None
    return model


def _rename(b: _Graph, old: str, new: str) -> None:
    for node in b.nodes:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
    for value, name in b.names.items():
        if name == old:
            b.names[value] = new


def export_model(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto | ModuleOp,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    before: str | None = None,
    specialize: Mapping[str, Any] | None = None,
) -> onnx.ModelProto:
    """An ONNX model (path, bytes, ModelProto) or graph module -> the optimized ONNX ModelProto.

    `before`: passes to run ahead of EXPORT_PIPELINE (the driver's
    `precision_pipeline` for an fp16 model: TensorRT 11 builds strongly
    typed networks only, so reduced precision has to be in the ONNX types).
    `specialize` binds graph inputs to constants, as in `compiler.compile`.
    """
    from compiler.frontend.onnx import import_onnx

    if isinstance(model, ModuleOp):
        module = model.clone()
    else:
        module = import_onnx(model, input_shapes=input_shapes, specialize=specialize)
    if before:
        run_pipeline(module, before)
    run_pipeline(module, EXPORT_PIPELINE)
    return export_onnx(module)
