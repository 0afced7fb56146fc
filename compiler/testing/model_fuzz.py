"""Mutated-model fuzzing: broken ONNX files must fail cleanly, never crash.

    compiler fuzz-models [MODEL ...] --mutants N --seed S [--out DIR] [--jobs J]
                         [--timeout S] [--memory-limit GIB] [--mutators NAME,...]

Each mutant (see `compiler/testing/mutate.py`) goes through two stages, each
in its own forked process with an address-space limit (`RLIMIT_AS`, default
4 GiB beyond what it inherits) and a wall-clock timeout:

* `cli`: `compiler-opt MUTANT.onnx -o OUT.mlir` (its `main`, argv and all).
  Passing: exit 0 with OUT.mlir written, or exit 1 with exactly one line
  `compiler-opt: error: ...` on stderr and no OUT.mlir.
* `api`: `compiler.compile(MUTANT.onnx)`, then, when it compiled, one run
  on zero inputs and `export(OUT.so)`. Passing: it succeeds, or raises a
  `CompilerError` (and OUT.so, .json, .params do not exist).

Both stages fail on a traceback (any other exception), a signal (a crash
of native code), a timeout (a hang), a `MemoryError` (a blow-up beyond the
limit) and a stray file (anything but the mutant left in its folder).
Failing mutants are kept in `--out` with a JSON line saying what happened,
so that each one reproduces with the commands printed in the summary.

The stages fork from this process, which has imported the compiler once,
instead of starting `compiler-opt` anew: the same code runs under the same
argv, at a tenth of the start-up cost. Forking needs Linux (or any POSIX).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from compiler.testing.mutate import MUTATORS, mutate

DEFAULT_MODELS = ("squeezenet", "detector_head")
"""The light SqueezeNet from the onnx wheel (15 KB of structure, its weights
are ConstantOfShape nodes) and the small committed detector head."""

DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_GIB = 4.0
MAX_RUN_BYTES = 1 << 28
"""A compiled mutant runs once only when its inputs take at most 256 MiB."""

OK, REJECTED = "ok", "rejected"
FAILURES = ("traceback", "bad_stderr", "bad_exit", "crash", "hang", "memory", "stray")
"""Outcomes that are bugs: every one of them must be 0 at the end of a campaign."""


@dataclass
class Outcome:
    """What one stage did with one mutant."""

    mutant: int
    stage: str  # "cli" or "api"
    model: str
    mutator: str
    change: str
    status: str
    detail: str = ""
    seconds: float = 0.0
    stray: list[str] = field(default_factory=list)


def resolve_model(spec: str) -> Path:
    """A path, a light model name (`squeezenet`) or a committed test model name."""
    from compiler.testing.models import LIGHT_MODELS, MODELS_DIR, light_model_path

    path = Path(spec)
    if path.is_file():
        return path
    if spec in LIGHT_MODELS:
        return light_model_path(spec)
    committed = MODELS_DIR / f"{spec}.onnx"
    if committed.is_file():
        return committed
    from compiler.errors import ModelLoadError

    raise ModelLoadError("no such model file or model name", file=spec,
                         hint=f"give a path, a light model ({', '.join(LIGHT_MODELS)}) or a tests/models name")


def make_mutant(models: Sequence[tuple[str, bytes]], mutators: Sequence[str], seed: int, index: int) -> tuple[str, str, bytes, str]:
    """Mutant `index` of a campaign: (model name, mutator, bytes, change), a function of (seed, index) alone."""
    rng = random.Random(f"{seed}/{index}")
    name, data = models[rng.randrange(len(models))]
    mutator = mutators[rng.randrange(len(mutators))]
    mutant, change = mutate(data, mutator, rng)
    return name, mutator, mutant, change


# -- the forked stages ----------------------------------------------------------------


def _limit_memory(gib: float) -> None:
    """`gib` more address space than the forked stage inherits.

    The parent's own mappings count too: a long-lived parent (a test worker
    that ran onnxruntime sessions, whose threads each reserve a malloc arena)
    may hold GiBs of it, and an absolute limit left its child none, so that
    LLVM's first allocation aborted (SIGABRT) on models that compile.
    """
    limit = _address_space() + int(gib * (1 << 30))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """Bytes of address space this process maps now (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, IndexError, ValueError):
        return 0


def _cli_stage(mutant: Path, out: Path) -> int:
    from compiler.tools.opt import main

    try:
        main([str(mutant), "-o", str(out)])
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


def _api_stage(mutant: Path, out: Path) -> int:
    import numpy as np

    import compiler
    from compiler.errors import CompilerError

    progress = mutant.parent.parent / f"{mutant.parent.name}.progress"
    try:
        model = compiler.compile(str(mutant))
        progress.write_text("compiled")
        specs = model.metadata.inputs
        if sum(int(np.prod(s.shape)) * np.dtype(s.dtype).itemsize for s in specs) <= MAX_RUN_BYTES:
            model.run(None, {s.name: np.zeros(s.shape, s.dtype) for s in specs})
        progress.write_text("ran")
        model.export(out)
        progress.write_text("exported")
    except CompilerError as err:
        print(f"compiler: error: {err}", file=sys.stderr)
        return 1
    return 0


STAGES: dict[str, tuple[Callable[[Path, Path], int], str]] = {
    "cli": (_cli_stage, "out.mlir"),
    "api": (_api_stage, "out.so"),
}


def _child(stage: str, mutant: Path, err_path: Path, memory_gib: float) -> None:
    """Runs in the forked process; never returns."""
    code = 3
    try:
        os.setpgid(0, 0)  # a hung child's helpers die with it
        faulthandler.disable()  # a crash is judged by its signal, not reported twice
        _limit_memory(memory_gib)
        fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        # sys.stderr may not write to fd 2 (pytest's capture replaces it): rebind both.
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), line_buffering=True)
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False))
        run, out_name = STAGES[stage]
        code = run(mutant, mutant.parent / out_name)
    except MemoryError:
        with contextlib.suppress(BaseException):
            sys.stderr.write("MemoryError\n" + traceback.format_exc())
        code = 4
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
        code = 2
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# -- judging a stage ------------------------------------------------------------------


def _stray_files(folder: Path, stage: str, code: int | None) -> list[str]:
    """Files the stage may not leave: anything but the mutant, and outputs of a failed run."""
    allowed = {"mutant.onnx"}
    if code == 0:
        out = STAGES[stage][1]
        allowed |= {out, str(Path(out).with_suffix(".json")), str(Path(out).with_suffix(".params"))}
    return sorted(p.name for p in folder.iterdir() if p.name not in allowed)


def judge(stage: str, status: int, stderr: str, folder: Path, progress: str) -> tuple[str, str]:
    """(outcome, detail) of a finished stage from its wait status and stderr."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    last = lines[-1][:300] if lines else ""
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status)).name
        return "crash", f"{sig} after '{progress or 'start'}'"
    code = os.WEXITSTATUS(status)
    if code == 4 or "MemoryError" in stderr:
        return "memory", last
    if "Traceback" in stderr or code == 2:
        return "traceback", last
    if code == 0:
        out = folder / STAGES[stage][1]
        if not out.exists():
            return "bad_exit", f"exit 0 without {out.name}"
        return OK, ""
    if code != 1:
        return "bad_exit", f"exit {code}: {last}"
    prefix = "compiler-opt: error: " if stage == "cli" else "compiler: error: "
    if len(lines) != 1 or not lines[0].startswith(prefix):
        return "bad_stderr", f"{len(lines)} lines: {last}"
    return REJECTED, lines[0][len(prefix):][:300]


# -- the campaign -----------------------------------------------------------------------


@dataclass
class _Running:
    pid: int
    index: int
    stage: str
    folder: Path
    err_path: Path
    started: float


def _start(stage: str, folder: Path, memory_gib: float) -> _Running:
    err_path = folder.parent / f"{folder.name}.{stage}.err"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(stage, folder / "mutant.onnx", err_path, memory_gib)
    return _Running(pid, int(folder.name.split("-")[1]), stage, folder, err_path, time.monotonic())


def _kill_group(pid: int) -> None:
    for target in (-pid, pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGKILL)


def run_campaign(
    models: Sequence[str],
    mutants: int,
    seed: int,
    *,
    out: Path | None = None,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT_S,
    memory_gib: float = DEFAULT_MEMORY_GIB,
    mutators: Sequence[str] | None = None,
    stages: Sequence[str] = ("cli", "api"),
    log: Callable[[str], None] | None = None,
    start: int = 0,
) -> list[Outcome]:
    """Runs mutants `start` .. `start + mutants - 1` of `models` through `stages`; returns every outcome.

    Mutant i depends on (seed, i) only, so a campaign split by `start` runs the same mutants.
    """
    # Imported once here, inherited by every fork (and every fork runs the same code).
    import compiler  # noqa: F401
    import compiler.frontend.onnx  # noqa: F401
    import compiler.tools.opt  # noqa: F401

    names = list(mutators or MUTATORS)
    corpus = [(str(m), resolve_model(m).read_bytes()) for m in models]
    work = Path(tempfile.mkdtemp(prefix="compiler-fuzz-models-"))
    cache = work / "cache"
    old_cache = os.environ.get("COMPILER_CACHE_DIR")
    # Object code of unchanged kernels is shared by mutants; no entry outlives the campaign.
    os.environ["COMPILER_CACHE_DIR"] = str(cache)
    pending: list[tuple[int, str]] = [(i, s) for i in range(start, start + mutants) for s in stages]
    pending.reverse()
    meta: dict[int, tuple[str, str, str]] = {}
    remaining: Counter[int] = Counter()
    running: dict[int, _Running] = {}
    outcomes: list[Outcome] = []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, stage = pending.pop()
                folder = work / f"mutant-{index}-{stage}"
                if index not in meta:
                    model, mutator, data, change = make_mutant(corpus, names, seed, index)
                    meta[index] = (model, mutator, change)
                    remaining[index] = len(stages)
                    (work / f"mutant-{index}.onnx").write_bytes(data)
                folder.mkdir()
                shutil.copyfile(work / f"mutant-{index}.onnx", folder / "mutant.onnx")
                child = _start(stage, folder, memory_gib)
                running[child.pid] = child
            pid, status = os.waitpid(-1, os.WNOHANG)
            now = time.monotonic()
            if pid == 0:
                for child in list(running.values()):
                    if now - child.started > timeout:
                        _kill_group(child.pid)
                        os.waitpid(child.pid, 0)
                        del running[child.pid]
                        outcomes.append(_finish(child, None, meta, work, out, log, now))
                        _done(child.index, remaining, work)
                time.sleep(0.02)
                continue
            child = running.pop(pid, None)
            if child is None:
                continue
            _kill_group(pid)  # helpers the stage left behind
            outcomes.append(_finish(child, status, meta, work, out, log, now))
            _done(child.index, remaining, work)
    finally:
        for child in running.values():
            _kill_group(child.pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child.pid, 0)
        if old_cache is None:
            os.environ.pop("COMPILER_CACHE_DIR", None)
        else:
            os.environ["COMPILER_CACHE_DIR"] = old_cache
        shutil.rmtree(work, ignore_errors=True)
    return sorted(outcomes, key=lambda o: (o.mutant, o.stage))


def _done(index: int, remaining: Counter[int], work: Path) -> None:
    remaining[index] -= 1
    if remaining[index] == 0:
        (work / f"mutant-{index}.onnx").unlink(missing_ok=True)


def _finish(
    child: _Running,
    status: int | None,
    meta: dict[int, tuple[str, str, str]],
    work: Path,
    out: Path | None,
    log: Callable[[str], None] | None,
    now: float,
) -> Outcome:
    model, mutator, change = meta[child.index]
    progress_path = work / f"{child.folder.name}.progress"
    progress = progress_path.read_text() if progress_path.exists() else ""
    stderr = child.err_path.read_text(errors="replace") if child.err_path.exists() else ""
    if status is None:
        result, detail = "hang", f"no exit after {now - child.started:.0f} s ('{progress or 'start'}')"
        stray: list[str] = []
    else:
        result, detail = judge(child.stage, status, stderr, child.folder, progress)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        stray = _stray_files(child.folder, child.stage, code)
        if stray and result in (OK, REJECTED):
            result, detail = "stray", f"left {stray}"
    outcome = Outcome(child.index, child.stage, model, mutator, change, result, detail,
                      round(now - child.started, 2), stray)
    if result in FAILURES and out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(child.folder / "mutant.onnx", out / f"mutant-{child.index}.onnx")
        with open(out / "failures.jsonl", "a") as f:
            f.write(json.dumps({**asdict(outcome), "stderr": stderr[-4000:]}) + "\n")
    if log is not None:
        log(f"[{child.index} {child.stage}] {model} {mutator}: {result} {detail}"[:300])
    shutil.rmtree(child.folder, ignore_errors=True)
    for leftover in (child.err_path, progress_path):
        leftover.unlink(missing_ok=True)
    return outcome


def summarize(outcomes: Sequence[Outcome]) -> str:
    """Counts per stage and outcome, then one line per failure."""
    lines = []
    for stage in sorted({o.stage for o in outcomes}):
        counts = Counter(o.status for o in outcomes if o.stage == stage)
        parts = [f"{counts[s]} {s}" for s in (OK, REJECTED, *FAILURES)]
        lines.append(f"{stage}: " + ", ".join(parts))
    failures = [o for o in outcomes if o.status in FAILURES]
    for o in failures:
        lines.append(f"  mutant {o.mutant} ({o.model}, {o.mutator}: {o.change[:80]}) {o.stage}: {o.status} {o.detail[:160]}")
    lines.append(f"{len(failures)} failures in {len({o.mutant for o in outcomes})} mutants")
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction, count: Callable[..., Callable[[str], int]]) -> None:
    """The `compiler fuzz-models` subcommand."""
    p = sub.add_parser(
        "fuzz-models",
        help="mutate valid models (truncation, byte flips, field edits) and check that they fail cleanly",
        description="Run seeded mutants of MODELs through compiler-opt and compiler.compile, each in a "
        "forked process with a timeout and a memory limit; report tracebacks, crashes, hangs, memory "
        "blow-ups and stray output files (see compiler/testing/model_fuzz.py).",
    )
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"a .onnx path, a light model name or a tests/models name (default: {' '.join(DEFAULT_MODELS)})")
    p.add_argument("--mutants", type=count("mutant count", 1), default=100, metavar="N", help="mutants (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (default: 0)")
    p.add_argument("--start", type=count("start index", 0), default=0, metavar="K",
                   help="run mutants K..K+N-1 of the seed's sequence, to split a campaign (default: 0)")
    p.add_argument("--out", metavar="DIR", help="keep failing mutants and failures.jsonl here")
    p.add_argument("--jobs", type=count("job count", 1), default=1, metavar="J", help="stages at once (default: 1)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"seconds per stage before it counts as a hang (default: {DEFAULT_TIMEOUT_S:.0f})")
    p.add_argument("--memory-limit", type=float, default=DEFAULT_MEMORY_GIB, metavar="GIB",
                   help=f"address-space limit of each stage (default: {DEFAULT_MEMORY_GIB:g} GiB)")
    p.add_argument("--mutators", metavar="NAME,...", help=f"subset of: {', '.join(MUTATORS)}")
    p.add_argument("--stages", default="cli,api", metavar="cli,api", help="stages to run (default: both)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every outcome")


def main(args: argparse.Namespace) -> int:
    """`compiler fuzz-models`: exit 0 when no mutant failed."""
    from compiler.errors import CompilerError

    mutators = args.mutators.split(",") if args.mutators else None
    unknown = sorted(set(mutators or ()) - set(MUTATORS))
    if unknown:
        raise CompilerError(f"unknown mutator '{unknown[0]}'", hint=f"use {', '.join(MUTATORS)}")
    stages = args.stages.split(",")
    if not stages or set(stages) - set(STAGES):
        raise CompilerError(f"bad --stages '{args.stages}'", hint="use cli, api or cli,api")
    models = args.models or list(DEFAULT_MODELS)
    for m in models:
        resolve_model(m)
    # Killed: stop the stages and remove the work folder (run_campaign's finally), as for ^C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    start = time.monotonic()
    log = (lambda line: print(line, flush=True)) if args.verbose else None
    outcomes = run_campaign(models, args.mutants, args.seed, out=Path(args.out) if args.out else None,
                            jobs=args.jobs, timeout=args.timeout, memory_gib=args.memory_limit,
                            mutators=mutators, stages=stages, log=log, start=args.start)
    print(summarize(outcomes))
    first = f" from #{args.start}" if args.start else ""
    print(f"{args.mutants} mutants{first} of {', '.join(models)} (seed {args.seed}) in {time.monotonic() - start:.0f} s; "
          f"limits: {args.timeout:g} s and {args.memory_limit:g} GiB per stage")
    return 1 if any(o.status in FAILURES for o in outcomes) else 0
