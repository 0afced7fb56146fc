"""The compile pipeline of the CUDA target, up to the scheduled loop kernels.

The graph passes are those of `-O2`: fused groups in NCHW. `-O3`'s blocked
NCHW16c layout serves CPU vector registers; a GPU's threads read NCHW rows
coalesced as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import onnx
from xdsl.dialects.builtin import ModuleOp

from compiler.api import run_pipeline

GRAPH_LEVEL = 2
LOOP_PIPELINE = ["default-schedule{target=cuda}", "apply-schedule"]


def cuda_pipeline(level: str) -> list[str]:
    """The steps from a module at `level` ("graph" or "loop") to scheduled GPU kernels."""
    graph = [f"graph-optimize{{level={GRAPH_LEVEL}}}", "plan-memory", "convert-graph-to-loop"]
    return [*(graph if level == "graph" else []), *LOOP_PIPELINE]


def cuda_module(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> ModuleOp:
    """An ONNX model imported and lowered to loop kernels under GPU schedules."""
    from compiler.frontend.onnx import import_onnx

    module = import_onnx(model, input_shapes=input_shapes)
    run_pipeline(module, ",".join(cuda_pipeline("graph")))
    return module
