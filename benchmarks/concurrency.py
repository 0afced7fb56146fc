"""Throughput of one compiled model run from N Python threads at once (issue 12).

    python benchmarks/concurrency.py [--model squeezenet] [--threads 2] [--seconds 10]
    python benchmarks/concurrency.py --leak 10000 --model tests/models/detector_head.onnx

Each thread calls `run` in a loop with `num_threads=1`, so the only
parallelism is the callers': the native call releases the GIL and every
concurrent caller computes in its own arena. It prints inferences per
second with 1 and with N threads, and their ratio (N cores: ideally N).
Times depend on what else the machine runs: the 1-minute load average is
printed before and after, and a figure taken under load says little.

`--leak N` runs N inferences in one thread and prints the resident-set
size every N/10 runs: it must stay flat.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
import onnx

import compiler
from compiler.testing.models import LIGHT_MODELS, random_inputs, seeded_light_model


def _load() -> float:
    return os.getloadavg()[0]


def throughput(
    model: compiler.CompiledModel, feeds: dict[str, np.ndarray], threads: int, seconds: float,
    serialize: bool = False,
) -> float:
    """Inferences per second of `threads` callers looping for `seconds`.

    `serialize` puts one lock around every call: the runtime before the arena
    pool (one arena, one inference at a time), measured under the same load.
    """
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()
    lock = threading.Lock() if serialize else None

    def work(k: int) -> None:
        start.wait()
        while not stop.is_set():
            if lock is not None:
                with lock:
                    model.run(None, feeds)
            else:
                model.run(None, feeds)
            counts[k] += 1

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - t0)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / (1 << 20)


def leak_check(model: compiler.CompiledModel, feeds: dict[str, np.ndarray], runs: int) -> None:
    for _ in range(min(100, runs)):
        model.run(None, feeds)
    start = _rss_mib()
    step = max(runs // 10, 1)
    for i in range(1, runs + 1):
        model.run(None, feeds)
        if i % step == 0:
            print(f"{i:6d} runs: RSS {_rss_mib():8.1f} MiB ({_rss_mib() - start:+.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="squeezenet",
                        help=f"a light model ({', '.join(LIGHT_MODELS)}) or an .onnx path (default: squeezenet)")
    parser.add_argument("--threads", type=int, default=2, help="concurrent callers (default: 2)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per measurement (default: 10)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating 1/N measurements (default: 3)")
    parser.add_argument("--leak", type=int, metavar="RUNS", help="only the memory check, over RUNS runs")
    args = parser.parse_args()

    proto = onnx.load(args.model) if args.model.endswith(".onnx") else seeded_light_model(args.model)
    model = compiler.compile(proto, num_threads=1)
    feeds = random_inputs(proto, seed=0)
    if args.leak:
        leak_check(model, feeds, args.leak)
        return
    reference = model.run(None, feeds)
    throughput(model, feeds, 1, 1.0)  # warm-up
    print(f"load average before: {_load():.2f} ({os.cpu_count()} cores)")
    singles, multis, serials = [], [], []
    for _ in range(args.repeats):
        singles.append(throughput(model, feeds, 1, args.seconds))
        multis.append(throughput(model, feeds, args.threads, args.seconds))
        serials.append(throughput(model, feeds, args.threads, args.seconds, serialize=True))
    print(f"load average after: {_load():.2f}")
    one, many = max(singles), max(multis)
    print(f"{args.model}, num_threads=1 per caller, best of {args.repeats} x {args.seconds:g} s:")
    print(f"  1 thread:  {one:7.2f} inferences/s   (all: {', '.join(f'{x:.2f}' for x in singles)})")
    print(f"  {args.threads} threads: {many:7.2f} inferences/s   (all: {', '.join(f'{x:.2f}' for x in multis)})")
    print(f"  {args.threads} threads, one lock around run (the old single-arena runtime): "
          f"{max(serials):7.2f} inferences/s   (all: {', '.join(f'{x:.2f}' for x in serials)})")
    print(f"  throughput ratio {args.threads} threads / 1 thread: {many / one:.2f} "
          f"(with the lock: {max(serials) / one:.2f})")
    again = model.run(None, feeds)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(again, reference, strict=True))
    print(f"  arenas allocated: {model.arenas_allocated}")


if __name__ == "__main__":
    main()
