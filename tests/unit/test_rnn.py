"""LSTM, GRU and RNN: imported (unrolled over time into graph ops) and run by the
reference interpreter, then compiled at O0 and O3, against onnxruntime.

onnxruntime's CPU kernels refuse `layout=1`; for those cases it runs a twin
model with layout=0 nodes between Transposes. (ONNX's ReferenceEvaluator
ignores sequence_lens, so it cannot be the oracle.) ONNX's own node tests of the three ops go
through `compiler.onnx_backend` with their own tolerances. The CRNN models
exported by PyTorch (tests/models/make_rnn.py) are compiled and compared too.
Sizes are small (T=3, B=2, IN=4, H=5) so that the whole file stays fast.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnx.backend.test
import pytest
from onnx import helper, numpy_helper

import compiler
from compiler.errors import UnsupportedOpError
from compiler.testing import MODELS_DIR, oracle
from compiler.testing.node_tests import node_test_cases

ort = pytest.importorskip("onnxruntime")

T, B, IN, H = 3, 2, 4, 5
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
OPSET = 14  # layout arrived in opset 14


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


# ---------------------------------------------------------------------------
# Models: several recurrent nodes side by side, each with its own weights


@dataclass
class Model:
    id: str
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    feeds: dict[str, np.ndarray] = field(default_factory=dict)
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    layout1: bool = False  # onnxruntime runs a time-major twin

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(zlib.crc32(self.id.encode()))

    def f32(self, *shape: int, scale: float = 1.0) -> np.ndarray:
        return self.rng.uniform(-scale, scale, size=shape).astype(np.float32)

    def add(
        self,
        op: str,
        name: str,
        direction: str = "forward",
        layout: int = 0,
        bias: bool = True,
        init_h: bool = False,
        init_c: bool = False,
        lens: list[int] | None = None,
        lens_runtime: bool = False,
        peepholes: bool = False,
        outputs: tuple[bool, ...] = (True, True, True),
        **attrs: Any,
    ) -> None:
        """One node; its inputs are named after it, its outputs are model outputs."""
        g, d = GATES[op], 2 if direction == "bidirectional" else 1
        self.layout1 |= layout == 1
        x_name = f"{name}.X"
        self.feeds[x_name] = self.f32(*((B, T, IN) if layout else (T, B, IN)))
        ins = [x_name, f"{name}.W", f"{name}.R"]
        self.inits[f"{name}.W"] = self.f32(d, g * H, IN, scale=0.6)
        self.inits[f"{name}.R"] = self.f32(d, g * H, H, scale=0.6)
        ins.append(f"{name}.B" if bias else "")
        if bias:
            self.inits[f"{name}.B"] = self.f32(d, 2 * g * H, scale=0.5)
        ins.append(f"{name}.L" if lens is not None else "")
        if lens is not None:
            (self.feeds if lens_runtime else self.inits)[f"{name}.L"] = np.asarray(lens, np.int32)
        state = (B, d, H) if layout else (d, B, H)
        for flag, s in ((init_h, "h0"), (init_c, "c0")):
            if op != "LSTM" and s == "c0":
                break
            ins.append(f"{name}.{s}" if flag else "")
            if flag:
                self.feeds[f"{name}.{s}"] = self.f32(*state)
        if peepholes:
            ins.append(f"{name}.P")
            self.inits[f"{name}.P"] = self.f32(d, 3 * H, scale=0.5)
        while ins[-1] == "":
            ins.pop()
        n_out = 3 if op == "LSTM" else 2
        names = ("Y", "Y_h", "Y_c")[:n_out]
        outs = [f"{name}.{o}" if want else "" for o, want in zip(names, outputs[:n_out], strict=True)]
        while outs[-1] == "":
            outs.pop()
        if layout:
            attrs["layout"] = layout
        self.nodes.append(
            helper.make_node(op, ins, outs, name=name, hidden_size=H, direction=direction, **attrs)
        )
        self.outputs += [o for o in outs if o]

    def model(self) -> onnx.ModelProto:
        inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
            for n, v in self.feeds.items()
        ]
        inits = [numpy_helper.from_array(v, n) for n, v in self.inits.items()]
        outputs = [onnx.ValueInfoProto(name=n) for n in self.outputs]
        graph = helper.make_graph(self.nodes, self.id, inputs, outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model

    def expected(self) -> list[np.ndarray]:
        return oracle.run_onnxruntime(self.time_major_twin() if self.layout1 else self.model(), self.feeds)

    def time_major_twin(self) -> onnx.ModelProto:
        """The same function with layout=0 nodes between Transposes, which
        onnxruntime runs (its kernels refuse layout=1)."""
        twin = self.model()
        nodes: list[onnx.NodeProto] = []
        for node in twin.graph.node:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if not attrs.pop("layout", 0):
                nodes.append(node)
                continue
            ins, outs = list(node.input), list(node.output)
            for i in (0, 5, 6):  # X, initial_h, initial_c: swap the two leading axes
                if i < len(ins) and ins[i]:
                    nodes.append(helper.make_node("Transpose", [ins[i]], [ins[i] + ".tm"], perm=[1, 0, 2]))
                    ins[i] += ".tm"
            for i, perm in ((0, [2, 0, 1, 3]), (1, [1, 0, 2]), (2, [1, 0, 2])):
                if i < len(outs) and outs[i]:
                    nodes.append(helper.make_node("Transpose", [outs[i] + ".tm"], [outs[i]], perm=perm))
                    outs[i] += ".tm"
            nodes.append(helper.make_node(node.op_type, ins, outs, name=node.name, **attrs))
        del twin.graph.node[:]
        twin.graph.node.extend(nodes)
        return twin


MODELS: list[Model] = []


def family(id: str) -> Model:
    m = Model(id)
    MODELS.append(m)
    return m


# One family per op and direction, covering the options along the way.
for op in GATES:
    lstm = op == "LSTM"
    for direction in ("forward", "reverse", "bidirectional"):
        m = family(f"{op}-{direction}")
        m.add(op, "plain", direction)
        m.add(op, "init", direction, init_h=True, init_c=lstm)
        m.add(op, "nobias", direction, bias=False, init_h=True)
        m.add(op, "lens", direction, lens=[3, 1], init_h=True, init_c=lstm)
        m.add(op, "lens_in", direction, lens=[2, 3], lens_runtime=True)
        m.add(op, "lens_full", direction, lens=[3, 3])
        m.add(op, "clip", direction, clip=0.4, init_h=True)
        m.add(op, "y_h_only", direction, outputs=(False, True, False))
        m.add(op, "y_only", direction, outputs=(True, False, False))
        if lstm:
            m.add(op, "peep", direction, peepholes=True, init_h=True, init_c=True)
            m.add(op, "peep_lens", direction, peepholes=True, lens=[1, 2])
            m.add(op, "couple", direction, input_forget=1, init_h=True, init_c=True)
        if op == "GRU":
            m.add(op, "lbr", direction, linear_before_reset=1, init_h=True)
            m.add(op, "lbr_nobias", direction, linear_before_reset=1, bias=False)
            m.add(op, "lbr_lens", direction, linear_before_reset=1, lens=[2, 1], lens_runtime=True)

m = family("activations")
m.add("RNN", "rnn_relu", activations=["Relu"])
m.add("RNN", "rnn_bi", "bidirectional", activations=["Sigmoid", "Relu"])
m.add("GRU", "gru_hs", activations=["HardSigmoid", "Tanh"], activation_alpha=[0.3], activation_beta=[0.4])
m.add("GRU", "gru_bi", "bidirectional", activations=["Sigmoid", "Tanh", "Sigmoid", "Relu"])
m.add("LSTM", "lstm_relu", activations=["Sigmoid", "Relu", "Tanh"])
m.add(
    "LSTM",
    "lstm_bi",
    "bidirectional",
    activations=["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "LeakyRelu", "Elu"],
    activation_alpha=[0.25, 0.1, 0.8],
    activation_beta=[0.45],
)
m.add("LSTM", "lstm_softsign", activations=["Sigmoid", "Softsign", "Softplus"])
m.add("LSTM", "lstm_clip_relu", activations=["Sigmoid", "Relu", "Relu"], clip=0.5)

# layout=1 (batch-major).
m = family("layout1")
for op in GATES:
    lstm = op == "LSTM"
    m.add(op, f"{op}_bi", "bidirectional", layout=1, init_h=True, init_c=lstm)
    m.add(op, f"{op}_rev_lens", "reverse", layout=1, lens=[1, 3], init_h=True)
    m.add(op, f"{op}_fwd", "forward", layout=1)

# Compiled. Each compile costs seconds per distinct kernel, so the default run
# compiles one compact model that touches every op, direction and main option;
# COMPILER_SLOW_TESTS=1 (`make test-rnn`) compiles the families above too.
m = family("compact")
m.add("LSTM", "lstm", "bidirectional", init_h=True, init_c=True, peepholes=True, lens=[2, 3],
      lens_runtime=True)
m.add("GRU", "gru", "reverse", lens=[3, 1], clip=0.5, init_h=True, linear_before_reset=1)
m.add("RNN", "rnn", "bidirectional", layout=1, init_h=True, activations=["Relu", "Tanh"])

SLOW = os.environ.get("COMPILER_SLOW_TESTS") == "1"
slow = pytest.mark.skipif(not SLOW, reason="slow: set COMPILER_SLOW_TESTS=1 (make test-rnn)")
COMPILED = {"compact"}
if SLOW:
    COMPILED |= {"LSTM-bidirectional", "GRU-bidirectional", "RNN-bidirectional", "LSTM-reverse",
                 "GRU-forward", "activations", "layout1"}


def _by_id(ids: set[str]) -> list[Model]:
    return [m for m in MODELS if m.id in ids]


@pytest.mark.parametrize("m", MODELS, ids=lambda m: m.id)
def test_interpreter_matches_oracle(m: Model) -> None:
    want = m.expected()
    got = compiler.interpret(compiler.import_onnx(m.model()), m.feeds)
    assert len(got) == len(want) == len(m.outputs)
    problems = []
    for name, g, w in zip(m.outputs, got, want, strict=True):
        g = np.asarray(g)
        if g.shape != w.shape or g.dtype != w.dtype:
            problems.append(f"{name}: {g.dtype}{g.shape}, expected {w.dtype}{w.shape}")
        elif (err := oracle.max_rel_error(g, w)) > 1e-5:
            problems.append(f"{name}: max rel error {err:.3g}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("level", [0, 3])
@pytest.mark.parametrize("m", _by_id(COMPILED), ids=lambda m: m.id)
def test_compiled_matches_oracle(m: Model, level: int) -> None:
    want = m.expected()
    compiled = compiler.compile(m.model(), opt_level=level)
    got = compiled.run(None, m.feeds)
    problems = []
    for name, g, w in zip(m.outputs, got, want, strict=True):
        g = np.asarray(g)
        if g.shape != w.shape or g.dtype != w.dtype:
            problems.append(f"{name}: {g.dtype}{g.shape}, expected {w.dtype}{w.shape}")
        elif (err := oracle.max_rel_error(g, w)) > 1e-5:
            problems.append(f"{name}: max rel error {err:.3g}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# The graph the unrolling makes


def test_one_input_gemm_and_one_recurrent_matmul_per_step() -> None:
    """X @ W for all steps and both directions is one matmul; then one per step."""
    m = Model("count")
    m.add("LSTM", "l", "bidirectional", init_h=True, init_c=True)
    module = compiler.import_onnx(m.model())
    matmuls = [op for op in module.walk() if op.name == "graph.matmul"]
    assert len(matmuls) == 1 + T
    shapes = [tuple(op.results[0].type.get_shape()) for op in matmuls]
    assert shapes[0] == (T * B, 2 * 4 * H)
    assert all(s == (1, 2, B, 4 * H) for s in shapes[1:])


def test_zero_initial_state_skips_the_first_recurrent_matmul() -> None:
    m = Model("zero-init")
    m.add("GRU", "g", init_h=True)
    m.feeds["g.h0"] = np.zeros_like(m.feeds["g.h0"])
    m.inits["g.h0"] = m.feeds.pop("g.h0")  # an initializer of zeros, as exporters write
    module = compiler.import_onnx(m.model())
    assert sum(op.name == "graph.matmul" for op in module.walk()) == 1 + 2 * (T - 1)


# ---------------------------------------------------------------------------
# Bad input: one clear line


def _error(op: str, **attrs: Any) -> str:
    m = Model("bad")
    m.add(op, "n", **attrs)
    with pytest.raises(UnsupportedOpError) as info:
        compiler.import_onnx(m.model())
    return str(info.value)


def test_unknown_activation_is_a_clear_error() -> None:
    message = _error("RNN", activations=["Swish"])
    assert "activation 'Swish' is not supported" in message and "\n" not in message


def test_wrong_activation_count_is_a_clear_error() -> None:
    assert "activations needs 3 names, got 2" in _error("LSTM", activations=["Tanh", "Tanh"])


def test_unknown_direction_is_a_clear_error() -> None:
    assert "direction='sideways' is not supported" in _error("GRU", direction="sideways")


def test_hidden_size_mismatch_is_a_clear_error() -> None:
    m = Model("bad-hidden")
    m.add("RNN", "n")
    next(a for a in m.nodes[0].attribute if a.name == "hidden_size").i = H + 1
    with pytest.raises(UnsupportedOpError, match="hidden_size=6 differs from R's shape"):
        compiler.import_onnx(m.model())


# ---------------------------------------------------------------------------
# ONNX's own node tests, through the backend


# All 18 with COMPILER_SLOW_TESTS=1; by default a few that cover the three ops,
# sequence_lens, peepholes and layout=1.
NODE_TESTS = (
    r"^test_(lstm|gru|simple_rnn|rnn)_\w+_cpu$"
    if SLOW
    else r"^test_(lstm_with_peepholes|gru_defaults|rnn_seq_length|simple_rnn_batchwise)_cpu$"
)


NODE_CASES = node_test_cases(__name__, NODE_TESTS)
globals().update(NODE_CASES)


def test_all_recurrent_node_tests_are_selected() -> None:
    selected = [n for case in NODE_CASES.values() for n in vars(case) if n.startswith("test_")]
    assert len(selected) == (18 if SLOW else 4), selected


# ---------------------------------------------------------------------------
# CRNN text recognizers exported by torch.onnx (tests/models/make_rnn.py)


@slow
@pytest.mark.parametrize("name", ["crnn_lstm", "crnn_gru"])
def test_exported_crnn_matches_onnxruntime(name: str) -> None:
    path = MODELS_DIR / f"{name}.onnx"
    image = np.random.default_rng(7).standard_normal((1, 1, 32, 100)).astype(np.float32)
    (want,) = oracle.run_onnxruntime(path, {"image": image})
    (got,) = compiler.compile(path, opt_level=3).run(None, {"image": image})
    assert got.shape == want.shape
    assert oracle.max_rel_error(np.asarray(got), want) <= 1e-4
