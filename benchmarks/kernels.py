#!/usr/bin/env python3
"""Single kernels next to numpy's matmul: GFLOP/s of one conv and one MatMul kernel.

Each kernel is what `compiler.compile` makes of a one-node ONNX model at O3
(`graph-optimize{level=3}`, `plan-memory`, `convert-graph-to-loop`, then the
driver's `default-schedule` for the host), compiled alone with
`compiler.schedule.build_kernel` (which applies the stored schedule) and
timed on seeded random arguments with `compiler.schedule.time_kernel` (one warm-up call, `--repeat` measurements of
at least `--min-repeat-ms` each). Next to it, numpy's matmul (BLAS) on the
same GEMM shape, limited to the same thread count with threadpoolctl and
timed the same way:

    conv    1x64x56x56, 3x3, 64 output channels, pad 1 (NCHW16c at O3);
            numpy: the im2col GEMM, M = OH*OW, K = C*KH*KW, N = OC
    matmul  1x128x384 . 384x1536 (a transformer FFN, constant weight)

Nothing asserts a time (see benchmarks/README.md).

    python benchmarks/kernels.py                 # 1 thread
    python benchmarks/kernels.py --threads 2 --repeat 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from numpy.lib.stride_tricks import sliding_window_view
from onnx import TensorProto, helper, numpy_helper
from threadpoolctl import threadpool_limits

# Runnable as `python benchmarks/kernels.py` from a checkout without installing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import compiler  # noqa: E402
from compiler.dialects.loop import (
    KERNEL_ATTR,  # noqa: E402
    SCHEDULE_ATTR,  # noqa: E402
)
from compiler.driver import loop_pipeline  # noqa: E402
from compiler.passes.graph_optimize import pipeline_spec  # noqa: E402
from compiler.schedule import apply_schedule, build_kernel, time_kernel  # noqa: E402
from compiler.schedule.pack import pack_array, packings  # noqa: E402
from compiler.schedule.schedule import kernels  # noqa: E402
from compiler.targets.cpu.kernel import time_function  # noqa: E402

# O3's graph passes, but the conv stays direct: this benchmark times the
# direct kernel (benchmarks/winograd.py times Winograd against it).
GRAPH_PIPELINE = (
    pipeline_spec(3).replace("winograd-conv", "winograd-conv{mode=off}") + ",convert-graph-to-loop"
)


@dataclass
class Case:
    name: str
    shape: str
    model: onnx.ModelProto
    prefix: str
    """Name prefix of the kernel to take from the compiled model."""
    flops: int
    gemm: tuple[int, int, int]
    """(M, K, N) of the numpy matmul it is compared with."""
    reference: Callable[[list[np.ndarray]], np.ndarray]
    """The kernel's output from its input arguments (float64), for the error column."""


def _model(node: onnx.NodeProto, x: list[int], y: list[int], w: np.ndarray) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def conv_case(rng: np.random.Generator) -> Case:
    c, oc, h, k = 64, 64, 56, 3
    w = rng.standard_normal((oc, c, k, k)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    model = _model(node, [1, c, h, h], [1, oc, h, h], w)
    m, kk, n = h * h, c * k * k, oc
    shape = f"1x{c}x{h}x{h} {k}x{k} ->{oc}"
    return Case("conv", shape, model, "conv", 2 * m * kk * n, (m, kk, n), blocked_conv_reference)


def packed_args(kernel, random: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:  # noqa: ANN001
    """Arguments in the kernel's own layout, and in the layout its schedule runs
    on: a `pack` in the schedule re-lays out a constant operand at compile time,
    so the built kernel takes it packed (as a compiled model passes it)."""
    trial = kernel.clone()
    apply_schedule(trial, trial.attributes[SCHEDULE_ATTR].data)
    packs = packings(trial)
    rng = np.random.default_rng(0)
    logical = []
    for arg, given in zip(kernel.body.block.args, random, strict=True):
        shape = tuple(arg.type.get_shape())
        logical.append(given if given.shape == shape else rng.standard_normal(shape).astype(given.dtype))
    kargs = list(logical)
    for pack in packs:
        kargs[pack.operand] = pack_array(logical[pack.operand], pack.axis, pack.factor)
    return logical, kargs


def blocked_conv_reference(args: list[np.ndarray]) -> np.ndarray:
    """Stride-1 conv in NCHW{c}c on the padded input, weights OIHW{i}i{o}o (the O3 layout)."""
    x, w = args[0].astype(np.float64), args[1].astype(np.float64)
    kh, kw = w.shape[2:4]
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))  # n, icb, oh, ow, ii, kh, kw
    return np.einsum("nchwikl,pcklio->nphwo", windows, w, optimize=True)


def matmul_case(rng: np.random.Generator) -> Case:
    m, kk, n = 128, 384, 1536
    w = rng.standard_normal((kk, n)).astype(np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    model = _model(node, [1, m, kk], [1, m, n], w)
    shape = f"1x{m}x{kk} . {kk}x{n}"
    return Case(
        "matmul",
        shape,
        model,
        "matmul",
        2 * m * kk * n,
        (m, kk, n),
        lambda args: args[0].astype(np.float64) @ args[1].astype(np.float64),
    )


def kernel_of(case: Case):
    module = compiler.import_onnx(case.model)
    compiler.run_pipeline(module, GRAPH_PIPELINE)
    # The driver's default-schedule step (host vector width and registers);
    # build_kernel applies the schedule it stores on the kernel.
    compiler.run_pipeline(module, loop_pipeline()[0])
    found = [
        k
        for k in kernels(module)
        if KERNEL_ATTR in k.attributes and k.sym_name.data.startswith(case.prefix)
    ]
    if len(found) != 1:
        names = ", ".join(k.sym_name.data for k in kernels(module))
        raise SystemExit(f"{case.name}: expected one '{case.prefix}' kernel, got: {names}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides")
    parser.add_argument("--repeat", type=int, default=5, help="measurements per kernel")
    parser.add_argument(
        "--min-repeat-ms", type=float, default=50.0, help="least ms per measurement"
    )
    parser.add_argument("--no-cache", action="store_true", help="bypass the on-disk object cache")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1:
        parser.error("--threads and --repeat must be >= 1")

    load = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    rows = []
    for case in (conv_case(rng), matmul_case(rng)):
        kernel = kernel_of(case)
        built = build_kernel(kernel, num_threads=args.threads, cache=not args.no_cache)
        logical, kargs = packed_args(kernel, built.random_args(seed=0))
        ours = statistics.median(
            time_kernel(built, kargs, repeat=args.repeat, min_repeat_ms=args.min_repeat_ms)
        )
        expected = case.reference(logical[:-1])
        if expected.shape != kargs[-1].shape or not np.isfinite(kargs[-1]).all():
            raise SystemExit(f"{case.name}: wrong output (shape or non-finite values)")
        error = float(np.abs(kargs[-1] - expected).max() / np.abs(expected).max())
        m, kk, n = case.gemm
        a = rng.standard_normal((m, kk)).astype(np.float32)
        b = rng.standard_normal((kk, n)).astype(np.float32)
        c = np.empty((m, n), np.float32)
        with threadpool_limits(limits=args.threads, user_api="blas"):
            theirs = statistics.median(
                time_function(
                    lambda a=a, b=b, c=c: np.matmul(a, b, out=c),
                    repeat=args.repeat,
                    min_repeat_ms=args.min_repeat_ms,
                )
            )
        ours_gf, theirs_gf = case.flops / ours / 1e9, case.flops / theirs / 1e9
        rows.append(
            [
                case.name,
                case.shape,
                "x".join(map(str, (m, kk, n))),
                f"{ours * 1e3:.3f}",
                f"{ours_gf:.1f}",
                f"{theirs * 1e3:.3f}",
                f"{theirs_gf:.1f}",
                f"{ours_gf / theirs_gf:.2f}",
                f"{error:.1e}",
            ]
        )

    header = [
        "kernel",
        "shape",
        "GEMM MxKxN",
        "ours ms",
        "GFLOP/s",
        "numpy ms",
        "numpy GFLOP/s",
        "ours/numpy",
        "max rel err",
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(
        f"single kernels vs numpy matmul: {args.threads} thread(s), median of {args.repeat} "
        f"measurements of >= {args.min_repeat_ms:g} ms; {os.cpu_count()} CPUs, "
        f"load average {load:.2f}"
    )
    for r in [header, *rows]:
        print(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
