"""A tiny two-stage detector exported by torch.onnx, end to end against onnxruntime.

`tests/models/make_detector.py` writes it with the TorchScript exporter
(opset 17) and with `dynamo=True` (opset 18): a conv backbone, a dense
proposal head, TopK, NonMaxSuppression, RoiAlign of the kept proposals and a
box head, so that every output has as many rows as NMS keeps. Boxes and
scores must agree within 1e-4 relative, labels and kept indices exactly, and
the compiled model must keep doing so once exported to a .so and loaded back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import compiler
from compiler.testing.oracle import max_rel_error

pytestmark = pytest.mark.usefixtures("private_cache")

MODELS = Path(__file__).resolve().parents[1] / "models"
OUTPUTS = ["boxes", "scores", "labels", "keep"]


def _images(n: int) -> list[np.ndarray]:
    """Noise of growing contrast, then a bright square: NMS keeps different counts."""
    rng = np.random.default_rng(0)
    images = [(rng.standard_normal((1, 3, 64, 64)) * (1 + 3 * i)).astype(np.float32) for i in range(n - 1)]
    square = np.zeros((1, 3, 64, 64), np.float32)
    square[:, :, 8:32, 10:40] = 3.0
    return [*images, square]


def _check(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert [g.shape for g in got] == [w.shape for w in want]
    assert got[0].shape[0] > 1, "NMS kept nothing: the test would not test much"
    for name, g, w in zip(OUTPUTS, got, want, strict=True):
        if name in ("labels", "keep"):
            np.testing.assert_array_equal(g, w, err_msg=name)
        else:
            assert max_rel_error(g, w) <= 1e-4, name


@pytest.mark.parametrize("name", ["detector_tiny", "dynamo_detector_tiny"])
def test_detector_matches_onnxruntime(name: str, tmp_path: Path) -> None:
    path = MODELS / f"{name}.onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    compiled = compiler.compile(path)
    assert compiled.output_names == OUTPUTS
    counts = set()
    for image in _images(3):
        want = session.run(None, {"image": image})
        got = compiled.run(None, {"image": image})
        _check(got, want)
        counts.add(len(want[3]))
    assert len(counts) > 1, "every image kept as many boxes: the row counts are not exercised"
    if name == "detector_tiny":
        compiled.export(tmp_path / "detector.so")
        loaded = compiler.load(tmp_path / "detector.so")
        image = _images(1)[0]
        _check(loaded.run(None, {"image": image}), session.run(None, {"image": image}))
