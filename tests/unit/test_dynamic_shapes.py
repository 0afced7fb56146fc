"""Shape arithmetic on data-dependent selections (compiler/frontend/dynamic_shapes.py)
against onnxruntime: the graph torch.onnx's TorchScript exporter writes for
torchvision's SSD post-processing (per class: a score threshold by NonZero,
`min(k, score.size(0))` from Shape, TopK, torch.full_like labels; then the
per-class pieces concatenated, batched NMS behind `if boxes.numel() == 0`,
keep[:limit], boxes.unbind(1)), and the other shape consumers
(Range, Expand, Reshape, Slice) on a run-time row count.

Counts and values must equal onnxruntime's (0, some and every box kept),
imported (the reference interpreter) and compiled. What stays unsupported is
one line naming the node.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.errors import CompilerError
from compiler.testing.oracle import max_rel_error

pytestmark = pytest.mark.usefixtures("private_cache")

_N, _CLASSES, _TOPK, _LIMIT = 12, 3, 4, 6


def _const(name: str, value: object) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(np.asarray(value)))


def _per_class(c: int) -> list[onnx.NodeProto]:
    """One class of SSD's postprocess_detections, as torch.onnx writes it."""
    p = f"c{c}_"
    return [
        _const(p + "col", np.int64(c)),
        helper.make_node("Gather", ["scores", p + "col"], [p + "score"], axis=1),
        helper.make_node("Greater", [p + "score", "thr"], [p + "mask"]),
        helper.make_node("NonZero", [p + "mask"], [p + "nz"], name=p + "where"),
        helper.make_node("Transpose", [p + "nz"], [p + "idx"], perm=[1, 0]),
        helper.make_node("GatherND", [p + "score", p + "idx"], [p + "kept"]),
        helper.make_node("GatherND", ["boxes", p + "idx"], [p + "kept_boxes"]),
        # num_topk = min(topk_candidates, score.size(0))
        helper.make_node("Shape", [p + "kept"], [p + "shape"], name=p + "shape"),
        helper.make_node("Gather", [p + "shape", "first"], [p + "size"], axis=0),
        helper.make_node("Unsqueeze", [p + "size", "zero"], [p + "size1"]),
        helper.make_node("Concat", ["topk", p + "size1"], [p + "both"], axis=0),
        helper.make_node("ReduceMin", [p + "both"], [p + "num"], keepdims=0),
        helper.make_node("Reshape", [p + "num", "one"], [p + "k"]),
        helper.make_node("TopK", [p + "kept", p + "k"], [p + "top", p + "top_idx"]),
        helper.make_node("Gather", [p + "kept_boxes", p + "top_idx"], [p + "box"], axis=0),
        # torch.full_like(score, label)
        helper.make_node("Shape", [p + "top"], [p + "top_shape"]),
        helper.make_node(
            "ConstantOfShape", [p + "top_shape"], [p + "label"],
            value=onnx.numpy_helper.from_array(np.asarray([c], np.int64)),
        ),
    ]


def _nms_branch() -> onnx.GraphProto:
    """torchvision's _batched_nms_coordinate_trick."""
    nodes = [
        helper.make_node("ReduceMax", ["all_boxes"], ["top_coord"], keepdims=0),
        helper.make_node("Cast", ["all_labels"], ["labels_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["top_coord", "onef"], ["span"]),
        helper.make_node("Mul", ["labels_f", "span"], ["offsets"]),
        helper.make_node("Unsqueeze", ["offsets", "one"], ["offsets2"]),
        helper.make_node("Add", ["all_boxes", "offsets2"], ["shifted"]),
        helper.make_node("Unsqueeze", ["shifted", "zero"], ["b3"]),
        helper.make_node("Unsqueeze", ["all_scores", "zero"], ["s2"]),
        helper.make_node("Unsqueeze", ["s2", "zero"], ["s3"]),
        helper.make_node("NonMaxSuppression", ["b3", "s3", "max_out", "iou"], ["sel"], name="nms"),
        helper.make_node("Gather", ["sel", "two"], ["col2"], axis=1),
        helper.make_node("Squeeze", ["col2", "one"], ["keep_nms"]),
    ]
    out = helper.make_tensor_value_info("keep_nms", TensorProto.INT64, None)
    return helper.make_graph(nodes, "else_branch", [], [out])


def _empty_branch() -> onnx.GraphProto:
    nodes = [_const("no_boxes", np.zeros((0,), np.int64))]
    return helper.make_graph(nodes, "then_branch", [], [helper.make_tensor_value_info("no_boxes", TensorProto.INT64, None)])


def _ssd_postprocess() -> onnx.ModelProto:
    classes = range(1, _CLASSES)
    nodes = [
        _const("thr", np.float32(0.5)), _const("first", np.int64(0)), _const("zero", np.asarray([0], np.int64)),
        _const("one", np.asarray([1], np.int64)), _const("two", np.asarray([2], np.int64)),
        _const("topk", np.asarray([_TOPK], np.int64)), _const("onef", np.float32(1.0)),
        _const("max_out", np.asarray([np.iinfo(np.int64).max], np.int64)), _const("iou", np.asarray([0.5], np.float32)),
        _const("nothing", np.int64(0)), _const("end", np.asarray([_LIMIT], np.int64)),
        _const("ones4", np.asarray([1, 1, 1, 1], np.int64)),
    ]
    for c in classes:
        nodes += _per_class(c)
    nodes += [
        helper.make_node("Concat", [f"c{c}_box" for c in classes], ["all_boxes"], axis=0, name="cat_boxes"),
        helper.make_node("Concat", [f"c{c}_top" for c in classes], ["all_scores"], axis=0),
        helper.make_node("Concat", [f"c{c}_label" for c in classes], ["all_labels"], axis=0),
        # if boxes.numel() == 0: keep = empty, else batched NMS
        helper.make_node("Shape", ["all_boxes"], ["all_shape"]),
        helper.make_node("ReduceProd", ["all_shape"], ["numel"], keepdims=0),
        helper.make_node("Equal", ["numel", "nothing"], ["empty"]),
        helper.make_node("If", ["empty"], ["keep_all"], then_branch=_empty_branch(), else_branch=_nms_branch(), name="if_empty"),
        helper.make_node("Slice", ["keep_all", "zero", "end", "zero"], ["keep"]),
        helper.make_node("Gather", ["all_boxes", "keep"], ["kept_boxes"], axis=0),
        helper.make_node("Gather", ["all_scores", "keep"], ["kept_scores"], axis=0),
        helper.make_node("Gather", ["all_labels", "keep"], ["kept_labels"], axis=0),
        # boxes.unbind(1), each coordinate scaled, torch.stack(dim=1)
        helper.make_node("Split", ["kept_boxes", "ones4"], ["x1", "y1", "x2", "y2"], axis=1),
        *[helper.make_node("Mul", [v, "onef"], [v + "s"]) for v in ("x1", "y1", "x2", "y2")],
        helper.make_node("Concat", ["x1s", "y1s", "x2s", "y2s"], ["final_boxes"], axis=1),
    ]
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [_N, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [_N, _CLASSES]),
    ]
    outputs = [onnx.ValueInfoProto(name=n) for n in ("final_boxes", "kept_scores", "kept_labels")]
    graph = helper.make_graph(nodes, "ssd_post", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], compiled: compiler.CompiledModel) -> list[np.ndarray]:
    want = _ort(model, feeds)
    for got in (compiler.interpret(compiler.import_onnx(model), feeds), compiled.run(None, feeds)):
        assert [g.shape for g in got] == [w.shape for w in want]
        for g, w in zip(got, want, strict=True):
            if w.dtype.kind == "f":
                assert max_rel_error(g, w) <= 1e-4
            else:
                np.testing.assert_array_equal(g, w)
    return want


def _feeds(seed: int, scale: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (_N, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + rng.uniform(1, 5, (_N, 2)).astype(np.float32)], axis=1)
    return {"boxes": boxes, "scores": (rng.uniform(0, 1, (_N, _CLASSES)) * scale).astype(np.float32)}


def test_ssd_postprocess_matches_onnxruntime() -> None:
    model = _ssd_postprocess()
    compiled = compiler.compile(model)
    counts = set()
    # Scales: many boxes per class (k = topk, the limit cuts), a few, none at all.
    for seed, scale in ((0, 1.0), (1, 1.0), (2, 0.6), (3, 0.55), (4, 0.3)):
        want = _check(model, _feeds(seed, scale), compiled)
        counts.add(want[0].shape[0])
    assert 0 in counts and _LIMIT in counts and len(counts) >= 3, counts


def test_static_dims_of_a_selection_stay_constants() -> None:
    """x.shape[1] of a padded x folds: a Reshape to (-1, x.shape[1]) imports
    with a constant shape and keeps the rows."""
    nodes = [
        _const("thr", np.float32(0.5)), _const("first", np.int64(0)), _const("col", np.asarray([1], np.int64)),
        _const("minus", np.asarray([-1], np.int64)),
        helper.make_node("ReduceMax", ["scores"], ["best"], axes=[1], keepdims=0),
        helper.make_node("Greater", ["best", "thr"], ["mask"]),
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Gather", ["nz", "first"], ["inds"], axis=0),
        helper.make_node("Gather", ["boxes", "inds"], ["picked"], axis=0),
        helper.make_node("Shape", ["picked"], ["dims"]),
        helper.make_node("Gather", ["dims", "col"], ["width"], axis=0),
        helper.make_node("Concat", ["minus", "width"], ["target"], axis=0),
        helper.make_node("Reshape", ["picked", "target"], ["rows"]),
    ]
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [_N, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [_N, _CLASSES]),
    ]
    graph = helper.make_graph(nodes, "fold", inputs, [onnx.ValueInfoProto(name="rows")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    text = str(compiler.import_onnx(model))
    assert "graph.concat" not in text  # the target shape folded
    compiled = compiler.compile(model)
    for seed, scale in ((0, 1.0), (1, 0.55), (2, 0.2)):
        _check(model, _feeds(seed, scale), compiled)


def _consumers_model() -> onnx.ModelProto:
    """The other shape consumers of a selection's length n: torch.arange(n),
    expand(n, 2), reshape(n, 2, 2), x[:n] of a static tensor; and a one-output
    Split of the selection's columns."""
    nodes = [
        _const("thr", np.float32(0.5)), _const("first", np.int64(0)), _const("zero", np.asarray([0], np.int64)),
        _const("two", np.asarray([2], np.int64)), _const("start", np.int64(0)), _const("step", np.int64(1)),
        _const("row", np.arange(2, dtype=np.int64).reshape(1, 2)), _const("width4", np.asarray([4], np.int64)),
        helper.make_node("NonZero", ["mask"], ["nz"], name="where"),
        helper.make_node("Gather", ["nz", "first"], ["inds"], axis=0),
        helper.make_node("Gather", ["boxes", "inds"], ["picked"], axis=0),
        helper.make_node("Shape", ["picked"], ["dims"]),
        helper.make_node("Gather", ["dims", "first"], ["n"], axis=0),
        helper.make_node("Range", ["start", "n", "step"], ["positions"]),
        helper.make_node("Unsqueeze", ["n", "zero"], ["n1"]),
        helper.make_node("Concat", ["n1", "two"], ["n_by_2"], axis=0),
        helper.make_node("Expand", ["row", "n_by_2"], ["grid"]),
        helper.make_node("Concat", ["n1", "two", "two"], ["n_2_2"], axis=0),
        helper.make_node("Reshape", ["picked", "n_2_2"], ["corners"]),
        helper.make_node("Slice", ["table", "zero", "n1", "zero"], ["prefix"]),
        # torch.where(mask) as RetinaNet writes it: a one-piece Split of columns.
        helper.make_node("Split", ["picked", "width4"], ["whole"], axis=1),
    ]
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [_N, 4]),
        helper.make_tensor_value_info("mask", TensorProto.BOOL, [_N]),
        helper.make_tensor_value_info("table", TensorProto.FLOAT, [_N, 3]),
    ]
    outputs = [onnx.ValueInfoProto(name=n) for n in ("positions", "grid", "corners", "prefix", "whole")]
    graph = helper.make_graph(nodes, "consumers", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_range_expand_reshape_slice_of_a_row_count_match_onnxruntime() -> None:
    model = _consumers_model()
    compiled = compiler.compile(model)
    rng = np.random.default_rng(0)
    for density in (0.0, 0.4, 1.0):
        feeds = {
            "boxes": rng.standard_normal((_N, 4)).astype(np.float32),
            "mask": rng.random(_N) < density,
            "table": rng.standard_normal((_N, 3)).astype(np.float32),
        }
        _check(model, feeds, compiled)


def _one_line_error(model: onnx.ModelProto) -> str:
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(model)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_unsupported_uses_of_a_row_count_are_one_line_errors() -> None:
    model = _consumers_model()
    # A reshape that folds the selection's rows into another dim: reshape(n * 4).
    nodes = list(model.graph.node)
    nodes += [
        _const("four", np.int64(4)),
        helper.make_node("Mul", ["n", "four"], ["n4"]),
        helper.make_node("Unsqueeze", ["n4", "zero"], ["n4_1"]),
        helper.make_node("Reshape", ["picked", "n4_1"], ["flat"], name="flatten_rows"),
    ]
    model.graph.ClearField("node")
    model.graph.node.extend(nodes)
    model.graph.output.append(onnx.ValueInfoProto(name="flat"))
    text = _one_line_error(model)
    assert "node 'flatten_rows' (Reshape" in text and "NonZero node 'where'" in text and "data-dependent" in text

    # Range from a run-time start: only the limit may be a row count.
    model = _consumers_model()
    for node in model.graph.node:
        if node.op_type == "Range":
            node.input[0], node.input[1] = "n", "n"
            node.name = "arange"
    text = _one_line_error(model)
    assert "node 'arange' (Range" in text and "start and delta must be constants" in text


def test_if_on_a_run_time_condition_needs_a_constant_branch() -> None:
    """Both branches computing: still the one-line data-dependent control flow error."""
    model = _ssd_postprocess()
    for node in model.graph.node:
        if node.op_type == "If":
            (then,) = [a for a in node.attribute if a.name == "then_branch"]
            then.g.CopyFrom(_nms_branch())
    text = _one_line_error(model)
    assert "node 'if_empty' (If" in text and "data-dependent control flow is not supported" in text


def test_if_with_a_constant_branch_selects_by_the_run_time_condition() -> None:
    """Same shapes in both branches: each output is the condition's pick."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    then = helper.make_graph(
        [_const("fallback", np.full((2, 3), 7.0, np.float32))], "then_branch", [],
        [helper.make_tensor_value_info("fallback", TensorProto.FLOAT, None)],
    )
    other = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["negated"])], "else_branch", [],
        [helper.make_tensor_value_info("negated", TensorProto.FLOAT, None)],
    )
    nodes = [
        _const("zero", np.float32(0.0)),
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["y"], then_branch=then, else_branch=other),
    ]
    graph = helper.make_graph(nodes, "pick", [x], [onnx.ValueInfoProto(name="y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    compiled = compiler.compile(model)
    for sign in (1.0, -1.0):
        _check(model, {"x": np.abs(np.random.default_rng(0).standard_normal((2, 3))).astype(np.float32) * sign}, compiled)
