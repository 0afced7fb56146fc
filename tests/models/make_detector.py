"""Build a tiny two-stage detector with PyTorch and export it to ONNX.

Run from the repository root with a PyTorch environment (CI has none; the
generated ``.onnx`` files are committed)::

    /work/torchenv/bin/python tests/models/make_detector.py

torchvision (whose ``ops.nms`` / ``ops.roi_align`` exporters write
NonMaxSuppression and RoiAlign) has no wheel for the PyTorch here, so the
two ops are autograd Functions whose ``symbolic`` writes exactly what
torchvision's ``_register_onnx_ops`` writes (opset 11 NMS: boxes and scores
unsqueezed to a batch and a class, max_output_boxes_per_class = INT64_MAX,
the box column gathered and squeezed; opset 16 RoiAlign: batch indices and
coordinates gathered from [K, 5] rois, half_pixel when ``aligned``). For the
dynamo exporter the same ops are torch.library custom ops translated by
onnxscript functions.

It writes, next to this script:

* ``detector_tiny.onnx`` (TorchScript exporter, opset 17) and
  ``dynamo_detector_tiny.onnx`` (``dynamo=True``): input ``image`` (float32
  [1, 3, 64, 64]); outputs ``boxes`` [K, 4], ``scores`` [K], ``labels`` [K]
  (int64) and ``keep`` [K] (int64), K data-dependent. A stride-4 conv
  backbone; an RPN-like dense head (3 anchors per cell: objectness and box
  deltas) decoded against fixed anchors and clipped to the image; TopK of 64
  proposals; NMS (IoU 0.5) on them; RoiAlign (4x4, sampling ratio 2,
  spatial scale 1/4, aligned) of the kept proposals; a two-layer box head
  (classes by softmax, the best class and its score, box deltas applied to
  the proposal).

Weights are seeded (torch.manual_seed(0)) and the model is in eval mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 17
IMAGE = 64
STRIDE = 4
ANCHORS = (8.0, 16.0, 32.0)
TOP_K = 64
IOU = 0.5
POOL = 4
CLASSES = 3


def _reference_nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
    """Greedy NMS in torch (only used while tracing: onnxruntime is the oracle)."""
    order = torch.argsort(scores, descending=True, stable=True)
    keep: list[int] = []
    for i in order.tolist():
        ok = True
        for j in keep:
            x1 = torch.maximum(boxes[i, 0], boxes[j, 0])
            y1 = torch.maximum(boxes[i, 1], boxes[j, 1])
            x2 = torch.minimum(boxes[i, 2], boxes[j, 2])
            y2 = torch.minimum(boxes[i, 3], boxes[j, 3])
            inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
            area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
            if inter / (area(boxes[i]) + area(boxes[j]) - inter) > iou:
                ok = False
                break
        if ok:
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


class Nms(torch.autograd.Function):
    @staticmethod
    def forward(ctx, boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:  # type: ignore[override]
        return _reference_nms(boxes, scores, iou)

    @staticmethod
    def symbolic(g, boxes, scores, iou: float):  # type: ignore[no-untyped-def]
        # torchvision.ops._register_onnx_ops.symbolic_multi_label_nms
        zero = g.op("Constant", value_t=torch.tensor([0], dtype=torch.long))
        boxes = g.op("Unsqueeze", boxes, zero)
        scores = g.op("Unsqueeze", g.op("Unsqueeze", scores, zero), zero)
        max_out = g.op("Constant", value_t=torch.tensor([sys.maxsize], dtype=torch.long))
        iou_t = g.op("Constant", value_t=torch.tensor([iou], dtype=torch.float))
        out = g.op("NonMaxSuppression", boxes, scores, max_out, iou_t)
        col = g.op("Gather", out, g.op("Constant", value_t=torch.tensor([2], dtype=torch.long)), axis_i=1)
        return g.op("Squeeze", col, g.op("Constant", value_t=torch.tensor([1], dtype=torch.long)))


class RoiAlign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, rois: torch.Tensor, scale: float, pooled: int, ratio: int) -> torch.Tensor:  # type: ignore[override]
        return x.new_zeros((rois.shape[0], x.shape[1], pooled, pooled))

    @staticmethod
    def symbolic(g, x, rois, scale: float, pooled: int, ratio: int):  # type: ignore[no-untyped-def]
        # torchvision.ops._register_onnx_ops.roi_align_opset16 (aligned=True)
        first = g.op("Gather", rois, g.op("Constant", value_t=torch.tensor([0], dtype=torch.long)), axis_i=1)
        batch = g.op("Squeeze", first, g.op("Constant", value_t=torch.tensor([1], dtype=torch.long)))
        batch = g.op("Cast", batch, to_i=7)  # INT64
        coords = g.op("Gather", rois, g.op("Constant", value_t=torch.tensor([1, 2, 3, 4], dtype=torch.long)), axis_i=1)
        return g.op(
            "RoiAlign", x, coords, batch, coordinate_transformation_mode_s="half_pixel",
            spatial_scale_f=scale, output_height_i=pooled, output_width_i=pooled, sampling_ratio_i=ratio,
        )


def _anchors() -> torch.Tensor:
    """[cells * 3, 4] (x1, y1, x2, y2): square anchors centred on each stride-4 cell."""
    n = IMAGE // STRIDE
    centres = (torch.arange(n, dtype=torch.float32) + 0.5) * STRIDE
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")
    out = []
    for y, x in zip(cy.reshape(-1).tolist(), cx.reshape(-1).tolist(), strict=True):
        for size in ANCHORS:
            out.append([x - size / 2, y - size / 2, x + size / 2, y + size / 2])
    return torch.tensor(out, dtype=torch.float32)


def _decode(ref: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """Faster R-CNN box coding: centre shifts scaled by the size, sizes through exp."""
    w = ref[:, 2:3] - ref[:, 0:1]
    h = ref[:, 3:4] - ref[:, 1:2]
    cx = ref[:, 0:1] + 0.5 * w + deltas[:, 0:1] * w
    cy = ref[:, 1:2] + 0.5 * h + deltas[:, 1:2] * h
    pw = torch.exp(deltas[:, 2:3].clamp(max=4.0)) * w
    ph = torch.exp(deltas[:, 3:4].clamp(max=4.0)) * h
    return torch.cat([cx - 0.5 * pw, cy - 0.5 * ph, cx + 0.5 * pw, cy + 0.5 * ph], dim=1)


class TinyDetector(nn.Module):
    def __init__(self, custom_ops: bool = False) -> None:
        super().__init__()
        self.custom_ops = custom_ops
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.rpn = nn.Conv2d(16, len(ANCHORS) * 5, 1)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * POOL * POOL, 32), nn.ReLU())
        self.cls = nn.Linear(32, CLASSES)
        self.reg = nn.Linear(32, 4)
        self.register_buffer("anchors", _anchors())

    def nms(self, boxes: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.custom_ops:
            return torch.ops.detect.nms(boxes, scores, IOU)
        return Nms.apply(boxes, scores, IOU)

    def roi_align(self, feats: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        if self.custom_ops:
            return torch.ops.detect.roi_align(feats, rois, 1.0 / STRIDE, POOL, 2)
        return RoiAlign.apply(feats, rois, 1.0 / STRIDE, POOL, 2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = self.backbone(image)
        dense = self.rpn(feats).permute(0, 2, 3, 1).reshape(-1, 5)
        objectness = torch.sigmoid(dense[:, 0])
        boxes = _decode(self.anchors, dense[:, 1:]).clamp(min=0.0, max=float(IMAGE))
        top_scores, top = torch.topk(objectness, TOP_K)
        top_boxes = boxes[top]
        keep = self.nms(top_boxes, top_scores)
        proposals = top_boxes[keep]
        rois = torch.cat([proposals[:, :1] * 0.0, proposals], dim=1)
        hidden = self.head(self.roi_align(feats, rois))
        probs = torch.softmax(self.cls(hidden), dim=-1)
        best, labels = probs.max(dim=1)
        final = _decode(proposals, self.reg(hidden))
        return final, best * top_scores[keep], labels, keep


def _register_custom_ops() -> dict:  # type: ignore[type-arg]
    """detect::nms and detect::roi_align for torch.export, and their onnxscript translations."""
    import onnxscript
    from onnxscript import opset18 as op

    @torch.library.custom_op("detect::nms", mutates_args=())
    def nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
        return _reference_nms(boxes, scores, iou)

    @nms.register_fake
    def _(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
        n = torch.library.get_ctx().new_dynamic_size()
        return boxes.new_empty((n,), dtype=torch.int64)

    @torch.library.custom_op("detect::roi_align", mutates_args=())
    def roi_align(x: torch.Tensor, rois: torch.Tensor, scale: float, pooled: int, ratio: int) -> torch.Tensor:
        return x.new_zeros((rois.shape[0], x.shape[1], pooled, pooled))

    @roi_align.register_fake
    def _(x: torch.Tensor, rois: torch.Tensor, scale: float, pooled: int, ratio: int) -> torch.Tensor:
        return x.new_empty((rois.shape[0], x.shape[1], pooled, pooled))

    def onnx_nms(boxes, scores, iou: float):  # type: ignore[no-untyped-def]
        zero = op.Constant(value_ints=[0])
        b = op.Unsqueeze(boxes, zero)
        s = op.Unsqueeze(op.Unsqueeze(scores, zero), zero)
        out = op.NonMaxSuppression(b, s, op.Constant(value_ints=[sys.maxsize]), op.Constant(value_floats=[iou]))
        return op.Squeeze(op.Gather(out, op.Constant(value_ints=[2]), axis=1), op.Constant(value_ints=[1]))

    def onnx_roi_align(x, rois, scale: float, pooled: int, ratio: int):  # type: ignore[no-untyped-def]
        batch = op.Cast(op.Squeeze(op.Gather(rois, op.Constant(value_ints=[0]), axis=1), op.Constant(value_ints=[1])), to=7)
        coords = op.Gather(rois, op.Constant(value_ints=[1, 2, 3, 4]), axis=1)
        return op.RoiAlign(
            x, coords, batch, coordinate_transformation_mode="half_pixel", spatial_scale=scale,
            output_height=pooled, output_width=pooled, sampling_ratio=ratio,
        )

    del onnxscript
    return {torch.ops.detect.nms.default: onnx_nms, torch.ops.detect.roi_align.default: onnx_roi_align}


def main() -> None:
    torch.manual_seed(0)
    model = TinyDetector().eval()
    image = torch.rand(1, 3, IMAGE, IMAGE)
    names = dict(input_names=["image"], output_names=["boxes", "scores", "labels", "keep"])
    with torch.no_grad():
        torch.onnx.export(model, (image,), HERE / "detector_tiny.onnx", opset_version=OPSET, dynamo=False, **names)
    if "--no-dynamo" in sys.argv:
        return
    table = _register_custom_ops()
    dynamo_model = TinyDetector(custom_ops=True).eval()
    dynamo_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        program = torch.onnx.export(
            dynamo_model, (image,), dynamo=True, opset_version=18, custom_translation_table=table, **names
        )
    program.save(str(HERE / "dynamo_detector_tiny.onnx"))


if __name__ == "__main__":
    main()
