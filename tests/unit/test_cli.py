"""The `compiler` command line: build, run (ONNX and .so), --compare, and its error paths.

Most tests call `main(argv)` in this process (fast); a few run the real
command in a subprocess to check the console script and the one-line errors.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from runtime_models import dynamic_batch, two_in_two_out, two_in_two_out_reference, unsupported_op

from compiler.errors import CompilerError
from compiler.tools import cli

X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype=np.float32)
Y = np.array([[0.5, 1.5, -2.5], [3.0, -1.0, 2.0]], dtype=np.float32)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPILER_DEBUG", raising=False)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.onnx"
    onnx.save(two_in_two_out(), path)
    return path


@pytest.fixture
def dynamic(tmp_path: Path) -> Path:
    path = tmp_path / "dyn.onnx"
    onnx.save(dynamic_batch(), path)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str, pattern: str) -> None:
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("compiler: error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err


def outputs_in(text: str) -> dict[str, str]:
    """`output NAME: shape (..) dtype  summary` lines by name."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"output (\S+): (.*)", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


# -- build ---------------------------------------------------------------------------


def test_build_exports_a_loadable_model(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path
) -> None:
    import compiler

    out = tmp_path / "out" / "m.so"
    out.parent.mkdir()
    rc, stdout, err = run_cli(capsys, "build", small, "-o", out)
    assert rc == 0, err
    assert f"wrote {out}" in stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.json", "m.params", "m.so"]
    got = compiler.load(out)(X, Y)
    for a, b in zip(got, two_in_two_out_reference(X, Y), strict=True):
        np.testing.assert_array_equal(a, b)


def test_build_verbose_prints_stage_times(
    capsys: pytest.CaptureFixture[str], dynamic: Path, tmp_path: Path
) -> None:
    # Not beside the model: the compile cache's key covers the files in the model's folder.
    out = tmp_path / "out" / "d.so"
    out.parent.mkdir()
    rc, stdout, err = run_cli(
        capsys, "build", dynamic, "-o", out, "--input-shape", "x=3x8", "-O1", "--threads", "1", "-v"
    )
    assert rc == 0, err
    for stage in ("import", "graph-optimize", "lower-functions", "export", "total"):
        assert re.search(rf"^  {stage}\s+\d+\.\d{{3}} s$", stdout, re.M), stdout
    for step in ("convert-to-llvm", "llvm"):  # lower-functions' steps, run in its workers
        assert re.search(rf"^    {step}\s+\d+\.\d{{3}} s CPU in 1 process", stdout, re.M), stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["inputs"] == [{"name": "x", "shape": [3, 8], "dtype": "float32"}]
    assert meta["num_threads"] == 1
    # The .so runs with the thread count it was built with unless --threads says otherwise.
    assert "1 thread(s)" in run_cli(capsys, "run", out, "--repeat", "1")[1]
    assert "2 thread(s)" in run_cli(capsys, "run", out, "--repeat", "1", "--threads", "2")[1]
    # The same build again comes from the cache; --no-cache compiles.
    rc, stdout, _ = run_cli(capsys, "build", dynamic, "-o", out, "--input-shape", "x=3x8", "-O1", "-v")
    assert rc == 0 and re.search(r"^  cache\s", stdout, re.M)
    rc, stdout, _ = run_cli(
        capsys, "build", dynamic, "-o", out, "--input-shape", "x=3x8", "-O1", "-v", "--no-cache"
    )
    assert rc == 0 and "graph-optimize" in stdout and not re.search(r"^  cache\s", stdout, re.M)


def test_build_default_output_is_the_model_name_here(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    rc, _, err = run_cli(capsys, "build", small)
    assert rc == 0, err
    assert sorted(p.name for p in work.iterdir()) == ["small.json", "small.params", "small.so"]


# -- run -----------------------------------------------------------------------------


def test_run_onnx_with_npz_inputs(capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path) -> None:
    np.savez(tmp_path / "in.npz", x=X, y=Y)
    rc, stdout, err = run_cli(capsys, "run", small, "--inputs", tmp_path / "in.npz", "--repeat", "3")
    assert rc == 0, err
    outs = outputs_in(stdout)
    assert list(outs) == ["sum", "prod"]
    prod = X * Y
    assert outs["prod"].startswith("shape (2, 3) float32")
    assert f"min {prod.min():.4g}" in outs["prod"] and f"max {prod.max():.4g}" in outs["prod"]
    assert "input  x: shape (2, 3) float32 (from" in stdout
    assert re.search(r"^latency: \d+\.\d{3} ms \(median of 3 runs, all cores\)$", stdout, re.M)


def test_run_exported_so_random_and_positional_inputs(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path
) -> None:
    so = tmp_path / "m.so"
    assert run_cli(capsys, "build", small, "-o", so)[0] == 0
    rc, stdout, err = run_cli(capsys, "run", so, "--threads", "1", "--repeat", "2")
    assert rc == 0, err
    assert stdout.startswith(f"loaded {so}")
    assert "(random, seed 0)" in stdout and "1 thread(s)" in stdout
    assert list(outputs_in(stdout)) == ["sum", "prod"]
    # np.savez without names: arr_0, arr_1 in input order; same numbers as the named run.
    np.savez(tmp_path / "pos.npz", X, Y)
    np.savez(tmp_path / "named.npz", y=Y, x=X)
    rc1, positional, _ = run_cli(capsys, "run", so, "--inputs", tmp_path / "pos.npz", "--repeat", "1")
    rc2, named, _ = run_cli(capsys, "run", so, "--inputs", tmp_path / "named.npz", "--repeat", "1")
    assert rc1 == rc2 == 0
    assert outputs_in(positional) == outputs_in(named)


def test_run_npy_for_a_one_input_model(
    capsys: pytest.CaptureFixture[str], dynamic: Path, tmp_path: Path
) -> None:
    np.save(tmp_path / "x.npy", np.ones((2, 8), np.float32))
    rc, stdout, err = run_cli(
        capsys, "run", dynamic, "--input-shape", "x=2x8", "--inputs", tmp_path / "x.npy", "--repeat", "1"
    )
    assert rc == 0, err
    assert outputs_in(stdout)["y"].startswith("shape (2, 4) float32")


def test_run_compare_against_onnxruntime(
    capsys: pytest.CaptureFixture[str], dynamic: Path
) -> None:
    rc, stdout, err = run_cli(
        capsys, "run", dynamic, "--input-shape", "x=4x8", "--compare", "--repeat", "3", "--threads", "1"
    )
    assert rc == 0, err
    m = re.search(r"^compare y: max relative error (\S+)$", stdout, re.M)
    assert m and float(m.group(1)) < 1e-5, stdout
    assert re.search(
        r"^onnxruntime latency: \d+\.\d{3} ms \(median of 3 runs\); ratio onnxruntime/compiler: [0-9.e+-]+x$",
        stdout,
        re.M,
    ), stdout


def test_run_profile_prints_kernels_with_gflops_and_peak_share(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`run --profile`: one line per kernel call, slowest first, with GFLOP/s and % of a GEMM peak."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((16, 32), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])],
        "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 32])],
        [w],
    )
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    rc, stdout, err = run_cli(capsys, "run", path, "--profile", "--repeat", "3", "--threads", "1")
    assert rc == 0, err
    assert re.search(r"ms total over 1 kernel calls \(3 runs\), [0-9.]+ GFLOP/s \(GEMM peak here [0-9.]+\)", stdout), stdout
    # 8 x 16 x 32 multiply-adds and 8 x 32 relus (a max each).
    line = re.search(r"^ +[0-9.]+ ms +100\.0% +([0-9.]+) GFLOP/s +[0-9.]+% of peak  #0 matmul", stdout, re.M)
    assert line and float(line.group(1)) > 0, stdout
    rc, _, err = run_cli(capsys, "run", path, "--profile", "--no-cache", "--repeat", "1")
    assert rc == 0, err


def test_profile_needs_the_onnx_model(capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path) -> None:
    so = tmp_path / "small.so"
    assert run_cli(capsys, "build", small, "-o", so)[0] == 0
    rc, _, err = run_cli(capsys, "run", so, "--profile")
    assert_one_line_error(rc, err, "--profile needs the ONNX model")


def test_random_feeds_follow_the_specs() -> None:
    from compiler.runtime import TensorSpec

    feeds = cli.random_feeds(
        [TensorSpec("a", (2, 3), "float32"), TensorSpec("ids", (4,), "int64"), TensorSpec("m", (5,), "bool")]
    )
    assert feeds["a"].dtype == np.float32 and feeds["a"].shape == (2, 3)
    assert feeds["ids"].dtype == np.int64 and set(feeds["ids"].tolist()) <= {0, 1}
    assert feeds["m"].dtype == np.bool_
    again = cli.random_feeds([TensorSpec("a", (2, 3), "float32")])
    np.testing.assert_array_equal(again["a"], feeds["a"])  # seeded


# -- errors: one line, exit 1, nothing written ------------------------------------------


def test_missing_model_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for command in ("build", "run"):
        rc, _, err = run_cli(capsys, command, tmp_path / "nope.onnx")
        assert_one_line_error(rc, err, r"nope\.onnx: no such file; check the path")
    assert run_cli(capsys, "run", tmp_path / "nope.so")[0] == 1


@pytest.mark.parametrize("spec", ["x", "x=", "x=2xa", "=2x8", "x=2x-"])
def test_bad_input_shape(
    capsys: pytest.CaptureFixture[str], dynamic: Path, tmp_path: Path, spec: str
) -> None:
    rc, _, err = run_cli(capsys, "build", dynamic, "-o", tmp_path / "d.so", "--input-shape", spec)
    assert_one_line_error(rc, err, r"bad --input-shape .*; write it as name=1x3x224x224")
    assert not list(tmp_path.glob("d.*"))


def test_input_shape_errors_from_the_model(
    capsys: pytest.CaptureFixture[str], dynamic: Path, tmp_path: Path
) -> None:
    rc, _, err = run_cli(capsys, "build", dynamic, "-o", tmp_path / "d.so")
    assert_one_line_error(rc, err, r"input 'x' has symbolic dim 'n'.*--input-shape x=")
    rc, _, err = run_cli(capsys, "build", dynamic, "-o", tmp_path / "d.so", "--input-shape", "z=1x8")
    assert_one_line_error(rc, err, r"'z', which is not a model input")
    rc, _, err = run_cli(capsys, "build", dynamic, "-o", tmp_path / "d.so", "--input-shape", "x=2x9")
    assert_one_line_error(rc, err, r"input 'x' dim 1 is 8, pinned to 9")
    assert not list(tmp_path.glob("d.*"))


def test_unwritable_output_leaves_nothing(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path
) -> None:
    rc, _, err = run_cli(capsys, "build", small, "-o", tmp_path / "missing" / "m.so")
    assert_one_line_error(rc, err, r"output directory does not exist")
    assert not (tmp_path / "missing").exists()
    # /sys refuses new files even to root (os.access says yes, so this fails at export).
    rc, _, err = run_cli(capsys, "build", small, "-o", "/sys/compiler-test.so")
    assert_one_line_error(rc, err, r"compiler-test\.so")
    assert not os.path.exists("/sys/compiler-test.so")
    rc, _, err = run_cli(capsys, "build", small, "-o", tmp_path / "m.json")
    assert_one_line_error(rc, err, r"has suffix \.json")
    rc, _, err = run_cli(capsys, "build", small, "-o", tmp_path)
    assert_one_line_error(rc, err, r"is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "small.onnx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_read_only_output_directory(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    rc, _, err = run_cli(capsys, "build", small, "-o", locked / "m.so")
    assert_one_line_error(rc, err, r"not writable")
    assert list(locked.iterdir()) == []


def test_failure_while_exporting_leaves_nothing(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.targets.cpu import export

    def link_then_fail(data: bytes, path: Path, *, parallel: bool = True) -> Path:
        Path(path).write_bytes(b"half a library")
        raise CompilerError("linking m.so failed: simulated")

    monkeypatch.setattr(export, "link_shared_library", link_then_fail)
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = run_cli(capsys, "build", small, "-o", out / "m.so")
    assert_one_line_error(rc, err, r"linking m\.so failed: simulated")
    assert list(out.iterdir()) == []


def test_unsupported_op_names_the_node(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    onnx.save(unsupported_op(), tmp_path / "u.onnx")
    rc, _, err = run_cli(capsys, "build", tmp_path / "u.onnx", "-o", tmp_path / "u.so")
    assert_one_line_error(rc, err, r"u\.onnx: node 'u' \(Det, opset 17\): this op is not supported")
    assert not list(tmp_path.glob("u.*[!x]"))  # only u.onnx


def test_not_an_onnx_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"\x00\x01 not protobuf \xff" * 10)
    rc, _, err = run_cli(capsys, "run", tmp_path / "junk.onnx")
    assert_one_line_error(rc, err, r"junk\.onnx: not a valid ONNX model")


def test_bad_run_inputs(capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path) -> None:
    so = tmp_path / "m.so"
    assert run_cli(capsys, "build", small, "-o", so)[0] == 0
    cases = {
        "wrong_name.npz": (dict(x=X, z=Y), r"holds array 'z', which is not a model input"),
        "missing.npz": (dict(x=X), r"missing input 'y'"),
        "dtype.npz": (dict(x=X.astype(np.float64), y=Y), r"input 'x' has dtype float64, expected float32"),
        "shape.npz": (dict(x=X[:1], y=Y), r"input 'x' has shape \(1, 3\), expected \(2, 3\)"),
    }
    for name, (arrays, pattern) in cases.items():
        np.savez(tmp_path / name, **arrays)
        rc, _, err = run_cli(capsys, "run", so, "--inputs", tmp_path / name)
        assert_one_line_error(rc, err, pattern)
    np.save(tmp_path / "one.npy", X)
    rc, _, err = run_cli(capsys, "run", so, "--inputs", tmp_path / "one.npy")
    assert_one_line_error(rc, err, r"a \.npy file holds one array but the model has 2 inputs")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    rc, _, err = run_cli(capsys, "run", so, "--inputs", tmp_path / "bad.npz")
    assert_one_line_error(rc, err, r"bad\.npz: cannot read input arrays")
    rc, _, err = run_cli(capsys, "run", so, "--inputs", tmp_path / "m.json")
    assert_one_line_error(rc, err, r"expected a \.npz or \.npy file")
    rc, _, err = run_cli(capsys, "run", so, "--inputs", tmp_path / "absent.npz")
    assert_one_line_error(rc, err, r"absent\.npz: no such file")


def test_so_only_options_and_usage_errors(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path
) -> None:
    so = tmp_path / "m.so"
    assert run_cli(capsys, "build", small, "-o", so)[0] == 0
    rc, _, err = run_cli(capsys, "run", so, "--compare")
    assert_one_line_error(rc, err, r"--compare needs the ONNX model")
    rc, _, err = run_cli(capsys, "run", so, "--input-shape", "x=2x3")
    assert_one_line_error(rc, err, r"--input-shape applies to ONNX models only")
    (tmp_path / "m.params").unlink()
    rc, _, err = run_cli(capsys, "run", so)
    assert_one_line_error(rc, err, r"m\.params: missing file of an exported model")
    usage = [
        (["build", small, "-O5"], r"argument -O: invalid choice: 5"),
        (["run", small, "--repeat", "0"], r"repeat count must be >= 1"),
        (["run", small, "--threads", "-2"], r"thread count must be >= 0"),
        (["run", small, "--threads", "two"], r"invalid thread count 'two'"),
        (["build"], r"the following arguments are required: MODEL; see 'compiler build --help'"),
        (["frobnicate"], r"invalid choice: 'frobnicate'"),
        (["run", small, "--bogus"], r"unrecognized arguments: --bogus"),
    ]
    for argv, pattern in usage:
        rc, _, err = run_cli(capsys, *argv)
        assert_one_line_error(rc, err, pattern)
    rc, _, err = run_cli(capsys)
    assert rc == 1 and err.strip().splitlines()[-1] == "compiler: error: no command given (use 'build', 'run', 'conformance' or 'tune')"


def test_internal_errors_are_one_line_unless_debugging(
    capsys: pytest.CaptureFixture[str], small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import compiler.driver

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug\nwith two lines")

    monkeypatch.setattr(compiler.driver, "compile", broken)
    rc, _, err = run_cli(capsys, "build", small, "-o", tmp_path / "m.so")
    assert_one_line_error(rc, err, r"internal error \(RuntimeError: a bug\); set COMPILER_DEBUG=1")
    monkeypatch.setenv("COMPILER_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["build", str(small), "-o", str(tmp_path / "m.so")])
    assert not list(tmp_path.glob("m.*"))


# -- the real command, in a subprocess --------------------------------------------------


def _command() -> list[str]:
    script = Path(sys.executable).with_name("compiler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "compiler.tools.cli"]


def test_console_script_build_and_run(small: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COMPILER_CACHE_DIR": str(tmp_path / "cache")}
    so = tmp_path / "m.so"
    built = subprocess.run([*_command(), "build", str(small), "-o", str(so)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert built.returncode == 0, built.stderr
    ran = subprocess.run([*_command(), "run", str(so), "--repeat", "2"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert list(outputs_in(ran.stdout)) == ["sum", "prod"]


def test_console_script_error_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "COMPILER_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([*_command(), "run", str(tmp_path / "missing.onnx")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"compiler: error: {tmp_path / 'missing.onnx'}: no such file; check the path\n"
