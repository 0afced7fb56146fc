"""Measure schedule candidates of one kernel: built in workers, timed in an isolated runner.

    with Measurer(timeout=10, repeat=3, min_repeat_ms=40) as m:
        results = m.measure(kernel, [schedule_a, schedule_b])
    results[0].costs        # seconds per run, one per repeat ([] when it failed)
    results[1].error        # None, "build: ...", "runtime: crashed (signal 11)",
                            # "timeout after 10 s", "wrong result: max abs err ..."

Why processes: a candidate is machine code we just generated. A bad one
may segfault or loop forever, and that must cost one candidate, not the
tuning run. So

- builders (`builders` worker processes) get the kernel as MLIR text
  (`kernel_module` printed; xDSL ops do not cross processes), parse it,
  apply the candidate's schedule, lower it and return the ELF object
  (`compiler.targets.cpu.kernel.compile_kernel`);
- ONE runner process loads each object (`jit.load_object`), runs it on
  seeded inputs and times it (`time_function`: a warm-up, then `repeat`
  measurements of at least `min_repeat_ms` each). When it does not answer
  within `timeout` seconds it is killed and restarted; when it dies, the
  candidate is "runtime: crashed (...)" and the runner is restarted.

Builds and timings alternate (a batch is built, then timed): on a machine
with few cores a build running beside a timing would disturb it.

The numerical check: the first time a kernel is measured, the runner also
runs the kernel under its default schedule (its own `loop.schedule` if it
has one, else `default_schedule`) on the same seeded inputs; the arguments
that run changes are the outputs. Each candidate's outputs must match them
within `atol + rtol * max|reference|` (per output array: a reduction's
rounding error grows with the size of its operands, not of each result).
The check runs on the first call, before the timing, so that kernels that
accumulate into their output are compared after exactly one run. Operands
that a schedule packs (`pack`) receive the seeded input in the packed layout
(`pack_array`), so every candidate computes on the same numbers.

Processes come from the "forkserver" context (LLVM and libgomp do not
survive `fork` of a process that used them): the server preloads this
module, so a restarted runner is ready in a fraction of a second. As with
any non-fork multiprocessing, each worker imports the main script again:
a script that creates a Measurer guards its main code with
`if __name__ == "__main__":` (the CLI entry point does).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np
from xdsl.dialects import func

from compiler.dialects.loop import SCHEDULE_ATTR, SCHEDULED_ATTR
from compiler.schedule.schedule import Schedule

START_TIMEOUT_S = 120.0
"""How long a fresh worker may take to import the compiler and say it is ready."""


@dataclass
class MeasureResult:
    """The measurement of one candidate."""

    costs: list[float]
    """Seconds per run, one per repeat; empty when the candidate failed."""
    error: str | None = None
    build_s: float = 0.0
    """Seconds the builder spent on it (parse, schedule, lower, compile)."""
    run_s: float = 0.0
    """Seconds the runner spent on it (load, check run, timing), as the parent saw it."""

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.costs)

    @property
    def median(self) -> float:
        """Median cost in seconds; inf for a failed candidate."""
        return float(np.median(self.costs)) if self.ok else float("inf")


# ----------------------------------------------------------------- worker side


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _build(request: dict[str, Any]) -> dict[str, Any]:
    """Parse the kernel module, apply the schedule, lower and compile: the object and its ABI."""
    from compiler.api import parse_mlir
    from compiler.dialects.loop import KERNEL_ATTR
    from compiler.errors import CompilerError
    from compiler.targets.cpu.kernel import compile_kernel

    start = time.perf_counter()
    try:
        module = parse_mlir(request["module"])
        kernel = [
            op for op in module.ops if isinstance(op, func.FuncOp) and KERNEL_ATTR in op.attributes
        ][-1]
        built = compile_kernel(kernel, request["schedule"], cache=False)
    except CompilerError as err:
        message = str(err).strip().splitlines()
        return {"error": f"build: {message[0] if message else type(err).__name__}"}
    except Exception as err:  # a bug in a primitive or the lowering: one candidate fails
        return {"error": f"build: {_one_line(err)}"}
    return {
        "name": built.name,
        "specs": [(s.shape, s.dtype.str) for s in built.arg_specs],
        "inputs": [(s.shape, s.dtype.str) for s in built.input_specs],
        "packs": list(built.packs),
        "object": built.object_code,
        "build_s": time.perf_counter() - start,
    }


def _run(request: dict[str, Any]) -> dict[str, Any]:
    """Load the object, run it once on seeded inputs (the check), then time it."""
    import ctypes

    from compiler.schedule.pack import pack_array
    from compiler.targets.cpu.jit import SET_NUM_THREADS, load_object
    from compiler.targets.cpu.kernel import ArgSpec, random_arrays, time_function

    start = time.perf_counter()
    inputs = [ArgSpec(tuple(shape), np.dtype(dt)) for shape, dt in request["inputs"]]
    args = random_arrays(inputs, request["seed"])
    for operand, axis, factor, outer in request["packs"]:
        args[operand] = pack_array(args[operand], axis, factor, outer)
    for i, (arg, (shape, dt)) in enumerate(zip(args, request["specs"], strict=True)):
        if arg.shape != tuple(shape) or arg.dtype != np.dtype(dt):
            return {"error": f"runtime: argument {i} is {arg.shape} {arg.dtype}, the object takes {shape} {dt}"}
    handle = load_object(request["object"])
    try:  # only kernels with parallel loops define it
        set_threads = handle.function(SET_NUM_THREADS, None, [ctypes.c_int32])
    except KeyError:
        pass
    else:
        set_threads(request["num_threads"])
    fn = handle.function(request["name"], None, [ctypes.c_void_p] * len(args))
    pointers = [a.ctypes.data for a in args]
    outputs = request["outputs"]
    initial = [a.copy() for a in args] if outputs is None else None
    fn(*pointers)
    if initial is not None:  # the reference run: the outputs are what it changed
        outputs = [
            i for i, (a, b) in enumerate(zip(initial, args, strict=True))
            if not np.array_equal(a, b, equal_nan=True)
        ] or [len(args) - 1]
    result = {"outputs": {i: args[i].copy() for i in outputs}}
    if request["repeat"] > 0:
        result["costs"] = time_function(
            lambda: fn(*pointers), repeat=request["repeat"], min_repeat_ms=request["min_repeat_ms"]
        )
    else:
        result["costs"] = []
    result["run_s"] = time.perf_counter() - start
    return result


def _serve(conn: Connection, role: str) -> None:
    """A worker's loop: answer each request until None (or the parent's end closes)."""
    handle = _build if role == "builder" else _run
    if role == "runner":
        from compiler.targets.cpu.jit import load_runtime_libraries

        load_runtime_libraries()
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            answer = handle(request)
        except Exception as err:
            answer = {"error": f"{'build' if role == 'builder' else 'runtime'}: {_one_line(err)}"}
        conn.send(answer)


# ----------------------------------------------------------------- parent side


class _WorkerLost(Exception):
    """The worker died or did not answer in time; the message is the candidate's error."""


class _Worker:
    """One worker process and its pipe; restarted by the owner after a loss."""

    def __init__(self, ctx: Any, role: str) -> None:
        self.ctx = ctx
        self.role = role
        self.process: Any = None
        self.conn: Connection | None = None
        self.deadline = 0.0

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(
            target=_serve, args=(child, self.role), daemon=True, name=f"tuner-{self.role}"
        )
        process.start()
        child.close()
        self.process, self.conn = process, parent
        if not parent.poll(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"the tuner's {self.role} process did not start")
        try:
            parent.recv()
        except EOFError:
            process.join(5)
            code = process.exitcode
            self.stop()
            raise RuntimeError(
                f"the tuner's {self.role} process exited at start (exit code {code}); a script "
                "that measures must guard its main code with `if __name__ == '__main__':`"
            ) from None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def ensure(self) -> None:
        if not self.alive:
            self.stop()
            self.start()

    def send(self, request: Any, timeout: float) -> None:
        self.ensure()
        assert self.conn is not None
        self.deadline = time.monotonic() + timeout
        self.conn.send(request)

    def handles(self) -> list[Any]:
        assert self.conn is not None and self.process is not None
        return [self.conn, self.process.sentinel]

    def receive(self) -> Any:
        """The answer, once `wait` said one of `handles` is ready; _WorkerLost when it died."""
        assert self.conn is not None and self.process is not None
        if self.conn.poll():
            try:
                return self.conn.recv()
            except (EOFError, OSError, ValueError):
                pass
        self.process.join(5)
        code = self.process.exitcode
        self.stop()
        if code is not None and code < 0:
            raise _WorkerLost(f"crashed (signal {-code}: {signal.Signals(-code).name})")
        raise _WorkerLost(f"crashed (exit code {code})")

    def call(self, request: Any, timeout: float) -> Any:
        """Send and wait for the answer, at most `timeout` seconds."""
        self.send(request, timeout)
        ready = wait(self.handles(), timeout)
        if not ready:
            self.stop(kill=True)
            raise _WorkerLost(f"timeout after {timeout:g} s")
        return self.receive()

    def stop(self, kill: bool = False) -> None:
        """Ask the process to exit (or `kill` it right away), kill it if it does not, reap it."""
        process, conn = self.process, self.conn
        self.process, self.conn = None, None
        if process is not None and kill and process.is_alive():
            process.kill()
        if conn is not None:
            if process is not None and process.is_alive():
                try:
                    conn.send(None)
                except (OSError, ValueError):
                    pass
            conn.close()
        if process is not None:
            process.join(1)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()


def call_runner(runner: _Worker, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """The runner's answer, or {"error": ...} when it hung or died (it is restarted on the next call)."""
    try:
        return runner.call(request, timeout)
    except _WorkerLost as lost:
        message = str(lost)
        return {"error": message if message.startswith("timeout") else f"runtime: {message}"}


@dataclass
class _Reference:
    """The default schedule's run of one kernel: the outputs to compare with, or why there are none."""

    outputs: dict[int, np.ndarray] = field(default_factory=dict)
    error: str | None = None


def _schedule_json(schedule: Schedule | str | Sequence[Any] | None) -> str | None:
    if schedule is None or isinstance(schedule, str):
        return schedule
    if isinstance(schedule, Schedule):
        return schedule.to_json()
    return json.dumps(list(schedule))


class Measurer:
    """Builds and times schedule candidates of a kernel; see the module docstring."""

    def __init__(
        self,
        *,
        builders: int = 1,
        timeout: float = 10.0,
        repeat: int = 3,
        min_repeat_ms: float = 40.0,
        num_threads: int = 1,
        check: bool = True,
        rtol: float = 1e-4,
        atol: float = 1e-4,
        build_timeout: float = 120.0,
        seed: int = 0,
    ) -> None:
        if builders < 1 or repeat < 1 or timeout <= 0 or num_threads < 0:
            raise ValueError("builders and repeat must be >= 1, timeout > 0, num_threads >= 0")
        self.timeout = timeout
        self.repeat = repeat
        self.min_repeat_ms = min_repeat_ms
        self.num_threads = num_threads
        self.check = check
        self.rtol = rtol
        self.atol = atol
        self.build_timeout = build_timeout
        self.seed = seed
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, "compiler.api", "compiler.targets.cpu.kernel"])
        self._builders = [_Worker(ctx, "builder") for _ in range(builders)]
        self._runner = _Worker(ctx, "runner")
        self._references: dict[str, _Reference] = {}
        self._closed = False
        self.runners = 1
        """Runners timing in parallel (the denominator of their idle share)."""
        self.runner_busy_s = 0.0
        """Seconds the runners spent answering requests, all of them together."""

    # -- public

    def measure(
        self,
        kernel: func.FuncOp,
        schedules: Sequence[Schedule | str | Sequence[Any]],
        *,
        check: bool | None = None,
    ) -> list[MeasureResult]:
        """One result per schedule (a Schedule, its JSON text or its list of primitives).

        `check` overrides the constructor's for this call (False: no reference run).
        """
        if self._closed:
            raise RuntimeError("the Measurer is closed")
        from compiler.api import print_mlir
        from compiler.targets.cpu.kernel import kernel_module

        if not schedules:
            return []
        text = print_mlir(kernel_module(kernel))
        key = hashlib.sha256(text.encode()).hexdigest()
        check = self.check if check is None else check
        jobs = [_schedule_json(s) for s in schedules]
        need_reference = check and key not in self._references
        if need_reference:
            jobs.insert(0, self._reference_schedule(kernel))
        built = self._build_all(text, jobs)
        reference = self._references.get(key)
        if need_reference:
            reference = self._reference_run(built.pop(0))
            if reference.error is None:  # a failure (a timeout on a busy machine?) is retried
                self._references[key] = reference
        return self._time_all(built, reference if check else None)

    def target_info(self) -> dict[str, Any]:
        """What the records of these timings are tagged with (`records.target_info`)."""
        from compiler.tuner.records import target_info

        return target_info(self.num_threads)

    def host_target(self) -> Any:
        """The CPU the candidates are built for and timed on (a `HostTarget`)."""
        from compiler.targets.cpu.machine import HostTarget

        return HostTarget.detect()

    def close(self) -> None:
        """Stop every worker process and reap it."""
        self._closed = True
        for worker in [*self._builders, self._runner]:
            worker.stop()

    def __enter__(self) -> Measurer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:  # at interpreter exit the modules may be half gone
                pass

    # -- building

    def _reference_schedule(self, kernel: func.FuncOp) -> str | None:
        """The kernel's own schedule (None: `compile_kernel` applies it), else the default rule's."""
        if SCHEDULE_ATTR in kernel.attributes or SCHEDULED_ATTR in kernel.attributes:
            return None
        from compiler.schedule.rules import default_schedule
        from compiler.targets.cpu.machine import HostTarget

        target = HostTarget.detect().schedule_target(self.num_threads)
        return default_schedule(kernel, target).to_json()

    def _build_all(self, text: str, schedules: list[str | None]) -> list[dict[str, Any]]:
        """Build every schedule, `builders` at a time; an answer dict per schedule, in order."""
        pending = deque(enumerate(schedules))
        answers: list[dict[str, Any]] = [{} for _ in schedules]
        busy: dict[int, tuple[_Worker, float]] = {}  # index -> (worker, sent at)
        idle = list(self._builders)
        while pending or busy:
            while pending and idle:
                index, schedule = pending.popleft()
                worker = idle.pop()
                worker.send({"module": text, "schedule": schedule}, self.build_timeout)
                busy[index] = (worker, time.perf_counter())
            deadline = min(w.deadline for w, _ in busy.values())
            handles = [h for w, _ in busy.values() for h in w.handles()]
            ready = set(wait(handles, max(0.0, deadline - time.monotonic())))
            for index, (worker, sent) in list(busy.items()):
                if ready & set(worker.handles()):
                    try:
                        answers[index] = worker.receive()
                    except _WorkerLost as lost:
                        answers[index] = {"error": f"build: builder {lost}"}
                elif time.monotonic() >= worker.deadline:
                    worker.stop(kill=True)
                    answers[index] = {"error": f"build: timeout after {self.build_timeout:g} s"}
                else:
                    continue
                answers[index].setdefault("build_s", time.perf_counter() - sent)
                del busy[index]
                idle.append(worker)
        return answers

    # -- running

    def _request(self, built: dict[str, Any], outputs: list[int] | None) -> dict[str, Any]:
        """The runner's request for a built candidate (`outputs` None: the reference run)."""
        return {
            "object": built["object"],
            "name": built["name"],
            "specs": built["specs"],
            "inputs": built["inputs"],
            "packs": built["packs"],
            "seed": self.seed,
            "num_threads": self.num_threads,
            "repeat": 0 if outputs is None else self.repeat,
            "min_repeat_ms": self.min_repeat_ms,
            "outputs": outputs,
        }

    def _run_requests(self, requests: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
        """Each request's answer and the seconds the runner took, in order: here one runner, one at a time."""
        answers = []
        for request in requests:
            self._runner.ensure()  # a (re)start is not part of the candidate's time
            start = time.perf_counter()
            answer = call_runner(self._runner, request, self.timeout)
            run_s = time.perf_counter() - start
            self.runner_busy_s += run_s
            answers.append((answer, run_s))
        return answers

    def _reference_run(self, built: dict[str, Any]) -> _Reference:
        if "error" in built:
            return _Reference(error=f"reference (default schedule) failed: {built['error']}")
        answer, _ = self._run_requests([self._request(built, None)])[0]
        if "error" in answer:
            return _Reference(error=f"reference (default schedule) failed: {answer['error']}")
        return _Reference(outputs=answer["outputs"])

    def _time_all(self, built: Sequence[dict[str, Any]], reference: _Reference | None) -> list[MeasureResult]:
        """Time every built candidate and check its outputs against `reference` (None: no check)."""
        results: list[MeasureResult | None] = [None] * len(built)
        requests, where = [], []
        for i, outcome in enumerate(built):
            build_s = float(outcome.get("build_s", 0.0))
            if "error" in outcome:
                results[i] = MeasureResult([], outcome["error"], build_s=build_s)
            elif reference is not None and reference.error is not None:
                results[i] = MeasureResult([], reference.error, build_s=build_s)
            else:
                packed = {operand for operand, *_ in outcome["packs"]}
                outputs = [] if reference is None else [j for j in reference.outputs if j not in packed]
                requests.append(self._request(outcome, outputs))
                where.append(i)
        for i, (answer, run_s) in zip(where, self._run_requests(requests), strict=True):
            build_s = float(built[i].get("build_s", 0.0))
            error = answer.get("error")
            if error is None and reference is not None:
                error = self._compare(reference.outputs, answer["outputs"])
            costs = [] if error is not None else list(answer["costs"])
            results[i] = MeasureResult(costs, error, build_s=build_s, run_s=run_s)
        return [r for r in results if r is not None]

    def _compare(self, want: dict[int, np.ndarray], got: dict[int, np.ndarray]) -> str | None:
        """None when every output matches the reference, else the "wrong result: ..." reason."""
        for i, actual in got.items():
            expected = want[i]
            if actual.shape != expected.shape:
                return f"wrong result: argument {i} has shape {actual.shape}, not {expected.shape}"
            if expected.dtype.kind in "fc":
                a, e = actual.astype(np.float64), expected.astype(np.float64)
                nan_mismatch = np.isnan(a) != np.isnan(e)
                finite = np.isfinite(e) & np.isfinite(a)
                with np.errstate(invalid="ignore"):  # inf - inf outside `finite`, not compared
                    err = float(np.max(np.abs(a - e), where=finite, initial=0.0))
                scale = float(np.max(np.abs(e), where=np.isfinite(e), initial=0.0))
                inf_mismatch = (np.isinf(a) | np.isinf(e)) & (a != e)
                if np.any(nan_mismatch) or np.any(inf_mismatch) or err > self.atol + self.rtol * scale:
                    return f"wrong result: max abs err {err:.3g} in argument {i} (max |ref| {scale:.3g})"
            elif not np.array_equal(actual, expected):
                count = int(np.count_nonzero(actual != expected))
                return f"wrong result: {count} elements differ in argument {i}"
        return None
