#!/usr/bin/env python3
"""Sample efficiency of the tuner's searches: gbm (cost model) against random.

For K convolution tasks of the model (of its 4K heaviest by weighted FLOPs,
the K whose default schedule is slowest in GFLOP/s: where a search has
something to find), each seed and each search, a fresh tuning run (its own records, its own
cost model) measures the default schedule and then N candidates. The table
gives, per task and search, the trials each seed needed to reach 95% of the
best throughput any run found for that task, and the best found:

    python benchmarks/tuner_efficiency.py --trials 40 --seeds 0 1 2 --tasks 3
    python benchmarks/tuner_efficiency.py --transfer r.jsonl     # gbm warm-started

With `--transfer R.jsonl` (records of a `compiler tune` run on the same
model and machine), the gbm model of every run starts trained on the
records of the model's *other* tasks, as `compiler tune` trains it across
tasks; the measured tasks' own records are never used.

Nothing here asserts: the numbers are for reading (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.testing.models import seeded_light_model  # noqa: E402
from compiler.tuner.records import load_records  # noqa: E402
from compiler.tuner.task import Task, extract_tasks, loop_module  # noqa: E402
from compiler.tuner.tune import Tuner, _Progress  # noqa: E402


class _Quiet(_Progress):
    def update(self, text: str, final: bool = False) -> None:
        pass


def headroom_convs(model: object, count: int) -> list[Task]:
    tasks = [t for t in extract_tasks(loop_module(model)) if "conv" in t.algorithm]
    heavy = sorted(tasks, key=lambda t: -t.weight * t.flops)[: 4 * count]
    with tempfile.TemporaryDirectory() as tmp, Tuner(Path(tmp) / "r.jsonl", progress=_Quiet()) as tuner:
        for task in heavy:
            tuner.measure_default(task)
    return sorted(heavy, key=lambda t: t.flops / t.default_cost if t.default_cost else 0.0)[:count]


Rows = tuple[list, list, list]


def transfer_rows(model: object, exclude: set[str], records: Path) -> Rows:
    """Features, scores and groups of the recorded candidates of the model's other tasks."""
    others = [t for t in extract_tasks(loop_module(model)) if t.key not in exclude]
    with tempfile.TemporaryDirectory() as tmp, Tuner(Path(tmp) / "r.jsonl", progress=_Quiet()) as tuner:
        tuner.previous = [r for r in load_records(records) if r.workload_key not in exclude]
        recorded = {r.workload_key for r in tuner.previous}
        for task in others:
            if task.key in recorded:
                tuner.measure_default(task)  # learns the task's records; its default is one of them
        return tuner.features, tuner.scores, tuner.groups


def run(task: Task, search: str, seed: int, trials: int, batch: int, rows: Rows | None) -> list[float]:
    """GFLOP/s of the best candidate after each trial (the default first)."""
    with tempfile.TemporaryDirectory() as tmp, Tuner(
        Path(tmp) / "r.jsonl", search=search, seed=seed, batch_size=batch, progress=_Quiet()
    ) as tuner:
        if rows is not None and search == "gbm":
            tuner.features, tuner.scores, tuner.groups = (list(x) for x in rows)
        space, state, tr, featurize = tuner.measure_default(task)
        if search == "gbm":
            tuner._retrain()  # the first batch already uses the model (warm when rows were given)
        tuner.tune_task(task, space, state, tr, featurize, trials, None, "")
        return tr.curve


def trials_to(curve: list[float], level: float) -> int | None:
    return next((i + 1 for i, v in enumerate(curve) if v >= level), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--transfer", type=Path, metavar="R.jsonl", help="warm-start gbm from these records")
    args = parser.parse_args()
    model = seeded_light_model(args.model)
    tasks = headroom_convs(model, args.tasks)
    rows = transfer_rows(model, {t.key for t in tasks}, args.transfer) if args.transfer else None
    warm = f", gbm warm-started on {len(rows[0])} records of other tasks" if rows else ""
    print(f"{args.model}: {len(tasks)} conv tasks, {args.trials} trials after the default, seeds {args.seeds}{warm}")
    print(f"{'task':<46} {'search':<7} {'trials to 95% per seed':<24} {'median':>6} {'best GF/s':>9}")
    for task in tasks:
        curves = {
            (s, seed): run(task, s, seed, args.trials, args.batch, rows) for s in ("gbm", "random") for seed in args.seeds
        }
        best = max(max(c) for c in curves.values())
        for search in ("gbm", "random"):
            needed = [trials_to(curves[(search, seed)], 0.95 * best) for seed in args.seeds]
            shown = " ".join(str(n) if n is not None else f">{args.trials + 1}" for n in needed)
            worst = args.trials + 2
            median = statistics.median([n if n is not None else worst for n in needed])
            found = max(max(curves[(search, seed)]) for seed in args.seeds)
            print(f"{task.describe()[:46]:<46} {search:<7} {shown:<24} {median:>6} {found:>9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
