"""Thread affinity: while a run is in flight, each thread of its team keeps a CPU of its own.

OpenMP calls this binding threads to places (`OMP_PROC_BIND=close`): the
caller stays on its CPU and the team's other threads take the next ones. We
bind only for the length of a run, because libgomp's own binding pins the
thread that loads it for good (the Python main thread, and every thread
and compile worker it starts afterwards, on one CPU).

Why at all: between parallel loops libgomp's workers sleep (after a short
spin, see `compiler.runtime.GOMP_SPIN_COUNT`), and on the virtual machines
we run on, the kernel often wakes a worker that slept for a while onto the
CPU of the thread that woke it, or the caller wakes from its own sleep onto
the worker's CPU. Two threads of a team then share one CPU, every barrier
waits a time slice, and it takes the load balancer several runs to part
them. Measured on ShuffleNet at two threads on 2 vCPUs (median of 5 runs
after each pause): 3.7 ms after 50 ms pauses and 8.3 ms after 0.5 s pauses,
against 3.1 ms back to back; pinned for each run, 3.1 and 3.2 ms.

A run is bound only when it is the only run in flight in the process and its
team fits the CPUs the caller may use; otherwise the caller is left alone and
workers bound by an earlier run are released, so that concurrent callers do
not stack their teams on the same CPUs. With a busy neighbour the dynamic
team (`compiler.dynamic_threads`) is one thread, which is never bound.

`COMPILER_BIND_THREADS=0` (or `CompiledModel.bind_threads = False`) turns
it off; so does setting libgomp's own `OMP_PROC_BIND`, `OMP_PLACES` or
`GOMP_CPU_AFFINITY`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Collection, Iterator

import numpy as np

ENV = "COMPILER_BIND_THREADS"
LIBGOMP_BINDING = ("OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY")

BindTeam = Callable[[int, int, int, int], None]
"""`bind(masks_address, mask_bytes, n, tids_address)`: thread t of the
caller's n-thread libgomp team pins itself to row t of the masks and writes
its thread id to tids[t] (`compiler_bind_team`)."""

MIN_MASK_BYTES = 128
"""glibc's `cpu_set_t` (1024 CPUs); larger for hosts with more."""


def enabled_by_default() -> bool:
    if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return not any(os.environ.get(name) for name in LIBGOMP_BINDING)


def _sched_getcpu() -> Callable[[], int] | None:
    try:
        fn = ctypes.CDLL(None).sched_getcpu
    except (AttributeError, OSError):
        return None
    fn.restype, fn.argtypes = ctypes.c_int, []
    return fn  # type: ignore[no-any-return]


_getcpu = _sched_getcpu() if hasattr(os, "sched_setaffinity") else None


def close_cpus(allowed: Collection[int], cpu: int, team: int) -> list[int]:
    """OpenMP's `close` policy: the caller's `cpu`, then the next allowed ones, wrapping around."""
    order = sorted(allowed)
    first = order.index(cpu)
    return [order[(first + k) % len(order)] for k in range(team)]


def affinity_masks(cpu_sets: list[Collection[int]]) -> np.ndarray:
    """One `cpu_set_t` per row (bit `c % 8` of byte `c // 8` for CPU c)."""
    highest = max((c for cpus in cpu_sets for c in cpus), default=0)
    size = max(MIN_MASK_BYTES, -(-(highest + 1) // 64) * 8)
    masks = np.zeros((len(cpu_sets), size), dtype=np.uint8)
    for row, cpus in enumerate(cpu_sets):
        for c in cpus:
            masks[row, c // 8] |= np.uint8(1 << (c % 8))
    return masks


class _Caller(threading.local):
    """What this thread's team was last bound to (libgomp keeps a pool per calling thread)."""

    cpus: list[int] | None = None
    workers: tuple[int, ...] = ()
    """Kernel thread ids of the bound team's threads 1..n-1."""


_lock = threading.Lock()
_in_flight = 0
_caller = _Caller()
_stat_files: dict[int, int] = {}


def _forget_parent() -> None:
    """In a forked child: no libgomp workers, no run in flight, and the kept
    stat files are the parent's threads (/proc/self was the parent)."""
    global _in_flight, _caller, _lock
    _lock, _in_flight, _caller = threading.Lock(), 0, _Caller()
    for fd in _stat_files.values():
        os.close(fd)
    _stat_files.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent)


def _bind(bind_team: BindTeam, cpu_sets: list[Collection[int]]) -> tuple[int, ...]:
    """Runs the region; the workers' thread ids."""
    masks = affinity_masks(cpu_sets)
    tids = np.zeros(len(cpu_sets), dtype=np.int32)
    bind_team(masks.ctypes.data, masks.shape[1], len(cpu_sets), tids.ctypes.data)
    return tuple(int(t) for t in tids[1:] if t > 0)


def _running(tid: int) -> bool:
    """Whether thread `tid` of this process is running or runnable ('R' in its stat)."""
    try:
        fd = _stat_files.get(tid)
        if fd is None:
            fd = _stat_files.setdefault(tid, os.open(f"/proc/self/task/{tid}/stat", os.O_RDONLY | os.O_CLOEXEC))
        stat = os.pread(fd, 512, 0)  # procfs makes it afresh: one syscall
    except OSError:  # the thread is gone
        fd = _stat_files.pop(tid, None)
        if fd is not None:
            os.close(fd)
        return False
    state = stat.rindex(b")") + 2  # after "pid (comm) ": comm may hold ')'
    return stat[state : state + 1] == b"R"


def running_workers() -> int:
    """How many workers of the calling thread's bound team are running now.

    libgomp's workers spin for a while after each parallel loop (see
    `compiler.runtime.GOMP_SPIN_COUNT`), so right after a run they count in
    the host's runnable tasks; `compiler.dynamic_threads` must not take
    them for another process's work.
    """
    return sum(_running(tid) for tid in _caller.workers)


@contextlib.contextmanager
def bound(team: int, bind_team: BindTeam | None) -> Iterator[bool]:
    """Around one run of a `team`-thread model on the calling thread: yields
    whether the team is bound; the caller gets back its affinity afterwards."""
    global _in_flight
    if bind_team is None or _getcpu is None:
        yield False
        return
    with _lock:  # every run counts, a one-thread run too: it needs a CPU as well
        _in_flight += 1
        alone = _in_flight == 1
    try:
        if team == 1:  # nothing to bind; idle workers bound earlier harm no one
            yield False
            return
        allowed = os.sched_getaffinity(0)
        if team == 0:  # libgomp's default: one thread per CPU
            team = len(allowed)
        cpu = _getcpu()
        if not alone or not 2 <= team <= len(allowed) or cpu not in allowed:
            if _caller.cpus is not None:  # release the workers an earlier run bound
                _bind(bind_team, [allowed] * len(_caller.cpus))
                _caller.cpus, _caller.workers = None, ()
            yield False
            return
        cpus = close_cpus(allowed, cpu, team)
        if cpus != _caller.cpus:
            _caller.workers = _bind(bind_team, [[c] for c in cpus])  # the caller is thread 0
            _caller.cpus = cpus
        else:
            os.sched_setaffinity(0, (cpu,))
        try:
            yield True
        finally:
            os.sched_setaffinity(0, allowed)
    finally:
        with _lock:
            _in_flight -= 1
