#!/usr/bin/env python3
"""Inference time of compiled models next to onnxruntime, in one process.

For each model: compile it once with `compiler.compile`, then for each thread
count open an onnxruntime session (`compiler.testing.oracle.ort_session`) with
the same number of intra-op threads, feed both the same seeded inputs, check
that the outputs agree (the project's max relative error), warm both up and
time them in alternating blocks (a few runs of ours, a few of ort, a few of
ort, a few of ours, ...) so that drift in the machine's load hits both alike.
Each block starts after a 50 ms pause and one untimed run: onnxruntime's
worker threads keep spinning for a while after a run, and so do libgomp's,
which would otherwise charge one runtime's idle threads to the other's runs. The table
reports medians.

Nothing here asserts a time: the numbers are for reading (see
benchmarks/README.md). The exit status is 1 only when a model fails to
compile or run, or gives NaN.

    python benchmarks/run.py                       # ten models, 1 thread, O3
    python benchmarks/run.py --models resnet50 bert --threads 1 2 --repeat 30
    python benchmarks/run.py -O 2 --json results.json
    python benchmarks/run.py --models resnet50 --records r.jsonl   # default, tuned and ort
    python benchmarks/run.py --models squeezenet --threads 1 2 --background-load

With `--background-load`, one busy process (a pure spin loop) runs beside
the benchmark from before the first compile to the end, as on a machine that
does other work: it shows how parallel loops degrade when a thread of the
team is descheduled. It is stopped on every exit path.

With `--records` (from `compiler tune`), each model is also compiled with
its tuned schedules and timed in the same alternating blocks: the table
adds the tuned time, tuned/ort, and the default/tuned speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

# Runnable as `python benchmarks/run.py` from a checkout without installing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.testing.models import (  # noqa: E402
    LIGHT_MODELS,
    bert_model_path,
    random_inputs,
    seeded_light_model,
)

BERT = "bert"
DEFAULT_MODELS: tuple[str, ...] = (*LIGHT_MODELS, BERT)


@dataclass
class Result:
    """One (model, thread count) measurement; times in milliseconds."""

    model: str
    threads: int
    opt_level: int
    ours_ms: float | None = None
    ort_ms: float | None = None
    ratio: float | None = None
    max_rel_err: float | None = None
    compile_s: float | None = None
    compile_cached: bool = False
    ours_samples_ms: list[float] = field(default_factory=list)
    ort_samples_ms: list[float] = field(default_factory=list)
    tuned_ms: float | None = None
    tuned_ratio: float | None = None
    tuned_samples_ms: list[float] = field(default_factory=list)
    error: str | None = None


def load_model(name: str, seed: int) -> onnx.ModelProto:
    """A light model with seeded weights, the committed BERT encoder, or an .onnx path."""
    if name in LIGHT_MODELS:
        return seeded_light_model(name, seed)
    if name in (BERT, "bert_tiny"):
        return onnx.load(str(bert_model_path()))
    path = Path(name)
    if path.suffix == ".onnx" and path.is_file():
        return onnx.load(str(path))
    choices = ", ".join(DEFAULT_MODELS)
    raise SystemExit(
        f"run.py: unknown model {name!r}; use one of {choices}, or a path to an .onnx file"
    )


BLOCK = 5
IDLE_S = 0.05


def time_alternating(fns: Sequence[Callable[[], object]], warmup: int, repeat: int) -> list[list[float]]:
    """Seconds per call of each: `repeat` timed calls each, in alternating blocks
    (the order reversed every other block)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for i in range(-(-repeat // BLOCK)):
        order = list(zip(fns, times, strict=True))
        if i % 2:
            order = order[::-1]
        for fn, samples in order:
            time.sleep(IDLE_S)  # the other runtime's workers stop spinning
            fn()  # and this one's wake up
            for _ in range(min(BLOCK, repeat - i * BLOCK)):
                start = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - start)
    return times


def max_error(ours: Sequence[np.ndarray], theirs: Sequence[np.ndarray]) -> float:
    from compiler.testing.oracle import max_rel_error

    if len(ours) != len(theirs):
        return float("inf")
    errors = [
        max_rel_error(np.asarray(a), np.asarray(b)) for a, b in zip(ours, theirs, strict=True)
    ]
    if any(math.isnan(e) for e in errors):
        return float("nan")
    return max(errors, default=0.0)


def bench_model(name: str, args: argparse.Namespace) -> list[Result]:
    import compiler
    from compiler.driver import CompileStats
    from compiler.testing.oracle import ort_session

    model = load_model(name, args.seed)
    feeds = random_inputs(model, seed=args.seed)
    results = [Result(name, n, args.opt_level) for n in args.threads]
    stats = CompileStats()
    start = time.perf_counter()
    tuned = None
    try:
        compiled = compiler.compile(
            model, opt_level=args.opt_level, cache=not args.no_cache, stats=stats
        )
        if args.records:
            # Records are per thread count: one tuned build per count.
            tuned = {
                n: compiler.compile(
                    model, opt_level=args.opt_level, cache=not args.no_cache, records=args.records, num_threads=n
                )
                for n in args.threads
            }
    except Exception as err:  # report and go on with the next model
        for r in results:
            r.error = f"compile: {type(err).__name__}: {err}".splitlines()[0]
        if args.verbose:
            traceback.print_exc()
        return results
    compile_s = time.perf_counter() - start
    for r in results:
        r.compile_s = compile_s
        r.compile_cached = "cache" in stats.seconds
    for r in results:
        try:
            compiled.set_num_threads(r.threads)
            measure(r, compiled, ort_session(model, num_threads=r.threads), feeds, args, tuned and tuned[r.threads])
        except Exception as err:
            r.error = f"run: {type(err).__name__}: {err}".splitlines()[0]
            if args.verbose:
                traceback.print_exc()
    return results


def measure(
    r: Result,
    compiled: Any,
    session: Any,
    feeds: dict[str, np.ndarray],
    args: argparse.Namespace,
    tuned: Any = None,
) -> None:
    """Fills `r` with the error of ours against onnxruntime and the medians."""
    expected = session.run(None, feeds)
    r.max_rel_err = max_error(compiled.run(None, feeds), expected)
    fns: list[Callable[[], object]] = [lambda: compiled.run(None, feeds), lambda: session.run(None, feeds)]
    if tuned is not None:
        r.max_rel_err = max(r.max_rel_err, max_error(tuned.run(None, feeds), expected))
        fns.append(lambda: tuned.run(None, feeds))
    t_ours, t_ort, *t_tuned = time_alternating(fns, args.warmup, args.repeat)
    if t_tuned:
        r.tuned_samples_ms = [t * 1e3 for t in t_tuned[0]]
        r.tuned_ms = statistics.median(r.tuned_samples_ms)
    r.ours_samples_ms = [t * 1e3 for t in t_ours]
    r.ort_samples_ms = [t * 1e3 for t in t_ort]
    r.ours_ms = statistics.median(r.ours_samples_ms)
    r.ort_ms = statistics.median(r.ort_samples_ms)
    r.ratio = r.ours_ms / r.ort_ms if r.ort_ms > 0 else float("inf")
    if r.tuned_ms is not None:
        r.tuned_ratio = r.tuned_ms / r.ort_ms if r.ort_ms > 0 else float("inf")


# -- output -------------------------------------------------------------------

COLUMNS = ("model", "threads", "ours ms", "ort ms", "ours/ort", "max rel err", "compile s")
WIDTHS = (14, 7, 10, 10, 9, 11, 12)


def _fmt_row(cells: Sequence[str]) -> str:
    first = f"{cells[0]:<{WIDTHS[0]}}"
    rest = [f"{c:>{w}}" for c, w in zip(cells[1:], WIDTHS[1:], strict=True)]
    return "  ".join([first, *rest])


TUNED_COLUMNS = ("tuned ms", "tuned/ort", "speed-up")
TUNED_WIDTHS = (10, 9, 8)


def _tuned_cells(r: Result) -> str:
    """The tuned columns (with --records): time, ratio to ort, default/tuned."""
    if r.tuned_ms is None or r.ours_ms is None or r.tuned_ratio is None:
        return ""
    cells = (f"{r.tuned_ms:.2f}", f"{r.tuned_ratio:.2f}", f"{r.ours_ms / r.tuned_ms:.2f}x")
    return "  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, TUNED_WIDTHS, strict=True))


def format_result(r: Result) -> str:
    if r.error is not None:
        return _fmt_row([r.model, str(r.threads), "-", "-", "-", "-", "-"]) + f"  FAILED {r.error}"
    assert r.ours_ms is not None and r.ort_ms is not None and r.ratio is not None
    err = "nan" if r.max_rel_err is None or math.isnan(r.max_rel_err) else f"{r.max_rel_err:.1e}"
    compiled = (
        "-"
        if r.compile_s is None
        else f"{r.compile_s:.1f}" + (" (cache)" if r.compile_cached else "")
    )
    return _fmt_row(
        [
            r.model,
            str(r.threads),
            f"{r.ours_ms:.2f}",
            f"{r.ort_ms:.2f}",
            f"{r.ratio:.2f}",
            err,
            compiled,
        ]
    ) + _tuned_cells(r)


def summary(results: Sequence[Result], threads: Sequence[int]) -> list[str]:
    """Geometric mean of the ratios per thread count (the models that ran)."""
    lines = []
    for n in threads:
        ratios = [
            r.ratio for r in results if r.threads == n and r.ratio is not None and r.ratio > 0
        ]
        if ratios:
            geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
            lines.append(
                f"geometric mean ours/ort, {n} thread{'s' if n > 1 else ''}: {geo:.2f} over {len(ratios)} models"
            )
        tuned = [r.tuned_ratio for r in results if r.threads == n and r.tuned_ratio and r.tuned_ratio > 0]
        if tuned:
            geo = math.exp(sum(math.log(x) for x in tuned) / len(tuned))
            lines.append(f"geometric mean tuned/ort, {n} thread{'s' if n > 1 else ''}: {geo:.2f} over {len(tuned)} models")
    return lines


def environment() -> dict[str, Any]:
    import onnxruntime

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "loadavg_start": list(load) if load else None,
    }


SPIN = "while True: pass"
"""The busy process's program: a pure spin loop (no imports, no memory traffic)."""


@contextlib.contextmanager
def background_load(enabled: bool) -> Any:
    """One busy process for the duration of the block (none when not `enabled`).

    The child is terminated on every way out of the block (an error, Ctrl-C,
    SystemExit).
    """
    if not enabled:
        yield None
        return
    process = subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"background load stopped (pid {process.pid})", flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time compiled models against onnxruntime on the same inputs and thread count.",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(DEFAULT_MODELS),
        metavar="NAME",
        help=f"models to run (default: all of {', '.join(DEFAULT_MODELS)}); "
        "commas work too; an .onnx path is accepted",
    )
    parser.add_argument(
        "--threads",
        nargs="+",
        type=int,
        default=[1],
        choices=[1, 2],
        help="thread counts (default: 1)",
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed runs of each side (default: 20)"
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="untimed runs of each side first (default: 3)"
    )
    parser.add_argument(
        "-O",
        dest="opt_level",
        type=int,
        default=3,
        choices=[0, 1, 2, 3],
        help="opt level (default: 3)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the weights and inputs (default: 0)"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="compile without the on-disk model/object cache"
    )
    parser.add_argument(
        "--json", type=Path, metavar="OUT", help="also write every result (and all samples) as JSON"
    )
    parser.add_argument(
        "--records", metavar="R.jsonl",
        help="tuning records (compiler tune): also time the tuned model, beside default and ort",
    )
    parser.add_argument(
        "--background-load",
        action="store_true",
        help="run one busy process (a spin loop) beside the benchmark, as on a shared machine",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of failures")
    args = parser.parse_args(argv)
    args.models = [m for item in args.models for m in item.split(",") if m]
    args.threads = sorted(set(args.threads))
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for name in args.models:  # fail fast on a typo, before any compile
        if name not in DEFAULT_MODELS and name != "bert_tiny" and not Path(name).is_file():
            load_model(name, args.seed)
    with background_load(args.background_load) as busy:
        return _run(args, busy)


def _run(args: argparse.Namespace, busy: Any) -> int:
    env = environment()
    env["background_load"] = busy is not None
    load = env["loadavg_start"]
    print(
        f"compiler vs onnxruntime {env['onnxruntime']}: -O{args.opt_level}, {args.warmup} warm-up + "
        f"{args.repeat} timed runs each, median; {env['cpus']} CPUs"
        + (f", load average {load[0]:.2f}" if load else "")
        + (f"; background load: 1 busy process (pid {busy.pid})" if busy is not None else "")
    )
    tuned_head = "  " + "  ".join(f"{c:>{w}}" for c, w in zip(TUNED_COLUMNS, TUNED_WIDTHS, strict=True))
    tuned_rule = "  " + "  ".join("-" * w for w in TUNED_WIDTHS)
    print(_fmt_row(COLUMNS) + (tuned_head if args.records else ""))
    print(_fmt_row(["-" * w for w in WIDTHS]) + (tuned_rule if args.records else ""))
    results: list[Result] = []
    for name in args.models:
        for r in bench_model(name, args):
            results.append(r)
            print(format_result(r), flush=True)
    for line in summary(results, args.threads):
        print(line)
    if args.json:
        env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
        payload = {
            "environment": env,
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
        print(f"wrote {args.json}")
    failed = [
        r
        for r in results
        if r.error is not None or (r.max_rel_err is not None and math.isnan(r.max_rel_err))
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
