"""Measure candidates on a Ray cluster: many machines build and time, the driver searches.

    compiler tune model.onnx --records r.jsonl --ray              # a local Ray instance
    compiler tune model.onnx --records r.jsonl --ray auto         # the running cluster
    compiler tune model.onnx --records r.jsonl --ray HOST:6379 --target znver3

`RayMeasurer` is a `Measurer` whose builders and runner live on Ray; the
search, the cost model and the records stay in the driver process, so a
run is resumed exactly as a local one (the records are the state).

- Nodes. When the measurer starts, a probe task pinned to each alive node
  reports its CPU (model, LLVM name, features, vector width). Only the
  nodes of the tuned target receive work: the one kind present, or the
  kind `target` names (by CPU model or LLVM CPU name). Several kinds and
  no `target` is refused, because records measured on different CPUs do
  not compare.
- Builders are stateless Ray tasks pinned to matching nodes (they compile
  for the host they run on, so they must run on the target's kind). They
  return the object code, as the local builder processes do. At most one
  build per core of those nodes runs at a time.
- Runners are actors, `runners_per_node` per matching node (default one:
  two timings never share a node's cores). Each actor keeps a local runner
  process (the same forkserver worker as local tuning), so a candidate that
  crashes or hangs costs one candidate, not the actor.
- Builds and timings alternate, batch by batch, as in local tuning: no build
  runs on a node while it times.
- Faults. A runner actor that dies, or whose node dies, while it times a
  candidate gives that candidate a second try on another runner; a second
  loss records it as failed. Nothing is dropped: every candidate of a batch
  gets a result.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compiler.errors import CompilerError
from compiler.targets.cpu.machine import HostTarget
from compiler.tuner.measure import Measurer, _build, _Worker, call_runner

ATTEMPTS = 2
"""Tries of one candidate on runners that die under it: the first and one retry."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise CompilerError(
            "--ray needs Ray, which is not installed", hint="pip install 'compiler[distributed]'"
        ) from None
    return ray


@dataclass(frozen=True)
class NodeInfo:
    """What a node reported when it joined the run."""

    node_id: str
    cpus: int
    triple: str
    llvm_cpu: str
    features: str
    target: dict[str, Any]
    """`records.target_info` on that node: what its records are tagged with."""

    @property
    def kind(self) -> tuple[str, str, str]:
        return (str(self.target["cpu_model"]), self.llvm_cpu, str(self.target["features"]))

    def describe(self) -> str:
        return f"{self.target['cpu_model']} ({self.llvm_cpu})"


def _probe(num_threads: int) -> dict[str, Any]:
    """Runs on a node: its CPU as the tuner sees it."""
    import ray

    from compiler.tuner.records import target_info

    host = HostTarget.detect()
    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "cpus": os.cpu_count() or 1,
        "triple": host.triple,
        "llvm_cpu": host.cpu,
        "features": host.features,
        "target": target_info(num_threads),
    }


class RunnerActor:
    """A Ray actor that times candidates in its own runner process (see measure.py)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["compiler.tuner.measure", "compiler.targets.cpu.kernel"])
        self.worker = _Worker(ctx, "runner")
        self.worker.start()

    def ready(self) -> int:
        return os.getpid()

    def run(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any], float]:
        self.worker.ensure()  # a restart after a crashed candidate is not the next one's time
        start = time.perf_counter()
        answer = call_runner(self.worker, request, timeout)
        return answer, time.perf_counter() - start


def _pinned(node_id: str) -> Any:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)


def select_nodes(nodes: Sequence[NodeInfo], target: str | None) -> list[NodeInfo]:
    """The nodes that time: those of the one kind present, or of the kind `target` names."""
    kinds: dict[tuple[str, str, str], list[NodeInfo]] = {}
    for node in nodes:
        kinds.setdefault(node.kind, []).append(node)
    listing = "; ".join(f"{group[0].describe()}: {len(group)} node(s)" for group in kinds.values())
    if target is None:
        if len(kinds) > 1:
            raise CompilerError(
                f"the Ray cluster has nodes of {len(kinds)} kinds ({listing}), and their timings do not compare",
                hint="name the kind to tune for with --target CPU (its model or LLVM CPU name)",
            )
        return list(nodes)
    chosen = [n for n in nodes if target in (n.target["cpu_model"], n.llvm_cpu)]
    if not chosen:
        raise CompilerError(f"no node of the Ray cluster is a {target!r} ({listing})",
                            hint="name one of the kinds listed with --target")
    return chosen


class RayMeasurer(Measurer):
    """A `Measurer` whose builds are Ray tasks and whose timings run in runner actors."""

    def __init__(
        self,
        address: str | None = None,
        *,
        target: str | None = None,
        runners_per_node: int = 1,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        ray = _ray()
        self.ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR,
            }
            ray.init(address=address, **kwargs) if address else ray.init(**kwargs)
            self._started = True
        alive = [n for n in ray.nodes() if n.get("Alive")]
        probe = ray.remote(_probe)
        infos = ray.get([
            probe.options(num_cpus=0, scheduling_strategy=_pinned(n["NodeID"])).remote(self.num_threads)
            for n in alive
        ])
        self.nodes = select_nodes([NodeInfo(**info) for info in infos], target)
        self.node_target = self.nodes[0].target
        first = self.nodes[0]
        self.host = HostTarget(triple=first.triple, cpu=first.llvm_cpu, features=first.features)
        self._build_slots = sum(n.cpus for n in self.nodes)
        self._remote_build = ray.remote(_build)
        actor = ray.remote(RunnerActor)
        self._actors = [
            actor.options(num_cpus=0, max_restarts=0, scheduling_strategy=_pinned(n.node_id)).remote()
            for n in self.nodes
            for _ in range(runners_per_node)
        ]
        ray.get([a.ready.remote() for a in self._actors])
        self.runners = len(self._actors)
        self.lost_runners = 0
        self.retries = 0
        self._next_node = 0

    # -- what the Tuner asks

    def target_info(self) -> dict[str, Any]:
        return dict(self.node_target, threads=self.num_threads)

    def host_target(self) -> HostTarget:
        return self.host

    @property
    def actors(self) -> list[Any]:
        """The runner actors still alive (a test kills one to check that no trial is lost)."""
        return list(self._actors)

    # -- building

    def _build_all(self, text: str, schedules: list[str | None]) -> list[dict[str, Any]]:
        ray = self.ray
        answers: list[dict[str, Any]] = [{} for _ in schedules]
        pending = deque(enumerate(schedules))
        busy: dict[Any, tuple[int, float]] = {}  # ref -> (index, sent at)
        while pending or busy:
            while pending and len(busy) < self._build_slots:
                index, schedule = pending.popleft()
                node = self.nodes[self._next_node % len(self.nodes)]
                self._next_node += 1
                ref = self._remote_build.options(
                    num_cpus=0, max_retries=0, scheduling_strategy=_pinned(node.node_id)
                ).remote({"module": text, "schedule": schedule})
                busy[ref] = (index, time.perf_counter())
            oldest = min(sent for _, sent in busy.values())
            left = max(0.0, oldest + self.build_timeout - time.perf_counter())
            ready, _ = ray.wait(list(busy), num_returns=1, timeout=left)
            for ref in ready:
                index, sent = busy.pop(ref)
                try:
                    answers[index] = ray.get(ref)
                except ray.exceptions.RayError as err:
                    answers[index] = {"error": f"build: builder lost ({type(err).__name__})"}
                answers[index].setdefault("build_s", time.perf_counter() - sent)
            now = time.perf_counter()
            for ref, (index, sent) in list(busy.items()):
                if now - sent >= self.build_timeout:
                    ray.cancel(ref, force=True)
                    del busy[ref]
                    answers[index] = {"error": f"build: timeout after {self.build_timeout:g} s",
                                      "build_s": now - sent}
        return answers

    # -- running

    def _run_requests(self, requests: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
        """Spread the requests over the runner actors; a request whose runner dies runs again elsewhere."""
        ray = self.ray
        answers: list[tuple[dict[str, Any], float] | None] = [None] * len(requests)
        pending = deque((i, 1) for i in range(len(requests)))  # (index, attempt)
        busy: dict[Any, tuple[int, int, Any]] = {}  # ref -> (index, attempt, actor)
        while pending or busy:
            idle = [a for a in self._actors if all(a is not b for _, _, b in busy.values())]
            while pending and idle:
                index, attempt = pending.popleft()
                actor = idle.pop(0)
                # The actor's own runner enforces the timeout; Ray's wait only guards a lost node.
                busy[actor.run.remote(requests[index], self.timeout)] = (index, attempt, actor)
            if not busy:  # every runner is gone
                for index, _ in pending:
                    answers[index] = ({"error": "runtime: no runner left on the Ray cluster"}, 0.0)
                break
            ready, _ = ray.wait(list(busy), num_returns=1)
            for ref in ready:
                index, attempt, actor = busy.pop(ref)
                try:
                    answer, run_s = ray.get(ref)
                except ray.exceptions.RayError as err:
                    self._lose(actor)
                    if attempt < ATTEMPTS:
                        self.retries += 1
                        pending.appendleft((index, attempt + 1))
                    else:
                        answers[index] = ({"error": f"runtime: runner lost twice ({type(err).__name__})"}, 0.0)
                    continue
                self.runner_busy_s += run_s
                answers[index] = (answer, run_s)
        return [a if a is not None else ({"error": "runtime: not run"}, 0.0) for a in answers]

    def _lose(self, actor: Any) -> None:
        if any(actor is a for a in self._actors):
            self._actors = [a for a in self._actors if a is not actor]
            self.lost_runners += 1

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        super().close()
        for actor in getattr(self, "_actors", []):
            try:
                self.ray.kill(actor)
            except Exception:  # already gone with its node
                pass
        self._actors = []
        if self._started:
            self.ray.shutdown()
