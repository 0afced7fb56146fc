"""The minimized reproducers of bugs that `compiler fuzz` found, now fixed (tests/fuzz/regressions).

Each NAME.onnx comes with its feeds NAME.npz and NAME.txt (what went wrong and
which fix closed it). Each is compiled at O0 and O3, run at 1 and 3 threads,
and compared with onnxruntime exactly as the fuzzer does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from compiler.testing.fuzz import differential as diff

REGRESSIONS = Path(__file__).resolve().parents[1] / "fuzz" / "regressions"
CASES = sorted(p.stem for p in REGRESSIONS.glob("*.onnx"))


@pytest.mark.parametrize("name", CASES)
def test_fuzz_regression(name: str) -> None:
    model = onnx.load(str(REGRESSIONS / f"{name}.onnx"))
    with np.load(REGRESSIONS / f"{name}.npz") as data:
        feeds = {k: data[k] for k in data.files}
    outcome = diff.check(model, feeds)
    assert outcome.status == diff.PASSED, f"{name}: {outcome}\n{(REGRESSIONS / f'{name}.txt').read_text()}"
