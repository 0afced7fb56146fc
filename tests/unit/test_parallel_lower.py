"""Per-function lowering in worker processes: bit-identical to lowering in one process.

`compiler.compile` lowers each kernel (and `@main`) on its own, spread over
forked workers (compiler/targets/cpu/parallel_lower.py). A small CNN (conv,
relu, pooling, a dense layer, softmax: several kernels, threaded loops) gets
its default schedules and is lowered with one process and with two; the LLVM
IR text and the object code must be the same bytes, and the compiled model
must match onnxruntime.
"""

from __future__ import annotations

import ctypes
import multiprocessing

import llvmlite.ir as ir
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler import driver
from compiler.api import run_pipeline
from compiler.frontend.onnx import import_onnx
from compiler.lowering.convert_parallel_to_gomp import NUM_THREADS_GLOBAL, SET_NUM_THREADS
from compiler.runtime import load
from compiler.targets.cpu import objects, parallel_lower
from compiler.targets.cpu.jit import load_object
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
        driver.function_pipeline(host),
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


def test_object_bundle_is_the_same_for_any_number_of_workers(monkeypatch, tmp_path) -> None:
    """`compiler.compile` runs LLVM in the workers too: one object per function, the
    same bundle bytes with one process or two, and its `.so` export links them."""
    monkeypatch.setattr(parallel_lower, "MIN_PARALLEL_OPS", 0)
    host = HostTarget.detect()
    bundles = []
    for jobs in (1, 2):
        module = import_onnx(small_cnn())
        run_pipeline(module, "graph-optimize{level=3}")
        stats = driver.CompileStats()
        code, _, _ = driver.lower_to_object_code(module, stats, None, host, False, jobs)
        assert stats.workers == jobs and stats.worker_seconds["llvm"] > 0
        bundles.append(code)
    assert bundles[0] == bundles[1]
    parts = objects.unpack(bundles[0])
    assert len(parts) > 3 and objects.pack(parts) == bundles[0]

    x = np.random.default_rng(2).standard_normal((1, 3, 16, 16)).astype(np.float32)
    compiled = driver.compile(small_cnn(), cache=False)
    compiled.export(tmp_path / "cnn.so")
    loaded = load(tmp_path / "cnn.so")
    np.testing.assert_array_equal(loaded.run(None, {"x": x})[0], compiled.run(None, {"x": x})[0])


def test_one_team_size_for_all_objects() -> None:
    """Only the home unit defines the team-size global and its setter; the other
    units declare them, so the setter reaches every kernel's loops."""
    units = []
    for home in (True, False):
        module = ir.Module()
        count = ir.GlobalVariable(module, ir.IntType(32), NUM_THREADS_GLOBAL)
        count.linkage, count.initializer = "internal", ir.Constant(ir.IntType(32), 0)
        setter = ir.Function(module, ir.FunctionType(ir.VoidType(), [ir.IntType(32)]), SET_NUM_THREADS)
        builder = ir.IRBuilder(setter.append_basic_block())
        builder.store(setter.args[0], count)
        builder.ret_void()
        kernel = ir.Function(module, ir.FunctionType(ir.VoidType(), []), "conv_0")
        kernel.linkage = "internal"
        ir.IRBuilder(kernel.append_basic_block()).ret_void()
        parallel_lower.link_separately(module, home, {"conv_0"})
        units.append(str(module))
    home_text, other_text = units
    assert f'@"{NUM_THREADS_GLOBAL}" = hidden global i32 0' in home_text
    assert f'define void @"{SET_NUM_THREADS}"' in home_text
    assert f'@"{NUM_THREADS_GLOBAL}" = external hidden global i32' in other_text
    assert f'declare void @"{SET_NUM_THREADS}"' in other_text
    assert 'define hidden void @"conv_0"' in home_text and 'define hidden void @"conv_0"' in other_text

    engine_objects = [compile_object(text, HostTarget.detect(), 0) for text in units[::-1]]
    handle = load_object(objects.pack(engine_objects))
    handle.function(SET_NUM_THREADS, None, [ctypes.c_int32])(3)
    assert ctypes.c_int32.from_address(handle.address(NUM_THREADS_GLOBAL)).value == 3


def test_llvm_unrolls_only_what_the_schedule_left_rolled(monkeypatch) -> None:
    """A function whose schedule unrolls loops is compiled without LLVM's loop
    unroller (the schedule decided); the others keep it."""
    flags: dict[str, bool] = {}
    compile_unit = parallel_lower.compile_object

    def record(text: str, *args, loop_unrolling: bool = True, **kwargs) -> bytes:
        defined = [line for line in text.splitlines() if line.startswith("define hidden")]
        for line in defined:
            flags[line.split("@", 1)[1].split("(", 1)[0].strip('"')] = loop_unrolling
        return compile_unit(text, *args, loop_unrolling=loop_unrolling, **kwargs)

    monkeypatch.setattr(parallel_lower, "compile_object", record)
    module = import_onnx(small_cnn())
    run_pipeline(module, "graph-optimize{level=3}")
    host = HostTarget.detect()
    driver.lower_to_object_code(module, driver.CompileStats(), None, host, False, 1)
    assert True in flags.values() and False in flags.values(), flags
