"""PyTorch-exported vision models (tests/models/make_vision.py) against onnxruntime.

A U-Net-like decoder (ConvTranspose2d with k=2/s=2 and k=4/s=2/p=1,
nn.Upsample nearest and bilinear, GroupNorm exported as InstanceNormalization)
and a YOLOX-style detector head (nearest upsampling, torch.split, cat, sigmoid,
exp, grid decoding): the reference interpreter on the imported graph and the
native code at O3 (1 and 2 threads) agree with onnxruntime within 1e-4
relative (max abs error over max abs value). Only O3 is compiled here, to
keep the file fast; test_compiled_ops.py covers the ops at O0 too.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

import compiler
from compiler.testing.models import random_inputs
from compiler.testing.oracle import assert_close, run_onnxruntime

pytest.importorskip("onnxruntime")

RTOL = 1e-4
MODELS = Path(__file__).resolve().parents[1] / "models"
EXPORTED = ["unet_tiny", "detector_head"]


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_model_matches_onnxruntime(name: str) -> None:
    model = onnx.load(str(MODELS / f"{name}.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert {"Resize", "Concat", "Conv"} <= ops  # the export still holds the ops under test
    feeds = random_inputs(model, seed=1)
    expected = run_onnxruntime(model, feeds)
    assert_close(compiler.interpret(compiler.import_onnx(model), feeds), expected, RTOL)
    compiled = compiler.compile(model, opt_level=3)
    for threads in (1, 2):
        compiled.set_num_threads(threads)
        assert_close(compiled.run(None, feeds), expected, RTOL)


def test_unet_exports_conv_transpose_of_both_kinds() -> None:
    """The U-Net holds a kernel == stride ConvTranspose (pixel shuffle) and a padded one (zero insertion)."""
    model = onnx.load(str(MODELS / "unet_tiny.onnx"))
    kernels = sorted(
        tuple(onnx.helper.get_attribute_value(a) for a in n.attribute if a.name in ("kernel_shape", "pads"))
        for n in model.graph.node
        if n.op_type == "ConvTranspose"
    )
    assert kernels == [([2, 2], [0, 0, 0, 0]), ([4, 4], [1, 1, 1, 1])]
    modes = sorted(
        onnx.helper.get_attribute_value(a).decode()
        for n in model.graph.node
        if n.op_type == "Resize"
        for a in n.attribute
        if a.name == "mode"
    )
    assert modes == ["linear", "nearest"]
