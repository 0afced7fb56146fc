"""fuse-ops, fuse-horizontal and eliminate-concat: the reference interpreter's
results are unchanged, and the graphs they produce keep the contracts of
docs/graph-contracts.md, on small hand-built models and on the nine light
models; plus what they achieve on ResNet-50, Inception v1 and DenseNet-121."""

from __future__ import annotations

import collections
import functools

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import BlockArgument, Operation, SSAValue

import compiler
from compiler.dialects import graph as g
from compiler.dialects.graph import FusionKind, fusion_kind
from compiler.interpreter import main_function
from compiler.passes.eliminate_concat import IN_PLACE, contiguous, is_view, qualifies
from compiler.testing import LIGHT_MODELS, max_rel_error, random_inputs, seeded_light_model

# Horizontal fusion changes the summation order of a GEMM (a wider N), so
# results may differ in the last bits; grouping and in-place concats do not.
RTOL = 1e-5

FULL = "fuse-horizontal,fuse-ops,eliminate-concat"
PIPELINES = [
    "fuse-ops",
    FULL,
    "fuse-horizontal{require-same-epilogue=false},fuse-ops,eliminate-concat{partial=false}",
]


# ---------------------------------------------------------------------------
# Helpers


def _prepare(module: ModuleOp) -> ModuleOp:
    """The graph the fusion passes see in the default pipeline: after level-1 cleanup."""
    compiler.run_pipeline(module, "graph-optimize{level=1}")
    return module


def _ops(module: ModuleOp) -> list[Operation]:
    return list(main_function(module).body.block.ops)


def _count(module: ModuleOp, name: str) -> int:
    return sum(1 for op in _ops(module) if op.name == name)


def _in_place(module: ModuleOp) -> int:
    return sum(1 for op in _ops(module) if isinstance(op, g.ConcatOp) and IN_PLACE in op.attributes)


def _outside(value: SSAValue) -> bool:
    """A value the group gets from outside: a block argument or a constant."""
    return isinstance(value, BlockArgument) or isinstance(value.owner, g.ConstantOp)


def check_contracts(module: ModuleOp) -> None:
    """The group shapes and in-place conditions of docs/graph-contracts.md."""
    module.verify()
    for op in _ops(module):
        if isinstance(op, g.ConcatOp) and IN_PLACE in op.attributes:
            assert contiguous(op), op
            assert all(qualifies(v, op) for v in op.operands), op
        if not isinstance(op, g.FusedOp):
            continue
        assert len(op.results) == 1
        body = [o for o in op.body.block.ops if not isinstance(o, g.YieldOp | g.ConstantOp)]
        assert len(body) >= 2, "a lone op must stay a plain op"
        root = op.body.block.last_op.operands[0].owner  # pyright: ignore[reportOptionalMemberAccess]
        for member in body:
            assert not isinstance(member, g.FusedOp)
            # Only concats that could never be in place may be inlined into a group.
            assert not (isinstance(member, g.ConcatOp) and contiguous(member))
            assert fusion_kind(member) != FusionKind.OPAQUE, member.name
            if member is not root:
                # A tree: every intermediate feeds exactly one op of the group.
                users = {use.operation for use in member.results[0].uses}
                assert len(users) == 1 and users.pop().parent is member.parent
        anchors = [m for m in body if fusion_kind(m) in (FusionKind.REDUCTION, FusionKind.COMPLEX_OUT_FUSABLE)]
        assert len(anchors) <= 1
        if not anchors:
            assert op.kind.data == "injective"
            continue
        anchor = anchors[0]
        assert op.kind.data == fusion_kind(anchor).label
        if fusion_kind(anchor) == FusionKind.COMPLEX_OUT_FUSABLE:
            assert all(_outside(v) for v in anchor.operands), "no prologue before a conv/matmul/pool"
        # The epilogue: elementwise ops on the anchor-derived value, keeping its shape.
        current = anchor.results[0]
        for member in body[body.index(anchor) + 1 :]:
            assert fusion_kind(member) in (FusionKind.ELEMWISE, FusionKind.BROADCAST), member.name
            assert list(member.operands).count(current) == 1
            assert all(v is current or _outside(v) for v in member.operands)
            assert g.shape_of(member.results[0]) == g.shape_of(anchor.results[0])
            current = member.results[0]


def _run_and_compare(module: ModuleOp, feeds: dict[str, np.ndarray], pipeline: str) -> ModuleOp:
    reference = compiler.interpret(module, feeds)
    compiler.run_pipeline(module, pipeline)
    check_contracts(module)
    results = compiler.interpret(module, feeds)
    assert len(results) == len(reference)
    for got, want in zip(results, reference, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        assert max_rel_error(got, want) <= RTOL
    return module


# ---------------------------------------------------------------------------
# Small models


def _conv(name: str, x: str, c_in: int, c_out: int, k: int, rng: np.random.Generator,
          nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], stride: int = 1,
          bias: bool = True) -> str:
    w = rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)
    inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}_w"))
    inputs = [x, f"{name}_w"]
    if bias:
        bias = rng.standard_normal(c_out) * 0.1
        inits.append(numpy_helper.from_array(bias.astype(np.float32), f"{name}_b"))
        inputs.append(f"{name}_b")
    nodes.append(helper.make_node("Conv", inputs, [name], pads=[k // 2] * 4, strides=[stride] * 2))
    return name


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto],
           inputs: list[tuple[str, list[int]]], outputs: list[str]) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _residual_block() -> onnx.ModelProto:
    """ResNet-style bottleneck with a projection shortcut, batch norms and ReLUs."""
    rng = np.random.default_rng(1)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    a = _conv("a", "x", 4, 4, 1, rng, nodes, inits)
    nodes.append(helper.make_node("Relu", [a], ["ar"]))
    b = _conv("b", "ar", 4, 8, 3, rng, nodes, inits, bias=False)
    for name, value in (("s", 1.0), ("t", 0.0), ("m", 0.1), ("v", 1.0)):
        param = rng.uniform(0.5, 1.5, 8) * value
        inits.append(numpy_helper.from_array(param.astype(np.float32), f"bn_{name}"))
    nodes.append(helper.make_node("BatchNormalization", [b, "bn_s", "bn_t", "bn_m", "bn_v"], ["bn"]))
    sc = _conv("sc", "x", 4, 8, 1, rng, nodes, inits)
    nodes.append(helper.make_node("Add", ["bn", sc], ["sum"]))
    nodes.append(helper.make_node("Relu", ["sum"], ["y"]))
    return _model(nodes, inits, [("x", [1, 4, 6, 6])], ["y"])


def _inception_block(batch: int = 1, scale: int = 1) -> onnx.ModelProto:
    """Inception v1 block: 1x1 / 1x1->3x3 / 1x1->5x5 / pool->1x1, concatenated; twice.

    Channel counts are multiplied by `scale` (8 makes them multiples of 16,
    as the blocked layout of convert-layout needs).
    """
    rng = np.random.default_rng(2)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    x, c = "x", 8 * scale
    for block in ("i1", "i2"):
        branches = []
        for name, mid, k, out in (("a", 0, 1, 4), ("b", 6, 3, 8), ("c", 2, 5, 4)):
            mid, out = mid * scale, out * scale
            src = x
            if mid:
                src = _conv(f"{block}{name}_red", x, c, mid, 1, rng, nodes, inits)
                nodes.append(helper.make_node("Relu", [src], [src + "_r"]))
                src = src + "_r"
            conv = _conv(f"{block}{name}", src, mid or c, out, k, rng, nodes, inits)
            nodes.append(helper.make_node("Relu", [conv], [conv + "_r"]))
            branches.append(conv + "_r")
        nodes.append(helper.make_node("MaxPool", [x], [f"{block}p"], kernel_shape=[3, 3], pads=[1] * 4))
        proj = _conv(f"{block}proj", f"{block}p", c, 4 * scale, 1, rng, nodes, inits)
        nodes.append(helper.make_node("Relu", [proj], [proj + "_r"]))
        branches.append(proj + "_r")
        nodes.append(helper.make_node("Concat", branches, [f"{block}cat"], axis=1))
        x, c = f"{block}cat", 20 * scale
    return _model(nodes, inits, [("x", [batch, 8 * scale, 7, 7])], [x])


def _attention() -> onnx.ModelProto:
    """Q/K/V projections (matmul + bias), heads split by reshape/transpose, softmax(QK^T)V."""
    rng = np.random.default_rng(3)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    d, heads, seq = 8, 2, 5
    inits.append(numpy_helper.from_array(np.array([1, seq, heads, d // heads], np.int64), "split"))
    for p in "qkv":
        weight, bias = rng.standard_normal((d, d)) / 3, rng.standard_normal(d) * 0.1
        inits.append(numpy_helper.from_array(weight.astype(np.float32), f"w{p}"))
        inits.append(numpy_helper.from_array(bias.astype(np.float32), f"b{p}"))
        nodes.append(helper.make_node("MatMul", ["x", f"w{p}"], [f"{p}m"]))
        nodes.append(helper.make_node("Add", [f"{p}m", f"b{p}"], [f"{p}b"]))
        nodes.append(helper.make_node("Reshape", [f"{p}b", "split"], [f"{p}s"]))
        perm = [0, 2, 3, 1] if p == "k" else [0, 2, 1, 3]
        nodes.append(helper.make_node("Transpose", [f"{p}s"], [f"{p}h"], perm=perm))
    nodes.append(helper.make_node("MatMul", ["qh", "kh"], ["scores"]))
    inits.append(numpy_helper.from_array(np.array(0.5, np.float32), "scale"))
    nodes.append(helper.make_node("Mul", ["scores", "scale"], ["scaled"]))
    nodes.append(helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1))
    nodes.append(helper.make_node("MatMul", ["probs", "vh"], ["y"]))
    return _model(nodes, inits, [("x", [1, seq, d])], ["y"])


def _dense_block() -> onnx.ModelProto:
    """DenseNet: every layer reads the running concat and appends to it; a mid output."""
    rng = np.random.default_rng(4)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    x, c = "x", 4
    for layer in range(3):
        nodes.append(helper.make_node("Relu", [x], [f"r{layer}"]))
        conv = _conv(f"c{layer}", f"r{layer}", c, 2, 3, rng, nodes, inits)
        nodes.append(helper.make_node("Concat", [x, conv], [f"cat{layer}"], axis=1))
        x, c = f"cat{layer}", c + 2
    nodes.append(helper.make_node("Sigmoid", ["cat0"], ["mid"]))
    return _model(nodes, inits, [("x", [1, 4, 5, 5])], [x, "mid"])


SMALL_MODELS = {
    "residual_block": _residual_block,
    "inception_block": _inception_block,
    "inception_block_batch2": functools.partial(_inception_block, batch=2),
    "attention": _attention,
    "dense_block": _dense_block,
}


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("name", sorted(SMALL_MODELS))
def test_small_model_numerics(name: str, pipeline: str) -> None:
    model = SMALL_MODELS[name]()
    module = _prepare(compiler.import_onnx(model))
    _run_and_compare(module, random_inputs(model, seed=7), pipeline)


def test_small_inception_block() -> None:
    model = _inception_block()
    module = _prepare(compiler.import_onnx(model))
    assert _count(module, "graph.conv") == 12
    _run_and_compare(module, random_inputs(model), FULL)
    # Each block's three 1x1 convs of the block input became one.
    assert sum(1 for op in module.walk() if isinstance(op, g.ConvOp)) == 8
    assert _in_place(module) == 2


def test_small_inception_block_batch2_untouched() -> None:
    model = _inception_block(batch=2)
    module = _prepare(compiler.import_onnx(model))
    _run_and_compare(module, random_inputs(model), FULL)
    assert sum(1 for op in module.walk() if isinstance(op, g.ConvOp)) == 12
    assert _in_place(module) == 0  # batch 2 along the channel axis: not contiguous


def test_fuse_horizontal_on_blocked_layout() -> None:
    """After convert-layout the convs are blocked (NCHW16c, packed weights):
    the merge concatenates the packed weights along their outer O/16 dim and
    slices whole channel blocks, which are views, so no layout transform is
    needed around them."""
    model = _inception_block(scale=8)
    module = _prepare(compiler.import_onnx(model))
    _run_and_compare(module, random_inputs(model), "convert-layout{layout=NCHW16c}," + FULL)
    convs = [op for op in module.walk() if isinstance(op, g.ConvOp)]
    assert len(convs) == 8 and all(len(g.shape_of(c.result)) == 5 for c in convs)
    slices = [op for op in _ops(module) if isinstance(op, g.SliceOp)]
    assert len(slices) == 6 and all(len(g.shape_of(s.result)) == 5 for s in slices)
    assert _count(module, "graph.layout_transform") == 2  # at the model's edges only
    assert _in_place(module) == 2


def test_attention_qkv_merged() -> None:
    model = _attention()
    module = _prepare(compiler.import_onnx(model))
    _run_and_compare(module, random_inputs(model), FULL)
    matmuls = [op for op in module.walk() if isinstance(op, g.MatMulOp)]
    assert len(matmuls) == 3  # one wide projection, QK^T, PV
    assert g.shape_of(matmuls[0].rhs) == (8, 24)


def test_dense_block_partial_concats() -> None:
    model = _dense_block()
    module = _prepare(compiler.import_onnx(model))
    strict = _run_and_compare(module.clone(), random_inputs(model), "fuse-ops,eliminate-concat{partial=false}")
    assert _in_place(strict) == 0  # each concat's first operand is also read by the next layer
    partial = _run_and_compare(module, random_inputs(model), "fuse-ops,eliminate-concat")
    assert _in_place(partial) == 3
    # The running concat is copied by a one-operand concat; the conv writes in place.
    copies = [op for op in _ops(partial) if isinstance(op, g.ConcatOp) and IN_PLACE not in op.attributes]
    assert len(copies) == 3 and all(len(op.operands) == 1 for op in copies)


def test_passes_are_idempotent() -> None:
    model = _inception_block()
    module = _prepare(compiler.import_onnx(model))
    compiler.run_pipeline(module, FULL)
    once = compiler.print_mlir(module)
    compiler.run_pipeline(module, FULL)
    assert compiler.print_mlir(module) == once


# ---------------------------------------------------------------------------
# The nine light models


@functools.cache
def _light(name: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    model = seeded_light_model(name)
    return model, random_inputs(model)


def _light_module(name: str) -> ModuleOp:
    return _prepare(compiler.import_onnx(_light(name)[0]))


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_light_model_numerics(name: str) -> None:
    module = _light_module(name)
    _run_and_compare(module, _light(name)[1], FULL)


def test_inception_v1_merges_sibling_1x1_convs() -> None:
    module = _light_module("inception_v1")
    before = _count(module, "graph.conv")
    compiler.run_pipeline(module, "fuse-horizontal")
    check_contracts(module)
    after = _count(module, "graph.conv")
    # Nine inception blocks, each with three 1x1 convs of the block input.
    assert (before, after) == (57, 39)
    wide = [op for op in _ops(module) if isinstance(op, g.ConvOp) and op.results[0].name_hint and op.results[0].name_hint.endswith("_wide")]
    assert len(wide) == 9
    # Their shared ReLU moved before the channel slices, which are views.
    slices = [op for op in _ops(module) if isinstance(op, g.SliceOp)]
    assert len(slices) == 27 and all(is_view(op) for op in slices)


@pytest.mark.parametrize(
    ("name", "pipeline", "in_place", "copies"),
    [
        # Every operand is a conv group's result used only by the concat.
        ("inception_v1", "fuse-ops,eliminate-concat", 9, 0),
        # After fuse-horizontal the 1x1 branch is a view of the wide conv:
        # it is copied by a small concat, the three other branches write in place.
        ("inception_v1", FULL, 9, 9),
        # The running concat is also read by the next layer: copied, while
        # the new layer's conv writes in place.
        ("densenet121", "fuse-ops,eliminate-concat", 58, 58),
        ("densenet121", "fuse-ops,eliminate-concat{partial=false}", 0, 0),
    ],
)
def test_concats_in_place(name: str, pipeline: str, in_place: int, copies: int) -> None:
    module = _light_module(name)
    concats = _count(module, "graph.concat")
    compiler.run_pipeline(module, pipeline)
    check_contracts(module)
    assert _in_place(module) == in_place
    assert _count(module, "graph.concat") == concats + copies


def test_resnet50_epilogues_in_conv_groups() -> None:
    module = _light_module("resnet50")
    compiler.run_pipeline(module, "fuse-ops")
    check_contracts(module)
    top = collections.Counter(op.name for op in _ops(module))
    # After fold-batchnorm each conv has its bias as an operand; its ReLU and
    # the residual add sit in its group: none is left outside.
    for name in ("graph.relu", "graph.add", "graph.batch_norm", "graph.mul"):
        assert top[name] == 0, name
    groups = [op for op in _ops(module) if isinstance(op, g.FusedOp)]
    conv_groups = [op for op in groups if any(isinstance(o, g.ConvOp) for o in op.body.block.ops)]
    assert len(conv_groups) == 49 and len(groups) == 50  # + the classifier's matmul + bias
    with_residual = [op for op in conv_groups if any(isinstance(o, g.AddOp) for o in op.body.block.ops)]
    assert len(with_residual) == 16
    # The 4 projection shortcuts stay lone convs (with their folded bias):
    # they have no epilogue of their own, the residual add joins the other
    # branch's group and reads them as a block argument.
    assert top["graph.conv"] == 4
    for op in _ops(module):
        if isinstance(op, g.ConvOp):
            assert op.bias is not None
            (use,) = op.results[0].uses
            assert isinstance(use.operation, g.FusedOp)


def test_bert_qkv_projections_merged() -> None:
    from compiler.testing import bert_model_path

    model = onnx.load(str(bert_model_path()))
    module = _prepare(compiler.import_onnx(model))
    before = _count(module, "graph.matmul")
    _run_and_compare(module, random_inputs(model), FULL)
    after = sum(1 for op in module.walk() if isinstance(op, g.MatMulOp))
    assert before - after == 4  # two layers, Q/K/V: three matmuls become one in each
