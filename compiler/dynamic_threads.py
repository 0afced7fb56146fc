"""Dynamic threads: a run's team shrinks to the CPUs that are idle when it starts.

OpenMP calls this dynamic adjustment of the number of threads
(`omp_set_dynamic`, `OMP_DYNAMIC`); libgomp's version divides by the
one-minute load average, which lags a busy neighbour by a minute. On a
shared machine a parallel loop is as slow as its slowest thread: a worker
descheduled by another process makes every barrier wait for it, so two
threads beside one busy process on two cores run slower than one thread
(`benchmarks/run.py --background-load`). So each run reads the runnable
count that the kernel reports now (the fourth field of /proc/loadavg, which
counts the caller itself) and gives the team at most the CPUs that nothing
else is running on, never fewer than one.

The count is host-wide. Where the process is confined to a subset of the
host's CPUs (a cpuset), it says nothing about those CPUs, and the team keeps
its size. `COMPILER_DYNAMIC_THREADS=0` (or `CompiledModel.dynamic_threads =
False`) turns it off; the test suite does, so that tests of parallel code
run the team they ask for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

ENV = "COMPILER_DYNAMIC_THREADS"
LOADAVG = "/proc/loadavg"
RECHECK_S = 0.005
"""Runs closer together than this reuse the last reading (a read costs a few microseconds)."""


def enabled_by_default() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_open_files: dict[str, int] = {}


def _read(path: str) -> bytes:
    """The file's current text. procfs makes it afresh on each read from offset 0,
    so its descriptor stays open: a read is then one syscall (1.5 us, not 10)."""
    if not path.startswith("/proc/"):
        with open(path, "rb") as f:
            return f.read()
    fd = _open_files.get(path)
    if fd is None:
        fd = _open_files.setdefault(path, os.open(path, os.O_RDONLY | os.O_CLOEXEC))
    return os.pread(fd, 256, 0)


def runnable_tasks(path: str = LOADAVG) -> int | None:
    """Tasks running or ready to run on the host now (this one included); None where unknown."""
    try:
        return int(_read(path).split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return None


class TeamSizer:
    """Team sizes for successive runs: `size(requested)` (0: all usable CPUs)."""

    def __init__(
        self, read_runnable: Callable[[], int | None] = runnable_tasks, host_cpus: int | None = None
    ) -> None:
        self._read = read_runnable
        self._host_cpus = host_cpus or os.cpu_count() or 1
        self._checked = -1.0
        self._idle: int | None = None
        self._usable = usable_cpus()

    def idle_cpus(self, own_running: Callable[[], int] | None = None) -> int | None:
        """Host CPUs running nothing but this caller; None where that is unknown.

        `own_running`: how many of the caller's own worker threads are running
        now (still spinning after its last run); they are not other work."""
        now = time.monotonic()
        if now - self._checked >= RECHECK_S:
            self._checked = now
            runnable = self._read()
            self._usable = usable_cpus()
            confined = self._usable < self._host_cpus
            if runnable is None or confined:
                self._idle = None
            else:
                others = runnable - 1 - (own_running() if own_running is not None else 0)
                self._idle = max(1, self._host_cpus - max(others, 0))
        return self._idle

    def size(self, requested: int, own_running: Callable[[], int] | None = None) -> int:
        """The team for a run that asked for `requested` threads (0: the native default, all CPUs)."""
        if requested == 1:
            return 1
        idle = self.idle_cpus(own_running)
        if idle is None:
            return requested
        return min(requested or self._usable, idle)
