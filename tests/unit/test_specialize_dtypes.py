"""Gaps the conformance suite showed: shape specialization (`compile(...,
specialize=...)` and the backend's automatic one), opsets past 23, the unsigned
integer types and integer MaxPool, compiled at O0 and O3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import compiler
import compiler.onnx_backend as backend
from compiler.errors import ConstantInputError, ShapeError
from compiler.frontend.onnx import MAX_OPSET, import_onnx
from compiler.testing.oracle import run_onnxruntime

X = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def _reduce_sum(axes_from_cast: bool = False) -> onnx.ModelProto:
    """ReduceSum(x, axes) with axes a graph input (through a Cast from int32 when asked)."""
    nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)]
    axes_type = TensorProto.INT64
    if axes_from_cast:
        nodes.insert(0, helper.make_node("Cast", ["a32"], ["axes"], to=TensorProto.INT64))
        axes_type = TensorProto.INT32
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
         helper.make_tensor_value_info("a32" if axes_from_cast else "axes", axes_type, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["d0", "d1"])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_an_op_that_needs_a_graph_input_constant_names_it() -> None:
    with pytest.raises(ConstantInputError, match=r"input 1 \(axes\) must be a constant; it comes from "
                       r"graph input 'axes'; bind it at compile time: compile\(\.\.\., specialize=") as info:
        import_onnx(_reduce_sum())
    assert info.value.graph_inputs == ("axes",)
    # Through other ops: the graph inputs behind the value are named.
    with pytest.raises(ConstantInputError) as info:
        import_onnx(_reduce_sum(axes_from_cast=True))
    assert info.value.graph_inputs == ("a32",)


@pytest.mark.parametrize("opt_level", [0, 3])
def test_compile_with_specialize_binds_the_input(opt_level: int) -> None:
    axes = np.array([1], np.int64)
    model = compiler.compile(_reduce_sum(), specialize={"axes": axes}, opt_level=opt_level)
    assert model.input_names == ["x"]
    (y,) = model.run(None, {"x": X})
    (want,) = run_onnxruntime(_reduce_sum(), {"x": X, "axes": axes})
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    through_cast = compiler.compile(_reduce_sum(True), specialize={"a32": np.array([2], np.int32)})
    np.testing.assert_allclose(through_cast.run(None, {"x": X})[0], X.sum(axis=2), rtol=1e-6, atol=1e-6)


def test_specialize_checks_names_dtypes_and_shapes() -> None:
    with pytest.raises(ShapeError, match="specialize names 'nope', which is not a model input"):
        import_onnx(_reduce_sum(), specialize={"nope": np.array([1])})
    with pytest.raises(ShapeError, match=r"specialize\['axes'\] has shape \(2,\), the input is declared \(1,\)"):
        import_onnx(_reduce_sum(), specialize={"axes": np.array([1, 2])})
    with pytest.raises(ShapeError, match=r"specialize\['axes'\] has dtype float64"):
        import_onnx(_reduce_sum(), specialize={"axes": np.array([1.5])})


def test_the_backend_specializes_on_the_first_run_and_recompiles_on_new_values() -> None:
    rep = backend.prepare(_reduce_sum())
    assert rep.specialized == ("axes",) and rep.compiled is None
    assert backend.is_compatible(_reduce_sum())
    for axis in (0, 2, 0):
        (y,) = rep.run([X, np.array([axis], np.int64)])
        np.testing.assert_allclose(y, X.sum(axis=axis), rtol=1e-6, atol=1e-6)
    assert len(rep._compiled) == 2
    (y,) = rep.run({"x": X, "axes": np.array([1], np.int64)})
    np.testing.assert_allclose(y, X.sum(axis=1), rtol=1e-6, atol=1e-6)


def test_the_backend_specializes_shapes_of_reshape_tile_and_range() -> None:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]),
         helper.make_node("Tile", ["r", "repeats"], ["t"]),
         helper.make_node("Range", ["start", "limit", "delta"], ["n"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
         helper.make_tensor_value_info("repeats", TensorProto.INT64, [2]),
         helper.make_tensor_value_info("start", TensorProto.FLOAT, []),
         helper.make_tensor_value_info("limit", TensorProto.FLOAT, []),
         helper.make_tensor_value_info("delta", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, ["t0", "t1"]),
         helper.make_tensor_value_info("n", TensorProto.FLOAT, ["n0"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    feeds = {"x": X, "shape": np.array([6, 4], np.int64), "repeats": np.array([1, 2], np.int64),
             "start": np.float32(1.0), "limit": np.float32(5.0), "delta": np.float32(1.5)}
    rep = backend.prepare(model)
    t, n = rep.run(feeds)
    assert set(rep.specialized) == {"shape", "repeats", "start", "limit", "delta"}
    want = run_onnxruntime(model, {k: np.asarray(v) for k, v in feeds.items()})
    np.testing.assert_array_equal(t, want[0])
    np.testing.assert_allclose(n, want[1], rtol=1e-6)


# -- opsets ------------------------------------------------------------------------------


def test_every_opset_onnx_defines_is_read() -> None:
    assert onnx.defs.onnx_opset_version() <= MAX_OPSET
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", MAX_OPSET)])
    np.testing.assert_array_equal(compiler.compile(model).run(None, {"x": X})[0], np.maximum(X, 0))


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("opt_level", [0, 3])
def test_space_to_depth_modes_of_opset_28(mode: str, opt_level: int) -> None:
    graph = helper.make_graph(
        [helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2, mode=mode)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 12, 2, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 28)])
    x = np.arange(72, dtype=np.float32).reshape(1, 3, 4, 6)
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})
    (got,) = compiler.compile(model, opt_level=opt_level).run(None, {"x": x})
    np.testing.assert_array_equal(got, want)


# -- unsigned integers -------------------------------------------------------------------


@pytest.mark.parametrize("opt_level", [0, 3])
@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_unsigned_arithmetic_and_comparison(dtype: type, opt_level: int) -> None:
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]),
         helper.make_node("Div", ["a", "b"], ["quot"]),
         helper.make_node("Max", ["a", "b"], ["max"]),
         helper.make_node("Greater", ["a", "b"], ["gt"])],
        "g",
        [helper.make_tensor_value_info("a", elem, [8]), helper.make_tensor_value_info("b", elem, [8])],
        [helper.make_tensor_value_info("sum", elem, [8]), helper.make_tensor_value_info("quot", elem, [8]),
         helper.make_tensor_value_info("max", elem, [8]), helper.make_tensor_value_info("gt", TensorProto.BOOL, [8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    top = np.iinfo(dtype).max
    # Values above the signed maximum: signed ops would get these wrong.
    a = np.array([top, top - 7, 5, 0, top // 2 + 3, 9, 100, 1], dtype)
    b = np.array([3, 2, 7, 1, top, 9, 1, top - 1], dtype)
    got = compiler.compile(model, opt_level=opt_level).run(None, {"a": a, "b": b})
    with np.errstate(over="ignore"):
        want = [a + b, a // b, np.maximum(a, b), a > b]
    for g_, w in zip(got, want, strict=True):
        assert g_.dtype == w.dtype
        np.testing.assert_array_equal(g_, w)


@pytest.mark.parametrize("opt_level", [0, 3])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_integer_max_pool_with_padding(dtype: type, opt_level: int) -> None:
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 1])],
        "g",
        [helper.make_tensor_value_info("x", elem, [1, 3, 5, 6])],
        [helper.make_tensor_value_info("y", elem, [1, 3, 3, 6])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    info = np.iinfo(dtype)
    # The type's extremes: padding must not win over the minimum, nor wrap.
    x = np.random.default_rng(1).integers(info.min, info.max, (1, 3, 5, 6), endpoint=True).astype(dtype)
    x[0, 0, 0, 0], x[0, 1, 4, 5] = info.min, info.max
    (want,) = run_onnxruntime(model, {"x": x})
    (got,) = compiler.compile(model, opt_level=opt_level).run(None, {"x": x})
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("opt_level", [0, 3])
def test_float_mod_with_fmod_0_of_opset_28(opt_level: int) -> None:
    graph = helper.make_graph(
        [helper.make_node("Mod", ["a", "b"], ["y"], fmod=0)],
        "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [8]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 28)])
    a = np.array([5.5, -5.5, 5.5, -5.5, 3.0, -1.0, 3.0, np.inf], np.float32)
    b = np.array([2.0, 2.0, -2.0, -2.0, np.inf, np.inf, -np.inf, 2.0], np.float32)
    (want,) = ReferenceEvaluator(model).run(None, {"a": a, "b": b})
    (got,) = compiler.compile(model, opt_level=opt_level).run(None, {"a": a, "b": b})
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("opt_level", [0, 3])
def test_bool_reduce_max_and_min_are_any_and_all(opt_level: int) -> None:
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", ["x", "axes"], ["any"], keepdims=0),
         helper.make_node("ReduceMin", ["x", "axes"], ["all"], keepdims=1)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.BOOL, [3, 4])],
        [helper.make_tensor_value_info("any", TensorProto.BOOL, [3]),
         helper.make_tensor_value_info("all", TensorProto.BOOL, [3, 1])],
        [helper.make_tensor("axes", TensorProto.INT64, [1], [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    x = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 1, 1]], bool)
    got = compiler.compile(model, opt_level=opt_level).run(None, {"x": x})
    np.testing.assert_array_equal(got[0], x.any(axis=1))
    np.testing.assert_array_equal(got[1], x.all(axis=1, keepdims=True))
