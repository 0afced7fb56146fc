"""ONNX's node test suite run through `compiler.onnx_backend`: the conformance harness.

    compiler conformance [--jobs N] [--filter REGEX] [--report report.json] [--check passing.txt]

Every case of `onnx.backend.test.case.node.collect_testcases(None)` is
prepared, run on each of its data sets and compared with onnx's own
`assert_similar_outputs` and the case's rtol/atol, exactly as
`onnx.backend.test.BackendTest` does. Cases run in forked worker processes,
one case at a time each, under a per-case timeout: a case that crashes (a
segfault in generated code), hangs or exhausts memory fails alone and its
worker is replaced, so the run always finishes.

A case's status is `passed`, `unsupported` (the compiler refused it with a
clear `UnsupportedOpError`/`UnsupportedDtypeError` or an opset it does not
read) or `failed` (anything else: wrong numbers, a crash, a timeout, an
internal error). Unsupported counts as failed in the closing line. The report
ranks the ops the compiler lacks by how many cases each one alone would
unlock, and groups the remaining failures by category.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import numpy as np
import onnx

PASSED, FAILED, UNSUPPORTED = "passed", "failed", "unsupported"
DEFAULT_TIMEOUT_S = 120.0


@dataclass
class CaseResult:
    """The outcome of one node test case."""

    name: str
    op: str
    status: str
    category: str = ""
    error: str = ""
    seconds: float = 0.0
    missing_ops: list[str] = field(default_factory=list)
    specialized: list[str] = field(default_factory=list)


# -- collecting cases -------------------------------------------------------------------


def collect_cases(pattern: str | None = None) -> list[Any]:
    """ONNX's node test cases (`onnx.backend.test.case.TestCase`) whose name matches `pattern`.

    The names are onnx's (`test_abs`), without BackendTest's `_cpu` suffix.
    Collecting runs every case's numpy reference (about ten seconds).
    """
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the references overflow and divide by zero on purpose
        np_err = np.seterr(all="ignore")
        try:
            cases = collect_testcases(None)
        finally:
            np.seterr(**np_err)
    wanted = re.compile(pattern) if pattern else None
    return [c for c in cases if wanted is None or wanted.search(c.name)]


def collect_from_modules(modules: Iterable[str]) -> dict[str, Any]:
    """The cases that some of onnx's node test modules define (`abs`, `reducesum`), by name.

    Importing a module of `onnx.backend.test.case.node` registers its cases;
    importing a few is much faster than `collect_cases`, which imports all.
    """
    import importlib

    from onnx.backend.test.case import node as node_cases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np_err = np.seterr(all="ignore")
        try:
            for module in modules:
                importlib.import_module(f"{node_cases.__name__}.{module}")
        finally:
            np.seterr(**np_err)
    return {c.name: c for c in node_cases._NodeTestCases}


def case_modules() -> dict[str, str]:
    """Every case's name -> the node test module that defines it (imports them all, ~10 s)."""
    import importlib
    import pkgutil

    from onnx.backend.test.case import node as node_cases

    found: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np_err = np.seterr(all="ignore")
        try:
            for info in sorted(pkgutil.iter_modules(node_cases.__path__), key=lambda m: m.name):
                importlib.import_module(f"{node_cases.__name__}.{info.name}")
                for case in node_cases._NodeTestCases:
                    found.setdefault(case.name, info.name)
        finally:
            np.seterr(**np_err)
    return found


def _nodes(graph: onnx.GraphProto) -> Iterable[onnx.NodeProto]:
    """Every node of a graph, those in subgraphs (If, Loop, Scan bodies) included."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _nodes(sub)


def _op_name(node: onnx.NodeProto) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def case_op(name: str, model: onnx.ModelProto) -> str:
    """The op a case tests: its only node's type, or (function-expanded cases) the op named by the test.

    `test_layer_normalization_2d_axis0_expanded` holds a dozen nodes of other
    types; the ONNX op whose name, lowercased, is the longest prefix of the
    test's name without underscores is the one under test.
    """
    ops = [_op_name(n) for n in model.graph.node]
    if len(set(ops)) == 1:
        return ops[0]
    key = name.removeprefix("test_").replace("_", "").lower()
    best = ""
    for op in _onnx_op_names():
        if key.startswith(op.lower()) and len(op) > len(best):
            best = op
    return best or (ops[0] if ops else "?")


@functools.cache
def _onnx_op_names() -> frozenset[str]:
    return frozenset(s.name for s in onnx.defs.get_all_schemas() if s.domain in ("", "ai.onnx"))


def missing_ops(model: onnx.ModelProto, supported: set[str]) -> list[str]:
    """The op types of the model (subgraphs included) that the importer has no converter for."""
    return sorted({_op_name(n) for n in _nodes(model.graph) if _op_name(n) not in supported})


# -- running one case --------------------------------------------------------------------


def _normalize(value: Any) -> Any:
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    return value


_UNSUPPORTED_OPSET = re.compile(r"opset \d+ is not supported")


def classify(err: BaseException) -> tuple[str, str, str]:
    """(status, category, one-line message) of a case that raised `err`."""
    from compiler.errors import (
        CompilerError,
        ModelLoadError,
        UnsupportedDtypeError,
        UnsupportedOpError,
    )

    text = " ".join(str(err).split())[:400] or type(err).__name__
    if isinstance(err, UnsupportedOpError | UnsupportedDtypeError):
        return UNSUPPORTED, f"{type(err).__name__}: {_shape_of_message(err.message)}", text
    if isinstance(err, ModelLoadError) and _UNSUPPORTED_OPSET.search(err.message):
        return UNSUPPORTED, "unsupported opset", text
    if isinstance(err, CompilerError):
        return FAILED, f"{type(err).__name__}: {_shape_of_message(err.message)}", text
    if isinstance(err, AssertionError):
        first = text.split(" Mismatched")[0].split(" x: ")[0]
        kind = "wrong shape" if "incorrect shape" in text else "wrong dtype" if "dtype" in first else "wrong values"
        return FAILED, kind, text
    return FAILED, f"internal error ({type(err).__name__})", f"{type(err).__name__}: {text}"


def _shape_of_message(message: str) -> str:
    """A message with its names and numbers blanked, so that like failures group together."""
    message = re.sub(r"'[^']*'", "'…'", message)
    message = re.sub(r"\([^()]*\)", "(…)", message)
    message = re.sub(r"-?\d+(\.\d+)?", "N", message)
    return message[:120]


def run_case(case: Any, num_threads: int = 1) -> CaseResult:
    """Prepares, runs and checks one case in this process (no timeout: see `run_cases`)."""
    from onnx.backend.test.runner import Runner

    from compiler import onnx_backend
    from compiler.frontend.onnx import supported_ops

    model = case.model
    result = CaseResult(case.name, case_op(case.name, model), PASSED,
                        missing_ops=missing_ops(model, set(supported_ops())))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = onnx_backend.prepare(model, num_threads=num_threads)
            for inputs, ref_outputs in case.data_sets:
                outputs = rep.run([_normalize(x) for x in inputs])
                Runner.assert_similar_outputs(
                    [_normalize(x) for x in ref_outputs], list(outputs), rtol=case.rtol, atol=case.atol
                )
            result.specialized = list(rep.specialized)
    except Exception as err:  # every failure of a case is that case's result
        result.status, result.category, result.error = classify(err)
        if os.environ.get("COMPILER_DEBUG") and result.category.startswith("internal"):
            result.error += " | " + traceback.format_exc().replace("\n", " | ")[-2000:]
    result.seconds = round(time.perf_counter() - start, 3)
    return result


# -- worker processes --------------------------------------------------------------------

_CASES: list[Any] = []  # what forked workers inherit
_RUNNER: list[Callable[[Any, int], CaseResult]] = [run_case]


def _worker(conn: multiprocessing.connection.Connection, num_threads: int) -> None:
    """A worker: case indices in, CaseResult dicts out, until it reads None or loses its parent."""
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        if index is None:
            return
        conn.send(asdict(_RUNNER[0](_CASES[index], num_threads)))


@dataclass
class _Slot:
    process: Any
    conn: multiprocessing.connection.Connection
    index: int | None = None
    started: float = 0.0


def _start_worker(ctx: Any, num_threads: int) -> _Slot:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker, args=(child, num_threads), daemon=True)
    process.start()
    child.close()
    return _Slot(process, parent)


def _lost(case: Any, status: str, category: str, error: str, seconds: float, supported: set[str]) -> CaseResult:
    return CaseResult(case.name, case_op(case.name, case.model), status, category, error,
                      round(seconds, 3), missing_ops(case.model, supported))


def run_cases(
    cases: Sequence[Any],
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT_S,
    num_threads: int = 1,
    on_result: Callable[[CaseResult], None] | None = None,
    runner: Callable[[Any, int], CaseResult] | None = None,
) -> list[CaseResult]:
    """Runs `cases` in `jobs` forked workers; a case that kills or outlives its worker fails alone.

    The compiled models run single-threaded by default (`num_threads`): the
    jobs are the parallelism. `runner` replaces `run_case` (tests).
    """
    from compiler.frontend.onnx import supported_ops

    global _CASES
    _CASES = list(cases)
    _RUNNER[0] = runner or run_case
    supported = set(supported_ops())
    ctx = multiprocessing.get_context("fork")
    results: dict[int, CaseResult] = {}
    pending = list(range(len(_CASES)))[::-1]
    slots = [_start_worker(ctx, num_threads) for _ in range(max(1, min(jobs, len(_CASES))))]

    def record(index: int, result: CaseResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    try:
        while len(results) < len(_CASES):
            for slot in slots:
                if slot.index is None and pending:
                    slot.index = pending.pop()
                    slot.started = time.perf_counter()
                    slot.conn.send(slot.index)
            busy = {slot.conn: slot for slot in slots if slot.index is not None}
            ready = multiprocessing.connection.wait(list(busy), timeout=1.0)
            now = time.perf_counter()
            for i, slot in enumerate(slots):
                if slot.index is None:
                    continue
                case = _CASES[slot.index]
                if slot.conn in ready:
                    try:
                        record(slot.index, CaseResult(**slot.conn.recv()))
                        slot.index = None
                        continue
                    except (EOFError, OSError):
                        slot.process.join(5)
                        code = slot.process.exitcode
                        why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                        record(slot.index, _lost(case, FAILED, "crash", f"the worker died ({why})",
                                                 now - slot.started, supported))
                elif now - slot.started > timeout:
                    slot.process.kill()
                    slot.process.join(5)
                    record(slot.index, _lost(case, FAILED, "timeout", f"no result within {timeout:g} s",
                                             now - slot.started, supported))
                else:
                    continue
                slot.conn.close()
                slots[i] = _start_worker(ctx, num_threads)
    finally:
        for slot in slots:
            try:
                slot.conn.send(None)
            except (OSError, ValueError):
                pass
        for slot in slots:
            slot.process.join(2)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(2)
    return [results[i] for i in range(len(_CASES))]


# -- progress and summaries ----------------------------------------------------------------


class Progress:
    """A progress bar on a terminal; a line every 5% otherwise (logs, CI)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done = self.passed = 0
        self.start = time.perf_counter()
        self.tty = stream.isatty()
        self._next_line = 0

    def __call__(self, result: CaseResult) -> None:
        self.done += 1
        self.passed += result.status == PASSED
        elapsed = time.perf_counter() - self.start
        text = f"{self.done}/{self.total} cases, {self.passed} passed, {elapsed:.0f} s"
        if self.tty:
            filled = self.width * self.done // max(1, self.total)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {text} {result.name[:40]:<40}")
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done >= self._next_line or self.done == self.total:
            self.stream.write(f"conformance: {text}\n")
            self._next_line = self.done + max(1, self.total // 20)
        self.stream.flush()


def per_op_lines(results: Sequence[CaseResult]) -> list[str]:
    """`Op: N passed, N failed, N unsupported; first error: ...`, one line per op, by name."""
    by_op: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_op[r.op].append(r)
    lines = []
    for op in sorted(by_op, key=str.lower):
        rs = by_op[op]
        count = Counter(r.status for r in rs)
        line = f"{op}: {count[PASSED]} passed, {count[FAILED]} failed, {count[UNSUPPORTED]} unsupported"
        first = next((r for r in rs if r.status != PASSED), None)
        if first is not None:
            line += f"; first error ({first.name}): {first.error[:200]}"
        lines.append(line)
    return lines


def unsupported_ranking(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """Ops the importer lacks, by the cases that each alone would unlock (then by cases using it)."""
    unlocks: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    for r in results:
        if r.status == PASSED:
            continue
        for op in r.missing_ops:
            uses[op] += 1
        if len(r.missing_ops) == 1:
            unlocks[r.missing_ops[0]] += 1
    ranked = sorted(uses, key=lambda op: (-unlocks[op], -uses[op], op))
    return [{"op": op, "cases_unlocked": unlocks[op], "cases_using": uses[op]} for op in ranked]


def failure_categories(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """Failed and unsupported cases grouped by category, largest first, with a few examples."""
    groups: dict[str, list[str]] = defaultdict(list)
    for r in results:
        if r.status != PASSED:
            groups[r.category].append(r.name)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"category": c, "cases": len(names), "examples": names[:5]} for c, names in ranked]


def report(results: Sequence[CaseResult], seconds: float, argv: Sequence[str] = ()) -> dict[str, Any]:
    count = Counter(r.status for r in results)
    return {
        "command": " ".join(argv),
        "onnx_version": onnx.__version__,
        "total": len(results),
        "passed": count[PASSED],
        "failed": count[FAILED] + count[UNSUPPORTED],
        "unsupported": count[UNSUPPORTED],
        "seconds": round(seconds, 1),
        "unsupported_ops": unsupported_ranking(results),
        "failure_categories": failure_categories(results),
        "cases": [asdict(r) for r in results],
    }


def read_case_list(path: str) -> list[str]:
    """Case names from a passing list: one a line; `#` starts a comment."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def write_case_list(path: str, names: Iterable[str], header: str) -> None:
    with open(path, "w") as f:
        for line in header.splitlines():
            f.write(f"# {line}\n".replace("# \n", "#\n"))
        for name in sorted(names):
            f.write(f"{name}\n")


PASSING_HEADER = """ONNX node test cases that pass through compiler.onnx_backend (onnx {version}).
A ratchet: `make conformance` fails when a case listed here stops passing, and
tests/unit/test_conformance.py checks a representative subset in CI. After a run
that passes more cases, update the list with:
  compiler conformance --jobs 2 --write-passing tests/conformance/passing.txt"""


def main(args: Any) -> int:
    """`compiler conformance`: run, print per-op lines and the closing count, write the report."""
    start = time.perf_counter()
    cases = collect_cases(args.filter)
    if not cases:
        from compiler.errors import CompilerError

        raise CompilerError(f"no conformance case matches {args.filter!r}", hint="see 'compiler conformance --help'")
    progress = Progress(len(cases))
    results = run_cases(cases, jobs=args.jobs, timeout=args.timeout, on_result=progress)
    seconds = time.perf_counter() - start
    for line in per_op_lines(results):
        print(line)
    ranking = unsupported_ranking(results)
    if ranking:
        top = ", ".join(f"{r['op']} ({r['cases_unlocked']})" for r in ranking[:15])
        print(f"unsupported ops by cases each would unlock: {top}")
    count = Counter(r.status for r in results)
    passed = count[PASSED]
    print(f"{passed} passed, {len(results) - passed} failed ({count[UNSUPPORTED]} unsupported) "
          f"in {seconds:.0f} s")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report(results, seconds, ["compiler", "conformance", *args.argv]), f, indent=1)
    passing = {r.name for r in results if r.status == PASSED}
    if args.write_passing:
        write_case_list(args.write_passing, passing, PASSING_HEADER.format(version=onnx.__version__))
    if args.check:
        ran = {r.name for r in results}
        listed = [n for n in read_case_list(args.check) if n in ran]
        lost = [n for n in listed if n not in passing]
        if lost:
            print(f"conformance: {len(lost)} listed case(s) no longer pass: {', '.join(lost[:20])}",
                  file=sys.stderr)
            return 1
        print(f"conformance: all {len(listed)} listed cases pass", file=sys.stderr)
    return 0
