"""`benchmarks/run.py --background-load`: one busy process beside the benchmark,
stopped on every way out (an error, Ctrl-C)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_option_is_parsed(run: ModuleType) -> None:
    assert run.parse_args(["--background-load"]).background_load is True
    assert run.parse_args([]).background_load is False


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_busy_process_runs_during_the_block_and_stops_after(
    run: ModuleType, error: type[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(error), run.background_load(True) as busy:
        assert busy is not None and busy.poll() is None  # spinning
        raise error("stop")
    assert busy.poll() is not None  # terminated and reaped
    assert f"background load stopped (pid {busy.pid})" in capsys.readouterr().out


def test_no_process_without_the_option(run: ModuleType) -> None:
    with run.background_load(False) as busy:
        assert busy is None
