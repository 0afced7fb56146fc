"""Tuning records: one JSON line per measured candidate, append-only.

    with RecordLog("r.jsonl") as log:
        log.append(Record(key, workload, target_info(1), schedule, point, costs, None, time.time()))
    best = best_schedules("r.jsonl")          # {workload key: schedule list} for this host
    compiler.compile(model, schedules=best)

Why JSON lines: a tuning run may be killed at any moment (SIGKILL, a full
disk, a power cut). Each record is written as one line and flushed to the
disk (`os.fsync`) before the next candidate starts, so a kill loses at
most the line being written; `load_records` skips such a torn line (and any
other line it cannot read) with one warning. A log whose last line is torn
gets a newline before the next append, so the new record starts clean.

A record is only valid for the machine it was measured on: `target_info`
describes it (CPU model, LLVM CPU name and features, vector width, thread
count), and `best_records` keeps only records whose features, vector width
and thread count match the target asked for (by default this host at one
thread: the tuner measures at one thread unless told otherwise).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

import numpy as np

from compiler.errors import CompilerError

RECORD_VERSION = 1


@dataclass
class Record:
    """One measured candidate of one workload."""

    workload_key: str
    workload: str
    """Human-readable description of the workload (op, shapes)."""
    target: dict
    """`target_info` of the machine it was measured on."""
    schedule: list
    """The schedule as a list of primitive dicts (`Schedule.to_list()`)."""
    point: dict
    """The search-space point the schedule came from (knob -> value)."""
    costs: list[float]
    """Seconds per run, one per repeat; empty when `error` is set."""
    error: str | None
    timestamp: float
    version: int = RECORD_VERSION

    @property
    def median(self) -> float:
        """Median cost in seconds; inf for a failed record."""
        return float(np.median(self.costs)) if self.error is None and self.costs else float("inf")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> Record:
        """A record from a decoded line; ValueError when it is not one of this version."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in fields(cls)}
        if set(data) - names or data.get("version") != RECORD_VERSION:
            raise ValueError("unknown fields or version")
        record = cls(**data)
        if not (
            isinstance(record.workload_key, str)
            and isinstance(record.target, dict)
            and isinstance(record.schedule, list)
            and isinstance(record.point, dict)
            and isinstance(record.costs, list)
            and all(isinstance(c, int | float) for c in record.costs)
            and (record.error is None or isinstance(record.error, str))
        ):
            raise ValueError("a field has the wrong type")
        return record


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo ('' where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def _enabled_features(features: str) -> list[str]:
    """LLVM's feature string as the sorted list of enabled features (order-free comparison)."""
    return sorted(f for f in features.split(",") if f.startswith("+"))


def target_info(num_threads: int) -> dict:
    """What a record's timing depends on: this host's CPU and the thread count."""
    from compiler.targets.cpu.machine import HostTarget

    host = HostTarget.detect()
    return {
        "cpu_model": _cpu_model(),
        "llvm_cpu": host.cpu,
        "features": ",".join(_enabled_features(host.features)),
        "vector_bits": host.schedule_target().vector_bits,
        "threads": num_threads,
    }


def target_matches(recorded: dict, target: dict) -> bool:
    """Same CPU features, vector width and thread count (any count when `target` names none)."""
    return (
        _enabled_features(str(recorded.get("features", "")))
        == _enabled_features(str(target.get("features", "")))
        and recorded.get("vector_bits") == target.get("vector_bits")
        and (target.get("threads") is None or recorded.get("threads") == target.get("threads"))
    )


class RecordLog:
    """An append-only records file; every `append` is on disk when it returns."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = False
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
        self._file = open(self.path, "a", encoding="utf-8")
        if torn:  # the last writer died mid-line: start the next record on a line of its own
            self._file.write("\n")
            self._sync()

    def append(self, record: Record) -> None:
        if self._file is None:
            raise ValueError(f"the record log {self.path} is closed")
        self._file.write(record.to_json() + "\n")
        self._sync()

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_records(path: str | os.PathLike[str]) -> list[Record]:
    """Every complete record in the file, in order (no file: none).

    Lines that are not records (a torn last line, garbage, another version)
    are skipped with one warning that counts them.
    """
    path = Path(path)
    if not path.exists():
        return []
    records: list[Record] = []
    skipped = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                records.append(Record.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                skipped += 1
    if skipped:
        warnings.warn(
            f"{path}: skipped {skipped} line(s) that are not complete records "
            "(a torn last line after a kill, or another version)",
            stacklevel=2,
        )
    return records


def _records(records_or_path: Iterable[Record] | str | os.PathLike[str]) -> list[Record]:
    if isinstance(records_or_path, str | os.PathLike):
        return load_records(records_or_path)
    return list(records_or_path)


def best_records(
    records_or_path: Iterable[Record] | str | os.PathLike[str], target: dict | None = None
) -> dict[str, Record]:
    """Per workload key, the error-free record of lowest median cost measured on `target`.

    `target` None: this host at one thread (`target_info(1)`).
    """
    target = target_info(1) if target is None else target
    best: dict[str, Record] = {}
    for record in _records(records_or_path):
        if record.error is not None or not record.costs or not target_matches(record.target, target):
            continue
        current = best.get(record.workload_key)
        if current is None or record.median < current.median:
            best[record.workload_key] = record
    return best


def best_schedules(
    records_or_path: Iterable[Record] | str | os.PathLike[str], target: dict | None = None
) -> dict[str, list]:
    """{workload key: schedule list} of `best_records`: what `compiler.compile(schedules=)` takes."""
    return {key: r.schedule for key, r in best_records(records_or_path, target).items()}


def tuned_schedules(records: str | os.PathLike[str], num_threads: int | None) -> dict[str, list]:
    """The best recorded schedule per workload for this CPU at `num_threads`
    (None: one per core). Schedules tuned for another thread count are not
    used (a 1-thread schedule has no parallel loop): a warning names the
    counts the records do hold."""
    if not Path(records).is_file():
        raise CompilerError(f"records file '{os.fspath(records)}' does not exist", hint="run 'compiler tune' first, or check the path")
    threads = num_threads or os.cpu_count() or 1
    loaded = load_records(records)
    chosen = best_schedules(loaded, target_info(threads))
    if not chosen:
        loose = {k: v for k, v in target_info(threads).items() if k != "threads"}
        counts = sorted({r.target.get("threads") for r in loaded if target_matches(r.target, loose)})
        if counts:
            warnings.warn(
                f"records '{os.fspath(records)}' hold schedules for {', '.join(map(str, counts))} thread(s), "
                f"none for {threads}: compile with num_threads={counts[0]} or tune with --threads {threads}",
                stacklevel=3,
            )
    return chosen
