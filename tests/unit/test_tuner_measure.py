"""compiler.tuner.measure: candidates built in workers, timed in an isolated runner.

The failing candidates are real machine code: a kernel that stores far out
of bounds (SIGSEGV in the runner) and one that loops for 2^62 iterations
(killed by the timeout). The runner must come back for the next candidate.
One Measurer serves the module: starting its processes is the cost.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func

import compiler
from compiler.api import parse_mlir
from compiler.dialects.loop import KERNEL_ATTR
from compiler.schedule import Schedule, Split
from compiler.schedule.rules import default_schedule
from compiler.schedule.schedule import kernels
from compiler.targets.cpu.machine import HostTarget
from compiler.tuner.measure import Measurer

TIMEOUT_S = 3.0

CRASH = """
func.func @crash(%x: memref<4xf32>, %y: memref<4xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 4 step 1 axis "i" {
    %v = memref.load %x[%i] : memref<4xf32>
    %far = arith.constant 1099511627776 : index
    %j = arith.addi %i, %far : index
    memref.store %v, %y[%j] : memref<4xf32>
  }
  func.return
}
"""

HANG = """
func.func @hang(%x: memref<4xf32>, %y: memref<4xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 4611686018427387904 step 1 axis "i" {
    %c0 = arith.constant 0 : index
    %v = memref.load %y[%c0] : memref<4xf32>
    %one = arith.constant 1.0 : f32
    %s = arith.addf %v, %one : f32
    memref.store %s, %y[%c0] : memref<4xf32>
  }
  func.return
}
"""


def _text_kernel(text: str) -> func.FuncOp:
    module = parse_mlir(text)
    return next(op for op in module.ops if isinstance(op, func.FuncOp))


def _matmul_kernel(seed: int) -> func.FuncOp:
    w = np.random.default_rng(seed).standard_normal((40, 24)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 12, 24])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, "graph-optimize{level=3},plan-memory,convert-graph-to-loop")
    return next(k for k in kernels(module) if KERNEL_ATTR in k.attributes)


@pytest.fixture(scope="module")
def measurer() -> Iterator[Measurer]:
    with Measurer(timeout=TIMEOUT_S, repeat=2, min_repeat_ms=1.0) as m:
        yield m


@pytest.fixture(scope="module")
def matmul() -> func.FuncOp:
    return _matmul_kernel(1)


def test_candidates_are_timed_and_checked(measurer: Measurer, matmul: func.FuncOp) -> None:
    default = default_schedule(matmul, HostTarget.detect().schedule_target(1))
    # The packed candidate takes the weights in the packed layout (24 columns -> 3 x 40 x 8).
    pack = [{"primitive": "pack", "operand": 1, "axis": 1, "factor": 8}]
    parallel = '[{"primitive": "split", "axis": "m", "factor": 4}, {"primitive": "parallel", "axis": "m.outer"}]'
    results = measurer.measure(matmul, [default, Schedule([Split("m", 5)]), pack, parallel])
    assert [r.error for r in results] == [None, None, None, None]
    for r in results:
        assert len(r.costs) == 2 and all(0 < c < 1 for c in r.costs)
        assert r.build_s > 0 and r.run_s > 0


def test_build_errors_are_one_line(measurer: Measurer, matmul: func.FuncOp) -> None:
    results = measurer.measure(
        matmul,
        [
            '[{"primitive": "no_such_primitive"}]',
            [{"primitive": "split", "axis": "no_such_axis", "factor": 2}],
            "[]",
        ],
    )
    assert results[0].error is not None and results[0].error.startswith("build: ")
    assert "no_such_primitive" in results[0].error and "\n" not in results[0].error
    assert results[1].error is not None and results[1].error.startswith("build: ")
    assert "no_such_axis" in results[1].error
    assert results[0].costs == results[1].costs == []
    assert results[2].error is None and len(results[2].costs) == 2


def test_a_crashing_candidate_fails_and_the_runner_comes_back(
    measurer: Measurer, matmul: func.FuncOp
) -> None:
    crashed = measurer.measure(_text_kernel(CRASH), ["[]"], check=False)
    assert crashed[0].costs == []
    assert crashed[0].error is not None and crashed[0].error.startswith("runtime: crashed (signal 11")
    after = measurer.measure(matmul, ["[]"])
    assert after[0].error is None and len(after[0].costs) == 2


def test_a_hanging_candidate_times_out_and_the_runner_comes_back(
    measurer: Measurer, matmul: func.FuncOp
) -> None:
    hung = measurer.measure(_text_kernel(HANG), ["[]"], check=False)
    assert hung[0].error == f"timeout after {TIMEOUT_S:g} s"
    assert TIMEOUT_S <= hung[0].run_s < TIMEOUT_S + 5
    after = measurer.measure(matmul, [json.dumps([{"primitive": "split", "axis": "k", "factor": 8}])])
    assert after[0].error is None and len(after[0].costs) == 2


def test_a_failing_reference_fails_every_candidate(measurer: Measurer) -> None:
    # With the check on, the crash kernel's own (default) schedule crashes first.
    results = measurer.measure(_text_kernel(CRASH), ["[]", "[]"])
    assert all(r.error is not None and r.error.startswith("reference") for r in results)
    assert results[0].error is not None and "crashed" in results[0].error


def test_the_check_tolerance(measurer: Measurer) -> None:
    # A correct schedule cannot give a wrong result, so the comparison is checked alone.
    assert measurer._compare({0: np.full(3, 100.0)}, {0: np.full(3, 100.005)}) is None  # rtol x max
    wrong = measurer._compare({0: np.ones(3)}, {0: np.array([1.0, 1.5, 1.0])})
    assert wrong is not None and wrong.startswith("wrong result: max abs err 0.5 in argument 0")
    assert measurer._compare({0: np.array([np.nan])}, {0: np.array([np.nan])}) is None
    assert measurer._compare({0: np.array([np.nan])}, {0: np.array([1.0])}) is not None
    assert measurer._compare({1: np.arange(3)}, {1: np.array([0, 1, 3])}) is not None


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def test_close_reaps_every_process(matmul: func.FuncOp) -> None:
    m = Measurer(builders=2, timeout=TIMEOUT_S, repeat=1, min_repeat_ms=0.0)
    m.measure(_text_kernel(CRASH), ["[]"], check=False)  # a runner lost on the way
    assert [r.error for r in m.measure(matmul, ["[]", "[]"], check=False)] == [None, None]
    pids = [w.process.pid for w in [*m._builders, m._runner] if w.process is not None]
    assert len(pids) == 3  # two builders, the restarted runner
    m.close()
    deadline = time.monotonic() + 5
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(p) for p in pids)  # exited and reaped: no zombie left
    with pytest.raises(RuntimeError, match="closed"):
        m.measure(_text_kernel(CRASH), ["[]"])
