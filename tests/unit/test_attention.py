"""Attention (opset 23) and RotaryEmbedding (opset 23), decomposed in the frontend.

Each case is one node, imported and run by the reference interpreter against
onnxruntime's CPU kernels (1.32 has both ops); two models are also compiled at
O0 and O3. ONNX's own node tests for these ops run in `compiler conformance`
(listed in tests/conformance/passing.txt).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.errors import CompilerError
from compiler.testing.oracle import assert_close

ort = pytest.importorskip("onnxruntime")

_rng = np.random.default_rng(23)


def f32(*dims: int) -> np.ndarray:
    return _rng.standard_normal(dims).astype(np.float32)


@dataclass
class Case:
    id: str
    op: str
    inputs: dict[str, np.ndarray | None]  # None: an omitted optional input
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    def model(self) -> onnx.ModelProto:
        names = list(self.inputs)
        while self.inputs[names[-1]] is None:
            names.pop()
        node = helper.make_node(self.op, [n if self.inputs[n] is not None else "" for n in names], self.outputs, **self.attrs)
        ins = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
            for n, v in self.inputs.items() if v is not None
        ]
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in self.outputs if o]
        graph = helper.make_graph([node], self.id, ins, outs)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])

    @property
    def feeds(self) -> dict[str, np.ndarray]:
        return {n: v for n, v in self.inputs.items() if v is not None}


def _qkv(q: tuple[int, ...], k: tuple[int, ...], v: tuple[int, ...]) -> dict[str, np.ndarray | None]:
    return {"Q": f32(*q), "K": f32(*k), "V": f32(*v)}


_CAUSAL_MASK = np.tril(np.ones((3, 5), dtype=np.bool_), k=2)
_CAUSAL_MASK[1, :] = False  # one fully masked row: zero probabilities, not NaN

CASES = [
    Case("attention-4d", "Attention", _qkv((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)), ["Y"]),
    Case("attention-3d-gqa-causal", "Attention", _qkv((2, 4, 16), (2, 4, 8), (2, 4, 8)), ["Y"],
         {"q_num_heads": 4, "kv_num_heads": 2, "is_causal": 1}),
    Case("attention-float-mask-scale-softcap", "Attention",
         {**_qkv((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)), "attn_mask": f32(3, 5)}, ["Y"],
         {"scale": 0.3, "softcap": 2.0}),
    Case("attention-bool-mask-past-present-qk", "Attention",
         {**_qkv((2, 3, 6), (2, 3, 6), (2, 3, 6)), "attn_mask": _CAUSAL_MASK,
          "past_key": f32(2, 3, 2, 2), "past_value": f32(2, 3, 2, 2)},
         ["Y", "present_key", "present_value", "qk"], {"q_num_heads": 3, "kv_num_heads": 3, "qk_matmul_output_mode": 3}),
    Case("rotary-4d-interleaved-positions", "RotaryEmbedding",
         {"x": f32(2, 3, 4, 8), "cos": f32(6, 4), "sin": f32(6, 4),
          "position_ids": np.array([[0, 1, 2, 3], [5, 4, 3, 2]], dtype=np.int64)}, ["y"], {"interleaved": 1}),
    Case("rotary-3d-partial", "RotaryEmbedding", {"x": f32(2, 3, 16), "cos": f32(2, 3, 2), "sin": f32(2, 3, 2)},
         ["y"], {"num_heads": 2, "rotary_embedding_dim": 4}),
]


def _want(c: Case) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(c.model().SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, c.feeds)


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_interpreted_matches_onnxruntime(c: Case) -> None:
    got = compiler.interpret(compiler.import_onnx(c.model()), c.feeds)
    assert_close([np.asarray(x) for x in got], _want(c), rtol=1e-5, names=c.outputs)


@pytest.mark.parametrize("level", [0, 3])
@pytest.mark.parametrize("c", [CASES[1], CASES[4]], ids=[CASES[1].id, CASES[4].id])
def test_compiled_matches_onnxruntime(c: Case, level: int) -> None:
    compiled = compiler.compile(c.model(), opt_level=level)
    assert_close([np.asarray(x) for x in compiled.run(None, c.feeds)], _want(c), rtol=1e-5, names=c.outputs)


def test_indivisible_heads_is_one_clear_error() -> None:
    c = Case("bad-heads", "Attention", _qkv((1, 2, 10), (1, 2, 8), (1, 2, 8)), ["Y"],
             {"q_num_heads": 3, "kv_num_heads": 2})
    with pytest.raises(CompilerError, match="not a multiple of its head count"):
        compiler.import_onnx(c.model())
