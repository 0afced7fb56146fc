"""NonMaxSuppression and RoiAlign against onnxruntime: one-op models, imported
(the reference interpreter) and compiled, over shapes, attributes, constant
and run-time thresholds, and the edge cases where implementations part:
ties in scores, flipped corners, IoU exactly at the threshold, rois off the map.

NMS selections must be equal (same rows, same order); pooled values within
1e-5 relative. Models are built with onnx.helper, seeded; the compiled ones
share one module-wide cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import compiler
from compiler.errors import CompilerError
from compiler.testing.oracle import max_rel_error

pytestmark = pytest.mark.usefixtures("private_cache")


def _ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # RoiAlign's max mode warns on every session
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


# ---------------------------------------------------------------------------
# NonMaxSuppression


@dataclass
class Nms:
    id: str
    boxes: np.ndarray
    scores: np.ndarray
    center: int = 0
    max_out: int | None = 3
    iou: float | None = 0.5
    score: float | None = None
    runtime: bool = False  # limit and thresholds as graph inputs
    opset: int = 11
    extra: dict[str, object] = field(default_factory=dict)

    def model(self) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        b, n, _ = self.boxes.shape
        c = self.scores.shape[1]
        inputs = [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [b, n, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [b, c, n]),
        ]
        feeds = {"boxes": self.boxes, "scores": self.scores}
        inits, names = [], ["boxes", "scores"]
        for name, value, dtype in (
            ("max_out", self.max_out, np.int64),
            ("iou", self.iou, np.float32),
            ("score", self.score, np.float32),
        ):
            if value is None:
                names.append("")
                continue
            names.append(name)
            array = np.asarray([value], dtype)
            if self.runtime:
                inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype), [1]))
                feeds[name] = array
            else:
                inits.append(onnx.numpy_helper.from_array(array, name))
        while names[-1] == "":
            names.pop()
        node = helper.make_node("NonMaxSuppression", names, ["selected"], name="nms", center_point_box=self.center)
        out = helper.make_tensor_value_info("selected", TensorProto.INT64, None)
        graph = helper.make_graph([node], "nms", inputs, [out], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)]), feeds


def _random_nms(seed: int, **kw: object) -> Nms:
    rng = np.random.default_rng(seed)
    b, n, c = int(rng.integers(1, 3)), int(rng.integers(2, 24)), int(rng.integers(1, 4))
    corners = rng.uniform(0, 10, (b, n, 4)).astype(np.float32)
    scores = rng.uniform(0, 1, (b, c, n)).astype(np.float32)
    return Nms(f"random{seed}", corners, scores, **kw)  # type: ignore[arg-type]


def _ties(seed: int) -> Nms:
    """Coarse boxes and scores: many equal scores, equal boxes, IoUs on round values."""
    rng = np.random.default_rng(seed)
    boxes = np.round(rng.uniform(0, 6, (2, 20, 4))).astype(np.float32)
    scores = (np.round(rng.uniform(0, 1, (2, 3, 20)) * 3) / 3).astype(np.float32)
    return Nms(f"ties{seed}", boxes, scores, max_out=8, iou=1 / 3, score=1 / 3)


# IoU exactly 0.5: [0, 0, 2, 2] and [0, 0, 2, 1] (y1, x1, y2, x2) share half of the first.
_HALF = np.asarray([[[0, 0, 2, 2], [0, 0, 2, 1], [0, 0, 1, 2], [5, 5, 6, 6]]], np.float32)
_HALF_SCORES = np.asarray([[[0.9, 0.8, 0.7, 0.6]]], np.float32)
# Flipped corners: [y2, x2, y1, x1] describe the same boxes.
_FLIPPED = np.asarray([[[2, 2, 0, 0], [0, 1, 2, 0], [1, 2, 0, 0], [6, 5, 5, 6], [0, 0, 0, 3]]], np.float32)
_CENTERS = np.asarray([[[1, 1, 2, 2], [1.5, 1, 2, 2], [5, 5, 1, 1], [1, 1, 2, 2], [5, 5, 0, 1]]], np.float32)

NMS_CASES = [
    *(_random_nms(s) for s in range(4)),
    *(_random_nms(10 + s, center=1) for s in range(2)),
    _random_nms(20, max_out=100, iou=0.3, score=0.4),
    _random_nms(21, runtime=True, score=0.2),
    _random_nms(22, runtime=True, center=1, max_out=2, iou=0.1),
    _random_nms(23, opset=10),
    _random_nms(24, max_out=0),
    _random_nms(25, max_out=-3),
    _random_nms(26, max_out=None, iou=None),
    _random_nms(27, iou=None),
    _random_nms(28, runtime=True, max_out=0),
    _random_nms(29, iou=0.0, score=0.0, max_out=50),
    *(_ties(s) for s in range(3)),
    Nms("iou-at-threshold", _HALF, _HALF_SCORES, max_out=4, iou=0.5),
    Nms("iou-below-threshold", _HALF, _HALF_SCORES, max_out=4, iou=0.49),
    Nms("flipped-corners", _FLIPPED, np.asarray([[[0.5, 0.9, 0.9, 0.2, 0.7]]], np.float32), max_out=5, iou=0.2),
    Nms("center-boxes", _CENTERS, np.asarray([[[0.5, 0.9, 0.9, 0.9, 0.7]]], np.float32), center=1, max_out=5, iou=0.3),
    Nms("score-at-threshold", _HALF, _HALF_SCORES, max_out=4, iou=0.9, score=0.7),
]


def _nms_expected(case: Nms) -> tuple[onnx.ModelProto, dict[str, np.ndarray], np.ndarray]:
    model, feeds = case.model()
    (want,) = _ort(model, feeds)
    return model, feeds, want


@pytest.mark.parametrize("case", NMS_CASES, ids=lambda c: c.id)
def test_nms_interpreter_matches_onnxruntime(case: Nms) -> None:
    model, feeds, want = _nms_expected(case)
    (got,) = compiler.interpret(compiler.import_onnx(model), feeds)
    np.testing.assert_array_equal(got, want)


# Compiling is slower than interpreting: a subset covering each code path.
COMPILED_NMS = {
    "random0", "random10", "random21", "random22", "random24", "random28", "ties0",
    "iou-at-threshold", "flipped-corners", "center-boxes", "score-at-threshold",
}


@pytest.mark.parametrize("case", [c for c in NMS_CASES if c.id in COMPILED_NMS], ids=lambda c: c.id)
def test_nms_compiled_matches_onnxruntime(case: Nms) -> None:
    model, feeds, want = _nms_expected(case)
    got = compiler.compile(model).run(None, feeds)
    assert len(got) == 1
    np.testing.assert_array_equal(got[0], want)


def test_nms_iou_at_threshold_keeps_the_box() -> None:
    """IoU equal to the threshold does not suppress (onnxruntime compares with >)."""
    _, _, want = _nms_expected(NMS_CASES[[c.id for c in NMS_CASES].index("iou-at-threshold")])
    assert [int(r[2]) for r in want] == [0, 1, 2, 3]
    _, _, want = _nms_expected(NMS_CASES[[c.id for c in NMS_CASES].index("iou-below-threshold")])
    assert [int(r[2]) for r in want] == [0, 3]


def _selection_pipeline() -> onnx.ModelProto:
    """NMS, then the row-wise post-processing detectors export: the box
    indices sliced out, boxes and scores gathered by them, boxes scaled."""
    n = 16
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, n, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, n]),
    ]
    inits = [
        onnx.numpy_helper.from_array(np.asarray([6], np.int64), "max_out"),
        onnx.numpy_helper.from_array(np.asarray([0.4], np.float32), "iou"),
        onnx.numpy_helper.from_array(np.asarray([2], np.int64), "col"),
        onnx.numpy_helper.from_array(np.asarray([0], np.int64), "zero"),
        onnx.numpy_helper.from_array(np.asarray([2.0], np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou"], ["sel"], name="nms"),
        helper.make_node("Gather", ["sel", "col"], ["col2"], axis=1),
        helper.make_node("Squeeze", ["col2", "one"], ["keep"]),
        helper.make_node("Constant", [], ["one"], value=onnx.numpy_helper.from_array(np.asarray([1], np.int64))),
        helper.make_node("Squeeze", ["boxes", "zero"], ["flat"]),
        helper.make_node("Gather", ["flat", "keep"], ["picked"], axis=0),
        helper.make_node("Mul", ["picked", "scale"], ["scaled"]),
        helper.make_node("Reshape", ["scores", "flat_shape"], ["flat_scores"]),
        helper.make_node("Constant", [], ["flat_shape"], value=onnx.numpy_helper.from_array(np.asarray([-1], np.int64))),
        helper.make_node("Gather", ["flat_scores", "keep"], ["kept_scores"], axis=0),
        helper.make_node("Unsqueeze", ["kept_scores", "one"], ["kept_col"]),
        helper.make_node("Concat", ["scaled", "kept_col"], ["detections"], axis=1),
    ]
    # Constants first (topological order).
    nodes = [nodes[3], nodes[8], *[nd for i, nd in enumerate(nodes) if i not in (3, 8)]]
    outputs = [
        helper.make_tensor_value_info("detections", TensorProto.FLOAT, None),
        helper.make_tensor_value_info("sel", TensorProto.INT64, None),
    ]
    graph = helper.make_graph(nodes, "pipeline", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_row_wise_ops_after_nms_are_cut_to_its_rows() -> None:
    model = _selection_pipeline()
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 8, (1, 16, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + rng.uniform(1, 4, (1, 16, 2)).astype(np.float32)], axis=2)
    feeds = {"boxes": boxes, "scores": rng.uniform(0, 1, (1, 1, 16)).astype(np.float32)}
    want = _ort(model, feeds)
    compiled = compiler.compile(model)
    assert compiled.output_names == ["detections", "sel"]
    for got in (compiler.interpret(compiler.import_onnx(model), feeds), compiled.run(None, feeds)):
        assert [g.shape for g in got] == [w.shape for w in want]
        np.testing.assert_array_equal(got[1], want[1])
        assert max_rel_error(got[0], want[0]) == 0.0
    (only,) = compiled.run(["sel"], feeds)
    np.testing.assert_array_equal(only, want[1])


def test_ops_that_mix_rows_after_nms_are_one_line_errors() -> None:
    model, _ = _random_nms(0).model()
    node = helper.make_node("TopK", ["selected", "k"], ["values", "indices"], name="best")
    model.graph.node.append(node)
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray([1], np.int64), "k"))
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("values", TensorProto.INT64, None))
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(model)
    text = str(info.value)
    assert "\n" not in text
    assert "node 'best' (TopK" in text and "NonMaxSuppression node 'nms'" in text


def test_nms_bad_shapes_are_one_line_errors() -> None:
    case = _random_nms(0)
    model, _ = case.model()
    b, c, n = case.scores.shape
    model.graph.input[1].CopyFrom(helper.make_tensor_value_info("scores", TensorProto.FLOAT, [b, c, n - 1]))
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(model)
    assert "node 'nms' (NonMaxSuppression" in str(info.value) and "scores must have shape" in str(info.value)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------
# RoiAlign


def _roi_model(x_shape: tuple[int, ...], rois: int, opset: int, **attrs: object) -> onnx.ModelProto:
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape)),
        helper.make_tensor_value_info("rois", TensorProto.FLOAT, [rois, 4]),
        helper.make_tensor_value_info("batch", TensorProto.INT64, [rois]),
    ]
    node = helper.make_node("RoiAlign", ["x", "rois", "batch"], ["y"], name="roi", **attrs)
    graph = helper.make_graph([node], "roi", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@dataclass
class Roi:
    id: str
    x_shape: tuple[int, int, int, int]
    rois: np.ndarray
    opset: int
    attrs: dict[str, object]
    seed: int = 0

    def model(self) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        rng = np.random.default_rng(self.seed)
        r = self.rois.shape[0]
        feeds = {
            "x": rng.standard_normal(self.x_shape).astype(np.float32),
            "rois": self.rois,
            "batch": rng.integers(0, self.x_shape[0], r).astype(np.int64),
        }
        return _roi_model(self.x_shape, r, self.opset, **self.attrs), feeds


def _random_rois(seed: int, r: int, h: int, w: int, scale: float, flipped: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.uniform(-3, 1.3 * max(h, w) / scale, (r, 4)).astype(np.float32)
    if flipped:
        return p
    return np.stack(
        [np.minimum(p[:, 0], p[:, 2]), np.minimum(p[:, 1], p[:, 3]), np.maximum(p[:, 0], p[:, 2]), np.maximum(p[:, 1], p[:, 3])],
        axis=1,
    )


ROI_CASES = [
    Roi("v10-avg-adaptive", (2, 3, 9, 7), _random_rois(0, 4, 9, 7, 1.0), 10, {"output_height": 3, "output_width": 2}),
    Roi("v10-max-ratio2", (1, 2, 8, 8), _random_rois(1, 3, 8, 8, 0.5), 10,
        {"mode": "max", "sampling_ratio": 2, "spatial_scale": 0.5, "output_height": 2, "output_width": 2}),
    Roi("v16-half-pixel-avg", (2, 4, 10, 6), _random_rois(2, 5, 10, 6, 0.25), 16,
        {"output_height": 4, "output_width": 3, "spatial_scale": 0.25}),
    Roi("v16-half-pixel-max-adaptive", (1, 3, 7, 9), _random_rois(3, 3, 7, 9, 1.0), 16,
        {"mode": "max", "output_height": 2, "output_width": 3}),
    Roi("v16-output-half-pixel", (1, 2, 6, 6), _random_rois(4, 3, 6, 6, 1.0), 16,
        {"coordinate_transformation_mode": "output_half_pixel", "sampling_ratio": 3, "output_height": 2, "output_width": 2}),
    # Flipped rois have negative sizes; onnxruntime refuses them with half_pixel and an
    # adaptive grid (a negative sample count), so these use a fixed sampling ratio.
    Roi("v16-flipped-rois", (2, 2, 8, 8), _random_rois(5, 4, 8, 8, 1.0, flipped=True), 16,
        {"output_height": 2, "output_width": 2, "sampling_ratio": 2}),
    Roi("v10-flipped-rois-adaptive", (2, 2, 8, 8), _random_rois(8, 4, 8, 8, 1.0, flipped=True), 10,
        {"output_height": 2, "output_width": 3}),
    Roi("v10-flipped-rois-max", (1, 2, 8, 8), _random_rois(6, 4, 8, 8, 1.0, flipped=True), 10,
        {"mode": "max", "output_height": 2, "output_width": 2, "sampling_ratio": 1}),
    Roi("off-the-map", (1, 2, 5, 5), np.asarray([[-20, -20, -8, -9], [3, 3, 40, 30], [4.9, 4.9, 5.1, 5.1]], np.float32), 16,
        {"output_height": 2, "output_width": 2}),
    Roi("defaults-1x1", (1, 3, 5, 5), _random_rois(7, 2, 5, 5, 1.0), 16, {}),
]


@pytest.mark.parametrize("case", ROI_CASES, ids=lambda c: c.id)
def test_roi_align_matches_onnxruntime(case: Roi) -> None:
    model, feeds = case.model()
    (want,) = _ort(model, feeds)
    (interpreted,) = compiler.interpret(compiler.import_onnx(model), feeds)
    (compiled,) = compiler.compile(model).run(None, feeds)
    assert interpreted.shape == compiled.shape == want.shape
    assert max_rel_error(interpreted, want) <= 1e-5
    assert max_rel_error(compiled, want) <= 1e-5


def test_roi_align_bad_rois_shape_is_one_line_error() -> None:
    model = _roi_model((1, 2, 5, 5), 3, 16)
    model.graph.input[1].CopyFrom(helper.make_tensor_value_info("rois", TensorProto.FLOAT, [3, 5]))
    with pytest.raises(CompilerError) as info:
        compiler.import_onnx(model)
    assert "node 'roi' (RoiAlign, opset 16): rois must have shape [num_rois, 4], got [3, 5]" in str(info.value)


# ---------------------------------------------------------------------------
# MaxRoiPool


def _max_roi_pool_model(x_shape: tuple[int, ...], rois: int, **attrs: object) -> onnx.ModelProto:
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape)),
        helper.make_tensor_value_info("rois", TensorProto.FLOAT, [rois, 5]),
    ]
    node = helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], name="pool", **attrs)
    graph = helper.make_graph([node], "pool", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


MAX_ROI_POOL_CASES = {
    "scale-1": ((2, 3, 8, 7), {"pooled_shape": [2, 3]}, 0),
    "scale-quarter": ((1, 2, 9, 9), {"pooled_shape": [3, 3], "spatial_scale": 0.25}, 1),
    "1x1-negative-data": ((1, 2, 5, 6), {"pooled_shape": [1, 1]}, 2),
    "pooled-larger-than-roi": ((2, 1, 6, 6), {"pooled_shape": [4, 5], "spatial_scale": 0.5}, 3),
}


@pytest.mark.parametrize("key", MAX_ROI_POOL_CASES)
def test_max_roi_pool_matches_onnxruntime(key: str) -> None:
    x_shape, attrs, seed = MAX_ROI_POOL_CASES[key]
    rng = np.random.default_rng(seed)
    scale = float(attrs.get("spatial_scale", 1.0))  # type: ignore[arg-type]
    span = max(x_shape[2:]) / scale
    corners = rng.uniform(-2, span + 2, (6, 4)).astype(np.float32)
    corners[0] = [0.5, 1.5, 2.5, 0.5]  # halves round away from zero; flipped corners become 1 pixel
    corners[1] = [-9, -9, -3, -4]  # off the map: empty bins are 0
    batch = rng.integers(0, x_shape[0], (6, 1)).astype(np.float32)
    feeds = {"x": rng.standard_normal(x_shape).astype(np.float32), "rois": np.concatenate([batch, corners], 1)}
    if key == "1x1-negative-data":
        feeds["x"] = -np.abs(feeds["x"]) - 1
    model = _max_roi_pool_model(x_shape, 6, **attrs)
    (want,) = _ort(model, feeds)
    (interpreted,) = compiler.interpret(compiler.import_onnx(model), feeds)
    (compiled,) = compiler.compile(model).run(None, feeds)
    np.testing.assert_array_equal(interpreted, want)
    np.testing.assert_array_equal(compiled, want)


# ---------------------------------------------------------------------------
# Run-time NonZero and torchvision-style post-processing


def _run_all(model: onnx.ModelProto, feeds: dict[str, np.ndarray], compiled: compiler.CompiledModel) -> None:
    want = _ort(model, feeds)
    for got in (compiler.interpret(compiler.import_onnx(model), feeds), compiled.run(None, feeds)):
        assert [g.shape for g in got] == [w.shape for w in want]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_runtime_non_zero_matches_onnxruntime(dtype: type) -> None:
    x = helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), [3, 4])
    node = helper.make_node("NonZero", ["x"], ["y"], name="nz")
    graph = helper.make_graph([node], "nz", [x], [onnx.ValueInfoProto(name="y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    compiled = compiler.compile(model)
    rng = np.random.default_rng(0)
    for density in (0.0, 0.3, 1.0):
        values = rng.standard_normal((3, 4)) * (rng.random((3, 4)) < density)
        if dtype is np.float32:
            values[0, 0] = np.nan if density else 0.0  # NaN is nonzero
        _run_all(model, {"x": values.astype(dtype)}, compiled)


def _filter_then_batched_nms(n: int = 12, limit: int = 4) -> onnx.ModelProto:
    """torchvision's detection post-processing on one image: a score threshold
    (torch.where: NonZero), boxes, scores and labels gathered by it, batched NMS
    by the coordinate trick (the max coordinate over the kept boxes, offsets
    per label), then keep[:limit]."""

    def const(name: str, value: object) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(np.asarray(value)))

    nodes = [
        const("thr", np.float32(0.3)), const("zero", np.asarray([0], np.int64)), const("one", np.asarray([1], np.int64)),
        const("first", np.int64(0)), const("onef", np.float32(1.0)), const("max_out", np.asarray([100], np.int64)),
        const("iou", np.asarray([0.3], np.float32)), const("col", np.asarray([2], np.int64)),
        const("start", np.asarray([0], np.int64)), const("end", np.asarray([limit], np.int64)),
        helper.make_node("Greater", ["scores", "thr"], ["mask"]),
        helper.make_node("NonZero", ["mask"], ["nz"], name="where"),
        helper.make_node("Gather", ["nz", "first"], ["inds"], axis=0),
        helper.make_node("Gather", ["boxes", "inds"], ["b"], axis=0),
        helper.make_node("Gather", ["scores", "inds"], ["s"], axis=0),
        helper.make_node("Gather", ["labels", "inds"], ["l"], axis=0),
        helper.make_node("ReduceMax", ["b"], ["top"], keepdims=0),
        helper.make_node("Add", ["top", "onef"], ["span"]),
        helper.make_node("Cast", ["l"], ["lf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["lf", "span"], ["offset"]),
        helper.make_node("Unsqueeze", ["offset", "one"], ["offset2"]),
        helper.make_node("Add", ["b", "offset2"], ["shifted"]),
        helper.make_node("Unsqueeze", ["shifted", "zero"], ["b3"]),
        helper.make_node("Unsqueeze", ["s", "zero"], ["s2"]),
        helper.make_node("Unsqueeze", ["s2", "zero"], ["s3"]),
        helper.make_node("NonMaxSuppression", ["b3", "s3", "max_out", "iou"], ["sel"], name="nms"),
        helper.make_node("Gather", ["sel", "col"], ["col2"], axis=1),
        helper.make_node("Squeeze", ["col2", "one"], ["keep_all"]),
        helper.make_node("Slice", ["keep_all", "start", "end"], ["keep"]),
        helper.make_node("Gather", ["b", "keep"], ["final_boxes"], axis=0),
        helper.make_node("Gather", ["s", "keep"], ["final_scores"], axis=0),
        helper.make_node("Gather", ["l", "keep"], ["final_labels"], axis=0),
    ]
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [n, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [n]),
        helper.make_tensor_value_info("labels", TensorProto.INT64, [n]),
    ]
    outputs = [onnx.ValueInfoProto(name=o) for o in ("final_boxes", "final_scores", "final_labels", "inds", "keep_all", "top")]
    graph = helper.make_graph(nodes, "post", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_filter_then_batched_nms_matches_onnxruntime() -> None:
    model = _filter_then_batched_nms()
    compiled = compiler.compile(model)
    for seed, scale in ((0, 1.0), (1, 1.0), (2, 0.4), (3, 0.32)):  # many kept, few, one or none
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 10, (12, 2)).astype(np.float32)
        boxes = np.concatenate([xy, xy + rng.uniform(1, 5, (12, 2)).astype(np.float32)], axis=1)
        scores = (rng.uniform(0, 1, 12) * scale).astype(np.float32)
        feeds = {"boxes": boxes, "scores": scores, "labels": rng.integers(0, 3, 12).astype(np.int64)}
        if (scores > 0.3).sum() == 0:
            feeds["scores"][0] = 0.31  # a single box passes (onnxruntime's ReduceMax of nothing differs)
        _run_all(model, feeds, compiled)


def test_non_zero_of_a_filtered_selection_matches_onnxruntime() -> None:
    """torch.where on values that an earlier torch.where filtered (torchvision's
    per-level RoI assignment): the padding of the first filter is no hit."""

    def const(name: str, value: object) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(np.asarray(value)))

    nodes = [
        const("thr", np.float32(0.3)), const("first", np.int64(0)), const("two", np.float32(2.0)),
        helper.make_node("Greater", ["scores", "thr"], ["mask"]),
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Gather", ["nz", "first"], ["inds"], axis=0),
        helper.make_node("Gather", ["level", "inds"], ["kept_levels"], axis=0),
        helper.make_node("Equal", ["kept_levels", "two"], ["on_level"]),
        helper.make_node("NonZero", ["on_level"], ["nz2"]),
        helper.make_node("Gather", ["nz2", "first"], ["in_level"], axis=0),
        helper.make_node("Gather", ["inds", "in_level"], ["original"], axis=0),
    ]
    inputs = [
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [10]),
        helper.make_tensor_value_info("level", TensorProto.FLOAT, [10]),
    ]
    graph = helper.make_graph(nodes, "levels", inputs, [onnx.ValueInfoProto(name=n) for n in ("original", "in_level")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    compiled = compiler.compile(model)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        feeds = {"scores": rng.uniform(0, 1, 10).astype(np.float32), "level": rng.integers(1, 4, 10).astype(np.float32)}
        _run_all(model, feeds, compiled)
