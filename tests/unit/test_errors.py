"""Bad input never ends in a traceback.

Through `compiler-opt` (a subprocess): one line on stderr naming what went
wrong and what to do, exit status 1, and no output file left behind. Through
the Python API: a `CompilerError` subclass with the same message.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.errors import (
    CompilerError,
    InputError,
    ModelLoadError,
    ShapeError,
    UnsupportedDtypeError,
    UnsupportedOpError,
)
from compiler.frontend.onnx import supported_ops

# ---------------------------------------------------------------------------
# Models


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[str],
    opset: int = 17,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, [onnx.ValueInfoProto(name=o) for o in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def relu_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    return _model([helper.make_node("Relu", ["x"], ["y"], name="relu1")], [x], ["y"])


def unsupported_op_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("Unique", ["x"], ["y"], name="find_unique")
    return _model([node], [x], ["y"], opset=13)


def dtype_model(elem: int) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", elem, [2])
    return _model([helper.make_node("Identity", ["x"], ["y"], name="id")], [x], ["y"])


def symbolic_model() -> onnx.ModelProto:
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    node = helper.make_node("Cast", ["input_ids"], ["y"], name="cast", to=TensorProto.FLOAT)
    return _model([node], [ids], ["y"])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Every bad input of this file, written once per test into tmp_path."""
    good = relu_model().SerializeToString()
    paths = {
        "good": tmp_path / "good.onnx",
        "truncated": tmp_path / "truncated.onnx",
        "not_onnx": tmp_path / "notes.onnx",
        "empty": tmp_path / "empty.onnx",
        "unsupported_op": tmp_path / "unique.onnx",
        "string": tmp_path / "strings.onnx",
        "complex": tmp_path / "complex.onnx",
        "symbolic": tmp_path / "bert.onnx",
    }
    paths["good"].write_bytes(good)
    paths["truncated"].write_bytes(good[: len(good) // 2])
    paths["not_onnx"].write_text("these are my notes, not a model\n")
    paths["empty"].write_bytes(b"")
    onnx.save(unsupported_op_model(), paths["unsupported_op"])
    onnx.save(dtype_model(TensorProto.STRING), paths["string"])
    onnx.save(dtype_model(TensorProto.COMPLEX64), paths["complex"])
    onnx.save(symbolic_model(), paths["symbolic"])
    return paths


# ---------------------------------------------------------------------------
# compiler-opt


def run_opt(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The module's __main__ is the same main() as the `compiler-opt` script.
    return subprocess.run(
        [sys.executable, "-m", "compiler.tools.opt", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    err = result.stderr
    assert result.returncode == 1, (result.returncode, err)
    assert "Traceback" not in err, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("compiler-opt: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert result.stdout == ""
    return lines[0]


CLI_CASES: list[tuple[str, list[str], list[str]]] = [
    # (file key or a missing name, extra args, substrings the message must have)
    ("missing", [], ["missing.onnx", "no such file", "check the path"]),
    ("truncated", [], ["truncated.onnx", "not a valid ONNX model"]),
    ("not_onnx", [], ["notes.onnx", "not a valid ONNX model"]),
    ("empty", [], ["empty.onnx", "not a valid ONNX model"]),
    ("unsupported_op", [], ["unique.onnx", "node 'find_unique'", "Unique", "opset 13", "not supported"]),
    ("string", [], ["strings.onnx", "input 'x'", "STRING", "not supported"]),
    ("complex", [], ["complex.onnx", "input 'x'", "COMPLEX64", "not supported"]),
    ("symbolic", [], ["bert.onnx", "input 'input_ids'", "symbolic dim 'batch'", "--input-shape input_ids="]),
    ("symbolic", ["--input-shape", "input_ids=1xsixteen"], ["bad --input-shape 'input_ids=1xsixteen'", "name=1x3x224x224"]),
    ("symbolic", ["--input-shape", "input_ids16"], ["bad --input-shape 'input_ids16'"]),
    ("symbolic", ["--input-shape", "input_ids=1x-16"], ["bad --input-shape 'input_ids=1x-16'"]),
    ("symbolic", ["--input-shape", "tokens=1x16"], ["'tokens', which is not a model input", "inputs are ['input_ids']"]),
    ("symbolic", ["--input-shape", "input_ids=1x16x1"], ["rank 2", "(1, 16, 1)"]),
    ("good", ["--input-shape", "x=4x3"], ["input 'x' dim 0 is 2, pinned to 4"]),
]


@pytest.mark.parametrize(
    "key, args, needles",
    CLI_CASES,
    ids=[f"{k}{'-' + '-'.join(a[1:]) if a else ''}" for k, a, _ in CLI_CASES],
)
def test_cli_reports_one_line(
    files: dict[str, Path], tmp_path: Path, key: str, args: list[str], needles: list[str]
) -> None:
    path = files.get(key, tmp_path / "missing.onnx")
    out = tmp_path / "out.mlir"
    result = run_opt(path, *args, "-o", out, cwd=tmp_path)
    assert_one_line_failure(result, *needles)
    assert not out.exists(), "a failing run must not leave an output file"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".compiler-opt-")]
    assert not leftovers, leftovers


def test_cli_failure_keeps_an_existing_output(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    out.write_text("yesterday's result\n")
    assert_one_line_failure(run_opt(files["unsupported_op"], "-o", out, cwd=tmp_path))
    assert out.read_text() == "yesterday's result\n"


def test_cli_writes_output_on_success(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    result = run_opt(files["symbolic"], "--input-shape", "input_ids=1x16", "-o", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "tensor<1x16xi64>" in text and "graph.cast" in text
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


MLIR_CASES = {
    "parse": (
        "func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {\n  %y = graph.relu %x : (tensor<2xf32>) ->\n}\n",
        ["bad.mlir:3:1"],
    ),
    "verify": (
        "func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {\n"
        "  %y = graph.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>\n"
        "  func.return %y : tensor<3x2xf32>\n}\n",
        ["bad.mlir", "'graph.transpose'", "perm [0, 0] is not a permutation of rank 2"],
    ),
    "dtype": (
        "func.func @f(%x: tensor<2xi4>) -> tensor<2xi4> {\n"
        "  %y = graph.neg %x : (tensor<2xi4>) -> tensor<2xi4>\n  func.return %y : tensor<2xi4>\n}\n",
        ["'graph.neg'", "element type i4 is not supported"],
    ),
}


@pytest.mark.parametrize("kind", sorted(MLIR_CASES))
def test_cli_bad_mlir_is_one_line(tmp_path: Path, kind: str) -> None:
    text, needles = MLIR_CASES[kind]
    path = tmp_path / "bad.mlir"
    path.write_text(text)
    out = tmp_path / "out.mlir"
    assert_one_line_failure(run_opt(path, "-o", out, cwd=tmp_path), *needles)
    assert not out.exists()


def test_cli_unknown_extension_and_directory(tmp_path: Path) -> None:
    model = tmp_path / "model.pb"
    model.write_bytes(relu_model().SerializeToString())
    assert_one_line_failure(run_opt(model, cwd=tmp_path), "model.pb", "-f")
    assert_one_line_failure(run_opt(tmp_path, cwd=tmp_path), "is a directory")
    # -f names the frontend whatever the extension.
    result = run_opt(model, "-f", "onnx", cwd=tmp_path)
    assert result.returncode == 0 and "graph.relu" in result.stdout, result.stderr


# ---------------------------------------------------------------------------
# The Python API


def _api_cases(files: dict[str, Path], tmp: Path) -> dict[str, tuple[Callable[[], object], type[CompilerError], list[str]]]:
    sym = files["symbolic"]
    return {
        "missing": (lambda: compiler.import_onnx(tmp / "missing.onnx"), ModelLoadError, ["no such file"]),
        "directory": (lambda: compiler.import_onnx(tmp), ModelLoadError, ["directory"]),
        "truncated": (lambda: compiler.import_onnx(files["truncated"]), ModelLoadError, ["not a valid ONNX model"]),
        "truncated-bytes": (
            lambda: compiler.import_onnx(files["truncated"].read_bytes()),
            ModelLoadError,
            ["not a valid ONNX model"],
        ),
        "not-onnx": (lambda: compiler.import_onnx(files["not_onnx"]), ModelLoadError, ["not a valid ONNX model"]),
        "empty": (lambda: compiler.import_onnx(files["empty"]), ModelLoadError, ["not a valid ONNX model"]),
        "unsupported-op": (
            lambda: compiler.import_onnx(unsupported_op_model()),
            UnsupportedOpError,
            ["node 'find_unique'", "Unique", "opset 13"],
        ),
        "string-input": (
            lambda: compiler.import_onnx(files["string"]),
            UnsupportedDtypeError,
            ["input 'x'", "STRING"],
        ),
        "complex-input": (
            lambda: compiler.import_onnx(dtype_model(TensorProto.COMPLEX128)),
            UnsupportedDtypeError,
            ["COMPLEX128"],
        ),
        "symbolic": (
            lambda: compiler.import_onnx(sym),
            ShapeError,
            ["symbolic dim 'batch'", "input_shapes={'input_ids': (...)}"],
        ),
        "pin-string": (
            lambda: compiler.import_onnx(sym, input_shapes={"input_ids": "1x16"}),  # type: ignore[dict-item]
            ShapeError,
            ["is not a shape", "(1, 3, 224, 224)"],
        ),
        "pin-negative": (
            lambda: compiler.import_onnx(sym, input_shapes={"input_ids": (1, -1)}),
            ShapeError,
            ["is not a shape"],
        ),
        "pin-unknown": (
            lambda: compiler.import_onnx(sym, input_shapes={"tokens": (1, 16)}),
            ShapeError,
            ["'tokens', which is not a model input"],
        ),
        "pin-rank": (
            lambda: compiler.import_onnx(sym, input_shapes={"input_ids": (16,)}),
            ShapeError,
            ["rank 2"],
        ),
        "parse-mlir": (lambda: compiler.parse_mlir("func.func @f( {"), CompilerError, ["cannot parse IR"]),
    }


API_CASE_NAMES = [
    "missing", "directory", "truncated", "truncated-bytes", "not-onnx", "empty", "unsupported-op",
    "string-input", "complex-input", "symbolic", "pin-string", "pin-negative", "pin-unknown",
    "pin-rank", "parse-mlir",
]


@pytest.mark.parametrize("name", API_CASE_NAMES)
def test_api_raises_compiler_errors(files: dict[str, Path], tmp_path: Path, name: str) -> None:
    call, cls, needles = _api_cases(files, tmp_path)[name]
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, CompilerError)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_api_names_the_file(files: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedOpError) as info:
        compiler.import_onnx(files["unsupported_op"])
    err = info.value
    assert (err.file, err.node, err.op_type, err.opset) == (
        str(files["unsupported_op"]), "find_unique", "Unique", 13
    )
    assert str(err).startswith(f"{files['unsupported_op']}: node 'find_unique' (Unique, opset 13): ")


def test_input_shapes_pin_a_symbolic_dim(files: dict[str, Path]) -> None:
    module = compiler.import_onnx(files["symbolic"], input_shapes={"input_ids": (1, 16)})
    text = compiler.print_mlir(module)
    assert "%input_ids: tensor<1x16xi64>" in text
    ids = np.arange(16, dtype=np.int64).reshape(1, 16)
    (y,) = compiler.interpret(module, {"input_ids": ids})
    np.testing.assert_array_equal(y, ids.astype(np.float32))


def test_input_shapes_accept_numpy_ints(files: dict[str, Path]) -> None:
    module = compiler.import_onnx(files["symbolic"], input_shapes={"input_ids": np.array([2, 8])})
    assert "tensor<2x8xi64>" in compiler.print_mlir(module)


def test_interpreter_rejects_bad_feeds() -> None:
    module = compiler.import_onnx(relu_model())
    x = np.zeros((2, 3), np.float32)
    cases: list[tuple[object, str]] = [
        ({"x": x.astype(np.float64)}, "dtype float64, expected float32"),
        ({"x": x[:1]}, "shape (1, 3), expected (2, 3)"),
        ({"z": x}, "unknown input 'z'"),
        ({}, "missing input 'x'"),
        ([x, x], "expected 1 inputs"),
    ]
    for feeds, needle in cases:
        with pytest.raises(InputError) as info:
            compiler.interpret(module, feeds)  # type: ignore[arg-type]
        assert needle in str(info.value)


def test_constant_with_too_few_bytes_is_a_diagnostic() -> None:
    # Not writable in the textual syntax (the parser checks the element count).
    from xdsl.dialects.builtin import BytesAttr, DenseIntOrFPElementsAttr, TensorType, f32
    from xdsl.utils.exceptions import VerifyException

    from compiler.dialects.graph import ConstantOp

    value = DenseIntOrFPElementsAttr(TensorType(f32, [3]), BytesAttr(b"\0" * 8))
    with pytest.raises(VerifyException, match="constant holds 8 bytes for 3 elements"):
        ConstantOp(value).verify()


# ---------------------------------------------------------------------------
# Malformed nodes: whatever the inputs and attributes, a CompilerError


_FUZZ_ATTRS: dict[str, list[object]] = {
    "axis": [5, -7, 1], "axes": [[7], [0, 0], [-1]], "perm": [[0], [1, 1, 0]],
    "kernel_shape": [[9, 9], [0, 1], [2]], "pads": [[-1, 0, 0, 0], [1], [5, 5, 5, 5]],
    "strides": [[0, 0], [1]], "dilations": [[0, 1], [3, 3]], "group": [0, 3, -1],
    "blocksize": [0, 3, -2], "to": [999, 8, 16], "mode": ["bogus", "wrap"], "size": [0, -1, 4],
    "split": [[1], [0, 5]], "num_outputs": [0, 5], "keepdims": [0], "starts": [[5]], "ends": [[1]],
    "epsilon": [-1.0], "transA": [1], "transB": [1], "ceil_mode": [1], "count_include_pad": [1],
    "auto_pad": ["SAME_UPPER", "bogus"], "select_last_index": [1], "value": [1.5], "fmod": [1],
    "allowzero": [1], "start": [9], "end": [-9], "approximate": ["x"], "training_mode": [1],
    "noop_with_empty_axes": [1], "min": [1.0], "max": [-1.0], "spatial": [0], "shape": [[1]],
}
_FUZZ_SHAPES = [[2, 3], [1, 2, 4, 4], [3], [], [1, 4, 6], [0, 2]]
_FUZZ_TYPES = [TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL, TensorProto.INT32]


def _fuzz_models(op_type: str, count: int) -> list[onnx.ModelProto]:
    """Seeded random nodes of one op type: odd input counts, shapes, dtypes, constants, attributes."""
    import random
    import zlib

    rng = random.Random(zlib.crc32(op_type.encode()))
    models = []
    while len(models) < count:
        names = [f"i{k}" for k in range(rng.randint(0, 5))]
        inputs, inits = [], []
        for name in names:
            dtype, shape = rng.choice(_FUZZ_TYPES), rng.choice(_FUZZ_SHAPES)
            if rng.random() < 0.4:
                array = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) % 7 - 3
                inits.append(onnx.numpy_helper.from_array(array.astype(helper.tensor_dtype_to_np_dtype(dtype)), name))
            else:
                inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        attrs = {k: rng.choice(v) for k, v in _FUZZ_ATTRS.items() if rng.random() < 0.15}
        outputs = [f"y{k}" for k in range(rng.choice([1, 1, 2, 3]))]
        node = helper.make_node(op_type, names, outputs, name="n", **attrs)
        graph = helper.make_graph(
            [node], "g", inputs, [onnx.ValueInfoProto(name=o) for o in outputs], initializer=inits
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", rng.choice([9, 11, 13, 18, 20]))])
        model.ir_version = 8
        models.append(model)
    return models


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op_type", supported_ops())
def test_malformed_nodes_raise_compiler_errors(op_type: str) -> None:
    for model in _fuzz_models(op_type, 12):
        try:
            module = compiler.import_onnx(model)
        except CompilerError:
            continue
        # What imports must also print, parse back and verify.
        compiler.parse_mlir(compiler.print_mlir(module)).verify()
