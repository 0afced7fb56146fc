"""The tuning loop end to end on a tiny model: tasks, records, resume, SIGKILL, compile(records=)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.testing.oracle import run_onnxruntime
from compiler.tuner.records import load_records
from compiler.tuner.task import extract_tasks, kernel_flops, loop_module, order_by_share
from compiler.tuner.tune import allocate, tune


def _tiny_model() -> onnx.ModelProto:
    """A 3x3 conv + relu, then a matmul: two tunable kernels of different classes."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b")
    m = numpy_helper.from_array(rng.standard_normal((64, 24)).astype(np.float32), "m")
    shape = numpy_helper.from_array(np.array([16, 64], dtype=np.int64), "shape")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Reshape", ["r", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "m"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16, 24])],
        [w, b, m, shape],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.onnx"
    onnx.save(_tiny_model(), path)
    return path


def test_tasks_have_weights_flops_and_keys(model_path: Path) -> None:
    tasks = extract_tasks(loop_module(str(model_path)))
    algorithms = {t.algorithm for t in tasks}
    assert {"matmul"} <= algorithms
    conv = next(t for t in tasks if "conv" in t.algorithm)
    # 16 x 8 x 8 output pixels x 8 x 3 x 3 multiply-adds, two flops each (+ bias, relu).
    assert conv.flops >= 2 * 16 * 64 * 72
    assert all(t.weight == 1 and len(t.key) == 20 for t in tasks)
    assert kernel_flops(conv.kernel) == conv.flops
    assert "conv" in conv.describe()


def test_order_and_allocation_follow_the_share(model_path: Path) -> None:
    tasks = extract_tasks(loop_module(str(model_path)))
    for cost, t in zip([1e-3, 4e-3, 2e-3, 1e-6], tasks, strict=False):
        t.default_cost = cost
    ordered = order_by_share(tasks)
    costs = [t.default_cost * t.weight for t in ordered if t.default_cost is not None]
    assert costs == sorted(costs, reverse=True)
    budget = allocate(ordered, trials=40, batch=4)
    top = ordered[0]
    assert budget[top.key] == max(budget.values())
    assert sum(budget.values()) >= 40 - 4


def test_tune_records_resume_and_compile(model_path: Path, tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    report = tune(str(model_path), records, trials=4, batch_size=4, timeout=20.0, seed=1, max_tasks=1)
    first = load_records(records)
    tasks = len(report.results)
    assert len(first) == report.measured >= tasks + 4  # every default, then a batch of the top task
    tuned = report.results[0]
    assert tuned.trials >= 5 and tuned.curve == sorted(tuned.curve)
    assert all(r.version == 1 and r.workload_key for r in first)
    assert any(r.error is None for r in first)
    table = report.table()
    assert "speed-up" in table and "candidates measured" in table
    # A rerun resumes: nothing measured twice.
    rerun = tune(str(model_path), records, trials=4, batch_size=4, timeout=20.0, seed=1, max_tasks=1)
    assert rerun.measured == 4  # the defaults come from the records
    again = load_records(records)
    seen = [(r.workload_key, json.dumps(r.point, sort_keys=True)) for r in again]
    assert len(seen) == len(set(seen))
    # The best records apply, and keep the numerics.
    feeds = {"x": np.random.default_rng(3).standard_normal((1, 8, 8, 8)).astype(np.float32)}
    tuned = compiler.compile(str(model_path), records=records, cache=False, num_threads=1)
    (expected,) = run_onnxruntime(_tiny_model(), feeds)
    np.testing.assert_allclose(tuned.run(None, feeds)[0], expected, rtol=1e-4, atol=1e-4)


def test_sigkill_loses_no_completed_record(model_path: Path, tmp_path: Path) -> None:
    records = tmp_path / "k.jsonl"
    cmd = [sys.executable, "-m", "compiler.tools.cli", "tune", str(model_path), "--records", str(records),
           "--trials", "40", "--batch", "2", "--search", "random"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if records.exists() and len(records.read_text().splitlines()) >= 3:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    before = load_records(records)
    assert len(before) >= 3
    # The rerun keeps every completed record and measures no point twice.
    tune(str(model_path), records, trials=2, batch_size=2, search="random", timeout=20.0, max_tasks=1)
    after = load_records(records)
    assert [r.point for r in after[: len(before)]] == [r.point for r in before]
    seen = [(r.workload_key, json.dumps(r.point, sort_keys=True)) for r in after]
    assert len(seen) == len(set(seen))


def test_plot_draws_one_line_per_task(tmp_path: Path) -> None:
    from compiler.tools.tune_cli import plot_curves

    out = tmp_path / "curve.png"
    plot_curves(str(out), {"conv": [1.0, 2.0, 2.0, 3.0], "matmul": [0.5, 0.5]}, "tiny: gbm search")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
