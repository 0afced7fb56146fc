"""Dynamic threads (compiler/dynamic_threads.py): a run's team shrinks to the
CPUs that nothing else is running on, read from /proc/loadavg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from runtime_models import parallel_matmul

import compiler
from compiler import dynamic_threads
from compiler.dynamic_threads import TeamSizer, runnable_tasks


@pytest.fixture(autouse=True)
def _all_cpus_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamic_threads, "usable_cpus", lambda: 2)


def test_quiet_host_keeps_the_team() -> None:
    team = TeamSizer(lambda: 1, host_cpus=2)  # only the caller runs
    assert [team.size(n) for n in (0, 1, 2)] == [2, 1, 2]


def test_one_busy_process_leaves_one_thread() -> None:
    team = TeamSizer(lambda: 2, host_cpus=2)
    assert [team.size(n) for n in (0, 1, 2, 4)] == [1, 1, 1, 1]


def test_own_spinning_workers_are_not_a_neighbour() -> None:
    assert TeamSizer(lambda: 2, host_cpus=2).size(2, lambda: 1) == 2  # our worker, spinning
    assert TeamSizer(lambda: 3, host_cpus=2).size(2, lambda: 1) == 1  # and one busy process
    assert TeamSizer(lambda: 2, host_cpus=2).size(2, lambda: 0) == 1


def test_never_fewer_than_one_thread() -> None:
    assert TeamSizer(lambda: 9, host_cpus=2).size(2) == 1


def test_unknown_load_keeps_the_request() -> None:
    team = TeamSizer(lambda: None, host_cpus=2)
    assert [team.size(n) for n in (0, 1, 2)] == [0, 1, 2]


def test_cpuset_confined_process_keeps_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamic_threads, "usable_cpus", lambda: 2)
    assert TeamSizer(lambda: 40, host_cpus=64).size(2) == 2


def test_runnable_count_is_the_fourth_field(tmp_path: Path) -> None:
    good = tmp_path / "loadavg"
    good.write_text("0.52 0.58 0.59 3/812 12345\n")
    assert runnable_tasks(str(good)) == 3
    bad = tmp_path / "bad"
    bad.write_text("garbage\n")
    assert runnable_tasks(str(bad)) is None
    assert runnable_tasks(str(tmp_path / "missing")) is None


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="no /proc/loadavg")
def test_this_host_reports_at_least_the_caller() -> None:
    count = runnable_tasks()
    assert count is not None and count >= 1


def test_compiled_model_runs_the_sized_team() -> None:
    model = compiler.compile(parallel_matmul(), num_threads=2, cache=False)
    assert not model.dynamic_threads  # tests/unit/conftest.py turns it off
    teams: list[int] = []
    native = model._set_threads
    assert native is not None

    def record(n: int) -> None:
        teams.append(n)
        native(n)

    model._set_threads = record
    x = np.random.default_rng(1).standard_normal((256, 128)).astype(np.float32)
    want = model.run(None, {"x": x})[0]
    model.dynamic_threads = True
    model._team = TeamSizer(lambda: 2, host_cpus=2)  # one busy process beside us
    got = model.run(None, {"x": x})[0]
    assert teams == [2, 1]
    np.testing.assert_allclose(got, want, rtol=1e-5)
