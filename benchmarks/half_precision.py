"""FP16/BF16 light models: max relative error against FP32 onnxruntime, and
our 16-bit model's time against our FP32 one at one thread. Prints figures,
asserts nothing (minutes per model: not a unit test).

    python benchmarks/half_precision.py squeezenet resnet50 [--onnxconverter]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import compiler
from compiler.testing.models import random_inputs, seeded_light_model
from compiler.testing.oracle import max_rel_error, run_onnxruntime


def _time(model: compiler.CompiledModel, feeds: dict[str, np.ndarray], repeat: int = 10) -> float:
    model.run(None, feeds)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        model.run(None, feeds)
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument(
        "--onnxconverter", action="store_true", help="also onnxconverter-common's fp16 model"
    )
    args = parser.parse_args()
    for name in args.models:
        model = seeded_light_model(name)
        feeds = random_inputs(model, seed=0)
        want = run_onnxruntime(model, feeds)
        variants = [("fp32", model, "fp32"), ("fp16", model, "fp16"), ("bf16", model, "bf16")]
        if args.onnxconverter:
            from onnxconverter_common import float16

            variants.append(
                (
                    "fp16-onnxconverter",
                    float16.convert_float_to_float16(model, keep_io_types=True),
                    "fp32",
                )
            )
        base = None
        for label, m, precision in variants:
            compiled = compiler.compile(m, precision=precision, num_threads=1, cache=False)
            got = compiled.run(None, feeds)
            err = max(
                max_rel_error(g.astype(np.float32), w) for g, w in zip(got, want, strict=True)
            )
            ms = _time(compiled, feeds)
            base = base or ms
            print(
                f"{name:12s} {label:20s} max_rel_err={err:.2e}  {ms:8.2f} ms (1 thread)  x{base / ms:.2f} vs fp32",
                flush=True,
            )


if __name__ == "__main__":
    main()
