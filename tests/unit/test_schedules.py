"""Schedules own the performance decisions: plain algorithms, stored schedules, overrides."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.dialects.loop import (
    SCHEDULE_ATTR,
    SCHEDULED_ATTR,
    SERIAL,
    WORKLOAD_ATTR,
    WORKLOAD_KEY_ATTR,
    ForOp,
)
from compiler.schedule.schedule import ScheduleWarning, kernels, override_schedules
from compiler.testing.models import LIGHT_MODELS, seeded_light_model
from compiler.testing.oracle import ort_session

LOOP_LEVEL = "graph-optimize{level=3},plan-memory,convert-graph-to-loop"
SCHEDULED = "default-schedule{vector-bits=256 vector-registers=16 threads=2},apply-schedule"


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_light_models_lower_to_plain_algorithms_then_every_kernel_is_scheduled(name: str) -> None:
    """After convert-graph-to-loop no loop is annotated; after the loop pipeline
    every kernel carries its schedule (applied) and its workload key."""
    module = compiler.import_onnx(seeded_light_model(name))
    compiler.run_pipeline(module, LOOP_LEVEL)
    annotated = [
        f"@{k.sym_name.data}: '{op.axis_name}' {op.kind}"
        for k in kernels(module)
        for op in k.walk()
        if isinstance(op, ForOp) and op.kind != SERIAL
    ]
    assert not annotated, annotated[:5]
    compiler.run_pipeline(module, SCHEDULED)
    for k in kernels(module):
        assert SCHEDULE_ATTR in k.attributes and SCHEDULED_ATTR in k.attributes, k.sym_name.data
        assert WORKLOAD_KEY_ATTR in k.attributes, k.sym_name.data


def _matmul_model(m: int = 16, k: int = 32, n: int = 48) -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    w = rng.standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["out"])],
        "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _matmul_key(model: onnx.ModelProto) -> str:
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, LOOP_LEVEL)
    (kernel,) = [k for k in kernels(module) if "matmul" in k.sym_name.data]
    workload = json.loads(kernel.attributes[WORKLOAD_ATTR].data)  # type: ignore[union-attr]
    assert workload["op"] == "graph.matmul" and workload["epilogue"] == ["graph.relu"]
    return kernel.attributes[WORKLOAD_KEY_ATTR].data  # type: ignore[union-attr]


# j moved inside k, vectorized by 16: no register tile, no threads.
OVERRIDE = [
    {"primitive": "reorder", "axes": ["k", "n"]},
    {"primitive": "split", "axis": "n", "factor": 16},
    {"primitive": "vectorize", "axis": "n.inner"},
]


def _loop_ir(model: onnx.ModelProto, schedules: dict[str, object] | None) -> str:
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, LOOP_LEVEL)
    if schedules:
        override_schedules(module, schedules)  # type: ignore[arg-type]
    compiler.run_pipeline(module, SCHEDULED)
    return compiler.print_mlir(module)


def _reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return ort_session(model).run(None, {"x": x})[0]


def test_workload_key_is_stable() -> None:
    assert _matmul_key(_matmul_model()) == _matmul_key(_matmul_model())
    assert _matmul_key(_matmul_model()) != _matmul_key(_matmul_model(n=64))


def test_override_changes_the_loop_ir_and_keeps_numerics(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    model = _matmul_model()
    key = _matmul_key(model)
    default_ir, custom_ir = _loop_ir(model, None), _loop_ir(model, {key: OVERRIDE})
    assert "cache_write" in default_ir and "memref.alloca" in default_ir
    assert 'axis "n.inner" vectorize' in custom_ir and "memref.alloca" not in custom_ir
    x = np.random.default_rng(0).standard_normal((16, 32)).astype(np.float32)
    want = _reference(model, x)
    for schedules in ({key: OVERRIDE}, {key: json.dumps(OVERRIDE)}):
        got = compiler.compile(model, schedules=schedules).run(None, {"x": x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_bad_override_warns_and_keeps_the_default(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    model = _matmul_model()
    key = _matmul_key(model)
    bad = [{"primitive": "vectorize", "axis": "m"}]  # m holds the n and k loops
    with pytest.warns(ScheduleWarning, match=r"kernel @matmul_relu_0 .*does not apply.*vectorize 'm'"):
        compiled = compiler.compile(model, schedules={key: bad}, cache=False)
    x = np.random.default_rng(1).standard_normal((16, 32)).astype(np.float32)
    np.testing.assert_allclose(compiled.run(None, {"x": x})[0], _reference(model, x), rtol=1e-4, atol=1e-4)
    with pytest.warns(ScheduleWarning, match="not valid JSON"):
        compiler.compile(model, schedules={key: "[{"}, cache=False)
    with pytest.warns(ScheduleWarning, match="unknown schedule primitive 'tile'"):
        compiler.compile(model, schedules={key: [{"primitive": "tile"}]}, cache=False)


def test_model_cache_key_includes_the_overrides(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    from compiler.driver import CompileStats

    model = _matmul_model()
    key = _matmul_key(model)

    def cached(schedules: dict[str, object] | None) -> bool:
        stats = CompileStats()
        compiler.compile(model, schedules=schedules, stats=stats)
        return "cache" in stats.seconds

    assert not cached(None)
    assert cached(None)
    assert not cached({key: OVERRIDE})
    assert cached({key: OVERRIDE})


@pytest.mark.parametrize(("m", "k", "n"), [(30, 50, 100), (7, 33, 24), (128, 64, 96), (1, 64, 100), (3, 40, 17)])
def test_default_matmul_schedule_numerics(m: int, k: int, n: int, tmp_path, monkeypatch) -> None:
    """Register tiles, split remainders on both axes, packed panels, matrix-vector columns."""
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    model = _matmul_model(m, k, n)
    x = np.random.default_rng(2).standard_normal((m, k)).astype(np.float32)
    want = _reference(model, x)
    for threads in (1, 2):
        got = compiler.compile(model, num_threads=threads, cache=False).run(None, {"x": x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_gemm_packs_its_constant_operand() -> None:
    ir = _loop_ir(_matmul_model(30, 50, 100), None)
    assert "loop.packed" in ir and "_packed_1_" in ir
    assert '"primitive": "pack"' in ir.replace("\\22", '"')


def test_pack_refuses_a_written_operand() -> None:
    from compiler.schedule import Pack, ScheduleError

    module = compiler.import_onnx(_matmul_model())
    compiler.run_pipeline(module, LOOP_LEVEL)
    (kernel,) = kernels(module)
    out = len(kernel.body.block.args) - 1
    with pytest.raises(ScheduleError, match="does more than load the operand"):
        Pack(out, 1, 8).apply(kernel)


SPLIT_K = """
func.func @mm(%A: memref<8x16xf32>, %B: memref<16x8xf32>, %C: memref<8x8xf32>) attributes {loop.kernel} {
  loop.for %mi = 0 to 8 step 1 axis "m.init" stage "init" {
    loop.for %ni = 0 to 8 step 1 axis "n.init" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %C[%mi, %ni] : memref<8x8xf32>
    }
  }
  loop.for %m = 0 to 8 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 8 step 1 axis "n" {
      loop.for %k = 0 to 16 step 1 axis "k" {
        %a = memref.load %A[%m, %k] : memref<8x16xf32>
        %b = memref.load %B[%k, %n] : memref<16x8xf32>
        %c = memref.load %C[%m, %n] : memref<8x8xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        memref.store %s, %C[%m, %n] : memref<8x8xf32>
      }
    }
  }
  loop.for %me = 0 to 8 step 1 axis "m.epi" stage "epilogue" {
    loop.for %ne = 0 to 8 step 1 axis "n.epi" {
      %c = memref.load %C[%me, %ne] : memref<8x8xf32>
      %z = arith.constant 0.0 : f32
      %r = arith.maximumf %c, %z : f32
      memref.store %r, %C[%me, %ne] : memref<8x8xf32>
    }
  }
  func.return
}
"""


@pytest.mark.parametrize(
    "schedule",
    [
        # a split reduction: each part's tile starts from the buffer, the stages stay
        [{"primitive": "split", "axis": "k", "factor": 5},
         {"primitive": "cache_write", "axis": "k.tail", "position": "around"},
         {"primitive": "cache_write", "axis": "k.outer", "position": "around"}],
        # a tile of the epilogue nest starts from the computed sums
        [{"primitive": "cache_write", "axis": "m.epi"}],
        # remainders of a spatial loop: tiles start from the init value, stages move in
        [{"primitive": "split", "axis": "n", "factor": 3},
         {"primitive": "cache_write", "axis": "n.outer"},
         {"primitive": "cache_write", "axis": "n.tail"}],
    ],
)
def test_cache_write_keeps_partial_results(schedule: list[dict[str, object]]) -> None:
    from compiler.schedule.interpret import run_kernel
    from compiler.schedule.schedule import apply_schedule

    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 16)).astype(np.float32)
    b = rng.standard_normal((16, 8)).astype(np.float32)
    module = compiler.parse_mlir(SPLIT_K)
    (kernel,) = kernels(module)
    apply_schedule(kernel, json.dumps(schedule))
    c = np.full((8, 8), 7.0, np.float32)  # garbage the init stage must overwrite
    run_kernel(kernel, [a, b, c])
    np.testing.assert_allclose(c, np.maximum(a @ b, 0), rtol=1e-5, atol=1e-5)
