"""The tuning loop: tasks, search, measurement, records, cost model.

Tasks are taken largest share of the model's time first; for each:

1. the default schedule is measured (once: a record of it is reused), which
   gives the task's share and the baseline of its speed-up;
2. in rounds of one batch per task (so that a time budget leaves no chosen
   task untuned), batches of candidates are chosen by the search (`gbm`: annealing over the
   cost model; `random`), built and timed by the `Measurer`, and each result
   is appended to the records as it completes;
3. after every batch the cost model is retrained on every candidate this
   run has featurized, of all tasks (the transfer between tasks), and saved
   beside the records.

The run stops at the trial count or the time budget, whichever comes
first. A rerun with the same records resumes: measured points are skipped,
and their results feed the cost model as if measured now.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import CompilerError
from compiler.schedule.schedule import Schedule
from compiler.tuner.cost_model import CostModel
from compiler.tuner.features import schedule_features
from compiler.tuner.measure import Measurer, MeasureResult
from compiler.tuner.records import Record, RecordLog, load_records, target_matches
from compiler.tuner.search import SEARCHES, SearchState, annealed_batch, random_batch
from compiler.tuner.space import Point, SearchSpace, search_space
from compiler.tuner.task import Task, extract_tasks, loop_module, order_by_share, shares


@dataclass
class TaskResult:
    """How one task's tuning went."""

    task: Task
    trials: int = 0
    failures: int = 0
    best_cost: float | None = None
    best_schedule: list[Any] | None = None
    curve: list[float] = field(default_factory=list)
    """Best GFLOP/s so far after each trial of this run (resumed ones first)."""

    def gflops(self, cost: float | None) -> float:
        return self.task.flops / cost / 1e9 if cost else 0.0

    @property
    def speedup(self) -> float:
        d, b = self.task.default_cost, self.best_cost
        return d / b if d and b else 1.0


@dataclass
class TuneReport:
    results: list[TaskResult]
    seconds: float
    measured: int
    """Candidates measured by this run (resumed ones not counted)."""
    runner_idle: float = 0.0
    """The share of the run's time the runners spent not timing (building, searching, waiting)."""
    runners: int = 1

    def table(self) -> str:
        rows = [
            f"{'task':<44} {'calls':>5} {'share':>6} {'trials':>6} {'fail':>4} "
            f"{'default GF/s':>12} {'tuned GF/s':>11} {'speed-up':>8}"
        ]
        share = shares([r.task for r in self.results])
        for r in self.results:
            t = r.task
            rows.append(
                f"{t.describe()[:44]:<44} {t.weight:>5} {share.get(t.key, 0.0):>6.1%} {r.trials:>6} "
                f"{r.failures:>4} {r.gflops(t.default_cost):>12.2f} {r.gflops(r.best_cost):>11.2f} "
                f"{r.speedup:>7.2f}x"
            )
        rate = self.measured / self.seconds if self.seconds > 0 else 0.0
        rows.append(
            f"{self.measured} candidates measured in {self.seconds:.0f} s ({rate:.2f}/s); "
            f"{self.runners} runner(s), idle {self.runner_idle:.0%} of the time"
        )
        return "\n".join(rows)


def model_path(records: str | os.PathLike[str]) -> Path:
    """Where the cost model is saved: beside the records."""
    return Path(f"{os.fspath(records)}.model")


class _Progress:
    """One status line per task, rewritten in place on a terminal."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()


def _throughput(task: Task, costs: Sequence[float], error: str | None) -> float:
    """FLOP/s of a measured candidate (calls/s for a kernel without float ops); 0 when it failed."""
    if error or not costs:
        return 0.0
    return max(task.flops, 1.0) / float(np.median(costs))


class Tuner:
    """The state of one tuning run over a model's tasks (see the module docstring)."""

    def __init__(
        self,
        records: str | os.PathLike[str],
        *,
        search: str = "gbm",
        num_threads: int = 1,
        seed: int = 0,
        batch_size: int = 8,
        timeout: float = 10.0,
        repeat: int = 3,
        min_repeat_ms: float = 40.0,
        progress: _Progress | None = None,
        measurer: Measurer | None = None,
    ) -> None:
        if search not in SEARCHES:
            raise CompilerError(f"search {search!r} does not exist", hint=f"use one of {', '.join(SEARCHES)}")
        self.records_path = Path(records)
        self.search = search
        self.num_threads = num_threads
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        # One builder per core: builds alternate with timings, so they may use every core.
        self.measurer = measurer or Measurer(
            builders=os.cpu_count() or 1, timeout=timeout, repeat=repeat, min_repeat_ms=min_repeat_ms,
            num_threads=num_threads,
        )
        self.target = self.measurer.target_info()
        self.cpu_target = self.measurer.host_target().schedule_target(threads=num_threads)
        self.log = RecordLog(self.records_path)
        self.model = self._load_model(seed)
        self.features: list[np.ndarray] = []
        self.scores: list[float] = []
        self.groups: list[str] = []
        self.previous = [r for r in load_records(self.records_path) if target_matches(r.target, self.target)] if self.records_path.exists() else []
        self.progress = progress or _Progress()
        self.measured = 0

    def _load_model(self, seed: int) -> CostModel:
        path = model_path(self.records_path)
        if path.exists():
            try:
                return CostModel.load(path)
            except CompilerError:
                pass  # a stale or damaged model is retrained from the records
        return CostModel(seed=seed)

    def close(self) -> None:
        self.measurer.close()
        self.log.close()

    def __enter__(self) -> Tuner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one task ------------------------------------------------------------

    def _featurize(self, task: Task, space: SearchSpace, cache: dict[str, np.ndarray]) -> Callable[[Point], np.ndarray]:
        def featurize(point: Point) -> np.ndarray:
            key = space.key(point)
            if key not in cache:
                cache[key] = schedule_features(task.kernel, space.schedule(point), self.cpu_target)
            return cache[key]

        return featurize

    def _record(self, task: Task, point: Point, schedule: Schedule, result: MeasureResult) -> None:
        self.log.append(
            Record(
                workload_key=task.key,
                workload=task.workload,
                target=self.target,
                schedule=schedule.to_list(),
                point=dict(point),
                costs=list(result.costs),
                error=result.error,
                timestamp=time.time(),
            )
        )

    def _measure(
        self, task: Task, space: SearchSpace, points: Sequence[Point], featurize: Callable[[Point], np.ndarray],
        state: SearchState, tr: TaskResult,
    ) -> None:
        schedules = [space.schedule(p) for p in points]
        assert all(s is not None for s in schedules)
        results = self.measurer.measure(task.kernel, [s for s in schedules if s is not None])
        for point, schedule, result in zip(points, schedules, results, strict=True):
            assert schedule is not None
            self._record(task, point, schedule, result)
            self.measured += 1
            self._learn(task, space, point, featurize, state, tr, result.costs, result.error, schedule.to_list())

    def _learn(
        self, task: Task, space: SearchSpace, point: Point, featurize: Callable[[Point], np.ndarray],
        state: SearchState, tr: TaskResult, costs: Sequence[float], error: str | None, schedule: list[Any],
    ) -> None:
        key = space.key(point)
        score = _throughput(task, costs, error)
        state.measured[key] = score
        state.points[key] = point
        tr.trials += 1
        if error:
            tr.failures += 1
        elif tr.best_cost is None or float(np.median(costs)) < tr.best_cost:
            tr.best_cost = float(np.median(costs))
            tr.best_schedule = schedule
        tr.curve.append(tr.gflops(tr.best_cost))
        self.features.append(featurize(point))
        self.scores.append(score)
        self.groups.append(task.key)

    def _resume(self, task: Task, space: SearchSpace, featurize: Callable[[Point], np.ndarray], state: SearchState, tr: TaskResult) -> None:
        for r in self.previous:
            if r.workload_key != task.key or not isinstance(r.point, Mapping):
                continue
            point = dict(r.point)
            if space.key(point) in state.measured or space.schedule(point) is None:
                continue
            self._learn(task, space, point, featurize, state, tr, r.costs, r.error, r.schedule)

    def _retrain(self) -> None:
        if len(self.scores) >= 4:
            self.model.fit(np.stack(self.features), np.asarray(self.scores), self.groups)
            self.model.save(model_path(self.records_path))

    def measure_default(self, task: Task) -> tuple[SearchSpace, SearchState, TaskResult, Callable[[Point], np.ndarray]]:
        """The task's space and state, with the default point measured (or resumed)."""
        space = search_space(task.kernel, self.cpu_target)
        featurize = self._featurize(task, space, {})
        state, tr = SearchState(), TaskResult(task)
        self._resume(task, space, featurize, state, tr)
        default = space.default_point()
        key = space.key(default)
        if key not in state.measured:
            self._measure(task, space, [default], featurize, state, tr)
        score = state.measured.get(key, 0.0)
        task.default_cost = max(task.flops, 1.0) / score if score > 0 else None
        return space, state, tr, featurize

    def tune_task(
        self, task: Task, space: SearchSpace, state: SearchState, tr: TaskResult,
        featurize: Callable[[Point], np.ndarray], trials: int, deadline: float | None, label: str,
        final: bool = True,
    ) -> None:
        target_trials = tr.trials + trials
        while tr.trials < target_trials and (deadline is None or time.monotonic() < deadline):
            size = min(self.batch_size, target_trials - tr.trials)
            if self.search == "gbm":
                batch = annealed_batch(space, state, self.model, featurize, size, self.rng)
            else:
                batch = random_batch(space, state, size, self.rng)
            if not batch:
                break  # the space is exhausted
            self._measure(task, space, [c.point for c in batch], featurize, state, tr)
            if self.search == "gbm":
                self._retrain()
            self.progress.update(_status(label, tr, target_trials))
        if final:
            self.progress.update(_status(label, tr, target_trials), final=True)


def _status(label: str, tr: TaskResult, total: int) -> str:
    return (
        f"{label} {tr.task.describe()[:40]:<40} trials {tr.trials}/{total} "
        f"best {tr.gflops(tr.best_cost):.2f} GFLOP/s (default {tr.gflops(tr.task.default_cost):.2f}) "
        f"failed {tr.failures}"
    )


def allocate(tasks: Sequence[Task], trials: int, batch: int, min_share: float = 0.01) -> dict[str, int]:
    """Trials per task in proportion to its share of the model's time.

    Tasks under `min_share` get none; the others at least one batch.
    """
    share = shares(tasks)
    chosen = [t for t in tasks if share.get(t.key, 0.0) >= min_share]
    total = sum(share[t.key] for t in chosen) or 1.0
    return {t.key: max(batch, round(trials * share[t.key] / total)) for t in chosen}


def tune(
    model: Any,
    records: str | os.PathLike[str],
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    opt_level: int = 3,
    trials: int = 200,
    time_budget: float | None = None,
    search: str = "gbm",
    timeout: float = 10.0,
    num_threads: int = 1,
    seed: int = 0,
    batch_size: int = 8,
    max_tasks: int | None = None,
    min_share: float = 0.01,
    progress: _Progress | None = None,
    ray: str | None = None,
    target: str | None = None,
    runners_per_node: int = 1,
) -> TuneReport:
    """Tune a model's kernels; every measurement is appended to `records` (JSON lines).

    `ray`: measure on a Ray cluster at that address ("local": start one here),
    on its nodes of kind `target` (see compiler/tuner/ray_measure.py).
    """
    start = time.monotonic()
    deadline = start + time_budget if time_budget else None
    module = loop_module(model, input_shapes=input_shapes, opt_level=opt_level)
    tasks = extract_tasks(module)
    measurer = None
    if ray is not None:
        from compiler.tuner.ray_measure import RayMeasurer

        measurer = RayMeasurer(
            None if ray == "local" else ray, target=target, runners_per_node=runners_per_node,
            timeout=timeout, num_threads=num_threads,
        )
    elif target is not None:
        raise CompilerError("a target kind is chosen among the nodes of a Ray cluster", hint="add --ray")
    with Tuner(
        records, search=search, num_threads=num_threads, seed=seed, batch_size=batch_size,
        timeout=timeout, progress=progress, measurer=measurer,
    ) as tuner:
        start = time.monotonic()
        prepared = {}
        for task in tasks:
            if deadline is not None and time.monotonic() >= deadline:
                break
            prepared[task.key] = tuner.measure_default(task)
        tuner._retrain()
        ordered = [t for t in order_by_share(tasks) if t.key in prepared]
        if max_tasks is not None:
            ordered = ordered[:max_tasks]
        budget = allocate(ordered, trials, batch_size, min_share)
        chosen = [t for t in ordered if t.key in budget]
        # Rounds of one batch per task, so that a time budget ends with every
        # chosen task tuned, not the first ones only.
        remaining = dict(budget)
        while any(n > 0 for n in remaining.values()) and (deadline is None or time.monotonic() < deadline):
            for index, task in enumerate(chosen):
                if remaining[task.key] <= 0 or (deadline is not None and time.monotonic() >= deadline):
                    continue
                space, state, tr, featurize = prepared[task.key]
                before = tr.trials
                label = f"[{index + 1}/{len(chosen)}]"
                tuner.tune_task(task, space, state, tr, featurize, min(batch_size, remaining[task.key]), deadline, label, final=False)
                done = tr.trials - before
                remaining[task.key] = remaining[task.key] - done if done else 0  # 0: the space is exhausted
        for index, task in enumerate(chosen):
            tr = prepared[task.key][2]
            tuner.progress.update(_status(f"[{index + 1}/{len(chosen)}]", tr, tr.trials), final=True)
        results = [prepared[t.key][2] for t in order_by_share(list(tasks)) if t.key in prepared]
        seconds = time.monotonic() - start
        m = tuner.measurer
        idle = 1.0 - m.runner_busy_s / (seconds * m.runners) if seconds > 0 else 0.0
        return TuneReport(results, seconds, tuner.measured, max(0.0, idle), m.runners)
