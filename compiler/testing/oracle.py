"""Reference executions and the project's error metric.

``run_onnxruntime`` and ``run_reference`` compute the expected outputs of an
ONNX model; ``max_rel_error`` and ``assert_close`` compare ours against them
with the project's metric: the max abs error relative to the output's max abs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "assert_close",
    "max_rel_error",
    "ort_session",
    "run_onnxruntime",
    "run_reference",
]

ModelLike = onnx.ModelProto | str | Path


def ort_session(
    model_or_path: ModelLike, num_threads: int = 1, optimize: bool = True
) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session for the model, with ``num_threads`` intra-op threads.

    Graph optimizations are all enabled unless ``optimize`` is false. Use this
    directly to time repeated runs without re-creating the session.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    options.log_severity_level = 3  # errors only
    source: str | bytes
    if isinstance(model_or_path, onnx.ModelProto):
        source = model_or_path.SerializeToString()
    else:
        source = str(model_or_path)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run_onnxruntime(
    model_or_path: ModelLike, feeds: Mapping[str, np.ndarray], num_threads: int = 1
) -> list[np.ndarray]:
    """Run the model once in onnxruntime (CPU provider) and return all its outputs in order."""
    session = ort_session(model_or_path, num_threads=num_threads)
    outputs = session.run(None, dict(feeds))
    return [np.asarray(out) for out in outputs]


def _node_attributes(node: onnx.NodeProto) -> dict[str, Any]:
    return {att.name: onnx.helper.get_attribute_value(att) for att in node.attribute}


@functools.cache
def _reference_fixes() -> tuple[type, ...]:
    """Replacements for ReferenceEvaluator kernels that are wrong in onnx 1.23.

    * ``LRN`` loops over the batch axis instead of channels, so with batch 1
      every channel but the first is divided by ``bias ** beta`` only
      (onnx/onnx#7805).
    * ``BatchNormalization`` opset 7-13 picks training mode whenever
      ``momentum`` is set, and the schema default sets it: one-output
      (inference) nodes are normalized with statistics blended from the batch.
    * ``Softmax`` / ``LogSoftmax`` before opset 13 use the opset-13 semantics
      (one axis, default -1) instead of flattening from ``axis`` (default 1):
      a (1, 1000, 1, 1) softmax comes out all ones.
    """
    from onnx.reference.op_run import OpRun

    def opset(op: OpRun) -> int:
        return int(op.run_params["opsets"].get("", onnx.defs.onnx_opset_version()))

    class LRN(OpRun):
        op_domain = ""

        def _run(self, x: np.ndarray, *args: Any, **kwargs: Any) -> tuple[np.ndarray]:
            attrs = _node_attributes(self.onnx_node)
            size = int(attrs["size"])
            alpha = float(attrs.get("alpha", 1e-4))
            beta = float(attrs.get("beta", 0.75))
            bias = float(attrs.get("bias", 1.0))
            channels = x.shape[1]
            lo = (size - 1) // 2
            hi = (size - 1) - lo  # ceil((size - 1) / 2)
            squares = x.astype(np.float64) ** 2
            square_sum = np.zeros_like(squares)
            for c in range(channels):
                begin, end = max(0, c - lo), min(channels, c + hi + 1)
                square_sum[:, c] = squares[:, begin:end].sum(axis=1)
            y = x / (bias + (alpha / size) * square_sum) ** beta
            return (y.astype(x.dtype),)

    class BatchNormalization(OpRun):
        op_domain = ""

        def _run(self, x: np.ndarray, *args: Any, **kwargs: Any) -> tuple[np.ndarray]:
            scale, bias, mean, var = args[:4]
            attrs = _node_attributes(self.onnx_node)
            version = opset(self)
            if version >= 14:
                training = bool(attrs.get("training_mode", 0))
            elif version >= 7:
                training = len([o for o in self.onnx_node.output if o]) > 1
            else:
                training = not attrs.get("is_test", 0)
            if training:
                raise NotImplementedError("run_reference: training-mode BatchNormalization")
            eps = float(attrs.get("epsilon", 1e-5))
            shape = (1, -1) + (1,) * (x.ndim - 2)
            y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
            y = y * scale.reshape(shape) + bias.reshape(shape)
            return (y.astype(x.dtype),)

    def softmax_like(op: OpRun, x: np.ndarray, log: bool) -> np.ndarray:
        attrs = _node_attributes(op.onnx_node)
        if opset(op) >= 13:
            axis = int(attrs.get("axis", -1))
            shaped = x
        else:
            axis = int(attrs.get("axis", 1))
            axis = axis + x.ndim if axis < 0 else axis
            shaped = x.reshape(int(np.prod(x.shape[:axis])), -1)
            axis = 1
        shifted = shaped - shaped.max(axis=axis, keepdims=True)
        if log:
            out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        else:
            out = np.exp(shifted)
            out = out / out.sum(axis=axis, keepdims=True)
        return out.reshape(x.shape).astype(x.dtype)

    class Softmax(OpRun):
        op_domain = ""

        def _run(self, x: np.ndarray, *args: Any, **kwargs: Any) -> tuple[np.ndarray]:
            return (softmax_like(self, x, log=False),)

    class LogSoftmax(OpRun):
        op_domain = ""

        def _run(self, x: np.ndarray, *args: Any, **kwargs: Any) -> tuple[np.ndarray]:
            return (softmax_like(self, x, log=True),)

    return (LRN, BatchNormalization, Softmax, LogSoftmax)


def run_reference(
    model: ModelLike, feeds: Mapping[str, np.ndarray], fix_known_bugs: bool = True
) -> list[np.ndarray]:
    """Run the model with ``onnx.reference.ReferenceEvaluator`` (slow, pure numpy).

    With ``fix_known_bugs`` (the default), the evaluator's LRN,
    BatchNormalization and pre-opset-13 Softmax/LogSoftmax kernels, which
    disagree with the ONNX spec in onnx 1.23 (see :func:`_reference_fixes`),
    are replaced by correct ones. Training-mode BatchNormalization is then
    not supported.
    """
    from onnx.reference import ReferenceEvaluator

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    new_ops = list(_reference_fixes()) if fix_known_bugs else None
    evaluator = ReferenceEvaluator(model, new_ops=new_ops)
    outputs = evaluator.run(None, dict(feeds))
    return [np.asarray(out) for out in outputs]


def max_rel_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Max abs error divided by the max abs of ``expected``.

    Returns 0.0 when both are all zero, ``inf`` when ``expected`` is all zero
    but ``actual`` is not, or when the shapes differ, and ``nan`` when either
    holds a NaN where the other does not. Empty tensors compare equal.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        return float("inf")
    if actual.size == 0:
        return 0.0
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    a_nan = np.isnan(a)
    e_nan = np.isnan(e)
    if np.any(a_nan != e_nan):
        return float("nan")
    finite = ~e_nan
    if not np.any(finite):
        return 0.0
    a = a[finite]
    e = e[finite]
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - e)
    # Equal infinities are no error.
    diff = np.where(a == e, 0.0, diff)
    err = float(np.max(diff))
    scale = float(np.max(np.abs(e)))
    if err == 0.0:
        return 0.0
    if scale == 0.0:
        return float("inf")
    return err / scale


def assert_close(
    actual_list: Sequence[np.ndarray],
    expected_list: Sequence[np.ndarray],
    rtol: float = 1e-4,
    names: Sequence[str] | None = None,
) -> None:
    """Assert each output's :func:`max_rel_error` is at most ``rtol``.

    Checks the number of outputs, then each output's shape, dtype kind and
    error, and reports every failing output in one ``AssertionError`` message.
    """
    if len(actual_list) != len(expected_list):
        raise AssertionError(f"expected {len(expected_list)} outputs, got {len(actual_list)}")
    problems: list[str] = []
    for index, (actual, expected) in enumerate(zip(actual_list, expected_list, strict=True)):
        label = names[index] if names is not None and index < len(names) else f"output {index}"
        actual = np.asarray(actual)
        expected = np.asarray(expected)
        if actual.shape != expected.shape:
            problems.append(f"{label}: shape {actual.shape} != expected {expected.shape}")
            continue
        if actual.dtype.kind != expected.dtype.kind:
            problems.append(f"{label}: dtype {actual.dtype} != expected {expected.dtype}")
            continue
        err = max_rel_error(actual, expected)
        if not err <= rtol:  # also catches NaN
            detail = ""
            if actual.size:
                diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
                if np.all(np.isnan(diff)):
                    where = (0,) * actual.ndim
                else:
                    where = np.unravel_index(int(np.nanargmax(diff)), actual.shape)
                detail = (
                    f" (worst at index {tuple(int(i) for i in where)}: "
                    f"got {actual[where]!r}, expected {expected[where]!r}; "
                    f"max |expected| = {float(np.nanmax(np.abs(expected))):.6g})"
                )
            problems.append(f"{label}: max rel error {err:.3g} > rtol {rtol:g}{detail}")
    if problems:
        raise AssertionError("outputs differ:\n  " + "\n  ".join(problems))
