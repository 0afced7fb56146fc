"""convert-graph-to-loop reuses the kernel of an earlier group with the same
group key without building it again (`_group_key`); the loop IR must be the
same as when every group's kernel is built and deduplicated afterwards."""

from __future__ import annotations

import os

import pytest
from xdsl.dialects import func

from compiler import driver
from compiler.api import print_mlir, run_pipeline
from compiler.frontend.onnx import import_onnx
from compiler.lowering import convert_graph_to_loop
from compiler.testing import LIGHT_MODELS, bert_model_path, seeded_light_model

MODELS = [*LIGHT_MODELS, "bert"]


def _loop_ir(name: str) -> str:
    model = bert_model_path() if name == "bert" else seeded_light_model(name)
    module = import_onnx(model)
    run_pipeline(module, driver.graph_pipeline(3))
    run_pipeline(module, "convert-graph-to-loop")
    # The functions: the globals (the weights, unchanged by the shortcut) print slowly.
    return "\n".join(print_mlir(op) for op in module.ops if isinstance(op, func.FuncOp))


# CI: the model with most reuse (ResNet-50) and the encoder; all ten with COMPILER_SLOW_TESTS=1.
@pytest.mark.parametrize("name", MODELS if os.environ.get("COMPILER_SLOW_TESTS") else ["resnet50", "bert"])
def test_reused_groups_give_the_same_loop_ir(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = convert_graph_to_loop._group_key

    def counting(*args: object) -> object:
        key = real(*args)  # type: ignore[arg-type]
        calls.append(key)
        return key

    monkeypatch.setattr(convert_graph_to_loop, "_group_key", counting)
    reused = _loop_ir(name)
    keys = [k for k in calls if k is not None]
    if name in ("resnet50", "bert"):
        assert len(set(keys)) < len(keys), "no group was reused: the test checks nothing"
    monkeypatch.setattr(convert_graph_to_loop, "_group_key", lambda *args: None)
    assert reused == _loop_ir(name)
