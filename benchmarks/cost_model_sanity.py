#!/usr/bin/env python3
"""Does the tuner's cost model rank schedules it has not seen? A check by hand.

Times 40 schedules of one ResNet-like convolution (64 -> 64 channels, 3x3,
28x28, blocked NCHW16c layout) at 1 thread: the default schedule and
variants of it (register tiles of 1..14 columns with the reduction loops in
a random order, or no register tile at all, vectorized or not). Then trains
`compiler.tuner.cost_model.CostModel` on the features
(`compiler.tuner.features`) of 30 of them and prints the Spearman rank
correlation of its predictions with the measured throughput of the other
10, for one split and over 50 random splits. Nothing is asserted.

    python benchmarks/cost_model_sanity.py          # about a minute
"""

from __future__ import annotations

import itertools
import random
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from scipy.stats import spearmanr
from xdsl.dialects import func

import compiler
from compiler.schedule import Reorder, Schedule, Split, Unroll, Vectorize, build_kernel, time_kernel
from compiler.schedule.rules import algorithm_of, default_schedule
from compiler.schedule.rules.common import tile_row
from compiler.schedule.schedule import kernels
from compiler.schedule.trial import ScheduleBuilder
from compiler.targets.cpu.machine import HostTarget
from compiler.tuner.cost_model import CostModel
from compiler.tuner.features import schedule_features

CHANNELS, SIZE = 64, 28
FLOPS = 2 * CHANNELS * CHANNELS * 9 * SIZE * SIZE


def conv_kernel() -> func.FuncOp:
    w = np.random.default_rng(0).standard_normal((CHANNELS, CHANNELS, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, CHANNELS, SIZE, SIZE])],
        [numpy_helper.from_array(w, "w")],
    )
    module = compiler.import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    compiler.run_pipeline(module, "graph-optimize{level=3},plan-memory,convert-graph-to-loop")
    return next(k for k in kernels(module) if algorithm_of(k) == "conv2d_NCHWc")


def tiled(kernel: func.FuncOp, tile: int, reductions: tuple[str, ...]) -> Schedule:
    b = ScheduleBuilder(kernel)
    tile_row(b, "ow", tile, "oc", list(reductions), vector_axis=False)
    return b.finish()


def untiled(kernel: func.FuncOp, tile: int, reductions: tuple[str, ...], vector: bool) -> Schedule:
    b = ScheduleBuilder(kernel)
    b.attempt(Split("ow", tile))
    b.attempt(Reorder(("ow.outer", *reductions, "ow.inner", "oc")))
    b.attempt(Unroll("ow.inner"))
    if vector:
        b.attempt(Vectorize("oc"))
    return b.finish()


def candidates(kernel: func.FuncOp, target, count: int = 40) -> dict[str, str]:
    rng = random.Random(1)
    out = {default_schedule(kernel, target).to_json(): "default"}
    orders = list(itertools.permutations(["icb", "kh", "kw", "ii"]))
    while len(out) < count:
        tile, order, kind = rng.randint(1, 14), rng.choice(orders), rng.random()
        if kind < 0.75:
            schedule, label = tiled(kernel, tile, order), "tile"
        else:
            schedule, label = untiled(kernel, tile, order, kind < 0.95), "no tile" + ("" if kind < 0.95 else ", scalar")
        out.setdefault(schedule.to_json(), f"{label} {tile} {','.join(order)}")
    return out


def main() -> None:
    kernel = conv_kernel()
    target = HostTarget.detect().schedule_target(threads=1)
    rows = []
    for text, label in candidates(kernel, target).items():
        built = build_kernel(kernel, text, num_threads=1, cache=False)
        cost = min(time_kernel(built, built.random_args(seed=0), repeat=3, min_repeat_ms=20))
        start = time.perf_counter()
        features = schedule_features(kernel, text, target)
        took = time.perf_counter() - start
        rows.append((features, FLOPS / cost))
        print(f"{label:32s} {FLOPS / cost / 1e9:7.1f} GFLOP/s   features {took * 1e3:5.1f} ms", flush=True)
    x = np.stack([f for f, _ in rows])
    y = np.array([t for _, t in rows])
    rhos = []
    for seed in range(50):
        order = np.random.default_rng(seed).permutation(len(y))
        train, test = order[:30], order[30:]
        model = CostModel(seed=0)
        model.fit(x[train], y[train], ["conv"] * len(train))
        rhos.append(spearmanr(model.predict(x[test]), y[test]).statistic)
    print(f"Spearman on 10 held-out schedules (trained on 30): split 0 {rhos[0]:.2f}, "
          f"mean {np.mean(rhos):.2f}, median {np.median(rhos):.2f} over {len(rhos)} splits")


if __name__ == "__main__":
    main()
