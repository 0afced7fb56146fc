"""Per-function lowering in worker processes: bit-identical to lowering in one process.

`compiler.compile` lowers each kernel (and `@main`) on its own, spread over
forked workers (compiler/targets/cpu/parallel_lower.py). A small CNN (conv,
relu, pooling, a dense layer, softmax: several kernels, threaded loops) gets
its default schedules and is lowered with one process and with two; the LLVM
IR text and the object code must be the same bytes, and the compiled model
must match onnxruntime.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler import driver
from compiler.api import run_pipeline
from compiler.frontend.onnx import import_onnx
from compiler.targets.cpu import parallel_lower
from compiler.targets.cpu.machine import HostTarget, compile_object
from compiler.testing.oracle import run_onnxruntime


def small_cnn() -> onnx.ModelProto:
    """x: f32[1, 3, 16, 16] -> softmax(dense(avgpool(relu(conv(relu(conv(x)))))))."""
    rng = np.random.default_rng(7)
    weights = {
        "w1": rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3,
        "b1": rng.standard_normal(8).astype(np.float32) * 0.1,
        "w2": rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * 0.2,
        "b2": rng.standard_normal(16).astype(np.float32) * 0.1,
        "wd": rng.standard_normal((16, 10)).astype(np.float32) * 0.3,
        "bd": rng.standard_normal(10).astype(np.float32) * 0.1,
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wd", "bd"], ["d"]),
        helper.make_node("Softmax", ["d"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "small_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def lowered(model: onnx.ModelProto, jobs: int) -> tuple[str, bytes, driver.CompileStats]:
    """LLVM IR, params and stats with `jobs` processes for the default schedules and lowering."""
    module = import_onnx(model)
    run_pipeline(module, "graph-optimize{level=3}")
    stats = driver.CompileStats()
    host = HostTarget.detect()
    params, arena = driver._schedule_and_extract(module, stats, False, None, host, None, jobs)
    lowered = parallel_lower.lower_to_llvm_ir(
        module,
        driver.loop_pipeline(host, params_extracted=True)[driver._SPLIT_AT :],
        host.triple,
        jobs,
    )
    stats.workers = lowered.workers
    return lowered.text, params, stats


@pytest.fixture(scope="module")
def serial_and_parallel() -> tuple[tuple[str, bytes, driver.CompileStats], ...]:
    model = small_cnn()
    with pytest.MonkeyPatch.context() as patch:  # fork even for this small model
        patch.setattr(parallel_lower, "MIN_PARALLEL_OPS", 0)
        return lowered(model, 1), lowered(model, 2)


def test_two_workers_give_the_same_llvm_ir_and_object(serial_and_parallel) -> None:
    (serial_ir, serial_params, serial_stats), (parallel_ir, parallel_params, parallel_stats) = (
        serial_and_parallel
    )
    assert serial_stats.workers == 1
    assert parallel_stats.workers == 2
    assert parallel_ir == serial_ir
    assert parallel_params == serial_params
    host = HostTarget.detect()
    assert compile_object(parallel_ir, host, 3) == compile_object(serial_ir, host, 3)


def test_every_function_is_defined_once(serial_and_parallel) -> None:
    text = serial_and_parallel[0][0]
    defined = [
        line.split("@", 1)[1].split("(", 1)[0].strip('"')
        for line in text.splitlines()
        if line.startswith("define")
    ]
    assert "main" in defined and len(defined) > 3
    assert len(defined) == len(set(defined))
    declared = [
        line.split("@", 1)[1].split("(", 1)[0].strip('"')
        for line in text.splitlines()
        if line.startswith("declare")
    ]
    assert not set(declared) & set(defined)


def test_compile_with_workers_matches_onnxruntime(monkeypatch, tmp_path) -> None:
    model = small_cnn()
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(np.float32)
    expected = run_onnxruntime(model, {"x": x})[0]
    outputs = []
    for jobs in ("1", "2"):
        monkeypatch.setenv(parallel_lower.JOBS_ENV, jobs)
        monkeypatch.setattr(parallel_lower, "MIN_PARALLEL_OPS", 0)
        stats = driver.CompileStats()
        compiled = driver.compile(model, cache=False, stats=stats)
        assert stats.workers == int(jobs)
        outputs.append(compiled.run(None, {"x": x})[0])
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-4, atol=1e-6)
    assert outputs[0].tobytes() == outputs[1].tobytes()


def test_merge_keeps_one_definition_over_declarations() -> None:
    first = parallel_lower.UnitIR(
        [("k", "declare void @k()", True), ("g", "@g = global i32 0", False)]
    )
    second = parallel_lower.UnitIR([("k", "define void @k() {\nret void\n}", False)])
    text = parallel_lower.merge_units([first, second], "x86_64-unknown-linux-gnu")
    assert "declare void @k()" not in text
    assert text.index("define void @k()") < text.index("@g = global")
    clash = parallel_lower.UnitIR([("g", "@g = global i32 1", False)])
    with pytest.raises(ValueError, match="'g'"):
        parallel_lower.merge_units([first, clash], "x86_64-unknown-linux-gnu")


def _square(x: int) -> int:
    return x * x


def _fork_map_in_a_pool_worker(jobs: int) -> tuple[list[int], int]:
    return parallel_lower.fork_map(_square, [1, 2, 3], [1, 1, 1], jobs)


def test_fork_map_keeps_order_and_runs_serially_inside_a_pool_worker() -> None:
    assert parallel_lower.fork_map(_square, [3, 1, 2], [5, 1, 9], 2) == ([9, 1, 4], 2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_fork_map_in_a_pool_worker, (2,)) == ([1, 4, 9], 1)
