"""Build the small recurrent test models with PyTorch and export them to ONNX.

Run from the repository root (needs ``torch``, which CI does not have; the
generated ``.onnx`` files are committed)::

    .venv/bin/python tests/models/make_rnn.py

It writes, next to this script, two CRNN-style text recognizers (the
architecture of scene-text OCR models: a conv feature extractor whose columns
become the time steps of a recurrent layer, then a per-step classifier):

* ``crnn_lstm.onnx``: input ``image`` (float32 [1, 1, 32, 100]); two conv
  blocks (Conv, BatchNorm, ReLU, 2x2 MaxPool) give [1, 32, 8, 25], whose 25
  columns of 256 features feed a 2-layer bidirectional ``nn.LSTM`` (hidden
  48, time-major), then ``nn.Linear`` to 37 classes and LogSoftmax. Output
  ``logits`` (float32 [25, 1, 37]).
* ``crnn_gru.onnx``: the same conv stack, then a 1-layer bidirectional
  ``nn.GRU`` (hidden 48, ``batch_first=True``, so the exporter adds
  transposes; PyTorch's GRU is ONNX's ``linear_before_reset=1``) and the
  linear layer. Output ``logits`` (float32 [1, 25, 37]).

Weights are seeded (PyTorch's default init, BatchNorm statistics drawn so the
normalization is not the identity), the models are in eval mode, and export
uses ``opset_version=17, dynamo=False``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent

HEIGHT, WIDTH = 32, 100
CLASSES = 37
HIDDEN = 48
OPSET = 17


def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)
    )


class Features(nn.Module):
    """[N, 1, 32, 100] image -> [N, 256, 25]: 25 columns of 256 features."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.Sequential(conv_block(1, 16), conv_block(16, 32))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f = self.convs(image)  # [N, 32, 8, 25]
        n, c, h, w = f.shape
        return f.reshape(n, c * h, w)


class CrnnLstm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = Features()
        self.rnn = nn.LSTM(256, HIDDEN, num_layers=2, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, CLASSES)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        seq = self.features(image).permute(2, 0, 1)  # [T, N, 256]
        out, _ = self.rnn(seq)
        return torch.log_softmax(self.head(out), dim=-1)


class CrnnGru(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = Features()
        self.rnn = nn.GRU(256, HIDDEN, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * HIDDEN, CLASSES)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        seq = self.features(image).permute(0, 2, 1)  # [N, T, 256]
        out, _ = self.rnn(seq)
        return self.head(out)


def seed_batch_norms(model: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(1.0 + 0.2 * torch.randn(n, generator=generator))
                m.bias.copy_(0.1 * torch.randn(n, generator=generator))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(n, generator=generator))


def export(model: nn.Module, path: Path) -> None:
    image = torch.randn(1, 1, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(0))
    torch.onnx.export(
        model,
        (image,),
        str(path),
        input_names=["image"],
        output_names=["logits"],
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )


def main() -> None:
    """Build both models and write them next to this script."""
    for seed, cls, name in ((0, CrnnLstm, "crnn_lstm.onnx"), (1, CrnnGru, "crnn_gru.onnx")):
        torch.manual_seed(seed)
        model = cls().eval()
        seed_batch_norms(model, seed)
        export(model, HERE / name)
        print(f"wrote {HERE / name} ({(HERE / name).stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
