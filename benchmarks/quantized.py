"""Models quantized by onnxruntime's tools, ours vs onnxruntime at 1 thread.

    python benchmarks/quantized.py [--model resnet50] [--runs 10]

quantize_static (QDQ, 8 seeded calibration inputs) of a seeded light model and
quantize_dynamic of tests/models/bert_tiny.onnx (default, and reduce_range,
where onnxruntime's AVX2 u8s8 kernels do not saturate). Prints the count of
output elements that differ from onnxruntime's, the largest difference in
output quantization steps (QDQ) or relative to the output (dynamic), and the
best-of-N times. Ratios only: it asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnxruntime import quantization

import compiler
from compiler.testing import models, oracle


class _Reader(quantization.CalibrationDataReader):
    def __init__(self, model: onnx.ModelProto, count: int):
        self._feeds = iter([models.random_inputs(model, seed=100 + s) for s in range(count)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def _step(model: onnx.ModelProto) -> float:
    producer = {o: n for n in model.graph.node for o in n.output}
    node = producer.get(model.graph.output[0].name)
    while node is not None and node.op_type != "DequantizeLinear":
        node = producer.get(node.input[0])
    if node is None:
        return 0.0
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    return float(np.max(inits[node.input[1]]))


def compare(label: str, model: onnx.ModelProto, runs: int, fp32: onnx.ModelProto | None = None) -> None:
    feeds = models.random_inputs(model, seed=7)
    start = time.perf_counter()
    compiled = compiler.compile(model, opt_level=3)
    build_s = time.perf_counter() - start
    compiled.set_num_threads(1)
    session = oracle.ort_session(model, num_threads=1)
    got = [np.asarray(g) for g in compiled.run(None, feeds)]
    want = session.run(None, feeds)
    step = _step(model)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
        differing = int(np.sum(diff > 1e-6 * max(1.0, float(np.max(np.abs(w))))))
        size = f"{float(np.max(diff)) / step:.3g} steps" if step else f"rel {oracle.max_rel_error(g, w):.3g}"
        print(f"{label} output {i}: {differing} of {g.size} elements differ from onnxruntime, max {size}")
    timed: dict[str, Callable[[], object]] = {
        "ours": lambda: compiled.run(None, feeds),
        "onnxruntime": lambda: session.run(None, feeds),
    }
    if fp32 is not None:
        ours_fp32 = compiler.compile(fp32, opt_level=3)
        ours_fp32.set_num_threads(1)
        fp32_feeds = models.random_inputs(fp32, seed=7)
        timed["ours FP32"] = lambda: ours_fp32.run(None, fp32_feeds)
    ms = _interleaved_best_ms(timed, runs)
    print(f"{label}: ours {ms['ours']:.2f} ms, onnxruntime {ms['onnxruntime']:.2f} ms "
          f"(ratio {ms['ours'] / ms['onnxruntime']:.2f}), compile {build_s:.0f} s")
    if fp32 is not None:
        print(f"{label}: ours INT8 {ms['ours']:.2f} ms, ours FP32 {ms['ours FP32']:.2f} ms "
              f"(INT8 / FP32 {ms['ours'] / ms['ours FP32']:.2f})")


def _interleaved_best_ms(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Best-of-`runs` times, the candidates taking turns (a shared machine's load hits them alike)."""
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - start) * 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50", choices=models.LIGHT_MODELS)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-static", action="store_true")
    parser.add_argument("--skip-dynamic", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if not args.skip_static:
            fp32 = models.seeded_light_model(args.model)
            onnx.save(fp32, str(d / "fp32.onnx"))
            quantization.quantize_static(str(d / "fp32.onnx"), str(d / "qdq.onnx"), _Reader(fp32, 8))
            compare(f"quantize_static {args.model}", onnx.load(str(d / "qdq.onnx")), args.runs, fp32)
        if args.skip_dynamic:
            return
        bert = str(models.bert_model_path())
        for label, options in (("", {}), (" reduce_range", {"reduce_range": True})):
            quantization.quantize_dynamic(bert, str(d / "dyn.onnx"), **options)
            compare(f"quantize_dynamic bert_tiny{label}", onnx.load(str(d / "dyn.onnx")), args.runs)


if __name__ == "__main__":
    main()
