"""The `compiler` command: build an ONNX model into a shared library, or run one.

    compiler build model.onnx -o model.so [--input-shape x=1x3x224x224] [-O3] [--threads N] [-v]
    compiler run model.onnx [--inputs feeds.npz] [--repeat 20] [--threads N] [--compare] [--target tensorrt]
    compiler run model.so   [--inputs feeds.npz] [--repeat 20] [--threads N]
    compiler conformance [--jobs N] [--filter REGEX] [--report report.json] [--check passing.txt]
    compiler tune model.onnx --records r.jsonl [--trials N] [--time-budget S] [--search gbm|random]
    compiler fuzz --graphs N --seed S [--ops Relu,Conv] [--minimize] [--out DIR] [--timeout S]
    compiler fuzz-models [MODEL ...] --mutants N --seed S [--out DIR] [--jobs J]
    compiler quantize model.onnx --calibration feeds.npz -o model.int8.onnx [--method entropy]
    compiler export-onnx model.onnx -o model.opt.onnx [--input-shape x=1x3x224x224] [--precision fp16]

Every user error (missing file, bad option, wrong input arrays, an op the
compiler does not support) prints one line `compiler: error: ...` on stderr
and exits with status 1; a failed build leaves no output file behind (see
`CompiledModel.export`). Unexpected internal errors print one line too,
unless COMPILER_DEBUG is set, which shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from compiler.errors import CompilerError, InputError, ModelLoadError

if TYPE_CHECKING:
    from compiler.driver import CompileStats
    from compiler.runtime import CompiledModel, TensorSpec

PROG = "compiler"
EXPORT_SUFFIXES = (".so", ".json", ".params")


class UsageError(CompilerError):
    """A malformed command line (argparse's errors, redirected to our one-line format)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage block and exits 2; we want one line and status 1.
        raise UsageError(message, hint=f"see '{self.prog} --help'")


def _count_parser(what: str, minimum: int, note: str = "") -> Callable[[str], int]:
    """An argparse `type` for an integer count of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}{note}")
        return value

    return parse


_parse_threads = _count_parser("thread count", 0, " (0: all cores)")
_parse_repeat = _count_parser("repeat count", 1)


def _add_compile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=DxDx..",
        help="pin the shape of a model input with symbolic dims (repeatable)",
    )
    p.add_argument(
        "-O",
        dest="opt_level",
        type=int,
        choices=range(4),
        default=3,
        metavar="{0,1,2,3}",
        help="optimization level (default: -O3)",
    )
    p.add_argument(
        "--precision",
        choices=("fp32", "fp16", "bf16"),
        default="fp32",
        help="store weights and activations in fp16 or bf16, sensitive ops in f32 (default: fp32)",
    )
    p.add_argument(
        "--threads",
        type=_parse_threads,
        default=None,
        metavar="N",
        help="threads for parallel loops (default: all cores)",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="do not read or write the compile cache"
    )
    p.add_argument(
        "--records",
        metavar="RECORDS.jsonl",
        help="tuning records ('compiler tune'): each kernel takes its best schedule for this CPU",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print compile time per stage")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Compile ONNX models to native code and run them.",
        epilog="Set COMPILER_CACHE_DIR to move the compile cache (empty: no cache).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="{build,run,export-onnx,quantize,conformance,tune,fuzz}", parser_class=_Parser)

    build = sub.add_parser(
        "build",
        help="compile an ONNX model into a shared library (.so + .json + .params)",
        description="Compile an ONNX model and export it as OUT (.so) with OUT's .json "
        "metadata and .params weights beside it; load it with compiler.load(OUT).",
    )
    build.add_argument("model", metavar="MODEL", help="the .onnx model")
    build.add_argument(
        "-o", "--output", metavar="OUT", help="the shared library to write (default: MODEL's name with .so, here)"
    )
    _add_compile_options(build)

    run = sub.add_parser(
        "run",
        help="run an ONNX model (compiling it) or an exported .so, and time it",
        description="Run a model on given or random inputs; print each output and the "
        "median latency.",
    )
    run.add_argument("model", metavar="MODEL", help="an .onnx model or a .so written by 'compiler build'")
    run.add_argument(
        "--inputs",
        metavar="FEEDS.npz",
        help="input arrays by input name (or arr_0, arr_1, ... in input order); "
        "a .npy file for a one-input model; default: seeded random inputs",
    )
    run.add_argument(
        "--repeat", type=_parse_repeat, default=10, metavar="N",
        help="timed runs after one warm-up run; the median is printed (default: 10)",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    run.add_argument(
        "--profile",
        action="store_true",
        help="time every kernel call (ONNX input only): ms, share, GFLOP/s and the fraction of "
        "a GEMM's rate measured here, slowest first",
    )
    run.add_argument(
        "--compare",
        action="store_true",
        help="also run onnxruntime (ONNX input only) with the same inputs and threads; "
        "print the max relative error and the latency ratio",
    )
    run.add_argument(
        "--target",
        choices=("cpu", "cuda", "tensorrt"),
        default="cpu",
        help="where the model runs (ONNX input only): this CPU, an NVIDIA GPU through our CUDA C, "
        "or a TensorRT engine of the optimized graph (the 'tensorrt' extra; default: cpu)",
    )
    _add_compile_options(run)
    _add_conformance_parser(sub)
    from compiler.tools.tune_cli import add_tune_parser

    add_tune_parser(sub, _count_parser, _parse_threads)
    from compiler.tools.fuzz_cli import add_fuzz_parser

    add_fuzz_parser(sub, _count_parser)
    from compiler.tools.quantize_cli import add_quantize_parser

    add_quantize_parser(sub, _count_parser)
    from compiler.tools.export_onnx_cli import add_export_onnx_parser

    add_export_onnx_parser(sub)

    from compiler.testing import model_fuzz

    model_fuzz.add_parser(sub, _count_parser)
    return parser


def _add_conformance_parser(sub: Any) -> None:
    conf = sub.add_parser(
        "conformance",
        help="run ONNX's node test suite through compiler.onnx_backend",
        description="Run every case of onnx.backend.test.case.node.collect_testcases(None) "
        "(compile, run, compare with the case's rtol/atol) in worker processes; print a line "
        "per op and 'N passed, N failed' (see compiler/testing/conformance.py).",
    )
    conf.add_argument("--jobs", type=_count_parser("job count", 1), default=1, metavar="N",
                      help="worker processes (default: 1)")
    conf.add_argument("--filter", metavar="REGEX", help="run only the cases whose name matches")
    conf.add_argument("--report", metavar="REPORT.json", help="write every case, the unsupported ops "
                      "ranked by cases unlocked and the failure categories as JSON")
    conf.add_argument("--timeout", type=float, default=120.0, metavar="S",
                      help="seconds per case before its worker is killed (default: 120)")
    conf.add_argument("--check", metavar="PASSING.txt",
                      help="exit 1 when a case listed in this file (and selected) does not pass")
    conf.add_argument("--write-passing", metavar="PASSING.txt", help="write the passing cases to this file")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("compiler")
    except Exception:  # not installed as a distribution: running from a checkout
        return "(development)"


# -- helpers -------------------------------------------------------------------


def _require_file(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ModelLoadError("no such file", file=path, hint="check the path")
    if not p.is_file():
        raise ModelLoadError("not a file", file=path)
    return p


def _output_path(model: Path, output: str | None) -> Path:
    out = Path(output) if output else Path(model.with_suffix(".so").name)
    if out.suffix in (".json", ".params", ".onnx"):
        raise UsageError(
            f"output '{out}' has suffix {out.suffix}", hint="name the library model.so"
        )
    if out.is_dir():
        raise UsageError(f"output '{out}' is a directory", hint="give a file name like model.so")
    directory = out.parent
    # Checked before compiling so that a typo in -o fails in a second, not after a long build.
    if not directory.is_dir():
        raise UsageError("output directory does not exist", hint=f"create '{directory}' first")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"output directory '{directory}' is not writable")
    return out


def _compile(args: argparse.Namespace, model: Path) -> tuple[CompiledModel, CompileStats, float]:
    from compiler.driver import CompileStats, compile
    from compiler.tools.opt import parse_input_shapes

    shapes = parse_input_shapes(args.input_shape)
    stats = CompileStats()
    start = time.perf_counter()
    compiled = compile(
        str(model),
        input_shapes=shapes or None,
        opt_level=args.opt_level,
        num_threads=args.threads,
        cache=not args.no_cache,
        stats=stats,
        precision=args.precision,
        records=args.records,
        profile=getattr(args, "profile", False),
        target=getattr(args, "target", "cpu"),
    )
    return compiled, stats, time.perf_counter() - start


def _print_stats(stats: CompileStats, total: float, out: Callable[[str], None]) -> None:
    width = max((len(s) for s in [*stats.seconds, *stats.worker_seconds]), default=5)
    for stage, seconds in stats.seconds.items():
        out(f"  {stage:<{width}}  {seconds:8.3f} s")
        if stage == "lower-functions":  # its steps ran in the workers: their CPU seconds
            for step, cpu in stats.worker_seconds.items():
                out(f"    {step:<{width - 2}}  {cpu:8.3f} s CPU in {stats.workers} process(es)")
    out(f"  {'total':<{width}}  {total:8.3f} s")


def _is_onnx(path: Path) -> bool:
    from compiler.targets.cuda.export import is_cuda_export

    return path.suffix != ".so" and not is_cuda_export(path)


def random_feeds(specs: Sequence[TensorSpec], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs for the specs: floats standard normal, bools 0/1, ints in [0, 2).

    Integers stay tiny because they are usually indices (token ids, gather
    indices) or masks, and 0 and 1 are valid for any vocabulary or axis of size >= 2.
    """
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for spec in specs:
        dt = np.dtype(spec.dtype)
        if dt.kind == "f":
            feeds[spec.name] = rng.standard_normal(spec.shape).astype(dt)
        else:
            feeds[spec.name] = rng.integers(0, 2, spec.shape).astype(dt)
    return feeds


def load_feeds(path: str, names: Sequence[str]) -> dict[str, Any]:
    """Arrays from a .npz (by input name, or arr_0.. in input order) or a .npy (one input)."""
    p = _require_file(path)
    if p.suffix not in (".npz", ".npy"):
        raise InputError("expected a .npz or .npy file", file=path,
                         hint="write the inputs with np.savez(path, name=array, ...)")
    try:
        data = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(
            f"cannot read input arrays ({str(err).splitlines()[0] if str(err) else type(err).__name__})",
            file=path,
            hint="write them with np.savez(path, name=array, ...)",
        ) from None
    if isinstance(data, np.ndarray):  # a .npy file
        if len(names) != 1:
            raise InputError(
                f"a .npy file holds one array but the model has {len(names)} inputs {list(names)}",
                file=path,
                hint="use np.savez(path, name=array, ...)",
            )
        return {names[0]: data}
    with data:
        arrays = {key: data[key] for key in data.files}
    positional = [f"arr_{i}" for i in range(len(names))]
    if set(arrays) != set(names) and sorted(arrays) == sorted(positional):
        # np.savez(path, x, y) names arrays arr_0, arr_1, ...: take them in input order.
        return {name: arrays[key] for name, key in zip(names, positional, strict=True)}
    unknown = sorted(set(arrays) - set(names))
    if unknown:
        raise InputError(f"holds array '{unknown[0]}', which is not a model input", file=path,
                         hint=f"inputs are {list(names)}")
    return arrays


def summarize(array: np.ndarray) -> str:
    """min/max/mean and the first values, short enough for one line."""
    if array.size == 0:
        return "empty"
    values = array.astype(np.float64) if array.dtype.kind in "biu" else array
    flat = values.reshape(-1)
    head = ", ".join(f"{v:.4g}" for v in flat[:4])
    more = ", ..." if flat.size > 4 else ""
    finite = np.isfinite(flat)
    note = "" if finite.all() else f"  non-finite {int((~finite).sum())}"
    kept = flat[finite] if not finite.all() else flat
    if kept.size == 0:
        return f"[{head}{more}]{note}"
    return (
        f"min {kept.min():.4g}  max {kept.max():.4g}  mean {kept.mean():.4g}  "
        f"[{head}{more}]{note}"
    )


def time_runs(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of `repeat` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


# -- commands ------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    model = _require_file(args.model)
    out = _output_path(model, args.output)
    compiled, stats, seconds = _compile(args, model)
    start = time.perf_counter()
    compiled.export(out)
    export_seconds = time.perf_counter() - start
    if args.verbose:
        stats.seconds["export"] = export_seconds
        print(f"compile times for {model}:")
        _print_stats(stats, seconds + export_seconds, print)
    sides = ", ".join(str(out.with_suffix(s)) for s in EXPORT_SUFFIXES[1:])
    print(f"wrote {out} (with {sides})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from compiler.runtime import load

    model_path = _require_file(args.model)
    onnx_input = _is_onnx(model_path)
    if not onnx_input:
        if args.input_shape:
            raise UsageError(
                "--input-shape applies to ONNX models only; a .so has fixed input shapes"
            )
        if args.compare:
            raise UsageError(
                "--compare needs the ONNX model", hint="run the .onnx file with --compare"
            )
    if args.profile and not onnx_input:
        raise UsageError("--profile needs the ONNX model", hint="run the .onnx file with --profile")
    if args.target != "cpu" and not onnx_input:
        raise UsageError("--target applies to ONNX models only", hint="a .so or .cudamodel runs where it was built for")
    if args.target != "cpu" and args.profile:
        raise UsageError("--profile times the CPU target's kernels", hint="leave out --target")
    if onnx_input:
        compiled, stats, seconds = _compile(args, model_path)
        cached = " (from the cache)" if "cache" in stats.seconds else ""
        print(f"compiled {model_path} in {seconds:.2f} s{cached}")
        if args.verbose:
            _print_stats(stats, seconds, print)
    else:
        compiled = load(model_path, num_threads=args.threads)
        print(f"loaded {model_path}")

    specs = compiled.metadata.inputs
    if args.inputs:
        feeds = load_feeds(args.inputs, compiled.input_names)
        source = f"from {args.inputs}"
    else:
        feeds = random_feeds(specs, args.seed)
        source = f"random, seed {args.seed}"
    for spec in specs:
        print(f"input  {spec.name}: shape {spec.shape} {spec.dtype} ({source})")

    # The warm-up run checks the inputs and gives the printed outputs.
    outputs = compiled.run(None, feeds)
    for spec, value in zip(compiled.visible_outputs, outputs, strict=True):
        print(f"output {spec.name}: shape {tuple(value.shape)} {value.dtype}  {summarize(value)}")
    # A .so remembers the thread count it was built with; report what actually runs.
    threads = "all cores" if not compiled.num_threads else f"{compiled.num_threads} thread(s)"
    ours = time_runs(lambda: compiled.run(None, feeds), args.repeat)
    print(f"latency: {_ms(ours)} (median of {args.repeat} runs, {threads})")

    if args.compare:
        _compare(model_path, compiled, feeds, outputs, ours, args)
    if args.profile and compiled.profiler is not None:
        compiled.profiler.reset()
        for _ in range(args.repeat):
            compiled.run(None, feeds)
        print(compiled.profiler.report(top=25, peak_gflops=gemm_peak_gflops(compiled.num_threads or os.cpu_count() or 1)))
    return 0


def gemm_peak_gflops(threads: int, size: int = 768) -> float:
    """GFLOP/s of numpy's float32 matmul (BLAS) on `threads` threads, measured now:
    the reference of `run --profile`'s fraction of peak."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    with threadpool_limits(limits=threads):
        np.matmul(a, b)
        best = min(_timed(lambda: np.matmul(a, b)) for _ in range(5))
    return 2 * size**3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _compare(
    model_path: Path,
    compiled: CompiledModel,
    feeds: Mapping[str, Any],
    outputs: Sequence[np.ndarray],
    ours: float,
    args: argparse.Namespace,
) -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise CompilerError(
            "--compare needs onnxruntime", hint="pip install onnxruntime"
        ) from None
    from compiler.testing.oracle import max_rel_error, ort_session

    try:
        session = ort_session(model_path, num_threads=compiled.num_threads)
    except Exception as err:  # onnxruntime's own exception types
        message = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise CompilerError(f"onnxruntime cannot load the model ({message})", file=str(model_path)) from None
    ort_feeds = {name: np.asarray(feeds[name]) for name in compiled.input_names}
    expected = session.run(None, ort_feeds)
    for spec, got, want in zip(compiled.visible_outputs, outputs, expected, strict=True):
        print(f"compare {spec.name}: max relative error {max_rel_error(got, np.asarray(want)):.3g}")
    theirs = time_runs(lambda: session.run(None, ort_feeds), args.repeat)
    print(
        f"onnxruntime latency: {_ms(theirs)} (median of {args.repeat} runs); "
        f"ratio onnxruntime/compiler: {theirs / ours:.3g}x"
    )


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `compiler` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return _fail("no command given (use 'build', 'run', 'conformance' or 'tune')")
        if args.command == "build":
            return cmd_build(args)
        if args.command == "conformance":
            from compiler.testing import conformance

            args.argv = list(sys.argv[2:] if argv is None else argv[1:])
            return conformance.main(args)
        if args.command == "tune":
            from compiler.tools import tune_cli

            return tune_cli.main(args)
        if args.command == "fuzz":
            from compiler.tools import fuzz_cli

            return fuzz_cli.main(args)
        if args.command == "quantize":
            from compiler.tools import quantize_cli

            return quantize_cli.main(args)
        if args.command == "export-onnx":
            from compiler.tools import export_onnx_cli

            return export_onnx_cli.main(args)
        if args.command == "fuzz-models":
            from compiler.testing import model_fuzz

            return model_fuzz.main(args)
        return cmd_run(args)
    except CompilerError as err:
        return _fail(str(err))
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        return _fail(f"{err.strerror or err}{where}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        # A bug, not bad input: keep the one-line contract, but allow the traceback.
        if os.environ.get("COMPILER_DEBUG"):
            raise
        text = str(err).strip().splitlines()
        detail = f": {text[0][:200]}" if text else ""
        return _fail(
            f"internal error ({type(err).__name__}{detail}); "
            "set COMPILER_DEBUG=1 for the traceback and report it"
        )


if __name__ == "__main__":
    sys.exit(main())
