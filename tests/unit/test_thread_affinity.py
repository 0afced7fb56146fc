"""Thread affinity (compiler/thread_affinity.py): while a run is in flight,
the caller and each worker of its libgomp team stay on CPUs of their own."""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from runtime_models import parallel_matmul

import compiler
from compiler import thread_affinity
from compiler.targets.cpu.bind_team import bind_team_function, bind_team_module
from compiler.thread_affinity import affinity_masks, bound, close_cpus, enabled_by_default

TWO_CPUS = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two CPUs to bind a team of two",
)


@pytest.fixture(autouse=True)
def _fresh_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with nothing bound on this thread, as far as the module knows."""
    monkeypatch.setattr(thread_affinity, "_caller", thread_affinity._Caller())


def test_close_policy_starts_at_the_callers_cpu_and_wraps() -> None:
    assert close_cpus({0, 1, 2, 3}, 2, 3) == [2, 3, 0]
    assert close_cpus({1, 3, 5}, 5, 2) == [5, 1]
    assert close_cpus({4}, 4, 1) == [4]


def test_masks_are_cpu_sets_one_row_per_thread() -> None:
    masks = affinity_masks([[0], [9], [1, 2]])
    assert masks.shape == (3, 128)  # glibc's cpu_set_t
    assert masks[0, 0] == 1 and masks[1, 1] == 2 and masks[2, 0] == 6
    assert masks.sum() == 1 + 2 + 6
    assert affinity_masks([[1030]]).shape == (1, 136)  # room for CPU 1030


def test_off_by_variable_or_by_libgomps_own_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (thread_affinity.ENV, *thread_affinity.LIBGOMP_BINDING):
        monkeypatch.delenv(name, raising=False)
    assert enabled_by_default()
    monkeypatch.setenv(thread_affinity.ENV, "0")
    assert not enabled_by_default()
    monkeypatch.delenv(thread_affinity.ENV)
    monkeypatch.setenv("OMP_PROC_BIND", "spread")
    assert not enabled_by_default()


class _Recorder:
    """A stand-in for the native region that records which CPU sets it was given."""

    def __init__(self) -> None:
        self.calls: list[list[set[int]]] = []

    def __call__(self, address: int, mask_bytes: int, n: int, tids: int) -> None:
        raw = np.frombuffer(ctypes.string_at(address, mask_bytes * n), dtype=np.uint8)
        bits = np.unpackbits(raw.reshape(n, mask_bytes), axis=1, bitorder="little")
        self.calls.append([set(np.flatnonzero(row).tolist()) for row in bits])


@TWO_CPUS
def test_one_region_binds_then_only_the_caller_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = os.sched_getaffinity(0)
    record = _Recorder()
    with bound(2, record) as pinned:
        assert pinned
    (sets,) = record.calls
    assert len(sets) == 2 and all(len(s) == 1 for s in sets) and sets[0] != sets[1]
    cpus = thread_affinity._caller.cpus
    assert cpus is not None and [{c} for c in cpus] == sets
    assert os.sched_getaffinity(0) == allowed  # given back after the run
    monkeypatch.setattr(thread_affinity, "_getcpu", lambda: cpus[0])  # run again from that CPU
    with bound(2, record) as pinned:
        assert pinned and os.sched_getaffinity(0) == {cpus[0]}
    assert os.sched_getaffinity(0) == allowed
    assert len(record.calls) == 1  # the workers kept their CPUs: no second region
    monkeypatch.setattr(thread_affinity, "_getcpu", lambda: cpus[1])  # the caller moved
    with bound(2, record):
        pass
    assert len(record.calls) == 2 and record.calls[-1][0] == {cpus[1]}  # a new region from there


@contextlib.contextmanager
def _another_thread(inside: Callable[[], contextlib.AbstractContextManager[object]]) -> Iterator[int]:
    """A thread that enters `inside()` and waits there until the block ends; yields its id."""
    started, finish = threading.Event(), threading.Event()
    tids: list[int] = []

    def wait() -> None:
        with inside():
            tids.append(threading.get_native_id())
            started.set()
            finish.wait(10)

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        assert started.wait(10)
        yield tids[0]
    finally:
        finish.set()
        thread.join()


@TWO_CPUS
def test_a_concurrent_run_releases_the_workers_and_pins_nothing() -> None:
    allowed = os.sched_getaffinity(0)
    record = _Recorder()
    with bound(2, record):
        pass
    with _another_thread(lambda: bound(2, _Recorder())), bound(2, record) as pinned:
        assert not pinned and os.sched_getaffinity(0) == allowed
    assert record.calls[-1] == [allowed, allowed]  # workers given every allowed CPU back
    assert thread_affinity._caller.cpus is None


def test_single_threads_and_missing_regions_bind_nothing() -> None:
    record = _Recorder()
    with bound(1, record) as one, bound(2, None) as missing:
        assert not one and not missing
    assert record.calls == []


def _threads() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def test_native_region_verifies() -> None:
    bind_team_module().verify()


@TWO_CPUS
def test_a_two_thread_run_binds_its_worker_and_gives_the_caller_back() -> None:
    model = compiler.compile(parallel_matmul(), num_threads=2, cache=False)
    assert model.bind_threads and model._bind_team is bind_team_function()
    allowed = os.sched_getaffinity(0)
    x = np.random.default_rng(1).standard_normal((256, 128)).astype(np.float32)
    before = _threads()
    got = model.run(None, {"x": x})[0]
    cpus = thread_affinity._caller.cpus
    assert cpus is not None and len(cpus) == 2
    assert os.sched_getaffinity(0) == allowed
    (worker,) = thread_affinity._caller.workers  # the region says who the worker is
    assert worker in _threads() and worker != threading.get_native_id()
    assert os.sched_getaffinity(worker) == {cpus[1]}
    assert _threads() - before <= {worker}  # libgomp's pool may predate this test
    model.bind_threads = False
    np.testing.assert_allclose(model.run(None, {"x": x})[0], got, rtol=1e-6)


def test_exported_models_with_parallel_loops_bind_too(tmp_path: Path) -> None:
    model = compiler.compile(parallel_matmul(), num_threads=2, cache=False)
    model.export(tmp_path / "m.so")
    loaded = compiler.load(tmp_path / "m.so")
    assert loaded._bind_team is not None and loaded._bind_team is bind_team_function()
    x = np.random.default_rng(2).standard_normal((256, 128)).astype(np.float32)
    np.testing.assert_allclose(loaded.run(None, {"x": x})[0], model.run(None, {"x": x})[0], rtol=1e-6)


def _stops_running(tid: int) -> bool:
    for _ in range(200):  # until it is asleep (or gone): up to 2 s
        if not thread_affinity._running(tid):
            return True
        threading.Event().wait(0.01)
    return False


def test_running_tells_a_running_thread_from_a_waiting_one() -> None:
    assert thread_affinity._running(threading.get_native_id())  # this one, reading
    with _another_thread(contextlib.nullcontext) as tid:
        assert _stops_running(tid)  # asleep, waiting to be let go
    assert _stops_running(tid)  # gone: not an error


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_forgets_the_parents_team() -> None:
    thread_affinity._caller.cpus, thread_affinity._caller.workers = [0, 1], (1234,)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it knows, then leave without cleanup
        os.write(write, b"%d %d" % (thread_affinity._caller.cpus is None, len(thread_affinity._caller.workers)))
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"1 0"
    os.close(read)


@TWO_CPUS
def test_a_one_thread_run_in_flight_also_keeps_others_from_binding() -> None:
    record = _Recorder()
    with _another_thread(lambda: bound(1, _Recorder())), bound(2, record) as pinned:
        assert not pinned
    assert record.calls == []  # nothing was bound, nothing to release
