"""Graph passes (fold-qdq, fold-constants, narrow-integer-conv, remove-identity, dce, cse, fold-batchnorm,
graph-optimize): every pass leaves the reference interpreter's results
unchanged, on small hand-written graphs and on the nine light models."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp, TensorType

import compiler
from compiler import dtypes, registry
from compiler.dialects import graph as g
from compiler.errors import PipelineError
from compiler.interpreter import main_function
from compiler.passes import graph_optimize
from compiler.passes.cse import merge_constants
from compiler.testing import LIGHT_MODELS, max_rel_error, random_inputs, seeded_light_model

RTOL = 1e-5

CONV = "strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64"


def _f32(rng: np.random.Generator, *shape: int, low: float | None = None) -> str:
    """A dense literal of random f32 values (in [low, low + 1) if low is given)."""
    values = rng.uniform(low, low + 1.0, shape) if low is not None else rng.standard_normal(shape)
    raw = np.asarray(values, np.float32).tobytes().hex().upper()
    return f'dense<"0x{raw}"> : tensor<{"x".join(map(str, shape))}xf32>'


def _bn_params(rng: np.random.Generator, c: int, prefix: str) -> str:
    return "\n".join(
        [
            f"    %{prefix}_scale = graph.constant {_f32(rng, c, low=0.5)}",
            f"    %{prefix}_beta = graph.constant {_f32(rng, c)}",
            f"    %{prefix}_mean = graph.constant {_f32(rng, c)}",
            f"    %{prefix}_var = graph.constant {_f32(rng, c, low=0.5)}",
        ]
    )


def _bn(result: str, x: str, prefix: str, c: int, shape: str) -> str:
    vec = f"tensor<{c}xf32>"
    return (
        f"    %{result} = graph.batch_norm %{x}, %{prefix}_scale, %{prefix}_beta, %{prefix}_mean, "
        f"%{prefix}_var {{epsilon = 1.0e-05 : f64}} : ({shape}, {vec}, {vec}, {vec}, {vec}) -> {shape}"
    )


def _small_models() -> dict[str, str]:
    """Small @main graphs, each exercising the patterns of one or more passes."""
    rng = np.random.default_rng(0)
    t = "tensor<1x4x6x6xf32>"
    models: dict[str, str] = {}
    # conv + bn + relu, conv(bias) + bn, and a residual add: fold-batchnorm's main case.
    models["conv_bn_relu"] = f"""
builtin.module {{
  func.func @main(%x: tensor<1x3x6x6xf32>) -> {t} {{
    %w1 = graph.constant {_f32(rng, 4, 3, 3, 3)}
    %w2 = graph.constant {_f32(rng, 4, 4, 3, 3)}
    %b2 = graph.constant {_f32(rng, 4)}
{_bn_params(rng, 4, "bn1")}
{_bn_params(rng, 4, "bn2")}
    %c1 = graph.conv %x, %w1 {{{CONV}}} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> {t}
{_bn("n1", "c1", "bn1", 4, t)}
    %r1 = graph.relu %n1 : ({t}) -> {t}
    %c2 = graph.conv %r1, %w2, %b2 {{{CONV}}} : ({t}, tensor<4x4x3x3xf32>, tensor<4xf32>) -> {t}
{_bn("n2", "c2", "bn2", 4, t)}
    %s = graph.add %n2, %r1 : ({t}, {t}) -> {t}
    %y = graph.relu %s : ({t}) -> {t}
    func.return %y : {t}
  }}
}}"""
    # DenseNet / Inception-v2 style: bn + mul + add after a conv and after a concat.
    models["bn_mul_add"] = f"""
builtin.module {{
  func.func @main(%x: {t}) -> tensor<1x8x6x6xf32> {{
    %w = graph.constant {_f32(rng, 4, 4, 3, 3)}
{_bn_params(rng, 4, "bn1")}
{_bn_params(rng, 8, "bn2")}
    %s1 = graph.constant {_f32(rng, 4, 1, 1)}
    %t1 = graph.constant {_f32(rng, 4, 1, 1)}
    %s2 = graph.constant {_f32(rng, 8, 1, 1)}
    %t2 = graph.constant {_f32(rng, 8, 1, 1)}
    %c = graph.conv %x, %w {{{CONV}}} : ({t}, tensor<4x4x3x3xf32>) -> {t}
{_bn("n1", "c", "bn1", 4, t)}
    %m1 = graph.mul %n1, %s1 : ({t}, tensor<4x1x1xf32>) -> {t}
    %a1 = graph.add %m1, %t1 : ({t}, tensor<4x1x1xf32>) -> {t}
    %cat = graph.concat %x, %a1 {{axis = 1 : i64}} : ({t}, {t}) -> tensor<1x8x6x6xf32>
{_bn("n2", "cat", "bn2", 8, "tensor<1x8x6x6xf32>")}
    %m2 = graph.mul %n2, %s2 : (tensor<1x8x6x6xf32>, tensor<8x1x1xf32>) -> tensor<1x8x6x6xf32>
    %a2 = graph.add %m2, %t2 : (tensor<1x8x6x6xf32>, tensor<8x1x1xf32>) -> tensor<1x8x6x6xf32>
    %y = graph.relu %a2 : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
    func.return %y : tensor<1x8x6x6xf32>
  }}
}}"""
    # A Gemm (transB) + batch norm classifier, with a flatten and identities.
    models["gemm_bn"] = f"""
builtin.module {{
  func.func @main(%x: tensor<2x3x2x2xf32>) -> tensor<2x5xf32> {{
    %w = graph.constant {_f32(rng, 5, 12)}
    %b = graph.constant {_f32(rng, 5)}
{_bn_params(rng, 5, "bn")}
    %i = graph.identity %x : (tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32>
    %f0 = graph.reshape %i : (tensor<2x3x2x2xf32>) -> tensor<2x3x4xf32>
    %f = graph.reshape %f0 : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
    %wt = graph.transpose %w {{perm = array<i64: 1, 0>}} : (tensor<5x12xf32>) -> tensor<12x5xf32>
    %m = graph.matmul %f, %wt : (tensor<2x12xf32>, tensor<12x5xf32>) -> tensor<2x5xf32>
{_bn("n", "m", "bn", 5, "tensor<2x5xf32>")}
    %a = graph.add %n, %b : (tensor<2x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
    %c = graph.cast %a : (tensor<2x5xf32>) -> tensor<2x5xf32>
    func.return %c : tensor<2x5xf32>
  }}
}}"""
    # Shape arithmetic, no-op and chained data movement, duplicated subexpressions.
    models["shapes_and_views"] = f"""
builtin.module {{
  func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>) {{
    %shape = graph.constant dense<[2, 3, 4]> : tensor<3xi64>
    %idx = graph.constant dense<[2]> : tensor<1xi64>
    %d = graph.gather %shape, %idx {{axis = 0 : i64}} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
    %df = graph.cast %d : (tensor<1xi64>) -> tensor<1xf32>
    %k = graph.constant {_f32(rng, 4)}
    %k2 = graph.mul %k, %df : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
    %y0 = graph.add %x, %k2 : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %y1 = graph.add %x, %k2 : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %t1 = graph.transpose %y0 {{perm = array<i64: 1, 2, 0>}} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
    %t2 = graph.transpose %t1 {{perm = array<i64: 1, 2, 0>}} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
    %r = graph.reshape %t2 : (tensor<4x2x3xf32>) -> tensor<4x6xf32>
    %s = graph.slice %y1 {{offsets = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %bc = graph.broadcast_to %s : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %dead = graph.exp %x : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    func.return %r, %t2, %bc : tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>
  }}
}}"""
    # Batch-norm parameters that are inputs, not constants.
    models["dynamic_bn"] = f"""
builtin.module {{
  func.func @main(%x: {t}, %scale: tensor<4xf32>, %beta: tensor<4xf32>, %mean: tensor<4xf32>, %v: tensor<4xf32>) -> {t} {{
    %half = graph.constant dense<0.5> : tensor<4xf32>
    %var = graph.add %v, %half : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %var2 = graph.mul %var, %var : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %y = graph.batch_norm %x, %scale, %beta, %mean, %var2 {{epsilon = 1.0e-05 : f64}} : ({t}, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> {t}
    func.return %y : {t}
  }}
}}"""
    return models


SMALL_MODELS = _small_models()
PASSES = ["fold-qdq", "fold-constants", "narrow-integer-conv", "remove-identity", "dce", "cse", "fold-batchnorm"]


def _feeds(module: ModuleOp, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = []
    for t in main_function(module).function_type.inputs:
        assert isinstance(t, TensorType)
        dt = dtypes.to_numpy_dtype(t.get_element_type())
        feeds.append(rng.standard_normal(tuple(t.get_shape())).astype(dt))
    return feeds


def _op_counts(module: ModuleOp) -> collections.Counter[str]:
    return collections.Counter(op.name for op in module.walk())


def _assert_same(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape and a.dtype == e.dtype
        assert max_rel_error(a, e) <= RTOL


@pytest.mark.parametrize("pipeline", [*PASSES, "graph-optimize{level=1}"])
@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_pass_keeps_results_on_small_models(model: str, pipeline: str) -> None:
    module = compiler.parse_mlir(SMALL_MODELS[model])
    feeds = _feeds(module)
    expected = compiler.interpret(module, feeds)
    compiler.run_pipeline(module, pipeline)
    module.verify()
    _assert_same(compiler.interpret(module, feeds), expected)


@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_level1_cleans_small_models(model: str) -> None:
    module = compiler.parse_mlir(SMALL_MODELS[model])
    compiler.run_pipeline(module, "graph-optimize{level=1}")
    counts = _op_counts(module)
    for gone in ("graph.batch_norm", "graph.identity", "graph.cast", "graph.broadcast_to", "graph.slice"):
        assert counts[gone] == 0, compiler.print_mlir(module)
    assert counts["graph.exp"] == 0  # dead
    if model in ("conv_bn_relu", "bn_mul_add"):
        # Every batch norm and scale after a conv went into the conv; the one
        # after the concat is one mul and one add.
        expected_mul = 1 if model == "bn_mul_add" else 0
        assert counts["graph.mul"] == expected_mul, compiler.print_mlir(module)
    if model == "shapes_and_views":
        assert counts["graph.transpose"] == 1 and counts["graph.add"] == 1


@pytest.mark.parametrize("level", [2, 3])
@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_higher_levels_keep_results_on_small_models(model: str, level: int) -> None:
    module = compiler.parse_mlir(SMALL_MODELS[model])
    feeds = _feeds(module)
    expected = compiler.interpret(module, feeds)
    compiler.run_pipeline(module, f"graph-optimize{{level={level}}}")
    module.verify()
    _assert_same(compiler.interpret(module, feeds), expected)


# --- fold-constants -------------------------------------------------------------


def test_fold_constants_keeps_splats_compact() -> None:
    module = compiler.parse_mlir(
        """
builtin.module {
  func.func @main() -> (tensor<64x64xf32>, tensor<3xf32>) {
    %a = graph.constant dense<2.0> : tensor<1xf32>
    %b = graph.broadcast_to %a : (tensor<1xf32>) -> tensor<64x64xf32>
    %c = graph.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
    %d = graph.neg %c : (tensor<3xf32>) -> tensor<3xf32>
    func.return %b, %d : tensor<64x64xf32>, tensor<3xf32>
  }
}"""
    )
    compiler.run_pipeline(module, "fold-constants")
    constants = [op for op in module.walk() if isinstance(op, g.ConstantOp)]
    assert [len(op.value.data.data) for op in constants] == [4, 12]
    assert np.array_equal(constants[0].to_numpy(), np.full((64, 64), 2.0, np.float32))
    assert np.array_equal(constants[1].to_numpy(), np.array([-1.0, -2.0, -3.0], np.float32))
    # A compact splat prints as one value and reads back as the same tensor.
    printed = compiler.print_mlir(module)
    assert "dense<2.000000e+00> : tensor<64x64xf32>" in printed
    again = [op for op in compiler.parse_mlir(printed).walk() if isinstance(op, g.ConstantOp)]
    assert np.array_equal(again[0].to_numpy(), constants[0].to_numpy())


def test_fold_constants_size_limit() -> None:
    text = """
builtin.module {
  func.func @main() -> tensor<8x4xf32> {
    %w = graph.constant dense<1.5> : tensor<4x8xf32>
    %t = graph.transpose %w {perm = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
    func.return %t : tensor<8x4xf32>
  }
}"""
    small = compiler.run_pipeline(compiler.parse_mlir(text), "fold-constants{size-limit=31}")
    assert _op_counts(small)["graph.transpose"] == 1
    large = compiler.run_pipeline(compiler.parse_mlir(text), "fold-constants{size-limit=32}")
    assert _op_counts(large)["graph.transpose"] == 0
    assert _op_counts(large)["graph.constant"] == 1  # the unused source is erased


# --- cse --------------------------------------------------------------------------


def test_cse_merges_splat_and_full_constants_by_bytes() -> None:
    module = compiler.parse_mlir(
        """
builtin.module {
  func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
    %a = graph.constant dense<1.0> : tensor<4xf32>
    %z = graph.constant dense<0.0> : tensor<4xf32>
    %n = graph.constant dense<-0.0> : tensor<4xf32>
    %p = graph.add %x, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %q = graph.add %x, %z : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %r = graph.add %x, %n : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %p, %q, %r : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  }
}"""
    )
    block = main_function(module).body.block
    # A compact splat equal to %a, as fold-constants writes it.
    compact = g.ConstantOp(dtypes.dense_splat(np.float32(1.0), [4], dtypes.from_numpy_dtype(np.float32)))
    block.insert_op_before(compact, block.first_op.next_op)  # after %a
    add = g.AddOp.make([block.args[0], compact.result])
    block.insert_op_before(add, block.last_op)
    ret = block.last_op
    ret.operands = [*ret.operands[:2], add.result]
    assert merge_constants(block) == 1
    compiler.run_pipeline(module, "cse")
    counts = _op_counts(module)
    # 1.0 merged (and with it the two adds of 1.0); 0.0 and -0.0 have
    # different bytes and stay apart.
    assert counts["graph.constant"] == 3
    assert counts["graph.add"] == 3 - 1


# --- graph-optimize ---------------------------------------------------------------


def test_pipelines_cover_levels_0_to_3() -> None:
    assert sorted(graph_optimize.PIPELINES) == [0, 1, 2, 3]
    assert graph_optimize.PIPELINES[0] == []
    assert graph_optimize.PIPELINES[1] == PASSES
    for level in (2, 3):
        specs = graph_optimize.PIPELINES[level]
        assert specs[: len(PASSES)] == PASSES
        assert "fuse-ops" in specs and specs[-1] == "plan-memory"
    assert "convert-layout{layout=NCHW16c}" in graph_optimize.PIPELINES[3]


def test_describe_levels_lists_every_level() -> None:
    text = graph_optimize.describe_levels()
    for level in range(4):
        assert f"O{level}:" in text
    assert "fold-batchnorm" in text and "fuse-ops" in text


def test_pipeline_spec_replays_graph_optimize() -> None:
    text = SMALL_MODELS["conv_bn_relu"]
    spec = graph_optimize.pipeline_spec(1)
    assert spec == ",".join(PASSES)
    by_level = compiler.run_pipeline(compiler.parse_mlir(text), "graph-optimize{level=1}")
    by_spec = compiler.run_pipeline(compiler.parse_mlir(text), spec)
    assert compiler.print_mlir(by_level) == compiler.print_mlir(by_spec)


def test_level0_changes_nothing() -> None:
    text = SMALL_MODELS["shapes_and_views"]
    module = compiler.run_pipeline(compiler.parse_mlir(text), "graph-optimize{level=0}")
    assert compiler.print_mlir(module) == compiler.print_mlir(compiler.parse_mlir(text))


def test_unknown_level_is_a_pipeline_error() -> None:
    module = compiler.parse_mlir(SMALL_MODELS["dynamic_bn"])
    with pytest.raises(PipelineError, match="level 7"):
        compiler.run_pipeline(module, "graph-optimize{level=7}")


def test_every_pipeline_pass_is_registered() -> None:
    passes = registry.all_passes()
    for level, specs in graph_optimize.PIPELINES.items():
        for spec in specs:
            assert spec.split("{", 1)[0] in passes, (level, spec)


def test_unknown_pass_in_a_level_is_a_pipeline_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(graph_optimize.PIPELINES, 9, ["remove-identity", "no-such-pass{x=1}"])
    module = compiler.parse_mlir(SMALL_MODELS["shapes_and_views"])
    before = compiler.print_mlir(module)
    with pytest.raises(PipelineError, match="'no-such-pass' of level 9 is not registered"):
        compiler.run_pipeline(module, "graph-optimize{level=9}")
    # Checked before any pass runs: the module is untouched.
    assert compiler.print_mlir(module) == before
    with pytest.raises(PipelineError, match="'no-such-pass'"):
        graph_optimize.pipeline_spec(9)


# --- the nine light models -------------------------------------------------------


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_level1_keeps_results_on_light_models(name: str) -> None:
    model = seeded_light_model(name)
    module = compiler.import_onnx(model)
    feeds = random_inputs(model)
    expected = compiler.interpret(module, feeds)
    before = _op_counts(module)
    compiler.run_pipeline(module, "graph-optimize{level=1}")
    module.verify()
    after = _op_counts(module)
    assert after["graph.batch_norm"] == 0
    assert sum(after.values()) <= sum(before.values())
    if name == "resnet50":
        # 53 conv + batch-norm pairs become 53 convs with a bias.
        assert before["graph.batch_norm"] == 53 and after["graph.conv"] == 53
        assert after["graph.mul"] == 0 and after["graph.transpose"] == 0
    _assert_same(compiler.interpret(module, feeds), expected)
