"""`compiler.compile()`: ONNX in, native code out.

The pipeline is a list of registered passes, so `compiler-opt` can replay it:

    graph-optimize{level=N}       graph passes (compiler/passes/graph_optimize.py)
    plan-memory                   when the level did not plan memory already
    convert-graph-to-loop         one loop kernel per fused group
    extract-params                weights -> the params blob
    default-schedule              parallel outer loops, vectorized inner loops
    convert-loop-to-scf           loops -> scf + explicit vector ops
    convert-to-llvm               upstream dialects -> llvm dialect
then llvmlite compiles for the host CPU (cached on disk by IR hash).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx
from xdsl.dialects.builtin import ModuleOp

from compiler import dtypes
from compiler.api import run_pipeline
from compiler.errors import CompilerError
from compiler.interpreter import input_names, main_function, output_names
from compiler.passes import memory
from compiler.runtime import CompiledModel, ModelMetadata, TensorSpec

LOWERING_PIPELINE = ["convert-graph-to-loop"]
LOOP_PIPELINE = ["default-schedule", "convert-loop-to-scf", "convert-to-llvm"]


@dataclass
class CompileStats:
    """Wall-clock seconds per stage, for benchmarks and `compiler build -v`."""

    seconds: dict[str, float] = field(default_factory=dict)

    def time(self, stage: str, start: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


def graph_pipeline(opt_level: int) -> str:
    if opt_level not in (0, 1, 2, 3):
        raise CompilerError(f"opt_level {opt_level} does not exist", hint="use 0, 1, 2 or 3")
    return f"graph-optimize{{level={opt_level}}}"


def _specs(module: ModuleOp) -> tuple[list[TensorSpec], list[TensorSpec]]:
    fn = main_function(module)
    ins = [
        TensorSpec(n, tuple(t.get_shape()), dtypes.to_numpy_dtype(t.get_element_type()).name)
        for n, t in zip(input_names(fn), fn.function_type.inputs, strict=True)
    ]
    outs = [
        TensorSpec(n, tuple(t.get_shape()), dtypes.to_numpy_dtype(t.get_element_type()).name)
        for n, t in zip(output_names(fn), fn.function_type.outputs, strict=True)
    ]
    return ins, outs


def lower_to_llvm(module: ModuleOp, stats: CompileStats | None = None) -> tuple[ModuleOp, bytes, int]:
    """Graph-dialect module (optimized) -> llvm-dialect module, params blob, arena size."""
    from compiler.targets.cpu.params import extract_params

    stats = stats or CompileStats()
    fn = main_function(module)
    if memory.int_attr_of(fn, memory.ARENA_ATTR) is None:
        t = time.perf_counter()
        run_pipeline(module, "plan-memory")
        stats.time("plan-memory", t)
    arena = memory.int_attr_of(fn, memory.ARENA_ATTR) or 0
    t = time.perf_counter()
    run_pipeline(module, ",".join(LOWERING_PIPELINE))
    stats.time("convert-graph-to-loop", t)
    t = time.perf_counter()
    params = extract_params(module)
    stats.time("extract-params", t)
    for spec in LOOP_PIPELINE:
        t = time.perf_counter()
        run_pipeline(module, spec)
        stats.time(spec, t)
    return module, params, arena


def compile(  # noqa: A001  (the public name users expect)
    model: str | os.PathLike[str] | bytes | onnx.ModelProto | ModuleOp,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    opt_level: int = 3,
    num_threads: int | None = None,
    target: str = "cpu",
    cache: bool = True,
    stats: CompileStats | None = None,
) -> CompiledModel:
    """Compiles an ONNX model (path, bytes, ModelProto) or a graph-dialect module."""
    from compiler.frontend.onnx import import_onnx
    from compiler.targets.cpu.jit import SET_NUM_THREADS, jit_compile

    if target != "cpu":
        raise CompilerError(f"target {target!r} is not supported", hint="use target='cpu'")
    stats = stats or CompileStats()
    t = time.perf_counter()
    if isinstance(model, ModuleOp):
        module = model.clone()
    else:
        module = import_onnx(model, input_shapes=input_shapes)
    stats.time("import", t)
    t = time.perf_counter()
    run_pipeline(module, graph_pipeline(opt_level))
    stats.time("graph-optimize", t)
    inputs, outputs = _specs(module)
    module, params, arena = lower_to_llvm(module, stats)
    t = time.perf_counter()
    from compiler.targets.cpu.jit import signatures
    from compiler.targets.cpu.machine import HostTarget
    from compiler.targets.cpu.translate import to_llvm_ir

    host = HostTarget.detect()
    ir_text = to_llvm_ir(module, host.triple)
    stats.time("translate", t)
    t = time.perf_counter()
    handle = jit_compile(ir_text, cache=cache, target=host)
    stats.time("llvm", t)
    del signatures
    meta = ModelMetadata(
        inputs=inputs,
        outputs=outputs,
        params_bytes=len(params),
        arena_bytes=arena,
        num_threads=int(num_threads or 0),
    )
    setter = handle.address(SET_NUM_THREADS) if _has_symbol(handle, SET_NUM_THREADS) else None
    return CompiledModel(
        meta,
        handle.address("main"),
        params,
        keepalive=[handle],
        set_threads_address=setter,
        code=ir_text,
    )


def _has_symbol(handle: Any, name: str) -> bool:
    try:
        handle.address(name)
    except KeyError:
        return False
    return True
