"""The issues' "done when" checks on whole models, one model per test.

For each of the nine light models (seeded weights) and the PyTorch-exported
transformers, against onnxruntime on the same inputs, max abs error relative
to the output's max abs value within 1e-4:

- the reference interpreter on the imported graph (the frontend is right);
- the interpreter after `graph-optimize{level=3}` (no graph pass changes numerics);
- the native code of `compiler.compile` at O3, at 1 and at 2 threads.

The compile cache lives in a per-module temporary directory, so every run
really compiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import compiler
from compiler.api import run_pipeline
from compiler.testing.models import LIGHT_MODELS, bert_model_path, random_inputs, seeded_light_model
from compiler.testing.oracle import assert_close, run_onnxruntime

RTOL = 1e-4
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
TRANSFORMERS = {
    "bert_tiny": (lambda: onnx.load(str(bert_model_path(False))), None),
    "bert_tiny_dynamic": (
        lambda: onnx.load(str(bert_model_path(True))),
        {"input_ids": (1, 16), "attention_mask": (1, 16)},
    ),
    "gpt_tiny_block": (lambda: onnx.load(str(MODELS_DIR / "gpt_tiny_block.onnx")), None),
}


pytestmark = pytest.mark.usefixtures("private_cache")


def _model(name: str) -> tuple[onnx.ModelProto, dict[str, tuple[int, ...]] | None]:
    if name in TRANSFORMERS:
        load, shapes = TRANSFORMERS[name]
        return load(), shapes
    return seeded_light_model(name), None


@pytest.mark.parametrize("name", [*LIGHT_MODELS, *TRANSFORMERS])
def test_model_end_to_end(name: str) -> None:
    model, shapes = _model(name)
    feeds = random_inputs(model, shapes=shapes)
    expected = run_onnxruntime(model, feeds)
    assert all(np.isfinite(e).all() for e in expected)

    module = compiler.import_onnx(model, input_shapes=shapes)
    assert_close(compiler.interpret(module, feeds), expected, rtol=RTOL)

    run_pipeline(module, "graph-optimize{level=3}")
    assert_close(compiler.interpret(module, feeds), expected, rtol=RTOL)

    compiled = compiler.compile(model, input_shapes=shapes, opt_level=3)
    for threads in (1, 2):
        compiled.set_num_threads(threads)
        assert_close(compiled.run(None, feeds), expected, rtol=RTOL)
