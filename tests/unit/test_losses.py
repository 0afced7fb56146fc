"""NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: imported (decomposed
into gather_elements / gather / where / log_softmax / reductions) and run by
the reference interpreter against onnxruntime, over reductions, weights,
ignore_index and N-D inputs; a few compiled at O0 and O3. ONNX's own node
tests of the two ops run through `compiler conformance` (tests/conformance/).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import compiler
from compiler.errors import CompilerError
from compiler.testing import oracle

pytest.importorskip("onnxruntime")

C = 5  # classes


@pytest.fixture(scope="module", autouse=True)
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("compiler-cache")))
        yield


@dataclass
class LossCase:
    """One loss node: x (N, C, d...), integer targets, optional constant weight."""

    id: str
    op: str
    shape: tuple[int, ...]
    reduction: str = "mean"
    weight: bool = False
    ignore_index: int | None = None
    log_prob: bool = False
    dtype: type = np.float32
    target_dtype: type = np.int64
    opset: int = 13
    attrs: dict[str, Any] = field(default_factory=dict)

    def model(self) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        x = rng.uniform(-3, 3, size=self.shape).astype(self.dtype)
        if self.op == "NegativeLogLikelihoodLoss":
            x = np.log(rng.uniform(0.05, 1, size=self.shape)).astype(self.dtype)  # log-probabilities
        t_shape = (self.shape[0], *self.shape[2:])
        target = rng.integers(0, C, size=t_shape).astype(self.target_dtype)
        if self.ignore_index is not None:
            target.reshape(-1)[::3] = self.ignore_index  # every third position ignored
        feeds = {"x": x, "t": target}
        inputs = ["x", "t"]
        inits = []
        if self.weight:
            w = rng.uniform(0.2, 2, size=(C,)).astype(self.dtype)
            inits.append(numpy_helper.from_array(w, "w"))
            inputs.append("w")
        attrs: dict[str, Any] = {"reduction": self.reduction, **self.attrs}
        if self.ignore_index is not None:
            attrs["ignore_index"] = self.ignore_index
        outputs = ["loss", "log_prob"] if self.log_prob else ["loss"]
        node = helper.make_node(self.op, inputs, outputs, **attrs)
        value_infos = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
            for n, v in feeds.items()
        ]
        graph = helper.make_graph(
            [node], self.id, value_infos, [onnx.ValueInfoProto(name=n) for n in outputs], initializer=inits
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        return model, feeds


NLL, SCE = "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"
CASES = [
    LossCase("nll-NC-mean", NLL, (4, C)),
    LossCase("nll-NC-none-weight", NLL, (4, C), reduction="none", weight=True),
    LossCase("nll-NCd1-sum-ii", NLL, (3, C, 4), reduction="sum", ignore_index=2),
    LossCase("nll-NCd1d2-mean-weight-ii-neg", NLL, (2, C, 3, 2), weight=True, ignore_index=-1),
    LossCase("nll-NCd1d2d3-mean-ii-i32", NLL, (2, C, 2, 2, 3), ignore_index=1, target_dtype=np.int32),
    LossCase("sce-NC-mean", SCE, (4, C)),
    LossCase("sce-NC-sum-weight-logprob", SCE, (4, C), reduction="sum", weight=True, log_prob=True),
    LossCase("sce-NCd1-none-ii-logprob", SCE, (3, C, 4), reduction="none", ignore_index=0, log_prob=True),
    LossCase("sce-NCd1d2-mean-weight-ii", SCE, (2, C, 3, 2), weight=True, ignore_index=4),
    LossCase("sce-NC-mean-f64", SCE, (6, C), dtype=np.float64, log_prob=True),
]
BY_ID = {c.id: c for c in CASES}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_interpreted_loss_matches_onnxruntime(c: LossCase) -> None:
    model, feeds = c.model()
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.interpret(compiler.import_onnx(model), feeds)
    oracle.assert_close(got, want, rtol=1e-5)
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).dtype == w.dtype and np.asarray(g).shape == w.shape


@pytest.mark.parametrize("level", [0, 3])
@pytest.mark.parametrize("case_id", ["nll-NCd1d2-mean-weight-ii-neg", "sce-NCd1-none-ii-logprob"])
def test_compiled_loss_matches_onnxruntime(case_id: str, level: int) -> None:
    model, feeds = BY_ID[case_id].model()
    want = oracle.run_onnxruntime(model, feeds)
    got = compiler.compile(model, opt_level=level).run(None, feeds)
    oracle.assert_close(got, want, rtol=1e-4)


def test_ignored_targets_may_be_out_of_range() -> None:
    """An ignore_index outside [0, C) never reaches the gather: the loss is finite
    and the ignored positions count neither in the sum nor in the mean's divisor."""
    c = LossCase("nll-ii-high", NLL, (3, C, 4), weight=True, ignore_index=100)
    model, feeds = c.model()
    (got,) = compiler.interpret(compiler.import_onnx(model), feeds)
    x, t = feeds["x"], feeds["t"]
    w = numpy_helper.to_array(model.graph.initializer[0])
    keep = t != 100
    safe = np.where(keep, t, 0)
    picked = np.take_along_axis(x, safe[:, None], axis=1)[:, 0]
    pos_w = np.where(keep, w[safe], 0)
    want = np.sum(-picked * pos_w) / np.sum(pos_w)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize(
    ("shape", "t_shape", "message"),
    [((4,), (4,), "rank 2 or more"), ((4, C, 3), (4, 2), "target has shape")],
)
def test_bad_shapes_are_one_clear_error(shape: tuple[int, ...], t_shape: tuple[int, ...], message: str) -> None:
    node = helper.make_node(NLL, ["x", "t"], ["loss"], name="nll")
    graph = helper.make_graph(
        [node], "bad",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(shape)),
         helper.make_tensor_value_info("t", onnx.TensorProto.INT64, list(t_shape))],
        [onnx.ValueInfoProto(name="loss")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(CompilerError, match=message) as err:
        compiler.import_onnx(model)
    assert "'nll'" in str(err.value) and NLL in str(err.value)
