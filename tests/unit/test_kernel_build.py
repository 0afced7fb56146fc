"""One kernel alone: compiler.schedule.build_kernel / time_kernel on real kernels.

The kernels come from small ONNX models run through `graph-optimize`,
`plan-memory` and `convert-graph-to-loop`; each is compiled by itself and
checked against numpy.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func, llvm

import compiler
from compiler.dialects.loop import KERNEL_ATTR, SCHEDULE_ATTR, SCHEDULED_ATTR
from compiler.errors import CompilerError, InputError
from compiler.schedule import Schedule, ScheduleError, Split, build_kernel, time_kernel
from compiler.schedule.schedule import kernels

BLOCK = 16  # channel block of the O3 blocked convolution layout (NCHW16c, OIHW16i16o)


def _model(
    node: onnx.NodeProto, x: tuple[int, ...], y: tuple[int, ...], w: np.ndarray
) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y))],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _kernel(model: onnx.ModelProto, prefix: str, level: int) -> func.FuncOp:
    module = compiler.import_onnx(model)
    compiler.run_pipeline(
        module, f"graph-optimize{{level={level}}},plan-memory,convert-graph-to-loop"
    )
    found = [
        k
        for k in kernels(module)
        if KERNEL_ATTR in k.attributes and k.sym_name.data.startswith(prefix)
    ]
    assert len(found) == 1, [k.sym_name.data for k in kernels(module)]
    return found[0]


@pytest.fixture(scope="module")
def matmul_kernel() -> func.FuncOp:
    w = np.random.default_rng(1).standard_normal((40, 24)).astype(np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    return _kernel(_model(node, (1, 12, 40), (1, 12, 24), w), "matmul", 3)


@pytest.fixture(scope="module")
def conv_kernel() -> func.FuncOp:
    w = np.random.default_rng(2).standard_normal((32, 16, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    return _kernel(_model(node, (1, 16, 8, 8), (1, 32, 8, 8), w), "conv", 3)


def _check_matmul(args: list[np.ndarray]) -> None:
    x, w, y = args
    np.testing.assert_allclose(y, x @ w, rtol=1e-4, atol=1e-4)


def test_matmul_kernel_matches_numpy(matmul_kernel: func.FuncOp) -> None:
    before = str(matmul_kernel)
    built = build_kernel(matmul_kernel, cache=False)
    assert [s.shape for s in built.arg_specs] == [(1, 12, 40), (40, 24), (1, 12, 24)]
    assert all(s.dtype == np.float32 for s in built.arg_specs)
    args = built.random_args(seed=0)
    args[-1][...] = np.nan
    built(*args)
    _check_matmul(args)
    assert str(matmul_kernel) == before  # the schedule went to a clone


@pytest.mark.parametrize(
    "schedule",
    [
        [{"primitive": "split", "axis": "m", "factor": 4}],
        Schedule([Split("m", 5)]),  # 12 = 2 x 5 + a tail of 2
        '[{"primitive": "split", "axis": "m", "factor": 4}, {"primitive": "parallel", "axis": "m.outer"}]',
    ],
    ids=["list", "schedule-with-tail", "json-parallel"],
)
def test_scheduled_matmul_gives_the_same_numbers(
    matmul_kernel: func.FuncOp, schedule: object
) -> None:
    plain = build_kernel(matmul_kernel, cache=False)
    built = build_kernel(matmul_kernel, schedule, num_threads=2, cache=False)  # type: ignore[arg-type]
    args = built.random_args(seed=3)
    expected = [a.copy() for a in args]
    plain(*expected)
    built(*args)
    _check_matmul(args)
    np.testing.assert_allclose(args[-1], expected[-1], rtol=1e-5, atol=1e-5)


def test_stored_default_schedule_is_applied_once() -> None:
    w = np.random.default_rng(5).standard_normal((40, 24)).astype(np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    kernel = _kernel(_model(node, (1, 12, 40), (1, 12, 24), w), "matmul", 3)
    module = kernel.parent_op()
    assert module is not None
    # default-schedule stores the schedule; build_kernel applies it (to a clone).
    compiler.run_pipeline(module, "default-schedule{vector-bits=256 vector-registers=16}")
    assert SCHEDULE_ATTR in kernel.attributes
    stored = build_kernel(kernel, cache=False)
    assert any(isinstance(op, llvm.FuncOp) for op in stored.module.ops)
    args = stored.random_args(seed=6)
    stored(*args)
    _check_matmul(args)
    # After apply-schedule the kernel is marked scheduled: built as it is.
    compiler.run_pipeline(module, "apply-schedule")
    assert SCHEDULED_ATTR in kernel.attributes
    applied = build_kernel(kernel, cache=False)
    args = applied.random_args(seed=7)
    applied(*args)
    _check_matmul(args)


def _conv_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NCHW x OIHW, stride 1, pad 1: im2col and one GEMM in float64."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack(
        [xp[:, :, i : i + h, j : j + wd] for i in range(kh) for j in range(kw)], axis=2
    )  # n, c, kh*kw, h, w
    gemm = w.reshape(oc, c * kh * kw).astype(np.float64) @ cols.reshape(n, c * kh * kw, h * wd)
    return gemm.reshape(n, oc, h, wd)


def test_blocked_conv_kernel_matches_numpy(conv_kernel: func.FuncOp) -> None:
    built = build_kernel(conv_kernel, cache=False)
    # O3 runs the conv in NCHW16c with weights OIHW16i16o, on the padded input.
    xb_shape, wb_shape, yb_shape = (s.shape for s in built.arg_specs)
    assert xb_shape == (1, 1, 10, 10, BLOCK) and yb_shape == (1, 2, 8, 8, BLOCK)
    assert wb_shape == (2, 1, 3, 3, BLOCK, BLOCK)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    xb = np.ascontiguousarray(xpad.reshape(1, 1, BLOCK, 10, 10).transpose(0, 1, 3, 4, 2))
    wb = np.ascontiguousarray(w.reshape(2, BLOCK, 1, BLOCK, 3, 3).transpose(0, 2, 4, 5, 3, 1))
    yb = np.zeros(yb_shape, np.float32)
    built(xb, wb, yb)
    y = yb.transpose(0, 1, 4, 2, 3).reshape(1, 32, 8, 8)
    np.testing.assert_allclose(y, _conv_reference(x, w), rtol=1e-4, atol=1e-4)

    scheduled = build_kernel(
        conv_kernel, [{"primitive": "split", "axis": "oh", "factor": 4}], cache=False
    )
    yb2 = np.zeros_like(yb)
    scheduled(xb, wb, yb2)
    np.testing.assert_allclose(yb2, yb, rtol=1e-5, atol=1e-5)


def test_time_kernel_returns_one_cost_per_repeat(matmul_kernel: func.FuncOp) -> None:
    built = build_kernel(matmul_kernel, cache=False)
    args = built.random_args(seed=0)
    costs = time_kernel(built, args, repeat=4)
    assert len(costs) == 4 and all(isinstance(c, float) and c > 0 for c in costs)
    costs = time_kernel(built, args, number=2, repeat=2, min_repeat_ms=5)
    assert len(costs) == 2 and all(0 < c < 5e-3 for c in costs)
    _check_matmul(args)
    with pytest.raises(CompilerError, match="repeat"):
        time_kernel(built, args, repeat=0)


def test_wrong_arguments_raise_clear_errors(matmul_kernel: func.FuncOp) -> None:
    built = build_kernel(matmul_kernel, cache=False)
    x, w, y = built.random_args(seed=0)
    with pytest.raises(InputError, match=r"argument 1 must be 40x24 float32, got 24x40 float32"):
        built(x, np.ascontiguousarray(w.T), y)
    with pytest.raises(
        InputError, match=r"argument 0 must be 1x12x40 float32, got 1x12x40 float64"
    ):
        built(x.astype(np.float64), w, y)
    with pytest.raises(InputError, match="not C-contiguous"):
        built(x, np.asfortranarray(w), y)
    with pytest.raises(InputError, match="takes 3 arrays"):
        built(x, w)
    with pytest.raises(InputError, match="numpy array"):
        built(x.tolist(), w, y)
    with pytest.raises(InputError, match="must be 1x12x40"):
        time_kernel(built, [w, w, y])


def test_bad_schedule_and_non_kernel(matmul_kernel: func.FuncOp) -> None:
    with pytest.raises(ScheduleError, match="nope"):
        build_kernel(
            matmul_kernel, [{"primitive": "split", "axis": "nope", "factor": 2}], cache=False
        )
    plain = matmul_kernel.clone()
    del plain.attributes[KERNEL_ATTR]
    with pytest.raises(CompilerError, match="not a loop kernel"):
        build_kernel(plain, cache=False)


def test_schedule_package_does_not_import_targets_eagerly() -> None:
    import subprocess
    import sys

    code = (
        "import sys, compiler.schedule as s; "
        "assert 'compiler.targets.cpu.kernel' not in sys.modules; "
        "assert s.build_kernel.__module__ == 'compiler.targets.cpu.kernel'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


GLOBAL_KERNEL = """
builtin.module {
  "memref.global"() <{sym_name = "g", type = memref<4xf32>, sym_visibility = "private", constant,
    initial_value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>}> : () -> ()
  func.func private @k(%a: memref<4xf32>, %o: memref<4xf32>) attributes {loop.kernel} {
    %g = memref.get_global @g : memref<4xf32>
    loop.for %i = 0 to 4 step 1 axis "i" {
      %x = memref.load %a[%i] : memref<4xf32>
      %y = memref.load %g[%i] : memref<4xf32>
      %z = arith.addf %x, %y : f32
      memref.store %z, %o[%i] : memref<4xf32>
    }
    func.return
  }
}
"""


def test_kernel_referencing_a_global_takes_it_along() -> None:
    module = compiler.parse_mlir(GLOBAL_KERNEL)
    (kernel,) = kernels(module)
    built = build_kernel(kernel, [{"primitive": "split", "axis": "i", "factor": 2}], cache=False)
    a, out = np.arange(4, dtype=np.float32), np.zeros(4, np.float32)
    built(a, out)
    np.testing.assert_array_equal(out, [1, 3, 5, 7])
