"""Build the small vision test models with PyTorch and export them to ONNX.

Run from the repository root (needs ``torch``, which CI does not have; the
generated ``.onnx`` files are committed)::

    .venv/bin/python tests/models/make_vision.py

It writes, next to this script:

* ``unet_tiny.onnx``: a U-Net-like encoder/decoder. Input ``image`` (float32
  [1, 3, 32, 32]), output ``mask`` (float32 [1, 2, 32, 32]). Two stride-2
  encoder stages (Conv, BatchNorm, ReLU, MaxPool); the decoder goes up with
  ``nn.ConvTranspose2d(k=2, s=2)``, ``nn.ConvTranspose2d(k=4, s=2, p=1)``,
  ``nn.Upsample(mode="nearest")`` and ``nn.Upsample(mode="bilinear",
  align_corners=False)``, with skip connections concatenated on channels and
  a GroupNorm in the bottleneck.
* ``detector_head.onnx``: a YOLOX-style decoupled head over two feature
  levels. Inputs ``p3`` (float32 [1, 16, 16, 16]) and ``p4`` (float32
  [1, 32, 8, 8]); output ``detections`` (float32 [1, 320, 7]). p4 is upsampled
  2x (nearest) and concatenated with p3 (an FPN top-down step); each level
  predicts ``[x, y, w, h, obj, cls0, cls1]``, split with ``torch.split``, box
  centres decoded from a grid, sizes through ``exp``, scores through
  ``sigmoid``, and the levels flattened and concatenated.

Weights are seeded (torch.manual_seed(0)), the models are in eval mode, and
export uses ``opset_version=17, dynamo=False``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 17


def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNetTiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1 = conv_block(3, 8)
        self.enc2 = conv_block(8, 16)
        self.mid = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.GroupNorm(4, 32), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.up_a = nn.ConvTranspose2d(32, 16, kernel_size=2, stride=2)
        self.dec_a = conv_block(32, 16)
        self.up_b = nn.ConvTranspose2d(16, 8, kernel_size=4, stride=2, padding=1)
        self.dec_b = conv_block(16, 8)
        self.up_nearest = nn.Upsample(scale_factor=2, mode="nearest")
        self.up_bilinear = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.side = nn.Conv2d(32, 8, 1)
        self.head = nn.Conv2d(16, 2, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(image)  # 32x32
        e2 = self.enc2(self.pool(e1))  # 16x16
        mid = self.mid(self.pool(e2))  # 8x8
        d2 = self.dec_a(torch.cat([self.up_a(mid), e2], dim=1))  # 16x16
        d1 = self.dec_b(torch.cat([self.up_b(d2), e1], dim=1))  # 32x32
        side = self.up_bilinear(self.up_nearest(self.side(mid)))  # 8 -> 16 -> 32
        return self.head(torch.cat([d1, side], dim=1))


class DetectorHead(nn.Module):
    """Decoupled YOLOX-like head: stem, box/objectness/class branches, grid decoding."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.classes = classes
        self.lateral = nn.Conv2d(32, 16, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.stems = nn.ModuleList([nn.Conv2d(32, 16, 1), nn.Conv2d(32, 16, 1)])
        self.preds = nn.ModuleList([nn.Conv2d(16, 5 + classes, 1), nn.Conv2d(16, 5 + classes, 1)])

    def decode(self, raw: torch.Tensor, stride: int) -> torch.Tensor:
        n, c, h, w = raw.shape
        raw = raw.flatten(2).transpose(1, 2)  # [N, HW, C]
        xy, wh, obj, cls = torch.split(raw, [2, 2, 1, self.classes], dim=2)
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        grid = torch.stack([xs, ys], dim=-1).reshape(1, h * w, 2).float()
        xy = (xy + grid) * stride
        wh = torch.exp(wh) * stride
        return torch.cat([xy, wh, torch.sigmoid(obj), torch.sigmoid(cls)], dim=2)

    def forward(self, p3: torch.Tensor, p4: torch.Tensor) -> torch.Tensor:
        top = self.lateral(p4)
        f3 = torch.cat([p3, self.up(top)], dim=1)  # [1, 32, 16, 16]
        f4 = torch.cat([top, top], dim=1)  # [1, 32, 8, 8]
        outs = []
        for level, (feat, stride) in enumerate(((f3, 8), (f4, 16))):
            stem = torch.relu(self.stems[level](feat))
            outs.append(self.decode(self.preds[level](stem), stride))
        return torch.cat(outs, dim=1)


def _seeded(module: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm/GroupNorm statistics so that the folded weights matter."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
        if isinstance(m, nn.GroupNorm):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return module.eval()


def export(model: nn.Module, args: tuple[torch.Tensor, ...], names: list[str], out: str, path: Path) -> None:
    torch.onnx.export(
        model, args, str(path), input_names=names, output_names=[out], opset_version=OPSET, dynamo=False
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    torch.manual_seed(0)
    unet = _seeded(UNetTiny())
    head = _seeded(DetectorHead())
    with torch.no_grad():
        export(unet, (torch.randn(1, 3, 32, 32),), ["image"], "mask", HERE / "unet_tiny.onnx")
        export(head, (torch.randn(1, 16, 16, 16), torch.randn(1, 32, 8, 8)), ["p3", "p4"], "detections",
               HERE / "detector_head.onnx")


if __name__ == "__main__":
    main()
