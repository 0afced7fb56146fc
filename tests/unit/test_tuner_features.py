"""compiler.tuner.features: fixed-length vectors read from the scheduled loop IR.

The kernels come from one tiny ONNX graph (a conv, a max-pool, a matmul and
an elementwise exp) lowered at level 3 (blocked NCHW16c conv) and level 1
(NCHW conv), as the tuner gets them.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func

import compiler
from compiler.dialects.loop import KERNEL_ATTR
from compiler.schedule import (
    Parallel,
    Reorder,
    Schedule,
    ScheduleError,
    Split,
    Unroll,
    Vectorize,
    all_loops,
)
from compiler.schedule.rules import algorithm_of, default_schedule
from compiler.schedule.schedule import kernels
from compiler.schedule.target import CpuTarget
from compiler.tuner.features import FEATURE_LENGTH, FEATURE_NAMES, schedule_features

TARGET = CpuTarget(vector_bits=256, vector_registers=16, threads=2)


def _model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal((40, 24)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("MatMul", ["a", "b"], ["z"]),
        helper.make_node("Exp", ["a"], ["e"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 14, 14]),
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 12, 40]),
        ],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 7, 7]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 12, 24]),
            helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 12, 40]),
        ],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _kernels(level: int) -> dict[str, func.FuncOp]:
    module = compiler.import_onnx(_model())
    compiler.run_pipeline(module, f"graph-optimize{{level={level}}},plan-memory,convert-graph-to-loop")
    out: dict[str, func.FuncOp] = {}
    for k in kernels(module):
        if KERNEL_ATTR in k.attributes:
            name = k.sym_name.data
            out[algorithm_of(k) or name.rsplit("_", 1)[0]] = k
    return out


@pytest.fixture(scope="module")
def kernel_set() -> dict[str, func.FuncOp]:
    blocked, nchw = _kernels(3), _kernels(1)
    return {
        "matmul": blocked["matmul"],
        "conv_blocked": blocked["conv2d_NCHWc"],
        "conv_nchw": nchw["conv2d_nchw"],
        "pool": blocked["pool2d"],
        "elementwise": blocked["exp"],
    }


def _value(vector: np.ndarray, name: str) -> float:
    return float(vector[FEATURE_NAMES.index(name)])


def test_names_are_unique_and_fixed() -> None:
    assert len(FEATURE_NAMES) == FEATURE_LENGTH == len(set(FEATURE_NAMES))


@pytest.mark.parametrize("kind", ["matmul", "conv_blocked", "conv_nchw", "pool", "elementwise"])
def test_fixed_length_finite_deterministic(kernel_set: dict[str, func.FuncOp], kind: str) -> None:
    kernel = kernel_set[kind]
    before = str(kernel)
    schedule = default_schedule(kernel, TARGET)
    plain = schedule_features(kernel, None, TARGET)
    scheduled = schedule_features(kernel, schedule, TARGET)
    for v in (plain, scheduled):
        assert v.dtype == np.float32 and v.shape == (FEATURE_LENGTH,)
        assert np.isfinite(v).all()
    assert not np.array_equal(plain, scheduled)
    np.testing.assert_array_equal(scheduled, schedule_features(kernel, schedule.to_json(), TARGET))
    assert str(kernel) == before  # the schedule went to a clone
    # The work is the same whatever the schedule: flops do not depend on it.
    assert _value(plain, "total.flops") == pytest.approx(_value(scheduled, "total.flops"), rel=1e-3)


def test_conv_schedules_differ(kernel_set: dict[str, func.FuncOp]) -> None:
    kernel = kernel_set["conv_blocked"]
    default = schedule_features(kernel, default_schedule(kernel, TARGET), TARGET)
    other = Schedule(
        [
            Split("ow", 7),
            Reorder(("ow.outer", "kh", "kw", "ii", "ow.inner", "oc")),
            Unroll("ow.inner"),
            Vectorize("oc"),
            Parallel("oh"),
        ]
    )
    alternative = schedule_features(kernel, other, TARGET)
    plain = schedule_features(kernel, None, TARGET)
    assert not np.array_equal(default, alternative)
    assert not np.array_equal(plain, alternative)
    # Only the default keeps a register tile (cache_write): accumulators.
    assert _value(default, "total.acc.buffers") >= 1
    assert _value(alternative, "total.acc.buffers") == 0
    assert _value(alternative, "store0.vec.on") == 1
    assert _value(alternative, "store0.vec.lanes") == TARGET.lanes(32)
    # oh (14 rows) on 2 threads: balanced; the plain kernel has no parallel loop.
    assert _value(alternative, "total.par.balance") == 1.0
    assert _value(plain, "total.par.loops") == 0


def test_split_tail_vector_and_parallel_balance(kernel_set: dict[str, func.FuncOp]) -> None:
    kernel = kernel_set["elementwise"]
    inner = all_loops(kernel)[-1].axis_name  # the 40 columns
    outer = all_loops(kernel)[0].axis_name
    target = CpuTarget(vector_bits=256, vector_registers=16, threads=3)
    whole = schedule_features(kernel, [Vectorize(inner)], target)
    split = schedule_features(kernel, [Split(inner, 16), Vectorize(f"{inner}.inner"), Parallel(outer)], target)
    assert not np.array_equal(whole, split)
    # 40 columns in vectors of 8 lanes: no tail; the rows run on threads.
    assert _value(whole, "store0.vec.tail_share") == 0.0
    assert _value(whole, "store0.vec.efficiency") == 1.0
    assert _value(whole, "store0.par.depth") == -1
    outer_trips = all_loops(kernel)[0].trip_count
    balance = -(-outer_trips // 3) * 3 / outer_trips
    assert _value(split, "total.par.balance") == pytest.approx(balance)
    # The 8 columns left by the split run in their own (tail) nest.
    assert 0 < _value(split, "total.tail.share") < 0.5
    odd = schedule_features(kernel, [Split(inner, 10), Vectorize(f"{inner}.inner")], target)
    assert _value(odd, "store0.vec.tail_share") == pytest.approx(2 / 10)  # 10 = 8 + 2


def test_bad_schedule_raises_and_leaves_kernel(kernel_set: dict[str, func.FuncOp]) -> None:
    kernel = kernel_set["matmul"]
    before = str(kernel)
    with pytest.raises(ScheduleError):
        schedule_features(kernel, [Split("no_such_axis", 2)], TARGET)
    assert str(kernel) == before
