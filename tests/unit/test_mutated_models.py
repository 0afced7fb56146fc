"""Mutated (broken) models fail with one clear line, never a traceback (issue 12, part 2).

The regression tests below are the bugs that `compiler fuzz-models` found,
one each; the last test is CI's fixed-seed campaign (the full one is
`make fuzz-models`).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.errors import CompilerError, ModelLoadError, ShapeError
from compiler.frontend.onnx import import_onnx
from compiler.testing import model_fuzz
from compiler.testing.mutate import MUTATORS, mutate
from compiler.tools import opt


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "cache"))


def tiny_cnn() -> onnx.ModelProto:
    """x: f32[1, 2, 6, 6] -> conv (pads, strides), relu, max pool, flatten, gemm (transB), softmax.

    Small enough to compile in about a second, with attributes of every
    common kind (ints, int, float) for the mutators to damage.
    """
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    fc = rng.standard_normal((4, 12)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[1, 1], group=1),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[3, 3], strides=[3, 3]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc"], ["g"], name="gemm", transB=1, alpha=0.5),
        helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(fc, "fc")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _opt_one_line(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """compiler-opt on `path`: exit 1 and exactly one line on stderr, which is returned."""
    with pytest.raises(SystemExit) as done:
        opt.main([str(path), "-o", str(path.with_suffix(".mlir"))])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not path.with_suffix(".mlir").exists()
    return err


# -- regressions found by the fuzzer ------------------------------------------------------


def test_name_that_is_not_utf8_is_a_load_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A flipped byte in a value name: protobuf hands back bytes, _name_hint raised TypeError."""
    data = tiny_cnn().SerializeToString().replace(b"relu", b"rel\xff")
    with pytest.raises(ModelLoadError, match="not valid UTF-8"):
        import_onnx(data)
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    assert "not valid UTF-8" in _opt_one_line(path, capsys)


def test_compiler_opt_process_prints_one_line(tmp_path: Path) -> None:
    """The same contract through a real `compiler-opt` process, not only its main()."""
    import os
    import subprocess
    import sys

    path = tmp_path / "m.onnx"
    path.write_bytes(tiny_cnn().SerializeToString().replace(b"relu", b"rel\xff"))
    env = {**os.environ, "PYTHONPATH": str(Path(compiler.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-m", "compiler.tools.opt", str(path), "-o", str(tmp_path / "o.mlir")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("compiler-opt: error: ")
    assert not (tmp_path / "o.mlir").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_doc_string_that_is_not_utf8_is_ignored() -> None:
    model = tiny_cnn()
    model.graph.doc_string = "zzdoczz"
    data = model.SerializeToString().replace(b"zzdoczz", b"zzdoc\xff\xfe")
    import_onnx(data)


@pytest.mark.parametrize("tag", [onnx.AttributeProto.SPARSE_TENSORS, onnx.AttributeProto.FLOAT])
def test_attribute_of_the_wrong_type_is_an_error(tag: int) -> None:
    """Conv's `group` tagged as another type: int() of a list raised TypeError."""
    model = tiny_cnn()
    group = next(a for a in model.graph.node[0].attribute if a.name == "group")
    group.type = tag
    with pytest.raises(CompilerError, match="attribute 'group' has") as err:
        import_onnx(model)
    assert "conv" in str(err.value)


def test_arena_too_large_is_an_error_before_code_generation() -> None:
    """A huge batch went through every pass and failed in LLVM lowering (i32 GEP offsets)."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["r"], ["y"])],
        "huge",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 31, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1 << 31, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompilerError, match="GiB for its intermediate tensors"):
        compiler.compile(model, cache=False, opt_level=0)  # unfused: r lives in the arena


@pytest.mark.parametrize("dim", [(1 << 63) - 1, 1 << 40])
def test_input_too_large_to_exist_is_a_shape_error(dim: int) -> None:
    """A dim of 2**63-1: byte sizes overflowed int64 in an attribute (ValueError in xDSL)."""
    model = tiny_cnn()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = dim
    with pytest.raises(ShapeError, match="input 'x': tensor of shape"):
        import_onnx(model)


_RESIZE_HUGE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.RLIM_INFINITY))
import numpy as np
from onnx import TensorProto, helper, numpy_helper
from compiler.errors import CompilerError
from compiler.frontend.onnx import import_onnx
scales = numpy_helper.from_array(np.array([1, 1, 2, 1], np.float32), "scales")
graph = helper.make_graph(
    [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1 << 31, 2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1 << 32, 2])], [scales])
try:
    import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
except CompilerError as err:
    print(err)
"""


def test_out_of_memory_in_a_converter_is_a_compiler_error() -> None:
    """Resize of a 2**31 dim built float64 tables of 2**32 entries: a MemoryError traceback
    under a 4 GiB limit. Run in a child with that limit: unlimited, it could really allocate."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(compiler.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", _RESIZE_HUGE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "node" in done.stdout and "ran out of memory converting this node" in done.stdout


def test_value_defined_twice_is_a_load_error() -> None:
    model = tiny_cnn()
    model.graph.node[3].output[0] = "c"  # the conv's output
    with pytest.raises(ModelLoadError, match="'c' is defined twice"):
        import_onnx(model)


def test_graph_input_declared_twice_is_a_load_error() -> None:
    model = tiny_cnn()
    model.graph.input.add().CopyFrom(model.graph.input[0])
    with pytest.raises(ModelLoadError, match="declared twice"):
        import_onnx(model)


# -- the mutators and the harness -----------------------------------------------------------


def test_mutators_are_deterministic() -> None:
    data = tiny_cnn().SerializeToString()
    for name in MUTATORS:
        a = mutate(data, name, random.Random(3))
        b = mutate(data, name, random.Random(3))
        assert a == b and a[0] != data, name


def test_campaign_reports_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: a stage that dies of a signal is a crash, and its mutant is kept."""
    import os
    import signal

    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_cnn(), path)

    def segfault(mutant: Path, out: Path) -> int:
        os.kill(os.getpid(), signal.SIGSEGV)
        return 0

    monkeypatch.setitem(model_fuzz.STAGES, "api", (segfault, "out.so"))
    outcomes = model_fuzz.run_campaign([str(path)], 1, seed=0, out=tmp_path / "out", stages=("api",))
    assert [o.status for o in outcomes] == ["crash"]
    assert (tmp_path / "out" / "mutant-0.onnx").exists()


def test_fixed_seed_campaign_has_no_failures(tmp_path: Path) -> None:
    """CI's budget: 40 mutants of a tiny model through compiler-opt and compiler.compile."""
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_cnn(), path)
    outcomes = model_fuzz.run_campaign([str(path)], 40, seed=1, out=tmp_path / "failures", timeout=120)
    summary = model_fuzz.summarize(outcomes)
    assert not [o for o in outcomes if o.status in model_fuzz.FAILURES], summary
    statuses = {o.status for o in outcomes}
    assert model_fuzz.REJECTED in statuses and model_fuzz.OK in statuses, summary
