"""Build the small transformer test models with PyTorch and export them to ONNX.

Run from the repository root (needs ``torch``, which CI does not have; the
generated ``.onnx`` files are committed)::

    .venv/bin/python tests/models/make_bert.py

It writes, next to this script:

* ``bert_tiny.onnx``: a BERT-like encoder with static shapes. Inputs
  ``input_ids`` and ``attention_mask`` (int64 [1, 16]); outputs
  ``last_hidden_state`` (float32 [1, 16, 64]) and ``pooler_output``
  (float32 [1, 64]).
* ``bert_tiny_dynamic.onnx``: the same weights with symbolic ``batch`` and
  ``sequence`` dimensions (sequence up to 32), for ``input_shapes=`` pinning.
* ``gpt_tiny_block.onnx``: a GPT-style decoder: embeddings, one pre-LayerNorm
  block with a causal mask, and an LM head. Input ``input_ids`` (int64
  [1, 16]); output ``logits`` (float32 [1, 16, 1000]).

The encoder is written out op by op, the way the TorchScript exporter turns
BERT into ONNX: nn.Embedding for tokens, positions and token types (position
and token-type ids are Slices of buffers, Expanded to the batch), explicit
Q/K/V nn.Linear projections, scaled dot-product attention with an additive
mask ``(1 - mask) * -10000`` and a ``masked_fill`` (Equal + Where) of the
probabilities, GELU through erf, LayerNorm written with ReduceMean / Pow /
Sqrt in the layers (nn.LayerNorm, exported as LayerNormalization, after the
embeddings), and a tanh pooler on the first token. Weights are seeded, the
models are in eval mode, and export uses ``opset_version=17, dynamo=False``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent

VOCAB = 1000
TYPE_VOCAB = 2
MAX_POSITIONS = 32
HIDDEN = 64
HEADS = 4
FF = 128
LAYERS = 2
SEQ = 16
BATCH = 1
EPS = 1e-12
OPSET = 17


class ExplicitLayerNorm(nn.Module):
    """LayerNorm over the last axis written out (ReduceMean, Sub, Pow, Sqrt, Div)."""

    def __init__(self, hidden: int, eps: float = EPS) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(-1, keepdim=True)
        var = (x - mean).pow(2).mean(-1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight * x + self.bias


def gelu_erf(x: torch.Tensor) -> torch.Tensor:
    """The exact GELU, 0.5 * x * (1 + erf(x / sqrt(2)))."""
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class SelfAttention(nn.Module):
    """Multi-head self-attention with explicit Q/K/V projections."""

    def __init__(self) -> None:
        super().__init__()
        self.head_dim = HIDDEN // HEADS
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.output = nn.Linear(HIDDEN, HIDDEN)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        return x.view(batch, seq, HEADS, self.head_dim).permute(0, 2, 1, 3)

    def forward(
        self, x: torch.Tensor, additive_mask: torch.Tensor, keep: torch.Tensor
    ) -> torch.Tensor:
        batch, seq, _ = x.shape
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2))
        scores = scores / torch.sqrt(torch.tensor(float(self.head_dim)))
        scores = scores + additive_mask
        probs = torch.softmax(scores, dim=-1)
        probs = probs.masked_fill(keep == 0, 0.0)
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        context = context.view(batch, seq, HIDDEN)
        return self.output(context)


class EncoderLayer(nn.Module):
    """Post-LayerNorm BERT layer: attention, add & norm, GELU feed-forward, add & norm."""

    def __init__(self) -> None:
        super().__init__()
        self.attention = SelfAttention()
        self.attention_norm = ExplicitLayerNorm(HIDDEN)
        self.intermediate = nn.Linear(HIDDEN, FF)
        self.ff_output = nn.Linear(FF, HIDDEN)
        self.output_norm = ExplicitLayerNorm(HIDDEN)

    def forward(
        self, x: torch.Tensor, additive_mask: torch.Tensor, keep: torch.Tensor
    ) -> torch.Tensor:
        x = self.attention_norm(x + self.attention(x, additive_mask, keep))
        return self.output_norm(x + self.ff_output(gelu_erf(self.intermediate(x))))


class TinyBert(nn.Module):
    """A two-layer BERT-like encoder with a tanh pooler."""

    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.embedding_norm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)
        self.register_buffer(
            "position_ids", torch.arange(MAX_POSITIONS).unsqueeze(0), persistent=False
        )
        self.register_buffer(
            "token_type_ids", torch.zeros(1, MAX_POSITIONS, dtype=torch.long), persistent=False
        )

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, seq = input_ids.shape
        position_ids = self.position_ids[:, :seq]
        token_type_ids = self.token_type_ids[:, :seq].expand(batch, seq)
        x = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        x = self.embedding_norm(x)
        keep = attention_mask[:, None, None, :]
        additive_mask = (1.0 - keep.to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive_mask, keep)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


class TinyGpt(nn.Module):
    """Token + position embeddings, one pre-LN causal block, final LN and an LM head."""

    def __init__(self) -> None:
        super().__init__()
        self.head_dim = HIDDEN // HEADS
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.norm1 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.proj = nn.Linear(HIDDEN, HIDDEN)
        self.norm2 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.fc = nn.Linear(HIDDEN, FF)
        self.fc_out = nn.Linear(FF, HIDDEN)
        self.norm_final = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        causal = torch.tril(torch.ones(MAX_POSITIONS, MAX_POSITIONS, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, MAX_POSITIONS, MAX_POSITIONS))
        self.register_buffer(
            "position_ids", torch.arange(MAX_POSITIONS).unsqueeze(0), persistent=False
        )

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        batch, seq = input_ids.shape
        x = self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids[:, :seq])
        h = self.norm1(x)
        q, k, v = self.qkv(h).split(HIDDEN, dim=-1)
        q = q.view(batch, seq, HEADS, self.head_dim).transpose(1, 2)
        k = k.view(batch, seq, HEADS, self.head_dim).transpose(1, 2)
        v = v.view(batch, seq, HEADS, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        mask = self.causal[:, :, :seq, :seq]
        scores = torch.where(mask, scores, torch.tensor(-1e4))
        attn = torch.matmul(torch.softmax(scores, dim=-1), v)
        attn = attn.transpose(1, 2).contiguous().view(batch, seq, HIDDEN)
        x = x + self.proj(attn)
        x = x + self.fc_out(nn.functional.gelu(self.fc(self.norm2(x)), approximate="tanh"))
        return self.lm_head(self.norm_final(x))


def init_weights(model: nn.Module, seed: int) -> None:
    """Seeded weights with unit-scale activations (BERT's std 0.02 would make attention flat)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                std = 1.0 / math.sqrt(module.in_features)
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.02)
            elif isinstance(module, nn.Embedding):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
            elif isinstance(module, nn.LayerNorm | ExplicitLayerNorm):
                module.weight.copy_(
                    1.0 + 0.1 * torch.randn(module.weight.shape, generator=generator)
                )
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def example_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """input_ids in [0, VOCAB) and a 0/1 attention mask with a padded tail."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=generator)
    attention_mask = torch.ones(BATCH, SEQ, dtype=torch.long)
    attention_mask[:, SEQ - 4 :] = 0
    return input_ids, attention_mask


def export_bert(model: TinyBert, path: Path, dynamic: bool) -> None:
    """Export the encoder with the TorchScript exporter (opset 17)."""
    dynamic_axes = None
    if dynamic:
        dynamic_axes = {
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "last_hidden_state": {0: "batch", 1: "sequence"},
            "pooler_output": {0: "batch"},
        }
    torch.onnx.export(
        model,
        example_inputs(),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state", "pooler_output"],
        dynamic_axes=dynamic_axes,
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )


def export_gpt(model: TinyGpt, path: Path) -> None:
    """Export the decoder block with static shapes."""
    torch.onnx.export(
        model,
        (example_inputs()[0],),
        str(path),
        input_names=["input_ids"],
        output_names=["logits"],
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )


def main() -> None:
    """Build the three models and write them next to this script."""
    torch.manual_seed(0)
    bert = TinyBert().eval()
    init_weights(bert, seed=0)
    export_bert(bert, HERE / "bert_tiny.onnx", dynamic=False)
    export_bert(bert, HERE / "bert_tiny_dynamic.onnx", dynamic=True)
    gpt = TinyGpt().eval()
    init_weights(gpt, seed=1)
    export_gpt(gpt, HERE / "gpt_tiny_block.onnx")
    for name in ("bert_tiny.onnx", "bert_tiny_dynamic.onnx", "gpt_tiny_block.onnx"):
        print(f"wrote {HERE / name} ({(HERE / name).stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
