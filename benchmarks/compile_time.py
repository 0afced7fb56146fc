#!/usr/bin/env python3
"""Compile time: a cold compile, a warm recompile, and `compiler-opt` at O3.

1. Cold: `compiler.compile(path)` with `COMPILER_CACHE_DIR` set to a fresh,
   empty temporary directory, so no model or object cache entry exists.
2. Warm: the same call again with the same directory: the model cache hits
   and no pass runs.
3. `compiler-opt model.onnx -p 'graph-optimize{level=3}'` as a separate
   process (Python start-up, import, graph passes and printing the module),
   with xDSL's --time-passes figure for the passes alone.

Both compiles run in this process after the compiler's modules are imported;
the import time is printed on its own line. Each stage of a compile is one
entry of `compiler.driver.CompileStats` (seconds, summed over the stage's
calls); "other" is the wall time no stage accounts for (loading the object
code, metadata). `lower-functions` (every function lowered on its own and
compiled to its own object by LLVM, in COMPILER_JOBS forked workers) lists
its steps' CPU seconds (`llvm`: -O3 and code generation) summed over the
workers. CPU seconds (this process and its workers, or the child for
compiler-opt) are printed beside the wall time: on a shared machine they
move less.
Nothing is asserted.

    python benchmarks/compile_time.py                     # ResNet-50, O3
    python benchmarks/compile_time.py --model squeezenet -O 2 --json ct.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.testing.models import LIGHT_MODELS, bert_model_path  # noqa: E402


def model_file(name: str, directory: Path, seed: int) -> Path:
    """The model as an .onnx file: a seeded light model saved to `directory`, BERT, or a path."""
    from compiler.testing.models import save_seeded_light_model

    if name in LIGHT_MODELS:
        return save_seeded_light_model(name, directory, seed)
    if name in ("bert", "bert_tiny"):
        return bert_model_path()
    path = Path(name)
    if path.is_file():
        return path
    raise SystemExit(
        f"compile_time.py: unknown model {name!r}; use one of {', '.join(LIGHT_MODELS)}, bert, or a path"
    )


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the lowering workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_compile(path: Path, opt_level: int) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (this process and its workers), and the CompileStats."""
    import compiler
    from compiler.driver import CompileStats

    stats = CompileStats()
    cpu = cpu_seconds()
    start = time.perf_counter()
    compiler.compile(path, opt_level=opt_level, stats=stats)
    return time.perf_counter() - start, cpu_seconds() - cpu, stats


def print_breakdown(title: str, wall: float, cpu: float, stats: Any) -> None:
    stages = stats.seconds
    print(f"{title}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    for stage, seconds in stages.items():
        share = 100.0 * seconds / wall if wall > 0 else 0.0
        print(f"  {stage:<24}{seconds:9.3f} s  {share:5.1f}%")
        if stage == "lower-functions":
            for inner, cpu_s in stats.worker_seconds.items():
                print(f"    {inner:<22}{cpu_s:9.3f} s CPU, summed over {stats.workers} process(es)")
    other = wall - sum(stages.values())
    print(f"  {'other':<24}{other:9.3f} s  {100.0 * other / wall if wall > 0 else 0.0:5.1f}%")


def compiler_opt_executable() -> list[str]:
    beside = Path(sys.executable).with_name("compiler-opt")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("compiler-opt")
    if found:
        return [found]
    return [sys.executable, "-m", "compiler.tools.opt"]


def time_compiler_opt(path: Path, opt_level: int, out_dir: Path) -> dict[str, Any]:
    """Wall time of `compiler-opt path -p graph-optimize{level=N} --time-passes -o out.mlir`."""
    out = out_dir / "optimized.mlir"
    cmd = [
        *compiler_opt_executable(),
        str(path),
        "-p",
        f"graph-optimize{{level={opt_level}}}",
        "--time-passes",
        "-o",
        str(out),
    ]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    passes = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"Pass (\S+) took ([0-9.eE+-]+) seconds", proc.stdout + proc.stderr)
    }
    result: dict[str, Any] = {
        "command": cmd,
        "returncode": proc.returncode,
        "wall_s": wall,
        "cpu_s": cpu,
        "passes_s": passes,
        "output_bytes": out.stat().st_size if out.exists() else None,
    }
    if proc.returncode != 0:
        result["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Cold and warm compile times, per stage.")
    parser.add_argument(
        "--model",
        default="resnet50",
        help="light model name, bert, or an .onnx path (default: resnet50)",
    )
    parser.add_argument(
        "-O",
        dest="opt_level",
        type=int,
        default=3,
        choices=[0, 1, 2, 3],
        help="opt level (default: 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights (default: 0)")
    parser.add_argument("--skip-opt", action="store_true", help="do not time compiler-opt")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    import compiler  # noqa: F401
    import compiler.driver  # noqa: F401
    import compiler.frontend.onnx  # noqa: F401
    import compiler.targets.cpu.machine  # noqa: F401

    imports = time.perf_counter() - start
    report: dict[str, Any] = {
        "model": args.model,
        "opt_level": args.opt_level,
        "imports_s": imports,
    }
    saved_env = os.environ.get("COMPILER_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="compile_time_") as tmp:
        work = Path(tmp)
        path = model_file(args.model, work / "models", args.seed)
        cache_dir = work / "cache"
        cache_dir.mkdir()
        print(
            f"model {args.model} ({path.stat().st_size / 1e6:.1f} MB), -O{args.opt_level}, cache dir {cache_dir}"
        )
        print(f"imports (compiler, frontend, driver, LLVM target): {imports:.2f} s")
        os.environ["COMPILER_CACHE_DIR"] = str(cache_dir)
        try:
            cold, cold_cpu, cold_stats = timed_compile(path, args.opt_level)
            print_breakdown("cold compile (empty cache)", cold, cold_cpu, cold_stats)
            warm, warm_cpu, warm_stats = timed_compile(path, args.opt_level)
            print_breakdown("warm recompile (same cache)", warm, warm_cpu, warm_stats)
        finally:
            if saved_env is None:
                os.environ.pop("COMPILER_CACHE_DIR", None)
            else:
                os.environ["COMPILER_CACHE_DIR"] = saved_env
        report.update(
            cold_s=cold,
            cold_cpu_s=cold_cpu,
            cold_stages_s=cold_stats.seconds,
            cold_worker_cpu_s=cold_stats.worker_seconds,
            workers=cold_stats.workers,
            warm_s=warm,
            warm_cpu_s=warm_cpu,
            warm_stages_s=warm_stats.seconds,
        )
        if not args.skip_opt:
            opt = time_compiler_opt(path, args.opt_level, work)
            report["compiler_opt"] = opt
            size = f", {opt['output_bytes'] / 1e6:.0f} MB of IR" if opt["output_bytes"] else ""
            print(
                f"compiler-opt {path.name} -p 'graph-optimize{{level={args.opt_level}}}': {opt['wall_s']:.2f} s wall, {opt['cpu_s']:.2f} s CPU{size}"
            )
            for name, seconds in opt["passes_s"].items():
                print(f"  pass {name:<19}{seconds:9.3f} s  (--time-passes)")
            if opt["returncode"] != 0:
                print(f"  FAILED (exit {opt['returncode']}): {opt.get('error')}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    failed = "compiler_opt" in report and report["compiler_opt"]["returncode"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
