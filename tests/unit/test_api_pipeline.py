"""compiler.parse_mlir, compiler.print_mlir and compiler.run_pipeline: Python
parity with `compiler-opt -p`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import compiler
from compiler import registry
from compiler.errors import CompilerError, PipelineError
from compiler.passes.cse import CSEPass

TEXT = """
builtin.module {
  func.func @main(%x: tensor<2x3xf32> {graph.name = "x"}) -> (tensor<3x2xf32> {graph.name = "y"}) {
    %w = graph.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %wt = graph.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %xt = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %i = graph.identity %xt : (tensor<3x2xf32>) -> tensor<3x2xf32>
    %y = graph.add %i, %wt : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    func.return %y : tensor<3x2xf32>
  }
}
"""


def _ops(module: object) -> list[str]:
    return [op.name for op in module.walk()]  # type: ignore[attr-defined]


def test_parse_print_round_trip() -> None:
    module = compiler.parse_mlir(TEXT)
    printed = compiler.print_mlir(module)
    assert 'graph.name = "x"' in printed and "graph.transpose" in printed
    assert compiler.print_mlir(compiler.parse_mlir(printed)) == printed


def test_parse_error_is_a_compiler_error_naming_the_source() -> None:
    with pytest.raises(CompilerError, match=r"^model\.mlir: cannot parse IR"):
        compiler.parse_mlir("builtin.module { %x = graph.relu }", source="model.mlir")


def test_parse_mlir_reads_other_dialects() -> None:
    module = compiler.parse_mlir(
        "builtin.module { func.func @f(%a: i32) -> i32 { %b = arith.addi %a, %a : i32\n func.return %b : i32 } }"
    )
    assert "arith.addi" in _ops(module)


def test_run_pipeline_rewrites_in_place_and_returns_the_module() -> None:
    module = compiler.parse_mlir(TEXT)
    feeds = {"x": np.arange(6, dtype=np.float32).reshape(2, 3)}
    expected = compiler.interpret(module, feeds)
    result = compiler.run_pipeline(module, "fold-constants,remove-identity")
    assert result is module
    ops = _ops(module)
    assert "graph.identity" not in ops
    assert ops.count("graph.transpose") == 1  # only the one reading %x
    np.testing.assert_array_equal(compiler.interpret(module, feeds)[0], expected[0])


def test_run_pipeline_options() -> None:
    small = compiler.run_pipeline(compiler.parse_mlir(TEXT), "fold-constants{size-limit=5}")
    assert _ops(small).count("graph.transpose") == 2
    large = compiler.run_pipeline(compiler.parse_mlir(TEXT), "fold-constants{size-limit=6}")
    assert _ops(large).count("graph.transpose") == 1


def test_run_pipeline_matches_passes_run_one_by_one() -> None:
    at_once = compiler.run_pipeline(compiler.parse_mlir(TEXT), "fold-constants,remove-identity,dce,cse")
    one_by_one = compiler.parse_mlir(TEXT)
    for name in ("fold-constants", "remove-identity", "dce", "cse"):
        compiler.run_pipeline(one_by_one, name)
    assert compiler.print_mlir(at_once) == compiler.print_mlir(one_by_one)


def test_empty_pipeline_changes_nothing() -> None:
    module = compiler.parse_mlir(TEXT)
    before = compiler.print_mlir(module)
    assert compiler.print_mlir(compiler.run_pipeline(module, "")) == before


def test_our_passes_win_name_clashes_with_xdsl() -> None:
    assert registry.all_passes()["cse"]() is CSEPass
    # xDSL's own passes stay available: `dce` is reused as it is.
    assert registry.all_passes()["dce"]().__module__.startswith("xdsl.")


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ("no-such-pass", "Unrecognized passes"),
        ("fold-constants{bogus=1}", "bogus"),
        ("fold-constants{size-limit=abc}", "Incompatible types"),
        ("fold-constants{size-limit=3", "Malformed pass arguments"),
    ],
)
def test_bad_pipeline_is_a_pipeline_error(pipeline: str, message: str) -> None:
    with pytest.raises(PipelineError, match="bad pipeline") as info:
        compiler.run_pipeline(compiler.parse_mlir(TEXT), pipeline)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_api_and_compiler_opt_agree() -> None:
    spec = "graph-optimize{level=1}"
    by_api = compiler.print_mlir(compiler.run_pipeline(compiler.parse_mlir(TEXT), spec))
    by_cli = subprocess.run(
        [sys.executable, "-m", "compiler.tools.opt", "-p", spec],
        input=TEXT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert by_cli.strip() == by_api.strip()
