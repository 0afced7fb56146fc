"""Models exported by torch.onnx's dynamo-based exporter (tests/models/make_dynamo.py) against onnxruntime.

PyTorch's default exporter since 2.9 (`dynamo=True`: torch.export, onnxscript's
torchlib, onnxscript's optimizer) writes other graphs than the TorchScript
exporter that test_exported_vision.py and test_exported_encoder.py cover.
Four small models, exported at opset 18:

* a MobileNetV3-style net (depthwise convs, squeeze-excitation, HardSwish,
  HardSigmoid, BatchNormalization, global average pooling, Gemm classifier);
* a ViT-style encoder (patch conv, class token, position embedding,
  nn.TransformerEncoderLayer, scaled_dot_product_attention without a mask,
  with a boolean mask and with a float bias, LayerNormalization, exact and
  tanh GELU);
* a CRNN text recognizer (convs, Transpose/Reshape, bidirectional LSTM,
  LogSoftmax);
* a detector neck and head with a symbolic batch dim (Resize nearest and
  linear, Concat, Sigmoid, and torch.hstack's SequenceConstruct, SequenceMap
  with an If on the rank inside, SequenceAt), pinned with `input_shapes`.

The reference interpreter on the imported graph and the native code at O3
(1 and 2 threads) agree with onnxruntime within 1e-4 relative (max abs error
over max abs value).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import compiler
from compiler.testing.models import random_inputs
from compiler.testing.oracle import assert_close, run_onnxruntime

pytest.importorskip("onnxruntime")

RTOL = 1e-4
MODELS = Path(__file__).resolve().parents[1] / "models"
# Each model and ops that its export must still hold (what the test is here for).
EXPORTED = {
    "dynamo_mobilenetv3": {"Conv", "HardSwish", "HardSigmoid", "ReduceMean", "Gemm"},
    "dynamo_vit": {"LayerNormalization", "Softmax", "Erf", "Tanh", "Where", "IsNaN"},
    "dynamo_crnn": {"LSTM", "LogSoftmax", "MaxPool"},
}


pytestmark = pytest.mark.usefixtures("private_cache")


def _load(name: str) -> onnx.ModelProto:
    model = onnx.load(str(MODELS / f"{name}.onnx"))
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    return model


def _dynamo_exported(model: onnx.ModelProto) -> bool:
    return model.producer_name == "pytorch" and any(imp.version >= 18 for imp in model.opset_import if imp.domain == "")


def _check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]] | None) -> None:
    """The interpreter and O3 native code at 1 and 2 threads against onnxruntime."""
    expected = run_onnxruntime(model, feeds)
    assert_close(compiler.interpret(compiler.import_onnx(model, shapes), feeds), expected, RTOL)
    compiled = compiler.compile(model, input_shapes=shapes, opt_level=3)
    for threads in (1, 2):
        compiled.set_num_threads(threads)
        assert_close(compiled.run(None, feeds), expected, RTOL)


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_dynamo_exported_model_matches_onnxruntime(name: str) -> None:
    model = _load(name)
    assert _dynamo_exported(model)
    assert EXPORTED[name] <= {n.op_type for n in model.graph.node}
    _check(model, random_inputs(model, seed=1), None)


def test_dynamic_batch_fpn_head_matches_onnxruntime() -> None:
    """The batch dim is symbolic: pinned with input_shapes, the shape subgraphs fold away."""
    model = _load("dynamo_fpn_head")
    assert _dynamo_exported(model)
    # torch.hstack: a sequence of the levels, mapped by an If on each one's rank
    assert {"Resize", "Concat", "Sigmoid", "SequenceConstruct", "SequenceMap", "SequenceAt"} <= {
        n.op_type for n in model.graph.node
    }
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch" and not batch.HasField("dim_value")
    shapes = {"c3": (2, 16, 16, 16), "c4": (2, 24, 8, 8), "c5": (2, 32, 4, 4)}
    _check(model, random_inputs(model, seed=2, shapes=shapes), shapes)
