"""`compiler.quantize` on the light ResNet-50: INT8 accuracy against FP32, and speed at 1 thread.

    python benchmarks/quantize_accuracy.py [--model resnet50] [--calibration 32] [--held-out 256]
                                           [--method minmax|percentile|entropy] [--runs 5]

Seeded weights (`models.seeded_light_model`), seeded calibration inputs
(seeds 1000..) and other seeded held-out inputs (seeds 5000..). It quantizes
with `compiler.quantize` (QDQ, int8 per-channel weights), prints the
per-layer SQNR report, compiles FP32 and INT8 with `compiler.compile` (-O3),
and on the held-out inputs prints the top-1 agreement of our INT8 and of
onnxruntime's run of the same QDQ model with FP32, the SQNR of the output,
and how far our INT8 output is from onnxruntime's (the output, a float softmax
after the float classifier, carries every intermediate off-by-one rounding
difference). Then best-of-N times at
1 thread: our FP32, our INT8 and onnxruntime on the QDQ model (and on FP32).

Seeded random weights make a weak classifier: the FP32 top-1 class may be the
same for most or all inputs (the script prints how many distinct classes FP32
picks and the median gap between its top two log-probabilities), and then
top-1 agreement says little; the output SQNR is the finer measure. Both are
printed as measured. The script asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import compiler
from compiler.quantization.report import sqnr_db
from compiler.testing import models, oracle


def _best_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50", choices=models.LIGHT_MODELS)
    parser.add_argument("--calibration", type=int, default=32, help="calibration inputs (default 32)")
    parser.add_argument("--held-out", type=int, default=256, help="held-out inputs (default 256)")
    parser.add_argument("--method", default="minmax", choices=("minmax", "percentile", "entropy"))
    parser.add_argument("--percentile", type=float, default=99.99)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side (best of)")
    args = parser.parse_args()

    fp32 = models.seeded_light_model(args.model)
    calibration = [models.random_inputs(fp32, seed=1000 + s) for s in range(args.calibration)]
    start = time.perf_counter()
    result = compiler.quantize(fp32, calibration, method=args.method, percentile=args.percentile)
    print(result.report())
    print(f"quantize: {args.calibration} calibration inputs, {args.method}, {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    ours_fp32 = compiler.compile(fp32, opt_level=3)
    mid = time.perf_counter()
    ours_int8 = compiler.compile(result.model, opt_level=3)
    print(f"compile: FP32 {mid - start:.1f} s, INT8 {time.perf_counter() - mid:.1f} s")
    for compiled in (ours_fp32, ours_int8):
        compiled.set_num_threads(1)
    ort_qdq = oracle.ort_session(result.model, num_threads=1)
    ort_fp32 = oracle.ort_session(fp32, num_threads=1)

    agree = agree_ort = agree_both = 0
    classes: list[int] = []
    margins: list[float] = []
    worst = 0.0
    ref_all, int8_all = [], []
    for s in range(args.held_out):
        feeds = models.random_inputs(fp32, seed=5000 + s)
        want = np.asarray(ours_fp32.run(None, feeds)[0])
        got = np.asarray(ours_int8.run(None, feeds)[0])
        theirs = ort_qdq.run(None, feeds)[0]
        agree += int(np.argmax(got) == np.argmax(want))
        classes.append(int(np.argmax(want)))
        top2 = np.sort(np.log(np.maximum(want.reshape(-1), 1e-30)))[-2:]
        margins.append(float(top2[1] - top2[0]))
        agree_ort += int(np.argmax(theirs) == np.argmax(want))
        agree_both += int(np.argmax(got) == np.argmax(theirs))
        worst = max(worst, oracle.max_rel_error(got, theirs))
        ref_all.append(want)
        int8_all.append(got)
    n = args.held_out
    print(f"top-1 agreement with FP32 on {n} held-out inputs: ours INT8 {agree}/{n} ({100 * agree / n:.1f}%), "
          f"onnxruntime on the same QDQ model {agree_ort}/{n} ({100 * agree_ort / n:.1f}%)")
    print(f"FP32 top-1 over the {n} inputs: {len(set(classes))} distinct classes, the most common on "
          f"{max(np.bincount(classes))}; median log-margin top-1 - top-2 {float(np.median(margins)):.3f}")
    print(f"output SQNR of our INT8 vs FP32: {sqnr_db(np.stack(ref_all), np.stack(int8_all)):.2f} dB; "
          f"ours INT8 vs onnxruntime QDQ: same top-1 on {agree_both}/{n}, max rel error {worst:.3g}")

    # onnxruntime's fused int8 kernels saturate pairs of u8 x s8 products at int16 on hosts
    # without VNNI; its unfused QDQ graph (float DequantizeLinear -> op -> QuantizeLinear) does not.
    unfused = oracle.ort_session(result.model, num_threads=1, optimize=False)
    checked = min(8, n)
    exact = max(
        oracle.max_rel_error(np.asarray(ours_int8.run(None, f)[0]), unfused.run(None, f)[0])
        for f in (models.random_inputs(fp32, seed=5000 + s) for s in range(checked))
    )
    print(f"ours INT8 vs onnxruntime's unfused QDQ graph on {checked} inputs: max rel error {exact:.3g}")

    feeds = models.random_inputs(fp32, seed=5000)
    t_fp32 = _best_ms(lambda: ours_fp32.run(None, feeds), args.runs)
    t_int8 = _best_ms(lambda: ours_int8.run(None, feeds), args.runs)
    t_ort_qdq = _best_ms(lambda: ort_qdq.run(None, feeds), args.runs)
    t_ort_fp32 = _best_ms(lambda: ort_fp32.run(None, feeds), args.runs)
    print(f"1 thread, best of {args.runs}: ours FP32 {t_fp32:.1f} ms, ours INT8 {t_int8:.1f} ms "
          f"(INT8/FP32 {t_int8 / t_fp32:.2f}); onnxruntime QDQ {t_ort_qdq:.1f} ms (ours INT8/ort QDQ "
          f"{t_int8 / t_ort_qdq:.2f}), onnxruntime FP32 {t_ort_fp32:.1f} ms")


if __name__ == "__main__":
    main()
