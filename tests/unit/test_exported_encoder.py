"""A torch.onnx-exported sentence encoder with learned position embeddings
(tests/models/make_sentence_encoder.py): position ids by CumSum, last-token
pooling by GatherElements, an Einsum projection. The interpreter and the
native code at O3 (1 and 2 threads) must match onnxruntime within 1e-4
relative, on padded and unpadded sentences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import compiler
from compiler.testing.oracle import assert_close, run_onnxruntime

MODEL = Path(__file__).resolve().parents[1] / "models" / "sentence_encoder.onnx"
PAD = 1


pytestmark = pytest.mark.usefixtures("private_cache")


def _feeds(seed: int, lengths: tuple[int, int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, 300, (2, 12)).astype(np.int64)
    mask = np.ones((2, 12), np.int64)
    for row, n in enumerate(lengths):
        ids[row, n:] = PAD
        mask[row, n:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def test_the_export_uses_the_ops_it_is_here_for() -> None:
    ops = {n.op_type for n in onnx.load(str(MODEL)).graph.node}
    assert {"GatherElements", "CumSum", "Einsum", "LayerNormalization"} <= ops


def test_sentence_encoder_matches_onnxruntime() -> None:
    model = onnx.load(str(MODEL))
    compiled = compiler.compile(model, opt_level=3)
    module = compiler.import_onnx(model)
    for seed, lengths in [(0, (12, 5)), (1, (3, 12))]:
        feeds = _feeds(seed, lengths)
        expected = run_onnxruntime(model, feeds)
        assert_close(compiler.interpret(module, feeds), expected, rtol=1e-4)
        for threads in (1, 2):
            compiled.set_num_threads(threads)
            assert_close(compiled.run(None, feeds), expected, rtol=1e-4)
