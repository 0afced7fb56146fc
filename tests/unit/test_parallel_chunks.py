"""The `parallel` primitive's `chunks`: the schedule parameter, its way down to
the scf.parallel, and results that do not depend on it.

Threads take a parallel loop's iterations in `chunks` contiguous ranges, first
come, first served (see convert-parallel-to-gomp). Every iteration computes
what it computes serially, so any chunk count and any thread count must give
the same bits; the thread counts (1, 2, 3) and chunk counts (1, 7) here do not
divide the loop's 29 iterations.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func, scf
from xdsl.dialects.builtin import IntegerAttr, ModuleOp

import compiler
from compiler.dialects.loop import KERNEL_ATTR
from compiler.lowering.convert_loop_to_scf import ConvertLoopToScf
from compiler.lowering.outline_parallel_loops import CHUNKS_ATTR as SCF_CHUNKS_ATTR
from compiler.registry import make_context
from compiler.schedule import Schedule, ScheduleError, build_kernel
from compiler.schedule.primitives import CHUNKS_ATTR, Parallel, Primitive, find_loop
from compiler.schedule.schedule import kernels

ROWS = 29


@pytest.fixture(scope="module")
def matmul_kernel() -> func.FuncOp:
    """A (1, 29, 40) x (40, 24) matmul: a reduction over 40 in every row."""
    w = np.random.default_rng(1).standard_normal((40, 24)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, ROWS, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, ROWS, 24])],
        [numpy_helper.from_array(w, "w")],
    )
    module = compiler.import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    compiler.run_pipeline(module, "graph-optimize{level=3},plan-memory,convert-graph-to-loop")
    (kernel,) = [k for k in kernels(module) if KERNEL_ATTR in k.attributes and k.sym_name.data.startswith("matmul")]
    return kernel


def test_chunks_is_a_parameter_of_parallel() -> None:
    step = Parallel("m", chunks=7)
    assert step.to_dict() == {"primitive": "parallel", "axis": "m", "chunks": 7}
    assert Primitive.from_dict(step.to_dict()) == step
    # Without chunks the JSON is what it was before the parameter existed.
    assert Parallel("m").to_dict() == {"primitive": "parallel", "axis": "m"}
    assert Primitive.from_dict({"primitive": "parallel", "axis": "m"}) == Parallel("m", chunks=0)
    with pytest.raises(ScheduleError, match="chunks must be a non-negative integer"):
        Primitive.from_dict({"primitive": "parallel", "axis": "m", "chunks": -1})


def test_chunks_reach_the_scf_parallel(matmul_kernel: func.FuncOp) -> None:
    kernel = matmul_kernel.clone()
    Schedule([Parallel("m", chunks=7)]).apply(kernel)
    assert find_loop(kernel, "m").attributes[CHUNKS_ATTR] == IntegerAttr(7, 64)
    ConvertLoopToScf().apply(make_context(), ModuleOp([kernel]))
    (loop,) = [op for op in kernel.walk() if isinstance(op, scf.ParallelOp)]
    assert loop.attributes[SCF_CHUNKS_ATTR] == IntegerAttr(7, 64)


def test_results_are_bit_identical_across_chunk_and_thread_counts(matmul_kernel: func.FuncOp) -> None:
    serial = build_kernel(matmul_kernel, Schedule([]), cache=False)
    args = serial.random_args(seed=4)
    expected = [a.copy() for a in args]
    serial(*expected)
    x, w, _ = args
    np.testing.assert_allclose(expected[-1], x @ w, rtol=1e-4, atol=1e-4)
    for chunks in (1, 7):
        built = build_kernel(matmul_kernel, Schedule([Parallel("m", chunks=chunks)]), cache=False)
        for threads in (1, 2, 3):
            built.set_num_threads(threads)
            out = [a.copy() for a in args]
            out[-1][...] = np.nan
            built(*out)
            np.testing.assert_array_equal(out[-1], expected[-1], err_msg=f"chunks={chunks} threads={threads}")
