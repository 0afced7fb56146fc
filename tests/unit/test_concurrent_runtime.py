"""One CompiledModel run from several Python threads at once (issue 12, part 3).

Each concurrent caller computes in its own arena from the model's pool, so
threads must neither serialize nor see each other's intermediates: outputs
are bitwise those of serial runs, a bad feed fails only its own call, and a
long loop of runs leaves memory where it was.
"""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.errors import InputError
from compiler.runtime import CompiledModel


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def small_cnn() -> onnx.ModelProto:
    """x: f32[1, 3, 16, 16] -> conv, relu, conv, add (residual), max pool, global pool.

    Every intermediate lives in the arena, so two calls sharing one arena
    would overwrite each other's tensors.
    """
    rng = np.random.default_rng(12)
    w1 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.2
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        helper.make_node("MaxPool", ["s"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "small_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 1, 1]),
            helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 8, 8, 8]),
        ],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> CompiledModel:
    compiled = compiler.compile(small_cnn(), num_threads=1, cache=False)
    assert compiled.metadata.arena_bytes > 0
    return compiled


def _inputs(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 3, 16, 16)).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("threads", [2, 4])
def test_concurrent_outputs_are_bitwise_serial(model: CompiledModel, threads: int) -> None:
    feeds = [_inputs(150, seed) for seed in range(threads)]
    serial = [[model.run(None, {"x": x}) for x in chunk] for chunk in feeds]
    results: list[list[list[np.ndarray]]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def work(k: int) -> None:
        start.wait()
        for x in feeds[k]:
            results[k].append(model.run(None, {"x": x}))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got_chunk, want_chunk in zip(results, serial, strict=True):
        assert len(got_chunk) == len(want_chunk)
        for got, want in zip(got_chunk, want_chunk, strict=True):
            for g, e in zip(got, want, strict=True):
                assert g.tobytes() == e.tobytes()
    # Each concurrent caller had its own arena, and no more than one per caller was made.
    assert 1 <= model.arenas_allocated <= 1 + 4


def test_native_call_releases_the_gil(model: CompiledModel) -> None:
    """ctypes releases the GIL around foreign calls, except for PYFUNCTYPE prototypes."""
    import ctypes

    assert not model._entry._flags_ & ctypes._FUNCFLAG_PYTHONAPI  # type: ignore[attr-defined]


def test_bad_feeds_in_one_thread_do_not_disturb_others(model: CompiledModel) -> None:
    good = _inputs(60, seed=7)
    want = [model.run(None, {"x": x}) for x in good]
    errors: list[str] = []
    got: list[list[np.ndarray]] = []
    stop = threading.Event()

    def good_worker() -> None:
        for x in good:
            got.append(model.run(None, {"x": x}))
        stop.set()

    def bad_worker() -> None:
        bad_feeds = [
            {"x": np.zeros((1, 3, 16, 15), np.float32)},
            {"x": np.zeros((1, 3, 16, 16), np.float64)},
            {"nope": np.zeros((1, 3, 16, 16), np.float32)},
            {"x": "not an array"},
        ]
        i = 0
        while not stop.is_set() or i < len(bad_feeds):
            try:
                model.run(None, bad_feeds[i % len(bad_feeds)])
            except InputError as err:
                errors.append(str(err))
            i += 1

    workers = [threading.Thread(target=good_worker), threading.Thread(target=bad_worker)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors and all("input" in e for e in errors)
    assert len(got) == len(want)
    for g, e in zip(got, want, strict=True):
        assert all(a.tobytes() == b.tobytes() for a, b in zip(g, e, strict=True))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_many_runs_do_not_grow_memory(model: CompiledModel) -> None:
    x = _inputs(1, seed=3)[0]
    for _ in range(200):  # warm-up: allocator pools, ctypes caches
        model.run(None, {"x": x})
    tracemalloc.start()
    try:
        before_py = tracemalloc.get_traced_memory()[0]
        before_rss = _rss_bytes()
        for _ in range(2000):
            model.run(None, {"x": x})
        after_py = tracemalloc.get_traced_memory()[0]
        after_rss = _rss_bytes()
    finally:
        tracemalloc.stop()
    # One run allocates ~2.3 KB of outputs: a leak of one output per run would be ~4.6 MB.
    assert after_py - before_py < 64 * 1024
    assert after_rss - before_rss < 4 * 1024 * 1024
