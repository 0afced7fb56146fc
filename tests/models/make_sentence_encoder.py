"""Build a small sentence encoder with learned position embeddings, exported
by torch.onnx the way users' sentence-transformer models are.

Run from the repository root (needs ``torch``, which CI does not have; the
generated ``.onnx`` file is committed)::

    .venv/bin/python tests/models/make_sentence_encoder.py

It writes ``sentence_encoder.onnx`` next to this script: inputs ``input_ids``
(int64 [2, 12], 1 is padding) and ``attention_mask`` (int64 [2, 12]); outputs
``token_embeddings`` (float32 [2, 12, 48]), ``sentence_embedding`` (float32
[2, 32]) and ``last_token`` (float32 [2, 48]).

What it exercises, as RoBERTa-style encoders export:
* position ids from the input ids (``cumsum(ids != pad) * (ids != pad) + pad``:
  CumSum, Not/Equal, Mul, Add), looked up in a learned position table (Gather);
* ``nn.TransformerEncoder`` (batch-first, two post-norm layers, GELU);
* last-token pooling with ``torch.gather`` (GatherElements), the index from
  the attention mask's sum;
* masked mean pooling and an ``einsum`` projection (Einsum "bh,hd->bd").

Weights are seeded, the model is in eval mode, export uses
``opset_version=17, dynamo=False``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent

VOCAB = 300
PAD = 1
MAX_POSITIONS = 40
HIDDEN = 48
HEADS = 4
FF = 96
LAYERS = 2
OUT = 32
BATCH = 2
SEQ = 12
OPSET = 17


class SentenceEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, HIDDEN, padding_idx=PAD)
        self.positions = nn.Embedding(MAX_POSITIONS, HIDDEN, padding_idx=PAD)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-5)
        layer = nn.TransformerEncoderLayer(
            HIDDEN, HEADS, FF, dropout=0.0, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.project = nn.Parameter(torch.randn(HIDDEN, OUT) / HIDDEN**0.5)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        real = input_ids.ne(PAD).long()
        position_ids = torch.cumsum(real, dim=1) * real + PAD
        h = self.norm(self.tokens(input_ids) + self.positions(position_ids))
        h = self.encoder(h, src_key_padding_mask=attention_mask == 0)
        lengths = attention_mask.sum(dim=1, keepdim=True) - 1
        index = lengths.unsqueeze(-1).expand(-1, 1, HIDDEN)
        last = torch.gather(h, 1, index).squeeze(1)
        weights = attention_mask.unsqueeze(-1).to(h.dtype)
        mean = (h * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        sentence = torch.einsum("bh,hd->bd", mean, self.project)
        return h, sentence, last


def example_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(2, VOCAB, (BATCH, SEQ), generator=g)
    mask = torch.ones(BATCH, SEQ, dtype=torch.long)
    ids[1, 8:] = PAD  # the second sentence is padded
    mask[1, 8:] = 0
    return ids, mask


def main() -> None:
    torch.manual_seed(0)
    model = SentenceEncoder().eval()
    path = HERE / "sentence_encoder.onnx"
    # Not under no_grad: with grad enabled, nn.TransformerEncoderLayer takes
    # its op-by-op path (the fused fast path has no ONNX export).
    torch.onnx.export(
        model,
        example_inputs(),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["token_embeddings", "sentence_embedding", "last_token"],
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
