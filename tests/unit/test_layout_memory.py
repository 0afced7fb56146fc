"""convert-layout and plan-memory.

Layout: the reference interpreter's results are unchanged after
`convert-layout` (blocked convs, pools and layout transforms have kernels of
their own), on small hand-written graphs with random weights and on the nine
light models. Memory: `verify_plan` accepts the plan of every light model
after `fuse-ops` and `eliminate-concat`, and the arena of ResNet-50 after
`fold-batchnorm,fuse-ops` is at most a quarter of the naive sum.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp, i64

import compiler
from compiler import registry
from compiler.dialects import graph as g
from compiler.dialects import layouts
from compiler.errors import PipelineError
from compiler.interpreter import main_function
from compiler.passes import memory
from compiler.passes.plan_memory import PlanError, verify_plan
from compiler.testing import LIGHT_MODELS, max_rel_error, random_inputs, seeded_light_model

RTOL = 1e-5


def _f32(rng: np.random.Generator, *shape: int, low: float | None = None) -> str:
    """A dense literal of random f32 values (in [low, low + 1) if low is given)."""
    values = rng.uniform(low, low + 1.0, shape) if low is not None else rng.standard_normal(shape)
    raw = np.asarray(values, np.float32).tobytes().hex().upper()
    return f'dense<"0x{raw}"> : tensor<{"x".join(map(str, shape))}xf32>'


def _conv(pads: int = 0, stride: int = 1, group: int = 1) -> str:
    p, s = pads, stride
    return (
        f"strides = array<i64: {s}, {s}>, pads = array<i64: {p}, {p}, {p}, {p}>, "
        f"dilations = array<i64: 1, 1>, group = {group} : i64"
    )


def _ops(module: ModuleOp) -> collections.Counter[str]:
    return collections.Counter(op.name for op in main_function(module).body.block.ops)


def _blocked_convs(module: ModuleOp) -> int:
    return sum(
        1
        for op in main_function(module).body.block.ops
        if isinstance(op, g.ConvOp) and op.properties.get("out_layout") is not None
    )


def _check_layout_numerics(text: str, feeds: list[np.ndarray], layout: str = "NCHW16c") -> ModuleOp:
    module = compiler.parse_mlir(text)
    want = compiler.interpret(module, feeds)
    compiler.run_pipeline(module, f"convert-layout{{layout={layout}}}")
    module.verify()
    got = compiler.interpret(module, feeds)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert max_rel_error(a, b) <= RTOL
    return module


# ---------------------------------------------------------------------------
# The dialect and interpreter pieces


def test_pack_unpack_round_trip() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 32, 3, 5)).astype(np.float32)
    packed = layouts.pack_data(x, 16)
    assert packed.shape == (2, 2, 3, 5, 16)
    assert packed[1, 1, 2, 4, 3] == x[1, 19, 2, 4]
    assert np.array_equal(layouts.unpack_data(packed, 16), x)
    w = rng.standard_normal((48, 24, 3, 3)).astype(np.float32)
    wp = layouts.pack_kernel(w, 8, 16)
    assert wp.shape == (3, 3, 3, 3, 8, 16)
    assert wp[2, 1, 0, 2, 5, 7] == w[2 * 16 + 7, 8 + 5, 0, 2]
    assert np.array_equal(layouts.unpack_kernel(wp, 8, 16), w)


def test_layout_transform_and_blocked_ops_verify() -> None:
    text = f"""
    func.func @main(%x: tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32> {{
      %w = graph.constant dense<0.5> : tensor<2x2x1x1x16x16xf32>
      %t = graph.layout_transform %x {{src_layout = "NCHW", dst_layout = "NCHW16c"}} : (tensor<1x32x4x4xf32>) -> tensor<1x2x4x4x16xf32>
      %c = graph.conv %t, %w {{{_conv()}, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW8c"}} : (tensor<1x2x4x4x16xf32>, tensor<2x2x1x1x16x16xf32>) -> tensor<1x4x4x4x8xf32>
      %b = graph.layout_transform %c {{src_layout = "NCHW8c", dst_layout = "NCHW"}} : (tensor<1x4x4x4x8xf32>) -> tensor<1x32x4x4xf32>
      func.return %b : tensor<1x32x4x4xf32>
    }}"""
    module = compiler.parse_mlir(text)
    module.verify()
    x = np.random.default_rng(1).standard_normal((1, 32, 4, 4)).astype(np.float32)
    (got,) = compiler.interpret(module, [x])
    want = np.einsum("nchw,oc->nohw", x, np.full((32, 32), 0.5, np.float32))
    assert max_rel_error(got, want) <= RTOL


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '%t = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW16c"} : '
            "(tensor<1x24x4x4xf32>) -> tensor<1x2x4x4x16xf32>",
            "24 channels do not divide into blocks of 16",
        ),
        (
            '%t = graph.layout_transform %x {src_layout = "NHWC", dst_layout = "NCHW16c"} : '
            "(tensor<1x24x4x4xf32>) -> tensor<1x2x4x4x16xf32>",
            "unknown data layout",
        ),
        (
            '%t = graph.max_pool %x {kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, '
            'pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = "NCHW8c"} : '
            "(tensor<1x24x4x4xf32>) -> tensor<1x24x4x4xf32>",
            "needs a 5-D tensor",
        ),
    ],
)
def test_layout_verifier_errors(line: str, message: str) -> None:
    text = f"func.func @main(%x: tensor<1x24x4x4xf32>) {{\n  {line}\n  func.return\n}}"
    module = compiler.parse_mlir(text)
    with pytest.raises(Exception, match=message):
        module.verify()


def test_bad_layout_option() -> None:
    module = compiler.parse_mlir("func.func @main() {\n  func.return\n}")
    with pytest.raises(PipelineError):
        compiler.run_pipeline(module, "convert-layout{layout=NHWC}")


# ---------------------------------------------------------------------------
# convert-layout on small graphs


def test_conv_relu_conv_chain() -> None:
    rng = np.random.default_rng(2)
    text = f"""
    func.func @main(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {{
      %w1 = graph.constant {_f32(rng, 32, 16, 3, 3)}
      %b1 = graph.constant {_f32(rng, 32)}
      %s = graph.constant {_f32(rng, 32, 1, 1)}
      %w2 = graph.constant {_f32(rng, 16, 32, 1, 1)}
      %c1 = graph.conv %x, %w1, %b1 {{{_conv(1)}}} : (tensor<1x16x8x8xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
      %r = graph.relu %c1 : (tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
      %m = graph.mul %r, %s : (tensor<1x32x8x8xf32>, tensor<32x1x1xf32>) -> tensor<1x32x8x8xf32>
      %c2 = graph.conv %m, %w2 {{{_conv()}}} : (tensor<1x32x8x8xf32>, tensor<16x32x1x1xf32>) -> tensor<1x16x8x8xf32>
      func.return %c2 : tensor<1x16x8x8xf32>
    }}"""
    x = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    for layout, transforms in (("NCHW16c", 2), ("NCHW8c", 2), ("NCHW4c", 2)):
        module = _check_layout_numerics(text, [x], layout)
        assert _ops(module)["graph.layout_transform"] == transforms
        assert _blocked_convs(module) == 2


def test_image_stem_batch_norm_pools_and_narrow_convs() -> None:
    """C = 3 first conv, batch norm, pools, a 24-channel conv, global pooling."""
    rng = np.random.default_rng(3)
    bn = "\n".join(
        f"      %bn_{k} = graph.constant {_f32(rng, 32, low=0.5 if k in ('scale', 'var') else -0.5)}"
        for k in ("scale", "beta", "mean", "var")
    )
    text = f"""
    func.func @main(%img: tensor<1x3x32x32xf32>) -> tensor<1x10xf32> {{
      %w0 = graph.constant {_f32(rng, 32, 3, 3, 3)}
{bn}
      %w1 = graph.constant {_f32(rng, 24, 32, 1, 1)}
      %w2 = graph.constant {_f32(rng, 32, 24, 3, 3)}
      %fc = graph.constant {_f32(rng, 32, 10)}
      %c0 = graph.conv %img, %w0 {{{_conv(1, 2)}}} : (tensor<1x3x32x32xf32>, tensor<32x3x3x3xf32>) -> tensor<1x32x16x16xf32>
      %bn = graph.batch_norm %c0, %bn_scale, %bn_beta, %bn_mean, %bn_var {{epsilon = 1.0e-05 : f64}} : (tensor<1x32x16x16xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x32x16x16xf32>
      %r0 = graph.relu %bn : (tensor<1x32x16x16xf32>) -> tensor<1x32x16x16xf32>
      %p0 = graph.max_pool %r0 {{kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}} : (tensor<1x32x16x16xf32>) -> tensor<1x32x8x8xf32>
      %c1 = graph.conv %p0, %w1 {{{_conv()}}} : (tensor<1x32x8x8xf32>, tensor<24x32x1x1xf32>) -> tensor<1x24x8x8xf32>
      %r1 = graph.relu %c1 : (tensor<1x24x8x8xf32>) -> tensor<1x24x8x8xf32>
      %c2 = graph.conv %r1, %w2 {{{_conv(1)}}} : (tensor<1x24x8x8xf32>, tensor<32x24x3x3xf32>) -> tensor<1x32x8x8xf32>
      %p1 = graph.avg_pool %c2 {{kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64}} : (tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
      %gap = graph.reduce_mean %p1 {{axes = array<i64: 2, 3>, keepdims = 1 : i64}} : (tensor<1x32x8x8xf32>) -> tensor<1x32x1x1xf32>
      %flat = graph.reshape %gap : (tensor<1x32x1x1xf32>) -> tensor<1x32xf32>
      %logits = graph.matmul %flat, %fc : (tensor<1x32xf32>, tensor<32x10xf32>) -> tensor<1x10xf32>
      func.return %logits : tensor<1x10xf32>
    }}"""
    img = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    module = _check_layout_numerics(text, [img])
    ops = _ops(module)
    # Blocked from the first conv to the global pooling; the 24-channel conv
    # reads blocked and writes NCHW, the next one reads NCHW (C = 24).
    assert _blocked_convs(module) == 3
    assert ops["graph.layout_transform"] == 1
    assert ops["graph.batch_norm"] == 0


def test_concat_residual_depthwise_and_lrn() -> None:
    rng = np.random.default_rng(4)
    text = f"""
    func.func @main(%x: tensor<1x16x6x6xf32>) -> (tensor<1x48x6x6xf32>, tensor<1x24x6x6xf32>) {{
      %wa = graph.constant {_f32(rng, 16, 16, 1, 1)}
      %wb = graph.constant {_f32(rng, 32, 16, 3, 3)}
      %wd = graph.constant {_f32(rng, 48, 1, 3, 3)}
      %we = graph.constant {_f32(rng, 48, 48, 1, 1)}
      %a = graph.conv %x, %wa {{{_conv()}}} : (tensor<1x16x6x6xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x6x6xf32>
      %b = graph.conv %x, %wb {{{_conv(1)}}} : (tensor<1x16x6x6xf32>, tensor<32x16x3x3xf32>) -> tensor<1x32x6x6xf32>
      %cat = graph.concat %a, %b {{axis = 1 : i64}} : (tensor<1x16x6x6xf32>, tensor<1x32x6x6xf32>) -> tensor<1x48x6x6xf32>
      %dw = graph.conv %cat, %wd {{{_conv(1, 1, 48)}}} : (tensor<1x48x6x6xf32>, tensor<48x1x3x3xf32>) -> tensor<1x48x6x6xf32>
      %l = graph.lrn %dw {{size = 5 : i64, alpha = 1.0e-04 : f64, beta = 0.75 : f64, bias = 1.0 : f64}} : (tensor<1x48x6x6xf32>) -> tensor<1x48x6x6xf32>
      %e = graph.conv %l, %we {{{_conv()}}} : (tensor<1x48x6x6xf32>, tensor<48x48x1x1xf32>) -> tensor<1x48x6x6xf32>
      %sum = graph.add %e, %cat : (tensor<1x48x6x6xf32>, tensor<1x48x6x6xf32>) -> tensor<1x48x6x6xf32>
      %r = graph.relu %sum : (tensor<1x48x6x6xf32>) -> tensor<1x48x6x6xf32>
      %d = graph.relu %x : (tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
      %s = graph.slice %d {{offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>}} : (tensor<1x16x6x6xf32>) -> tensor<1x8x6x6xf32>
      %odd = graph.concat %a, %s {{axis = 1 : i64}} : (tensor<1x16x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x24x6x6xf32>
      func.return %r, %odd : tensor<1x48x6x6xf32>, tensor<1x24x6x6xf32>
    }}"""
    x = rng.standard_normal((1, 16, 6, 6)).astype(np.float32)
    module = _check_layout_numerics(text, [x])
    # in, around the LRN (2), %a for the NCHW concat, out
    assert _ops(module)["graph.layout_transform"] == 5
    assert _blocked_convs(module) == 4


def test_wide_conv_split_by_slices() -> None:
    rng = np.random.default_rng(6)
    text = f"""
    func.func @main(%x: tensor<1x16x5x5xf32>) -> (tensor<1x16x5x5xf32>, tensor<1x32x3x5xf32>, tensor<1x8x5x5xf32>) {{
      %w = graph.constant {_f32(rng, 64, 16, 3, 3)}
      %wide = graph.conv %x, %w {{{_conv(1)}}} : (tensor<1x16x5x5xf32>, tensor<64x16x3x3xf32>) -> tensor<1x64x5x5xf32>
      %a = graph.slice %wide {{offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>}} : (tensor<1x64x5x5xf32>) -> tensor<1x16x5x5xf32>
      %b = graph.slice %wide {{offsets = array<i64: 0, 16, 1, 0>, strides = array<i64: 1, 1, 1, 1>}} : (tensor<1x64x5x5xf32>) -> tensor<1x32x3x5xf32>
      %rb = graph.relu %b : (tensor<1x32x3x5xf32>) -> tensor<1x32x3x5xf32>
      %c = graph.slice %wide {{offsets = array<i64: 0, 52, 0, 0>, strides = array<i64: 1, 1, 1, 1>}} : (tensor<1x64x5x5xf32>) -> tensor<1x8x5x5xf32>
      func.return %a, %rb, %c : tensor<1x16x5x5xf32>, tensor<1x32x3x5xf32>, tensor<1x8x5x5xf32>
    }}"""
    x = rng.standard_normal((1, 16, 5, 5)).astype(np.float32)
    module = _check_layout_numerics(text, [x])
    assert _ops(module)["graph.layout_transform"] == 4  # in; %a, %rb, %wide (for %c) out


def test_idempotent_and_untouched_graphs() -> None:
    rng = np.random.default_rng(5)
    text = f"""
    func.func @main(%x: tensor<1x16x4x4xf32>, %m: tensor<4x16xf32>) -> (tensor<1x32x4x4xf32>, tensor<4x4xf32>) {{
      %wg = graph.constant {_f32(rng, 32, 4, 1, 1)}
      %g = graph.conv %x, %wg {{{_conv(0, 1, 4)}}} : (tensor<1x16x4x4xf32>, tensor<32x4x1x1xf32>) -> tensor<1x32x4x4xf32>
      %r = graph.relu %g : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
      %t = graph.transpose %m {{perm = array<i64: 1, 0>}} : (tensor<4x16xf32>) -> tensor<16x4xf32>
      %mm = graph.matmul %m, %t : (tensor<4x16xf32>, tensor<16x4xf32>) -> tensor<4x4xf32>
      func.return %r, %mm : tensor<1x32x4x4xf32>, tensor<4x4xf32>
    }}"""
    module = compiler.parse_mlir(text)
    before = compiler.print_mlir(module)
    compiler.run_pipeline(module, "convert-layout")
    assert compiler.print_mlir(module) == before
    # On an already converted graph the pass changes nothing either.
    converted = compiler.parse_mlir(
        f"""
    func.func @main(%x: tensor<1x16x4x4xf32>) -> tensor<1x32x4x4xf32> {{
      %w = graph.constant {_f32(rng, 32, 16, 1, 1)}
      %c = graph.conv %x, %w {{{_conv()}}} : (tensor<1x16x4x4xf32>, tensor<32x16x1x1xf32>) -> tensor<1x32x4x4xf32>
      %r = graph.relu %c : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
      func.return %r : tensor<1x32x4x4xf32>
    }}"""
    )
    compiler.run_pipeline(converted, "convert-layout")
    once = compiler.print_mlir(converted)
    compiler.run_pipeline(converted, "convert-layout")
    assert compiler.print_mlir(converted) == once


# ---------------------------------------------------------------------------
# plan-memory on small graphs


def _plan(text: str, pipeline: str = "plan-memory") -> func.FuncOp:
    module = compiler.parse_mlir(text)
    compiler.run_pipeline(module, pipeline)
    return main_function(module)


CHAIN = """
func.func @main(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %b = graph.transpose %a {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %c = graph.transpose %b {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = graph.relu %c : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %d = graph.transpose %r {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %d : tensor<16x16xf32>
}"""


def test_verify_plan_catches_overlap() -> None:
    fn = _plan(CHAIN)
    verify_plan(fn)
    ops = memory.top_level_ops(fn)
    assert [memory.offsets_of(op) for op in ops] == [(0,), (1024,), (0,), (0,), (-1,)]
    # %b lives while %a is read: giving it %a's bytes must be refused.
    ops[1].attributes[memory.OFFSETS_ATTR] = DenseArrayBase.from_list(i64, [0])
    with pytest.raises(PlanError, match="overlaps"):
        verify_plan(fn)
    ops[1].attributes[memory.OFFSETS_ATTR] = DenseArrayBase.from_list(i64, [32])
    with pytest.raises(PlanError, match="unaligned"):
        verify_plan(fn)


def test_verify_plan_requires_a_plan() -> None:
    module = compiler.parse_mlir(CHAIN)
    with pytest.raises(PlanError):
        verify_plan(main_function(module))


def test_is_view() -> None:
    text = """
    func.func @main(%x: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<2x8xf32>, tensor<4x2xf32>, tensor<32xf32>) {
      %a = graph.relu %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
      %v = graph.reshape %a : (tensor<4x8xf32>) -> tensor<32xf32>
      %rows = graph.slice %a {offsets = array<i64: 1, 0>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<2x8xf32>
      %cols = graph.slice %a {offsets = array<i64: 0, 2>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x2xf32>
      %in = graph.reshape %x : (tensor<4x8xf32>) -> tensor<32xf32>
      %e = graph.exp %v : (tensor<32xf32>) -> tensor<32xf32>
      %n = graph.neg %rows : (tensor<2x8xf32>) -> tensor<2x8xf32>
      %o = graph.add %e, %in : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
      func.return %o, %n, %cols, %v : tensor<32xf32>, tensor<2x8xf32>, tensor<4x2xf32>, tensor<32xf32>
    }"""
    fn = main_function(compiler.parse_mlir(text))
    views = {op.results[0].name_hint: memory.is_view(op) for op in memory.top_level_ops(fn)}
    # %v is returned (the caller's buffer), %in reads a model input: copies.
    assert views == {"a": False, "v": False, "rows": True, "cols": False, "in": False, "e": False, "n": False, "o": False}
    rows = next(op for op in memory.top_level_ops(fn) if op.results[0].name_hint == "rows")
    assert memory.view_offset(rows) == 32


# ---------------------------------------------------------------------------
# The light models


@dataclass
class Light:
    name: str
    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]

    def module(self) -> ModuleOp:
        return compiler.import_onnx(self.model)


@pytest.fixture(scope="module", params=LIGHT_MODELS)
def light(request: pytest.FixtureRequest) -> Iterator[Light]:
    # Module scope groups the tests by model, so each model is seeded once.
    name = str(request.param)
    model = seeded_light_model(name)
    yield Light(name, model, random_inputs(model))


@pytest.mark.parametrize("light", ["resnet50", "inception_v1", "squeezenet", "vgg19"], indirect=True)
def test_light_model_layout_numerics(light: Light) -> None:
    module = light.module()
    if "fold-constants" in registry.our_passes():
        # The frontend transposes the classifier weights of Gemm(transB=1)
        # at run time; folding them first takes seconds off both runs.
        compiler.run_pipeline(module, "fold-constants")
    want = compiler.interpret(module, light.feeds)
    compiler.run_pipeline(module, "convert-layout{layout=NCHW16c}")
    module.verify()
    got = compiler.interpret(module, light.feeds)
    for a, b in zip(got, want, strict=True):
        assert max_rel_error(a, b) <= 1e-4
    ops = _ops(module)
    print(
        f"{light.name}: {_blocked_convs(module)}/{ops['graph.conv']} convs blocked, "
        f"{ops['graph.layout_transform']} layout transforms"
    )
    if light.name != "inception_v1":
        # One region from the first conv to the classifier.
        assert ops["graph.layout_transform"] <= 1
        assert _blocked_convs(module) == ops["graph.conv"]
    else:
        assert ops["graph.layout_transform"] == 5  # around its two LRNs, and one out


def _passes_available(*names: str) -> str:
    known = registry.our_passes()
    return ",".join(n for n in names if n in known)


def test_light_model_memory_plan(light: Light) -> None:
    module = light.module()
    pipeline = _passes_available("fuse-ops", "eliminate-concat")
    compiler.run_pipeline(module, f"{pipeline},plan-memory" if pipeline else "plan-memory")
    fn = main_function(module)
    verify_plan(fn)
    arena = memory.int_attr_of(fn, memory.ARENA_ATTR)
    naive = memory.int_attr_of(fn, memory.NAIVE_ATTR)
    assert arena is not None and naive is not None
    print(f"{light.name} after {pipeline}: arena {arena / 2**20:.2f} MiB, naive {naive / 2**20:.2f} MiB, ratio {arena / naive:.3f}")


def test_resnet50_arena_ratio() -> None:
    model = seeded_light_model("resnet50")
    module = compiler.import_onnx(model)
    pipeline = _passes_available("fold-batchnorm", "fuse-ops")
    assert pipeline == "fold-batchnorm,fuse-ops", "the passes this check is about are missing"
    compiler.run_pipeline(module, f"{pipeline},plan-memory")
    fn = main_function(module)
    verify_plan(fn)
    arena = memory.int_attr_of(fn, memory.ARENA_ATTR)
    naive = memory.int_attr_of(fn, memory.NAIVE_ATTR)
    assert arena is not None and naive is not None
    ratio = arena / naive
    print(f"resnet50 after {pipeline}: arena {arena} B, naive {naive} B, ratio {ratio:.3f}")
    assert ratio <= 0.25


def test_resnet50_layout_then_memory() -> None:
    """The two passes together: blocked ResNet-50, fused, planned, still exact."""
    model = seeded_light_model("resnet50")
    feeds = random_inputs(model)
    module = compiler.import_onnx(model)
    want = compiler.interpret(module, feeds)
    pipeline = _passes_available("fold-batchnorm", "convert-layout", "fuse-ops", "eliminate-concat")
    compiler.run_pipeline(module, f"{pipeline},plan-memory")
    module.verify()
    verify_plan(main_function(module))
    got = compiler.interpret(module, feeds)
    assert max_rel_error(got[0], want[0]) <= 1e-4


def test_inception_v1_optimize_pipeline() -> None:
    """graph-optimize level 3 (fuse-horizontal, convert-layout, fuse-ops,
    eliminate-concat, plan-memory): a consistent plan, unchanged results."""
    model = seeded_light_model("inception_v1")
    feeds = random_inputs(model)
    module = compiler.import_onnx(model)
    if "fold-constants" in registry.our_passes():
        compiler.run_pipeline(module, "fold-constants")
    want = compiler.interpret(module, feeds)
    compiler.run_pipeline(module, "graph-optimize{level=3}")
    module.verify()
    fn = main_function(module)
    verify_plan(fn)
    assert max_rel_error(compiler.interpret(module, feeds)[0], want[0]) <= 1e-4
    transforms = sum(1 for op in fn.walk() if isinstance(op, g.LayoutTransformOp))
    print(f"inception_v1 at O3: {transforms} layout transforms")
