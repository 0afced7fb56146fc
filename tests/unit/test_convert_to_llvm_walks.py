"""`convert-to-llvm` in its few walks gives the module its sub-passes give one at a time.

`ConvertToLLVMPass.apply` shares one walk among several conversions, leaves
index results uncast and skips walkers where a plain loop does the same (see
its module docstring); `ConvertToLLVMPass.passes` is the same chain as
separate passes. Both must print the same llvm-dialect module, value names
included: on the FileCheck inputs of the pass and on every unit (kernel) of a
small CNN, with and without threads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_parallel_lower import small_cnn
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from compiler import driver
from compiler.api import parse_mlir, print_mlir, run_pipeline
from compiler.frontend.onnx import import_onnx
from compiler.lowering.convert_to_llvm import ConvertToLLVMPass
from compiler.targets.cpu import parallel_lower
from compiler.targets.cpu.machine import HostTarget

FILECHECK = Path(__file__).resolve().parents[1] / "filecheck" / "llvm"


def one_by_one(module: ModuleOp, pass_: ConvertToLLVMPass) -> str:
    ctx = Context()
    for one_pass in pass_.passes():
        one_pass.apply(ctx, module)
    return print_mlir(module)


def in_few_walks(module: ModuleOp, pass_: ConvertToLLVMPass) -> str:
    pass_.apply(Context(), module)
    return print_mlir(module)


def kernel_units() -> list[ModuleOp]:
    """The small CNN's units after widen-half-floats: convert-to-llvm's input."""
    module = import_onnx(small_cnn())
    run_pipeline(module, "graph-optimize{level=3}")
    host = HostTarget.detect()
    driver._schedule_and_extract(module, driver.CompileStats(), False, None, host, None, 1)
    pipeline = driver.function_pipeline(host)
    assert pipeline[-1] == "convert-to-llvm"
    defined = parallel_lower.signatures(module)
    units = []
    for name in parallel_lower.unit_names(module):
        unit = parallel_lower.split_unit(module, name, defined)
        for spec in pipeline[:-1]:
            run_pipeline(unit, spec)
        units.append(unit)
    return units


@pytest.mark.parametrize("name", ["convert-to-llvm.mlir", "outline-parallel-chunks.mlir"])
@pytest.mark.parametrize("parallel", [True, False])
def test_filecheck_inputs(name: str, parallel: bool) -> None:
    text = (FILECHECK / name).read_text()
    pass_ = ConvertToLLVMPass(parallel=parallel)
    assert in_few_walks(parse_mlir(text), pass_) == one_by_one(parse_mlir(text), pass_)


@pytest.mark.parametrize("parallel", [True, False])
def test_small_cnn_units(parallel: bool) -> None:
    pass_ = ConvertToLLVMPass(parallel=parallel)
    units = kernel_units()
    assert len(units) > 2
    for unit in units:
        expected = one_by_one(unit.clone(), pass_)
        assert in_few_walks(unit, pass_) == expected
