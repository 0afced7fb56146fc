"""Compile a graph at O0 and O3, run it at 1 and 3 threads, compare with onnxruntime.

Every check runs in a forked child process (`run_isolated`), so that a
segmentation fault in generated code or a hang becomes a finding of that
graph rather than the end of the campaign. The child reports which
configuration it is working on before it starts it: a child that dies or
outlives its timeout is charged to that configuration.

Outcomes: `passed`; `mismatch` (an output differs from onnxruntime's beyond
`RTOL` relative to the output's largest magnitude plus `ATOL`, or in shape,
dtype or integer values); `crash` (the child died, or the compiler raised
anything but an unsupported-op/dtype `CompilerError`); `hang` (timeout);
`rejected` (the compiler said, in one line, that it does not support the
graph: not a bug, unless the message is a graph op's verifier failing on
what the importer built, which is a crash); `invalid` (onnxruntime itself rejects the graph, which
only a minimizer's candidate can be).
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import multiprocessing.connection
import os
import re
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnx

PASSED, MISMATCH, CRASH, HANG, REJECTED, INVALID = "passed", "mismatch", "crash", "hang", "rejected", "invalid"
FINDINGS = (MISMATCH, CRASH, HANG)
RTOL = 1e-4
ATOL = 1e-5  # float32 sums of a few thousand terms round to about this much near zero
_INVALID_GRAPH_OP = re.compile(r"\binvalid graph\.\w+:")
CONFIGS: tuple[tuple[int, int], ...] = ((0, 1), (0, 3), (3, 1), (3, 3))  # (opt_level, num_threads)


@dataclass
class Outcome:
    """How one graph fared: a status, the (opt_level, threads) that failed and a one-line detail."""

    status: str
    config: tuple[int, int] | None = None
    detail: str = ""
    seconds: float = 0.0

    @property
    def signature(self) -> tuple[str, str]:
        """What the minimizer keeps: the status and, for a crash, the kind of error."""
        kind = self.detail.split(":", 1)[0] if self.status == CRASH else ""
        return self.status, kind


def compare(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """Why `actual` is not `expected` (None when it is): shape, dtype kind, integers exact, floats close."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != expected {expected.shape}"
    if actual.dtype.kind != expected.dtype.kind:
        return f"dtype {actual.dtype} != expected {expected.dtype}"
    if actual.size == 0:
        return None
    if expected.dtype.kind != "f":
        bad = np.flatnonzero(actual.reshape(-1) != expected.reshape(-1))
        if bad.size:
            i = int(bad[0])
            return f"{bad.size} of {actual.size} values differ (first at flat {i}: {actual.flat[i]} != {expected.flat[i]})"
        return None
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    if np.any(np.isnan(a) != np.isnan(e)):
        return "NaN where onnxruntime has a number (or the reverse)"
    finite = np.isfinite(e)
    if np.any(a[~finite] != e[~finite]):
        return "infinities differ"
    if not np.any(finite):
        return None
    diff = np.abs(a[finite] - e[finite])
    scale = float(np.max(np.abs(e[finite])))
    err = float(np.max(diff))
    if err <= rtol * scale + atol:
        return None
    i = int(np.argmax(diff))
    return (f"max abs error {err:.3g} > {rtol:g} * max|expected| {scale:.3g} + {atol:g} "
            f"(got {a[finite][i]:.7g}, expected {e[finite][i]:.7g})")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())[:300]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def check(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    expected: Sequence[np.ndarray] | None = None,
    configs: Sequence[tuple[int, int]] = CONFIGS,
    progress: Callable[[tuple[int, int]], None] | None = None,
) -> Outcome:
    """Compiles and runs `model` in this process for each config; the first failure is the outcome.

    `expected` defaults to onnxruntime's outputs; a graph it rejects is `invalid`.
    A compile serves both thread counts of its opt level.
    """
    from compiler.driver import compile
    from compiler.errors import CompilerError, UnsupportedDtypeError, UnsupportedOpError
    from compiler.testing.fuzz.generator import ort_outputs

    if expected is None:
        expected = ort_outputs(model, feeds)
        if expected is None:
            return Outcome(INVALID, detail="onnxruntime rejects the graph")
    names = [o.name for o in model.graph.output]
    compiled: dict[int, object] = {}
    for config in configs:
        level, threads = config
        if progress is not None:
            progress(config)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if level not in compiled:
                    compiled[level] = compile(model, opt_level=level, cache=False)
                cm = compiled[level]
                cm.set_num_threads(threads)  # type: ignore[attr-defined]
                got = cm.run(feeds)  # type: ignore[attr-defined]
        except (UnsupportedOpError, UnsupportedDtypeError) as err:
            if _INVALID_GRAPH_OP.search(err.message):
                # The importer built a graph op that fails its verifier: not a
                # refusal of the ONNX graph but a wrong lowering of it.
                return Outcome(CRASH, config, _one_line(err))
            return Outcome(REJECTED, config, _one_line(err))
        except CompilerError as err:
            return Outcome(CRASH, config, _one_line(err))
        except Exception as err:  # a compiler bug: keep the trace's last frame for the report
            where = traceback.extract_tb(err.__traceback__)[-1]
            site = f" [{os.path.relpath(where.filename)}:{where.lineno}]"
            return Outcome(CRASH, config, _one_line(err) + site)
        if isinstance(got, dict):
            got = [got[n] for n in names]
        if len(got) != len(expected):
            return Outcome(MISMATCH, config, f"{len(got)} outputs, onnxruntime has {len(expected)}")
        for name, a, e in zip(names, got, expected, strict=True):
            why = compare(a, e)
            if why is not None:
                return Outcome(MISMATCH, config, f"output '{name}': {why}")
    return Outcome(PASSED)


# -- isolation ------------------------------------------------------------------------------

Task = Callable[[Callable[[object], None]], Outcome]


def _child(conn: multiprocessing.connection.Connection, task: Task) -> None:
    faulthandler.disable()  # a crash is reported by the parent; no stack dump on stderr
    try:
        outcome = task(lambda message: conn.send(("note", message)))
        conn.send(("done", outcome))
    except BaseException as err:  # noqa: BLE001  (whatever the task raised is its outcome)
        conn.send(("done", Outcome(CRASH, None, _one_line(err))))
    finally:
        conn.close()


class Isolated:
    """One task running in a forked child; `poll` collects its notes and its outcome."""

    def __init__(self, task: Task, timeout: float) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(child, task), daemon=True)
        self.process.start()
        child.close()
        self.started = time.perf_counter()
        self.timeout = timeout
        self.notes: list[object] = []
        self.outcome: Outcome | None = None

    def _last_config(self) -> tuple[int, int] | None:
        configs = [n for n in self.notes if isinstance(n, tuple)]
        return configs[-1] if configs else None  # type: ignore[return-value]

    def poll(self, wait: float = 0.0) -> Outcome | None:
        """The outcome once there is one (reaping the child), else None."""
        if self.outcome is not None:
            return self.outcome
        try:
            while self.conn.poll(wait):
                wait = 0.0
                kind, payload = self.conn.recv()
                if kind == "note":
                    self.notes.append(payload)
                else:
                    self.outcome = payload  # type: ignore[assignment]
                    break
        except (EOFError, OSError):
            self.process.join(5)
            code = self.process.exitcode
            why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            self.outcome = Outcome(CRASH, self._last_config(), f"the process died ({why})")
        if self.outcome is None and time.perf_counter() - self.started > self.timeout:
            self.process.kill()
            self.outcome = Outcome(HANG, self._last_config(), f"no result within {self.timeout:g} s")
        if self.outcome is not None:
            self.outcome.seconds = round(time.perf_counter() - self.started, 2)
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5)
            self.conn.close()
        return self.outcome


def run_isolated(task: Task, timeout: float) -> tuple[Outcome, list[object]]:
    """Runs `task(note)` in a forked child; its outcome (crash and hang included) and its notes."""
    job = Isolated(task, timeout)
    while True:
        outcome = job.poll(wait=0.2)
        if outcome is not None:
            return outcome, job.notes


def check_isolated(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    configs: Sequence[tuple[int, int]] = CONFIGS,
    timeout: float = 60.0,
) -> Outcome:
    """`check` in a child process."""
    outcome, _ = run_isolated(lambda note: check(model, feeds, None, configs, note), timeout)
    return outcome


def warm_up() -> None:
    """Imports and initializes the compiler once in this process, so that forked children start warm.

    Compiles (without running) a one-node model: children then skip the
    imports and LLVM's target setup.
    """
    from onnx import TensorProto, helper

    from compiler.driver import compile

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "warm", [x], [y])
    compile(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), opt_level=3, cache=False)
