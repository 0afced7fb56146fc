#!/usr/bin/env python3
"""Direct vs Winograd F(2x2,3x3) vs F(4x4,3x3) on the 3x3 stride-1 convs of ResNet-50 and VGG-19.

Each conv (batch 1, pad 1, bias + ReLU, seeded weights) is compiled alone at
O3 three times, with `winograd-conv{mode=off|f2|f4}`, and the three
compiled models are timed in one process, in interleaved rounds (so a
neighbour's load hits all three alike); the figure is the median over the
rounds of each round's median. A single-conv model runs just that conv's
kernels: direct = explicit pad + conv, Winograd = input transform + batched
GEMM + output transform. `--profile` adds the Winograd kernels' split.

Nothing asserts a time (see benchmarks/README.md). The rule in
compiler/passes/winograd_conv.py (`choose_tile`) is derived from this table.

    python benchmarks/winograd.py                       # 1 thread, all shapes
    python benchmarks/winograd.py --threads 2 --rounds 5 --only resnet50
    python benchmarks/winograd.py --numerics resnet50 vgg19 squeezenet

`--numerics` instead compiles whole seeded light models at O3 with every
eligible conv forced to F2, then F4 (and with the default rule), and prints
the max relative error against onnxruntime and how many convs use Winograd.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Runnable as `python benchmarks/winograd.py` from a checkout without installing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import compiler  # noqa: E402
from compiler.api import run_pipeline  # noqa: E402
from compiler.passes.graph_optimize import pipeline_spec  # noqa: E402
from compiler.targets.cpu.kernel import time_function  # noqa: E402
from compiler.testing import oracle  # noqa: E402

# (model, in channels, out channels, size): the distinct 3x3 stride-1 convs.
SHAPES = [
    ("resnet50", 64, 64, 56),
    ("resnet50", 128, 128, 28),
    ("resnet50", 256, 256, 14),
    ("resnet50", 512, 512, 7),
    ("vgg19", 64, 64, 224),
    ("vgg19", 64, 128, 112),
    ("vgg19", 128, 128, 112),
    ("vgg19", 128, 256, 56),
    ("vgg19", 256, 256, 56),
    ("vgg19", 256, 512, 28),
    ("vgg19", 512, 512, 28),
    ("vgg19", 512, 512, 14),
    # Narrower convs of the other light models, for the channel bound of the rule.
    ("squeezenet", 16, 64, 55),
    ("squeezenet", 32, 128, 27),
    ("squeezenet", 64, 256, 13),
    ("densenet121", 128, 32, 56),
    ("densenet121", 128, 32, 14),
    ("inception_v1", 96, 128, 28),
    ("inception_v1", 32, 64, 28),
    ("alexnet", 256, 384, 13),
]
MODES = ("off", "f2", "f4")


def conv_model(c: int, k: int, size: int, seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((k, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    b = (0.1 * rng.standard_normal(k)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["y"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, size, size])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, k, size, size])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def compiled(model: onnx.ModelProto, mode: str, threads: int, profile: bool) -> compiler.CompiledModel:
    """The model at O3 with the Winograd choice forced to `mode`."""
    module = compiler.import_onnx(model)
    run_pipeline(module, pipeline_spec(3).replace("winograd-conv", f"winograd-conv{{mode={mode}}}"))
    # The graph passes ran above; O0 adds none, the loop pipeline is the same.
    return compiler.compile(module, opt_level=0, num_threads=threads, cache=False, profile=profile)


def numerics(names: list[str]) -> int:
    """Max relative error vs onnxruntime of whole light models with Winograd forced."""
    from compiler.dialects import graph as g
    from compiler.testing.models import random_inputs, seeded_light_model

    print(f"{'model':13} {'mode':5} {'winograd convs':>14} {'direct 3x3 s1':>13} {'max rel err':>11}")
    for name in names:
        model = seeded_light_model(name)
        feeds = random_inputs(model, seed=0)
        want = oracle.run_onnxruntime(model, feeds)
        for mode in ("auto", "f2", "f4"):
            module = compiler.import_onnx(model)
            run_pipeline(module, pipeline_spec(3).replace("winograd-conv", f"winograd-conv{{mode={mode}}}"))
            count = sum(1 for op in module.walk() if isinstance(op, g.WinogradOutputOp))
            direct = sum(
                1
                for op in module.walk()
                if isinstance(op, g.ConvOp) and tuple(op.ints("strides")) == (1, 1) and op.int_prop("group") == 1
                and g.shape_of(op.weight)[2:4] == (3, 3)
            )
            got = compiler.compile(module, opt_level=0, cache=False).run(None, feeds)
            error = max(oracle.max_rel_error(a, b) for a, b in zip(got, want, strict=True))
            print(f"{name:13} {mode:5} {count:14d} {direct:13d} {error:11.2e}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per shape")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per variant and round")
    parser.add_argument("--min-repeat-ms", type=float, default=30.0)
    parser.add_argument("--only", default="", help="only shapes of these models (comma-separated: resnet50, vgg19, squeezenet, ...)")
    parser.add_argument("--profile", action="store_true", help="print the kernels' split per variant")
    parser.add_argument("--numerics", nargs="*", metavar="MODEL", help="light models to check instead of timing")
    args = parser.parse_args(argv)
    if args.numerics is not None:
        return numerics(args.numerics or ["resnet50", "vgg19", "squeezenet"])
    shapes = [s for s in SHAPES if not args.only or s[0] in args.only.split(",")]
    print(
        f"direct vs Winograd, {args.threads} thread(s), median over {args.rounds} interleaved rounds "
        f"of {args.repeat} x >= {args.min_repeat_ms:g} ms; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'model':12} {'C->K':>9} {'HxW':>7}  {'direct ms':>9} {'F2 ms':>8} {'F4 ms':>8}  {'F2/dir':>6} {'F4/dir':>6}  {'err F2':>7} {'err F4':>7}")
    for name, c, k, size in shapes:
        model = conv_model(c, k, size)
        x = np.random.default_rng(1).standard_normal((1, c, size, size)).astype(np.float32)
        want = oracle.run_onnxruntime(model, {"x": x})[0]
        models = {mode: compiled(model, mode, args.threads, args.profile) for mode in MODES}
        errors = {mode: oracle.max_rel_error(models[mode].run(None, {"x": x})[0], want) for mode in MODES}
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                cm = models[mode]
                costs = time_function(lambda cm=cm, x=x: cm.run(None, {"x": x}), repeat=args.repeat, min_repeat_ms=args.min_repeat_ms)
                times[mode].append(statistics.median(costs))
        ms = {mode: 1e3 * statistics.median(times[mode]) for mode in MODES}
        print(
            f"{name:12} {f'{c}->{k}':>9} {f'{size}x{size}':>7}  {ms['off']:9.3f} {ms['f2']:8.3f} {ms['f4']:8.3f}  "
            f"{ms['f2'] / ms['off']:6.2f} {ms['f4'] / ms['off']:6.2f}  {errors['f2']:7.1e} {errors['f4']:7.1e}",
            flush=True,
        )
        if args.profile:
            for mode in MODES:
                recorder = models[mode].profiler
                if recorder is not None and recorder.runs:
                    runs = recorder.runs
                    split = ", ".join(f"{n} {t / runs:.3f}" for n, t in zip(recorder.kernels, recorder.totals, strict=True))
                    print(f"    {mode}: {split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
