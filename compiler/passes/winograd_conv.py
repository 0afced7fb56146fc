"""`winograd-conv{mode=auto}`: 3x3 stride-1 convolutions as Winograd F(m x m, 3 x 3).

    conv(x, w, b)  ->  winograd_output(matmul(winograd_input(x), U), b)
                       U = G w G^T, folded here: a [alpha^2, C, K] constant

Three kernels (compiler/dialects/winograd.py has the math):

- `graph.winograd_input`: V = B^T d B per (m+2) x (m+2) input tile, padding
  read as 0, [alpha^2, tiles, C];
- `graph.matmul`: alpha^2 independent GEMMs M[xi] = V[xi] . U[xi] of
  [tiles, C] x [C, K], which the matmul compute definition and its schedule
  rule run as any batched matmul (register tiles over K, threads over xi);
- `graph.winograd_output`: Y = A^T M A per tile, plus the bias; complex-out
  fusable, so `fuse-ops` fuses the conv's epilogue (ReLU, residual add) into it.

Why a graph rewrite and not a knob of the conv's loop-level schedule: the
weight transform changes a constant operand's shape and values, V and M are
tensors that `plan-memory` must place in the arena, and the GEMM should be a
kernel of its own so that its schedule, workload key and tuning records are
matmul's. All of that exists only at graph level, before `fuse-ops` and
`plan-memory`. The choice is therefore a rule here (`choose_tile`, from the
channels and the output size), with `mode` as its override: `auto` (the
rule), `off`, `f2` or `f4` (every eligible conv). It runs after
`convert-layout`, so both transforms read and write the blocked layout the
conv had, and before `explicit-padding`, so that the input transform pads
while it reads instead of a copy doing it.

Eligible: float32, 3x3 weight that is a constant, strides 1, dilations 1,
group 1. Everything else stays a direct convolution.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from compiler.dialects import graph as g
from compiler.dialects import layouts, winograd
from compiler.dynamic_threads import usable_cpus
from compiler.errors import PipelineError
from compiler.ir_walk import ops_of_type

MODES = ("auto", "off", "f2", "f4")


def choose_tile(channels_in: int, channels_out: int, oh: int, ow: int, blocked: bool = True) -> int:
    """The default rule: the Winograd tile m for a conv (0: direct).

    Derived from benchmarks/winograd.py (single-conv models, direct vs F2 vs
    F4 timed in interleaved rounds in one process, 1 thread, on a shared
    2-core AVX2 Zen 3): Winograd only where it won by more than 15% in every
    run. The transforms cost per tile about C + K, the GEMM saves about
    C x K; the tiles' ragged edges and the small GEMMs of small images cost
    the rest. F4 (36 products per 16 outputs) beat F2 (16 per 4) wherever
    the image has 13 or more rows and columns; at 7x7 (the 4x4 tiles waste
    a third of their outputs) F2 won for 512 channels. 128 -> 32 channels at
    14x14 gained nothing. The measurements ran on blocked (NCHW16c) convs:
    a plain-NCHW conv's transforms read and write across channels with
    scalar gathers, so it stays direct.

    Time over direct, F2 / F4, two runs at 1 thread (2026-12-03, load ~9):
    ResNet-50 64@56 1.10/0.78, 1.17/0.73; 128@28 0.48/0.31, 0.80/0.47;
    256@14 0.64/0.66, 0.60/0.53; 512@7 0.66/0.66, 0.67/0.80. VGG-19 (one
    run) 0.29 to 0.68 for F4 on every 3x3 conv from 64@224 to 512@14.
    SqueezeNet 16->64@55 1.48/0.76, 32->128@27 0.80/0.50, 64->256@13
    0.66/0.55; DenseNet 128->32@56 1.22/0.70, @14 0.85/0.98; Inception
    96->128@28 0.66/0.52, 32->64@28 0.90/0.62; AlexNet 256->384@13 0.68/0.61.
    At 2 threads under the same load the gains were smaller or gone (F4:
    ResNet-50 1.01, 1.15, 0.68, 0.96; SqueezeNet 1.09, 1.03, 1.73): three
    parallel kernels wait at three barriers where the direct conv waits at one.
    """
    if not blocked:
        return 0
    narrow, size = min(channels_in, channels_out), min(oh, ow)
    if (narrow >= 64 and size >= 13) or (narrow >= 16 and size >= 27):
        return 4
    if narrow >= 256 and size >= 7:
        return 2
    return 0


def eligible(op: g.ConvOp) -> bool:
    """A float32 3x3 stride-1, dilation-1, single-group conv with a constant weight."""
    if isinstance(op.parent_op(), g.FusedOp) or not isinstance(op.weight.owner, g.ConstantOp):
        return False
    if not isinstance(g.elem_of(op.result), Float32Type):
        return False
    ki, ko = layouts.kernel_blocks(_prop(op, "kernel_layout", layouts.OIHW))
    logical = layouts.kernel_logical_shape(g.shape_of(op.weight), ki, ko)
    return (
        tuple(logical[2:]) == (3, 3)
        and tuple(op.ints("strides")) == (1, 1)
        and tuple(op.ints("dilations")) == (1, 1)
        and op.int_prop("group") == 1
    )


def _prop(op: g.ConvOp, name: str, default: str) -> str:
    attr = op.properties.get(name)
    return attr.data if isinstance(attr, StringAttr) else default


def tile_of(op: g.ConvOp, mode: str) -> int:
    """The Winograd tile m that `mode` gives this conv (0: it stays direct)."""
    if not eligible(op):
        return 0
    in_layout = _prop(op, "data_layout", layouts.NCHW)
    out_layout = _prop(op, "out_layout", layouts.NCHW)
    _, k, oh, ow = layouts.data_logical_shape(g.shape_of(op.result), layouts.data_block(out_layout))
    c = layouts.data_logical_shape(g.shape_of(op.input), layouts.data_block(in_layout))[1]
    blocked = bool(layouts.data_block(in_layout) and layouts.data_block(out_layout))
    return {"f2": 2, "f4": 4}.get(mode) or choose_tile(c, k, oh, ow, blocked)


def transformed_weight(op: g.ConvOp, m: int) -> np.ndarray:
    """U of the conv's constant weight (`winograd.transform_weight`), from its kernel layout."""
    const = op.weight.owner
    assert isinstance(const, g.ConstantOp)
    ki, ko = layouts.kernel_blocks(_prop(op, "kernel_layout", layouts.OIHW))
    return winograd.transform_weight(layouts.unpack_kernel(const.to_numpy(), ki, ko), m)


def transform_weights(ops: list[tuple[g.ConvOp, int]]) -> dict[g.ConvOp, tuple[int, np.ndarray]]:
    """Each conv's tile m and transformed weight U, on a thread per core: NumPy
    releases the GIL in these loops, and nothing else runs while graph-optimize
    does (on ResNet-50's 13 Winograd convs, 0.45 s serial on 2 cores)."""
    workers = min(len(ops), usable_cpus())
    if workers <= 1:
        weights = [transformed_weight(op, m) for op, m in ops]
    else:
        with ThreadPoolExecutor(workers) as pool:
            weights = list(pool.map(lambda job: transformed_weight(*job), ops))
    return {op: (m, u) for (op, m), u in zip(ops, weights, strict=True)}


@dataclass
class WinogradConv(RewritePattern):
    """conv -> winograd_output(matmul(winograd_input(x), U), b) for the convs of
    `plan`, with their tile m and U (`transform_weights`)."""

    plan: dict[g.ConvOp, tuple[int, np.ndarray]]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: g.ConvOp, rewriter: PatternRewriter) -> None:
        if op not in self.plan:
            return
        m, weight = self.plan.pop(op)
        in_layout = _prop(op, "data_layout", layouts.NCHW)
        out_layout = _prop(op, "out_layout", layouts.NCHW)
        n, _, oh, ow = layouts.data_logical_shape(g.shape_of(op.result), layouts.data_block(out_layout))
        u = g.ConstantOp.from_numpy(weight, g.elem_of(op.result))
        v = g.WinogradInputOp.make([op.input], tile=m, pads=list(op.ints("pads")), layout=_layout_or_none(in_layout))
        gemm = g.MatMulOp.make([v.result, u.result])
        operands = [gemm.result] + ([op.bias] if op.bias is not None else [])
        y = g.WinogradOutputOp.make(operands, tile=m, output=[n, oh, ow], layout=_layout_or_none(out_layout))
        y.attributes.update(op.attributes)
        rewriter.replace(op, [u, v, gemm, y], [y.result])


def _layout_or_none(layout: str) -> str | None:
    return None if layout == layouts.NCHW else layout


@dataclass(frozen=True)
class WinogradConvPass(ModulePass):
    """Rewrite eligible 3x3 stride-1 convs as Winograd transforms around a batched GEMM.

    `mode`: `auto` (the default rule, `choose_tile`), `off`, `f2` or `f4`.
    """

    name = "winograd-conv"

    mode: str = "auto"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.mode not in MODES:
            raise PipelineError(f"winograd-conv: mode '{self.mode}' does not exist", hint=f"use one of {', '.join(MODES)}")
        if self.mode == "off":
            return
        convs = [(conv, m) for conv in ops_of_type(op, g.ConvOp) if (m := tile_of(conv, self.mode))]
        pattern = WinogradConv(transform_weights(convs))
        PatternRewriteWalker(pattern, apply_recursively=False).rewrite_module(op)
