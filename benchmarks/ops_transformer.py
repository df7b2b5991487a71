"""The transformer lab's hand-written attention next to torch's fused kernel, on the same shapes, in one
run: forward (and forward + backward) time of the reference MultiHeadAttention's core (scores, mask,
softmax, weighted values) against torch.nn.functional.scaled_dot_product_attention, and their ratio.

    python benchmarks/ops_transformer.py
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "solutions" / "transformer"))

from transformer import MultiHeadAttention, causal_mask  # noqa: E402

SHAPES = [  # (batch, heads, tokens, d_head): the lab's models, then larger ones
    (64, 2, 8, 16),
    (64, 2, 5, 32),
    (32, 4, 64, 32),
    (8, 8, 256, 64),
]


def hand_written(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The reference's attention on already split heads (the lines of MultiHeadAttention.forward)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v


def fused(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def seconds(*fns: Callable[[], object], budget: float = 0.5) -> list[float]:
    """Median seconds of one call of each function, calling them in turn (so that a busy machine slows
    them alike) as often as fits in ``budget`` (at least 7 rounds)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    while len(times[0]) < 7 or sum(map(sum, times)) < budget:
        for fn, kept in zip(fns, times):
            start = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - start)
    return [sorted(kept)[len(kept) // 2] for kept in times]


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    table = Table(title="hand-written attention vs scaled_dot_product_attention (CPU, 1 thread, causal mask)")
    for column in ("B x H x T x d_head", "pass", "hand-written (ms)", "sdpa (ms)", "ratio"):
        table.add_column(column, justify="right")
    for batch, heads, tokens, d_head in SHAPES:
        q, k, v = (torch.randn(batch, heads, tokens, d_head, requires_grad=True) for _ in range(3))
        mask = causal_mask(tokens)
        assert torch.allclose(hand_written(q, k, v, mask), fused(q, k, v, mask), atol=1e-5)
        for label, run in (("forward", lambda f: f(q, k, v, mask)),
                           ("fwd + bwd", lambda f: f(q, k, v, mask).sum().backward())):
            with torch.no_grad() if label == "forward" else torch.enable_grad():
                mine, theirs = seconds(lambda: run(hand_written), lambda: run(fused))
            table.add_row(f"{batch}x{heads}x{tokens}x{d_head}", label, f"{mine * 1e3:.3f}", f"{theirs * 1e3:.3f}",
                          f"{mine / theirs:.2f}")
    mha = MultiHeadAttention(64, 4)
    x = torch.randn(32, 64, 64)
    with torch.no_grad():
        whole, = seconds(lambda: mha(x, x, x, causal_mask(64)))
    Console().print(table)
    Console().print(f"whole MultiHeadAttention(64, 4) forward on (32, 64, 64), projections included: {whole * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
