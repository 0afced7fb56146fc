"""CompiledModel at run time: names, calling conventions, input checking, threads,
export and `compiler.load` (in this process and in a fresh one)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from runtime_models import parallel_matmul, two_in_two_out, two_in_two_out_reference

import compiler
from compiler.errors import CompilerError, InputError, ModelLoadError
from compiler.runtime import CompiledModel

X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype=np.float32)
Y = np.array([[0.5, 1.5, -2.5], [3.0, -1.0, 2.0]], dtype=np.float32)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompiledModel]:
    # One compile shared by the tests that only call it (module-scoped: its own cache).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield compiler.compile(two_in_two_out())


def _run_in_new_process(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "child.py"
    path.write_text(textwrap.dedent(script))
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120
    )


# -- names and calling conventions ------------------------------------------------


def test_names(model: CompiledModel) -> None:
    assert model.input_names == ["x", "y"]
    assert model.output_names == ["sum", "prod"]
    assert [t.shape for t in model.metadata.inputs] == [(2, 3), (2, 3)]
    assert [t.dtype for t in model.metadata.outputs] == ["float32", "float32"]


def test_run_call_and_feeds_forms_agree(model: CompiledModel) -> None:
    expected = two_in_two_out_reference(X, Y)
    by_name = model.run(None, {"x": X, "y": Y})
    for got, want in zip(by_name, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for other in (model(X, Y), model.run({"x": X, "y": Y}), model.run(None, [X, Y]), model.run(None, (X, Y))):
        for got, want in zip(other, by_name, strict=True):
            np.testing.assert_array_equal(got, want)


def test_run_selected_outputs(model: CompiledModel) -> None:
    total, product = model.run(None, {"x": X, "y": Y})
    (only,) = model.run(["prod"], {"x": X, "y": Y})
    np.testing.assert_array_equal(only, product)
    swapped = model.run(["prod", "sum"], {"x": X, "y": Y})
    np.testing.assert_array_equal(swapped[0], product)
    np.testing.assert_array_equal(swapped[1], total)
    assert model.run([], {"x": X, "y": Y}) == []


def test_outputs_are_fresh_arrays(model: CompiledModel) -> None:
    first = model(X, Y)
    keep = [a.copy() for a in first]
    model(Y, X)
    for a, b in zip(first, keep, strict=True):
        np.testing.assert_array_equal(a, b)


def test_non_contiguous_and_list_inputs(model: CompiledModel) -> None:
    xt = np.asfortranarray(X)
    assert not xt.flags["C_CONTIGUOUS"]
    strided = np.zeros((2, 6), np.float32)
    strided[:, ::2] = Y
    got = model(xt, strided[:, ::2])
    want = model(X, Y)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    # Nested lists are arrays too, but their float64 dtype is refused like any other.
    with pytest.raises(InputError, match="dtype float64, expected float32"):
        model(X.tolist(), Y)


# -- malformed inputs: a clear InputError, never a crash ---------------------------

BAD_FEEDS: list[tuple[str, Any, str]] = [
    ("wrong shape", {"x": X[:1], "y": Y}, r"input 'x' has shape \(1, 3\), expected \(2, 3\)"),
    ("wrong rank", {"x": X.reshape(6), "y": Y}, r"input 'x' has shape \(6,\), expected \(2, 3\)"),
    ("wrong dtype", {"x": X.astype(np.float64), "y": Y}, r"input 'x' has dtype float64, expected float32; convert"),
    ("int dtype", {"x": X, "y": Y.astype(np.int32)}, r"input 'y' has dtype int32"),
    ("unknown name", {"x": X, "y": Y, "z": X}, r"unknown input 'z'; inputs are \['x', 'y'\]"),
    ("wrong name", {"x": X, "Y": Y}, r"unknown input 'Y'"),
    ("missing input", {"x": X}, r"missing input 'y'"),
    ("None", {"x": X, "y": None}, r"input 'y' is not an array \(got NoneType\)"),
    ("string", {"x": "abc", "y": Y}, r"input 'x' is not an array \(got str\)"),
    ("object", {"x": X, "y": object()}, r"input 'y' is not an array \(got object\)"),
    ("ragged list", {"x": [[1.0], [2.0, 3.0]], "y": Y}, r"input 'x' is not an array \(got list\)"),
    ("too many positional", [X, Y, X], r"expected 2 inputs \['x', 'y'\], got 3"),
    ("too few positional", [X], r"expected 2 inputs \['x', 'y'\], got 1"),
    ("one bare array", X, r"inputs must be a dict \{name: array\} or a list of arrays, not ndarray"),
    ("a number", 3, r"inputs must be a dict .* not int"),
]


@pytest.mark.parametrize("feeds, message", [(f, m) for _, f, m in BAD_FEEDS], ids=[i for i, _, _ in BAD_FEEDS])
def test_malformed_inputs_raise_input_error(model: CompiledModel, feeds: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        model.run(None, feeds)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, CompilerError)
    # The model still works afterwards.
    np.testing.assert_array_equal(model(X, Y)[1], X * Y)


def test_malformed_call_and_output_names(model: CompiledModel) -> None:
    with pytest.raises(InputError, match=r"expected 2 inputs \['x', 'y'\], got 3"):
        model(X, Y, Y)
    with pytest.raises(InputError, match=r"expected 2 inputs .* got 0"):
        model()
    with pytest.raises(InputError, match=r"unknown output 'nope'; outputs are \['sum', 'prod'\]"):
        model.run(["nope"], {"x": X, "y": Y})
    with pytest.raises(InputError, match=r"output names must be a list of names or None, not str"):
        model.run("sum", {"x": X, "y": Y})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"no inputs given"):
        model.run(None)


def test_malformed_inputs_do_not_crash_a_fresh_process(tmp_path: Path) -> None:
    # The same checks, end to end in a separate interpreter: a crash (segfault)
    # there would show as a negative return code instead of the printed lines.
    compiler.compile(two_in_two_out()).export(tmp_path / "m.so")
    result = _run_in_new_process(
        f"""
        import numpy as np, compiler
        from compiler.errors import InputError
        m = compiler.load({str(tmp_path / "m.so")!r})
        x = np.zeros((2, 3), np.float32)
        for feeds in ({{"x": x}}, {{"x": x, "y": x[:1]}}, {{"x": x, "y": x.astype(np.int8)}}, [x, x, x], x, None):
            try:
                m.run(None, feeds)
            except InputError as err:
                print("InputError:", err)
        print("alive", m(x, x)[1].sum())
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 7 and all(line.startswith("InputError: ") for line in lines[:6])
    assert lines[-1] == "alive 0.0"


# -- threads -------------------------------------------------------------------


def test_one_and_two_threads_give_the_same_results() -> None:
    x = np.random.default_rng(0).standard_normal((256, 128)).astype(np.float32)
    m = compiler.compile(parallel_matmul())
    assert m.num_threads == 0
    m.set_num_threads(1)
    one = m(x)[0]
    m.set_num_threads(2)
    assert m.num_threads == 2
    two = m(x)[0]
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, np.maximum(x @ np.random.default_rng(1).standard_normal((128, 128)).astype(np.float32), 0), rtol=1e-4, atol=1e-4)
    m.set_num_threads(None)
    assert m.num_threads == 0
    with pytest.raises(InputError, match="bad thread count -1"):
        m.set_num_threads(-1)
    with pytest.raises(InputError, match="bad thread count"):
        m.set_num_threads("2")  # type: ignore[arg-type]


def test_num_threads_at_compile_time_survives_export(tmp_path: Path) -> None:
    m = compiler.compile(two_in_two_out(), num_threads=1)
    assert m.num_threads == 1
    m.export(tmp_path / "m.so")
    assert json.loads((tmp_path / "m.json").read_text())["num_threads"] == 1
    assert compiler.load(tmp_path / "m.so").num_threads == 1
    assert compiler.load(tmp_path / "m.so", num_threads=2).num_threads == 2


# -- export and load -------------------------------------------------------------


def test_export_then_load_in_a_new_process_gives_identical_outputs(
    model: CompiledModel, tmp_path: Path
) -> None:
    so = model.export(tmp_path / "small.so")
    assert so == tmp_path / "small.so"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.json", "small.params", "small.so"]
    np.savez(tmp_path / "in.npz", x=X, y=Y)
    result = _run_in_new_process(
        f"""
        import sys
        import numpy as np
        import compiler
        m = compiler.load({str(so)!r})
        feeds = dict(np.load({str(tmp_path / "in.npz")!r}))
        outs = m.run(None, feeds)
        np.savez({str(tmp_path / "out.npz")!r}, **dict(zip(m.output_names, outs)))
        # Loading an exported model does no xDSL work.
        print("xdsl" in sys.modules, m.input_names, m.output_names)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['x', 'y'] ['sum', 'prod']"
    out = np.load(tmp_path / "out.npz")
    for name, want in zip(model.output_names, model(X, Y), strict=True):
        np.testing.assert_array_equal(out[name], want)


def test_light_model_export_then_load_in_a_new_process(tmp_path: Path) -> None:
    from compiler.testing.models import random_inputs, seeded_light_model
    from compiler.testing.oracle import assert_close, run_onnxruntime

    proto = seeded_light_model("squeezenet")
    feeds = random_inputs(proto)
    m = compiler.compile(proto)
    ours = m.run(None, feeds)
    assert_close(ours, run_onnxruntime(proto, feeds), rtol=1e-4)
    m.export(tmp_path / "squeezenet.so")
    np.savez(tmp_path / "in.npz", **feeds)
    result = _run_in_new_process(
        f"""
        import numpy as np, compiler
        m = compiler.load({str(tmp_path / "squeezenet.so")!r})
        outs = m.run(None, dict(np.load({str(tmp_path / "in.npz")!r})))
        np.save({str(tmp_path / "out.npy")!r}, outs[0])
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), ours[0])


def test_reexport_to_the_same_path_loads_the_new_model(tmp_path: Path) -> None:
    # dlopen() hands back the library it already loaded for a path, even after
    # the file was replaced; load() must run the new code (Abs, not Relu).
    path = tmp_path / "m.so"
    compiler.compile(two_in_two_out(activation="Relu")).export(path)
    first = compiler.load(path)
    compiler.compile(two_in_two_out(scale=3.0, activation="Abs")).export(path)
    second = compiler.load(path)
    np.testing.assert_array_equal(first(X, Y)[0], two_in_two_out_reference(X, Y)[0])
    np.testing.assert_array_equal(second(X, Y)[0], two_in_two_out_reference(X, Y, 3.0, "Abs")[0])
    # Loading an unchanged file again shares the library.
    np.testing.assert_array_equal(compiler.load(path)(X, Y)[0], second(X, Y)[0])


def test_load_without_suffix(model: CompiledModel, tmp_path: Path) -> None:
    model.export(tmp_path / "m.so")
    np.testing.assert_array_equal(compiler.load(tmp_path / "m")(X, Y)[1], X * Y)


def test_export_failure_leaves_no_file(
    model: CompiledModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.targets.cpu import export

    def link_then_fail(data: bytes, path: Path, *, parallel: bool = True) -> Path:
        Path(path).write_bytes(b"half a library")
        raise CompilerError("linking failed: simulated")

    monkeypatch.setattr(export, "link_shared_library", link_then_fail)
    with pytest.raises(CompilerError, match="simulated"):
        model.export(tmp_path / "m.so")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_bad_paths(model: CompiledModel, tmp_path: Path) -> None:
    with pytest.raises(CompilerError, match="directory does not exist"):
        model.export(tmp_path / "missing" / "m.so")
    with pytest.raises(CompilerError, match="metadata and weights use that suffix"):
        model.export(tmp_path / "m.json")
    with pytest.raises(CompilerError, match="cannot write|not writable|linking"):
        model.export("/sys/m.so")  # not writable, even for root
    assert list(tmp_path.iterdir()) == []


def test_load_errors(model: CompiledModel, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="missing file of an exported model"):
        compiler.load(tmp_path / "none.so")
    model.export(tmp_path / "m.so")
    (tmp_path / "m.params").write_bytes(b"123")
    with pytest.raises(ModelLoadError, match="params file has 3 bytes, metadata says 24"):
        compiler.load(tmp_path / "m.so")
    (tmp_path / "m.json").write_text('{"format_version": 1, "inputs": 5}')
    with pytest.raises(ModelLoadError, match="bad metadata"):
        compiler.load(tmp_path / "m.so")
    (tmp_path / "m.json").write_text("not json")
    with pytest.raises(ModelLoadError, match="bad metadata"):
        compiler.load(tmp_path / "m.so")
    (tmp_path / "bad.so").write_bytes(b"not a library")
    (tmp_path / "bad.json").write_text(json.dumps(model.metadata.to_json()))
    (tmp_path / "bad.params").write_bytes(b"\0" * model.metadata.params_bytes)
    with pytest.raises(ModelLoadError, match="cannot load shared library"):
        compiler.load(tmp_path / "bad.so")


def test_loaded_model_cannot_be_exported_again(model: CompiledModel, tmp_path: Path) -> None:
    model.export(tmp_path / "m.so")
    with pytest.raises(ModelLoadError, match="export the original compile"):
        compiler.load(tmp_path / "m.so").export(tmp_path / "again.so")
