"""Every supported ONNX op, imported and run by the reference interpreter,
against onnxruntime (CPU provider) on the same one-node (or few-node) model.

Floats must agree within rtol 1e-5 measured as max |got - want| / max |want|;
integers and bools must agree exactly. Shapes and dtypes must match too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import compiler
from compiler.frontend.onnx import supported_ops

ort = pytest.importorskip("onnxruntime")

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

_rng = np.random.default_rng(1234)


def f32(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def f64(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return _rng.uniform(lo, hi, size=shape).astype(np.float64)


def i64(*shape: int, lo: int = -5, hi: int = 6) -> np.ndarray:
    return _rng.integers(lo, hi, size=shape).astype(np.int64)


def i32(*shape: int, lo: int = -5, hi: int = 6) -> np.ndarray:
    return _rng.integers(lo, hi, size=shape).astype(np.int32)


def bools(*shape: int) -> np.ndarray:
    return _rng.integers(0, 2, size=shape).astype(np.bool_)


def ints(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@dataclass
class Const:
    """An input given as an initializer (a constant in the imported graph)."""

    value: np.ndarray


@dataclass
class Case:
    id: str
    nodes: list[onnx.NodeProto]
    inputs: dict[str, np.ndarray | Const]
    outputs: list[str]
    opset: int = 17
    rtol: float = 1e-5
    # onnxruntime's CPU provider lacks some kernels (Relu on int64, Sum on
    # ints, Where on bools, LRN of even size): ONNX's own reference
    # implementation is the oracle there, or (for LRN, where that one loops
    # over the batch instead of the channels) a literal transcription of the spec.
    oracle: str = "onnxruntime"


CASES: list[Case] = []


def case(
    id: str,
    op: str,
    *inputs: np.ndarray | Const | None,
    opset: int = 17,
    outs: int = 1,
    rtol: float = 1e-5,
    oracle: str = "onnxruntime",
    **attrs: Any,
) -> None:
    """One-node model: inputs are runtime inputs unless wrapped in Const; None is an empty name."""
    names: list[str] = []
    feeds: dict[str, np.ndarray | Const] = {}
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        name = f"in{i}"
        names.append(name)
        feeds[name] = value
    outputs = [f"out{i}" for i in range(outs)]
    node = helper.make_node(op, names, outputs, name=f"{op}_0", **attrs)
    CASES.append(Case(f"{op}-{id}", [node], feeds, outputs, opset, rtol, oracle))


def graph_case(
    id: str,
    nodes: list[onnx.NodeProto],
    inputs: dict[str, np.ndarray | Const],
    outputs: Sequence[str],
    opset: int = 17,
) -> None:
    CASES.append(Case(id, nodes, inputs, list(outputs), opset))


def C(value: np.ndarray | float | int | Sequence[int]) -> Const:
    return Const(np.asarray(value))


# ---------------------------------------------------------------------------
# Elementwise unary

for op in ["Abs", "Neg", "Sign", "Exp", "Sigmoid", "Tanh", "Erf", "Floor", "Ceil", "Sin", "Cos",
           "Softplus", "Relu"]:
    case("f32", op, f32(2, 3, 4))
    case("f32-rank0", op, np.asarray(0.75, dtype=np.float32))
for op in ["Abs", "Neg", "Sign", "Exp", "Sigmoid", "Tanh", "Floor", "Ceil", "Sin", "Cos", "Relu"]:
    case("f64", op, f64(5))
case("f32-size0", "Relu", f32(0, 3))
case("f32-1x1", "Tanh", f32(1, 1, 1, 1))
for op in ["Log", "Sqrt", "Reciprocal"]:
    case("f32", op, f32(3, 4, lo=0.1, hi=5.0))
    case("f64", op, f64(5, lo=0.1, hi=5.0))
case("halves", "Round", np.asarray([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51], np.float32))
case("f32", "Round", f32(3, 4, lo=-10, hi=10))
for op in ["Abs", "Neg", "Sign"]:
    case("i64", op, i64(3, 4))
case("i64", "Relu", i64(3, 4), oracle="reference")
case("i32", "Abs", i32(7))
case("bool", "Not", bools(3, 4))
case("big", "Exp", f32(8, lo=-100, hi=100))
case("big", "Sigmoid", f32(8, lo=-100, hi=100))
case("big", "Softplus", f32(8, lo=-100, hi=100))

# ---------------------------------------------------------------------------
# Elementwise binary (broadcasting), comparisons, logic

for op in ["Add", "Sub", "Mul", "Div"]:
    case("f32", op, f32(2, 3, 4), f32(2, 3, 4, lo=0.5))
    case("bcast-row", op, f32(2, 3, 4), f32(4, lo=0.5))
    case("bcast-both", op, f32(2, 1, 4), f32(3, 1, lo=0.5))
    case("scalar-const", op, f32(2, 3), C(np.float32(1.5)))
    case("i64", op, i64(3, 4, lo=-20, hi=20), i64(3, 4, lo=1, hi=7))
    case("f64", op, f64(5), f64(1, lo=0.5))
case("i64-negative-trunc", "Div", ints(-7, 7, -7, 7, -1, 0), ints(2, 2, -2, -2, 3, 5))
case("i32", "Div", i32(6, lo=-9, hi=9), np.asarray([2, -3, 4, 1, -1, 5], np.int32))
case("const-const", "Add", C(f32(3)), C(f32(3)))
case("f32", "Pow", f32(3, 4, lo=0.5, hi=2), f32(3, 4, lo=-2, hi=2))
case("f32-int-exponent", "Pow", f32(3, 4, lo=0.5, hi=2), C(np.int64(3)))
case("i64", "Pow", i64(3, 4, lo=-3, hi=4), i64(3, 4, lo=0, hi=4))
case("i64-float-exponent", "Pow", ints(1, 4, 9, 16, 25), C(np.float32(0.5)))
case("i64-negative-exponent", "Pow", ints(1, -1, 2, -2, 3), ints(-1, -1, -1, -2, 0))
case("i64", "Mod", ints(-7, 7, -7, 7, 5, -5, 0), ints(3, 3, -3, -3, 5, 2, 4))
case("i64-fmod", "Mod", ints(-7, 7, -7, 7, 5, -5, 0), ints(3, 3, -3, -3, 5, 2, 4), fmod=1)
case("f32-fmod", "Mod", f32(3, 4, lo=-10, hi=10), f32(4, lo=1, hi=3), fmod=1)
case("i32", "Mod", i32(6, lo=-9, hi=9), np.asarray([2, -3, 4, 1, -1, 5], np.int32))
for op in ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]:
    case("f32", op, np.asarray([[1, 2, 3], [3, 2, 1]], np.float32), np.asarray([2, 2, 2], np.float32))
    case("i64", op, i64(3, 4, lo=0, hi=3), i64(1, 4, lo=0, hi=3))
case("bool", "Equal", bools(3, 4), bools(4))
for op in ["And", "Or", "Xor"]:
    case("bool", op, bools(3, 4), bools(3, 4))
    case("bcast", op, bools(2, 1, 4), bools(3, 1))

# variadic
for op in ["Sum", "Max", "Min", "Mean"]:
    case("one", op, f32(2, 3))
    case("two", op, f32(2, 3), f32(2, 3))
    case("three-bcast", op, f32(2, 3, 4), f32(4), f32(3, 1))
case("i64", "Sum", i64(2, 3), i64(3), oracle="reference")
case("i64", "Max", i64(2, 3), i64(3), i64(2, 1))
case("i64", "Min", i64(2, 3), i64(3))

case("f32", "Where", bools(2, 3, 4), f32(2, 3, 4), f32(2, 3, 4))
case("bcast", "Where", bools(3, 1), f32(1, 4), C(np.float32(0)))
case("i64", "Where", bools(3, 4), i64(3, 4), i64(4))
case("bool", "Where", bools(3, 4), bools(3, 4), bools(1), oracle="reference")

# casts
for src, to in [
    (f32(3, 4, lo=-100, hi=100), TensorProto.INT64),
    (f32(3, 4, lo=-100, hi=100), TensorProto.INT32),
    (np.asarray([0.0, -0.0, 1.5, -2.0, np.nan], np.float32), TensorProto.BOOL),
    (f32(3, 4), TensorProto.DOUBLE),
    (f32(3, 4), TensorProto.FLOAT),
    (i64(3, 4, lo=-1000, hi=1000), TensorProto.FLOAT),
    (i64(3, 4, lo=-100, hi=100), TensorProto.INT8),
    (i64(3, 4, lo=0, hi=200), TensorProto.UINT8),
    (bools(3, 4), TensorProto.FLOAT),
    (bools(3, 4), TensorProto.INT64),
    (i64(3, 4, lo=-2, hi=3), TensorProto.BOOL),
]:
    case(f"{src.dtype}-to-{TensorProto.DataType.Name(to).lower()}", "Cast", src, to=to)
case("f32-to-f16", "Cast", f32(3, 4), to=TensorProto.FLOAT16, rtol=1e-3)
case("f32-like-i64", "CastLike", f32(3, 4, lo=-9, hi=9), C(ints(1)))
case("i64-like-f32", "CastLike", i64(3, 4), f32(1))

# clip: attributes before opset 11, inputs after
case("attrs", "Clip", f32(3, 4), opset=10, min=-0.5, max=0.5)
case("attr-min-only", "Clip", f32(3, 4), opset=10, min=-0.5)
case("no-bounds", "Clip", f32(3, 4), opset=13)
case("inputs", "Clip", f32(3, 4), C(np.float32(-0.5)), C(np.float32(0.5)), opset=13)
case("min-only", "Clip", f32(3, 4), C(np.float32(-0.5)), opset=13)
case("max-only", "Clip", f32(3, 4), None, C(np.float32(0.5)), opset=13)
case("dynamic-bounds", "Clip", f32(3, 4), np.float32(-0.5), np.float32(0.7), opset=13)
case("dynamic-min-const-max", "Clip", f32(3, 4), np.float32(-0.5), C(np.float32(0.7)), opset=13)
case("i64", "Clip", i64(3, 4, lo=-10, hi=10), C(np.int64(-3)), C(np.int64(4)), opset=13)
case("min-above-max", "Clip", f32(3, 4), C(np.float32(1.0)), C(np.float32(-1.0)), opset=13)

# activations
case("default", "LeakyRelu", f32(3, 4))
case("alpha", "LeakyRelu", f32(3, 4), alpha=0.3)
case("default", "Elu", f32(3, 4))
case("alpha", "Elu", f32(3, 4), alpha=0.5)
case("default", "HardSigmoid", f32(3, 4, lo=-5, hi=5))
case("attrs", "HardSigmoid", f32(3, 4, lo=-5, hi=5), alpha=0.3, beta=0.4)
case("f32", "HardSwish", f32(3, 4, lo=-5, hi=5), opset=14)
case("alpha", "Swish", f32(3, 4, lo=-5, hi=5), alpha=0.75, opset=24)
case("default", "Swish", f32(7, lo=-5, hi=5), opset=24)
case("alpha", "SwiGLU", f32(2, 3, 8, lo=-5, hi=5), f32(2, 3, 8), alpha=1.5, opset=28, oracle="reference")
case("f32", "Softsign", f32(3, 4))
case("channel-slope", "PRelu", f32(2, 3, 4, 4), C(f32(3, 1, 1, lo=0, hi=1)))
case("scalar-slope", "PRelu", f32(2, 3), C(np.asarray([0.25], np.float32)))
case("runtime-slope", "PRelu", f32(2, 3), f32(3))
case("none", "Gelu", f32(3, 4, lo=-4, hi=4), opset=20)
case("tanh", "Gelu", f32(3, 4, lo=-4, hi=4), opset=20, approximate="tanh")
case("f32", "Identity", f32(3, 4))
case("bool", "Identity", bools(3, 4))
case("opset7", "Dropout", f32(3, 4), opset=7, ratio=0.3)
case("opset13-ratio", "Dropout", f32(3, 4), C(np.float32(0.5)), opset=13)
case("opset13-mask", "Dropout", f32(3, 4), opset=13, outs=2)
case("opset13-training-false", "Dropout", f32(3, 4), C(np.float32(0.5)), C(np.bool_(False)), opset=13)

# ---------------------------------------------------------------------------
# Reductions

for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
           "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]:
    x = f32(2, 3, 4, lo=0.5, hi=1.5) if op == "ReduceProd" else f32(2, 3, 4)
    attr_opset = 11 if op == "ReduceSum" else 13
    case("attr-axes", op, x, opset=attr_opset, axes=[1], keepdims=1)
    case("attr-neg-axes-nokeep", op, x, opset=attr_opset, axes=[-1, 0], keepdims=0)
    case("all-default", op, x, opset=attr_opset)
    case("input-axes", op, x, C(ints(0, 2)), opset=18, keepdims=0)
    case("input-noop", op, x, opset=18, noop_with_empty_axes=1)
    case("1x1", op, f32(1, 1, 1, lo=0.5, hi=1.5), C(ints(-1)), opset=18)
case("pos", "ReduceLogSum", f32(2, 3, 4, lo=0.1, hi=2), opset=13, axes=[2])
case("input-axes", "ReduceLogSum", f32(2, 3, 4, lo=0.1, hi=2), C(ints(1)), opset=18)
case("large", "ReduceLogSumExp", f32(2, 5, lo=80, hi=100), opset=13, axes=[1])
for op in ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"]:
    case("i64", op, i64(2, 3, 4, lo=-3, hi=4), C(ints(1)), opset=18)
case("i64-all", "ReduceSum", i64(2, 3, 4), opset=13)
case("f64", "ReduceMean", f64(4, 5), C(ints(1)), opset=18)
for op in ["ArgMax", "ArgMin"]:
    case("default", op, f32(3, 4, 5))
    case("axis-nokeep", op, f32(3, 4, 5), axis=-1, keepdims=0)
    ties = np.asarray([[1, 3, 3, 0], [2, 2, 0, 2], [5, 5, 5, 5]], np.int64)
    case("ties-first", op, ties, axis=1)
    case("ties-last", op, ties, axis=1, select_last_index=1)
    case("i64-axis0", op, i64(4, 3), axis=0, keepdims=0)

# softmax: opset < 13 flattens to 2-D at `axis`
for op in ["Softmax", "LogSoftmax"]:
    case("opset11-default", op, f32(2, 3, 4), opset=11)
    case("opset11-axis0", op, f32(2, 3, 4), opset=11, axis=0)
    case("opset11-last", op, f32(2, 3, 4), opset=11, axis=-1)
    case("opset13-default", op, f32(2, 3, 4), opset=13)
    case("opset13-axis1", op, f32(2, 3, 4), opset=13, axis=1)
    case("opset13-axis0", op, f32(2, 3, 4), opset=13, axis=0)
    case("large", op, f32(2, 5, lo=-80, hi=80), opset=13)

# ---------------------------------------------------------------------------
# Convolution, pooling, normalization, matmul

case("basic-bias", "Conv", f32(1, 3, 6, 6), C(f32(4, 3, 3, 3)), C(f32(4)))
case("no-bias", "Conv", f32(2, 3, 5, 5), C(f32(4, 3, 3, 3)))
case("runtime-weight", "Conv", f32(1, 2, 5, 5), f32(3, 2, 3, 3))
case("strides-pads", "Conv", f32(1, 3, 7, 8), C(f32(4, 3, 3, 3)), strides=[2, 2], pads=[1, 1, 1, 1])
case("asym-pads", "Conv", f32(1, 2, 6, 6), C(f32(2, 2, 3, 2)), pads=[0, 1, 2, 0])
case("dilations", "Conv", f32(1, 2, 9, 9), C(f32(3, 2, 3, 3)), dilations=[2, 3])
case("group2", "Conv", f32(1, 4, 5, 5), C(f32(6, 2, 3, 3)), C(f32(6)), group=2)
case("depthwise", "Conv", f32(1, 4, 5, 5), C(f32(4, 1, 3, 3)), group=4, pads=[1, 1, 1, 1])
case("same-upper", "Conv", f32(1, 2, 7, 7), C(f32(3, 2, 4, 4)), auto_pad="SAME_UPPER", strides=[2, 2])
case("same-lower", "Conv", f32(1, 2, 7, 7), C(f32(3, 2, 4, 4)), auto_pad="SAME_LOWER", strides=[2, 2])
case("valid", "Conv", f32(1, 2, 7, 7), C(f32(3, 2, 3, 3)), auto_pad="VALID")
case("1x1-spatial", "Conv", f32(1, 8, 1, 1), C(f32(4, 8, 1, 1)), C(f32(4)))
case("1d", "Conv", f32(2, 3, 10), C(f32(4, 3, 3)), C(f32(4)), pads=[1, 2], strides=[2])
case("1d-same-upper", "Conv", f32(1, 2, 9), C(f32(3, 2, 4)), auto_pad="SAME_UPPER", strides=[2])
case("same-upper-dilated", "Conv", f32(1, 2, 9, 8), C(f32(3, 2, 3, 2)), auto_pad="SAME_UPPER",
     dilations=[2, 3], oracle="reference")
case("kernel-shape-attr", "Conv", f32(1, 2, 5, 5), C(f32(2, 2, 3, 3)), kernel_shape=[3, 3])

case("basic", "MaxPool", f32(1, 3, 6, 6), kernel_shape=[2, 2], strides=[2, 2])
case("pads", "MaxPool", f32(1, 2, 5, 5), kernel_shape=[3, 3], pads=[1, 1, 1, 1])
case("ceil", "MaxPool", f32(1, 2, 6, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
case("ceil-pads", "MaxPool", f32(1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
case("ceil-no-effect", "MaxPool", f32(1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
case("dilations", "MaxPool", f32(1, 2, 8, 8), kernel_shape=[2, 2], dilations=[2, 2], opset=12)
case("same-upper", "MaxPool", f32(1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
case("same-lower", "MaxPool", f32(1, 2, 6, 6), kernel_shape=[2, 2], auto_pad="SAME_LOWER")
case("1d", "MaxPool", f32(2, 3, 9), kernel_shape=[3], strides=[2], pads=[1, 1])
case("1x1", "MaxPool", f32(1, 3, 1, 1), kernel_shape=[1, 1])
case("all-negative-pads", "MaxPool", f32(1, 1, 4, 4, lo=-9, hi=-1), kernel_shape=[3, 3], pads=[1, 1, 1, 1])
case("basic", "AveragePool", f32(1, 3, 6, 6), kernel_shape=[2, 2], strides=[2, 2])
case("pads-exclude", "AveragePool", f32(1, 2, 5, 5), kernel_shape=[3, 3], pads=[1, 1, 1, 1])
case("pads-include", "AveragePool", f32(1, 2, 5, 5), kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
case("ceil", "AveragePool", f32(1, 2, 6, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
case("same-upper", "AveragePool", f32(1, 2, 5, 5), kernel_shape=[2, 2], auto_pad="SAME_UPPER")
case("1d", "AveragePool", f32(1, 3, 8), kernel_shape=[3], strides=[2], pads=[1, 1])
# 3-D convolution and pooling (onto the 2-D graph ops, compiler/frontend/onnx_ops/spatial.py),
# dilated and Lp pooling (a depthwise window sum).
case("3d-bias", "Conv", f32(1, 3, 5, 6, 7), C(f32(4, 3, 3, 3, 3)), C(f32(4)))
case("3d-strides-pads-dil", "Conv", f32(2, 2, 7, 6, 8), C(f32(3, 2, 3, 2, 3)), strides=[2, 1, 2],
     pads=[1, 0, 2, 2, 1, 0], dilations=[2, 1, 1])
case("3d-group2-runtime-weight", "Conv", f32(1, 4, 4, 5, 5), f32(6, 2, 2, 3, 3), group=2, pads=[1, 1, 1, 0, 1, 1])
case("3d-same-upper", "Conv", f32(1, 2, 5, 5, 6), C(f32(2, 2, 3, 3, 3)), auto_pad="SAME_UPPER", strides=[2, 2, 2])
case("3d", "MaxPool", f32(1, 2, 5, 6, 7), kernel_shape=[2, 3, 3], strides=[2, 2, 1], pads=[1, 1, 0, 0, 1, 1])
case("3d-dil-ceil", "MaxPool", f32(1, 2, 8, 7, 9), kernel_shape=[2, 2, 3], dilations=[2, 1, 2],
     strides=[2, 2, 2], ceil_mode=1)
_ties = (_rng.integers(-3, 3, size=(2, 3, 6, 7)) / 2).astype(np.float32)  # equal maxima: the first one's index
case("indices-pads-ties", "MaxPool", _ties, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], outs=2)
case("indices-column-major", "MaxPool", f32(2, 2, 5, 6), kernel_shape=[2, 3], strides=[1, 2], storage_order=1,
     outs=2)
case("indices-3d-dilated", "MaxPool", f32(1, 2, 5, 6, 6), kernel_shape=[2, 2, 2], dilations=[2, 1, 2], outs=2)
case("3d-exclude", "AveragePool", f32(2, 2, 5, 6, 7), kernel_shape=[3, 3, 2], pads=[1, 1, 0, 1, 0, 1])
case("3d-include-ceil", "AveragePool", f32(1, 3, 6, 5, 7), kernel_shape=[3, 2, 3], strides=[2, 2, 2],
     pads=[1, 0, 1, 1, 0, 1], count_include_pad=1, ceil_mode=1)
case("2d-dilations", "AveragePool", f32(1, 2, 8, 9), kernel_shape=[2, 3], dilations=[2, 2], pads=[1, 1, 1, 1],
     opset=19)
case("3d-dilations-include", "AveragePool", f32(1, 2, 7, 6, 6), kernel_shape=[2, 2, 2], dilations=[2, 1, 2],
     strides=[1, 2, 1], pads=[1, 1, 1, 1, 1, 1], count_include_pad=1, opset=19)
case("p2-pads", "LpPool", f32(1, 3, 6, 7), kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
case("p1-1d", "LpPool", f32(2, 3, 9), kernel_shape=[3], p=1, strides=[2])
case("p3-3d-dilated", "LpPool", f32(1, 2, 6, 6, 7), kernel_shape=[2, 2, 3], p=3, dilations=[2, 1, 2], opset=19,
     rtol=1e-4)
case("3d-k2-s2", "ConvTranspose", f32(1, 4, 3, 3, 4), C(f32(4, 2, 2, 2, 2)), C(f32(2)), strides=[2, 2, 2])
case("3d-runtime-weight-pads", "ConvTranspose", f32(1, 2, 3, 4, 3), f32(2, 3, 3, 3, 2), pads=[1, 0, 1, 1, 1, 0])
for op in ["GlobalAveragePool", "GlobalMaxPool"]:
    case("4d", op, f32(2, 3, 5, 4))
    case("3d", op, f32(2, 3, 7))
    case("5d", op, f32(1, 3, 4, 5, 3))
    case("1x1", op, f32(1, 3, 1, 1))

case("4d", "BatchNormalization", f32(2, 3, 4, 5), C(f32(3)), C(f32(3)), C(f32(3)),
     C(f32(3, lo=0.5, hi=2)), opset=15, epsilon=1e-3)
case("2d", "BatchNormalization", f32(4, 3), C(f32(3)), C(f32(3)), C(f32(3)),
     C(f32(3, lo=0.5, hi=2)), opset=9)
case("3d-opset7", "BatchNormalization", f32(2, 3, 5), C(f32(3)), C(f32(3)), C(f32(3)),
     C(f32(3, lo=0.5, hi=2)), opset=7)
case("4d", "InstanceNormalization", f32(2, 3, 4, 5), C(f32(3)), C(f32(3)))
case("3d", "InstanceNormalization", f32(2, 3, 6), C(f32(3)), C(f32(3)), epsilon=1e-3)
case("last-axis", "LayerNormalization", f32(2, 3, 8), C(f32(8)), C(f32(8)))
case("axis1-no-bias", "LayerNormalization", f32(2, 3, 4), C(f32(3, 4)), axis=1)
case("runtime-scale", "LayerNormalization", f32(4, 6), f32(6), f32(6), epsilon=1e-3)
# f16 whose squared deviations overflow f16 when summed: statistics are
# computed in float32 (stash_type=1).
case("f16", "LayerNormalization", (f32(2, 64) * 60 + 200).astype(np.float16),
     C(np.ones(64, np.float16)), C(np.zeros(64, np.float16)), rtol=1e-3)
case("size3", "LRN", f32(1, 5, 3, 3), size=3)
case("size5", "LRN", f32(2, 6, 2, 2), size=5, alpha=1e-3, beta=0.5, bias=2.0)
case("size4", "LRN", f32(2, 6, 2, 2), size=4, alpha=1e-3, beta=0.5, bias=2.0, oracle="lrn")

case("2d", "MatMul", f32(3, 4), f32(4, 5))
case("batched-bcast", "MatMul", f32(2, 1, 3, 4), f32(5, 4, 6))
case("const-rhs", "MatMul", f32(2, 3, 4), C(f32(4, 6)))
case("1d-lhs", "MatMul", f32(4), f32(4, 5))
case("1d-rhs", "MatMul", f32(3, 4), f32(4))
case("1d-both", "MatMul", f32(4), f32(4))
case("1d-lhs-batched", "MatMul", f32(4), f32(2, 4, 5))
case("1d-rhs-batched", "MatMul", f32(2, 3, 4), f32(4))
case("i64", "MatMul", i64(3, 4), i64(4, 2))
case("1x1", "MatMul", f32(1, 1), f32(1, 1))

case("basic", "Gemm", f32(3, 4), C(f32(4, 5)), C(f32(5)))
case("transA", "Gemm", f32(4, 3), C(f32(4, 5)), C(f32(3, 5)), transA=1)
case("transB", "Gemm", f32(3, 4), C(f32(5, 4)), C(f32(1, 5)), transB=1)
case("alpha-beta", "Gemm", f32(3, 4), f32(4, 5), f32(3, 5), alpha=0.5, beta=2.0)
case("no-c", "Gemm", f32(3, 4), f32(4, 5), opset=11)
case("scalar-c", "Gemm", f32(3, 4), f32(5, 4), C(np.float32(0.5)), transB=1, alpha=2.0)
case("column-c", "Gemm", f32(2, 3), f32(3, 4), f32(2, 1), transA=0, beta=0.0)

# ---------------------------------------------------------------------------
# Shapes, constants, data movement

case("f32", "Shape", f32(2, 3, 4))
case("start-end", "Shape", f32(2, 3, 4, 5), opset=15, start=1, end=-1)
case("start-neg", "Shape", f32(2, 3, 4, 5), opset=15, start=-2)
case("f32", "Size", f32(2, 3, 4))
case("rank0", "Size", np.asarray(1.0, np.float32))
case("default", "ConstantOfShape", C(ints(2, 3)))
case("f32-value", "ConstantOfShape", C(ints(2, 3)), value=numpy_helper.from_array(np.asarray([1.5], np.float32)))
case("i64-value", "ConstantOfShape", C(ints(4)), value=numpy_helper.from_array(np.asarray([7], np.int64)))
case("scalar-shape", "ConstantOfShape", C(np.zeros((0,), np.int64)))
case("i64", "Range", C(np.int64(1)), C(np.int64(10)), C(np.int64(3)))
case("f32", "Range", C(np.float32(0.5)), C(np.float32(-2)), C(np.float32(-0.75)))
case("empty", "Range", C(np.int64(5)), C(np.int64(1)), C(np.int64(1)))
CASES.append(Case("Constant-tensor", [helper.make_node(
    "Constant", [], ["out0"], value=numpy_helper.from_array(f32(2, 3)))], {}, ["out0"]))
CASES.append(Case("Constant-value-ints", [helper.make_node(
    "Constant", [], ["out0"], value_ints=[1, 2, 3])], {}, ["out0"], opset=13))
CASES.append(Case("Constant-value-float", [helper.make_node(
    "Constant", [], ["out0"], value_float=2.5)], {}, ["out0"], opset=13))
CASES.append(Case("Constant-bool", [helper.make_node(
    "Constant", [], ["out0"], value=numpy_helper.from_array(bools(4)))], {}, ["out0"]))

case("zero-and-minus-one", "Reshape", f32(2, 3, 4), C(ints(0, -1)))
case("minus-one-first", "Reshape", f32(2, 3, 4), C(ints(-1, 6)))
case("to-scalar", "Reshape", f32(1, 1), C(np.zeros((0,), np.int64)))
case("i64", "Reshape", i64(6), C(ints(3, 2)))
case("bool", "Reshape", bools(2, 3), C(ints(3, 1, 2)))
case("allowzero", "Reshape", f32(0, 3), C(ints(3, 0)), opset=14, allowzero=1)
for axis in (0, 1, 2, 3, -1):
    case(f"axis{axis}", "Flatten", f32(2, 3, 4), axis=axis)
case("i64", "Flatten", i64(2, 3, 4))
case("attr", "Squeeze", f32(1, 3, 1, 4), opset=11, axes=[0, -2])
case("input", "Squeeze", f32(1, 3, 1, 4), C(ints(2)), opset=13)
case("all", "Squeeze", f32(1, 3, 1, 4), opset=13)
case("bool", "Squeeze", bools(1, 3), C(ints(0)), opset=13)
case("attr", "Unsqueeze", f32(3, 4), opset=11, axes=[0, 3])
case("input", "Unsqueeze", f32(3, 4), C(ints(-1, 1)), opset=13)
case("rank0", "Unsqueeze", np.asarray(3, np.int64), C(ints(0)), opset=13)
case("default-perm", "Transpose", f32(2, 3, 4))
case("perm", "Transpose", f32(2, 3, 4, 5), perm=[0, 2, 3, 1])
case("i64", "Transpose", i64(2, 3), perm=[1, 0])
case("bool", "Transpose", bools(2, 3, 1), perm=[2, 0, 1])
case("grow", "Expand", f32(3, 1), C(ints(2, 1, 6)))
case("smaller-shape", "Expand", f32(2, 3), C(ints(1)))
case("same", "Expand", f32(2, 3), C(ints(2, 3)))
case("i64", "Expand", i64(1, 3), C(ints(4, 3)))
case("bool", "Expand", bools(3), C(ints(2, 3)))
case("axis0", "Concat", f32(2, 3), f32(1, 3), axis=0)
case("axis-neg", "Concat", f32(2, 3), f32(2, 1), f32(2, 2), axis=-1)
case("i64", "Concat", i64(2), C(ints(7, 8)), axis=0)
case("bool", "Concat", bools(2, 2), bools(2, 2), axis=1)
case("one-input", "Concat", f32(2, 3), axis=1)
case("empty-part", "Concat", f32(2, 3), f32(2, 0), axis=1)

case("opset9-attrs", "Slice", f32(4, 5), opset=9, starts=[1, 0], ends=[3, -1], axes=[0, 1])
case("basic", "Slice", f32(4, 5), C(ints(1)), C(ints(3)), opset=13)
case("axes-steps", "Slice", f32(4, 6, 5), C(ints(0, 1)), C(ints(5, 6)), C(ints(2, 1)), C(ints(2, 2)), opset=13)
case("negative-step", "Slice", f32(5, 6), C(ints(-1)), C(ints(INT64_MIN)), C(ints(1)), C(ints(-1)), opset=13)
case("negative-step2", "Slice", f32(7), C(ints(5)), C(ints(0)), C(ints(0)), C(ints(-2)), opset=13)
case("int64-max-end", "Slice", f32(4, 5), C(ints(2)), C(ints(INT64_MAX)), C(ints(1)), opset=13)
case("negative-starts", "Slice", f32(4, 5), C(ints(-3, -2)), C(ints(-1, 100)), opset=13)
case("clamped", "Slice", f32(4, 5), C(ints(-100)), C(ints(100)), C(ints(1)), opset=13)
case("empty", "Slice", f32(4, 5), C(ints(3)), C(ints(1)), C(ints(0)), opset=13)
case("i64", "Slice", i64(6), C(ints(1)), C(ints(6)), C(ints(0)), C(ints(2)), opset=13)
case("bool", "Slice", bools(6), C(ints(-2)), C(ints(-6)), C(ints(0)), C(ints(-1)), opset=13)
case("i32-params", "Slice", f32(4, 5), C(np.asarray([1], np.int32)), C(np.asarray([4], np.int32)), opset=13)

case("attr", "Split", f32(6, 4), opset=11, outs=2, axis=0, split=[2, 4])
case("equal-opset11", "Split", f32(6, 4), opset=11, outs=3)
case("input", "Split", f32(2, 7), C(ints(3, 4)), opset=13, outs=2, axis=-1)
case("equal-opset13", "Split", f32(2, 6), opset=13, outs=2, axis=1)
case("num-outputs-even", "Split", f32(8, 2), opset=18, outs=4, num_outputs=4)
case("num-outputs-uneven", "Split", f32(10, 2), opset=18, outs=4, num_outputs=4)
case("i64", "Split", i64(4, 2), opset=13, outs=2)

case("axis0-2d-indices", "Gather", f32(5, 3), C(np.asarray([[0, 4], [2, 2]], np.int64)))
case("axis1-negative", "Gather", f32(3, 5, 2), C(ints(-1, 0, -5)), axis=1)
case("scalar-index", "Gather", f32(4, 3), C(np.int64(2)), axis=0)
case("runtime-indices", "Gather", f32(4, 3), np.asarray([3, 0, 1], np.int64), axis=0)
case("i32-indices", "Gather", f32(4, 3), C(np.asarray([1, -1], np.int32)), axis=-1)
case("i64", "Gather", i64(4, 3), C(ints(1, 3)))
case("bool", "Gather", bools(4, 3), C(ints(2)), axis=1)

case("opset10-constant", "Pad", f32(2, 3), opset=10, pads=[1, 0, 0, 2], value=1.5)
case("opset10-edge", "Pad", f32(2, 3), opset=10, pads=[1, 1, 1, 1], mode="edge")
case("constant", "Pad", f32(2, 3), C(ints(0, 1, 2, 0)), opset=13)
case("constant-value", "Pad", f32(2, 3), C(ints(0, 1, 2, 0)), C(np.float32(-3)), opset=13)
case("reflect", "Pad", f32(1, 2, 4, 4), C(ints(0, 0, 2, 1, 0, 0, 1, 3)), opset=13, mode="reflect")
case("edge", "Pad", f32(1, 2, 3, 3), C(ints(0, 0, 2, 1, 0, 0, 1, 3)), opset=13, mode="edge")
case("negative", "Pad", f32(4, 5), C(ints(-1, 2, 1, -2)), opset=13)
case("axes", "Pad", f32(2, 3, 4), C(ints(1, 2, 3, 4)), None, C(ints(0, -1)), opset=18)
case("i64", "Pad", i64(2, 3), C(ints(1, 1, 1, 1)), C(np.int64(9)), opset=13)
case("1x1-reflect-edge", "Pad", f32(1, 1), C(ints(0, 2, 0, 1)), opset=13, mode="edge")

case("2d", "Tile", f32(2, 3), C(ints(2, 3)))
case("ones", "Tile", f32(2, 3), C(ints(1, 1)))
case("i64", "Tile", i64(3), C(ints(4)))
case("bool", "Tile", bools(1, 2), C(ints(3, 1)))
case("dcr", "DepthToSpace", f32(1, 8, 2, 3), blocksize=2)
case("crd", "DepthToSpace", f32(2, 8, 2, 3), blocksize=2, mode="CRD", opset=13)
case("bs2", "SpaceToDepth", f32(1, 2, 4, 6), blocksize=2)
case("bs3", "SpaceToDepth", f32(2, 1, 3, 3), blocksize=3)

# more edge shapes
case("big-negative-step", "Slice", f32(12), C(ints(10)), C(ints(-10)), C(ints(0)), C(ints(-3)), opset=13)
case("rank1-axis0", "Flatten", f32(5), axis=0)
case("rank1", "Flatten", f32(5))
case("rank1-nokeep", "ArgMax", f32(5), keepdims=0)
case("all-nokeep", "ReduceSum", f32(3, 4), keepdims=0, opset=13)
case("empty-dim", "ReduceSum", f32(0, 3), C(ints(0)), opset=13)
case("batched-bcast2", "MatMul", f32(3, 1, 2, 4), f32(1, 5, 4, 2))
case("transA-transB", "Gemm", f32(4, 3), f32(5, 4), f32(3, 5), transA=1, transB=1)
case("rank1", "Softmax", f32(6), opset=11, axis=0)
case("rank1", "Transpose", f32(6))
case("3d", "Tile", f32(2, 1, 3), C(ints(1, 4, 2)))
case("negative-delta", "Range", C(np.int64(10)), C(np.int64(-3)), C(np.int64(-4)))
case("bool-value", "ConstantOfShape", C(ints(2, 2)),
     value=numpy_helper.from_array(np.asarray([True], np.bool_)))
case("bs3", "DepthToSpace", f32(1, 18, 2, 2), blocksize=3, mode="CRD", opset=13)
case("attr-negative", "Unsqueeze", f32(3), opset=11, axes=[-1, 0])
case("3-way-middle", "Concat", f32(2, 1, 3), f32(2, 4, 3), f32(2, 2, 3), axis=1)
case("reflect-1d", "Pad", f32(5), C(ints(3, 2)), opset=13, mode="reflect")
case("i64-edge", "Pad", i64(2, 3), C(ints(1, 2, 0, 1)), opset=13, mode="edge")
# wrap (circular): slices concatenated; a pad past the dim's size repeats it; negative pads crop first.
# PyTorch's dynamo exporter writes it at opset 18 too (F.pad(mode="circular")).
case("wrap", "Pad", f32(1, 2, 4, 5), C(ints(0, 0, 1, 2, 0, 0, 2, 1)), opset=19, mode="wrap")
case("wrap-past-size", "Pad", f32(2, 3), C(ints(0, 7, 1, 4)), opset=19, mode="wrap")
case("wrap-negative", "Pad", i64(3, 4), C(ints(-1, 1, 1, -2)), opset=19, mode="wrap")
case("wrap-axes-opset18", "Pad", f32(2, 3, 4), C(ints(2, 1)), None, C(ints(-1)), opset=18, mode="wrap")
case("f64", "Clip", f64(3, 4), C(np.float64(-0.5)), C(np.float64(0.5)), opset=13)
case("ceil-5-k2-s2-p1", "MaxPool", f32(1, 1, 5, 5), kernel_shape=[2, 2], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
case("ceil-6-k3-s3", "MaxPool", f32(1, 1, 6, 7), kernel_shape=[3, 3], strides=[3, 3], ceil_mode=1)
case("ceil-pads-exclude", "AveragePool", f32(1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
case("stride2-1x1", "Conv", f32(1, 3, 5, 5), C(f32(2, 3, 1, 1)), strides=[2, 1])
case("f64", "Conv", f64(1, 2, 4, 4), C(f64(3, 2, 3, 3)), oracle="reference")
case("cond-lower-rank", "Where", bools(4), f32(3, 4), f32(3, 1))
case("rank2-indices-axis1", "Gather", f32(2, 5), C(np.asarray([[0, 1], [4, -2]], np.int64)), axis=1)
case("uneven-3-of-4", "Split", f32(4, 2), opset=18, outs=3, num_outputs=3)

# masked attention scores, integer means, f64 and 1x1 spatial edges
_masked = f32(2, 5)
_masked[:, 3:] = -np.inf
case("masked-inf", "Softmax", _masked, opset=13)
case("masked-inf", "LogSoftmax", _masked, opset=13)
case("i64-negative", "ReduceMean", np.asarray([[-7, 2, 3], [5, -1, -1]], np.int64), C(ints(1)), opset=18)
case("f64", "MatMul", f64(2, 3, 4), f64(4, 2))
case("f64", "Max", f64(2, 3), f64(3))
case("i32", "Neg", i32(5))
case("f64-to-f32", "Cast", f64(3, 4), to=TensorProto.FLOAT)
case("i32", "Clip", i32(6, lo=-9, hi=9), C(np.int32(-2)), C(np.int32(3)), opset=13)
case("1x1-padded-3x3", "Conv", f32(1, 2, 1, 1), C(f32(3, 2, 3, 3)), C(f32(3)), pads=[1, 1, 1, 1])
case("1x1-ceil-padded", "MaxPool", f32(1, 2, 1, 1), kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
case("whole-input-window", "AveragePool", f32(1, 2, 3, 5), kernel_shape=[3, 5])
case("1x1-spatial", "BatchNormalization", f32(1, 3, 1, 1), C(f32(3)), C(f32(3)), C(f32(3)),
     C(f32(3, lo=0.5, hi=2)), opset=15)
# Here x - mean is exactly 0; onnxruntime folds the normalization into
# x * a + b with a = scale / sqrt(eps) ~ 300 and loses ~1e-5 to cancellation.
case("1x1-spatial", "InstanceNormalization", f32(2, 3, 1, 1), C(f32(3)), C(f32(3)),
     oracle="reference")

# A shape subgraph: Reshape to [batch, -1] computed from Shape; it must fold.
graph_case(
    "shape-subgraph-Shape-Gather-Unsqueeze-Concat-Reshape",
    [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"]),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
        helper.make_node("Relu", ["y"], ["out"]),
    ],
    {"x": f32(2, 3, 4), "zero": C(np.int64(0)), "axes0": C(ints(0)), "minus1": C(ints(-1))},
    ["out"],
    opset=13,
)
graph_case(
    "shape-subgraph-Size-Range-Cast",
    [
        helper.make_node("Size", ["x"], ["n"]),
        helper.make_node("Range", ["zero", "n", "one"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["rf", "shape"], ["rf2"]),
        helper.make_node("Add", ["x", "rf2"], ["out"]),
    ],
    {"x": f32(2, 3), "zero": C(np.int64(0)), "one": C(np.int64(1)), "shape": C(ints(2, 3))},
    ["out"],
)
graph_case(
    "chain-mlp",
    [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["o"]),
        helper.make_node("Softmax", ["o"], ["out"], axis=-1),
    ],
    {"x": f32(2, 8), "w1": C(f32(16, 8)), "b1": C(f32(16)), "w2": C(f32(16, 4))},
    ["out"],
)

# Sequences (static length: tensors rearranged at import) and If on a constant
# condition, as PyTorch's dynamo exporter writes them (torch.hstack/vstack,
# torch.atleast_1d, unoptimized torch.split / torch.unbind).
graph_case(
    "sequence-Construct-Insert-Erase-At-Length-Empty",
    [
        helper.make_node("SequenceConstruct", ["x", "y"], ["s"]),
        helper.make_node("SequenceInsert", ["s", "z", "zero"], ["s2"]),  # [z, x, y]
        helper.make_node("SequenceErase", ["s2", "minus1"], ["s3"]),  # [z, x]
        helper.make_node("SequenceAt", ["s3", "one"], ["out0"]),  # x
        helper.make_node("SequenceLength", ["s3"], ["out1"]),
        helper.make_node("SequenceEmpty", [], ["e"]),
        helper.make_node("SequenceInsert", ["e", "y"], ["e1"]),
        helper.make_node("SequenceInsert", ["e1", "z"], ["e2"]),  # [y, z]
        helper.make_node("SequenceErase", ["e2"], ["e3"]),  # [y]
        helper.make_node("Identity", ["e3"], ["e4"]),
        helper.make_node("SequenceAt", ["e4", "minus1"], ["out2"]),  # y
    ],
    {"x": f32(2, 3), "y": f32(4, 3), "z": f32(1, 3), "zero": C(np.int64(0)), "one": C(np.int64(1)),
     "minus1": C(np.int64(-1))},
    ["out0", "out1", "out2"],
    opset=18,
)
graph_case(
    "sequence-SplitToSequence-ConcatFromSequence",
    [
        helper.make_node("SplitToSequence", ["x"], ["rows"], axis=1, keepdims=0),  # 5 x [2, 3]
        helper.make_node("ConcatFromSequence", ["rows"], ["out0"], axis=-1, new_axis=1),  # [2, 3, 5]
        helper.make_node("SplitToSequence", ["x", "two"], ["chunks"], axis=1),  # [2,2,3] [2,2,3] [2,1,3]
        helper.make_node("ConcatFromSequence", ["chunks"], ["out1"], axis=1),  # x again
        helper.make_node("SplitToSequence", ["x", "sizes"], ["parts"], axis=-1),  # [2,5,1] [2,5,2]
        helper.make_node("SequenceAt", ["parts", "one"], ["out2"]),
    ],
    {"x": f32(2, 5, 3), "two": C(np.int64(2)), "sizes": C(ints(1, 2)), "one": C(np.int64(1))},
    ["out0", "out1", "out2"],
    opset=18,
)
# torch.atleast_1d as torch.onnx (dynamo) writes it: a SequenceMap whose body
# reshapes rank-0 elements under an If on the element's rank (a constant here).
_atleast_1d_body = helper.make_graph(
    [
        helper.make_node("Shape", ["t"], ["ts"]),
        helper.make_node("Size", ["ts"], ["tr"]),
        helper.make_node("Equal", ["tr", "zero"], ["scalar"]),
        helper.make_node(
            "If", ["scalar"], ["t1"],
            then_branch=helper.make_graph([helper.make_node("Reshape", ["t", "one1"], ["r"])], "then", [],
                                          [helper.make_tensor_value_info("r", TensorProto.FLOAT, None)]),
            else_branch=helper.make_graph([helper.make_node("Identity", ["t"], ["i"])], "else", [],
                                          [helper.make_tensor_value_info("i", TensorProto.FLOAT, None)]),
        ),
        helper.make_node("Mul", ["t1", "k"], ["t2"]),  # the extra input k, a sequence walked in step
    ],
    "atleast_1d",
    [helper.make_tensor_value_info("t", TensorProto.FLOAT, None),
     helper.make_tensor_value_info("k", TensorProto.FLOAT, None)],
    [helper.make_tensor_value_info("t2", TensorProto.FLOAT, None)],
)
graph_case(
    "sequence-SequenceMap-If",
    [
        helper.make_node("SequenceConstruct", ["x", "y"], ["s"]),
        helper.make_node("SequenceConstruct", ["kx", "ky"], ["ks"]),
        helper.make_node("SequenceMap", ["s", "ks"], ["m"], body=_atleast_1d_body),
        helper.make_node("SequenceAt", ["m", "zero"], ["m0"]),
        helper.make_node("SequenceAt", ["m", "one"], ["m1"]),
        helper.make_node("Concat", ["m0", "m1"], ["out"], axis=0),
    ],
    {"x": np.asarray(1.5, np.float32), "y": f32(3), "kx": f32(1), "ky": np.asarray(2.0, np.float32),
     "zero": C(np.int64(0)), "one": C(np.int64(1)), "one1": C(ints(1))},
    ["out"],
    opset=18,
)

graph_case(
    "If-shape-condition",
    [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["batch"], axis=0),
        helper.make_node("Greater", ["batch", "one"], ["many"]),  # 2 > 1: then_branch
        helper.make_node(
            "If", ["many"], ["out"],
            then_branch=helper.make_graph([helper.make_node("Neg", ["x"], ["n"])], "then", [],
                                          [helper.make_tensor_value_info("n", TensorProto.FLOAT, None)]),
            else_branch=helper.make_graph([helper.make_node("Relu", ["x"], ["r"])], "else", [],
                                          [helper.make_tensor_value_info("r", TensorProto.FLOAT, None)]),
        ),
    ],
    {"x": f32(2, 3), "zero": C(np.int64(0)), "one": C(np.int64(1))},
    ["out"],
    opset=18,
)

# Recurrent ops (the option families are in test_rnn.py): [T=3, B=2, I=4], hidden 5.
case("bidirectional", "LSTM", f32(3, 2, 4), C(f32(2, 20, 4)), C(f32(2, 20, 5)), C(f32(2, 40)),
     outs=3, hidden_size=5, direction="bidirectional")
case("lens", "GRU", f32(3, 2, 4), C(f32(1, 15, 4)), C(f32(1, 15, 5)), C(f32(1, 30)),
     C(np.asarray([3, 1], np.int32)), f32(1, 2, 5), outs=2, hidden_size=5)
case("reverse", "RNN", f32(3, 2, 4), C(f32(1, 5, 4)), C(f32(1, 5, 5)), outs=2, hidden_size=5,
     direction="reverse")


# ---------------------------------------------------------------------------
# Indexing and scatter, structured decompositions, more activations

_ge_idx = np.asarray([[[0, 2], [-1, 1], [3, 0]], [[1, 1], [2, -4], [0, 3]]], np.int64)
case("axis2-negative", "GatherElements", f32(2, 3, 4), _ge_idx, axis=2)
case("axis0-smaller", "GatherElements", f32(4, 3), C(np.asarray([[3, 0, -1], [1, 2, 0]], np.int64)))
case("i64-position-ids", "GatherElements", i64(2, 6), np.asarray([[5, 4, 3, 2, 1, 0]] * 2, np.int64), axis=1)
case("i32-indices", "GatherElements", f32(3, 5), C(np.asarray([[4], [0], [-2]], np.int32)), axis=1)
case("batch1", "GatherND", f32(2, 3, 4), np.asarray([[[1, 2]], [[0, -1]]], np.int64), batch_dims=1)
case("rows", "GatherND", i64(4, 3, 2), C(np.asarray([[3], [0], [-1]], np.int64)))
case("full-tuples", "GatherND", f32(3, 4), np.asarray([[2, 3], [0, 0], [-1, 1]], np.int64))
_se_idx = np.asarray([[1, 0, 2], [0, 2, 1]], np.int64)
for red in ["none", "add", "mul", "max", "min"]:
    case(f"axis0-{red}", "ScatterElements", f32(3, 3), _se_idx, f32(2, 3), reduction=red, opset=18)
case("axis1-negative", "ScatterElements", i64(2, 5), C(np.asarray([[-1, 0], [3, -5]], np.int64)),
     i64(2, 2), axis=1)
case("opset10", "Scatter", f32(3, 3), C(_se_idx), f32(2, 3), opset=10)
case("rows", "ScatterND", f32(4, 3), np.asarray([[2], [0]], np.int64), f32(2, 3))
case("elements-add", "ScatterND", f32(2, 3, 2), C(np.asarray([[0, 1, 1], [1, 2, 0], [0, 1, 1]], np.int64)),
     f32(3), reduction="add", opset=18)
case("negative-mul", "ScatterND", f32(3, 4), C(np.asarray([[-1, 2], [0, 0]], np.int64)), f32(2),
     reduction="mul", opset=18)
case("upper", "Trilu", f32(2, 4, 5))
case("lower-k-1", "Trilu", i64(3, 4), C(np.int64(-1)), upper=0)
case("upper-runtime-k", "Trilu", f32(5, 3), np.asarray(1, np.int64))
for ex in (0, 1):
    for rev in (0, 1):
        case(f"axis1-ex{ex}-rev{rev}", "CumSum", f32(2, 5, 3), C(np.int64(1)), exclusive=ex, reverse=rev)
case("i32-1d", "CumSum", i32(7), C(np.int32(0)))
case("i64-axis-neg", "CumSum", i64(3, 4), C(np.int64(-1)), exclusive=1)
for ex in (0, 1):
    for rev in (0, 1):
        case(f"axis1-ex{ex}-rev{rev}", "CumProd", f32(2, 5, 3, lo=0.5, hi=1.5), C(np.int64(1)), exclusive=ex,
             reverse=rev, opset=26)
case("i32-1d", "CumProd", i32(7, lo=-3, hi=4), C(np.int32(0)), opset=26)
case("i64-axis-neg", "CumProd", i64(3, 4, lo=-3, hi=4), C(np.int64(-1)), exclusive=1, reverse=1, opset=26)
case("k1", "EyeLike", f32(3, 5), k=1)
# Col2Im: [N, C*kh*kw, L] -> [N, C, H, W]; 5x6 image, 2x3 blocks (dilated), stride 2: L = 3 * 2
case("strides-pads-dilations", "Col2Im", f32(2, 12, 6), C(ints(5, 6)), C(ints(2, 3)), strides=[2, 2],
     pads=[1, 1, 0, 1], dilations=[1, 2], opset=18)
case("2d", "AffineGrid", f32(2, 2, 3), C(ints(2, 3, 4, 5)), opset=20)
case("3d-align-corners", "AffineGrid", f32(1, 3, 4), C(ints(1, 1, 3, 2, 4)), align_corners=1, opset=20)
for op in ["HannWindow", "HammingWindow", "BlackmanWindow"]:
    case("periodic", op, C(np.int64(10)))
    case("symmetric-f64", op, C(np.int32(7)), periodic=0, output_datatype=TensorProto.DOUBLE)
case("i64-dtype-k-neg", "EyeLike", f32(4, 3), k=-2, dtype=TensorProto.INT64)
case("crop-and-pad", "CenterCropPad", f32(5, 6, 3), C(ints(3, 9)), axes=[0, 1], opset=18)
case("all-axes-odd", "CenterCropPad", i64(4, 7), C(ints(7, 4)), opset=18)
case("axis1", "Compress", f32(3, 5), C(np.asarray([True, False, True, True], np.bool_)), axis=1)
case("flattened-i64", "Compress", i64(2, 3), C(np.asarray([0, 1, 1, 0, 0, 1], np.bool_)))
case("silu-bias-state", "CausalConvWithState", f32(2, 3, 6), C(f32(3, 1, 4)), C(f32(3)), f32(2, 3, 3),
     activation="silu", opset=27, outs=2, rtol=1e-4)
case("no-state", "CausalConvWithState", f32(1, 4, 5), f32(4, 1, 3), opset=27, outs=2)
_unpool_idx = _rng.permutation(48)[:12].reshape(1, 2, 2, 3).astype(np.int64)  # distinct, in [0, 1*2*4*6)
case("k2-s2", "MaxUnpool", f32(1, 2, 2, 3), _unpool_idx, kernel_shape=[2, 2], strides=[2, 2], opset=11)
case("output-shape", "MaxUnpool", f32(1, 2, 2, 3), _unpool_idx, C(ints(1, 2, 5, 7)), kernel_shape=[2, 2],
     strides=[2, 2], opset=11)
case("last-axis", "OneHot", np.asarray([[1, -1], [4, 0]], np.int64), C(np.int64(5)),
     C(np.asarray([0.5, 2.0], np.float32)))
case("axis0-float-ids", "OneHot", np.asarray([2.0, 0.0, 3.0], np.float32), C(np.int64(4)),
     C(ints(-1, 7)), axis=0)
case("matmul", "Einsum", f32(3, 4), f32(4, 5), equation="ij,jk->ik", opset=12)
case("attention-scores", "Einsum", f32(2, 3, 5, 4), f32(2, 3, 6, 4), equation="bhqd,bhkd->bhqk", opset=12)
case("attention-context", "Einsum", f32(2, 3, 5, 6), f32(2, 6, 3, 4), equation="bhqk,bkhd->bqhd", opset=12)
case("ellipsis-broadcast", "Einsum", f32(2, 1, 3, 4), f32(1, 5, 4, 2), equation="...ij,...jk", opset=12)
case("transpose-sum", "Einsum", f32(3, 4, 5), equation="ijk->ki", opset=12)
case("trace", "Einsum", f32(4, 4), equation="ii", opset=12)
case("three-operands", "Einsum", f32(2, 3), f32(3, 4), f32(4), equation="ij,jk,k->i", opset=12)
case("outer-i64", "Einsum", i64(3), i64(4), equation="i,j->ij", opset=12)
graph_case(
    "NonZero-constant-into-Gather",
    [
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Gather", ["x", "nz"], ["out"], axis=1),
    ],
    {"mask": C(np.asarray([0, 3, 0, 1], np.int64)), "x": f32(2, 5)},
    ["out"],
)
graph_case(
    "Unique-constant-into-Gather",
    [
        helper.make_node("Unique", ["ids"], ["u", "first", "inverse", "counts"], sorted=0),
        helper.make_node("Gather", ["x", "u"], ["out"], axis=1),
    ],
    {"ids": C(np.asarray([3, 1, 3, 0, 1], np.int64)), "x": f32(2, 5)},
    ["out", "first", "inverse", "counts"],
    opset=11,
)
graph_case(
    "Unique-constant-rows",
    [helper.make_node("Unique", ["rows"], ["u", "first", "inverse", "counts"], axis=0)],
    {"rows": C(np.asarray([[1, 2], [0, 3], [1, 2], [0, 1]], np.float32))},
    ["u", "first", "inverse", "counts"],
    opset=11,
)
_ties = np.asarray([[3, 1, 3, 2, 1, 3], [0, 0, 5, 5, -1, 0]], np.float32)
case("largest-ties", "TopK", _ties, C(ints(4)), outs=2, opset=11)
case("smallest-axis0", "TopK", f32(5, 3), C(ints(2)), outs=2, axis=0, largest=0, opset=11)
case("i64", "TopK", i64(2, 7), C(ints(3)), outs=2, opset=11)
case("opset1-attr", "TopK", f32(2, 6), outs=2, k=2, opset=9)
for op in ["BitwiseAnd", "BitwiseOr", "BitwiseXor"]:
    case("i32", op, i32(3, 4, lo=-100, hi=100), i32(4, lo=-100, hi=100), opset=18)
    case("u8", op, _rng.integers(0, 256, (2, 5)).astype(np.uint8), _rng.integers(0, 256, (2, 5)).astype(np.uint8),
         opset=18)
case("i64", "BitwiseNot", i64(7, lo=-1000, hi=1000), opset=18)
case("u8", "BitwiseNot", _rng.integers(0, 256, 9).astype(np.uint8), opset=18)
_shift_x = _rng.integers(0, 256, 12).astype(np.uint8)
_shift_y = np.asarray([0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 200], np.uint8)
case("u8-left", "BitShift", _shift_x, _shift_y, direction="LEFT")
case("u8-right", "BitShift", _shift_x, _shift_y, direction="RIGHT")
_act = f32(3, 7, lo=-4.0, hi=4.0)
for op, attrs in [("Mish", {}), ("Selu", {}), ("Selu", {"alpha": 2.0, "gamma": 1.5}), ("Celu", {}),
                  ("Celu", {"alpha": 0.5}), ("ThresholdedRelu", {}), ("ThresholdedRelu", {"alpha": -0.5}),
                  ("Shrink", {}), ("Shrink", {"lambd": 1.5, "bias": 0.75}), ("Hardmax", {}),
                  ("Hardmax", {"axis": 0})]:
    case("-".join(f"{k}{v}" for k, v in attrs.items()) or "default", op, _act, rtol=1e-5, opset=18, **attrs)
case("i32", "Shrink", i32(9), lambd=1.5, bias=1.0, opset=18)
case("opset11-flatten", "Hardmax", f32(2, 3, 4), axis=1, opset=11)
case("ties", "Hardmax", np.asarray([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32), opset=18)
for op, lo, hi in [("Tan", -1.2, 1.2), ("Asin", -1.0, 1.0), ("Acos", -1.0, 1.0), ("Atan", -9.0, 9.0),
                   ("Sinh", -5.0, 5.0), ("Cosh", -5.0, 5.0), ("Asinh", -9.0, 9.0), ("Acosh", 1.0, 9.0),
                   ("Atanh", -0.99, 0.99)]:
    case("f32", op, f32(3, 11, lo=lo, hi=hi))
_special = np.asarray([1.0, np.nan, np.inf, -np.inf, -0.0, 3.0e38], np.float32)
case("f32", "IsNaN", _special, opset=13)
case("f32", "IsInf", _special)
case("positive-only", "IsInf", _special, detect_negative=0)
case("negative-only-f64", "IsInf", _special.astype(np.float64), detect_positive=0)
# Losses and GridSample (decomposed; more cases in test_losses.py, test_grid_sample.py).
# Their own generator, so that the cases after them keep their data.
_own = np.random.default_rng(99)
_x, _t = _own.uniform(-2, 2, (2, 3, 4)).astype(np.float32), _own.integers(0, 3, (2, 4)).astype(np.int64)
case("NCd1-weight-ii", "NegativeLogLikelihoodLoss", _x, _t, C(np.asarray([0.5, 1.0, 2.0], np.float32)),
     opset=13, ignore_index=1)
case("NCd1-sum-log-prob", "SoftmaxCrossEntropyLoss", _x, _t, opset=13, outs=2, reduction="sum")
case("bilinear-border", "GridSample", _own.uniform(-2, 2, (1, 2, 4, 5)).astype(np.float32),
     _own.uniform(-1.5, 1.5, (1, 3, 2, 2)).astype(np.float32), opset=16, padding_mode="border")

# Resize / Upsample: scales or sizes are initializers; every mode and coordinate mode.
F = np.float32
_img = f32(1, 2, 5, 6)
for _mode, _coord, _nearest in [
    ("nearest", "asymmetric", "floor"), ("nearest", "half_pixel", "round_prefer_floor"),
    ("nearest", "align_corners", "round_prefer_ceil"), ("nearest", "pytorch_half_pixel", "ceil"),
    ("linear", "half_pixel", None), ("linear", "align_corners", None), ("linear", "asymmetric", None),
    ("linear", "pytorch_half_pixel", None), ("cubic", "half_pixel", None), ("cubic", "align_corners", None),
]:
    _extra = {"nearest_mode": _nearest} if _nearest else {}
    case(f"{_mode}-{_coord}-up", "Resize", _img, None, C(np.array([1, 1, 2, 1.5], F)), opset=13,
         mode=_mode, coordinate_transformation_mode=_coord, **_extra)
    case(f"{_mode}-{_coord}-sizes-down", "Resize", _img, None, None, C(ints(1, 2, 3, 4)), opset=13,
         mode=_mode, coordinate_transformation_mode=_coord, **_extra)
case("nearest-2x-opset11", "Resize", _img, C(np.zeros(0, F)), C(np.array([1, 1, 2, 2], F)), opset=11,
     mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
case("nearest-opset10", "Resize", _img, C(np.array([1, 1, 2, 3], F)), opset=10)
case("linear-opset10", "Resize", _img, C(np.array([1, 1, 2, 2], F)), opset=10, mode="linear")
case("nearest-i64-down", "Resize", i64(1, 1, 6, 6), None, C(np.array([1, 1, 0.5, 0.5], F)), opset=13,
     oracle="reference")
case("linear-3d-ncw", "Resize", f32(2, 3, 7), None, C(np.array([1, 1, 2.5], F)), opset=13, mode="linear")
case("cubic-exclude-outside", "Resize", _img, None, C(np.array([1, 1, 1.7, 0.6], F)), opset=13,
     mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1)
case("tf-crop-and-resize", "Resize", _img, C(np.array([0, 0, 0.2, 0.1, 1, 1, 1.2, 0.8], F)), None,
     C(ints(1, 2, 4, 5)), opset=13, mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
     extrapolation_value=-3.0)
case("half-pixel-symmetric", "Resize", _img, None, C(np.array([1, 1, 1.3, 0.7], F)), opset=19,
     mode="linear", coordinate_transformation_mode="half_pixel_symmetric")
case("axes-not-larger", "Resize", _img, None, None, C(ints(9, 9)), opset=18, axes=[3, 2],
     keep_aspect_ratio_policy="not_larger")
case("antialias-down", "Resize", f32(1, 1, 8, 9), None, C(np.array([1, 1, 0.5, 0.4], F)), opset=18,
     mode="linear", antialias=1)
case("nearest", "Upsample", _img, C(np.array([1, 1, 2, 3], F)), opset=9)
case("linear", "Upsample", _img, C(np.array([1, 1, 2, 2], F)), opset=9, mode="linear")
case("opset7-attr", "Upsample", _img, opset=7, scales=[1.0, 1.0, 3.0, 2.0])

# ConvTranspose: the kernel == stride pixel shuffle and the zero-insertion path.
case("k2-s2", "ConvTranspose", f32(1, 4, 3, 5), C(f32(4, 3, 2, 2)), C(f32(3)), strides=[2, 2])
case("k2-s2-group2", "ConvTranspose", f32(1, 4, 3, 3), C(f32(4, 3, 2, 2)), strides=[2, 2], group=2)
case("k4-s2-p1", "ConvTranspose", f32(1, 3, 4, 5), C(f32(3, 2, 4, 4)), C(f32(2)), strides=[2, 2],
     pads=[1, 1, 1, 1])
case("k3-s2-outpad-dil", "ConvTranspose", f32(1, 2, 3, 4), C(f32(2, 2, 3, 3)), strides=[2, 3],
     pads=[1, 0, 0, 2], output_padding=[1, 1], dilations=[1, 2])
case("same-upper-group3", "ConvTranspose", f32(1, 6, 4, 4), C(f32(6, 1, 3, 3)), strides=[2, 2],
     auto_pad="SAME_UPPER", group=3)
case("output-shape", "ConvTranspose", f32(1, 1, 3, 3), C(f32(1, 2, 3, 3)), strides=[3, 2],
     output_shape=[10, 8])
case("1d-runtime-weight", "ConvTranspose", f32(2, 3, 6), f32(3, 2, 3), strides=[2], pads=[1, 0])
case("1d-k5-s3-outpad", "ConvTranspose", f32(2, 3, 6), C(f32(3, 2, 5)), strides=[3], pads=[2, 1],
     output_padding=[2])
case("k3-s2-outpad-same-lower", "ConvTranspose", f32(1, 2, 4, 3), C(f32(2, 4, 3, 3)), C(f32(4)),
     strides=[2, 3], output_padding=[1, 0], auto_pad="SAME_LOWER")

# Normalizations decomposed into layer_norm and reductions.
case("opset18-per-group", "GroupNormalization", f32(2, 6, 3, 4), C(f32(3)), C(f32(3)), opset=18,
     num_groups=3, oracle="reference")
case("opset21-per-channel", "GroupNormalization", f32(2, 6, 5), C(f32(6)), C(f32(6)), opset=21,
     num_groups=2, epsilon=1e-3)
case("axis-1", "RMSNormalization", f32(2, 3, 4), C(f32(3, 4)), opset=23, axis=1)
case("default", "RMSNormalization", f32(3, 8), C(f32(8)), opset=23, epsilon=1e-3)
case("default-axes", "MeanVarianceNormalization", f32(2, 3, 4, 5), opset=13)
case("axes-1", "MeanVarianceNormalization", f32(3, 4, 5), opset=13, axes=[1])
case("p2-zero-row", "LpNormalization", np.vstack([f32(2, 5), np.zeros((1, 5), np.float32)]))
case("p1-axis0", "LpNormalization", f32(3, 4), axis=0, p=1)
case("mean-invstddev", "LayerNormalization", f32(2, 3, 4), C(f32(3, 4)), C(f32(3, 4)), axis=1, outs=3)
# ---------------------------------------------------------------------------
# Quantization (onnxruntime's rounding: ties to even, saturation at the range)


def u8(*shape: int, lo: int = 0, hi: int = 256) -> np.ndarray:
    return _rng.integers(lo, hi, size=shape).astype(np.uint8)


def s8(*shape: int, lo: int = -128, hi: int = 128) -> np.ndarray:
    return _rng.integers(lo, hi, size=shape).astype(np.int8)


# onnxruntime's AVX2 u8 x s8 kernels (vpmaddubsw) saturate pairs of products at
# int16, so the u8s8 cases keep activations below 128, where that is exact; the
# full-range case checks the exact int32 semantics against ONNX's reference.
_ties = (np.arange(-300, 300, dtype=np.float32) * 0.25).reshape(6, 100)  # k/4: ties at scale 0.5
for opset in (10, 13, 19, 21):
    case(f"u8-opset{opset}", "QuantizeLinear", _ties, C(np.float32(0.5)), C(np.uint8(128)), opset=opset)
    case(f"s8-opset{opset}", "QuantizeLinear", _ties, C(np.float32(0.5)), C(np.int8(-3)), opset=opset)
    case(f"u8-opset{opset}", "DequantizeLinear", u8(3, 5), C(np.float32(0.05)), C(np.uint8(100)), opset=opset)
case("default-zp", "QuantizeLinear", _ties, C(np.float32(0.5)))
case("no-zp", "DequantizeLinear", s8(4, 6), C(np.float32(0.1)))
case("i32", "DequantizeLinear", i32(4, 6, lo=-100000, hi=100000), C(np.float32(0.003)))
case("runtime-scale", "QuantizeLinear", f32(3, 4), np.float32(0.02), np.int8(5))
case("per-axis", "QuantizeLinear", f32(2, 3, 4), C(f32(3, lo=0.01, hi=0.05)), C(s8(3)), opset=13, axis=1)
case("per-axis-last", "QuantizeLinear", f32(2, 3, 4), C(f32(4, lo=0.01, hi=0.05)), C(u8(4)), opset=13, axis=-1)
case("per-axis", "DequantizeLinear", s8(2, 3, 4), C(f32(3, lo=0.01, hi=0.05)), C(s8(3)), opset=13, axis=1)
case("per-axis-0", "DequantizeLinear", u8(5, 3), C(f32(5, lo=0.01, hi=0.05)), C(u8(5)), opset=13, axis=0)
case("blocked", "QuantizeLinear", f32(4, 6), C(f32(4, 2, lo=0.01, hi=0.05)), C(s8(4, 2)), opset=21,
     axis=1, block_size=3)
case("blocked", "DequantizeLinear", s8(4, 6), C(f32(2, 6, lo=0.01, hi=0.05)), C(s8(2, 6)), opset=21,
     axis=0, block_size=3)
case("i16", "QuantizeLinear", f32(3, 7, lo=-500, hi=500), C(np.float32(0.01)), C(np.int16(7)), opset=21)
case("i16", "DequantizeLinear", i32(3, 7).astype(np.int16) * 999, C(np.float32(0.01)), C(np.int16(-4)),
     opset=21)
case("f32", "DynamicQuantizeLinear", f32(4, 9), outs=3, opset=11)
case("positive", "DynamicQuantizeLinear", f32(4, 9, lo=0.5, hi=3.0), outs=3, opset=11)
case("zeros", "DynamicQuantizeLinear", np.zeros((3, 2), np.float32), outs=3, opset=11)
case("u8s8", "MatMulInteger", u8(3, 16, hi=128), C(s8(16, 5)), C(np.uint8(31)), opset=10)
case("u8s8-full-range", "MatMulInteger", u8(3, 16), C(s8(16, 5)), C(np.uint8(131)), opset=10, oracle="reference")
case("u8u8-zps", "MatMulInteger", u8(2, 3, 16), u8(16, 5), np.uint8(7), np.uint8(200), opset=10)
case("per-column-zp", "MatMulInteger", u8(3, 16), C(u8(16, 5)), C(np.uint8(3)), C(u8(5)), opset=10)
case("no-zp", "MatMulInteger", s8(4, 8), C(s8(8, 2)), opset=10)
case("u8u8", "ConvInteger", u8(1, 3, 7, 7), C(u8(4, 3, 3, 3)), C(np.uint8(120)), C(np.uint8(3)),
     opset=10, pads=[1, 1, 1, 1])
case("strided", "ConvInteger", u8(1, 4, 8, 8), C(u8(4, 2, 3, 3)), C(np.uint8(9)), opset=10,
     strides=[2, 2], group=2)
case("u8s8", "QLinearMatMul", u8(3, 16, hi=128), C(np.float32(0.02)), C(np.uint8(128)), C(s8(16, 5)),
     C(np.float32(0.01)), C(np.int8(0)), C(np.float32(0.03)), C(np.uint8(120)), opset=10)
case("s8s8-batched", "QLinearMatMul", s8(2, 3, 16), C(np.float32(0.02)), C(np.int8(-3)), C(s8(16, 5)),
     C(np.float32(0.01)), C(np.int8(0)), C(np.float32(0.05)), C(np.int8(10)), opset=10)
case("per-column", "QLinearMatMul", u8(3, 16, hi=128), C(np.float32(0.02)), C(np.uint8(128)), C(s8(16, 5)),
     C(f32(5, lo=0.005, hi=0.02)), C(np.zeros(5, np.int8)), C(np.float32(0.03)), C(np.uint8(120)),
     opset=10)
case("u8s8-bias", "QLinearConv", u8(1, 3, 7, 7, hi=128), C(np.float32(0.02)), C(np.uint8(128)),
     C(s8(4, 3, 3, 3)), C(np.float32(0.01)), C(np.int8(0)), C(np.float32(0.03)), C(np.uint8(100)),
     C(i32(4, lo=-500, hi=500)), opset=10, pads=[1, 1, 1, 1])
case("per-channel", "QLinearConv", u8(1, 4, 6, 6, hi=128), C(np.float32(0.02)), C(np.uint8(128)),
     C(s8(6, 2, 3, 3)), C(f32(6, lo=0.005, hi=0.02)), C(np.zeros(6, np.int8)), C(np.float32(0.05)),
     C(np.uint8(128)), opset=10, strides=[2, 2], group=2)
case("s8", "QLinearConv", s8(1, 3, 5, 5), C(np.float32(0.02)), C(np.int8(-10)),
     C(s8(2, 3, 1, 1)), C(np.float32(0.01)), C(np.int8(0)), C(np.float32(0.01)), C(np.int8(3)), opset=10)


# ---------------------------------------------------------------------------


def _model(c: Case) -> onnx.ModelProto:
    inputs, inits = [], []
    for name, value in c.inputs.items():
        if isinstance(value, Const):
            inits.append(numpy_helper.from_array(value.value, name))
        else:
            arr = np.asarray(value)
            elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
            inputs.append(helper.make_tensor_value_info(name, elem, list(arr.shape)))
    outputs = [onnx.ValueInfoProto(name=n) for n in c.outputs]
    graph = helper.make_graph(c.nodes, "g", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", c.opset)])
    model.ir_version = 8 if c.opset <= 18 else 10
    return model


def _feeds(c: Case) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in c.inputs.items() if not isinstance(v, Const)}


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    g64, w64 = got.astype(np.float64), want.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(g64), np.isnan(w64), err_msg=f"{what}: NaNs differ")
    finite = np.isfinite(w64)
    np.testing.assert_array_equal(g64[~finite & ~np.isnan(w64)], w64[~finite & ~np.isnan(w64)],
                                  err_msg=f"{what}: infinities differ")
    if not finite.any():
        return
    scale = max(float(np.max(np.abs(w64[finite]))), 1e-30)
    err = float(np.max(np.abs(g64[finite] - w64[finite]))) / scale
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol}"


def _lrn_spec(
    x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0
) -> np.ndarray:
    """ONNX LRN as its spec words it: channels max(0, c - floor((size-1)/2)) to
    min(C-1, c + ceil((size-1)/2))."""
    channels = x.shape[1]
    square_sum = np.zeros_like(x)
    for c in range(channels):
        lo = max(0, c - (size - 1) // 2)
        hi = min(channels - 1, c + -(-(size - 1) // 2))
        square_sum[:, c] = np.sum(x[:, lo : hi + 1] ** 2, axis=1)
    return (x / (bias + alpha / size * square_sum) ** beta).astype(x.dtype)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_matches_onnxruntime(c: Case) -> None:
    model = _model(c)
    feeds = _feeds(c)
    if c.oracle == "reference":
        want = ReferenceEvaluator(model).run(None, feeds)
    elif c.oracle == "lrn":
        attrs = {a.name: helper.get_attribute_value(a) for a in c.nodes[0].attribute}
        want = [_lrn_spec(feeds["in0"], **attrs)]
    else:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        want = session.run(None, feeds)
    module = compiler.import_onnx(model)
    got = compiler.interpret(module, feeds)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_close(np.asarray(g), np.asarray(w), c.rtol, f"output {i}")
    # The printed IR is the whole program: parsed back, it computes the same bits.
    reparsed = compiler.parse_mlir(compiler.print_mlir(module))
    for i, (g, r) in enumerate(zip(got, compiler.interpret(reparsed, feeds), strict=True)):
        assert g.dtype == r.dtype and g.shape == r.shape, f"output {i} after print/parse"
        np.testing.assert_array_equal(g, r, err_msg=f"output {i} after print/parse")


SEQUENCE_OPS = {
    "ConcatFromSequence", "If", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
    "SequenceInsert", "SequenceLength", "SequenceMap", "SplitToSequence",
}
"""Resolved at import (static lengths, constant conditions): their cases are
compiled here too (test_compiled_ops.py has no model of them)."""


@pytest.mark.parametrize(
    "c", [c for c in CASES if {n.op_type for n in c.nodes} & SEQUENCE_OPS], ids=lambda c: c.id
)
def test_sequence_cases_compile(c: Case) -> None:
    model = _model(c)
    feeds = _feeds(c)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    got = compiler.compile(model, opt_level=3, cache=False).run(None, feeds)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_close(np.asarray(g), np.asarray(w), c.rtol, f"output {i}")


# Ops whose numerics cases live in their own file.
NUMERICS_ELSEWHERE = {"Attention", "RotaryEmbedding"}  # test_attention.py
NUMERICS_ELSEWHERE |= {"NonMaxSuppression", "RoiAlign", "MaxRoiPool"}  # test_detection.py


def test_every_supported_op_has_a_case() -> None:
    covered = {n.op_type for c in CASES for n in c.nodes} | NUMERICS_ELSEWHERE
    missing = sorted(set(supported_ops()) - covered)
    assert not missing, f"no numerics case for {missing}"
