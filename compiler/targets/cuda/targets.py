"""`compiler-opt -t cuda`: the CUDA C of every kernel of a loop-level module.

The module's kernels must carry their GPU schedules applied
(`default-schedule{target=cuda},apply-schedule`); without `-p`,
`compiler-opt` runs the CUDA pipeline first (compiler/targets/cuda/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from compiler.targets.cuda.convert_loop_to_cuda import emit_module


@dataclass(frozen=True)
class CudaCTarget(Target):
    """CUDA C: one translation unit, a launch table per kernel in comments."""

    name = "cuda"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        source, kernels = emit_module(module)
        for k in kernels:
            for launch in k.launches:
                print(f"// launch {launch.function} grid={launch.grid} block={launch.block}", file=output)
        print(source, file=output, end="")


TARGETS: dict[str, Callable[[], type[Target]]] = {"cuda": lambda: CudaCTarget}
