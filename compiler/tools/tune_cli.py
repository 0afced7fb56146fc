"""`compiler tune`: search schedules for a model's kernels and append them to records.

    compiler tune model.onnx --records r.jsonl [--trials N] [--time-budget S]
                  [--search gbm|random] [--timeout S] [--threads N] [--plot curve.png]
                  [--ray [ADDRESS] [--target CPU] [--runners-per-node N]]
    compiler build model.onnx --records r.jsonl     # the best record per kernel

See compiler/tuner/tune.py for the loop.
"""

from __future__ import annotations

import argparse
from typing import Any

from compiler.errors import CompilerError


def add_tune_parser(sub: Any, count: Any, threads: Any) -> None:
    tune = sub.add_parser(
        "tune",
        help="search schedules for the model's kernels (auto-tuner); results go to --records",
        description="Extract the model's kernels, measure their default schedules, then search "
        "schedules for the kernels that take the most time, with a gradient-boosted cost model "
        "(--search gbm) or at random. Every measurement is appended to RECORDS as a JSON line; "
        "a rerun resumes. Build with 'compiler build MODEL --records RECORDS'.",
    )
    tune.add_argument("model", metavar="MODEL", help="the .onnx model")
    tune.add_argument("--records", required=True, metavar="RECORDS.jsonl", help="tuning records (appended)")
    tune.add_argument("--trials", type=count("trial count", 1), default=200, metavar="N",
                      help="candidates to measure in all, shared by the tasks by their time (default: 200)")
    tune.add_argument("--time-budget", type=float, default=None, metavar="S",
                      help="stop after S seconds (default: none)")
    tune.add_argument("--search", choices=("gbm", "random"), default="gbm",
                      help="gbm: annealing over the cost model; random: uniform (default: gbm)")
    tune.add_argument("--timeout", type=float, default=10.0, metavar="S",
                      help="seconds one candidate may run before it counts as hung (default: 10)")
    tune.add_argument("--threads", type=threads, default=1, metavar="N",
                      help="threads the kernels are tuned for (default: 1)")
    tune.add_argument("--batch", type=count("batch size", 1), default=8, metavar="N",
                      help="candidates per measured batch (default: 8)")
    tune.add_argument("--tasks", type=count("task count", 1), default=None, metavar="K",
                      help="tune only the K tasks with the largest share of the time")
    tune.add_argument("--seed", type=int, default=0, help="seed of the search (default: 0)")
    tune.add_argument("--input-shape", action="append", default=[], metavar="NAME=DxDx..",
                      help="pin the shape of a model input with symbolic dims (repeatable)")
    tune.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=3, metavar="{0,1,2,3}",
                      help="optimization level (default: -O3)")
    tune.add_argument("--plot", metavar="CURVE.png", help="draw best GFLOP/s against trials per task")
    tune.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                      help="build and time on a Ray cluster (ADDRESS, or 'auto'; omitted: start a local "
                      "instance); the search stays here. Needs the 'distributed' extra")
    tune.add_argument("--target", default=None, metavar="CPU",
                      help="with --ray: time only on the nodes of this CPU (its model or LLVM CPU name)")
    tune.add_argument("--runners-per-node", type=count("runner count", 1), default=1, metavar="N",
                      help="with --ray: runner actors per node (default 1: two timings never share a node)")


def plot_curves(path: str, curves: dict[str, list[float]], title: str) -> None:
    """Best-so-far GFLOP/s against trials, one line per label."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CompilerError("--plot needs matplotlib", hint="pip install matplotlib") from None
    fig, ax = plt.subplots(figsize=(12, 6))
    for label, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, label=label[:48])
    ax.set_xlabel("trials")
    ax.set_ylabel("best GFLOP/s so far")
    ax.set_title(title)
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(args: argparse.Namespace) -> int:
    from compiler.tools.cli import _require_file
    from compiler.tools.opt import parse_input_shapes
    from compiler.tuner.tune import tune

    model = _require_file(args.model)
    shapes = parse_input_shapes(args.input_shape)
    report = tune(
        str(model),
        args.records,
        input_shapes=shapes or None,
        opt_level=args.opt_level,
        trials=args.trials,
        time_budget=args.time_budget,
        search=args.search,
        timeout=args.timeout,
        num_threads=args.threads or 1,
        seed=args.seed,
        batch_size=args.batch,
        max_tasks=args.tasks,
        ray=args.ray,
        target=args.target,
        runners_per_node=args.runners_per_node,
    )
    print(report.table())
    if args.plot:
        curves = {r.task.describe(): r.curve for r in report.results if len(r.curve) > 1}
        plot_curves(args.plot, curves, f"{model.name}: {args.search} search")
        print(f"wrote {args.plot}")
    return 0
