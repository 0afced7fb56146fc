"""FP16/BF16 light models: max relative error against FP32 onnxruntime, and
our 16-bit model's time against our FP32 one at one thread. Prints figures,
asserts nothing (minutes per model: not a unit test).

    python benchmarks/half_precision.py squeezenet resnet50 bert [--onnxconverter] [--precisions bf16] [--weight-floor]

A name is a light model (seeded weights), `bert` (the committed BERT-like
encoder) or a path to an .onnx file.

`--weight-floor` also prints, per 16-bit precision, the error of onnxruntime
itself computing in f32 on the model with every float weight rounded to that
type: the error that 16-bit weights alone cost, whatever the kernels do.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ml_dtypes
import numpy as np
import onnx
import onnx.numpy_helper

# Runnable as `python benchmarks/half_precision.py` from a checkout without installing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import load_model  # noqa: E402  (benchmarks/run.py, beside this script)

import compiler  # noqa: E402
from compiler.testing.models import random_inputs  # noqa: E402
from compiler.testing.oracle import max_rel_error, ort_session, run_onnxruntime  # noqa: E402


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
    parser.add_argument(
        "--precisions", default="fp32,fp16,bf16", help="comma-separated subset of fp32,fp16,bf16 (default: all)"
    )
    parser.add_argument(
        "--weight-floor", action="store_true", help="also onnxruntime's error with the weights rounded to 16 bits"
    )
    args = parser.parse_args()
    chosen = set(args.precisions.split(","))
    exit_code = 0
    for name in args.models:
        model = load_model(name, seed=0)
        feeds = random_inputs(model, seed=0)
        want = run_onnxruntime(model, feeds)
        variants = [(p, model, p) for p in ("fp32", "fp16", "bf16") if p in chosen]
        if args.onnxconverter:
            from onnxconverter_common import float16

            variants.append(
                (
                    "fp16-onnxconverter",
                    float16.convert_float_to_float16(model, keep_io_types=True),
                    "fp32",
                )
            )
        if args.weight_floor:
            for precision in sorted(chosen & set(HALF)):
                got = run_onnxruntime(_weights_rounded(model, HALF[precision]), feeds)
                err = max(max_rel_error(g, w) for g, w in zip(got, want, strict=True))
                label = f"ort {precision} weights"
                print(f"{name:12s} {label:20s} max_rel_err={err:.2e}  (f32 compute)", flush=True)
        base = None
        failed = False
        for label, m, precision in variants:
            try:
                compiled = compiler.compile(m, precision=precision, num_threads=1, cache=False)
            except compiler.CompilerError as err:
                # onnxconverter-common can write invalid models (a Cast whose
                # output type it changed); say whether onnxruntime takes it.
                verdict = _ort_verdict(m)
                print(f"{name:12s} {label:20s} does not compile: {err} ({verdict})", flush=True)
                failed = failed or verdict == ORT_RUNS_IT
                continue
            got = compiled.run(None, feeds)
            err = max(
                max_rel_error(g.astype(np.float32), w) for g, w in zip(got, want, strict=True)
            )
            ms = _time(compiled, feeds)
            base = ms if label == "fp32" else base
            speed = f"  x{base / ms:.2f} vs fp32" if base else ""
            print(
                f"{name:12s} {label:20s} max_rel_err={err:.2e}  {ms:8.2f} ms (1 thread){speed}",
                flush=True,
            )
        exit_code = exit_code or int(failed)
    sys.exit(exit_code)


HALF = {"fp16": np.dtype(np.float16), "bf16": np.dtype(ml_dtypes.bfloat16)}


def _weights_rounded(model: onnx.ModelProto, dtype: np.dtype) -> onnx.ModelProto:
    """A copy of `model` whose float initializers are rounded to `dtype` (and kept f32)."""
    rounded = onnx.ModelProto()
    rounded.CopyFrom(model)
    for tensor in rounded.graph.initializer:
        if tensor.data_type == onnx.TensorProto.FLOAT:
            array = onnx.numpy_helper.to_array(tensor).astype(dtype).astype(np.float32)
            tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))
    return rounded


ORT_RUNS_IT = "onnxruntime runs it"


def _ort_verdict(model: onnx.ModelProto) -> str:
    try:
        ort_session(model, 1)
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own Fail types
        return f"onnxruntime rejects it too: {str(err).splitlines()[0][:160]}"
    return ORT_RUNS_IT

if __name__ == "__main__":
    main()
