"""Reference executions and the project's error metric.

``run_onnxruntime`` and ``run_reference`` compute the expected outputs of an
ONNX model; ``max_rel_error`` and ``assert_close`` compare ours against them
with the project's metric: the max abs error relative to the output's max abs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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


def run_reference(model: ModelLike, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Run the model with ``onnx.reference.ReferenceEvaluator`` (slow, pure numpy)."""
    from onnx.reference import ReferenceEvaluator

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    evaluator = ReferenceEvaluator(model)
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
        raise AssertionError(
            f"expected {len(expected_list)} outputs, got {len(actual_list)}"
        )
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
