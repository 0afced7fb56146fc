"""Converters of the detectors' post-processing ops: NonMaxSuppression
(graph.non_max_suppression), RoiAlign (graph.roi_align) and MaxRoiPool
(graph.max_roi_pool), each matching onnxruntime's kernel rather than the
letter of the spec where they differ.

NonMaxSuppression is the one op here whose result shape depends on values.
Shapes are static, so its result is padded to the most rows it can have
(batches x classes x the per-class limit, itself known when
max_output_boxes_per_class is a constant) with rows of -1, and the number of
real rows is counted in the graph (the rows whose batch index is >= 0). The
frontend follows that count through the row-wise ops that detectors apply to
the selection (`dynamic_rows.py`), and the runtime cuts each output to it.
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import cast, elem, rank, reshape, shape

_I64 = dtypes.from_numpy_dtype(np.int64)
_F32 = dtypes.from_numpy_dtype(np.float32)


def _scalar_input(b: NodeBuilder, i: int, what: str, default: float | int, to: object) -> SSAValue:
    """Optional input i as a scalar of element type `to`: its constant, its
    runtime value (one element), or `default` when absent."""
    if not b.has_input(i):
        return b.constant(np.asarray(default, dtypes.to_numpy_dtype(to)))
    value = b.input(i)
    if math.prod(shape(value)) != 1:
        raise b.error(f"{what} must hold one value, got shape {list(shape(value))}")
    if elem(value) != to:
        if dtypes.is_bool(elem(value)):
            raise b.error(f"{what} must be numeric, got {elem(value)}")
        value = cast(b, value, to)
    return reshape(b, value, [])


@converter("NonMaxSuppression")
def convert_non_max_suppression(b: NodeBuilder) -> list[SSAValue]:
    boxes, scores = b.input(0), b.input(1)
    if elem(boxes) != _F32 or elem(scores) != _F32:
        raise b.error(f"boxes and scores must be f32 (onnxruntime's only type), got {elem(boxes)} and {elem(scores)}")
    if rank(boxes) != 3 or shape(boxes)[2] != 4:
        raise b.error(f"boxes must have shape [batch, boxes, 4], got {list(shape(boxes))}")
    batch, n = shape(boxes)[:2]
    if rank(scores) != 3 or shape(scores)[0] != batch or shape(scores)[2] != n:
        raise b.error(f"scores must have shape [{batch}, classes, {n}], got {list(shape(scores))}")
    center = b.attr("center_point_box", 0)
    if center not in (0, 1):
        raise b.error(f"attribute center_point_box={center} is not supported: it must be 0 or 1")
    max_out = _scalar_input(b, 2, "max_output_boxes_per_class", 0, _I64)
    known = constant_value(max_out)
    per_class = n if known is None else min(max(int(known), 0), n)
    classes = shape(scores)[1]
    if per_class == 0 or classes == 0 or batch == 0:
        # Nothing can be selected: an empty result of static shape.
        return [b.constant(np.zeros((0, 3), np.int64))]
    iou = _scalar_input(b, 3, "iou_threshold", 0.0, _F32)
    score = _scalar_input(b, 4, "score_threshold", 0.0, _F32)
    selected = b.make(
        g.NonMaxSuppressionOp,
        [boxes, scores, max_out, iou, score, _num_boxes(b, boxes, scores)],
        center_point_box=int(center),
        has_score_threshold=int(b.has_input(4)),
        per_class=per_class,
    )
    rows = shape(selected)[0]
    first = b.make(g.SliceOp, [selected], [TensorType(_I64, [rows, 1])], offsets=[0, 0], strides=[1, 1])
    real = b.make(g.GreaterEqualOp, [first, b.constant(np.asarray(0, np.int64))])
    count = b.make(g.ReduceSumOp, [b.make(g.CastOp, [real], [TensorType(_I64, [rows, 1])])], axes=[0, 1], keepdims=0)
    b.set_dynamic_rows(selected, count)
    return [selected]


def _num_boxes(b: NodeBuilder, boxes: SSAValue, scores: SSAValue) -> SSAValue:
    """How many boxes take part: all of them, or the count of a padded selection
    (boxes and scores that earlier ops filtered, e.g. by a score threshold)."""
    rows_b, rows_s = b.dynamic_rows(boxes), b.dynamic_rows(scores)
    if rows_b is None and rows_s is None:
        return b.constant(np.asarray(shape(boxes)[1], np.int64))
    if rows_b is None or rows_s is None or rows_b.count is not rows_s.count or (rows_b.axis, rows_s.axis) != (1, 2):
        origin = (rows_b or rows_s).origin  # type: ignore[union-attr]
        raise b.error(
            f"boxes and scores must both have a data-dependent number of boxes (from {origin}), "
            "along their box axes, or neither"
        )
    return rows_b.count


_ROI_MODES = ("half_pixel", "output_half_pixel")


def _check_feature_map(b: NodeBuilder, x: SSAValue) -> None:
    """The per-box pooling ops (RoiAlign, MaxRoiPool) read a float N, C, H, W map."""
    if rank(x) != 4:
        raise b.error(f"input must have rank 4 (N, C, H, W), got {rank(x)}")
    if not dtypes.is_float(elem(x)):
        raise b.error(f"input must be a float tensor, got {elem(x)}")


@converter("RoiAlign")
def convert_roi_align(b: NodeBuilder) -> list[SSAValue]:
    x, rois, batch_indices = b.input(0), b.input(1), b.input(2)
    _check_feature_map(b, x)
    if rank(rois) != 2 or shape(rois)[1] != 4:
        raise b.error(f"rois must have shape [num_rois, 4], got {list(shape(rois))}")
    if rank(batch_indices) != 1 or shape(batch_indices)[0] != shape(rois)[0]:
        raise b.error(f"batch_indices must have shape [{shape(rois)[0]}], got {list(shape(batch_indices))}")
    if not dtypes.is_integer(elem(batch_indices)):
        raise b.error(f"batch_indices must be integers, got {elem(batch_indices)}")
    mode = b.attr("mode", "avg")
    if mode not in ("avg", "max"):
        raise b.error(f"attribute mode={mode!r} is not supported: use 'avg' or 'max'")
    # Opset 16 added coordinate_transformation_mode (default half_pixel); before
    # it, RoiAlign did not shift by half a pixel (output_half_pixel).
    transform = b.attr("coordinate_transformation_mode", "half_pixel" if b.opset >= 16 else "output_half_pixel")
    if transform not in _ROI_MODES:
        raise b.error(f"attribute coordinate_transformation_mode={transform!r} is not supported: use one of {', '.join(_ROI_MODES)}")
    oh, ow = int(b.attr("output_height", 1)), int(b.attr("output_width", 1))
    if oh < 1 or ow < 1:
        raise b.error(f"output_height and output_width must be positive, got {oh} and {ow}")
    ratio = int(b.attr("sampling_ratio", 0))
    if ratio < 0:
        raise b.error(f"attribute sampling_ratio={ratio} must be >= 0")
    scale = float(b.attr("spatial_scale", 1.0))
    rois = cast(b, rois, elem(x))
    return [
        b.make(
            g.RoiAlignOp,
            [x, rois, cast(b, batch_indices, _I64)],
            mode=mode,
            output_height=oh,
            output_width=ow,
            sampling_ratio=ratio,
            spatial_scale=scale,
            half_pixel=int(transform == "half_pixel"),
        )
    ]


@converter("MaxRoiPool")
def convert_max_roi_pool(b: NodeBuilder) -> list[SSAValue]:
    x, rois = b.input(0), b.input(1)
    _check_feature_map(b, x)
    if rank(rois) != 2 or shape(rois)[1] != 5:
        raise b.error(f"rois must have shape [num_rois, 5], got {list(shape(rois))}")
    pooled = b.ints_attr("pooled_shape")
    if pooled is None:
        raise b.error("attribute 'pooled_shape' is required")
    if len(pooled) != 2 or min(pooled) < 1:
        raise b.error(f"attribute pooled_shape={pooled} must hold two positive sizes")
    scale = float(b.attr("spatial_scale", 1.0))
    return [
        b.make(
            g.MaxRoiPoolOp,
            [x, cast(b, rois, elem(x))],
            pooled_height=pooled[0],
            pooled_width=pooled[1],
            spatial_scale=scale,
        )
    ]
