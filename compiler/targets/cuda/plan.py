"""A model on the GPU as data: the buffers, the kernel calls in order, and the CUDA C.

After the CUDA pipeline and `extract-params`, `@main` is a straight list of
kernel calls whose operands are the model's inputs and outputs or byte
ranges (`memref.view`) of two blobs: the weights (`params`, uploaded once)
and the activations (`arena`, planned by `plan-memory` exactly as on the
CPU). `build_plan` reads that list into a `LaunchPlan`; the launcher
(compiler/targets/cuda/launch.py) runs it with the driver API, and
`run_interpreted` runs the very same plan in the loop interpreter, so the
memory plan, the call order and the GPU-scheduled kernels are checked on a
machine without a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.errors import CompilerError
from compiler.interpreter import input_names, main_function
from compiler.runtime import TensorSpec
from compiler.schedule.schedule import kernels
from compiler.targets.cpu.params import extract_params
from compiler.targets.cuda.convert_loop_to_cuda import CudaKernel, emit_module
from compiler.targets.cuda.launch_table import Buffer, Call


@dataclass
class LaunchPlan:
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    params: bytes
    arena_bytes: int
    calls: list[Call]
    kernels: dict[str, CudaKernel]
    source: str
    """One translation unit with every kernel's `__global__` functions."""

    def export(self, path: str | os.PathLike[str], archs: tuple[str, ...] | None = None) -> Path:
        """Write the model for `compiler.load` on a GPU machine (compiled by NVRTC here; see export.py)."""
        from compiler.targets.cuda.export import export_plan

        return export_plan(self, path, archs)


def _spec(name: str, t: MemRefType) -> TensorSpec:
    return TensorSpec(name, tuple(t.get_shape()), dtypes.to_numpy_dtype(t.get_element_type()).name)


def _count(entry: func.FuncOp, attr: str) -> int:
    value = entry.attributes.get(attr)
    assert isinstance(value, IntegerAttr)
    return int(value.value.data)


def build_plan(module: ModuleOp) -> LaunchPlan:
    """The plan of a module at loop level with GPU schedules applied; its weights leave the IR."""
    source, emitted = emit_module(module)
    params = extract_params(module)
    entry = main_function(module)
    args = list(entry.body.block.args)
    n_in, n_out = (_count(entry, "graph.num_inputs"), _count(entry, "graph.num_outputs"))
    names = input_names(entry)
    inputs = [_spec(n, a.type) for n, a in zip(names[:n_in], args[:n_in], strict=True)]
    outputs = [_spec(n, a.type) for n, a in zip(names[n_in : n_in + n_out], args[n_in : n_in + n_out], strict=True)]
    spaces: dict[SSAValue, Buffer] = {}
    for i, a in enumerate(args[:n_in]):
        spaces[a] = Buffer("input", i, 0, inputs[i].shape, inputs[i].dtype)
    for j, a in enumerate(args[n_in : n_in + n_out]):
        spaces[a] = Buffer("output", j, 0, outputs[j].shape, outputs[j].dtype)
    blobs = {args[-2]: "params", args[-1]: "arena"}
    constants: dict[SSAValue, int] = {}
    calls: list[Call] = []
    arena = args[-1].type
    assert isinstance(arena, MemRefType)
    for op in entry.body.block.ops:
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
            constants[op.result] = int(op.value.value.data)
        elif isinstance(op, memref.ViewOp) and op.source in blobs:
            t = op.result.type
            assert isinstance(t, MemRefType)
            spec = _spec("", t)
            spaces[op.result] = Buffer(blobs[op.source], 0, constants[op.byte_shift], spec.shape, spec.dtype)
        elif isinstance(op, func.CallOp):
            callee = op.callee.root_reference.data
            calls.append(Call(callee, tuple(spaces[v] for v in op.arguments)))
        elif not isinstance(op, func.ReturnOp):
            raise CompilerError(f"the CUDA target does not run '{op.name}' in @main", hint="compile it for the CPU")
    return LaunchPlan(
        inputs, outputs, params, int(arena.get_shape()[0]), calls, {k.name: k for k in emitted}, source
    )


def run_interpreted(plan: LaunchPlan, module: ModuleOp, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the plan's calls in the loop interpreter (the GPU schedules' loops, bound ones in reverse)."""
    from compiler.schedule.interpret import run_kernel

    functions = {k.sym_name.data: k for k in kernels(module)}
    blobs = {"params": np.frombuffer(bytearray(plan.params), np.uint8), "arena": np.zeros(max(plan.arena_bytes, 1), np.uint8)}
    inputs = [np.ascontiguousarray(feeds[s.name], dtype=s.dtype).reshape(s.shape) for s in plan.inputs]
    outputs = [np.zeros(s.shape, s.dtype) for s in plan.outputs]

    def array(b: Buffer) -> np.ndarray:
        if b.space == "input":
            return inputs[b.index]
        if b.space == "output":
            return outputs[b.index]
        return blobs[b.space][b.offset : b.offset + b.nbytes].view(b.dtype).reshape(b.shape)

    for call in plan.calls:
        run_kernel(functions[call.kernel], [array(b) for b in call.args])
    return {s.name: o for s, o in zip(plan.outputs, outputs, strict=True)}
