"""Native code, op by op: small ONNX models compiled with `compiler.compile`
at opt levels 0 and 3, run at 1 and 2 threads, against onnxruntime.

Each `Spec` is one model holding several independent ops (or short chains)
side by side, one named output each, so a compile (~1-3 s) checks many ops
and a failure still names the op: every failing output is listed by name.
Float outputs must agree within max rel error 1e-5 (transcendentals 1e-4,
see `_TRANSCENDENTAL`), integer and bool outputs exactly, and dtypes and
shapes must match.

Where onnxruntime's CPU provider lacks a kernel (Relu/Sum on int64, Where on
bool, even-size LRN, Conv on float64) the spec says `oracle="reference"`:
`compiler.testing.oracle.run_reference` (ONNX's ReferenceEvaluator with the
project's fixes) is the oracle there.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_frontend_numerics import SEQUENCE_OPS

import compiler
from compiler.frontend.onnx import supported_ops
from compiler.testing import oracle

pytest.importorskip("onnxruntime")

INT64_MAX = int(np.iinfo(np.int64).max)
INT64_MIN = int(np.iinfo(np.int64).min)
OPT_LEVELS = (0, 3)
THREADS = (1, 2)

# Ops whose float results come from polynomial/libm approximations.
_TRANSCENDENTAL = {
    "Exp", "Log", "Sigmoid", "Tanh", "Erf", "Sin", "Cos", "Softplus", "Elu", "Gelu", "Pow",
    "Softmax", "LogSoftmax", "ReduceLogSumExp", "ReduceLogSum", "LRN", "HardSwish", "Mean",
    "ReduceL2", "LayerNormalization", "InstanceNormalization", "BatchNormalization", "Sqrt",
    "Reciprocal", "Softsign",
}


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A fresh object/model cache per session (and xdist worker): reruns within the
    run hit it, nothing leaks between runs or into the other test modules."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


# ---------------------------------------------------------------------------
# Model specs


@dataclass
class Spec:
    """One ONNX model: runtime inputs, initializers, nodes and checked outputs."""

    id: str
    opset: int = 18
    oracle: str = "onnxruntime"  # or "reference"
    # opt level -> reason: strict xfail of a known, reported bug.
    xfail: dict[int, str] = field(default_factory=dict)
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    feeds: dict[str, np.ndarray] = field(default_factory=dict)
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    rtol: dict[str, float] = field(default_factory=dict)
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(zlib.crc32(self.id.encode()))

    # data ---------------------------------------------------------------

    def f32(self, *shape: int, lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def f64(self, *shape: int, lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
        return self.rng.uniform(lo, hi, size=shape).astype(np.float64)

    def i64(self, *shape: int, lo: int = -9, hi: int = 10) -> np.ndarray:
        return self.rng.integers(lo, hi, size=shape).astype(np.int64)

    def i32(self, *shape: int, lo: int = -9, hi: int = 10) -> np.ndarray:
        return self.rng.integers(lo, hi, size=shape).astype(np.int32)

    def bools(self, *shape: int) -> np.ndarray:
        return self.rng.integers(0, 2, size=shape).astype(np.bool_)

    def steps(self, *shape: int, lo: int = -6, hi: int = 7) -> np.ndarray:
        """float32 multiples of 0.5: ties for compares/argmax, exact fmod."""
        return (self.rng.integers(lo, hi, size=shape) / 2).astype(np.float32)

    # graph --------------------------------------------------------------

    def input(self, name: str, value: np.ndarray) -> str:
        assert name not in self.feeds and name not in self.inits, f"{self.id}: {name} twice"
        self.feeds[name] = np.asarray(value)
        return name

    def const(self, value: np.ndarray | float | int | Sequence[int], name: str | None = None) -> str:
        if name is None:
            self._n += 1
            name = f"c{self._n}"
        assert name not in self.feeds and name not in self.inits, f"{self.id}: {name} twice"
        self.inits[name] = np.asarray(value)
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        out: str | None = None,
        *,
        outs: int = 1,
        check: bool = True,
        rtol: float | None = None,
        **attrs: Any,
    ) -> str:
        """Adds a node; its (first) output is a model output unless `check=False`."""
        self._n += 1
        base = out or f"{op_type}_{self._n}"
        names = [base] if outs == 1 else [f"{base}.{i}" for i in range(outs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=base, **attrs))
        if check:
            for n in names:
                self.outputs.append(n)
                if rtol is not None:
                    self.rtol[n] = rtol
                elif op_type in _TRANSCENDENTAL:
                    self.rtol[n] = 1e-4
        return names[0]

    def model(self) -> onnx.ModelProto:
        inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
            for n, v in self.feeds.items()
        ]
        inits = [numpy_helper.from_array(v, n) for n, v in self.inits.items()]
        outputs = [onnx.ValueInfoProto(name=n) for n in self.outputs]
        graph = helper.make_graph(self.nodes, self.id, inputs, outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8 if self.opset <= 18 else 10
        return model


SPECS: list[Spec] = []


def spec(id: str, **kw: Any) -> Spec:
    s = Spec(id, **kw)
    SPECS.append(s)
    return s


def ints(*v: int) -> np.ndarray:
    return np.asarray(v, dtype=np.int64)


# ---------------------------------------------------------------------------
# Elementwise unary

s = spec("unary-f32", opset=20)
x = s.f32(7, 13)
x[0, :8] = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0]  # Round: half to even
s.input("x", x)
s.input("xp", s.f32(7, 13, lo=0.05, hi=5.0))
for name in ["Abs", "Neg", "Sign", "Relu", "Floor", "Ceil", "Round", "Exp", "Sigmoid", "Tanh",
             "Erf", "Sin", "Cos", "Softplus", "Softsign", "HardSwish", "Identity"]:
    s.op(name, ["x"], name)
for name in ["Log", "Sqrt", "Reciprocal"]:
    s.op(name, ["xp"], name)
s.op("LeakyRelu", ["x"], "LeakyRelu_default")
s.op("LeakyRelu", ["x"], "LeakyRelu_0.3", alpha=0.3)
s.op("Elu", ["x"], "Elu_default")
s.op("Elu", ["x"], "Elu_0.5", alpha=0.5)
s.op("HardSigmoid", ["x"], "HardSigmoid_default")
s.op("HardSigmoid", ["x"], "HardSigmoid_attrs", alpha=0.3, beta=0.4)
s.op("Gelu", ["x"], "Gelu_none")
s.op("Gelu", ["x"], "Gelu_tanh", approximate="tanh")

# Shapes that leave vector remainders (33 = 2*16 + 1, 37), one element, rank 0;
# and extreme inputs for the functions that saturate or overflow.
s = spec("unary-f32-edge-shapes", opset=20)
s.input("r0", np.asarray(0.75, np.float32))
s.input("one", s.f32(1))
s.input("odd", s.f32(2, 5, 33))
s.input("big", s.f32(37, lo=-100.0, hi=100.0))
s.input("exparg", s.f32(37, lo=-87.0, hi=87.0))
for src in ["r0", "one", "odd"]:
    for name in ["Exp", "Tanh", "Sigmoid", "Erf", "Relu", "Abs", "Neg", "Softplus", "Gelu"]:
        s.op(name, [src], f"{name}_{src}")
for name in ["Tanh", "Sigmoid", "Softplus", "Erf", "Elu", "Softsign"]:
    s.op(name, ["big"], f"{name}_big")
s.op("Exp", ["exparg"], "Exp_wide")

s = spec("unary-f64")
s.input("x", s.f64(5, 7))
s.input("xp", s.f64(5, 7, lo=0.05, hi=5.0))
for name in ["Abs", "Neg", "Sign", "Relu", "Floor", "Ceil", "Round", "Exp", "Sigmoid", "Tanh",
             "Sin", "Cos", "Softplus", "Elu", "LeakyRelu"]:
    s.op(name, ["x"], name)
for name in ["Log", "Sqrt", "Reciprocal"]:
    s.op(name, ["xp"], name)

s = spec("unary-int")
s.input("a", s.i64(7, 13, lo=-50, hi=50))
s.input("b", s.i32(37, lo=-50, hi=50))
s.input("t", s.bools(7, 13))
for name in ["Abs", "Neg", "Sign"]:
    s.op(name, ["a"], f"{name}_i64")
for name in ["Abs", "Neg", "Sign"]:
    s.op(name, ["b"], f"{name}_i32")
s.op("Not", ["t"], "Not")

s = spec("unary-int-reference", oracle="reference")  # onnxruntime: no int64 Relu
s.input("a", s.i64(7, 13, lo=-50, hi=50))
s.op("Relu", ["a"], "Relu_i64")

# ---------------------------------------------------------------------------
# Elementwise binary: every broadcast pattern, floats

_BCAST = {
    "same": ((7, 13), (7, 13)),
    "row": ((7, 13), (13,)),
    "column": ((7, 13), (7, 1)),
    "scalar": ((7, 13), ()),
    "rank-mismatch": ((2, 1, 13), (7, 1)),
    "both": ((1, 13), (7, 1)),
    "lhs-bcast": ((13,), (3, 7, 13)),
    "one-elem": ((1,), (1,)),
}
for pattern, (sa, sb) in _BCAST.items():
    s = spec(f"binary-f32-{pattern}")
    s.input("a", s.f32(*sa))
    b = s.f32(*sb, lo=0.5, hi=2.5) * np.where(s.bools(*sb), 1, -1).astype(np.float32)
    s.input("b", b.astype(np.float32))
    s.input("ap", s.f32(*sa, lo=0.5, hi=2.0))
    s.input("qa", s.steps(*sa))
    s.input("qb", s.steps(*sb))
    for name in ["Add", "Sub", "Mul", "Div", "Max", "Min"]:
        s.op(name, ["a", "b"], name)
    s.op("Pow", ["ap", "b"], "Pow")
    s.op("Mod", ["qa", "b"], "Mod_fmod", fmod=1)
    if np.broadcast_shapes(sa, sb) == sa:  # PRelu's slope broadcasts one way only
        s.op("PRelu", ["a", "b"], "PRelu")
    for name in ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]:
        s.op(name, ["qa", "qb"], name)

s = spec("fmod")  # C fmod is exact: no double rounding, a quotient rounded across an integer
a = s.f32(37, 64, lo=-200.0, hi=200.0)
b = (s.f32(64, lo=0.05, hi=3.0) * np.where(s.bools(64), 1, -1)).astype(np.float32)
s.input("a", a)
s.input("b", b)
s.input("a64", a.astype(np.float64))
s.input("b64", b.astype(np.float64))
s.op("Mod", ["a", "b"], "Fmod_f32", fmod=1)
s.op("Mod", ["a64", "b64"], "Fmod_f64", fmod=1)
# a / b rounds to an integer here although the true quotient is just below it.
s.input("qa", np.asarray([-87.13903, 54.037594, -151.16005, -4.0, 7.0, -0.0, 5.5, 3.0],
                         np.float32))
s.input("qb", np.asarray([0.08001748, 1.6375029, 2.1594293, 2.0, -3.0, 2.0, np.inf, -np.inf],
                         np.float32))
s.op("Mod", ["qa", "qb"], "Fmod_edges", fmod=1)

s = spec("binary-f32-const-operands")
s.input("a", s.f32(7, 13))
s.const(np.float32(1.5), "k")
s.const(s.f32(13), "row")
s.const(s.f32(7, 13), "full")
for name in ["Add", "Sub", "Mul", "Div"]:
    s.op(name, ["a", "k"], f"{name}_scalar")
    s.op(name, ["row", "a"], f"{name}_row")
    s.op(name, ["a", "full"], f"{name}_full")
s.const(np.int64(3), "three")
s.op("Pow", ["a", "three"], "Pow_int_exponent")
s.op("Add", ["row", "row"], "Add_const_const")

s = spec("binary-f64")
s.input("a", s.f64(5, 7))
s.input("b", s.f64(7, lo=0.5, hi=2.5))
for name in ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Less", "Equal"]:
    s.op(name, ["b" if name == "Pow" else "a", "b"], name)

for pattern in ["same", "row", "scalar", "rank-mismatch"]:
    sa, sb = _BCAST[pattern]
    s = spec(f"binary-i64-{pattern}")
    s.input("a", s.i64(*sa, lo=-20, hi=21))
    nz = s.i64(*sb, lo=1, hi=8) * np.where(s.bools(*sb), 1, -1)
    s.input("b", nz.astype(np.int64))
    s.input("e", s.i64(*sb, lo=0, hi=4))
    for name in ["Add", "Sub", "Mul", "Div", "Max", "Min"]:
        s.op(name, ["a", "b"], name)
    s.op("Mod", ["a", "b"], "Mod")
    s.op("Mod", ["a", "b"], "Mod_fmod", fmod=1)
    s.op("Pow", ["a", "e"], "Pow")
    for name in ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]:
        s.op(name, ["a", "e"], name)

s = spec("binary-i32")
s.input("a", s.i32(37, lo=-20, hi=21))
s.input("b", (s.i32(37, lo=1, hi=8) * np.where(s.bools(37), 1, -1)).astype(np.int32))
for name in ["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Less", "Equal"]:
    s.op(name, ["a", "b"], name)

s = spec("binary-mixed-pow")  # Pow's exponent may have another type
s.input("xi", s.i64(3, 5, lo=0, hi=10))
s.input("xf", s.f32(3, 5, lo=0.5, hi=2.0))
s.input("ef", s.f32(5, lo=-1.0, hi=2.0))
s.input("ei", s.i64(5, lo=0, hi=4))
s.op("Pow", ["xi", "ef"], "Pow_i64_f32")
s.op("Pow", ["xf", "ei"], "Pow_f32_i64")

s = spec("binary-int-pow-edges")  # negative exponents: trunc(double pow) as runtimes do
base, expo = np.meshgrid(np.arange(-3, 4), np.arange(-3, 21), indexing="ij")
keep = ~((base == 0) & (expo < 0))  # 0 ** -n is inf in double: undefined as an integer
s.input("b", base[keep].astype(np.int64))
s.input("e", expo[keep].astype(np.int64))
s.input("b32", base[keep].astype(np.int32))
s.input("e32", np.minimum(expo[keep], 15).astype(np.int32))
s.op("Pow", ["b", "e"], "Pow_i64")
s.op("Pow", ["b32", "e32"], "Pow_i32")
s.op("Pow", ["b", s.const(np.int64(3))], "Pow_const3")
s.op("Pow", ["b", s.const(np.int64(0))], "Pow_const0")
s.op("Pow", [s.input("nz", ints(-3, -2, -1, 1, 2, 3)), s.const(np.int64(-1))], "Pow_const_neg")

s = spec("logic-bool")
s.input("p", s.bools(7, 13))
s.input("q", s.bools(7, 13))
s.input("r", s.bools(13))
s.input("c", s.bools(2, 1, 1))
for name in ["And", "Or", "Xor", "Equal"]:
    s.op(name, ["p", "q"], f"{name}_same")
    s.op(name, ["p", "r"], f"{name}_row")
    s.op(name, ["c", "p"], f"{name}_rank")
s.op("Not", [s.op("And", ["p", "r"], check=False)], "Nand")

s = spec("variadic")
s.input("a", s.f32(2, 3, 13))
s.input("b", s.f32(13))
s.input("c", s.f32(3, 1))
s.input("ia", s.i64(2, 3))
s.input("ib", s.i64(3))
s.input("ic", s.i64(2, 1))
for name in ["Sum", "Mean", "Max", "Min"]:
    s.op(name, ["a"], f"{name}_one")
    s.op(name, ["a", "b"], f"{name}_two")
    s.op(name, ["a", "b", "c"], f"{name}_three")
s.op("Max", ["ia", "ib", "ic"], "Max_i64")
s.op("Min", ["ia", "ib"], "Min_i64")

s = spec("variadic-reference", oracle="reference")  # onnxruntime: no int64 Sum
s.input("ia", s.i64(2, 3))
s.input("ib", s.i64(3))
s.input("ic", s.i64(2, 1))
s.op("Sum", ["ia", "ib", "ic"], "Sum_i64")

s = spec("where")
s.input("c", s.bools(7, 13))
s.input("ccol", s.bools(7, 1))
s.input("crow", s.bools(13))
s.input("x", s.f32(7, 13))
s.input("y", s.f32(7, 13))
s.input("xrow", s.f32(1, 13))
s.input("xi", s.i64(7, 13))
s.input("yi", s.i64(13))
s.const(np.float32(0.0), "zero")
s.op("Where", ["c", "x", "y"], "Where_f32")
s.op("Where", ["ccol", "xrow", "zero"], "Where_bcast_scalar")
s.op("Where", ["crow", "x", "xrow"], "Where_cond_lower_rank")
s.op("Where", ["c", "xi", "yi"], "Where_i64")

s = spec("where-reference", oracle="reference")  # onnxruntime: no bool Where
s.input("c", s.bools(7, 13))
s.input("p", s.bools(7, 13))
s.input("q", s.bools(1))
s.op("Where", ["c", "p", "q"], "Where_bool")

s = spec("clip-opset10", opset=10)
s.input("x", s.f32(7, 13))
s.op("Clip", ["x"], "Clip_attrs", min=-0.5, max=0.5)
s.op("Clip", ["x"], "Clip_min_only", min=-0.5)
s.op("Clip", ["x"], "Clip_max_only", max=0.25)

s = spec("clip")
s.input("x", s.f32(7, 13))
s.input("lo", np.float32(-0.5))
s.input("hi", np.float32(0.7))
s.input("xi", s.i64(7, 13, lo=-10, hi=11))
s.input("xd", s.f64(5))
lo, hi = s.const(np.float32(-0.5)), s.const(np.float32(0.5))
s.op("Clip", ["x"], "Clip_none")
s.op("Clip", ["x", lo, hi], "Clip_const")
s.op("Clip", ["x", lo], "Clip_min")
s.op("Clip", ["x", "", hi], "Clip_max")
s.op("Clip", ["x", "lo", "hi"], "Clip_dynamic")
s.op("Clip", ["x", "lo", hi], "Clip_dynamic_min")
s.op("Clip", ["x", hi, lo], "Clip_min_above_max")
s.op("Clip", ["xi", s.const(np.int64(-3)), s.const(np.int64(4))], "Clip_i64")
s.op("Clip", ["xd", s.const(np.float64(-0.5)), s.const(np.float64(0.5))], "Clip_f64")

_CAST_TYPES = {
    "f32": TensorProto.FLOAT,
    "f64": TensorProto.DOUBLE,
    "i64": TensorProto.INT64,
    "i32": TensorProto.INT32,
    "u8": TensorProto.UINT8,
    "bool": TensorProto.BOOL,
}

s = spec("rank0")
s.input("a", np.asarray(1.25, np.float32))
s.input("b", np.asarray(-0.5, np.float32))
s.input("i", np.asarray(-7, np.int64))
s.input("t", np.asarray(True))
s.input("v", s.f32(5))
for name in ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Less", "Equal"]:
    s.op(name, ["a", "b"], f"{name}_rank0")
s.op("Mul", ["i", s.const(np.int64(3))], "Mul_i64_rank0")
s.op("Where", ["t", "a", "b"], "Where_rank0")
s.op("Where", ["t", "v", "b"], "Where_rank0_cond")
s.op("Clip", ["a", s.const(np.float32(0.0)), s.const(np.float32(1.0))], "Clip_rank0")
for dst in ["f64", "i64", "i32", "u8", "bool"]:
    s.op("Cast", ["a"], f"Cast_rank0_to_{dst}", to=_CAST_TYPES[dst])
s.op("Cast", ["i"], "Cast_rank0_i64_to_f32", to=TensorProto.FLOAT)
s.op("Expand", ["a", s.const(ints(2, 3))], "Expand_rank0")
s.op("ReduceSum", ["v"], "ReduceSum_to_rank0", keepdims=0)
s.op("ReduceMax", ["v"], "ReduceMax_to_rank0", keepdims=0)
s.op("Concat", [s.op("Unsqueeze", ["a", s.const(ints(0))], check=False), "v"], "Concat_unsqueezed",
     axis=0)
s.op("Add", ["v", "a"], "Add_rank1_rank0")

s = spec("opset13-variants", opset=13)  # attribute/input forms the frontend maps differently
s.input("x", s.f32(3, 5, 7))
s.input("y", s.f32(1, 3, 1, 4))
for name in ["ReduceMean", "ReduceMax", "ReduceProd", "ReduceL1"]:
    s.op(name, ["x"], f"{name}_attr_axes", axes=[0, 2], keepdims=0)
s.op("ReduceSum", ["x", s.const(ints(1))], "ReduceSum_input_axes")
s.op("Squeeze", ["y", s.const(ints(0, 2))], "Squeeze_input")
s.op("Unsqueeze", ["x", s.const(ints(1, -1))], "Unsqueeze_input")
s.op("Split", ["x", s.const(ints(2, 5))], "Split_input", outs=2, axis=2)
s.op("Split", ["x"], "Split_equal", outs=5, axis=1)
s.op("Clip", ["x", s.const(np.float32(-1)), s.const(np.float32(1))], "Clip")
s.op("Dropout", ["x", s.const(np.float32(0.5)), s.const(np.bool_(False))], "Dropout_inference")

s = spec("opset11-variants", opset=11)
s.input("x", s.f32(3, 5, 7))
s.input("y", s.f32(1, 3, 1, 4))
s.op("Squeeze", ["y"], "Squeeze_attr", axes=[0, -2])
s.op("Unsqueeze", ["x"], "Unsqueeze_attr", axes=[0, 4])
s.op("Split", ["x"], "Split_attr", outs=2, axis=0, split=[1, 2])
s.op("ReduceSum", ["x"], "ReduceSum_attr", axes=[1], keepdims=1)
s.op("Softmax", ["y"], "Softmax_flatten_default")
s.op("Clip", ["x", s.const(np.float32(-0.5)), s.const(np.float32(0.5))], "Clip")
s.op("Pad", ["x", s.const(ints(0, 1, 2, 1, 0, 1))], "Pad_input_pads", mode="reflect")

# ---------------------------------------------------------------------------
# Casts between every pair of types

s = spec("cast-pairs")
# Float -> int casts of negative or out-of-range values are undefined (C++
# semantics in onnxruntime), so float sources stay in range of every target.
fsrc = s.f32(37, lo=0.0, hi=120.0)
fsrc[:8] = [0.0, -0.0, 0.5, 1.5, 2.5, 99.99, 127.5, 0.25]
s.input("f32", fsrc)
s.input("f64", s.f64(37, lo=0.0, hi=120.0))
s.input("i64", s.i64(37, lo=-300, hi=300))
s.input("i32", s.i32(37, lo=-300, hi=300))
s.input("u8", s.rng.integers(0, 256, size=37).astype(np.uint8))
s.input("bool", s.bools(37))
for src in _CAST_TYPES:
    for dst, to in _CAST_TYPES.items():
        s.op("Cast", [src], f"Cast_{src}_to_{dst}", to=to)

s = spec("cast-signed-and-special")
s.input("f32", s.f32(7, 13, lo=-1e5, hi=1e5))
s.input("f64", s.f64(7, 13, lo=-1e9, hi=1e9))
s.input("special", np.asarray([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -2.5], np.float32))
s.input("wide", s.rng.integers(-(2**40), 2**40, size=37).astype(np.int64))
for src in ["f32", "f64"]:
    for dst in ["f32", "f64", "i64", "i32", "bool"]:
        s.op("Cast", [src], f"Cast_{src}_to_{dst}", to=_CAST_TYPES[dst])
for dst in ["f64", "bool"]:
    s.op("Cast", ["special"], f"Cast_special_to_{dst}", to=_CAST_TYPES[dst])
for dst in ["f32", "f64", "i32", "u8", "bool"]:
    s.op("Cast", ["wide"], f"Cast_wide_to_{dst}", to=_CAST_TYPES[dst])
s.op("CastLike", ["f32", s.const(ints(1))], "CastLike_f32_like_i64")
s.op("CastLike", ["wide", s.const(np.float32([1.0]))], "CastLike_i64_like_f32")

# ---------------------------------------------------------------------------
# Reductions: every axis, with and without keepdims

_AXES: list[tuple[int, ...] | None] = [(0,), (1,), (2,), (-1,), (0, 2), (1, 2), None]
for name in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
             "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum"]:
    s = spec(f"reduce-{name}")
    lo = 0.5 if name in ("ReduceProd", "ReduceLogSum") else -3.0
    hi = 1.5 if name == "ReduceProd" else 3.0
    s.input("x", s.f32(3, 5, 7, lo=lo, hi=hi))
    s.input("odd", s.f32(2, 37, lo=lo, hi=hi))
    s.input("one", s.f32(1, 1, 1, lo=lo, hi=hi))
    for axes in _AXES:
        for keep in (0, 1):
            ins = ["x"] if axes is None else ["x", s.const(ints(*axes))]
            tag = "all" if axes is None else "_".join(map(str, axes))
            s.op(name, ins, f"{name}_axes{tag}_keep{keep}", keepdims=keep)
    for axis in (0, 1):
        s.op(name, ["odd", s.const(ints(axis))], f"{name}_odd_axis{axis}", keepdims=0)
    s.op(name, ["one", s.const(ints(-1))], f"{name}_1x1x1")
    s.op(name, ["x"], f"{name}_noop", noop_with_empty_axes=1)

s = spec("reduce-int")
s.input("x", s.i64(3, 5, 7, lo=-3, hi=4))
s.input("k", s.i32(4, 37, lo=-50, hi=50))
for name in ["ReduceMean", "ReduceL1", "ReduceSumSquare"]:  # means truncate toward zero
    s.op(name, ["k", s.const(ints(1))], f"{name}_i32", keepdims=0)
for name in ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceMean"]:
    for axes in [(1,), (0, 2), None]:
        for keep in (0, 1):
            ins = ["x"] if axes is None else ["x", s.const(ints(*axes))]
            tag = "all" if axes is None else "_".join(map(str, axes))
            s.op(name, ins, f"{name}_axes{tag}_keep{keep}", keepdims=keep)

s = spec("reduce-f64")
s.input("x", s.f64(4, 5))
for name in ["ReduceMean", "ReduceSum", "ReduceMax"]:
    s.op(name, ["x", s.const(ints(1))], name)

# ---------------------------------------------------------------------------
# ArgMax / ArgMin: every axis, keepdims, ties with select_last_index

for name in ["ArgMax", "ArgMin"]:
    s = spec(name.lower())
    s.input("x", s.steps(3, 5, 7, lo=-3, hi=4))  # few distinct values: many ties
    s.input("xi", s.i64(4, 37, lo=-3, hi=4))
    s.input("v", s.f32(37))
    for axis in (0, 1, 2, -1):
        for keep in (0, 1):
            for last in (0, 1):
                s.op(name, ["x"], f"{name}_axis{axis}_keep{keep}_last{last}", axis=axis,
                     keepdims=keep, select_last_index=last)
    for last in (0, 1):
        s.op(name, ["xi"], f"{name}_i64_last{last}", axis=1, select_last_index=last)
    s.op(name, ["v"], f"{name}_rank1", keepdims=0)

# ---------------------------------------------------------------------------
# Softmax, LayerNorm, other normalizations

s = spec("softmax", opset=13)
s.input("x", s.f32(3, 5, 7))
s.input("v", s.f32(37))
s.input("large", s.f32(2, 33, lo=-80.0, hi=80.0))
for name in ["Softmax", "LogSoftmax"]:
    for axis in (0, 1, 2, -1):
        s.op(name, ["x"], f"{name}_axis{axis}", axis=axis)
    s.op(name, ["v"], f"{name}_rank1")
    s.op(name, ["large"], f"{name}_large")

s = spec("softmax-opset11", opset=11)  # flattens to 2-D at `axis`
s.input("x", s.f32(3, 5, 7))
for name in ["Softmax", "LogSoftmax"]:
    for axis in (0, 1, 2):
        s.op(name, ["x"], f"{name}_axis{axis}", axis=axis)
    s.op(name, ["x"], f"{name}_default")

s = spec("layernorm", opset=17)
s.input("x", s.f32(2, 3, 8))
s.input("y", s.f32(2, 3, 4))
s.input("z", s.f32(4, 37))
s.input("scale", s.f32(37))
s.input("bias", s.f32(37))
s.op("LayerNormalization", ["x", s.const(s.f32(8)), s.const(s.f32(8))], "LN_last_axis")
s.op("LayerNormalization", ["y", s.const(s.f32(3, 4))], "LN_axis1_no_bias", axis=1)
s.op("LayerNormalization", ["y", s.const(s.f32(2, 3, 4))], "LN_axis0", axis=0)
s.op("LayerNormalization", ["y", s.const(s.f32(4))], "LN_axis_neg1", axis=-1)
s.op("LayerNormalization", ["z", "scale", "bias"], "LN_runtime_odd", epsilon=1e-3)

s = spec("normalizations", opset=15)
s.input("x4", s.f32(2, 3, 4, 5))
s.input("x3", s.f32(2, 3, 7))
s.input("x2", s.f32(4, 3))
bn = [s.const(s.f32(3)), s.const(s.f32(3)), s.const(s.f32(3)), s.const(s.f32(3, lo=0.5, hi=2.0))]
s.op("BatchNormalization", ["x4", *bn], "BN_4d", epsilon=1e-3)
s.op("BatchNormalization", ["x3", *bn], "BN_3d")
s.op("BatchNormalization", ["x2", *bn], "BN_2d")
s.op("InstanceNormalization", ["x4", s.const(s.f32(3)), s.const(s.f32(3))], "IN_4d")
s.op("InstanceNormalization", ["x3", s.const(s.f32(3)), s.const(s.f32(3))], "IN_3d", epsilon=1e-3)
s.op("LRN", ["x4"], "LRN_size3", size=3)
s.input("x7", s.f32(1, 7, 3, 5))
s.op("LRN", ["x7"], "LRN_size5", size=5, alpha=1e-3, beta=0.5, bias=2.0)

s = spec("lrn-even-reference", oracle="reference")  # onnxruntime rejects even sizes
s.input("x", s.f32(2, 6, 3, 5))
s.op("LRN", ["x"], "LRN_size4", size=4, alpha=1e-3, beta=0.5, bias=2.0)
s.op("LRN", ["x"], "LRN_size2", size=2)

# ---------------------------------------------------------------------------
# Convolutions. At O3, convs with O % 16 == 0 (group 1, constant weight) take
# the blocked NCHW16c path (conv_blocked.py), the others the plain one (nn.py).

s = spec("conv-plain")
s.input("x", s.f32(1, 3, 7, 13))
s.input("xg", s.f32(2, 4, 5, 5))
s.input("wrt", s.f32(3, 4, 3, 3))
s.input("x1", s.f32(1, 8, 1, 1))
s.op("Conv", ["x", s.const(s.f32(4, 3, 3, 3)), s.const(s.f32(4))], "basic_bias")
s.op("Conv", ["x", s.const(s.f32(5, 3, 3, 3))], "stride2_pads", strides=[2, 2], pads=[1, 1, 1, 1])
s.op("Conv", ["x", s.const(s.f32(2, 3, 3, 2))], "asym_pads", pads=[0, 1, 2, 0])
s.op("Conv", ["x", s.const(s.f32(3, 3, 3, 3))], "dilations", dilations=[2, 3])
s.op("Conv", ["x", s.const(s.f32(3, 3, 1, 1))], "k1_stride21", strides=[2, 1])
s.op("Conv", ["x", s.const(s.f32(3, 3, 4, 4))], "same_upper", auto_pad="SAME_UPPER", strides=[2, 2])
s.op("Conv", ["x", s.const(s.f32(3, 3, 4, 4))], "same_lower", auto_pad="SAME_LOWER", strides=[2, 2])
s.op("Conv", ["x", s.const(s.f32(3, 3, 3, 3))], "valid", auto_pad="VALID")
s.op("Conv", ["xg", s.const(s.f32(6, 2, 3, 3)), s.const(s.f32(6))], "group2", group=2)
s.op("Conv", ["xg", s.const(s.f32(4, 1, 3, 3))], "depthwise", group=4, pads=[1, 1, 1, 1])
s.op("Conv", ["xg", s.const(s.f32(8, 1, 3, 3))], "depthwise_mult2", group=4, strides=[2, 2])
s.op("Conv", ["xg", "wrt"], "runtime_weight")
s.op("Conv", ["x1", s.const(s.f32(4, 8, 1, 1)), s.const(s.f32(4))], "spatial_1x1")
s.op("Conv", ["x1", s.const(s.f32(5, 8, 3, 3))], "spatial_1x1_padded", pads=[1, 1, 1, 1])

s = spec("conv-1d")
s.input("x", s.f32(2, 3, 11))
s.op("Conv", ["x", s.const(s.f32(4, 3, 3)), s.const(s.f32(4))], "pads_stride", pads=[1, 2], strides=[2])
s.op("Conv", ["x", s.const(s.f32(4, 3, 3))], "dilation", dilations=[2])
s.op("Conv", ["x", s.const(s.f32(3, 3, 4))], "same_upper", auto_pad="SAME_UPPER", strides=[2])
s.op("Conv", ["x", s.const(s.f32(16, 3, 3))], "O16", pads=[1, 1])

s = spec("conv-f64-reference", oracle="reference")  # onnxruntime: no float64 Conv
s.input("x", s.f64(1, 2, 5, 6))
s.op("Conv", ["x", s.const(s.f64(3, 2, 3, 3)), s.const(s.f64(3))], "Conv_f64", pads=[1, 0, 1, 2])

s = spec("conv-blocked")
s.input("x", s.f32(1, 3, 9, 11))   # C = 3: NCHW data, weight packed as one input block
s.input("x16", s.f32(1, 16, 7, 9))  # C = 16: NCHW16c data
s.input("x1", s.f32(2, 16, 1, 1))
s.op("Conv", ["x", s.const(s.f32(16, 3, 3, 3)), s.const(s.f32(16))], "C3_O16_pad", pads=[1, 1, 1, 1])
s.op("Conv", ["x", s.const(s.f32(32, 3, 3, 3))], "C3_O32_stride2", strides=[2, 2])
s.op("Conv", ["x16", s.const(s.f32(16, 16, 3, 3)), s.const(s.f32(16))], "C16_O16", pads=[1, 1, 1, 1])
s.op("Conv", ["x16", s.const(s.f32(32, 16, 3, 2))], "C16_O32_asym", pads=[0, 1, 2, 0], strides=[2, 1])
s.op("Conv", ["x16", s.const(s.f32(16, 16, 3, 3))], "C16_dilated", dilations=[2, 3])
s.op("Conv", ["x16", s.const(s.f32(16, 16, 1, 1))], "C16_1x1")
s.op("Conv", ["x1", s.const(s.f32(16, 16, 3, 3)), s.const(s.f32(16))], "C16_spatial1x1", pads=[1, 1, 1, 1])

s = spec("conv-blocked-chain")  # layouts propagate: relu, depthwise, O=24, pools, add
s.input("x", s.f32(1, 3, 10, 13))
h = s.op("Conv", ["x", s.const(s.f32(16, 3, 3, 3)), s.const(s.f32(16))], check=False, pads=[1, 1, 1, 1])
h = s.op("Relu", [h], check=False)
h = s.op("Conv", [h, s.const(s.f32(32, 16, 3, 3)), s.const(s.f32(32))], check=False, strides=[2, 2])
h = s.op("Add", [h, s.const(s.f32(32, 1, 1))], check=False)
d = s.op("Conv", [h, s.const(s.f32(32, 1, 3, 3))], check=False, group=32, pads=[1, 1, 1, 1])
s.op("Conv", [d, s.const(s.f32(24, 32, 1, 1)), s.const(s.f32(24))], "chain_O24")
s.op("MaxPool", [d], "chain_maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
s.op("AveragePool", [d], "chain_avgpool", kernel_shape=[2, 2], ceil_mode=1, strides=[2, 2])
s.op("GlobalAveragePool", [d], "chain_gap")
s.op("ReduceMax", [d, s.const(ints(2, 3))], "chain_reduce_hw")

# ---------------------------------------------------------------------------
# Pools

s = spec("maxpool", opset=12)
s.input("x", s.f32(1, 3, 7, 13))
s.input("neg", s.f32(1, 2, 4, 5, lo=-9.0, hi=-1.0))
s.input("x1d", s.f32(2, 3, 9))
s.input("x1", s.f32(1, 3, 1, 1))
s.op("MaxPool", ["x"], "k2s2", kernel_shape=[2, 2], strides=[2, 2])
s.op("MaxPool", ["x"], "k3_pads", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
s.op("MaxPool", ["x"], "ceil", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
s.op("MaxPool", ["x"], "ceil_pads", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
     ceil_mode=1)
s.op("MaxPool", ["x"], "ceil_k2s2p1", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
     ceil_mode=1)
s.op("MaxPool", ["x"], "dilations", kernel_shape=[2, 2], dilations=[2, 3])
s.op("MaxPool", ["x"], "asym_pads", kernel_shape=[3, 2], pads=[0, 1, 2, 0], strides=[1, 2])
s.op("MaxPool", ["x"], "same_upper", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
s.op("MaxPool", ["x"], "same_lower", kernel_shape=[2, 2], auto_pad="SAME_LOWER")
s.op("MaxPool", ["neg"], "negative_pads", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
s.op("MaxPool", ["x1d"], "pool_1d", kernel_shape=[3], strides=[2], pads=[1, 1])
s.op("MaxPool", ["x1"], "spatial_1x1", kernel_shape=[1, 1])

s = spec("avgpool")
s.input("x", s.f32(1, 3, 7, 13))
s.input("x1d", s.f32(2, 3, 9))
for include in (0, 1):
    tag = f"incl{include}"
    s.op("AveragePool", ["x"], f"k2s2_{tag}", kernel_shape=[2, 2], strides=[2, 2],
         count_include_pad=include)
    s.op("AveragePool", ["x"], f"k3_pads_{tag}", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
         count_include_pad=include)
    s.op("AveragePool", ["x"], f"asym_pads_{tag}", kernel_shape=[3, 2], pads=[0, 1, 2, 0],
         strides=[1, 2], count_include_pad=include)
    s.op("AveragePool", ["x"], f"ceil_{tag}", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1,
         count_include_pad=include)
    s.op("AveragePool", ["x"], f"ceil_pads_{tag}", kernel_shape=[3, 3], strides=[2, 2],
         pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=include)
    s.op("AveragePool", ["x"], f"same_upper_{tag}", kernel_shape=[2, 3], auto_pad="SAME_UPPER",
         count_include_pad=include)
    s.op("AveragePool", ["x1d"], f"pool_1d_{tag}", kernel_shape=[3], strides=[2], pads=[1, 1],
         count_include_pad=include)

s = spec("global-pools")
s.input("x4", s.f32(2, 3, 5, 4))
s.input("x3", s.f32(2, 3, 7))
s.input("x1", s.f32(1, 3, 1, 1))
s.input("xw", s.f32(1, 2, 9, 37))
for name in ["GlobalAveragePool", "GlobalMaxPool"]:
    for src in ["x4", "x3", "x1", "xw"]:
        s.op(name, [src], f"{name}_{src}")

# ---------------------------------------------------------------------------
# MatMul and Gemm

s = spec("matmul")
pairs = {
    "2d_odd": ((7, 13), (13, 5)),
    "2d_wide": ((3, 17), (17, 33)),
    "batched_bcast": ((2, 1, 3, 4), (5, 4, 6)),
    "batched_bcast2": ((3, 1, 2, 4), (1, 5, 4, 2)),
    "1d_lhs": ((4,), (4, 5)),
    "1d_rhs": ((3, 4), (4,)),
    "1d_both": ((4,), (4,)),
    "1d_lhs_batched": ((4,), (2, 4, 5)),
    "1d_rhs_batched": ((2, 3, 4), (4,)),
    "1x1": ((1, 1), (1, 1)),
}
for name, (sa, sb) in pairs.items():
    s.op("MatMul", [s.input(f"{name}_a", s.f32(*sa)), s.input(f"{name}_b", s.f32(*sb))], name)
s.op("MatMul", ["2d_odd_a", s.const(s.f32(13, 6))], "const_rhs")
s.op("MatMul", [s.input("ia", s.i64(3, 4)), s.input("ib", s.i64(4, 2))], "i64")

s = spec("gemm", opset=13)
s.input("a", s.f32(3, 4))
s.input("at", s.f32(4, 3))
s.input("bt", s.f32(5, 4))
s.input("b", s.f32(4, 5))
s.input("c", s.f32(3, 5))
s.input("ccol", s.f32(3, 1))
s.op("Gemm", ["a", s.const(s.f32(4, 5)), s.const(s.f32(5))], "basic")
s.op("Gemm", ["at", s.const(s.f32(4, 5)), s.const(s.f32(3, 5))], "transA", transA=1)
s.op("Gemm", ["a", s.const(s.f32(5, 4)), s.const(s.f32(1, 5))], "transB", transB=1)
s.op("Gemm", ["at", "bt", "c"], "transA_transB", transA=1, transB=1)
s.op("Gemm", ["a", "b", "c"], "alpha_beta", alpha=0.5, beta=2.0)
s.op("Gemm", ["a", "b"], "no_c")
s.op("Gemm", ["a", "bt", s.const(np.float32(0.5))], "scalar_c", transB=1, alpha=2.0)
s.op("Gemm", ["a", "b", "ccol"], "column_c_beta0", beta=0.0)

# ---------------------------------------------------------------------------
# Data movement

s = spec("transpose-reshape")
s.input("x", s.f32(2, 3, 4, 5))
s.input("v", s.f32(6))
s.input("i", s.i64(2, 3))
s.input("t", s.bools(2, 3, 1))
s.input("r0", np.asarray(2.5, np.float32))
s.op("Transpose", ["x"], "T_default")
s.op("Transpose", ["x"], "T_0231", perm=[0, 2, 3, 1])
s.op("Transpose", ["x"], "T_3120", perm=[3, 1, 2, 0])
s.op("Transpose", ["v"], "T_rank1")
s.op("Transpose", ["i"], "T_i64", perm=[1, 0])
s.op("Transpose", ["t"], "T_bool", perm=[2, 0, 1])
s.op("Reshape", ["x", s.const(ints(0, -1))], "Reshape_0_m1")
s.op("Reshape", ["x", s.const(ints(-1, 6, 5))], "Reshape_regroup")
s.op("Reshape", ["i", s.const(ints(3, 1, 2))], "Reshape_i64")
s.op("Reshape", ["t", s.const(ints(6))], "Reshape_bool")
s.op("Reshape", ["r0", s.const(ints(1, 1))], "Reshape_rank0_up")
for axis in (0, 1, 2, -1):
    s.op("Flatten", ["x"], f"Flatten_axis{axis}", axis=axis)
s.op("Squeeze", ["t", s.const(ints(2))], "Squeeze_bool")
s.op("Unsqueeze", ["v", s.const(ints(-1, 0))], "Unsqueeze")
s.op("Unsqueeze", ["r0", s.const(ints(0))], "Unsqueeze_rank0")
# Inside fused groups (O3), reshape/transpose index maps are computed inline.
tr = s.op("Transpose", ["x"], check=False, perm=[0, 2, 1, 3])
rs = s.op("Reshape", [tr, s.const(ints(8, 15))], check=False)
s.op("Add", [rs, s.const(s.f32(15))], "fused_transpose_reshape_add")
rs2 = s.op("Reshape", [s.op("Exp", ["x"], check=False), s.const(ints(6, 20))], check=False)
s.op("Transpose", [rs2], "fused_exp_reshape_transpose", rtol=1e-4)

s = spec("expand-tile-depth")
s.input("x", s.f32(3, 1))
s.input("y", s.f32(2, 3))
s.input("i", s.i64(1, 3))
s.input("t", s.bools(3))
s.input("d", s.f32(2, 8, 2, 3))
s.input("sd", s.f32(1, 2, 4, 6))
s.op("Expand", ["x", s.const(ints(2, 1, 6))], "Expand_grow")
s.op("Expand", ["y", s.const(ints(1))], "Expand_smaller_shape")
s.op("Expand", ["i", s.const(ints(4, 3))], "Expand_i64")
s.op("Expand", ["t", s.const(ints(2, 3))], "Expand_bool")
s.op("Tile", ["y", s.const(ints(2, 3))], "Tile_2d")
s.op("Tile", ["x", s.const(ints(1, 4))], "Tile_col")
s.op("Tile", ["i", s.const(ints(3, 2))], "Tile_i64")
s.op("Tile", ["t", s.const(ints(3))], "Tile_bool")
s.op("DepthToSpace", ["d"], "D2S_DCR", blocksize=2)
s.op("DepthToSpace", ["d"], "D2S_CRD", blocksize=2, mode="CRD")
s.op("SpaceToDepth", ["sd"], "S2D", blocksize=2)

s = spec("concat")
s.input("a", s.f32(2, 3, 4))
s.input("b", s.f32(2, 3, 4))
s.input("c", s.f32(2, 3, 4))
s.input("ia", s.i64(5))
s.input("p", s.bools(2, 2))
s.input("q", s.bools(2, 3))
s.op("Concat", ["a", s.op("Slice", ["b", s.const(ints(1)), s.const(ints(2))], check=False), "c"],
     "Concat_axis0", axis=0)
s.op("Concat", ["a", s.op("Slice", ["b", s.const(ints(0)), s.const(ints(1)), s.const(ints(1))],
                         check=False), "c"], "Concat_axis1", axis=1)
s.op("Concat", ["a", s.op("Slice", ["b", s.const(ints(1)), s.const(ints(4)), s.const(ints(2))],
                         check=False), "c"], "Concat_axis2", axis=2)
s.op("Concat", ["a", "c"], "Concat_axis_neg1", axis=-1)
s.op("Concat", ["a"], "Concat_one", axis=1)
s.op("Concat", ["ia", s.const(ints(7, 8))], "Concat_i64", axis=0)
s.op("Concat", ["p", "q"], "Concat_bool", axis=1)
# Producers that may write straight into the result (eliminate-concat at O3).
s.input("u", s.f32(1, 3, 5))
s.input("w", s.f32(1, 4, 5))
s.op("Concat", [s.op("Relu", ["u"], check=False), s.op("Neg", ["w"], check=False)],
     "Concat_in_place", axis=1)

s = spec("slice", opset=13)
s.input("x", s.f32(5, 6))
s.input("y", s.f32(4, 6, 5))
s.input("v", s.f32(12))
s.input("i", s.i64(6))
s.input("t", s.bools(6))


def _slice(out: str, src: str, *params: Sequence[int]) -> None:
    s.op("Slice", [src, *(s.const(ints(*p)) for p in params)], out)


_slice("basic", "x", [1], [3])
_slice("axes_steps", "y", [0, 1], [5, 6], [2, 1], [2, 2])
_slice("reverse", "x", [-1], [INT64_MIN], [1], [-1])
_slice("reverse_both", "x", [-1, -1], [INT64_MIN, INT64_MIN], [0, 1], [-1, -1])
_slice("step_minus2", "v", [10], [0], [0], [-2])
_slice("step_minus3_neg_end", "v", [10], [-10], [0], [-3])
_slice("neg_steps_3d", "y", [3, 4], [0, -100], [0, 2], [-2, -1])
_slice("int64_max_end", "x", [2], [INT64_MAX], [1])
_slice("negative_starts", "x", [-3, -2], [-1, 100])
_slice("clamped", "x", [-100], [100], [1])
_slice("i64", "i", [1], [6], [0], [2])
_slice("bool_reverse", "t", [-2], [-6], [0], [-1])

s = spec("slice-opset9", opset=9)
s.input("x", s.f32(4, 5))
s.op("Slice", ["x"], "attrs", starts=[1, 0], ends=[3, -1], axes=[0, 1])

s = spec("split", opset=18)
s.input("x", s.f32(6, 4))
s.input("y", s.f32(2, 7))
s.input("z", s.f32(10, 2))
s.input("i", s.i64(4, 2))
s.op("Split", ["x", s.const(ints(2, 4))], "split_input", outs=2, axis=0)
s.op("Split", ["y", s.const(ints(3, 4))], "split_last_axis", outs=2, axis=-1)
s.op("Split", ["z"], "num_outputs_uneven", outs=4, num_outputs=4)
s.op("Split", ["i"], "i64", outs=2, num_outputs=2)

s = spec("gather")
s.input("x", s.f32(5, 3))
s.input("y", s.f32(3, 5, 2))
s.input("ids", ints(3, -1, 0, -5))
s.input("i", s.i64(4, 3))
s.input("t", s.bools(4, 3))
s.op("Gather", ["x", s.const(np.asarray([[0, 4], [2, -2]], np.int64))], "axis0_2d_indices")
s.op("Gather", ["y", s.const(ints(-1, 0, -5))], "axis1_negative", axis=1)
s.op("Gather", ["y", s.const(ints(-1, 1))], "axis_last", axis=-1)
s.op("Gather", ["x", s.const(np.int64(2))], "scalar_index", axis=0)
s.op("Gather", ["y", "ids"], "runtime_negative", axis=1)
s.op("Gather", ["x", s.const(np.asarray([1, -1], np.int32))], "i32_indices", axis=-1)
s.op("Gather", ["i", s.const(ints(1, 3))], "i64_data")
s.op("Gather", ["t", s.const(ints(2))], "bool_data", axis=1)

s = spec("pad", opset=13)
s.input("x", s.f32(2, 3))
s.input("x4", s.f32(1, 2, 4, 5))
s.input("v", s.f32(5))
s.input("i", s.i64(2, 3))
s.input("one", s.f32(1, 1))
for mode in ["constant", "reflect", "edge"]:
    s.op("Pad", ["x4", s.const(ints(0, 0, 2, 1, 0, 0, 1, 3))], f"Pad_{mode}_4d", mode=mode)
    s.op("Pad", ["v", s.const(ints(3, 2))], f"Pad_{mode}_1d", mode=mode)
s.op("Pad", ["x", s.const(ints(0, 1, 2, 0)), s.const(np.float32(-3))], "Pad_value")
s.op("Pad", ["x", s.const(ints(-1, 2, 1, -2))], "Pad_negative")
s.op("Pad", ["i", s.const(ints(1, 1, 1, 1)), s.const(np.int64(9))], "Pad_i64_value")
s.op("Pad", ["i", s.const(ints(1, 2, 0, 1))], "Pad_i64_edge", mode="edge")
s.op("Pad", ["one", s.const(ints(0, 2, 0, 1))], "Pad_1x1_edge", mode="edge")
# A constant pad fills, then copies its (here: transposed) input into the interior.
s.input("w", s.f32(1, 3, 37, 20))
shuffled = s.op("Transpose", ["w"], check=False, perm=[0, 1, 3, 2])
s.op("Pad", [shuffled, s.const(ints(0, 0, 1, 1, 0, 0, 1, 2))], "Pad_after_transpose")

s = spec("pad-opsets", opset=18)
s.input("x", s.f32(2, 3, 4))
s.op("Pad", ["x", s.const(ints(1, 2, 3, 4)), "", s.const(ints(0, -1))], "Pad_axes")
# wrap (opset 19) as PyTorch's dynamo exporter writes it at opset 18 for circular padding.
s.op("Pad", ["x", s.const(ints(0, 1, 2, 0, 2, 1))], "Pad_wrap", mode="wrap")
s.op("Pad", ["x", s.const(ints(5, 9)), "", s.const(ints(-1))], "Pad_wrap_past_size", mode="wrap")

s = spec("pad-opset10", opset=10)
s.input("x", s.f32(2, 3))
s.op("Pad", ["x"], "Pad_attr_constant", pads=[1, 0, 0, 2], value=1.5)
s.op("Pad", ["x"], "Pad_attr_edge", pads=[1, 1, 1, 1], mode="edge")

s = spec("shape-constants", opset=15)
s.input("x", s.f32(2, 3, 4, 5))
s.op("Shape", ["x"], "Shape")
s.op("Shape", ["x"], "Shape_start_end", start=1, end=-1)
s.op("Size", ["x"], "Size")
s.op("ConstantOfShape", [s.const(ints(2, 3))], "ConstantOfShape_default")
s.op("ConstantOfShape", [s.const(ints(4))], "ConstantOfShape_i64",
     value=numpy_helper.from_array(np.asarray([7], np.int64)))
s.op("Range", [s.const(np.int64(1)), s.const(np.int64(10)), s.const(np.int64(3))], "Range_i64")
s.op("Range", [s.const(np.float32(0.5)), s.const(np.float32(-2)), s.const(np.float32(-0.75))],
     "Range_f32")
s.op("Constant", [], "Constant_tensor", value=numpy_helper.from_array(s.f32(2, 3)))
s.op("Identity", ["x"], "Identity")
s.op("Dropout", ["x"], "Dropout")
# Shape arithmetic feeding runtime ops (folded at import).
sh = s.op("Shape", ["x"], check=False)
n = s.op("Gather", [sh, s.const(np.int64(0))], check=False, axis=0)
tgt = s.op("Concat", [s.op("Unsqueeze", [n, s.const(ints(0))], check=False), s.const(ints(-1))],
           check=False, axis=0)
s.op("Relu", [s.op("Reshape", ["x", tgt], check=False)], "shape_subgraph_reshape")

s = spec("layout-epilogues")  # epilogues of blocked convs, in NCHW16c and in NCHW (O = 24)
s.input("x", s.f32(1, 16, 6, 9))
s.input("r24", s.f32(1, 24, 6, 9))
s.input("r16", s.f32(1, 16, 6, 9))
h = s.op("Relu", [s.op("Conv", ["x", s.const(s.f32(16, 16, 3, 3))], check=False, pads=[1, 1, 1, 1])],
         check=False)
c = s.op("Conv", [h, s.const(s.f32(24, 16, 1, 1)), s.const(s.f32(24))], check=False)
s.op("Relu", [s.op("Add", [c, "r24"], check=False)], "O24_residual_relu")
c = s.op("Conv", [h, s.const(s.f32(16, 16, 3, 3))], check=False, pads=[1, 1, 1, 1])
c = s.op("Mul", [s.op("Add", [c, "r16"], check=False), s.const(s.f32(16, 1, 1))], check=False)
s.op("Sigmoid", [c], "O16_add_mul_sigmoid")
c = s.op("Conv", [h, s.const(s.f32(16, 16, 3, 3))], check=False, pads=[1, 1, 1, 1])
s.op("Add", [c, s.const(s.f32(9))], "O16_add_row_constant")
c = s.op("Conv", [h, s.const(s.f32(32, 16, 3, 3))], check=False, strides=[2, 2])
s.op("Clip", [c, s.const(np.float32(0)), s.const(np.float32(6))], "O32_relu6")
d = s.op("Conv", [h, s.const(s.f32(16, 1, 3, 3)), s.const(s.f32(16))], check=False, group=16,
         pads=[1, 1, 1, 1])
s.op("HardSwish", [d], "depthwise_hardswish")

s = spec("attention")  # masked softmax with -inf, additive masks, fully masked rows
s.input("q", s.f32(2, 4, 7, 8))
s.input("k", s.f32(2, 4, 8, 7))
s.input("v", s.f32(2, 4, 7, 8))
causal = np.triu(np.ones((7, 7), bool), 1)
s.input("m", causal)
s.input("all", np.ones((7, 7), bool))
sc = s.op("Mul", [s.op("MatMul", ["q", "k"], check=False), s.const(np.float32(0.35))], check=False)
masked = s.op("Where", ["m", s.const(np.float32(-np.inf)), sc], check=False)
s.op("MatMul", [s.op("Softmax", [masked], "probs", axis=-1), "v"], "context", rtol=1e-4)
s.op("Softmax", [s.op("Add", [sc, s.const((causal * -10000.0).astype(np.float32))], check=False)],
     "probs_additive_mask", axis=-1)
s.op("Softmax", [s.op("Where", ["all", s.const(np.float32(-np.inf)), sc], check=False)],
     "probs_fully_masked", axis=-1)
s.op("LogSoftmax", [masked], "logprobs", axis=-1)
s.op("ReduceMax", [masked, s.const(ints(-1))], "rowmax")
s.op("ArgMax", [masked], "argmax_masked", axis=-1)

s = spec("gather-large")  # embedding lookups: runtime ids, vectorized rows and gathered columns
s.input("emb", s.f32(100, 64))
s.input("ids", s.i64(2, 37, lo=-100, hi=100))
s.input("ids32", s.i32(40, lo=-64, hi=64))
s.input("t", s.f32(3, 64))
s.op("Gather", ["emb", "ids"], "embedding")
s.op("Gather", ["t", "ids32"], "columns", axis=1)
s.op("Add", [s.op("Gather", ["emb", "ids"], check=False), s.const(s.f32(64))], "embedding_plus_pos")
s.op("Gather", ["emb", s.input("one", np.asarray(-3, np.int64))], "row_scalar_index")
s.op("Gather", [s.input("iemb", s.i64(50, 33)), s.input("ids2", s.i64(70, lo=-50, hi=50))],
     "i64_rows")
s.op("Gather", [s.input("bemb", s.bools(50, 33)), "ids2"], "bool_rows")

# ---------------------------------------------------------------------------
# Other element types (uint8, int8, int16, int32, float16) where onnxruntime
# has kernels for them

s = spec("dtypes-small-ints")
u = s.input("u", s.rng.integers(0, 256, size=(5, 37)).astype(np.uint8))
v = s.input("v", s.rng.integers(0, 256, size=(37,)).astype(np.uint8))
b8 = s.input("b8", s.rng.integers(-128, 128, size=(5, 37)).astype(np.int8))
h = s.input("h", s.rng.integers(-3000, 3000, size=(5, 37)).astype(np.int16))
k = s.input("k", s.i32(5, 37, lo=-1000, hi=1000))
cond = s.input("cond", s.bools(5, 37))
s.op("Max", [u, v], "Max_u8")
s.op("Min", [u, v], "Min_u8")
s.op("Clip", [u, s.const(np.uint8(40)), s.const(np.uint8(200))], "Clip_u8")
s.op("Where", [cond, u, v], "Where_u8")
s.op("Equal", [u, v], "Equal_u8")
s.op("Less", [u, v], "Less_u8")
s.op("Greater", [u, v], "Greater_u8")
s.op("ReduceMax", [u, s.const(ints(1))], "ReduceMax_u8", keepdims=0)
s.op("ReduceMin", [u, s.const(ints(0))], "ReduceMin_u8")
s.op("ArgMax", [u], "ArgMax_u8", axis=1)
s.op("Transpose", [u], "Transpose_u8")
s.op("Concat", [u, u], "Concat_u8", axis=0)
s.op("Gather", [u, s.const(ints(-1, 3))], "Gather_u8", axis=1)
s.op("Abs", [b8], "Abs_i8")
s.op("Neg", [b8], "Neg_i8")
s.op("Max", [b8, s.const(np.int8(-5))], "Max_i8")
s.op("Clip", [b8, s.const(np.int8(-20)), s.const(np.int8(20))], "Clip_i8")
s.op("Cast", [b8], "Cast_i8_to_f32", to=TensorProto.FLOAT)
s.op("Cast", [h], "Cast_i16_to_i64", to=TensorProto.INT64)
s.op("Cast", [h], "Cast_i16_to_i8", to=TensorProto.INT8)
s.op("Cast", [k], "Cast_i32_to_i16", to=TensorProto.INT16)
s.op("Cast", [u], "Cast_u8_to_i8", to=TensorProto.INT8)
s.op("Cast", [b8], "Cast_i8_to_u8", to=TensorProto.UINT8)
for name in ["Add", "Sub", "Mul", "Div", "Max", "Min"]:
    s.op(name, [k, s.const(np.int32(7))], f"{name}_i32_scalar")
s.op("ReduceSum", [k, s.const(ints(1))], "ReduceSum_i32")
s.op("MatMul", [k, s.const(s.i32(37, 3))], "MatMul_i32")
s.op("Neg", [k], "Neg_i32")

# ---------------------------------------------------------------------------
# Larger shapes: several vector chunks plus every remainder size, loops that
# the default schedule parallelizes across both threads.

s = spec("large-elementwise")
s.input("a", s.f32(64, 100))
s.input("b", s.f32(100))
s.input("c", s.f32(64, 1))
s.input("t", s.bools(64, 100))
s.input("ia", s.i64(64, 100, lo=-1000, hi=1000))
s.op("Add", ["a", "b"], "Add_row")
s.op("Mul", ["a", "c"], "Mul_col")
s.op("Tanh", ["a"], "Tanh")
s.op("Exp", ["a"], "Exp")
s.op("Where", ["t", "a", "b"], "Where")
s.op("Greater", ["a", "b"], "Greater")
s.op("Cast", ["a"], "Cast_f32_i64", to=TensorProto.INT64)
s.op("Cast", ["ia"], "Cast_i64_f32", to=TensorProto.FLOAT)
s.op("Cast", ["t"], "Cast_bool_f32", to=TensorProto.FLOAT)
s.op("Not", ["t"], "Not")
s.op("Transpose", ["a"], "Transpose")
s.op("Transpose", ["ia"], "Transpose_i64")
s.op("Slice", ["a", s.const(ints(-1, -3)), s.const(ints(INT64_MIN, 5)), s.const(ints(1, 0)),
               s.const(ints(-1, -2))], "Slice_reverse")
s.op("Pad", ["a", s.const(ints(1, 3, 2, 5))], "Pad_reflect", mode="reflect")
s.op("Mod", ["ia", s.const(np.int64(7))], "Mod_i64")
s.op("Div", ["ia", s.const(np.int64(-7))], "Div_i64")

s = spec("large-reductions")
s.input("x", s.f32(37, 45))
s.input("y", s.f32(4, 33, 100))
s.input("iy", s.i64(4, 33, 100, lo=-50, hi=50))
for axes in [(0,), (1,), (0, 1)]:
    tag = "_".join(map(str, axes))
    s.op("ReduceSum", ["x", s.const(ints(*axes))], f"ReduceSum_x{tag}", keepdims=0)
    s.op("ReduceMax", ["x", s.const(ints(*axes))], f"ReduceMax_x{tag}")
for axes in [(0,), (1,), (2,), (0, 2)]:
    tag = "_".join(map(str, axes))
    s.op("ReduceMean", ["y", s.const(ints(*axes))], f"ReduceMean_y{tag}", keepdims=0)
    s.op("ReduceSum", ["iy", s.const(ints(*axes))], f"ReduceSum_iy{tag}", keepdims=0)
s.op("ReduceLogSumExp", ["y", s.const(ints(2))], "ReduceLogSumExp_y2", keepdims=0)
s.op("ReduceL2", ["y", s.const(ints(1))], "ReduceL2_y1", keepdims=0)
s.op("Softmax", ["y"], "Softmax_last", axis=-1)
s.op("Softmax", ["y"], "Softmax_mid", axis=1)
s.op("LogSoftmax", ["y"], "LogSoftmax_first", axis=0)
s.op("ArgMax", ["y"], "ArgMax_last", axis=-1, keepdims=0)
s.op("ArgMin", ["y"], "ArgMin_mid", axis=1, select_last_index=1)
s.op("LayerNormalization", ["y", s.const(s.f32(100)), s.const(s.f32(100))], "LayerNorm_100")

s = spec("large-matmul-conv")
s.input("a", s.f32(5, 37))
s.input("ba", s.f32(3, 7, 40))
s.input("x", s.f32(2, 5, 20, 37))
s.op("MatMul", ["a", s.const(s.f32(37, 50))], "MatMul_37x50")
s.op("MatMul", ["ba", s.input("bb", s.f32(3, 40, 19))], "MatMul_batched")
s.op("Gemm", ["a", s.const(s.f32(50, 37)), s.const(s.f32(50))], "Gemm_transB", transB=1)
s.op("Conv", ["x", s.const(s.f32(6, 5, 3, 3)), s.const(s.f32(6))], "Conv_wide", pads=[1, 1, 1, 1])
s.op("Conv", ["x", s.const(s.f32(4, 5, 3, 3))], "Conv_wide_s2", strides=[2, 2])
s.op("Conv", ["x", s.const(s.f32(5, 1, 5, 5))], "Conv_dw_wide", group=5, pads=[2, 2, 2, 2])
s.op("MaxPool", ["x"], "MaxPool_wide", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
s.op("AveragePool", ["x"], "AvgPool_wide", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
s.op("LRN", ["x"], "LRN_wide", size=3)

# Big enough for the default schedule's parallel loops (nests of at least
# 2^19 iterations; the small models above run on one thread whatever the count).
s = spec("parallel-default-schedule")
s.input("x", s.f32(512, 1100))
s.input("row", s.f32(1100))
s.input("t", s.bools(512, 1100))
s.op("Add", ["x", "row"], "Add_row")
s.op("Where", ["t", "x", s.const(np.float32(0))], "Where")
s.op("Transpose", ["x"], "Transpose")
s.op("ReduceSum", ["x", s.const(ints(0))], "ReduceSum_axis0", keepdims=0)
s.op("ReduceMax", ["x", s.const(ints(1))], "ReduceMax_axis1")
s.op("Softmax", ["x"], "Softmax_rows", axis=-1)
s.op("ArgMax", ["x"], "ArgMax_columns", axis=0)
s.op("MatMul", [s.input("a", s.f32(96, 128)), s.const(s.f32(128, 80))], "MatMul")
s.op("Conv", [s.input("x8", s.f32(1, 8, 40, 41)), s.const(s.f32(12, 8, 3, 3)), s.const(s.f32(12))],
     "Conv_plain", pads=[1, 1, 1, 1])
s.input("x16", s.f32(1, 16, 40, 41))
h = s.op("Conv", ["x16", s.const(s.f32(32, 16, 3, 3))], check=False, pads=[1, 1, 1, 1])
s.op("Relu", [h], "Conv_blocked_relu")
s.op("MaxPool", [h], "MaxPool_blocked", kernel_shape=[3, 3], pads=[1, 1, 1, 1])

# ---------------------------------------------------------------------------
# Blocked layouts at O3 (convert-layout): what flows through NCHW16c regions

s = spec("layout-regions")
s.input("x", s.f32(1, 3, 11, 13))
s.input("r16", s.f32(1, 16, 11, 13))
s.input("p3", s.f32(1, 3, 11, 13))
c16 = s.op("Conv", ["x", s.const(s.f32(16, 3, 3, 3)), s.const(s.f32(16))], check=False,
           pads=[1, 1, 1, 1])
c32 = s.op("Conv", ["x", s.const(s.f32(32, 3, 3, 3)), s.const(s.f32(32))], check=False,
           pads=[1, 1, 1, 1])
s.op("Mul", [c16, s.const(s.f32(13))], "bcast_const_W")
s.op("Add", [c16, s.const(s.f32(1, 16, 1, 13))], "bcast_const_CW")
s.op("Add", [c16, s.const(s.f32(16, 1, 1))], "bcast_const_C11")
s.op("Add", [c16, "r16"], "add_runtime_full")
s.op("Sub", [c16, s.input("rc", s.f32(1, 16, 1, 1))], "sub_runtime_C")
s.op("Concat", [c16, c32], "concat_channels", axis=1)
s.op("Concat", [c16, "r16"], "concat_with_input", axis=1)
s.op("Concat", [c16, "p3"], "concat_odd_channels", axis=1)
s.op("Concat", [c16, c16], "concat_width", axis=3)
s.op("Slice", [c32, s.const(ints(16)), s.const(ints(32)), s.const(ints(1))], "slice_block")
s.op("Slice", [c32, s.const(ints(-1)), s.const(ints(INT64_MIN)), s.const(ints(2)),
               s.const(ints(-2))], "slice_h_reverse")
s.op("Where", [s.op("Greater", [c16, s.const(np.float32(0.1))], check=False), c16,
               s.const(np.float32(-1.0))], "greater_where")
s.op("Softmax", [c16], "softmax_channels", axis=1)
s.op("ReduceMean", [c32, s.const(ints(2, 3))], "reduce_mean_hw_keep", keepdims=1)
s.op("ReduceMean", [c32, s.const(ints(2, 3))], "reduce_mean_hw_nokeep", keepdims=0)
s.op("ReduceSum", [c32, s.const(ints(1))], "reduce_channels", keepdims=1)
s.op("Flatten", [s.op("GlobalAveragePool", [c32], check=False)], "gap_flatten")
bn = [s.const(s.f32(16)), s.const(s.f32(16)), s.const(s.f32(16)),
      s.const(s.f32(16, lo=0.5, hi=2.0))]
s.op("Relu", [s.op("BatchNormalization", [c16, *bn], check=False)], "bn_relu")
s.op("Cast", [c16], "cast_i64", to=TensorProto.INT64)
s.op("AveragePool", [c32], "avgpool_incl", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
     count_include_pad=1)
s.op("AveragePool", [c32], "avgpool_excl_ceil", kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
s.op("MaxPool", [c32], "maxpool_dilated", kernel_shape=[2, 2], dilations=[2, 2])

s = spec("sibling-convs-bias-mix")
s.input("x", s.f32(1, 3, 8, 8))
s.op("Conv", ["x", s.const(s.f32(16, 3, 3, 3)), s.const(s.f32(16))], "with_bias", pads=[1, 1, 1, 1])
s.op("Conv", ["x", s.const(s.f32(32, 3, 3, 3))], "without_bias", pads=[1, 1, 1, 1])

s = spec("layout-conv-variants")
s.input("x", s.f32(1, 16, 9, 15))
s.input("x32", s.f32(2, 32, 6, 5))
h = s.op("Conv", ["x", s.const(s.f32(32, 16, 3, 3))], check=False, pads=[1, 1, 1, 1])
s.op("Conv", [h, s.const(s.f32(32, 1, 3, 3)), s.const(s.f32(32))], "depthwise_s2", group=32,
     strides=[2, 2], pads=[1, 1, 1, 1])
s.op("Conv", [h, s.const(s.f32(8, 32, 1, 1))], "O8_after_blocked")
s.op("Conv", [h, s.const(s.f32(20, 32, 3, 3))], "O20_after_blocked", pads=[0, 1, 1, 0])
s.op("Conv", [h, s.const(s.f32(32, 16, 3, 3))], "grouped_after_blocked", group=2)
s.op("Conv", [h, s.const(s.f32(48, 32, 1, 1))], "O48")
r = s.op("Conv", [h, s.const(s.f32(32, 32, 3, 3)), s.const(s.f32(32))], check=False,
         pads=[1, 1, 1, 1])
s.op("Relu", [s.op("Add", [r, h], check=False)], "residual_block")
s.op("Conv", ["x32", s.const(s.f32(16, 32, 5, 5)), s.const(s.f32(16))], "batch2_k5",
     pads=[2, 2, 2, 2], strides=[1, 2])
s.op("Conv", ["x32", s.const(s.f32(16, 32, 3, 3))], "batch2_dilated_s2", dilations=[2, 2],
     strides=[2, 2], pads=[2, 1, 2, 1])

# ---------------------------------------------------------------------------
# IEEE special values through every float function (approximations included)

s = spec("float-specials", opset=20)
s.input("x", np.asarray([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 100.0, -100.0, 1e-40,
                         3.4e38, -3.4e38, 88.8, -104.0, 0.5, 20.0, 9.5], np.float32))
s.input("z", np.asarray([0.0, -0.0, 0.0, 1.0, -1.0, np.inf, np.nan, 2.0, 0.0, -0.0, 1.0, 1.0,
                         1.0, 1.0, 1.0, 1.0, 1.0], np.float32))
for name in ["Exp", "Tanh", "Sigmoid", "Erf", "Abs", "Neg", "Floor", "Ceil", "Round", "Softplus",
             "Softsign", "Elu", "Gelu", "Sin", "Cos", "Log", "Sqrt", "Reciprocal", "Relu",
             "LeakyRelu", "HardSigmoid", "HardSwish"]:
    s.op(name, ["x"], name)
for name in ["Div", "Mul", "Add", "Less", "Greater", "Pow"]:
    s.op(name, ["x", "z"], name)
s.op("Equal", ["x", "x"], "Equal_self")
s.op("Cast", ["x"], "Cast_f64", to=TensorProto.DOUBLE)
s.op("Cast", ["x"], "Cast_bool", to=TensorProto.BOOL)

s = spec("float64-nn")
s.input("x", s.f64(2, 3, 7, 9))
s.input("v", s.f64(4, 37))
s.op("Softmax", ["v"], "Softmax", axis=-1)
s.op("LogSoftmax", ["v"], "LogSoftmax", axis=0)
s.op("LayerNormalization", ["v", s.const(s.f64(37)), s.const(s.f64(37))], "LayerNormalization")
s.op("MatMul", ["v", s.const(s.f64(37, 5))], "MatMul")
s.op("Gemm", ["v", s.const(s.f64(5, 37)), s.const(s.f64(5))], "Gemm", transB=1)
s.op("MaxPool", ["x"], "MaxPool", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
s.op("ReduceLogSumExp", ["v", s.const(ints(1))], "ReduceLogSumExp")
s.op("ReduceL2", ["v", s.const(ints(1))], "ReduceL2")
s.op("Tanh", ["v"], "Tanh")
s.op("BatchNormalization", ["x", s.const(s.f64(3)), s.const(s.f64(3)), s.const(s.f64(3)),
                            s.const(s.f64(3, lo=0.5, hi=2.0))], "BatchNormalization")
s.op("Where", [s.input("c", s.bools(4, 37)), "v", s.const(np.float64(2.0))], "Where")
s.op("Pad", ["v", s.const(ints(1, 2, 0, 3)), s.const(np.float64(-1.5))], "Pad")

# ---------------------------------------------------------------------------
# Memory plan and outputs: in-place chains, views of intermediates, nested
# in-place concats, an input / one value twice / a constant as outputs

s = spec("memory-and-outputs")
s.input("x", s.f32(1, 6, 5))
s.input("y", s.f32(7, 13))
s.input("row", s.f32(13))
e = s.op("Exp", ["y"], check=False)
b = s.op("Add", [e, "row"], check=False)
s.op("Sigmoid", [s.op("Mul", [b, b], check=False)], "chain_end")
s.op("Sub", [e, "chain_end"], "reads_early_value", rtol=1e-4)
r = s.op("Relu", ["x"], check=False)
v = s.op("Slice", [r, s.const(ints(2)), s.const(ints(4)), s.const(ints(1))], check=False)
s.op("Neg", [v], "neg_of_view")
s.op("Reshape", [v, s.const(ints(10))], "reshape_of_view")
s.op("Tanh", [r], "view_source_again")
inner = s.op("Concat", [s.op("Abs", ["x"], check=False), s.op("Neg", ["x"], check=False)],
             check=False, axis=1)
s.op("Concat", [inner, s.op("Relu", ["x"], check=False)], "nested_concat", axis=1)
s.op("Identity", ["x"], "input_as_output")
twice = s.op("Exp", ["x"], "exp_once")
s.op("Identity", [twice], "exp_twice")
s.op("Identity", [s.const(s.f32(3))], "constant_as_output")
s.op("Concat", [s.op("Sigmoid", ["y"], check=False), "y"], "concat_with_input", axis=0, rtol=1e-4)

# ---------------------------------------------------------------------------
# Injective ops computed inline at O3: index maps of reshape groups, pads,
# gathers, expands, negative slices of fused expressions

s = spec("injective-inline")
s.input("x", s.f32(2, 3, 4))
s.input("y", s.f32(6, 1, 4))
s.input("z", s.f32(1, 24))
s.input("w", s.f32(3, 5))
for i, (src, perm, shape) in enumerate([
    ("x", [2, 0, 1], (4, 3, 2)), ("x", [1, 0, 2], (3, 1, 8)), ("x", [0, 2, 1], (2, 12)),
    ("y", [1, 0, 2], (2, 1, 3, 4)), ("y", [2, 1, 0], (2, 2, 6)), ("z", [1, 0], (4, 6)),
    ("z", [1, 0], (2, 3, 2, 2)), ("x", [2, 1, 0], (24,)),
]):
    tr = s.op("Transpose", [src], check=False, perm=perm)
    s.op("Neg", [s.op("Reshape", [tr, s.const(ints(*shape))], check=False)], f"regroup{i}")
ew = s.op("Exp", ["w"], check=False)
s.op("Pad", [s.op("Transpose", [ew], check=False), s.const(ints(1, 2, 2, 0))], "pad_transposed",
     mode="reflect", rtol=1e-4)
s.op("Gather", [s.op("Relu", ["w"], check=False), s.const(np.asarray([[2, 0], [-1, 1]], np.int64))],
     "gather_fused", axis=1)
s.op("Expand", [s.op("Sigmoid", [s.input("c", s.f32(3, 1))], check=False), s.const(ints(2, 3, 4))],
     "expand_fused", rtol=1e-4)
s.op("Concat", [s.op("Add", ["w", s.const(s.f32(5))], check=False),
                s.op("Expand", [s.const(s.f32(1, 5)), s.const(ints(2, 5))], check=False)],
     "concat_broadcast", axis=0)
s.op("Slice", [s.op("Mul", ["w", "w"], check=False), s.const(ints(-1, -2)), s.const(ints(-100, -100)),
               s.const(ints(0, 1)), s.const(ints(-1, -2))], "slice_negative_fused")
s.op("Tile", [s.op("Abs", ["w"], check=False), s.const(ints(2, 3))], "tile_fused")
s.op("DepthToSpace", [s.op("Neg", [s.input("d", s.f32(1, 8, 3, 2))], check=False)], "d2s_fused",
     blocksize=2, mode="CRD")
s.op("Where", [s.op("Greater", ["w", s.const(np.float32(0))], check=False),
               s.op("Transpose", [s.input("w2", s.f32(5, 3))], check=False),
               s.const(np.float32(7))], "where_fused")
rt = s.op("Transpose", [s.op("Reshape", ["x", s.const(ints(6, 4))], check=False)], check=False)
s.op("ReduceSum", [rt, s.const(ints(1))], "reduce_of_reshape_transpose", keepdims=0)
s.op("Softmax", [s.op("Transpose", ["x"], check=False, perm=[0, 2, 1])], "softmax_of_transpose",
     axis=1)

# ---------------------------------------------------------------------------
# Fused chains (O3 groups them: epilogues, prologues, injective DAGs)

s = spec("fusion-chains")
s.input("x", s.f32(1, 5, 6, 7))
s.input("r", s.f32(1, 4, 6, 7))
s.input("m", s.f32(3, 17))
s.input("q", s.f32(2, 5, 37))
c = s.op("Conv", ["x", s.const(s.f32(4, 5, 3, 3)), s.const(s.f32(4))], check=False, pads=[1, 1, 1, 1])
s.op("Relu", [s.op("Add", [c, "r"], check=False)], "conv_residual_relu")
mm = s.op("MatMul", ["m", s.const(s.f32(17, 9))], check=False)
s.op("Sigmoid", [s.op("Add", [mm, s.const(s.f32(9))], check=False)], "matmul_bias_sigmoid")
e = s.op("Exp", ["q"], check=False)
s.op("ReduceSum", [e, s.const(ints(2))], "exp_reducesum", rtol=1e-4, keepdims=0)
sc = s.op("Mul", ["q", s.const(np.float32(0.125))], check=False)
s.op("Softmax", [sc], "scaled_softmax", axis=-1)
res = s.op("Add", ["q", s.const(s.f32(37))], check=False)
s.op("LayerNormalization", [res, s.const(s.f32(37)), s.const(s.f32(37))], "residual_layernorm", axis=-1)
mx = s.op("ReduceMax", ["q", s.const(ints(1))], check=False, keepdims=1)
s.op("Sub", ["q", mx], "reduce_broadcast_sub")
am = s.op("ArgMax", [s.op("Neg", ["q"], check=False)], check=False, axis=1)
s.op("Cast", [am], "argmax_cast", to=TensorProto.FLOAT)
s.op("Equal", [am, s.const(np.int64(3))], "argmax_equal")
# Epilogues that change the element type, or read runtime operands
r = s.op("ReduceSum", ["q", s.const(ints(1))], check=False, keepdims=0)
s.op("Cast", [r], "reduce_cast_i64", to=TensorProto.INT64)
s.op("Greater", [r, s.const(np.float32(0))], "reduce_greater")
s.op("Cast", [s.op("Softmax", ["q"], check=False, axis=1)], "softmax_cast_f64",
     to=TensorProto.DOUBLE)
s.op("Less", [c, s.const(np.float32(0))], "conv_less")
s.op("Add", [c, s.const(s.f32(7))], "conv_add_row")
s.op("Add", [s.op("MatMul", [s.input("b3", s.f32(2, 3, 17)), s.const(s.f32(17, 5))], check=False),
             s.input("rb", s.f32(3, 5))], "matmul_add_runtime")
p = s.op("MaxPool", ["x"], check=False, kernel_shape=[2, 2])
s.op("Cast", [p], "pool_cast", to=TensorProto.INT64)
s.op("Mul", [p, s.const(s.f32(5, 1, 1))], "pool_mul_channel")
s.op("Cast", [s.op("LayerNormalization", ["q", s.const(s.f32(37))], check=False)], "ln_cast",
     to=TensorProto.INT64)
s.op("Sqrt", [s.op("ReduceMean", [s.op("Mul", ["q", "q"], check=False), s.const(ints(2))],
                   check=False)], "rms")
# Normalizations and biases from runtime inputs (nothing to fold)
s.input("x16", s.f32(2, 16, 5, 6))
for n in ["sc", "bi", "mu"]:
    s.input(n, s.f32(16))
s.input("va", s.f32(16, lo=0.5, hi=2.0))
s.op("BatchNormalization", ["x16", "sc", "bi", "mu", "va"], "bn_runtime_params")
cb = s.op("Conv", ["x16", s.const(s.f32(16, 16, 3, 3)), "bi"], "conv_runtime_bias", pads=[1, 1, 1, 1])
s.op("BatchNormalization", [cb, s.const(s.f32(16)), s.const(s.f32(16)), s.const(s.f32(16)),
                            s.const(s.f32(16, lo=0.5, hi=2.0))], "conv_then_bn")
s.op("InstanceNormalization", ["x16", "sc", "bi"], "instancenorm_runtime")
s.op("MatMul", [s.const(s.f32(3, 6)), s.input("mr", s.f32(6, 20))], "matmul_const_lhs")
s.op("MaxPool", ["x16"], "pool_kernel_as_big_as_input", kernel_shape=[5, 6], pads=[2, 2, 2, 2])
s.op("AveragePool", ["x16"], "avgpool_big_kernel", kernel_shape=[5, 6], pads=[2, 3, 2, 3],
     strides=[3, 3])


# ---------------------------------------------------------------------------
# Indexing and scatter, structured decompositions, more activations

s = spec("gather-elements-nd", opset=18)
s.input("ge", s.f32(2, 3, 5))
s.input("ge_idx", s.i64(2, 3, 4, lo=-5, hi=5))
s.op("GatherElements", ["ge", "ge_idx"], "gather_elements_axis2", axis=2)
s.op("GatherElements", ["ge", s.const(s.i64(1, 3, 5, lo=-2, hi=2))], "gather_elements_axis0_const")
s.op("Relu", [s.op("GatherElements", ["ge", s.const(s.i32(2, 2, 5, lo=0, hi=3))], check=False, axis=1)],
     "gather_elements_then_relu")
# Position ids as a torch.onnx-exported encoder computes them: CumSum of a mask, gathered.
s.input("mask", (s.rng.integers(0, 2, size=(2, 7))).astype(np.int64))
pos = s.op("CumSum", ["mask", s.const(np.int64(1))], "cumsum_i64_mask")
s.op("GatherElements", [s.input("table", s.i64(2, 8)), pos], "gather_elements_position_ids", axis=1)
s.op("GatherND", ["ge", s.input("nd_idx", np.asarray([[[1, 4]], [[0, -1]]], np.int64))], "gathernd_batch1",
     batch_dims=1)
s.op("GatherND", ["ge", s.const(np.asarray([[1, 2], [0, -3]], np.int64))], "gathernd_rows")

s = spec("scatter", opset=18)
s.input("sd", s.f32(4, 6))
s.input("sidx", np.asarray([[1, 0, 3, 2, 0, 1], [3, 2, 1, 0, -1, -1]], np.int64))
s.input("supd", s.f32(2, 6))
for red in ["none", "add", "mul", "max", "min"]:
    s.op("ScatterElements", ["sd", "sidx", "supd"], f"scatter_elements_{red}", reduction=red)
s.op("ScatterElements", [s.input("si", s.i64(3, 5)), s.const(np.asarray([[4, -1], [0, 2]], np.int64)),
                         s.input("siu", s.i64(2, 2))], "scatter_elements_i64_axis1", axis=1,
     reduction="add")
s.op("ScatterND", ["sd", s.const(np.asarray([[2], [0]], np.int64)), s.input("rows", s.f32(2, 6))],
     "scatternd_rows")
s.op("ScatterND", [s.input("s3", s.f32(2, 3, 4)), s.const(np.asarray([[0, 1, 2], [1, 2, 3], [0, 1, 2]],
                                                                      np.int64)),
                   s.input("pts", s.f32(3))], "scatternd_points_add", reduction="add")
s.op("Add", [s.op("ScatterND", ["sd", s.const(np.asarray([[-1, 5]], np.int64)), s.input("one", s.f32(1))],
                  check=False, reduction="max"), "sd"], "scatternd_max_then_add")

s = spec("scatter-opset10", opset=10)
s.op("Scatter", [s.input("sd", s.f32(4, 6)), s.input("sidx", np.asarray([[1, 0, 3], [-1, 2, 0]], np.int64)),
                 s.input("supd", s.f32(2, 3))], "scatter_opset9_name")

s = spec("trilu-cumsum-onehot-einsum", opset=18)
s.input("t", s.f32(2, 5, 7))
s.op("Trilu", ["t"], "triu")
s.op("Trilu", ["t", s.const(np.int64(-2))], "tril_k-2", upper=0)
s.op("Trilu", ["t", s.input("k", np.asarray(2, np.int64))], "triu_runtime_k")
for ex in (0, 1):
    for rev in (0, 1):
        s.op("CumSum", ["t", s.const(np.int64(2))], f"cumsum_ex{ex}_rev{rev}", exclusive=ex, reverse=rev)
s.op("CumSum", [s.input("ci", s.i32(9)), s.const(np.int32(0))], "cumsum_i32_1d")
s.op("OneHot", [s.input("labels", s.i64(2, 3, lo=-4, hi=4)), s.const(np.int64(4)),
                s.const(np.asarray([0.0, 1.0], np.float32))], "onehot")
s.op("OneHot", ["labels", s.const(np.int64(5)), s.const(ints(3, -2))], "onehot_axis0_i64", axis=0)
s.input("q", s.f32(2, 3, 5, 8))
s.input("kk", s.f32(2, 3, 6, 8))
scores = s.op("Einsum", ["q", "kk"], "einsum_qk", equation="bhqd,bhkd->bhqk")
s.op("Einsum", [scores, s.input("v", s.f32(2, 6, 3, 8))], "einsum_context", equation="bhqk,bkhd->bqhd")
s.op("Einsum", ["t"], "einsum_reduce_transpose", equation="bij->jb")
s.op("Einsum", [s.input("sq", s.f32(3, 4, 4))], "einsum_batch_trace", equation="bii->b")
s.op("Einsum", [s.input("ea", s.i64(3, 4)), s.input("eb", s.i64(4))], "einsum_matvec_i64", equation="ij,j->i")
s.op("Gather", ["t", s.op("NonZero", [s.const(ints(0, 1, 0, 1, 1))], check=False)], "nonzero_const", axis=2)
s.op("Gather", ["t", s.op("Unique", [s.const(ints(4, 1, 4, 0))], check=False)], "unique_const", axis=2)

s = spec("topk", opset=18)
ties = s.steps(3, 40, lo=-3, hi=3)  # many equal values: ties go to the lower index
s.op("TopK", [s.input("tx", ties), s.const(ints(5))], "topk_largest", outs=2)
s.op("TopK", ["tx", s.const(ints(40))], "topk_full_sort_smallest", outs=2, largest=0)
s.op("TopK", [s.input("ti", s.i32(6, 4)), s.const(ints(3))], "topk_i32_axis0", outs=2, axis=0)
s.op("TopK", [s.input("tw", s.f32(2, 9, 3)), s.const(ints(1))], "topk_k1_middle_axis", outs=2, axis=1)

s = spec("bitwise", opset=18)
s.input("ba", s.i32(3, 17, lo=-1000, hi=1000))
s.input("bb", s.i32(17, lo=-1000, hi=1000))
s.input("ua", s.rng.integers(0, 256, (2, 19)).astype(np.uint8))
s.input("ub", s.rng.integers(0, 256, (2, 19)).astype(np.uint8))
for name in ["BitwiseAnd", "BitwiseOr", "BitwiseXor"]:
    s.op(name, ["ba", "bb"], f"{name}_i32")
    s.op(name, ["ua", "ub"], f"{name}_u8")
s.op("BitwiseNot", ["ba"], "BitwiseNot_i32")
s.op("BitwiseNot", ["ua"], "BitwiseNot_u8")
s.input("shift", np.tile(np.asarray([0, 1, 3, 7, 8, 9, 200, 255], np.uint8), 3)[:19].reshape(1, 19))
s.op("BitShift", ["ua", "shift"], "BitShift_left", direction="LEFT")
s.op("BitShift", ["ua", "shift"], "BitShift_right", direction="RIGHT")

s = spec("activations-math", opset=18)
s.input("a", s.f32(5, 13, lo=-4.0, hi=4.0))
for name, attrs in [("Mish", {}), ("Selu", {}), ("Celu", {"alpha": 0.7}), ("ThresholdedRelu", {"alpha": 0.5}),
                    ("Shrink", {"lambd": 1.0, "bias": 0.5}), ("Hardmax", {}), ("Hardmax", {"axis": 0})]:
    s.op(name, ["a"], f"{name}_{len(s.outputs)}", rtol=1e-4, **attrs)
s.op("Shrink", [s.input("ai", s.i32(17))], "Shrink_i32", lambd=2.0, bias=1.0)
for name, lo, hi in [("Tan", -1.2, 1.2), ("Asin", -1.0, 1.0), ("Acos", -1.0, 1.0), ("Atan", -9.0, 9.0),
                     ("Sinh", -5.0, 5.0), ("Cosh", -5.0, 5.0), ("Asinh", -9.0, 9.0), ("Acosh", 1.0, 9.0),
                     ("Atanh", -0.99, 0.99)]:
    s.op(name, [s.input(f"in_{name}", s.f32(3, 37, lo=lo, hi=hi))], name, rtol=1e-4)
special = np.asarray([1.0, np.nan, np.inf, -np.inf, -0.0, 3.0e38, -2.0] * 5, np.float32)
s.op("IsNaN", [s.input("sp", special)], "IsNaN")
s.op("IsInf", ["sp"], "IsInf")
s.op("IsInf", ["sp"], "IsInf_positive", detect_negative=0)
# Resize / Upsample (gather and weight tables, or a broadcast), ConvTranspose
# (pixel shuffle or zero insertion onto graph.conv), and the normalizations
# that decompose into layer_norm and reductions.

s = spec("resize", opset=19)
s.input("img", s.f32(1, 3, 6, 7))
# Non-integer sizes go through `sizes`: onnxruntime takes align_corners' resized
# length from the integer output dim, ONNX's reference from scale * input dim.
_targets = {"2x": ["", s.const(np.asarray([1, 1, 2, 2], np.float32))], "odd": ["", "", s.const(ints(1, 3, 9, 4))]}
for _tag, _args in _targets.items():
    s.op("Resize", ["img", *_args], f"nearest_asym_floor_{_tag}", mode="nearest",
         coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    s.op("Resize", ["img", *_args], f"nearest_half_pixel_{_tag}", mode="nearest")
    s.op("Resize", ["img", *_args], f"linear_half_pixel_{_tag}", mode="linear")
    s.op("Resize", ["img", *_args], f"linear_align_corners_{_tag}", mode="linear",
         coordinate_transformation_mode="align_corners")
    s.op("Resize", ["img", *_args], f"cubic_{_tag}", mode="cubic")
s.op("Resize", ["img", "", "", s.const(ints(5, 9))], "sizes_axes_pytorch_half_pixel", mode="linear",
     axes=[2, 3], coordinate_transformation_mode="pytorch_half_pixel")
s.op("Resize", ["img", s.const(np.asarray([0.1, 0.2, 0.9, 1.1], np.float32)), "", s.const(ints(4, 5))],
     "tf_crop_and_resize", mode="linear", axes=[2, 3], coordinate_transformation_mode="tf_crop_and_resize",
     extrapolation_value=2.5)
s.op("Relu", [s.op("Resize", ["img", "", s.const(np.asarray([1, 1, 2, 2], np.float32))], check=False,
                   mode="linear")], "bilinear_then_relu")

# QOperator models resize u8/s8 tensors: onnxruntime sums the four corners in
# float32 in a fixed order and truncates, so results near an integer go to the
# side its order gives (odd sizes put many there).
s = spec("resize-integer", opset=13)
s.input("q_u8", s.rng.integers(0, 256, (1, 3, 8, 10)).astype(np.uint8))
s.input("q_s8", s.rng.integers(-128, 128, (1, 2, 7, 9)).astype(np.int8))
for _coord in ("half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"):
    s.op("Resize", ["q_u8", "", "", s.const(ints(1, 3, 13, 21))], f"u8_{_coord}", mode="linear",
         coordinate_transformation_mode=_coord)
    s.op("Resize", ["q_s8", "", "", s.const(ints(1, 2, 5, 4))], f"s8_{_coord}_down", mode="linear",
         coordinate_transformation_mode=_coord)
s.op("Resize", ["q_u8", "", s.const(np.asarray([1, 1, 2, 2], np.float32))], "u8_scales_2x", mode="linear")
# The same kernel on float32: in a QDQ model (DequantizeLinear, Resize,
# QuantizeLinear) a resized value on a tie between two steps rounds to the side
# that onnxruntime's order of the sum gives.
_dq = s.op("DequantizeLinear", ["q_u8", s.const(np.float32(0.0372)), s.const(np.uint8(121))], check=False)
for _tag, _size in (("down", (1, 3, 4, 5)), ("up", (1, 3, 13, 21)), ("2x", (1, 3, 16, 20))):
    _rs = s.op("Resize", [_dq, "", "", s.const(ints(*_size))], check=False, mode="linear")
    s.op("QuantizeLinear", [_rs, s.const(np.float32(0.0372)), s.const(np.uint8(121))], f"qdq_{_tag}")

s = spec("conv-transpose-upsample", opset=9)  # Upsample ends at opset 9
s.input("img", s.f32(2, 4, 5, 3))
s.op("Upsample", ["img", s.const(np.asarray([1, 1, 2, 2], np.float32))], "nearest_2x")
s.op("Upsample", ["img", s.const(np.asarray([1, 1, 3, 2], np.float32))], "linear_3x2", mode="linear")
s.input("x", s.f32(1, 8, 5, 6))
s.input("x1", s.f32(2, 4, 9))
s.op("ConvTranspose", ["x", s.const(s.f32(8, 4, 2, 2)), s.const(s.f32(4))], "k2_s2_bias", strides=[2, 2])
s.op("ConvTranspose", ["x", s.const(s.f32(8, 2, 2, 2))], "k2_s2_group4", strides=[2, 2], group=4)
s.op("ConvTranspose", ["x", s.const(s.f32(8, 3, 4, 4)), s.const(s.f32(3))], "k4_s2_p1", strides=[2, 2],
     pads=[1, 1, 1, 1])
s.op("ConvTranspose", ["x", s.const(s.f32(8, 2, 3, 3))], "k3_s2_outpad_dil", strides=[2, 2],
     pads=[0, 1, 1, 0], output_padding=[1, 0], dilations=[2, 1])
s.op("ConvTranspose", ["x", s.const(s.f32(8, 16, 3, 3))], "k3_s1_same_upper", auto_pad="SAME_UPPER")
s.op("ConvTranspose", ["x1", s.const(s.f32(4, 2, 5))], "k5_s3_1d", strides=[3], pads=[2, 1])

s = spec("normalizations-decomposed", opset=23)
s.input("x4", s.f32(2, 6, 4, 5))
s.input("x3", s.f32(3, 4, 6))
s.op("GroupNormalization", ["x4", s.const(s.f32(6)), s.const(s.f32(6))], "GroupNorm_3", num_groups=3,
     rtol=1e-4)
s.op("RMSNormalization", ["x3", s.const(s.f32(6))], "RMSNorm_last", rtol=1e-4)
s.op("RMSNormalization", ["x4", s.const(s.f32(4, 5))], "RMSNorm_axis2", axis=2, rtol=1e-4)
s.op("MeanVarianceNormalization", ["x4"], "MVN_default", rtol=1e-4)
s.op("LpNormalization", ["x3"], "LpNorm_p2", rtol=1e-4)
s.op("LpNormalization", ["x3"], "LpNorm_p1_axis1", axis=1, p=1)
s.op("LayerNormalization", ["x3", s.const(s.f32(4, 6))], "LN_stats", outs=3, axis=1, rtol=1e-4)
# Quantization: integer outputs must equal onnxruntime's exactly. u8 x s8
# activations stay below 128: onnxruntime's AVX2 u8s8 kernel saturates pairs
# of products at int16 above that (ours are exact int32). More variants (s8s8,
# depthwise, zero points per column) are in test_frontend_numerics.py.


def _u8(sp: Spec, *shape: int, hi: int = 256) -> np.ndarray:
    return sp.rng.integers(0, hi, size=shape).astype(np.uint8)


def _s8(sp: Spec, *shape: int) -> np.ndarray:
    return sp.rng.integers(-128, 128, size=shape).astype(np.int8)


s = spec("quantize-dequantize", opset=13)
ties = (np.arange(-300, 300, dtype=np.float32) * 0.25).reshape(6, 100)
s.input("t", ties)
s.op("QuantizeLinear", ["t", s.const(np.float32(0.5)), s.const(np.uint8(128))], "q_u8_ties")
xq = s.input("xq", s.f32(2, 3, 5, 4))
s.op("QuantizeLinear", [xq, s.const(s.f32(3, lo=0.01, hi=0.05)), s.const(_s8(s, 3))], "q_per_axis", axis=1)
s.op("DequantizeLinear", [s.input("d8", _s8(s, 2, 3, 5)), s.const(s.f32(3, lo=0.01, hi=0.05)),
                          s.const(_s8(s, 3))], "dq_per_axis", axis=1)
s.op("DequantizeLinear", [s.input("di32", s.i32(4, 7, lo=-90000, hi=90000)), s.const(np.float32(0.003))],
     "dq_i32")
qdq = s.op("DequantizeLinear", [s.op("QuantizeLinear", [xq, s.const(np.float32(0.02)), s.const(np.int8(1))],
                                     check=False), s.const(np.float32(0.02)), s.const(np.int8(1))], check=False)
s.op("QuantizeLinear", [s.op("Relu", [qdq], check=False), s.const(np.float32(0.04)), s.const(np.uint8(0))],
     "qdq_relu_q")
s.op("DynamicQuantizeLinear", [s.input("dyn", s.f32(3, 33))], "dyn", outs=3)

s = spec("integer-matmul", opset=10)
a = s.input("a", _u8(s, 2, 5, 40, hi=128))
s.op("MatMulInteger", [a, s.const(_s8(s, 40, 19)), s.const(np.uint8(37))], "mmi_u8s8")
s.op("MatMulInteger", [s.input("as", _s8(s, 5, 40)), s.const(_s8(s, 40, 19))], "mmi_s8s8")
s.op("QLinearMatMul", [a, s.const(np.float32(0.02)), s.const(np.uint8(64)), s.const(_s8(s, 40, 19)),
                       s.const(s.f32(19, lo=0.004, hi=0.02)), s.const(np.zeros(19, np.int8)),
                       s.const(np.float32(0.05)), s.const(np.uint8(120))], "qlmm_u8s8_per_column")

s = spec("integer-conv", opset=10)
x = s.input("x", _u8(s, 1, 4, 6, 6, hi=128))
s.op("ConvInteger", [x, s.const(_u8(s, 8, 4, 3, 3)), s.const(np.uint8(60)), s.const(np.uint8(3))],
     "convi_u8u8_pad", pads=[1, 1, 1, 1])
s.op("QLinearConv", [x, s.const(np.float32(0.02)), s.const(np.uint8(64)), s.const(_s8(s, 8, 4, 3, 3)),
                     s.const(s.f32(8, lo=0.002, hi=0.01)), s.const(np.zeros(8, np.int8)),
                     s.const(np.float32(0.05)), s.const(np.uint8(100)), s.const(s.i32(8, lo=-900, hi=900))],
     "qlconv_u8s8_per_channel_bias", pads=[1, 1, 1, 1])


# 3-D convolution and pooling mapped onto the 2-D graph ops (depth folded into
# batch and channels for conv, separable pools), and window sums as depthwise
# convs (LpPool here; dilated average pooling shares them, checked by numerics
# and the conformance subset).
s = spec("spatial-3d", opset=19)
v = s.input("v", s.f32(1, 4, 5, 6, 9))
s.op("Relu", [s.op("Conv", [v, s.const(s.f32(16, 4, 3, 3, 3)), s.const(s.f32(16))], check=False,
                   pads=[1, 1, 1, 1, 1, 1], strides=[2, 1, 1])], "conv3d_O16_relu")
s.op("ConvTranspose", [v, s.const(s.f32(4, 3, 2, 2, 2))], "convtranspose3d_k2_s2", strides=[2, 2, 2])
s.op("MaxPool", [v], "maxpool3d", kernel_shape=[3, 3, 3], strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1])
s.op("AveragePool", [v], "avgpool3d_exclude_pad", kernel_shape=[2, 3, 3], strides=[1, 2, 2], pads=[0, 1, 1, 1, 1, 1])
s.op("LpPool", [v], "lppool3d_p2", kernel_shape=[2, 2, 3], rtol=1e-4)

s = spec("scans-eye-crop-swish", opset=26)
t = s.input("t", s.f32(3, 6, 5, lo=0.6, hi=1.4))
for ex in (0, 1):
    for rev in (0, 1):
        s.op("CumProd", [t, s.const(np.int64(1))], f"cumprod_ex{ex}_rev{rev}", exclusive=ex, reverse=rev)
s.op("CumProd", [s.input("ci", s.i32(9, lo=-3, hi=4)), s.const(np.int32(0))], "cumprod_i32_1d")
s.op("Add", [t, s.op("EyeLike", [s.input("sq", s.f32(6, 5))], check=False, k=1)], "eyelike_add")
s.op("CenterCropPad", [t, s.const(ints(4, 3))], "center_crop_pad", axes=[1, 2])
s.op("AffineGrid", [s.input("theta", s.f32(2, 2, 3)), s.const(ints(2, 1, 5, 6))], "affine_grid_2d")
s.op("Col2Im", [s.input("cols", s.f32(1, 8, 12)), s.const(ints(4, 5)), s.const(ints(2, 2))], "col2im_2d",
     strides=[1, 2], pads=[0, 1, 1, 0])
for name in ["HannWindow", "HammingWindow", "BlackmanWindow"]:
    s.op("Mul", [t, s.op(name, [s.const(np.int64(5))], check=False, periodic=0)], f"{name}_times_t")
s.op("Compress", [t, s.const(np.asarray([True, False, False, True, True], np.bool_))], "compress_axis2", axis=2)
s.op("MaxUnpool", [s.input("up", s.f32(1, 3, 2, 2, 3)),
                   s.input("upi", s.rng.permutation(3 * 4 * 4 * 5)[:36].reshape(1, 3, 2, 2, 3).astype(np.int64))],
     "maxunpool3d", kernel_shape=[2, 2, 2], strides=[2, 2, 2], pads=[0, 0, 1, 0, 0, 0])
pooled = s.op("MaxPool", [s.input("seg", s.steps(2, 3, 6, 7))], "maxpool_indices", outs=2, kernel_shape=[2, 2],
              strides=[2, 2], pads=[0, 0, 0, 1])  # ties: the first maximum's index
s.op("MaxUnpool", [pooled, "maxpool_indices.1", s.const(ints(2, 3, 6, 7))], "segnet_unpool", kernel_shape=[2, 2],
     strides=[2, 2], pads=[0, 0, 0, 1])

s = spec("causal-conv-with-state", opset=27)
s.op("CausalConvWithState", [s.input("seq", s.f32(2, 16, 9)), s.const(s.f32(16, 1, 4)), s.const(s.f32(16)),
                             s.input("past", s.f32(2, 16, 3))], "causal_conv_silu", outs=2, activation="silu",
     rtol=1e-4)

s = spec("swish", opset=24)  # onnxruntime 1.32 has no Swish kernel for models of opset 25 and up
s.op("Swish", [s.input("sw", s.f32(4, 33, lo=-6.0, hi=6.0))], "swish_alpha", alpha=0.6, rtol=1e-4)

s = spec("swiglu", opset=28, oracle="reference")  # onnxruntime 1.32 runs no SwiGLU
s.op("SwiGLU", [s.input("gate", s.f32(3, 40, lo=-6.0, hi=6.0)), s.input("up", s.f32(3, 40))], "swiglu_alpha",
     alpha=1.702, rtol=1e-4)


# ---------------------------------------------------------------------------
# Running


@pytest.fixture(scope="module")
def _expected() -> dict[str, list[np.ndarray]]:
    return {}


def _want(sp: Spec, model: onnx.ModelProto, cache: dict[str, list[np.ndarray]]) -> list[np.ndarray]:
    if sp.id not in cache:
        if sp.oracle == "reference":
            cache[sp.id] = oracle.run_reference(model, sp.feeds)
        else:
            cache[sp.id] = oracle.run_onnxruntime(model, sp.feeds)
    return cache[sp.id]


def _compare(got: np.ndarray, want: np.ndarray, rtol: float) -> str | None:
    """None when equal enough, else what differs."""
    if got.shape != want.shape:
        return f"shape {got.shape} != expected {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != expected {want.dtype}"
    if want.dtype.kind in "biu":
        bad = np.argwhere(got != want)
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            return f"{len(bad)} elements differ, first at {where}: got {got[where]!r}, expected {want[where]!r}"
        return None
    err = oracle.max_rel_error(got, want)
    if err <= rtol:
        return None
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    diff = np.where(np.isnan(diff), np.inf, diff)
    where = np.unravel_index(int(np.argmax(diff)), got.shape) if got.ndim else ()
    return f"max rel error {err:.3g} > {rtol:g}; worst at {tuple(map(int, where))}: got {got[where]!r}, expected {want[where]!r}"


def _params() -> list[Any]:
    out = []
    for sp in SPECS:
        for level in OPT_LEVELS:
            marks = []
            if level in sp.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=sp.xfail[level]))
            out.append(pytest.param(sp, level, id=f"{sp.id}-O{level}", marks=marks))
    return out


@pytest.mark.parametrize(("sp", "level"), _params())
def test_compiled_model_matches_oracle(
    sp: Spec, level: int, _expected: dict[str, list[np.ndarray]]
) -> None:
    model = sp.model()
    want = _want(sp, model, _expected)
    compiled = compiler.compile(model, opt_level=level)
    assert compiled.output_names == sp.outputs
    problems = []
    for threads in THREADS:
        compiled.set_num_threads(threads)
        got = compiled.run(None, sp.feeds)
        for name, g, w in zip(sp.outputs, got, want, strict=True):
            problem = _compare(np.asarray(g), np.asarray(w), sp.rtol.get(name, 1e-5))
            if problem is not None:
                problems.append(f"{name} ({threads} thread{'s' * (threads > 1)}): {problem}")
    assert not problems, f"{len(problems)} outputs differ:\n  " + "\n  ".join(problems)


# Every nest parallel (min-parallel-work=1) and planned for 4 threads, so that
# small loops are fused and split unevenly: outlining, libgomp chunking and the
# independence analysis get checked on models of every kind.
_PARALLEL_SPECS = [
    "conv-plain", "conv-blocked-chain", "layout-regions", "avgpool", "matmul", "gemm",
    "reduce-ReduceSum", "reduce-ReduceMax", "argmax", "softmax", "layernorm", "normalizations",
    "fusion-chains", "injective-inline", "memory-and-outputs", "concat", "slice", "pad", "gather",
    "cast-pairs", "binary-i64-rank-mismatch", "dtypes-small-ints",
]


@pytest.mark.parametrize("sp", [sp for sp in SPECS if sp.id in _PARALLEL_SPECS], ids=lambda sp: sp.id)
def test_every_loop_parallel_matches_oracle(
    sp: Spec, _expected: dict[str, list[np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import compiler.driver

    monkeypatch.setattr(
        compiler.driver,
        "LOOP_PIPELINE",
        [
            "default-schedule{threads=4 min-parallel-work=1}",
            "apply-schedule",
            "extract-params",
            "convert-loop-to-scf",
            "convert-to-llvm",
        ],
    )
    model = sp.model()
    want = _want(sp, model, _expected)
    compiled = compiler.compile(model, opt_level=3, cache=False)  # the cache keys ignore schedules
    problems = []
    for threads in (1, 2, 3):
        compiled.set_num_threads(threads)
        for name, g, w in zip(sp.outputs, compiled.run(None, sp.feeds), want, strict=True):
            problem = _compare(np.asarray(g), np.asarray(w), sp.rtol.get(name, 1e-5))
            if problem is not None:
                problems.append(f"{name} ({threads} threads): {problem}")
    assert not problems, f"{len(problems)} outputs differ:\n  " + "\n  ".join(problems)


def test_every_supported_op_is_compiled() -> None:
    covered = {n.op_type for sp in SPECS for n in sp.nodes} | COMPILED_ELSEWHERE
    missing = sorted(set(supported_ops()) - covered)
    assert not missing, f"no compiled-op case for {missing}"


# Ops whose compiled tests live in their own file (their models compile slowly).
COMPILED_ELSEWHERE = {"LSTM", "GRU", "RNN"}  # test_rnn.py
COMPILED_ELSEWHERE |= {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}  # test_losses.py
COMPILED_ELSEWHERE |= {"GridSample"}  # test_grid_sample.py
COMPILED_ELSEWHERE |= {"NonMaxSuppression", "RoiAlign", "MaxRoiPool"}  # test_detection.py
COMPILED_ELSEWHERE |= {"Attention", "RotaryEmbedding"}  # test_attention.py
COMPILED_ELSEWHERE |= SEQUENCE_OPS  # test_frontend_numerics.py::test_sequence_cases_compile


def test_spec_ids_are_unique() -> None:
    ids = [sp.id for sp in SPECS]
    assert len(ids) == len(set(ids))


_TYPE_CHANGING_EPILOGUES = """
func.func @main(%x: tensor<3x4xf32> {graph.name = "x"}, %w: tensor<4x5xf32> {graph.name = "w"})
    -> (tensor<3x1xi64> {graph.name = "r"}, tensor<3x5xi1> {graph.name = "m"},
        tensor<3x4xf64> {graph.name = "s"}) {
  %r = graph.fused(%x) {kind = "reduction"} : (tensor<3x4xf32>) -> tensor<3x1xi64> {
  ^bb0(%a: tensor<3x4xf32>):
    %0 = graph.reduce_sum %a {axes = array<i64: 1>, keepdims = true} : (tensor<3x4xf32>) -> tensor<3x1xf32>
    %1 = graph.relu %0 : (tensor<3x1xf32>) -> tensor<3x1xf32>
    %2 = graph.cast %1 : (tensor<3x1xf32>) -> tensor<3x1xi64>
    graph.yield %2 : tensor<3x1xi64>
  }
  %m = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xi1> {
  ^bb0(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>):
    %0 = graph.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
    %z = graph.constant dense<0.0> : tensor<f32>
    %1 = graph.greater %0, %z : (tensor<3x5xf32>, tensor<f32>) -> tensor<3x5xi1>
    graph.yield %1 : tensor<3x5xi1>
  }
  %s = graph.fused(%x) {kind = "reduction"} : (tensor<3x4xf32>) -> tensor<3x4xf64> {
  ^bb0(%a: tensor<3x4xf32>):
    %0 = graph.softmax %a {axis = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
    %1 = graph.cast %0 : (tensor<3x4xf32>) -> tensor<3x4xf64>
    graph.yield %1 : tensor<3x4xf64>
  }
  func.return %r, %m, %s : tensor<3x1xi64>, tensor<3x5xi1>, tensor<3x4xf64>
}
"""


def test_groups_with_type_changing_epilogues() -> None:
    """fuse-ops keeps epilogues in the anchor's type, but the lowering takes any
    group the contracts allow: anchors that accumulate in the output buffer
    (reduce, matmul, softmax) go through a buffer of their own type."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 4)) * 3).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    compiled = compiler.compile(compiler.parse_mlir(_TYPE_CHANGING_EPILOGUES), opt_level=0)
    r, m, s = compiled.run(None, {"x": x, "w": w})
    np.testing.assert_array_equal(r, np.maximum(x.sum(1, keepdims=True), 0).astype(np.int64))
    np.testing.assert_array_equal(m, x @ w > 0)
    e = np.exp(x - x.max(1, keepdims=True))
    assert s.dtype == np.float64
    assert oracle.max_rel_error(s, e / e.sum(1, keepdims=True)) < 1e-6
