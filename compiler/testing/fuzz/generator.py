"""Seeded random ONNX graphs for differential fuzzing.

`generate(seed, index)` builds one graph of 2 to 12 compute nodes from the
supported op set: chains and DAGs (an op's inputs are the newest value or any
earlier one), shapes whose dims include 1 and primes, random attributes (conv
strides, pads, groups and dilations; pool windows; axes; perms; broadcasting
partners in either direction), float32, int32 and int64 values, initializers
and Constant nodes. The same (seed, index) always gives the same bytes and
feeds: every draw comes from `numpy.random.default_rng([seed, index, attempt])`.

Each op generator picks an operand from the pool of values built so far and
appends its nodes; onnx shape inference (strict) then types the new values,
and an op whose attributes turn out illegal is rolled back. A finished graph
must pass `onnx.checker` and run in onnxruntime with finite float outputs
(the oracle's outputs ride along as `expected`); otherwise the next attempt
is drawn. Values carry a rough magnitude bound so that Exp, Log, Sqrt, Div
and casts to integers see inputs they are defined on, and so that the
comparison is not dominated by overflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
MAX_ELEMENTS = 6000  # per value: keeps compiles and runs fast
MIN_NODES, MAX_NODES = 2, 12
DIMS = (1, 1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 16, 17, 24, 31)
MAX_ATTEMPTS = 60

_ONNX_OF = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
            np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL}
_NUMPY_OF = {v: k for k, v in _ONNX_OF.items()}
F32, I64, I32 = np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32)


@dataclass
class Value:
    """A tensor of the graph being built, with what the generators need to know about it."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    mag: float = 4.0  # a rough bound on |x|
    positive: bool = False  # every element > 0
    nonneg: bool = False  # every element >= 0

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def is_float(self) -> bool:
        return self.dtype == F32


@dataclass
class FuzzGraph:
    """One generated graph: the model, its feeds and onnxruntime's outputs for them."""

    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    seed: int
    index: int
    attempt: int
    expected: list[np.ndarray] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"fuzz_s{self.seed}_i{self.index}"

    @property
    def ops(self) -> list[str]:
        return [n.op_type for n in self.model.graph.node if n.op_type != "Constant"]


class Rollback(Exception):
    """An op generator's draw is not legal here; undo its nodes and try another op."""


@dataclass
class Out:
    """What an op generator says about one of its outputs (shape and dtype come from inference)."""

    name: str
    mag: float
    positive: bool = False
    nonneg: bool = False


class Builder:
    """The graph under construction: nodes, inputs, initializers, feeds and the value pool."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inputs: list[Value] = []
        self.initializers: list[onnx.TensorProto] = []
        self.feeds: dict[str, np.ndarray] = {}
        self.pool: list[Value] = []
        self._count = 0

    # -- drawing ----------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, items: Sequence[object]) -> object:
        return items[int(self.rng.integers(len(items)))]

    def dim(self) -> int:
        return int(self.choice(DIMS))

    def shape(self, rank: int | None = None, limit: int = MAX_ELEMENTS) -> tuple[int, ...]:
        if rank is None:
            rank = int(self.choice((1, 2, 2, 3, 3, 4, 4, 4, 4, 5)))
        dims = [self.dim() for _ in range(rank)]
        while int(np.prod(dims)) > limit:
            i = int(np.argmax(dims))
            dims[i] = max(1, dims[i] // 2)
        return tuple(dims)

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def data(self, shape: Sequence[int], dtype: np.dtype, scale: float = 1.0) -> np.ndarray:
        if dtype == F32:
            return (self.rng.standard_normal(tuple(shape)) * scale).astype(np.float32)
        return self.rng.integers(-8, 9, size=tuple(shape)).astype(dtype)

    def pick(self, test: Callable[[Value], bool] = lambda v: True) -> Value:
        """A pool value passing `test`: the newest one half the time (chains), else any (DAGs)."""
        fits = [v for v in self.pool if test(v)]
        if not fits:
            raise Rollback
        if self.chance(0.5):
            return fits[-1]
        return fits[int(self.rng.integers(len(fits)))]

    # -- building ---------------------------------------------------------------------

    def add_input(self, shape: Sequence[int], dtype: np.dtype, scale: float = 1.0) -> Value:
        name = self.fresh("in")
        self.feeds[name] = self.data(shape, dtype, scale)
        value = Value(name, tuple(shape), dtype, mag=4.0 * scale if dtype == F32 else 8.0)
        self.inputs.append(value)
        return value

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        """An initializer, or a Constant node a quarter of the time."""
        name = self.fresh(prefix)
        tensor = numpy_helper.from_array(np.asarray(array), name)
        if self.chance(0.25):
            self.nodes.append(helper.make_node("Constant", [], [name], value=tensor))
        else:
            self.initializers.append(tensor)
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.const(np.asarray(values, dtype=np.int64), "k")

    def operand(self, shape: Sequence[int], dtype: np.dtype, scale: float = 1.0) -> tuple[str, float]:
        """A new operand of this shape: a constant (weights) or a graph input; (name, magnitude)."""
        if self.chance(0.6):
            data = self.data(shape, dtype, scale)
            mag = float(np.max(np.abs(data))) if data.size else 0.0
            return self.const(data), mag
        value = self.add_input(shape, dtype, scale)
        return value.name, value.mag

    def node(self, op: str, inputs: Sequence[str], outputs: int = 1, **attrs: object) -> list[str]:
        names = [self.fresh("t") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), names, name=self.fresh(op.lower()), **attrs))
        return names

    def model(self, outputs: Sequence[Value]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            "fuzz",
            [helper.make_tensor_value_info(v.name, _ONNX_OF[v.dtype], v.shape) for v in self.inputs],
            [helper.make_tensor_value_info(v.name, _ONNX_OF[v.dtype], v.shape) for v in outputs],
            self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model

    def infer(self, outs: Sequence[Out]) -> list[Value]:
        """Types `outs` by strict onnx shape inference; Rollback when it fails or leaves dims unknown."""
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model([]), strict_mode=True, data_prop=True)
        except Exception:
            raise Rollback from None
        known = {vi.name: vi for vi in inferred.graph.value_info}
        values = []
        for out in outs:
            info = known.get(out.name)
            if info is None or not info.type.tensor_type.HasField("shape"):
                raise Rollback
            dims = info.type.tensor_type.shape.dim
            if any(not d.HasField("dim_value") for d in dims):
                raise Rollback
            shape = tuple(int(d.dim_value) for d in dims)
            dtype = _NUMPY_OF.get(info.type.tensor_type.elem_type)
            if dtype is None or any(d <= 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) > MAX_ELEMENTS:
                raise Rollback
            mag = out.mag if dtype != np.bool_ else 1.0
            values.append(Value(out.name, shape, dtype, mag, out.positive, out.nonneg))
        return values


# -- broadcasting ---------------------------------------------------------------------------


def _narrowed(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to `shape`: some dims 1, maybe fewer leading dims."""
    dims = [1 if b.chance(0.35) else d for d in shape]
    if dims and b.chance(0.3):
        dims = dims[int(b.rng.integers(1, len(dims) + 1)) :]
    return tuple(dims)


def _widened(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that `shape` broadcasts to: its 1s grown, maybe a leading dim more."""
    dims = [b.dim() if d == 1 and b.chance(0.6) else d for d in shape]
    if len(dims) < 5 and b.chance(0.3):
        dims = [b.dim(), *dims]
    if int(np.prod(dims)) > MAX_ELEMENTS:
        raise Rollback
    return tuple(dims)


def _partner_shape(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    return _widened(b, shape) if b.chance(0.25) else _narrowed(b, shape) if b.chance(0.6) else shape


def _partner(b: Builder, v: Value, positive: bool = False) -> tuple[str, float]:
    """A second operand that broadcasts with `v`: a pool value half the time if one fits."""

    def fits(u: Value) -> bool:
        if u.name == v.name and not b.chance(0.3):
            return False
        if u.dtype != v.dtype or (positive and not u.positive):
            return False
        try:
            out = np.broadcast_shapes(u.shape, v.shape)
        except ValueError:
            return False
        return int(np.prod(out)) <= MAX_ELEMENTS

    if not positive and b.chance(0.5):
        try:
            u = b.pick(fits)
            return u.name, u.mag
        except Rollback:
            pass
    shape = _partner_shape(b, v.shape)
    if positive:
        data = (b.rng.uniform(0.5, 2.0, size=shape)).astype(np.float32)
        return b.const(data), 2.0
    return b.operand(shape, v.dtype)


# -- op generators ----------------------------------------------------------------------------
# Each takes the builder, appends nodes, and returns its outputs (or raises Rollback).

_FLOAT_UNARY: dict[str, Callable[[Value], Out | None]] = {}


def _is_float(v: Value) -> bool:
    return v.is_float


def _unary(op: str, v_test: Callable[[Value], bool], out: Callable[[Value, str], Out],
           attrs: Callable[[Builder], dict[str, object]] | None = None) -> Callable[[Builder], list[Out]]:
    def gen(b: Builder) -> list[Out]:
        v = b.pick(v_test)
        (name,) = b.node(op, [v.name], **(attrs(b) if attrs else {}))
        return [out(v, name)]

    return gen


def _float_small(limit: float) -> Callable[[Value], bool]:
    return lambda v: v.is_float and v.mag <= limit


def _clip(b: Builder) -> list[Out]:
    v = b.pick(_is_float)
    lo = float(b.rng.uniform(-2, 0))
    hi = float(b.rng.uniform(0, 2))
    inputs = [v.name]
    kind = int(b.rng.integers(3))
    if kind == 0:
        inputs += [b.const(np.array(lo, np.float32)), b.const(np.array(hi, np.float32))]
    elif kind == 1:
        inputs += ["", b.const(np.array(hi, np.float32))]
    else:
        inputs += [b.const(np.array(lo, np.float32))]
    (name,) = b.node("Clip", inputs)
    return [Out(name, max(abs(lo), abs(hi), v.mag if kind == 2 else 0.0))]


def _binary(op: str) -> Callable[[Builder], list[Out]]:
    def gen(b: Builder) -> list[Out]:
        floats_only = op in ("Div", "PRelu")
        v = b.pick((lambda u: u.is_float) if floats_only else (lambda u: u.dtype != np.bool_ and u.mag < 1e4))
        if op == "PRelu":
            shape = _narrowed(b, v.shape)
            slope, _ = b.operand(shape, F32, 0.5)
            (name,) = b.node(op, [v.name, slope])
            return [Out(name, v.mag)]
        other, mag = _partner(b, v, positive=(op == "Div"))
        operands = [v.name, other] if op == "Div" or b.chance(0.5) else [other, v.name]
        (name,) = b.node(op, operands)
        bound = {"Add": v.mag + mag, "Sub": v.mag + mag, "Mul": v.mag * mag, "Div": v.mag * 2.0}
        return [Out(name, bound.get(op, max(v.mag, mag)))]

    return gen


def _sum(b: Builder) -> list[Out]:
    v = b.pick(_is_float)
    op = str(b.choice(("Sum", "Mean", "Max", "Min")))
    names = [v.name]
    mag = v.mag
    for _ in range(int(b.rng.integers(1, 3))):
        other, m = _partner(b, v)
        names.append(other)
        mag += m
    order = b.rng.permutation(len(names))
    (name,) = b.node(op, [names[i] for i in order])
    return [Out(name, mag)]


def _where(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.dtype != np.bool_)
    threshold, _ = _partner(b, v)
    (cond,) = b.node(str(b.choice(("Greater", "Less", "GreaterOrEqual"))), [v.name, threshold])
    if b.chance(0.15):
        return [Out(cond, 1.0)]  # a boolean result, for once
    x, mx = _partner(b, v)
    y, my = _partner(b, v)
    (name,) = b.node("Where", [cond, x, y])
    return [Out(name, max(mx, my))]


def _conv_geometry(b: Builder, size: int, transpose: bool) -> tuple[int, int, int, int, int] | None:
    """(kernel, stride, dilation, pad_begin, pad_end) for one spatial dim of this size."""
    for _ in range(8):
        k = int(b.choice((1, 1, 2, 3, 3, 5)))
        s = int(b.choice((1, 1, 2, 3)))
        d = int(b.choice((1, 1, 1, 2)))
        reach = d * (k - 1) + 1
        pb = int(b.rng.integers(0, reach)) if b.chance(0.6) else 0
        pe = int(b.rng.integers(0, reach)) if b.chance(0.6) else 0
        if transpose or size + pb + pe >= reach:
            return k, s, d, pb, pe
    return None


def _conv(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank in (3, 4) and u.mag < 1e3)
    channels = v.shape[1]
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    group = int(b.choice(divisors)) if b.chance(0.4) else 1
    if b.chance(0.15):
        group = channels  # depthwise
    per_group = int(b.choice((1, 1, 2, 3)))
    # Multiples of 16 meet the blocked layout (convert-layout{layout=NCHW16c} at O3).
    out_channels = group * per_group if group > 1 else int(b.choice((1, 2, 3, 4, 5, 8, 16, 16, 32, 48)))
    geometry = [_conv_geometry(b, size, False) for size in v.shape[2:]]
    if any(g is None for g in geometry):
        raise Rollback
    kernel = [g[0] for g in geometry]  # type: ignore[index]
    fan_in = channels // group * int(np.prod(kernel))
    w, _ = b.operand((out_channels, channels // group, *kernel), F32, 1.0 / math.sqrt(fan_in))
    inputs = [v.name, w]
    if b.chance(0.5):
        inputs.append(b.const(b.data((out_channels,), F32)))
    attrs: dict[str, object] = {
        "strides": [g[1] for g in geometry],  # type: ignore[index]
        "dilations": [g[2] for g in geometry],  # type: ignore[index]
        "group": group,
    }
    if b.chance(0.15) and all(g[2] == 1 for g in geometry):  # type: ignore[index]
        attrs["auto_pad"] = str(b.choice(("SAME_UPPER", "SAME_LOWER", "VALID")))
    else:
        attrs["pads"] = [g[3] for g in geometry] + [g[4] for g in geometry]  # type: ignore[index]
    if b.chance(0.5):
        attrs["kernel_shape"] = kernel
    (name,) = b.node("Conv", inputs, **attrs)
    return [Out(name, v.mag * 3.0 + 4.0)]


def _conv_transpose(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank in (3, 4) and u.mag < 1e3)
    channels = v.shape[1]
    group = int(b.choice([g for g in range(1, channels + 1) if channels % g == 0])) if b.chance(0.3) else 1
    per_group = int(b.choice((1, 2, 3)))
    kernel, strides, dilations, pads, out_pads = [], [], [], [], []
    for _ in v.shape[2:]:
        k = int(b.choice((1, 2, 3)))
        s = int(b.choice((1, 1, 2, 3)))
        d = int(b.choice((1, 1, 2)))
        kernel.append(k)
        strides.append(s)
        dilations.append(d)
        pads.append(int(b.rng.integers(0, k)))
        out_pads.append(int(b.rng.integers(0, s)) if b.chance(0.3) else 0)
    pads = pads + [int(b.rng.integers(0, k)) for k in kernel]
    w, _ = b.operand((channels, per_group, *kernel), F32, 1.0 / math.sqrt(channels * int(np.prod(kernel))))
    inputs = [v.name, w]
    if b.chance(0.5):
        inputs.append(b.const(b.data((per_group * group,), F32)))
    attrs: dict[str, object] = {"strides": strides, "dilations": dilations, "group": group, "pads": pads}
    if any(out_pads):
        attrs["output_padding"] = out_pads
    (name,) = b.node("ConvTranspose", inputs, **attrs)
    return [Out(name, v.mag * 3.0 + 4.0)]


def _pool(b: Builder) -> list[Out]:
    op = str(b.choice(("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")))
    v = b.pick(lambda u: u.is_float and u.rank in (3, 4))
    if op.startswith("Global"):
        (name,) = b.node(op, [v.name])
        return [Out(name, v.mag)]
    kernel, strides, begins, ends, dilations = [], [], [], [], []
    for size in v.shape[2:]:
        k = int(b.choice((1, 2, 2, 3, 3, 5)))
        d = int(b.choice((1, 1, 2))) if op == "MaxPool" else 1
        reach = d * (k - 1) + 1
        pb = int(b.rng.integers(0, k)) if b.chance(0.5) else 0
        pe = int(b.rng.integers(0, k)) if b.chance(0.5) else 0
        if size + pb + pe < reach:
            raise Rollback
        kernel.append(k)
        strides.append(int(b.choice((1, 1, 2, 3))))
        begins.append(pb)
        ends.append(pe)
        dilations.append(d)
    attrs: dict[str, object] = {"kernel_shape": kernel, "strides": strides, "pads": begins + ends}
    if b.chance(0.3):
        attrs["ceil_mode"] = 1
    if op == "MaxPool" and any(d > 1 for d in dilations):
        attrs["dilations"] = dilations
    if op == "AveragePool" and b.chance(0.5):
        attrs["count_include_pad"] = 1
    (name,) = b.node(op, [v.name], **attrs)
    return [Out(name, v.mag)]


def _batch_norm(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank >= 2)
    c = v.shape[1]
    scale = b.const(b.data((c,), F32))
    bias = b.const(b.data((c,), F32))
    mean = b.const(b.data((c,), F32))
    var = b.const(b.rng.uniform(0.5, 2.0, size=(c,)).astype(np.float32))
    (name,) = b.node("BatchNormalization", [v.name, scale, bias, mean, var],
                     epsilon=float(b.choice((1e-5, 1e-3))))
    return [Out(name, (v.mag + 4.0) * 4.0)]


def _layer_norm(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank >= 1)
    axis = int(b.rng.integers(-v.rank, v.rank))
    norm_shape = v.shape[axis:]
    inputs = [v.name, b.const(b.data(_narrowed(b, norm_shape) if b.chance(0.3) else norm_shape, F32))]
    if b.chance(0.5):
        inputs.append(b.const(b.data(norm_shape, F32)))
    (name,) = b.node("LayerNormalization", inputs, axis=axis, epsilon=1e-5)
    return [Out(name, 64.0)]


def _instance_norm(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank >= 3)
    c = v.shape[1]
    (name,) = b.node("InstanceNormalization", [v.name, b.const(b.data((c,), F32)), b.const(b.data((c,), F32))],
                     epsilon=1e-5)
    return [Out(name, 64.0)]


def _softmax(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank >= 1 and u.mag < 1e4)
    op = str(b.choice(("Softmax", "LogSoftmax")))
    (name,) = b.node(op, [v.name], axis=int(b.rng.integers(-v.rank, v.rank)))
    if op == "Softmax":
        return [Out(name, 1.0, nonneg=True)]
    return [Out(name, 2 * v.mag + 10.0)]


def _matmul(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.dtype != np.bool_ and u.rank >= 1 and u.mag < 1e3 and u.dtype != I32)
    k = v.shape[-1]
    n = b.dim()
    scale = 1.0 / math.sqrt(k) if v.is_float else 1.0
    if v.rank == 1 or b.chance(0.6):
        shape: tuple[int, ...] = (k, n) if not b.chance(0.15) else (k,)
    else:
        batch = _narrowed(b, v.shape[:-2]) if b.chance(0.5) else v.shape[:-2]
        shape = (*batch, k, n)
    if int(np.prod(shape)) > MAX_ELEMENTS:
        raise Rollback
    other, _ = b.operand(shape, v.dtype, scale)
    operands = [v.name, other]
    if v.rank >= 2 and len(shape) >= 2 and b.chance(0.2):
        # v on the right: needs a left operand (m, v.shape[-2]).
        left, _ = b.operand((b.dim(), v.shape[-2]), v.dtype, 1.0 / math.sqrt(v.shape[-2]))
        operands = [left, v.name]
    (name,) = b.node("MatMul", operands)
    return [Out(name, v.mag * (4.0 if v.is_float else 8.0 * k))]


def _gemm(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank == 2 and u.mag < 1e3)
    trans_a = int(b.chance(0.3))
    m, k = (v.shape[1], v.shape[0]) if trans_a else v.shape
    n = b.dim()
    trans_b = int(b.chance(0.5))
    w, _ = b.operand((n, k) if trans_b else (k, n), F32, 1.0 / math.sqrt(k))
    inputs = [v.name, w]
    if b.chance(0.6):
        c_shape = b.choice(((n,), (1, n), (m, 1), (m, n), ()))
        inputs.append(b.const(b.data(c_shape, F32)))  # type: ignore[arg-type]
    attrs = {"transA": trans_a, "transB": trans_b}
    if b.chance(0.3):
        attrs["alpha"] = float(b.choice((0.5, 2.0, -1.0)))  # type: ignore[assignment]
    if b.chance(0.3):
        attrs["beta"] = float(b.choice((0.0, 0.5, 2.0)))  # type: ignore[assignment]
    (name,) = b.node("Gemm", inputs, **attrs)
    return [Out(name, v.mag * 8.0 + 8.0)]


def _axes(b: Builder, rank: int, min_count: int = 1) -> list[int]:
    count = int(b.rng.integers(min_count, rank + 1))
    axes = sorted(int(a) for a in b.rng.choice(rank, size=count, replace=False))
    return [a - rank if b.chance(0.3) else a for a in axes]


def _reduce(b: Builder) -> list[Out]:
    op = str(b.choice(("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2",
                       "ReduceSumSquare", "ReduceL1", "ReduceLogSumExp")))
    ints_ok = op in ("ReduceSum", "ReduceMax", "ReduceMin")
    v = b.pick(lambda u: (u.is_float or (ints_ok and u.dtype != np.bool_)) and u.rank >= 1 and u.mag < 1e3)
    inputs = [v.name]
    if b.chance(0.85):
        inputs.append(b.ints(_axes(b, v.rank)))
    (name,) = b.node(op, inputs, keepdims=int(b.chance(0.5)))
    mag = v.mag * v.size if op in ("ReduceSum", "ReduceL1", "ReduceL2") else v.mag
    if op == "ReduceSumSquare":
        mag = v.mag * v.mag * v.size
    if op == "ReduceLogSumExp":
        mag = v.mag + math.log(v.size) + 1.0
    return [Out(name, mag, nonneg=op in ("ReduceL2", "ReduceSumSquare", "ReduceL1"))]


def _arg_reduce(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.dtype != np.bool_ and u.rank >= 1)
    (name,) = b.node(str(b.choice(("ArgMax", "ArgMin"))), [v.name],
                     axis=int(b.rng.integers(-v.rank, v.rank)), keepdims=int(b.chance(0.5)),
                     select_last_index=int(b.chance(0.3)))
    return [Out(name, float(max(v.shape)), nonneg=True)]


def _cumsum(b: Builder) -> list[Out]:
    v = b.pick(lambda u: (u.is_float or u.dtype == I64) and u.rank >= 1 and u.mag < 1e3)
    axis = b.const(np.array(int(b.rng.integers(-v.rank, v.rank)), np.int64), "k")
    (name,) = b.node("CumSum", [v.name, axis], exclusive=int(b.chance(0.3)), reverse=int(b.chance(0.3)))
    return [Out(name, v.mag * max(v.shape))]


def _transpose(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 2)
    attrs = {} if b.chance(0.15) else {"perm": [int(p) for p in b.rng.permutation(v.rank)]}
    (name,) = b.node("Transpose", [v.name], **attrs)
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _factor(b: Builder, n: int) -> list[int]:
    """A random factorization of n into 1 to 5 dims (with 1s sometimes)."""
    dims: list[int] = []
    rest = n
    for _ in range(int(b.rng.integers(0, 4))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = int(b.choice(divisors))
        dims.append(d)
        rest //= d
    dims.append(rest)
    order = b.rng.permutation(len(dims))
    return [dims[i] for i in order]


def _reshape(b: Builder) -> list[Out]:
    v = b.pick()
    dims: list[int] = _factor(b, v.size)
    if b.chance(0.3):
        dims[int(b.rng.integers(len(dims)))] = -1
    (name,) = b.node("Reshape", [v.name, b.ints(dims)])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _flatten(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    (name,) = b.node("Flatten", [v.name], axis=int(b.rng.integers(-v.rank, v.rank + 1)))
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _squeeze(b: Builder) -> list[Out]:
    if b.chance(0.5):
        v = b.pick(lambda u: 1 in u.shape)
        ones = [i for i, d in enumerate(v.shape) if d == 1]
        axes = sorted(int(a) for a in b.rng.choice(ones, size=int(b.rng.integers(1, len(ones) + 1)), replace=False))
        inputs = [v.name, b.ints(axes)] if b.chance(0.8) or len(ones) != len(v.shape) else [v.name]
        (name,) = b.node("Squeeze", inputs)
    else:
        v = b.pick(lambda u: u.rank <= 4)
        count = int(b.rng.integers(1, 3))
        out_rank = v.rank + count
        axes = sorted(int(a) for a in b.rng.choice(out_rank, size=count, replace=False))
        axes = [a - out_rank if b.chance(0.3) else a for a in axes]
        (name,) = b.node("Unsqueeze", [v.name, b.ints(axes)])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _concat(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    axis = int(b.rng.integers(v.rank))
    parts = [v.name]
    mag = v.mag
    for _ in range(int(b.rng.integers(1, 4))):
        def same_but_axis(u: Value) -> bool:
            return u.dtype == v.dtype and u.rank == v.rank and all(
                a == c for i, (a, c) in enumerate(zip(u.shape, v.shape, strict=True)) if i != axis)
        if b.chance(0.5):
            try:
                u = b.pick(same_but_axis)
                parts.append(u.name)
                mag = max(mag, u.mag)
                continue
            except Rollback:
                pass
        shape = list(v.shape)
        shape[axis] = b.dim()
        name, m = b.operand(shape, v.dtype)
        parts.append(name)
        mag = max(mag, m)
    order = b.rng.permutation(len(parts))
    (name,) = b.node("Concat", [parts[i] for i in order], axis=axis - v.rank if b.chance(0.3) else axis)
    return [Out(name, mag)]


def _slice(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    axes = _axes(b, v.rank)
    starts, ends, steps = [], [], []
    for a in axes:
        n = v.shape[a]
        step = int(b.choice((1, 1, 1, 2, 3, -1, -2)))
        lo = int(b.rng.integers(0, n))
        hi = int(b.rng.integers(lo + 1, n + 1))
        if step > 0:
            start, end = lo, hi
            if b.chance(0.2):
                end = int(np.iinfo(np.int64).max)
        else:
            start, end = hi - 1, lo - 1
            if end < 0:
                end = -n - 1 if b.chance(0.5) else int(np.iinfo(np.int64).min)
        if b.chance(0.3) and start >= 0:
            start -= n
        starts.append(start)
        ends.append(end)
        steps.append(step)
    inputs = [v.name, b.ints(starts), b.ints(ends)]
    if b.chance(0.8):
        inputs.append(b.ints(axes))
        if any(s != 1 for s in steps) or b.chance(0.5):
            inputs.append(b.ints(steps))
    elif any(s != 1 for s in steps) or axes != list(range(len(axes))):
        raise Rollback
    (name,) = b.node("Slice", inputs)
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _split(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1 and max(u.shape) >= 2)
    axis = int(b.choice([i for i, d in enumerate(v.shape) if d >= 2]))
    n = v.shape[axis]
    if b.chance(0.5):
        count = int(b.rng.integers(2, min(n, 4) + 1))
        outs = b.node("Split", [v.name], count, axis=axis, num_outputs=count)
    else:
        cuts = sorted(int(c) for c in b.rng.choice(np.arange(1, n), size=min(n - 1, int(b.rng.integers(1, 3))),
                                                    replace=False))
        sizes = [e - s for s, e in zip([0, *cuts], [*cuts, n], strict=True)]
        outs = b.node("Split", [v.name, b.ints(sizes)], len(sizes), axis=axis)
    return [Out(name, v.mag, v.positive, v.nonneg) for name in outs]


def _pad(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1 and u.dtype != np.bool_)
    mode = str(b.choice(("constant", "constant", "reflect", "edge")))
    pads = []
    for _ in range(2):
        for d in v.shape:
            if mode == "reflect":
                pads.append(int(b.rng.integers(0, d)) if b.chance(0.5) else 0)
            elif mode == "constant" and b.chance(0.15) and d > 1:
                pads.append(-int(b.rng.integers(1, d // 2 + 1)) if d >= 2 else 0)
            else:
                pads.append(int(b.rng.integers(0, 3)) if b.chance(0.5) else 0)
    if mode == "constant" and any(p < 0 for p in pads):
        for i, d in enumerate(v.shape):
            if d + pads[i] + pads[i + v.rank] < 1:
                raise Rollback
    inputs = [v.name, b.ints(pads)]
    if mode == "constant" and b.chance(0.5):
        inputs.append(b.const(np.array(float(b.rng.uniform(-2, 2)), np.float32) if v.is_float
                              else np.array(3, v.dtype)))
    (name,) = b.node("Pad", inputs, mode=mode)
    return [Out(name, v.mag + 2.0, nonneg=v.nonneg and mode != "constant")]


def _expand(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank <= 4)
    target = _widened(b, v.shape)
    if b.chance(0.3):
        target = tuple(1 if d == s and b.chance(0.3) else d
                       for d, s in zip(target, (1,) * (len(target) - v.rank) + v.shape, strict=True))
    (name,) = b.node("Expand", [v.name, b.ints(target)])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _tile(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    repeats = [int(b.choice((1, 1, 2, 3))) for _ in v.shape]
    (name,) = b.node("Tile", [v.name, b.ints(repeats)])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _gather(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    axis = int(b.rng.integers(v.rank))
    n = v.shape[axis]
    shape = b.shape(int(b.choice((0, 1, 1, 2))), limit=64)
    indices = b.rng.integers(-n, n, size=shape).astype(np.int64)
    (name,) = b.node("Gather", [v.name, b.const(indices, "k")], axis=axis - v.rank if b.chance(0.3) else axis)
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _cast(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.dtype != np.bool_ and u.mag < 1e6)
    to = F32 if not v.is_float else (I32 if b.chance(0.5) else I64)
    (name,) = b.node("Cast", [v.name], to=_ONNX_OF[to])
    return [Out(name, v.mag + 1.0, nonneg=v.nonneg)]


def _depth_space(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank == 4)
    block = int(b.choice((2, 3)))
    if b.chance(0.5):
        if v.shape[1] % (block * block):
            raise Rollback
        (name,) = b.node("DepthToSpace", [v.name], blocksize=block, mode=str(b.choice(("DCR", "CRD"))))
    else:
        if v.shape[2] % block or v.shape[3] % block:
            raise Rollback
        (name,) = b.node("SpaceToDepth", [v.name], blocksize=block)
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _identity(b: Builder) -> list[Out]:
    v = b.pick()
    (name,) = b.node("Identity", [v.name])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _shape_reshape(b: Builder) -> list[Out]:
    """The exporters' dynamic-shape idiom: Shape -> Slice/Gather -> Concat -> Reshape."""
    v = b.pick(lambda u: u.rank >= 2)
    keep = int(b.rng.integers(1, v.rank))
    (shape,) = b.node("Shape", [v.name])
    if b.chance(0.5):
        (head,) = b.node("Slice", [shape, b.ints([0]), b.ints([keep])])
    else:
        (head,) = b.node("Gather", [shape, b.ints(list(range(keep)))], axis=0)
    (target,) = b.node("Concat", [head, b.ints([-1])], axis=0)
    (name,) = b.node("Reshape", [v.name, target])
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _shape_value(b: Builder) -> list[Out]:
    """Shape or Size as a value: computed at compile time, a constant result or operand."""
    v = b.pick()
    if b.chance(0.3):
        (name,) = b.node("Size", [v.name])
        return [Out(name, float(v.size), positive=True)]
    attrs = {}
    if v.rank and b.chance(0.4):
        attrs["start"] = int(b.rng.integers(-v.rank, v.rank))
    if b.chance(0.2):
        (shape,) = b.node("Shape", [v.name], **attrs)
        (name,) = b.node("ConstantOfShape", [shape], value=numpy_helper.from_array(np.array([1.5], np.float32)))
        return [Out(name, 1.5, positive=True)]
    (name,) = b.node("Shape", [v.name], **attrs)
    return [Out(name, float(max(v.shape, default=1)), positive=True)]

def _pow(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.mag < 100)
    if v.nonneg and b.chance(0.5):
        exponent = float(b.choice((0.5, 1.5)))
    else:
        exponent = float(b.choice((2.0, 3.0, -1.0 if v.positive else 2.0)))
    (name,) = b.node("Pow", [v.name, b.const(np.array(exponent, np.float32))])
    return [Out(name, max(v.mag, 1.0) ** abs(exponent) + 1.0, nonneg=exponent == 2.0)]


def _topk(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank >= 1)
    axis = int(b.rng.integers(-v.rank, v.rank))
    k = int(b.rng.integers(1, v.shape[axis] + 1))
    values, indices = b.node("TopK", [v.name, b.ints([k])], 2, axis=axis, largest=int(b.chance(0.7)),
                             sorted=1)
    return [Out(values, v.mag), Out(indices, float(v.shape[axis]), nonneg=True)]


def _lrn(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank == 4)
    (name,) = b.node("LRN", [v.name], size=int(b.choice((1, 2, 3, 5))), alpha=1e-3, beta=0.75, bias=1.0)
    return [Out(name, v.mag)]


def _trilu(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 2)
    inputs = [v.name]
    if b.chance(0.6):
        inputs.append(b.const(np.array(int(b.rng.integers(-3, 4)), np.int64), "k"))
    (name,) = b.node("Trilu", inputs, upper=int(b.chance(0.5)))
    return [Out(name, v.mag, nonneg=v.nonneg)]


def _resize(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.rank == 4)
    mode = str(b.choice(("nearest", "linear")))
    ctm = str(b.choice(("half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel")))
    scales = [1.0, 1.0] + [float(b.choice((0.5, 1.0, 1.5, 2.0, 3.0))) for _ in range(2)]
    if ctm == "align_corners" and any(not (n * sc).is_integer() for n, sc in zip(v.shape, scales, strict=True)):
        # x * (n - 1) / (length_resized - 1): onnx's reference (and its node tests, and the
        # compiler) take length_resized = n * scale, onnxruntime the integer output size.
        # They disagree whenever n * scale is fractional (found by the fuzzer, seed 5).
        raise Rollback
    attrs: dict[str, object] = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest":
        attrs["nearest_mode"] = str(b.choice(("round_prefer_floor", "floor", "ceil")))
    (name,) = b.node("Resize", [v.name, "", b.const(np.array(scales, np.float32))], **attrs)
    return [Out(name, v.mag)]


def _gather_elements(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.rank >= 1)
    axis = int(b.rng.integers(v.rank))
    shape = [int(b.rng.integers(1, d + 1)) for d in v.shape]
    shape[axis] = int(b.choice((1, 2, 3, v.shape[axis])))
    indices = b.rng.integers(-v.shape[axis], v.shape[axis], size=shape).astype(np.int64)
    (name,) = b.node("GatherElements", [v.name, b.const(indices, "k")], axis=axis)
    return [Out(name, v.mag, v.positive, v.nonneg)]


def _round(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.is_float and u.mag < 1e6)
    (name,) = b.node(str(b.choice(("Floor", "Ceil", "Round"))), [v.name])
    return [Out(name, v.mag + 1.0)]


def _mod(b: Builder) -> list[Out]:
    v = b.pick(lambda u: u.dtype in (I32, I64) and u.mag < 1e6)
    divisor = b.rng.integers(1, 6, size=_narrowed(b, v.shape)) * b.choice((1, -1))
    (name,) = b.node("Mod", [v.name, b.const(np.asarray(divisor, dtype=v.dtype))], fmod=int(b.chance(0.3)))
    return [Out(name, 6.0)]


def _positive_out(bound: Callable[[Value], float]) -> Callable[[Value, str], Out]:
    return lambda v, n: Out(n, bound(v), positive=True, nonneg=True)


def _same_mag(v: Value, n: str) -> Out:
    return Out(n, v.mag)


def _int_or_float(v: Value) -> bool:
    return v.dtype != np.bool_


GENERATORS: dict[str, Callable[[Builder], list[Out]]] = {
    "Relu": _unary("Relu", _is_float, lambda v, n: Out(n, v.mag, nonneg=True)),
    "Sigmoid": _unary("Sigmoid", _is_float, _positive_out(lambda v: 1.0)),
    "Tanh": _unary("Tanh", _is_float, lambda v, n: Out(n, 1.0)),
    "Exp": _unary("Exp", _float_small(8.0), _positive_out(lambda v: math.exp(v.mag))),
    "Log": _unary("Log", lambda v: v.is_float and v.positive, lambda v, n: Out(n, 40.0)),
    "Sqrt": _unary("Sqrt", lambda v: v.is_float and v.nonneg, lambda v, n: Out(n, math.sqrt(v.mag), nonneg=True)),
    "Abs": _unary("Abs", _int_or_float, lambda v, n: Out(n, v.mag, nonneg=True)),
    "Neg": _unary("Neg", _int_or_float, _same_mag),
    "Erf": _unary("Erf", _is_float, lambda v, n: Out(n, 1.0)),
    "Sin": _unary("Sin", _float_small(1e3), lambda v, n: Out(n, 1.0)),
    "Softplus": _unary("Softplus", _float_small(50.0), lambda v, n: Out(n, v.mag + 1.0, nonneg=True)),
    "LeakyRelu": _unary("LeakyRelu", _is_float, _same_mag, lambda b: {"alpha": float(b.choice((0.01, 0.2, 1.5)))}),
    "Elu": _unary("Elu", _is_float, _same_mag, lambda b: {"alpha": float(b.choice((1.0, 0.5)))}),
    "HardSigmoid": _unary("HardSigmoid", _is_float, lambda v, n: Out(n, 1.0, nonneg=True),
                          lambda b: {"alpha": float(b.choice((0.2, 0.5))), "beta": float(b.choice((0.5, 0.3)))}),
    "HardSwish": _unary("HardSwish", _is_float, _same_mag),
    "Clip": _clip,
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "Max": _binary("Max"),
    "Min": _binary("Min"),
    "PRelu": _binary("PRelu"),
    "Sum": _sum,
    "Where": _where,
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "MaxPool": _pool,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "InstanceNormalization": _instance_norm,
    "Softmax": _softmax,
    "MatMul": _matmul,
    "Gemm": _gemm,
    "ReduceSum": _reduce,
    "ArgMax": _arg_reduce,
    "CumSum": _cumsum,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Split": _split,
    "Pad": _pad,
    "Expand": _expand,
    "Tile": _tile,
    "Gather": _gather,
    "Cast": _cast,
    "DepthToSpace": _depth_space,
    "Identity": _identity,
    "Shape": _shape_reshape,
    "Size": _shape_value,
    "Pow": _pow,
    "Reciprocal": _unary("Reciprocal", lambda v: v.is_float and v.positive and v.mag < 1e3,
                         _positive_out(lambda v: 1e3)),
    "TopK": _topk,
    "LRN": _lrn,
    "Trilu": _trilu,
    "Resize": _resize,
    "GatherElements": _gather_elements,
    "Floor": _round,
    "Mod": _mod,
}
# Families: one generator emits several op types (`--ops` takes either name).
FAMILIES = {
    "MaxPool": ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"),
    "Softmax": ("Softmax", "LogSoftmax"),
    "ReduceSum": ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare",
                  "ReduceL1", "ReduceLogSumExp"),
    "ArgMax": ("ArgMax", "ArgMin"),
    "Squeeze": ("Squeeze", "Unsqueeze"),
    "DepthToSpace": ("DepthToSpace", "SpaceToDepth"),
    "Sum": ("Sum", "Mean", "Max", "Min"),
    "Where": ("Where", "Greater", "Less", "GreaterOrEqual"),
    "Floor": ("Floor", "Ceil", "Round"),
    "Size": ("Size", "ConstantOfShape"),
}
# Draw weights: the ops that stress layouts, fusion and schedules come more often.
WEIGHTS = {"Conv": 4.0, "Add": 3.0, "Mul": 2.0, "Relu": 2.0, "MatMul": 2.0, "Transpose": 2.0,
           "Reshape": 2.0, "MaxPool": 2.0, "Concat": 1.5, "Slice": 1.5, "ReduceSum": 1.5}


def generator_names(ops: Sequence[str] | None) -> list[str]:
    """The generators that `--ops` selects (an op of a family selects its family's generator)."""
    if not ops:
        return list(GENERATORS)
    chosen = []
    for name in GENERATORS:
        members = FAMILIES.get(name, (name,))
        if any(op in members for op in ops):
            chosen.append(name)
    unknown = [op for op in ops if not any(op in FAMILIES.get(n, (n,)) for n in GENERATORS)]
    if unknown:
        known = sorted({m for n in GENERATORS for m in FAMILIES.get(n, (n,))})
        raise ValueError(f"the fuzzer cannot generate {', '.join(unknown)} (it knows {', '.join(known)})")
    return chosen


def _first_input(b: Builder, wanted: Sequence[str]) -> None:
    """The graph's first input: float NCHW-like most often, integers sometimes."""
    spatial = any(w in ("Conv", "ConvTranspose", "MaxPool", "DepthToSpace", "InstanceNormalization")
                  for w in wanted)
    if spatial and b.chance(0.7):
        channels = int(b.choice((1, 3, 4, 8, 16, 16, 32))) if b.chance(0.5) else b.dim()
        shape = (int(b.choice((1, 1, 2, 3))), channels, b.dim(), b.dim())
        if b.chance(0.15):
            shape = shape[:3]
        while int(np.prod(shape)) > MAX_ELEMENTS // 2:
            shape = (shape[0], shape[1], *(max(1, d // 2) for d in shape[2:]))
    else:
        shape = b.shape(limit=MAX_ELEMENTS // 2)
    dtype = F32 if b.chance(0.85) else (I64 if b.chance(0.6) else I32)
    value = b.add_input(shape, dtype)
    b.pool.append(value)


def build(rng: np.random.Generator, ops: Sequence[str] | None = None) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """One random graph (checked by onnx.checker, not yet by onnxruntime) and its feeds."""
    names = generator_names(ops)
    weights = np.array([WEIGHTS.get(n, 1.0) for n in names])
    weights /= weights.sum()
    b = Builder(rng)
    _first_input(b, names)
    target = int(rng.integers(MIN_NODES, MAX_NODES + 1))
    computed = 0
    tries = 0
    while computed < target and tries < 20 * MAX_NODES:
        tries += 1
        gen = GENERATORS[names[int(rng.choice(len(names), p=weights))]]
        saved = (len(b.nodes), len(b.inputs), len(b.initializers), dict(b.feeds), len(b.pool))
        try:
            outs = gen(b)
            if sum(1 for n in b.nodes if n.op_type != "Constant") > MAX_NODES:
                raise Rollback  # a multi-node idiom (Shape -> Reshape) would overshoot
            b.pool.extend(b.infer(outs))
        except Rollback:
            b.nodes[saved[0]:] = []
            b.inputs[saved[1]:] = []
            b.initializers[saved[2]:] = []
            b.feeds = saved[3]
            b.pool[saved[4]:] = []
            continue
        computed = sum(1 for n in b.nodes if n.op_type != "Constant")
    if computed < MIN_NODES:
        raise Rollback
    return _finish(b)


def _finish(b: Builder) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Outputs: every value no node reads (and sometimes an intermediate); unused inputs dropped."""
    consumed = {i for n in b.nodes for i in n.input}
    produced = {o for n in b.nodes for o in n.output}
    results = [v for v in b.pool if v.name in produced and v.name not in consumed]
    inner = [v for v in b.pool if v.name in produced and v.name in consumed]
    if inner and b.chance(0.3):
        results.append(inner[int(b.rng.integers(len(inner)))])
    if not results:
        raise Rollback
    b.inputs = [v for v in b.inputs if v.name in consumed]
    b.feeds = {k: a for k, a in b.feeds.items() if k in consumed}
    used_inits = [t for t in b.initializers if t.name in consumed]
    b.initializers = used_inits
    model = b.model(results)
    onnx.checker.check_model(model, full_check=True)
    return model, dict(b.feeds)


def ort_outputs(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray] | None:
    """onnxruntime's outputs (graph optimizations off: the plainest reference), None if it rejects the graph."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # rejected graphs are expected: no log lines
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return [np.asarray(o) for o in session.run(None, feeds)]
    except Exception:
        return None


# Normalizations divide by sqrt(var + epsilon): on a (near) constant group the
# float32 rounding noise of x - mean (onnxruntime accumulates in double) is
# amplified up to 1/sqrt(epsilon) times, and the exact answer is 0, so no
# relative tolerance holds. Such groups are a property of the data, not a bug.
_NORMALIZED_AXES: dict[str, Callable[[onnx.NodeProto, int], tuple[int, ...]]] = {
    "LayerNormalization": lambda node, r: tuple(range(_axis_attr(node, -1) % r, r)),
    "InstanceNormalization": lambda node, r: tuple(range(2, r)),
}


def _axis_attr(node: onnx.NodeProto, default: int) -> int:
    return next((int(a.i) for a in node.attribute if a.name == "axis"), default)


def _degenerate(x: np.ndarray, axes: tuple[int, ...]) -> bool:
    """Whether some normalized group of x has a spread within float32 noise of its values."""
    x = x.astype(np.float64)
    spread = np.max(x, axis=axes) - np.min(x, axis=axes)
    scale = np.max(np.abs(x), axis=axes)
    return bool(np.any(spread <= 1e-3 * scale + 1e-6))


def reference_outputs(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray] | None:
    """onnxruntime's outputs, or None when the graph is not a fair test.

    Every value is probed: onnxruntime must compute the shape that onnx shape
    inference declared (they disagree, e.g., on a ceil_mode pool whose last
    window starts in the end padding, and onnxruntime then runs later windows
    over memory that is not there), outputs must be finite, and no
    normalization may see a degenerate group.
    """
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:
        return None
    declared = {vi.name: vi for vi in [*inferred.graph.value_info, *inferred.graph.output]}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in model.graph.output}
    extra = [o for n in model.graph.node for o in n.output if o and o not in known and o in declared]
    probe.graph.output.extend(declared[name] for name in extra)
    results = ort_outputs(probe, feeds)
    if results is None:
        return None
    expected = results[: len(model.graph.output)]
    if any(o.dtype.kind == "f" and not np.all(np.isfinite(o)) for o in expected):
        return None
    values = dict(zip([o.name for o in probe.graph.output], results, strict=True))
    for name, value in values.items():
        dims = declared[name].type.tensor_type.shape.dim if name in declared else None
        if dims is not None and tuple(value.shape) != tuple(int(d.dim_value) for d in dims):
            return None
    for node in model.graph.node:
        axes_of = _NORMALIZED_AXES.get(node.op_type)
        x = values.get(node.input[0]) if axes_of else None
        if axes_of is not None and x is not None and x.ndim and _degenerate(x, axes_of(node, x.ndim)):
            return None
    return expected


def generate(seed: int, index: int, ops: Sequence[str] | None = None, validate: bool = True) -> FuzzGraph:
    """Graph `index` of campaign `seed`: the first attempt that builds, checks and runs in onnxruntime."""
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, index, attempt])
        with np.errstate(all="ignore"):
            try:
                model, feeds = build(rng, ops)
            except (Rollback, onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
                continue
            model.graph.name = f"fuzz_s{seed}_i{index}"
            if not validate:
                return FuzzGraph(model, feeds, seed, index, attempt)
            expected = reference_outputs(model, feeds)
        if expected is None:
            continue
        return FuzzGraph(model, feeds, seed, index, attempt, expected)
    raise RuntimeError(f"no valid graph in {MAX_ATTEMPTS} attempts (seed {seed}, index {index}, ops {ops})")
