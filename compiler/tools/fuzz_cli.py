"""`compiler fuzz`: differential fuzzing of the compiler against onnxruntime.

    compiler fuzz --graphs N --seed S [--start I] [--ops Relu,Conv,...] [--minimize]
                  [--out DIR] [--timeout SEC] [--jobs N]

Graph I of seed S is always the same graph (compiler/testing/fuzz/generator.py);
each is compiled at O0 and O3 and run at 1 and 3 threads in a child process
(compiler/testing/fuzz/differential.py). The last line is the summary
`N graphs, N passed, N mismatches, N crashes, N hangs, N rejected`; the exit
status is 1 when there is a finding.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from compiler.errors import CompilerError


def add_fuzz_parser(sub: Any, count: Any) -> None:
    fuzz = sub.add_parser(
        "fuzz",
        help="compile random ONNX graphs at O0/O3 and 1/3 threads; compare with onnxruntime",
        description="Generate seeded random valid ONNX graphs, compile and run each in a child "
        "process, compare with onnxruntime (1e-4 relative). Every mismatch, crash or hang is "
        "written to --out as NAME.onnx + NAME.npz (feeds) + NAME.txt.",
    )
    fuzz.add_argument("--graphs", type=count("graph count", 1), default=100, metavar="N",
                      help="graphs to check (default: 100)")
    fuzz.add_argument("--seed", type=int, default=0, help="campaign seed (default: 0)")
    fuzz.add_argument("--start", type=count("start index", 0), default=0, metavar="I",
                      help="index of the first graph (default: 0)")
    fuzz.add_argument("--ops", metavar="OP,OP,...", help="draw only these ops (default: all the fuzzer knows)")
    fuzz.add_argument("--minimize", action="store_true",
                      help="shrink each reproducer by deleting nodes while it still fails")
    fuzz.add_argument("--out", default="fuzz-findings", metavar="DIR",
                      help="where reproducers go (default: fuzz-findings)")
    fuzz.add_argument("--timeout", type=float, default=60.0, metavar="SEC",
                      help="seconds per graph before it counts as a hang (default: 60)")
    fuzz.add_argument("--jobs", type=count("job count", 1), default=1, metavar="N",
                      help="graphs checked at once (default: 1)")


def main(args: argparse.Namespace) -> int:
    from compiler.testing.fuzz.campaign import run
    from compiler.testing.fuzz.generator import generator_names

    ops = [op.strip() for op in args.ops.split(",") if op.strip()] if args.ops else None
    try:
        generator_names(ops)
    except ValueError as err:
        raise CompilerError(str(err)) from None
    if args.timeout <= 0:
        raise CompilerError("--timeout must be positive")
    summary = run(args.seed, args.graphs, start=args.start, ops=ops, jobs=args.jobs,
                  timeout=args.timeout, out_dir=Path(args.out), do_minimize=args.minimize)
    print(summary.line())
    if summary.findings:
        return 1
    return 130 if summary.interrupted else 0
