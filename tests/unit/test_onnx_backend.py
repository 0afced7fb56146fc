"""compiler.onnx_backend: the ONNX backend API, and a handful of ONNX's own node tests.

The node tests come from `onnx.backend.test.BackendTest`, filtered to a few
simple ops (CPU only) so that the whole file stays fast; each compiles one
small model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnx.backend.test
import pytest
from onnx import TensorProto, helper, numpy_helper
from runtime_models import (
    OPSET,
    dynamic_batch,
    two_in_two_out,
    two_in_two_out_reference,
    unsupported_op,
)

import compiler.onnx_backend as backend
from compiler.errors import CompilerError, InputError
from compiler.onnx_backend import CompilerBackend
from compiler.testing.node_tests import node_test_cases

X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype=np.float32)
Y = np.array([[0.5, 1.5, -2.5], [3.0, -1.0, 2.0]], dtype=np.float32)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


# -- ONNX's node tests ------------------------------------------------------------------

# A few simple ops that pass quickly. All of ONNX's CPU node tests take about ten
# minutes (see the onnx_backend commit message for the counts): too long for a unit test.
NODE_TESTS = r"^test_(relu|add|sub|mul|abs|sigmoid|tanh|softmax_.*|conv_.*|matmul_2d|gemm_default_.*|maxpool_2d_default|averagepool_2d_default|transpose_default)_cpu$"


NODE_CASES = node_test_cases(__name__, NODE_TESTS)
globals().update(NODE_CASES)


def test_the_node_test_selection_is_not_empty() -> None:
    selected = [n for case in NODE_CASES.values() for n in vars(case) if n.startswith("test_")]
    assert len(selected) >= 30
    assert "test_relu_cpu" in selected and "test_conv_with_strides_padding_cpu" in selected


# -- prepare / run --------------------------------------------------------------------


def test_prepare_and_run_with_list_dict_and_names() -> None:
    rep = backend.prepare(two_in_two_out())
    assert rep.input_names == ["x", "y"] and rep.output_names == ["sum", "prod"]
    expected = two_in_two_out_reference(X, Y)
    outs = rep.run([X, Y])
    assert len(outs) == 2
    np.testing.assert_array_equal(outs[0], expected[0])
    np.testing.assert_array_equal(outs["prod"], expected[1])
    np.testing.assert_array_equal(outs.prod, expected[1])
    by_dict = rep.run({"y": Y, "x": X})
    np.testing.assert_array_equal(by_dict[1], expected[1])
    with pytest.raises(InputError, match=r"expected 2 inputs \['x', 'y'\], got 1"):
        rep.run([X])
    with pytest.raises(InputError, match=r"input 'x' has shape"):
        rep.run([X[:1], Y])


def test_run_model_and_one_array_input() -> None:
    model = dynamic_batch()
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    (y,) = backend.run_model(model, x, input_shapes={"x": (3, 8)})
    w, b = (numpy_helper.to_array(t) for t in model.graph.initializer)
    np.testing.assert_allclose(y, np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_symbolic_dims_compile_on_first_run_per_shape() -> None:
    rep = CompilerBackend.prepare(dynamic_batch())
    assert rep.compiled is None
    a = rep.run([np.ones((2, 8), np.float32)])[0]
    b = rep.run([np.ones((5, 8), np.float32)])[0]
    rep.run([np.zeros((2, 8), np.float32)])
    assert a.shape == (2, 4) and b.shape == (5, 4)
    np.testing.assert_array_equal(a, b[:2])
    assert len(rep._compiled) == 2


def test_prepare_accepts_bytes_and_paths(tmp_path: Path) -> None:
    model = two_in_two_out()
    onnx.save(model, tmp_path / "m.onnx")
    for source in (model.SerializeToString(), tmp_path / "m.onnx", str(tmp_path / "m.onnx")):
        np.testing.assert_array_equal(CompilerBackend.prepare(source).run([X, Y])[1], X * Y)


def test_prepare_passes_compile_options_and_ignores_others() -> None:
    rep = CompilerBackend.prepare(two_in_two_out(), opt_level=0, num_threads=1, cache=False, rtol=1e-3)
    assert rep.compiled is not None and rep.compiled.num_threads == 1
    np.testing.assert_array_equal(rep.run([X, Y])[1], X * Y)


# -- run_node ---------------------------------------------------------------------------


def test_run_node_elementwise() -> None:
    node = helper.make_node("Add", ["a", "b"], ["c"])
    (c,) = backend.run_node(node, [X, Y])
    np.testing.assert_array_equal(c, X + Y)
    (r,) = CompilerBackend.run_node(helper.make_node("Relu", ["a"], ["r"]), [X], outputs_info=[(np.float32, (2, 3))])
    np.testing.assert_array_equal(r, np.maximum(X, 0))


def test_run_node_with_integer_inputs_as_constants() -> None:
    # Reshape's shape and Gather's indices must be constants for the importer.
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    (y,) = backend.run_node(node, [X, np.array([3, 2], np.int64)])
    np.testing.assert_array_equal(y, X.reshape(3, 2))
    gather = helper.make_node("Gather", ["x", "i"], ["g"], axis=1)
    (g,) = backend.run_node(gather, {"x": X, "i": np.array([2, 0], np.int64)})
    np.testing.assert_array_equal(g, X[:, [2, 0]])


def test_run_node_with_opset_version() -> None:
    node = helper.make_node("Softmax", ["x"], ["y"], axis=1)
    (y,) = backend.run_node(node, [X], opset_version=11)
    e = np.exp(X - X.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


# -- devices and compatibility -----------------------------------------------------------


def test_devices() -> None:
    assert backend.supports_device("CPU")
    assert not backend.supports_device("CUDA")
    assert not backend.supports_device("CUDA:1")
    assert not backend.supports_device("TPU")
    with pytest.raises(CompilerError, match=r"device 'CUDA' is not supported; use device='CPU'"):
        backend.prepare(two_in_two_out(), device="CUDA")
    assert not backend.is_compatible(two_in_two_out(), device="CUDA")


def _single_node(op: str, elem: int = TensorProto.FLOAT, opset: int = OPSET, domain: str = "") -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node(op, ["x"], ["y"], domain=domain)],
        "g",
        [helper.make_tensor_value_info("x", elem, [4])],
        [helper.make_tensor_value_info("y", elem, [4])],
    )
    imports = [helper.make_opsetid("", opset)]
    if domain:
        imports.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=imports)


def test_is_compatible() -> None:
    assert backend.is_compatible(two_in_two_out())
    assert backend.is_compatible(dynamic_batch())  # shapes come at run time
    assert backend.is_compatible(dynamic_batch(), input_shapes={"x": (2, 8)})
    assert not backend.is_compatible(unsupported_op())  # Det
    assert not backend.is_compatible(_single_node("Relu", domain="com.example"))
    assert not backend.is_compatible(_single_node("Relu", opset=6, elem=TensorProto.COMPLEX64))
    assert not backend.is_compatible(_single_node("Identity", elem=TensorProto.STRING))
    assert not backend.is_compatible(_single_node("Identity", elem=TensorProto.COMPLEX64))
    assert not backend.is_compatible(b"not a model")


def test_is_compatible_checks_attributes_through_the_importer() -> None:
    # The op type and dtypes are supported, but not BatchNormalization's training mode.
    params = [helper.make_tensor(n, TensorProto.FLOAT, [2], [1.0, 2.0]) for n in ("s", "b", "m", "v")]
    graph = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=1)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        params,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    assert not backend.is_compatible(model)
    model.graph.node[0].attribute[0].i = 0
    assert backend.is_compatible(model)


def test_models_older_than_the_oldest_opset_are_converted_up() -> None:
    model = _single_node("Relu", opset=6)
    assert backend.is_compatible(model)
    x = np.array([-1.0, 2.0, -3.0, 4.0], np.float32)
    np.testing.assert_array_equal(backend.prepare(model).run([x])[0], np.maximum(x, 0))


def test_prepare_rejects_an_invalid_model() -> None:
    model = two_in_two_out()
    model.graph.node[0].input[1] = "undefined"
    with pytest.raises(CompilerError, match="ONNX checker rejects the model"):
        backend.prepare(model)


def test_sequence_inputs_fail_at_prepare_with_a_clear_error() -> None:
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)
    graph = helper.make_graph(
        [helper.make_node("SequenceLength", ["s"], ["n"])],
        "g",
        [seq],
        [helper.make_tensor_value_info("n", TensorProto.INT64, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    assert not backend.is_compatible(model)
    with pytest.raises(CompilerError, match="'s' is not a tensor"):
        backend.prepare(model)


def test_deferred_compile_checks_the_arrays() -> None:
    rep = CompilerBackend.prepare(dynamic_batch())
    with pytest.raises(InputError, match=r"input 'x' is not an array \(got list\)"):
        rep.run([[[1.0] * 8, [2.0]]])
    with pytest.raises(InputError, match=r"missing input 'x'"):
        rep.run({"y": np.ones((2, 8), np.float32)})
