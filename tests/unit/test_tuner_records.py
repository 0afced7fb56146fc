"""compiler.tuner.records: append-only JSON lines that survive a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from compiler.tuner.records import (
    RECORD_VERSION,
    Record,
    RecordLog,
    best_records,
    best_schedules,
    load_records,
    target_info,
)


def _record(key: str, cost: float, *, error: str | None = None, target: dict | None = None) -> Record:
    return Record(
        workload_key=key,
        workload=f"matmul {key}",
        target=target if target is not None else target_info(1),
        schedule=[{"primitive": "split", "axis": "m", "factor": int(cost * 1000) + 1}],
        point={"tile_m": int(cost * 1000) + 1},
        costs=[] if error else [cost, cost * 1.1, cost * 0.9],
        error=error,
        timestamp=time.time(),
    )


def test_target_info_describes_the_host() -> None:
    info = target_info(2)
    assert info["threads"] == 2 and info["vector_bits"] in (128, 256, 512)
    assert info["llvm_cpu"] and isinstance(info["cpu_model"], str)
    assert all(f.startswith("+") for f in info["features"].split(","))


def test_round_trip_and_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    written = [_record("a", 0.003), _record("a", 0.002), _record("b", 0.01, error="build: x")]
    with RecordLog(path) as log:
        for r in written:
            log.append(r)
    assert load_records(path) == written
    assert written[0].version == RECORD_VERSION
    # A kill mid-write: the last line is cut short.
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])
    with pytest.warns(UserWarning, match="skipped 1 line"):
        assert load_records(path) == written[:2]
    # Appending after the torn line starts a line of its own.
    with RecordLog(path) as log:
        log.append(written[2])
    with pytest.warns(UserWarning, match="skipped 1 line"):
        assert load_records(path) == written
    with open(path, "a") as f:
        f.write('{"not": "a record"}\n[1, 2]\n')
    with pytest.warns(UserWarning, match="skipped 3 line"):
        assert len(load_records(path)) == 3


def test_no_file_is_no_records(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_records(tmp_path / "none.jsonl") == []


def test_best_per_workload_for_the_matching_target(tmp_path: Path) -> None:
    here = target_info(1)
    elsewhere = dict(here, features="+sse2", vector_bits=128)
    records = [
        _record("a", 0.003),
        _record("a", 0.002),
        _record("a", 0.0001, error="wrong result: max abs err 3"),
        _record("a", 0.0005, target=elsewhere),  # faster, but another machine
        _record("a", 0.0006, target=dict(here, threads=2)),  # another thread count
        _record("b", 0.01),
    ]
    path = tmp_path / "r.jsonl"
    with RecordLog(path) as log:
        for r in records:
            log.append(r)
    best = best_records(path)
    assert set(best) == {"a", "b"} and best["a"] == records[1] and best["b"] == records[5]
    assert best_records(records, dict(here, threads=2))["a"] == records[4]
    assert best_records(records, elsewhere) == {"a": records[3]}
    # Feature order does not matter.
    shuffled = dict(here, features=",".join(reversed(here["features"].split(","))))
    assert best_records(records, shuffled)["a"] == records[1]
    assert best_schedules(path) == {"a": records[1].schedule, "b": records[5].schedule}


WRITER = """
import sys, time
from compiler.tuner.records import Record, RecordLog
target = {"features": "+avx2", "vector_bits": 256, "threads": 1}
with RecordLog(sys.argv[1]) as log:
    i = 0
    while True:
        log.append(Record(f"k{i}", "w", target, [], {"i": i, "pad": "x" * 5000}, [1e-3], None, time.time()))
        print(i, flush=True)
        i += 1
"""


def test_a_killed_writer_loses_no_completed_record(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert writer.stdout is not None
    done = -1
    for line in writer.stdout:  # records reported complete by the writer
        done = int(line)
        if done >= 200:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the kill may have torn the last line
        loaded = load_records(path)
    indices = [r.point["i"] for r in loaded]
    assert indices == list(range(len(indices)))
    assert len(indices) >= done + 1
