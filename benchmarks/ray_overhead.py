#!/usr/bin/env python3
"""Measurements per second of `compiler tune`: local processes against Ray with one local node.

Both runs tune the same model with the same seed, search and trial count,
one after the other in this process, each into fresh records; the table
gives candidates measured per second and the runners' idle share, and the
last line the ratio ray/local (1.0: Ray costs nothing):

    python benchmarks/ray_overhead.py --model squeezenet --trials 64
    python benchmarks/ray_overhead.py --search gbm --threads 2

The Ray run starts a local instance (as `compiler tune --ray` does); its
start is not counted. Nothing here asserts (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.testing.models import seeded_light_model  # noqa: E402
from compiler.tuner.tune import TuneReport, _Progress, tune  # noqa: E402


class _Quiet(_Progress):
    def update(self, text: str, final: bool = False) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="squeezenet", help="a light model (default: squeezenet)")
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--tasks", type=int, default=4, help="tune the K heaviest tasks (default: 4)")
    parser.add_argument("--search", choices=("gbm", "random"), default="random")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = seeded_light_model(args.model)
    reports: dict[str, TuneReport] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("local", "ray"):
            reports[mode] = tune(
                model, Path(tmp) / f"{mode}.jsonl", trials=args.trials, search=args.search,
                num_threads=args.threads, seed=args.seed, max_tasks=args.tasks, progress=_Quiet(),
                ray="local" if mode == "ray" else None,
            )
    print(f"{'mode':<6} {'measured':>8} {'seconds':>8} {'per s':>7} {'runners idle':>12}")
    rates = {}
    for mode, r in reports.items():
        rates[mode] = r.measured / r.seconds if r.seconds else 0.0
        print(f"{mode:<6} {r.measured:>8} {r.seconds:>8.1f} {rates[mode]:>7.2f} {r.runner_idle:>12.0%}")
    print(f"ray/local measurements per second: {rates['ray'] / rates['local']:.2f}")


if __name__ == "__main__":
    main()
