"""Parallel loops on libgomp threads: outline-parallel-loops + convert-parallel-to-gomp."""

from __future__ import annotations

import numpy as np
import pytest
from cpu_kernels import jit, parallel_loop

from compiler.lowering.convert_parallel_to_gomp import CHUNKS_PER_THREAD

ROWS = 64

SCALE = f"""
func.func private @omp_get_thread_num() -> i32
func.func @scale(%a: memref<{ROWS}x48xf32>, %out: memref<{ROWS}x48xf32>, %who: memref<{
    ROWS
}xi32>, %s: f32) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = arith.constant {ROWS} : index
  %c16 = arith.constant 16 : index
  %c48 = arith.constant 48 : index
  %sv = vector.broadcast %s : f32 to vector<16xf32>
  {
    parallel_loop(
        "%c0",
        "%rows",
        "%c1",
        "%i",
        '''
    %t = func.call @omp_get_thread_num() : () -> i32
    memref.store %t, %who[%i] : memref<{ROWS}xi32>
    scf.for %j = %c0 to %c48 step %c16 {{
      %x = vector.load %a[%i, %j] : memref<{ROWS}x48xf32>, vector<16xf32>
      %y = arith.mulf %x, %sv : vector<16xf32>
      vector.store %y, %out[%i, %j] : memref<{ROWS}x48xf32>, vector<16xf32>
    }}'''.replace("{ROWS}", str(ROWS))
        .replace("{{", "{")
        .replace("}}", "}"),
    )
}
  func.return
}}
"""


@pytest.fixture(scope="module")
def scale_handle():  # type: ignore[no-untyped-def]
    return jit(SCALE)


def _run(handle, threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(threads)
    a = rng.standard_normal((ROWS, 48), dtype=np.float32)
    out = np.zeros_like(a)
    who = np.full(ROWS, -1, np.int32)
    handle.set_num_threads(threads)
    handle["scale"](a, out, who, 1.5)
    return a, out, who


def _assert_chunked(who: np.ndarray, threads: int, chunks: int) -> None:
    """Every row ran on one of the team's threads, and each of the `chunks`
    contiguous ranges of rows on a single thread (which one is first come, first served)."""
    assert ((who >= 0) & (who < threads)).all(), who
    size = -(-ROWS // chunks)
    for start in range(0, ROWS, size):
        assert len(set(who[start : start + size].tolist())) == 1, (start, who)


def test_parallel_loop_runs_on_two_threads(scale_handle) -> None:  # type: ignore[no-untyped-def]
    a, out, who = _run(scale_handle, 2)
    np.testing.assert_array_equal(out, a * np.float32(1.5))
    # The default: CHUNKS_PER_THREAD chunks per thread, taken dynamically.
    _assert_chunked(who, 2, 2 * CHUNKS_PER_THREAD)


def test_thread_count_is_set_at_run_time(scale_handle) -> None:  # type: ignore[no-untyped-def]
    a, out, who = _run(scale_handle, 1)
    np.testing.assert_array_equal(out, a * np.float32(1.5))
    assert (who == 0).all()
    a, out, who = _run(scale_handle, 4)
    np.testing.assert_array_equal(out, a * np.float32(1.5))
    _assert_chunked(who, 4, 4 * CHUNKS_PER_THREAD)


@pytest.mark.parametrize("chunks", [1, 7, 100])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_schedule_chunk_count(chunks: int, threads: int) -> None:
    """`compiler.chunks` on the scf.parallel: that many ranges (at most one per row)."""
    loop_type = "}) : (index, index, index) -> ()"
    assert SCALE.count(loop_type) == 1
    handle = jit(SCALE.replace(loop_type, f"}}) {{compiler.chunks = {chunks} : i64}} : (index, index, index) -> ()"))
    a, out, who = _run(handle, threads)
    np.testing.assert_array_equal(out, a * np.float32(1.5))
    _assert_chunked(who, threads, min(chunks, ROWS))
    if chunks == 1:
        assert len(set(who.tolist())) == 1


def test_sequential_option_needs_no_threads() -> None:
    handle = jit(SCALE, parallel=False)
    a, out, who = _run(handle, 2)
    np.testing.assert_array_equal(out, a * np.float32(1.5))
    assert (who == 0).all()


UNEVEN = """
func.func @fill(%out: memref<10x3xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c10 = arith.constant 10 : index
  %c7 = arith.constant 7 : i64
  "scf.parallel"(%c1, %c0, %c10, %c3, %c2, %c1) <{operandSegmentSizes = array<i32: 2, 2, 2, 0>}> ({
  ^bb0(%i: index, %j: index):
    %ii = arith.index_cast %i : index to i64
    %jj = arith.index_cast %j : index to i64
    %p = arith.muli %ii, %c7 : i64
    %v = arith.addi %p, %jj : i64
    memref.store %v, %out[%i, %j] : memref<10x3xi64>
    scf.reduce
  }) : (index, index, index, index, index, index) -> ()
  func.return
}
"""


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_two_dimensional_parallel_loop_with_step_and_uneven_split(threads: int) -> None:
    handle = jit(UNEVEN)
    handle.set_num_threads(threads)
    out = np.full((10, 3), -1, np.int64)
    handle["fill"](out)
    expected = np.full((10, 3), -1, np.int64)
    for i in range(1, 10, 2):
        for j in range(3):
            expected[i, j] = 7 * i + j
    np.testing.assert_array_equal(out, expected)
