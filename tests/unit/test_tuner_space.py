"""The tuner's search space: knobs of the default-schedule rules, for each kernel class."""

from __future__ import annotations

import random

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType

import compiler
from compiler import dtypes
from compiler.dialects.loop import ALGORITHM_ATTR
from compiler.schedule import Schedule, Vectorize, apply_schedule, build_kernel
from compiler.schedule.pack import Pack, pack_array
from compiler.schedule.rules import default_schedule, run_rule
from compiler.schedule.schedule import kernels
from compiler.schedule.target import CpuTarget
from compiler.tuner.space import SearchSpace, scalar_vector_loops, search_space

# An AVX2-like target with threads: 8 lanes give small kernels split loops, and
# the parallel knobs exist.
TARGET = CpuTarget(vector_bits=256, vector_registers=16, threads=2)
SAMPLES = 20


def _vi(name: str, shape: list[int] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(node: onnx.NodeProto, shape: list[int], weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(w, name) for name, w in weights.items()]
    graph = helper.make_graph([node], "space", [_vi("x", shape)], [_vi("y", None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _models() -> dict[str, tuple[onnx.ModelProto, str]]:
    """Tiny one-node models, and the algorithm of the kernel to tune in each."""
    rng = np.random.default_rng(0)

    def f32(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    def conv(c: int, o: int, group: int) -> onnx.ModelProto:
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], group=group)
        return _model(node, [1, c, 8, 8], {"w": f32(o, c // group, 3, 3), "b": f32(o)})

    return {
        "matmul": (_model(helper.make_node("MatMul", ["x", "w"], ["y"]), [12, 16], {"w": f32(16, 48)}), "matmul"),
        "conv_blocked": (conv(16, 16, 1), "conv2d_NCHWc"),
        "conv_nchw": (conv(4, 16, 2), "conv2d_nchw"),
        "pool": (
            _model(helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), [1, 8, 8, 8], {}),
            "pool2d",
        ),
        "softmax": (_model(helper.make_node("Softmax", ["x"], ["y"], axis=-1), [4, 40], {}), ""),
    }


MODELS = _models()

KNOBS = {
    "matmul": {"rows", "vectors", "unroll_k", "pack", "parallel", "chunks"},
    "conv_blocked": {"tile", "order", "unroll_ii", "parallel", "chunks"},
    "conv_nchw": {"channels", "columns", "order", "unroll_kw", "parallel", "chunks"},
    "pool": {"unroll_kw", "parallel.c"},
}


def _kernel(name: str) -> func.FuncOp:
    model, algorithm = MODELS[name]
    module = compiler.import_onnx(model)
    compiler.run_pipeline(module, "graph-optimize{level=3},plan-memory,convert-graph-to-loop")
    for kernel in kernels(module):
        attr = kernel.attributes.get(ALGORITHM_ATTR)
        if (attr.data if attr is not None else "") == algorithm and name[:4] in kernel.sym_name.data:  # type: ignore[union-attr]
            return kernel
    raise AssertionError(f"no {algorithm or 'generic'} kernel in the {name} model")


@pytest.fixture(scope="module")
def spaces() -> dict[str, SearchSpace]:
    return {name: search_space(_kernel(name), TARGET) for name in MODELS}


@pytest.mark.parametrize("name", list(MODELS))
def test_default_point_is_the_default_schedule(spaces: dict[str, SearchSpace], name: str) -> None:
    space = spaces[name]
    expected = default_schedule(space.kernel, TARGET).to_json()
    point = space.default_point()
    schedule = space.schedule(point)
    assert schedule is not None and schedule.to_json() == expected
    # The rule run with the default values given explicitly (as a tuned point) agrees.
    run = run_rule(space.kernel, TARGET, point)
    assert run.schedule.to_json() == expected and not run.missed
    assert KNOBS.get(name, set()) <= {k.name for k in space.knobs}
    assert all(k.default in k.choices for k in space.knobs)
    assert space.size() > 1


@pytest.mark.parametrize("name", list(MODELS))
def test_sampled_points_apply_or_are_rejected(spaces: dict[str, SearchSpace], name: str) -> None:
    space = spaces[name]
    rng = random.Random(7)
    default = space.schedule(space.default_point())
    assert default is not None
    differ = 0
    for _ in range(SAMPLES):
        point = space.sample(rng)
        assert set(point) == {k.name for k in space.knobs}
        schedule = space.schedule(point)
        if schedule is None:
            continue
        assert space.schedule(point) is schedule  # cached per key
        clone = space.kernel.clone()
        apply_schedule(clone, schedule.to_json())
        clone.erase()
        differ += schedule.to_json() != default.to_json()
    assert differ > 0


@pytest.mark.parametrize("name", list(MODELS))
def test_mutate_changes_one_or_two_knobs(spaces: dict[str, SearchSpace], name: str) -> None:
    space = spaces[name]
    rng = random.Random(3)
    choices = {k.name: k.choices for k in space.knobs}
    point = space.default_point()
    for _ in range(10):
        mutated = space.mutate(point, rng)
        changed = [k for k in point if mutated[k] != point[k]]
        assert 1 <= len(changed) <= 2
        assert all(mutated[k] in choices[k] for k in mutated)
        point = mutated


def test_key_is_canonical() -> None:
    assert SearchSpace.key({"b": 1, "a": None}) == SearchSpace.key({"a": None, "b": 1}) == '{"a":null,"b":1}'


def test_points_are_rejected_statically(spaces: dict[str, SearchSpace]) -> None:
    space = spaces["matmul"]
    default = space.default_point()
    # 8 x 3 accumulators + 3 vectors of b + a broadcast: more than 16 registers.
    assert space.schedule({**default, "rows": 8, "vectors": 3}) is None
    # All 48 columns in one panel of 6 vectors: no panel loop to run on threads.
    assert space.schedule({**default, "rows": 1, "vectors": 6, "pack": False, "parallel": "n.outer"}) is None
    assert space.schedule({**default, "rows": 99}) is None  # not a choice
    assert space.schedule({**default, "tile": 2}) is None  # not a knob of this rule


_INT_ROW_SUM = """
func.func @rowsum(%x: memref<4x32xi32>, %y: memref<4xi32>) attributes {loop.kernel} {
  loop.for %i = 0 to 4 step 1 axis "i" {
    loop.for %j = 0 to 32 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<4x32xi32>
      %a = memref.load %y[%i] : memref<4xi32>
      %s = arith.addi %a, %v : i32
      memref.store %s, %y[%i] : memref<4xi32>
    }
  }
  func.return
}
"""


def test_a_refused_vectorized_loop_counts_as_scalar(spaces: dict[str, SearchSpace]) -> None:
    kernel = spaces["matmul"].kernel.clone()
    assert scalar_vector_loops(kernel, TARGET) == 0
    apply_schedule(kernel, Schedule([Vectorize("k")]))  # a float reduction: vector partials
    assert scalar_vector_loops(kernel, TARGET) == 0
    kernel.erase()
    (rowsum,) = [op for op in compiler.parse_mlir(_INT_ROW_SUM).walk() if isinstance(op, func.FuncOp)]
    apply_schedule(rowsum, Schedule([Vectorize("j")]))  # an integer reduction: refused
    assert scalar_vector_loops(rowsum, TARGET) == 1


def _inputs(kernel: func.FuncOp, seed: int = 0) -> list[np.ndarray]:
    """Seeded arrays for the kernel's arguments in their unpacked layout (the output last)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in kernel.function_type.inputs.data:
        assert isinstance(t, MemRefType)
        dtype = dtypes.to_numpy_dtype(t.get_element_type())
        out.append(rng.standard_normal(tuple(t.get_shape())).astype(dtype))
    return out


def _run(kernel: func.FuncOp, schedule: Schedule, inputs: list[np.ndarray]) -> np.ndarray:
    args = [a.copy() for a in inputs]
    for step in schedule:
        if isinstance(step, Pack):
            args[step.operand] = pack_array(args[step.operand], step.axis, step.factor)
    built = build_kernel(kernel, schedule, num_threads=2, cache=False)
    built(*args)
    return args[-1]


@pytest.mark.parametrize("name", ["matmul", "conv_blocked"])
def test_sampled_schedules_compute_the_default_result(spaces: dict[str, SearchSpace], name: str) -> None:
    space = spaces[name]
    default = space.schedule(space.default_point())
    assert default is not None
    rng = random.Random(11)
    while True:  # the first valid sampled point with a schedule of its own
        schedule = space.schedule(space.sample(rng))
        if schedule is not None and schedule.to_json() != default.to_json():
            break
    inputs = _inputs(space.kernel)
    expected = _run(space.kernel, default, inputs)
    np.testing.assert_allclose(_run(space.kernel, schedule, inputs), expected, rtol=1e-4, atol=1e-4)
