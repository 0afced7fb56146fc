"""`graph-optimize{level=N}`: the default graph pipelines, O0 to O3.

Each level is a list of registered pass names with options (`PIPELINES`), so
whatever `compiler.compile()` runs, `compiler-opt -p` can replay pass by pass
(`pipeline_spec(level)` gives the `-p` string). Every name must be a
registered pass: an unknown one is a `PipelineError` naming it, never skipped.

`dce` is xDSL's own pass, reused as is: our ops are `Pure` and it leaves the
`func.func` (a symbol) alone. `cse` is ours (compiler/passes/cse.py), a thin
wrapper over xDSL's that also merges equal constants stored differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import parse_pipeline

from compiler import registry
from compiler.errors import PipelineError

# Graph cleanup and batch-norm folding: the result is still one op per kernel.
# fold-qdq reads the dequantization of weights, which fold-constants folds away.
_LEVEL1 = ["fold-qdq", "fold-constants", "narrow-integer-conv", "remove-identity", "dce", "cse", "fold-batchnorm"]

PIPELINES: dict[int, list[str]] = {
    # Nothing: every op of the import is lowered as it is.
    0: [],
    1: _LEVEL1,
    # Vertical fusion (TVM's rules), then a static arena. Conv padding
    # becomes an explicit graph.pad first, so conv kernels read in bounds.
    # 1x1 NCHW convs over narrow rows run over H*W pixels (before fuse-ops,
    # which then fuses their element-wise users in the flat shape).
    2: [*_LEVEL1, "explicit-padding", "flatten-pointwise-conv", "flatten-batched-matmul", "fuse-ops", "plan-memory"],
    # The blocked layout and horizontal fusion change the ops that fuse-ops
    # groups, so they come before it; fuse-horizontal after convert-layout,
    # since convert-layout does not carry the blocked layout through the
    # slices fuse-horizontal makes. winograd-conv sees the final layouts and
    # pads while it reads (before explicit-padding), and its output transform
    # anchors the conv's epilogue in fuse-ops. Concat elimination needs the groups'
    # results, so it comes after fuse-ops; memory planning sees the final kernels.
    3: [
        *_LEVEL1,
        "convert-layout{layout=NCHW16c}",
        "fuse-horizontal",
        "winograd-conv",
        "explicit-padding",
        "flatten-pointwise-conv",
        "flatten-batched-matmul",
        "fuse-ops",
        "eliminate-concat",
        "plan-memory",
    ],
}

DEFAULT_LEVEL = 3


def _pass_name(spec: str) -> str:
    return spec.split("{", 1)[0].strip()


def _check_level(level: int) -> list[str]:
    if level not in PIPELINES:
        raise PipelineError(
            f"optimization level {level} does not exist",
            hint=f"use one of {', '.join(str(k) for k in sorted(PIPELINES))}",
        )
    return PIPELINES[level]


def _checked_specs(level: int) -> list[str]:
    """The pass specs of `level`; a name that is not a registered pass is a PipelineError."""
    specs = _check_level(level)
    passes = registry.all_passes()
    for spec in specs:
        if _pass_name(spec) not in passes:
            raise PipelineError(
                f"graph-optimize: pass '{_pass_name(spec)}' of level {level} is not registered",
                hint="fix compiler.passes.graph_optimize.PIPELINES",
            )
    return specs


def _target_specs(level: int, u8_dot: bool) -> list[str]:
    """The specs of `level` with the target's options filled in (`u8_dot`: narrow-integer-conv's)."""
    specs = _checked_specs(level)
    if not u8_dot:
        return specs
    return [f"{spec}{{u8-dot=true}}" if spec == "narrow-integer-conv" else spec for spec in specs]


def pipeline_spec(level: int, u8_dot: bool = False) -> str:
    """The `compiler-opt -p` string equivalent to `graph-optimize{level=N u8-dot=...}`."""
    return ",".join(_target_specs(level, u8_dot))


def build_pipeline(level: int, u8_dot: bool = False) -> list[ModulePass]:
    """The passes of `level`, ready to apply in order."""
    passes = registry.all_passes()
    built = []
    for spec in _target_specs(level, u8_dot):
        for arg_spec in parse_pipeline(spec):
            built.append(passes[arg_spec.name]().from_pass_spec(arg_spec))
    return built


def describe_levels() -> str:
    """A few lines listing the passes of each level (for --help and the README)."""
    lines = ["optimization levels (-p 'graph-optimize{level=N}', compiler.compile(opt_level=N)):"]
    for level, specs in sorted(PIPELINES.items()):
        prefix = ""
        if level > 1 and specs[: len(_LEVEL1)] == _LEVEL1:
            prefix, specs = "O1 + ", specs[len(_LEVEL1) :]
        text = prefix + ", ".join(specs) if specs else "(no graph passes)"
        lines.append(f"  O{level}: {text}")
    return "\n".join(lines)


@dataclass(frozen=True)
class GraphOptimizePass(ModulePass):
    """Runs the default graph pipeline of optimization level `level` (0 to 3):

      0: nothing
      1: fold-qdq, fold-constants, narrow-integer-conv, remove-identity, dce, cse, fold-batchnorm
      2: level 1 + explicit-padding, flatten-pointwise-conv,
         flatten-batched-matmul, fuse-ops, plan-memory
      3: level 1 + convert-layout{layout=NCHW16c}, fuse-horizontal,
         winograd-conv, explicit-padding, flatten-pointwise-conv,
         flatten-batched-matmul, fuse-ops, eliminate-concat, plan-memory

    A pass name that is not registered is a PipelineError.

    `u8-dot=true` (set by the driver when the host has VNNI's vpdpbusd)
    runs `narrow-integer-conv{u8-dot=true}`: convs of u8 activations read
    them as ui8 with i8 weights instead of i16 operands.
    """

    name = "graph-optimize"

    level: int = DEFAULT_LEVEL
    u8_dot: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for module_pass in build_pipeline(self.level, self.u8_dot):
            module_pass.apply(ctx, op)
