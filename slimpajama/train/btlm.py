"""A BTLM-architecture decoder (PyTorch, extra [train]) and the `train-smoke` loop.

Architecture as BTLM-3B-8K (pipelines/btlm-3b-8k.json): pre-LayerNorm blocks, ALiBi attention
(no position embeddings), SwiGLU MLP, embeddings tied to the output layer, and µP multipliers:
token embeddings x `embeddings_scale` (14.6), attention logits / d_head (not sqrt(d_head)),
output logits x `output_logits_scale` (0.222 = output alpha 2.22 x width scale 0.1), and hidden
matrices trained at learning rate x `width_scale`. `train_smoke` trains a few-million-parameter
version of it on CPU through `slimpajama.train.stream.TokenStream`.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from slimpajama.train.stream import BTLM_SCHEDULE_PATH, TokenStream, load_schedule


@dataclass(frozen=True)
class BTLMConfig:
    """Model shape and µP multipliers (defaults: the tiny smoke-test model)."""

    vocab_size: int = 50257
    n_layers: int = 2
    d_model: int = 64
    n_heads: int = 4
    d_ffn: int = 170
    layer_norm_epsilon: float = 1e-5
    embeddings_scale: float = 14.6
    output_logits_scale: float = 0.222
    width_scale: float = 0.1
    init_std: float = 0.02

    @classmethod
    def from_schedule(cls, path: str = BTLM_SCHEDULE_PATH) -> BTLMConfig:
        """The full-size config stored in a schedule file's "model" section."""
        model = load_schedule(path)[1]["model"]
        mup = model["mup"]
        return cls(
            vocab_size=model["vocab_size"],
            n_layers=model["n_layers"],
            d_model=model["d_model"],
            n_heads=model["n_heads"],
            d_ffn=model["d_ffn"],
            layer_norm_epsilon=model["layer_norm_epsilon"],
            embeddings_scale=mup["embeddings_scale"],
            output_logits_scale=mup["output_logits_scale"],
            width_scale=mup["width_scale"],
        )


def tiny_config(path: str = BTLM_SCHEDULE_PATH) -> BTLMConfig:
    """BTLM's config (same multipliers, same d_ffn / d_model ratio 2.67) at d_model 64, 2 layers."""
    full = BTLMConfig.from_schedule(path)
    d_model = 64
    return replace(
        full,
        n_layers=2,
        d_model=d_model,
        n_heads=4,
        d_ffn=round(full.d_ffn * d_model / full.d_model),
    )


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi head slopes 2^(-8 i / n), i = 1..n (n a power of two, as in BTLM's 32 heads)."""
    if n_heads & (n_heads - 1):
        raise ValueError("ALiBi slopes here need a power-of-two head count")
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / n_heads) for i in range(n_heads)])


def alibi_causal_bias(n_heads: int, seq_len: int) -> torch.Tensor:
    """(n_heads, T, T) additive attention bias: -slope * (i - j) for j <= i, -inf above."""
    positions = torch.arange(seq_len)
    distance = (positions[:, None] - positions[None, :]).float()
    bias = -alibi_slopes(n_heads)[:, None, None] * distance
    return bias.masked_fill(distance < 0, float("-inf"))


class Block(nn.Module):
    """Pre-LN transformer block: ALiBi self-attention, then a SwiGLU MLP."""

    def __init__(self, config: BTLMConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.ln_attn = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.attn_out = nn.Linear(config.d_model, config.d_model)
        self.ln_mlp = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.gate_up = nn.Linear(config.d_model, 2 * config.d_ffn)
        self.mlp_out = nn.Linear(config.d_ffn, config.d_model)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        d_head = width // self.n_heads
        q, k, v = (
            t.view(batch, length, self.n_heads, d_head).transpose(1, 2)
            for t in self.qkv(self.ln_attn(x)).split(width, dim=-1)
        )
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0 / d_head)
        x = x + self.attn_out(attended.transpose(1, 2).reshape(batch, length, width))
        gate, up = self.gate_up(self.ln_mlp(x)).chunk(2, dim=-1)
        return x + self.mlp_out(F.silu(gate) * up)


class BTLM(nn.Module):
    """Decoder-only LM; `forward(input_ids)` -> logits (B, T, vocab)."""

    def __init__(self, config: BTLMConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.apply(self._init)
        for block in self.blocks:  # residual projections scaled by depth, as in GPT-2
            for proj in (block.attn_out, block.mlp_out):
                nn.init.normal_(proj.weight, std=config.init_std / math.sqrt(2 * config.n_layers))

    def _init(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=self.config.init_std)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids) * self.config.embeddings_scale
        bias = alibi_causal_bias(self.config.n_heads, input_ids.shape[1]).to(x.dtype)
        for block in self.blocks:
            x = block(x, bias)
        # logits x output_logits_scale, applied on the narrow side of the tied projection
        return (self.ln_f(x) * self.config.output_logits_scale) @ self.embed.weight.T

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """µP learning rates: hidden matrices at lr x width_scale, everything else at lr."""
        hidden = [p for n, p in self.named_parameters() if n.startswith("blocks.") and p.ndim == 2]
        hidden_ids = {id(p) for p in hidden}
        other = [p for p in self.parameters() if id(p) not in hidden_ids]
        return [{"params": hidden, "lr": lr * self.config.width_scale}, {"params": other, "lr": lr}]


LOSS_DROP_FRACTION = 0.1
"""train-smoke passes when the held-out loss falls by at least this fraction of its start."""


def loss_fell(result: dict[str, Any], fraction: float = LOSS_DROP_FRACTION) -> bool:
    """Whether `train_smoke`'s final held-out loss is <= (1 - fraction) x the initial one."""
    return result["final_held_out"] <= (1.0 - fraction) * result["initial_held_out"]


def lm_loss(model: BTLM, batch: dict[str, Any]) -> torch.Tensor:
    """Mean next-token cross-entropy over positions with loss_mask 1."""
    logits = model(torch.as_tensor(batch["input_ids"]))
    losses = F.cross_entropy(
        logits.flatten(0, 1), torch.as_tensor(batch["labels"]).flatten(), reduction="none"
    )
    mask = torch.as_tensor(batch["loss_mask"]).flatten()
    return (losses * mask).sum() / mask.sum()


def _held_out_stream(
    tok_dir: str, seq_len: int, batch: int, seed: int
) -> tuple[TokenStream, tuple[float, float]]:
    """(held-out stream, train token range): the validation split if it has a batch, else the
    last 10 % of train (then training reads only the first 90 %)."""
    try:
        stream = TokenStream(tok_dir, seq_len, batch, seed=seed, split="validation")
        if stream.num_steps:
            return stream, (0.0, 1.0)
    except ValueError:
        pass
    stream = TokenStream(tok_dir, seq_len, batch, seed=seed, token_range=(0.9, 1.0))
    if not stream.num_steps:
        raise ValueError(f"{tok_dir}: too few tokens for a held-out batch of {batch} x {seq_len}")
    return stream, (0.0, 0.9)


def _train_batches(
    tok_dir: str, seq_len: int, batch: int, seed: int, token_range: tuple[float, float]
) -> Iterator[dict[str, Any]]:
    """Training batches, pass after pass (pass p reshuffled with seed + p)."""
    for epoch in itertools.count():
        stream = TokenStream(tok_dir, seq_len, batch, seed=seed + epoch, token_range=token_range)
        if stream.num_steps == 0:
            raise ValueError(
                f"{tok_dir}: too few train tokens for one batch of {batch} x {seq_len}"
            )
        yield from stream.torch_batches()


def train_smoke(
    tok_dir: str | os.PathLike[str],
    steps: int = 50,
    seed: int = 0,
    seq_len: int = 32,
    batch: int = 2,
    lr: float = 3e-2,
    eval_batches: int = 8,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the tiny BTLM for `steps` AdamW steps; returns the per-step losses and the held-out
    loss (mean over `eval_batches` fixed batches) before and after.

    Runs on one CPU thread: reproducible losses whatever the core count, and no thread spinning
    on a busy machine.
    """
    tok_dir = os.fspath(tok_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_smoke(tok_dir, steps, seed, seq_len, batch, lr, eval_batches, log)
    finally:
        torch.set_num_threads(threads)


def _train_smoke(
    tok_dir: str,
    steps: int,
    seed: int,
    seq_len: int,
    batch: int,
    lr: float,
    eval_batches: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    torch.manual_seed(seed)
    model = BTLM(tiny_config())
    optimizer = torch.optim.AdamW(model.param_groups(lr), betas=(0.9, 0.95), weight_decay=0.0)
    held_out, train_range = _held_out_stream(tok_dir, seq_len, batch, seed)
    eval_set = [held_out.batch(s) for s in range(min(eval_batches, held_out.num_steps))]

    def held_out_loss() -> float:
        with torch.no_grad():
            return sum(float(lm_loss(model, b)) for b in eval_set) / len(eval_set)

    initial = held_out_loss()
    losses = []
    batches = _train_batches(tok_dir, seq_len, batch, seed, train_range)
    for step in range(steps):
        loss = lm_loss(model, next(batches))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        log(f"step {step + 1:4d}  loss {losses[-1]:.4f}")
    final = held_out_loss()
    log(f"held-out loss: initial {initial:.4f} -> final {final:.4f}")
    params = sum(p.numel() for p in model.parameters())
    return {
        "losses": losses,
        "initial_held_out": initial,
        "final_held_out": final,
        "parameters": params,
    }
