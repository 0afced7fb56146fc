"""Tiny ONNX models for the runtime, CLI and ONNX-backend tests (they compile in about a second)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def two_in_two_out(scale: float = 1.0, activation: str = "Relu") -> onnx.ModelProto:
    """x, y: f32[2, 3] -> (sum = relu(x + w), prod = x * y).

    `scale` changes the weight only; `activation` (Relu or Abs) changes the code.
    """
    w = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.0) * np.float32(scale)
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "w"], ["t"]),
            helper.make_node(activation, ["t"], ["sum"]),
            helper.make_node("Mul", ["x", "y"], ["prod"]),
        ],
        "two_in_two_out",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
        ],
        [
            helper.make_tensor_value_info("sum", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("prod", TensorProto.FLOAT, [2, 3]),
        ],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def two_in_two_out_reference(
    x: np.ndarray, y: np.ndarray, scale: float = 1.0, activation: str = "Relu"
) -> list[np.ndarray]:
    w = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.0) * np.float32(scale)
    t = x + w
    return [np.maximum(t, 0) if activation == "Relu" else np.abs(t), x * y]


def dynamic_batch() -> onnx.ModelProto:
    """x: f32[n, 8] -> y = relu(x @ w + b): a symbolic dim for --input-shape."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["m"]),
            helper.make_node("Add", ["m", "b"], ["a"]),
            helper.make_node("Relu", ["a"], ["y"]),
        ],
        "dynamic_batch",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def parallel_matmul(m: int = 256, k: int = 128, n: int = 128) -> onnx.ModelProto:
    """x: f32[m, k] -> relu(x @ w): big enough for parallel outer loops."""
    w = np.random.default_rng(1).standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])],
        "parallel_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def with_int_input() -> onnx.ModelProto:
    """x: f32[4, 3], idx: i64[2] -> Gather(x, idx) along axis 0 (an integer input)."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["x", "idx"], ["g"], axis=0)],
        "with_int_input",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3]),
            helper.make_tensor_value_info("idx", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("g", TensorProto.FLOAT, [2, 3])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def unsupported_op() -> onnx.ModelProto:
    """A model with an op the compiler does not import (Det)."""
    graph = helper.make_graph(
        [helper.make_node("Det", ["x"], ["u"])],
        "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
        [helper.make_tensor_value_info("u", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def float_graph(
    nodes: list[onnx.NodeProto], inputs: dict[str, list[int]], weights: dict[str, np.ndarray]
) -> onnx.ModelProto:
    """`nodes` as a model: float32 inputs of the given shapes, the weights as
    initializers, one output `y` whose shape is left to inference."""
    graph = helper.make_graph(
        nodes,
        "case",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
