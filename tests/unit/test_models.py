"""The model zoo (compiler.testing.models) and the reference runners (compiler.testing.oracle)."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.testing import (
    LIGHT_MODELS,
    MODELS_DIR,
    assert_close,
    bert_model_path,
    light_model_path,
    max_rel_error,
    random_inputs,
    run_onnxruntime,
    run_reference,
    save_seeded_light_model,
    seeded_light_model,
)

pytest.importorskip("onnxruntime")

# --------------------------------------------------------------------------------------
# Light models
# --------------------------------------------------------------------------------------


def test_light_model_paths_exist() -> None:
    assert len(LIGHT_MODELS) == 9
    for name in LIGHT_MODELS:
        path = light_model_path(name)
        assert path.is_file()
        assert path.name == f"light_{name}.onnx"


def test_light_model_path_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown light model 'resnet18'"):
        light_model_path("resnet18")


def _assert_not_degenerate(model: onnx.ModelProto, output: np.ndarray) -> None:
    assert np.all(np.isfinite(output)), "non-finite output"
    last_op = model.graph.node[-1].op_type
    if last_op == "Softmax":
        probs = output.reshape(output.shape[0], -1)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
        assert np.ptp(probs) > 1e-3, "softmax is uniform"
        assert probs.max() < 0.99, "softmax is one-hot"
    else:
        assert output.std() > 0.1, "logits are near constant"


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_seeded_light_model_is_valid_and_runs(name: str) -> None:
    model = seeded_light_model(name)
    onnx.checker.check_model(model)
    ops = {node.op_type for node in model.graph.node}
    assert "ConstantOfShape" not in ops
    init_names = {init.name for init in model.graph.initializer}
    used = {value for node in model.graph.node for value in node.input}
    assert init_names <= used, "unused initializers left behind"
    inputs = [value.name for value in model.graph.input]
    assert len(inputs) == 1 and inputs[0] not in init_names

    feeds = random_inputs(model)
    assert feeds[inputs[0]].shape == (1, 3, 224, 224)
    outputs = run_onnxruntime(model, feeds)
    assert len(outputs) == 1
    _assert_not_degenerate(model, outputs[0])


def test_seeded_light_model_is_deterministic_and_copied() -> None:
    first = seeded_light_model("squeezenet", seed=0)
    first_bytes = first.SerializeToString()
    first.graph.node.pop()  # mutating a returned model must not touch the cache
    again = seeded_light_model("squeezenet", seed=0)
    assert again.SerializeToString() == first_bytes
    other = seeded_light_model("squeezenet", seed=1)
    w0 = numpy_helper.to_array(again.graph.initializer[0])
    w1 = {i.name: i for i in other.graph.initializer}[again.graph.initializer[0].name]
    assert not np.array_equal(w0, numpy_helper.to_array(w1))


def test_seeded_weights_follow_he_scaling() -> None:
    model = seeded_light_model("squeezenet")
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    conv = weights["fire9/expand3x3_w_0"]  # 256 x 64 x 3 x 3, after a Relu
    assert conv.shape == (256, 64, 3, 3) and conv.dtype == np.float32
    np.testing.assert_allclose(conv.std(), np.sqrt(2.0 / (64 * 9)), rtol=0.02)
    first = weights["conv1_w_0"]  # 64 x 3 x 3 x 3, on the image: gain 1
    np.testing.assert_allclose(first.std(), np.sqrt(1.0 / 27), rtol=0.1)
    bias = weights["fire9/expand3x3_b_0"]
    assert abs(bias).max() < 0.6


def test_seeded_batchnorm_parameters_are_near_one() -> None:
    model = seeded_light_model("resnet50")
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    var = weights["gpu_0/res2_0_branch2a_bn_riv_0"]
    assert var.min() >= 0.5 and var.max() <= 1.5
    scale = weights["gpu_0/res2_0_branch2a_bn_s_0"]
    assert 0.4 < scale.min() and scale.max() < 1.5


@pytest.mark.parametrize("name", ["resnet50", "squeezenet", "shufflenet", "bvlc_alexnet"])
def test_onnxruntime_and_reference_agree_on_light_model(name: str) -> None:
    # Covers the ReferenceEvaluator fixes: BatchNormalization-9 (ResNet,
    # ShuffleNet), Softmax-9 on a 4-D tensor (SqueezeNet), LRN (AlexNet).
    model = seeded_light_model(name)
    feeds = random_inputs(model)
    assert_close(run_reference(model, feeds), run_onnxruntime(model, feeds), rtol=1e-4)


def test_save_seeded_light_model(tmp_path: Path) -> None:
    path = save_seeded_light_model("squeezenet", tmp_path)
    assert path.name == "squeezenet_seed0.onnx"
    loaded = onnx.load(str(path))
    assert loaded.SerializeToString() == seeded_light_model("squeezenet").SerializeToString()
    assert save_seeded_light_model("squeezenet", tmp_path) == path


# --------------------------------------------------------------------------------------
# BERT / GPT models exported by PyTorch
# --------------------------------------------------------------------------------------

BERT_OPS = {
    "Add",
    "Cast",
    "Div",
    "Equal",
    "Erf",
    "Expand",
    "Gather",
    "Gemm",
    "MatMul",
    "Mul",
    "Pow",
    "ReduceMean",
    "Reshape",
    "Softmax",
    "Sqrt",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
    "Where",
}
TRANSFORMER_FILES = ["bert_tiny.onnx", "bert_tiny_dynamic.onnx", "gpt_tiny_block.onnx"]


@pytest.mark.parametrize("filename", TRANSFORMER_FILES)
def test_transformer_model_file_is_valid(filename: str) -> None:
    path = MODELS_DIR / filename
    assert path.stat().st_size < 2_000_000
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 17)}


@pytest.mark.parametrize("dynamic", [False, True])
def test_bert_signature_and_ops(dynamic: bool) -> None:
    model = onnx.load(str(bert_model_path(dynamic)))
    ops = collections.Counter(node.op_type for node in model.graph.node)
    assert BERT_OPS <= set(ops), BERT_OPS - set(ops)
    assert ops["Erf"] == 2 and ops["Softmax"] == 2
    if dynamic:
        assert {"Shape", "Slice", "Concat"} <= set(ops)
    dims = {
        value.name: (
            value.type.tensor_type.elem_type,
            [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim],
        )
        for value in [*model.graph.input, *model.graph.output]
    }
    batch, seq = ("batch", "sequence") if dynamic else (1, 16)
    assert dims == {
        "input_ids": (TensorProto.INT64, [batch, seq]),
        "attention_mask": (TensorProto.INT64, [batch, seq]),
        "last_hidden_state": (TensorProto.FLOAT, [batch, seq, 64]),
        "pooler_output": (TensorProto.FLOAT, [batch, 64]),
    }


@pytest.mark.parametrize("filename", TRANSFORMER_FILES)
def test_transformer_onnxruntime_matches_reference(filename: str) -> None:
    model = onnx.load(str(MODELS_DIR / filename))
    feeds = random_inputs(model, seed=3)
    expected = run_reference(model, feeds)
    actual = run_onnxruntime(model, feeds)
    assert_close(actual, expected, rtol=1e-4)
    for out in actual:
        assert np.all(np.isfinite(out)) and out.std() > 0.1


@pytest.mark.parametrize("shape", [(2, 8), (1, 32)])
def test_dynamic_bert_with_other_shapes(shape: tuple[int, int]) -> None:
    model = onnx.load(str(bert_model_path(dynamic=True)))
    feeds = random_inputs(model, shapes={"input_ids": shape, "attention_mask": shape})
    assert feeds["input_ids"].shape == shape
    actual = run_onnxruntime(model, feeds)
    assert actual[0].shape == (*shape, 64) and actual[1].shape == (shape[0], 64)
    assert_close(actual, run_reference(model, feeds), rtol=1e-4)


def test_static_and_dynamic_bert_agree() -> None:
    static = onnx.load(str(bert_model_path()))
    feeds = random_inputs(static)
    assert_close(
        run_onnxruntime(bert_model_path(dynamic=True), feeds),
        run_onnxruntime(static, feeds),
        rtol=1e-5,
    )


def test_bert_depends_on_attention_mask() -> None:
    model = onnx.load(str(bert_model_path()))
    feeds = random_inputs(model)
    full = dict(feeds, attention_mask=np.ones_like(feeds["attention_mask"]))
    padded = run_onnxruntime(model, feeds)[0]
    unpadded = run_onnxruntime(model, full)[0]
    assert max_rel_error(padded[:, 0], unpadded[:, 0]) > 1e-3


# --------------------------------------------------------------------------------------
# random_inputs
# --------------------------------------------------------------------------------------


def test_random_inputs_for_bert() -> None:
    model = onnx.load(str(bert_model_path()))
    feeds = random_inputs(model, seed=5)
    assert set(feeds) == {"input_ids", "attention_mask"}
    ids, mask = feeds["input_ids"], feeds["attention_mask"]
    assert ids.dtype == np.int64 and mask.dtype == np.int64
    assert ids.shape == mask.shape == (1, 16)
    assert 0 <= ids.min() and ids.max() < 1000
    assert set(np.unique(mask)) <= {0, 1} and mask[0, 0] == 1
    again = random_inputs(model, seed=5)
    assert all(np.array_equal(feeds[k], again[k]) for k in feeds)


def test_random_inputs_skip_initializers_and_follow_dtype() -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", 3]),
            helper.make_tensor_value_info("w", TensorProto.DOUBLE, [3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", 3])],
        [numpy_helper.from_array(np.ones(3), "w")],
    )
    model = helper.make_model(graph)
    feeds = random_inputs(model)
    assert list(feeds) == ["x"]
    assert feeds["x"].dtype == np.float64 and feeds["x"].shape == (1, 3)
    assert random_inputs(model, shapes={"x": (4, 3)})["x"].shape == (4, 3)


# --------------------------------------------------------------------------------------
# Oracle helpers
# --------------------------------------------------------------------------------------


def test_max_rel_error() -> None:
    expected = np.array([1.0, -4.0, 2.0], dtype=np.float32)
    assert max_rel_error(expected, expected) == 0.0
    assert max_rel_error(expected + np.float32(0.01), expected) == pytest.approx(0.0025)
    assert max_rel_error(np.zeros(2), np.zeros(2)) == 0.0
    assert max_rel_error(np.ones(2), np.zeros(2)) == float("inf")
    assert max_rel_error(np.ones(3), np.ones(2)) == float("inf")
    assert np.isnan(max_rel_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0])))
    assert max_rel_error(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) == 0.0
    assert max_rel_error(np.array([], np.float32), np.array([], np.float32)) == 0.0


def test_assert_close_messages() -> None:
    a = [np.ones((2, 2), np.float32)]
    assert_close(a, [np.ones((2, 2), np.float32) * (1 + 1e-6)])
    with pytest.raises(AssertionError, match=r"output 0: max rel error 0\.5 > rtol 0\.0001"):
        assert_close(a, [np.full((2, 2), 2.0, np.float32)])
    with pytest.raises(AssertionError, match=r"logits: shape \(2, 2\) != expected \(4,\)"):
        assert_close(a, [np.ones(4, np.float32)], names=["logits"])
    with pytest.raises(AssertionError, match="expected 2 outputs, got 1"):
        assert_close(a, a * 2)
    with pytest.raises(AssertionError, match="max rel error nan"):
        assert_close([np.array([np.nan], np.float32)], [np.array([1.0], np.float32)])


def _single_node_model(node: onnx.NodeProto, shape: list[int], opset: int) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("opset", [9, 13])
def test_reference_softmax_matches_onnxruntime(opset: int) -> None:
    model = _single_node_model(helper.make_node("Softmax", ["x"], ["y"]), [2, 5, 1, 3], opset)
    feeds = {"x": np.random.default_rng(0).standard_normal((2, 5, 1, 3)).astype(np.float32)}
    assert_close(run_reference(model, feeds), run_onnxruntime(model, feeds))


def test_reference_lrn_matches_onnxruntime() -> None:
    # onnxruntime only takes odd sizes.
    node = helper.make_node("LRN", ["x"], ["y"], size=3, alpha=0.5, beta=0.75, bias=1.0)
    model = _single_node_model(node, [1, 7, 3, 3], 13)
    feeds = {"x": np.random.default_rng(0).standard_normal((1, 7, 3, 3)).astype(np.float32)}
    assert_close(run_reference(model, feeds), run_onnxruntime(model, feeds))
    unfixed = run_reference(model, feeds, fix_known_bugs=False)
    assert max_rel_error(unfixed[0], run_onnxruntime(model, feeds)[0]) > 1e-2


def test_reference_batchnorm_opset9_is_inference() -> None:
    rng = np.random.default_rng(0)
    params = [
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), name)
        for name in ("s", "b", "m", "v")
    ]
    graph = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        params,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    feeds = {"x": rng.standard_normal((1, 4, 2, 2)).astype(np.float32)}
    assert_close(run_reference(model, feeds), run_onnxruntime(model, feeds))


def test_run_onnxruntime_accepts_path_and_threads() -> None:
    path = bert_model_path()
    feeds = random_inputs(onnx.load(str(path)))
    one = run_onnxruntime(path, feeds, num_threads=1)
    two = run_onnxruntime(path, feeds, num_threads=2)
    assert_close(two, one, rtol=1e-5)
