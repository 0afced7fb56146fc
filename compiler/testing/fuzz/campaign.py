"""A fuzzing campaign: graphs `start .. start+count-1` of a seed, checked in child processes.

Each finding (mismatch, crash, hang) is written to `out_dir` as a standalone
reproducer: `<name>.onnx`, its feeds `<name>.npz` (by input name) and
`<name>.txt` (the outcome and the command that regenerates the graph). With
`minimize`, `<name>.onnx` is the smallest graph that still fails the same way
at the same configuration, and the generated one is kept as `<name>.orig.onnx`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from compiler.testing.fuzz import differential as diff
from compiler.testing.fuzz.generator import generate
from compiler.testing.fuzz.minimize import minimize


@dataclass
class Finding:
    name: str
    outcome: diff.Outcome
    ops: list[str]
    files: list[Path] = field(default_factory=list)


@dataclass
class Summary:
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        c = self.counts
        return (f"{self.total} graphs, {c[diff.PASSED]} passed, {c[diff.MISMATCH]} mismatches, "
                f"{c[diff.CRASH]} crashes, {c[diff.HANG]} hangs, {c[diff.REJECTED]} rejected "
                f"({self.seconds:.0f} s{', interrupted' if self.interrupted else ''})")


def _graph_task(seed: int, index: int, ops: Sequence[str] | None) -> diff.Task:
    def task(note: Callable[[object], None]) -> diff.Outcome:
        g = generate(seed, index, ops)
        note({"model": g.model.SerializeToString(), "feeds": g.feeds, "ops": g.ops})
        return diff.check(g.model, g.feeds, g.expected, diff.CONFIGS, note)

    return task


def _describe(outcome: diff.Outcome) -> str:
    where = f" at O{outcome.config[0]}, {outcome.config[1]} threads" if outcome.config else ""
    return f"{outcome.status}{where}: {outcome.detail}"


def write_reproducer(
    out_dir: Path, name: str, model: onnx.ModelProto, feeds: dict[str, np.ndarray], text: str
) -> list[Path]:
    """`<name>.onnx`, `<name>.npz` and `<name>.txt` in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.onnx", out_dir / f"{name}.npz", out_dir / f"{name}.txt"]
    onnx.save(model, str(paths[0]))
    np.savez(paths[1], **feeds)  # type: ignore[arg-type]
    paths[2].write_text(text)
    return paths


def _reproduce(
    finding: Finding, note: dict[str, Any], seed: int, ops: Sequence[str] | None, out_dir: Path,
    do_minimize: bool, timeout: float, log: Callable[[str], None],
) -> None:
    model = onnx.load_from_string(note["model"])
    feeds = dict(note["feeds"])
    outcome = finding.outcome
    index = int(finding.name.rsplit("_i", 1)[1])
    ops_flag = f" --ops {','.join(ops)}" if ops else ""
    text = (f"{_describe(outcome)}\nops: {', '.join(finding.ops)}\n"
            f"regenerate: compiler fuzz --seed {seed} --start {index} --graphs 1{ops_flag}\n")
    if do_minimize and outcome.config is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out_dir / f"{finding.name}.orig.onnx"))
        wanted = outcome.signature
        config = outcome.config

        def still_fails(m: onnx.ModelProto, f: dict[str, np.ndarray]) -> bool:
            return diff.check_isolated(m, f, [config], timeout).signature == wanted

        checks = 20 if outcome.status == diff.HANG else 150
        model, feeds = minimize(model, feeds, still_fails, max_checks=checks)
        ops_left = [n.op_type for n in model.graph.node if n.op_type != "Constant"]
        text += f"minimized to {len(ops_left)} nodes: {', '.join(ops_left)}\n"
        log(f"  minimized to {len(ops_left)} nodes: {', '.join(ops_left)}")
    finding.files = write_reproducer(out_dir, finding.name, model, feeds, text)


def run(
    seed: int,
    count: int,
    start: int = 0,
    ops: Sequence[str] | None = None,
    jobs: int = 1,
    timeout: float = 60.0,
    out_dir: Path | None = None,
    do_minimize: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Summary:
    """Checks graphs start..start+count-1 of `seed`, `jobs` at a time; writes reproducers to out_dir."""
    diff.warm_up()
    summary = Summary()
    began = time.perf_counter()
    pending = list(range(start, start + count))[::-1]
    running: dict[int, diff.Isolated] = {}
    try:
        _loop(seed, ops, jobs, timeout, out_dir, do_minimize, log, summary, began, pending, running)
    except KeyboardInterrupt:  # Ctrl-C: the graphs done so far still make a summary
        summary.interrupted = True
        for job in running.values():
            job.process.kill()
            job.process.join(5)
    summary.seconds = time.perf_counter() - began
    return summary


def _loop(
    seed: int, ops: Sequence[str] | None, jobs: int, timeout: float, out_dir: Path | None, do_minimize: bool,
    log: Callable[[str], None], summary: Summary, began: float, pending: list[int], running: dict[int, diff.Isolated],
) -> None:
    while pending or running:
        while pending and len(running) < max(1, jobs):
            index = pending.pop()
            running[index] = diff.Isolated(_graph_task(seed, index, ops), timeout)
        done = []
        for index, job in running.items():
            outcome = job.poll(wait=0.05)
            if outcome is not None:
                done.append((index, job, outcome))
        for index, job, outcome in done:
            del running[index]
            summary.counts[outcome.status] += 1
            graph = next((n for n in job.notes if isinstance(n, dict)), None)
            ops_used = list(graph["ops"]) if graph else []
            if outcome.status in diff.FINDINGS:
                finding = Finding(f"fuzz_s{seed}_i{index}", outcome, ops_used)
                summary.findings.append(finding)
                log(f"{finding.name}: {_describe(outcome)} [{', '.join(ops_used)}]")
                if graph is not None and out_dir is not None:
                    _reproduce(finding, graph, seed, ops, out_dir, do_minimize, timeout, log)
                    log(f"  reproducer: {finding.files[0]}")
            elif outcome.status == diff.REJECTED:
                log(f"fuzz_s{seed}_i{index}: rejected: {outcome.detail}")
        done_count = summary.total
        if done and done_count % 25 == 0:
            summary.seconds = time.perf_counter() - began
            log(f"fuzz: {summary.line()}")
