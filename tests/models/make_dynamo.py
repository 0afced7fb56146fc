"""Build small models with PyTorch and export them with the dynamo-based exporter.

``torch.onnx.export`` defaults to ``dynamo=True`` since PyTorch 2.9: the model
is captured with ``torch.export`` and translated by onnxscript's torchlib,
then optimized by onnxscript (constant folding, BatchNormalization folded
into the convs, function inlining). The graphs differ from the TorchScript
exporter's (make_vision.py, make_rnn.py, ...): opset 18+ ops, ReduceMean for
adaptive pooling, attention with the scale split over q and k and a boolean
mask turned into ``Where`` and ``IsNaN``, ``Shape`` chains for a symbolic
batch, sequence ops for list-valued code (``torch.hstack``), per-node
metadata (stack traces), and so on.

Run from the repository root with an environment that has ``torch``,
``onnxscript`` and ``onnxruntime`` (CI has none of them; the generated
``.onnx`` files are committed)::

    /path/to/torch-venv/bin/python tests/models/make_dynamo.py

(PyTorch 2.13.0+cpu, onnx 1.23.2, onnxscript 0.7.2, onnxruntime 1.32.0 wrote them.)

It writes, next to this script:

* ``dynamo_mobilenetv3.onnx``: a MobileNetV3-style block net. Input ``image``
  (float32 [1, 3, 32, 32]), output ``logits`` (float32 [1, 10]). A stride-2
  stem (Conv, BatchNorm, Hardswish), four inverted-residual blocks (1x1
  expand, 3x3 or 5x5 depthwise conv, squeeze-excitation with
  ``AdaptiveAvgPool2d(1)``, ReLU and Hardsigmoid, 1x1 project, residual add
  where the shapes allow), a 1x1 conv with Hardswish, global average pooling,
  and a Linear/Hardswish/Dropout/Linear classifier.
* ``dynamo_vit.onnx``: a ViT-style encoder. Input ``image`` (float32
  [1, 3, 32, 32]), output ``logits`` (float32 [1, 10]). An 8x8 patch
  embedding conv (16 patches of width 32), a class token, a learned position
  embedding, then four pre-norm layers: ``nn.TransformerEncoderLayer``
  (exact GELU), and three hand-written blocks calling
  ``F.scaled_dot_product_attention`` without a mask (tanh GELU), with a
  boolean band mask, and with a float additive bias (a learned relative
  position bias per head); a final LayerNorm and a Linear head on the class
  token.
* ``dynamo_crnn.onnx``: a CRNN text recognizer. Input ``image`` (float32
  [1, 1, 16, 64]), output ``log_probs`` (float32 [16, 1, 20], time-major for
  CTC). Two conv blocks (Conv, BatchNorm, ReLU, MaxPool) give [1, 32, 4, 16];
  permute/reshape to 16 time steps of 128 features, a bidirectional
  ``nn.LSTM`` (hidden 24, batch-first), ``nn.Linear`` to 20 classes and
  ``log_softmax`` over the classes.
* ``dynamo_fpn_head.onnx``: a small detector neck and head with a dynamic
  batch (``dynamic_shapes``, dim name ``batch``). Inputs ``c3`` (float32
  [batch, 16, 16, 16]), ``c4`` (float32 [batch, 24, 8, 8]), ``c5`` (float32
  [batch, 32, 4, 4]); output ``detections`` (float32 [batch, 336, 7]).
  Lateral 1x1 convs, a top-down path with ``F.interpolate(scale_factor=2)``
  (nearest, and bilinear once) and ``torch.cat``, 3x3 smoothing convs, a
  shared head conv, flatten/permute, ``sigmoid`` on the objectness and class
  scores, and the levels joined with ``torch.hstack`` (which the exporter
  writes as sequence ops: SequenceConstruct, SequenceMap with an If on each
  element's rank, SequenceAt).

Weights are seeded (``torch.manual_seed``; BatchNorm statistics drawn so the
normalization is not the identity), the models are in eval mode, and export
uses ``dynamo=True, opset_version=18`` with the weights embedded in the file
(``external_data=False``). Each model is checked against PyTorch with
onnxruntime before it is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from make_rnn import seed_batch_norms  # the script's folder is on sys.path
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 18


# ---------------------------------------------------------------------------
# MobileNetV3-style block net


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.relu(self.fc1(self.pool(x)))
        return x * F.hardsigmoid(self.fc2(s))


class InvertedResidual(nn.Module):
    def __init__(
        self, cin: int, expand: int, cout: int, kernel: int, stride: int, se: bool, act: type[nn.Module]
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if expand != cin:
            layers += [nn.Conv2d(cin, expand, 1, bias=False), nn.BatchNorm2d(expand), act()]
        layers += [
            nn.Conv2d(expand, expand, kernel, stride, padding=kernel // 2, groups=expand, bias=False),
            nn.BatchNorm2d(expand),
            act(),
        ]
        if se:
            layers.append(SqueezeExcite(expand, max(8, expand // 4)))
        layers += [nn.Conv2d(expand, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MobileNetV3Tiny(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 16, 3, 1, True, nn.ReLU),  # 16x16, residual
            InvertedResidual(16, 48, 24, 3, 2, False, nn.ReLU),  # 8x8
            InvertedResidual(24, 64, 24, 5, 1, True, nn.Hardswish),  # 8x8, residual
            InvertedResidual(24, 72, 32, 5, 2, True, nn.Hardswish),  # 4x4
        )
        self.last = nn.Sequential(nn.Conv2d(32, 96, 1, bias=False), nn.BatchNorm2d(96), nn.Hardswish())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(96, 64), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(64, classes)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.last(self.blocks(self.stem(image)))
        return self.classifier(torch.flatten(self.pool(x), 1))


# ---------------------------------------------------------------------------
# ViT-style encoder


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """A timm-style pre-norm ViT block; `mask` is None, a bool mask or a float bias."""

    def __init__(self, dim: int, heads: int, approximate: str) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(approximate=approximate), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class ViTTiny(nn.Module):
    def __init__(self, dim: int = 32, heads: int = 4, patch: int = 8, size: int = 32, classes: int = 10) -> None:
        super().__init__()
        tokens = (size // patch) ** 2 + 1
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, tokens, dim))
        self.encoder_layer = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=2 * dim, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.plain = Block(dim, heads, "tanh")
        self.banded = Block(dim, heads, "none")
        self.biased = Block(dim, heads, "none")
        # Each token sees its neighbours within 4 positions and the class token; the class token sees all.
        pos = torch.arange(tokens)
        band = ((pos[:, None] - pos[None, :]).abs() <= 4) | (pos[None, :] == 0) | (pos[:, None] == 0)
        self.register_buffer("band", band)
        # Stored 4-D: a 3-D bias unsqueezed in forward() fails torch.export's decomposition of
        # the attention in PyTorch 2.13 ("Cannot view a tensor with shape [1, 17, 4, 8] ...").
        self.rel_bias = nn.Parameter(0.5 * torch.randn(1, heads, tokens, tokens))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(image).flatten(2).transpose(1, 2)  # [N, 16, dim]
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.encoder_layer(x)
        x = self.plain(x)
        x = self.banded(x, self.band)
        x = self.biased(x, self.rel_bias)
        return self.head(self.norm(x)[:, 0])


# ---------------------------------------------------------------------------
# CRNN text recognizer


def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


class Crnn(nn.Module):
    def __init__(self, classes: int = 20, hidden: int = 24) -> None:
        super().__init__()
        self.convs = nn.Sequential(conv_block(1, 16), conv_block(16, 32))
        self.rnn = nn.LSTM(128, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f = self.convs(image)  # [N, 32, 4, 16]
        n, c, h, w = f.shape
        seq = f.permute(0, 3, 1, 2).reshape(n, w, c * h)  # [N, 16, 128]
        out, _ = self.rnn(seq)
        return F.log_softmax(self.head(out), dim=2).permute(1, 0, 2)  # [T, N, classes]


# ---------------------------------------------------------------------------
# Detector neck and head with a dynamic batch


class FpnHead(nn.Module):
    def __init__(self, classes: int = 2, width: int = 16) -> None:
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in (16, 24, 32)])
        self.fuse = nn.ModuleList([nn.Conv2d(2 * width, width, 3, padding=1) for _ in range(2)])
        self.head = nn.Conv2d(width, 5 + classes, 1)

    def forward(self, c3: torch.Tensor, c4: torch.Tensor, c5: torch.Tensor) -> torch.Tensor:
        p5 = self.lateral[2](c5)
        up5 = F.interpolate(p5, scale_factor=2, mode="nearest")
        p4 = F.relu(self.fuse[1](torch.cat([self.lateral[1](c4), up5], dim=1)))
        up4 = F.interpolate(p4, scale_factor=2, mode="bilinear", align_corners=False)
        p3 = F.relu(self.fuse[0](torch.cat([self.lateral[0](c3), up4], dim=1)))
        outs = []
        for p in (p3, p4, p5):
            raw = self.head(p).flatten(2).permute(0, 2, 1)  # [N, HW, 5 + classes]
            outs.append(torch.cat([raw[..., :4], torch.sigmoid(raw[..., 4:])], dim=2))
        return torch.hstack(outs)  # exported as SequenceConstruct, SequenceMap (If inside), SequenceAt


# ---------------------------------------------------------------------------


def _seeded(module: nn.Module, seed: int) -> nn.Module:
    """Non-trivial BatchNorm statistics so that folded weights matter; eval mode."""
    seed_batch_norms(module, seed)
    return module.eval()


def export(
    model: nn.Module,
    args: tuple[torch.Tensor, ...],
    names: list[str],
    out: str,
    path: Path,
    dynamic_shapes: dict[str, dict[int, object]] | None = None,
) -> None:
    """Exports with the dynamo exporter, embeds the weights, and checks onnxruntime against torch."""
    program = torch.onnx.export(
        model,
        args,
        input_names=names,
        output_names=[out],
        opset_version=OPSET,
        dynamo=True,
        dynamic_shapes=dynamic_shapes,
    )
    with torch.no_grad():
        expected = model(*args).numpy()
    assert program is not None
    proto = program.model_proto
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path), save_as_external_data=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {n: a.numpy() for n, a in zip(names, args, strict=True)})
    error = float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-30))
    assert error < 1e-4, f"{path.name}: onnxruntime differs from torch by {error:.2e}"
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(proto.graph.node)} nodes, rel err {error:.1e})")


def main() -> None:
    torch.manual_seed(0)
    export(
        _seeded(MobileNetV3Tiny(), 0), (torch.randn(1, 3, 32, 32),), ["image"], "logits",
        HERE / "dynamo_mobilenetv3.onnx",
    )
    torch.manual_seed(1)
    export(_seeded(ViTTiny(), 1), (torch.randn(1, 3, 32, 32),), ["image"], "logits", HERE / "dynamo_vit.onnx")
    torch.manual_seed(2)
    export(_seeded(Crnn(), 2), (torch.randn(1, 1, 16, 64),), ["image"], "log_probs", HERE / "dynamo_crnn.onnx")
    torch.manual_seed(3)
    batch = torch.export.Dim("batch", min=1, max=64)
    export(
        _seeded(FpnHead(), 3),
        (torch.randn(2, 16, 16, 16), torch.randn(2, 24, 8, 8), torch.randn(2, 32, 4, 4)),
        ["c3", "c4", "c5"],
        "detections",
        HERE / "dynamo_fpn_head.onnx",
        dynamic_shapes={"c3": {0: batch}, "c4": {0: batch}, "c5": {0: batch}},
    )


if __name__ == "__main__":
    main()
