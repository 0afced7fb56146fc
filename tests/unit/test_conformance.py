"""The conformance harness (`compiler conformance`) and its ratchet.

tests/conformance/passing.txt lists the ONNX node test cases that pass;
`make conformance` runs all 1884 cases and fails when a listed one stops
passing. That takes tens of minutes, so CI runs the representative subset in
tests/conformance/subset.txt instead: a few cases per op family (elementwise
math, comparisons, reductions with axes as inputs, shape ops with shapes as
inputs, convolution, pooling, normalization, casts, unsigned types, recent
opsets), chosen by tests/conformance/make_subset.py from a full run's report.
Each subset case must be listed as passing, and must still pass.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compiler.errors import ModelLoadError, ShapeError, UnsupportedOpError
from compiler.testing import conformance
from compiler.testing.conformance import (
    FAILED,
    PASSED,
    UNSUPPORTED,
    CaseResult,
    classify,
    collect_from_modules,
    read_case_list,
    run_case,
    run_cases,
)
from compiler.tools.cli import main as cli_main

HERE = Path(__file__).resolve().parent.parent / "conformance"
PASSING = HERE / "passing.txt"
SUBSET = HERE / "subset.txt"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def _subset() -> list[tuple[str, str]]:
    """(module, case name) pairs of the CI subset."""
    pairs = []
    for line in read_case_list(str(SUBSET)):
        module, name = line.split()
        pairs.append((module, name))
    return pairs


SUBSET_CASES = _subset()


@pytest.fixture(scope="module")
def subset_cases() -> dict[str, Any]:
    return collect_from_modules(sorted({m for m, _ in SUBSET_CASES}))


# -- the ratchet ------------------------------------------------------------------------


def test_the_subset_is_listed_as_passing_and_spans_many_ops() -> None:
    passing = set(read_case_list(str(PASSING)))
    assert len(passing) >= 600
    names = [n for _, n in SUBSET_CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)
    assert not [n for n in names if n not in passing]
    assert len({m for m, _ in SUBSET_CASES}) >= 30


@pytest.mark.parametrize("name", [n for _, n in SUBSET_CASES])
def test_a_listed_case_still_passes(name: str, subset_cases: dict[str, Any]) -> None:
    result = run_case(subset_cases[name])
    assert result.status == PASSED, f"{name}: {result.error}"


# -- the harness --------------------------------------------------------------------------


def _crash(case: Any, num_threads: int) -> CaseResult:
    faulthandler.disable()  # pytest's handler would print the worker's stack
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def _hang(case: Any, num_threads: int) -> CaseResult:
    time.sleep(60)
    raise AssertionError("unreachable")


def test_a_crash_or_a_hang_fails_that_case_only() -> None:
    cases = [collect_from_modules(["abs"])["test_abs"]]
    crashed = run_cases(cases * 2, jobs=2, runner=_crash)
    assert [r.status for r in crashed] == [FAILED, FAILED]
    assert crashed[0].category == "crash" and "signal 11" in crashed[0].error
    hung = run_cases(cases, timeout=0.5, runner=_hang)
    assert hung[0].status == FAILED and hung[0].category == "timeout"
    # The run goes on after a lost worker: the real case passes in a fresh one.
    (ok,) = run_cases(cases, jobs=1)
    assert ok.status == PASSED and ok.op == "Abs"


def test_classify() -> None:
    assert classify(UnsupportedOpError("this op is not supported", node="n", op_type="Foo"))[0] == UNSUPPORTED
    assert classify(ModelLoadError("opset 99 is not supported (supported: 7 to 28)"))[:2] == (
        UNSUPPORTED, "unsupported opset"
    )
    assert classify(ShapeError("input 'x' has symbolic dim 'N' (dim 0)"))[:2] == (
        FAILED, "ShapeError: input '…' has symbolic dim '…' (…)"
    )
    try:
        np.testing.assert_allclose(np.ones(3), np.zeros(3), rtol=1e-3)
    except AssertionError as err:
        assert classify(err)[:2] == (FAILED, "wrong values")
    assert classify(KeyError("k"))[:2] == (FAILED, "internal error (KeyError)")


def test_ranking_counts_cases_that_one_op_alone_would_unlock() -> None:
    results = [
        CaseResult("a", "Foo", UNSUPPORTED, missing_ops=["Foo"]),
        CaseResult("b", "Foo", UNSUPPORTED, missing_ops=["Foo"]),
        CaseResult("c", "Bar", UNSUPPORTED, missing_ops=["Bar", "Foo"]),
        CaseResult("d", "Baz", PASSED),
    ]
    assert conformance.unsupported_ranking(results) == [
        {"op": "Foo", "cases_unlocked": 2, "cases_using": 3},
        {"op": "Bar", "cases_unlocked": 0, "cases_using": 1},
    ]
    lines = conformance.per_op_lines(results)
    assert lines[1].startswith("Baz: 1 passed, 0 failed, 0 unsupported")
    assert lines[2].startswith("Foo: 0 passed, 0 failed, 2 unsupported; first error (a)")


def test_the_cli_prints_per_op_lines_a_count_and_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The whole suite takes ~10 s to collect: take two modules' cases instead.
    def collect(pattern: str | None = None) -> list[Any]:
        import re

        cases = collect_from_modules(["abs", "reducesum"])
        return [c for n, c in sorted(cases.items()) if re.search(pattern or "", n)]

    monkeypatch.setattr(conformance, "collect_cases", collect)
    listed = tmp_path / "passing.txt"
    listed.write_text("# a comment\ntest_abs\ntest_reduce_sum_keepdims_example\n")
    report = tmp_path / "report.json"
    rc = cli_main(["conformance", "--filter", "^test_(abs|reduce_sum_keepdims_example)$",
                   "--report", str(report), "--check", str(listed), "--write-passing", str(tmp_path / "new.txt")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "Abs: 1 passed, 0 failed, 0 unsupported" in out
    assert "ReduceSum: 1 passed, 0 failed, 0 unsupported" in out
    assert out.strip().splitlines()[-1].startswith("2 passed, 0 failed")
    assert "all 2 listed cases pass" in err
    data = json.loads(report.read_text())
    assert data["total"] == 2 and data["passed"] == 2 and data["unsupported_ops"] == []
    assert {c["name"] for c in data["cases"]} == {"test_abs", "test_reduce_sum_keepdims_example"}
    # ReduceSum's axes are a graph input: the backend specialized them.
    by_name = {c["name"]: c for c in data["cases"]}
    assert by_name["test_reduce_sum_keepdims_example"]["specialized"] == ["axes"]
    assert read_case_list(str(tmp_path / "new.txt")) == ["test_abs", "test_reduce_sum_keepdims_example"]
    # A listed case that does not pass fails the check.
    listed.write_text("test_abs\n")
    monkeypatch.setattr(conformance, "run_case", lambda case, n=1: CaseResult(case.name, "Abs", FAILED))
    rc = cli_main(["conformance", "--filter", "^test_abs$", "--check", str(listed)])
    assert rc == 1 and "1 listed case(s) no longer pass: test_abs" in capsys.readouterr().err
    assert cli_main(["conformance", "--filter", "^no_such_case$"]) == 1
    assert "compiler: error: no conformance case matches '^no_such_case$'" in capsys.readouterr().err
