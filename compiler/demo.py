"""`make demo`: compile the bundled ResNet-50, run it, check it against onnxruntime.

ResNet-50's architecture ships inside the onnx wheel with placeholder weights;
`compiler.testing.models` substitutes seeded random ones (DESIGN.md). The
demo prints the graph summary after the level-3 graph passes, the compile
time, both runtimes' latencies on the same input and thread count, and the
max relative error.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

import numpy as np


def _summary(model: object) -> str:
    from compiler.api import run_pipeline
    from compiler.dialects import graph as g
    from compiler.frontend.onnx import import_onnx
    from compiler.interpreter import main_function
    from compiler.passes import memory

    module = import_onnx(model)  # type: ignore[arg-type]
    before = sum(1 for _ in main_function(module).body.block.ops) - 1
    run_pipeline(module, "graph-optimize{level=3}")
    fn = main_function(module)
    kinds: collections.Counter[str] = collections.Counter()
    for op in fn.body.block.ops:
        if isinstance(op, g.FusedOp):
            kinds[f"fused ({op.kind.data})"] += 1
        elif not isinstance(op, g.ConstantOp) and op is not fn.body.block.last_op:
            kinds[op.name] += 1
    arena = memory.int_attr_of(fn, memory.ARENA_ATTR) or 0
    naive = memory.int_attr_of(fn, memory.NAIVE_ATTR) or 0
    lines = [f"  ops after import: {before}; kernels after graph-optimize{{level=3}}: {sum(kinds.values())}"]
    lines += [f"    {n:4d} x {k}" for k, n in kinds.most_common()]
    if naive:
        lines.append(f"  arena {arena / 2**20:.1f} MiB for {naive / 2**20:.1f} MiB of intermediates ({arena / naive:.0%})")
    return "\n".join(lines)


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50", help="a light model name (default resnet50)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)

    import compiler
    from compiler.driver import CompileStats
    from compiler.testing.models import random_inputs, seeded_light_model
    from compiler.testing.oracle import max_rel_error, ort_session

    model = seeded_light_model(args.model)
    feeds = random_inputs(model)
    print(f"{args.model} (seeded weights), {args.threads} thread(s)")
    print(_summary(model))
    stats = CompileStats()
    t = time.perf_counter()
    compiled = compiler.compile(model, num_threads=args.threads, stats=stats)
    print(f"  compile: {time.perf_counter() - t:.1f} s "
          + ("(from the model cache)" if "cache" in stats.seconds else "(cold)"))
    session = ort_session(model, num_threads=args.threads)
    ours = compiled.run(None, feeds)
    ref = session.run(None, feeds)
    err = max(max_rel_error(a, b) for a, b in zip(ours, ref, strict=True))
    ours_ms = _median_ms(lambda: compiled.run(None, feeds), args.repeat)
    ort_ms = _median_ms(lambda: session.run(None, feeds), args.repeat)
    print(f"  max relative error vs onnxruntime: {err:.2e}")
    print(f"  latency: compiler {ours_ms:.1f} ms, onnxruntime {ort_ms:.1f} ms (ratio {ours_ms / ort_ms:.2f})")
    top = np.argsort(ours[0].reshape(-1))[-3:][::-1]
    print(f"  top-3 classes: {top.tolist()}")
    return 0 if err <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
