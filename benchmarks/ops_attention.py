"""Hand-written attention next to torch.nn.functional.scaled_dot_product_attention, on the same shapes.

    python benchmarks/ops_attention.py

Two rows per shape: bert_attention's BertSelfAttention.forward (eval mode, float32, padding mask) against
the same query/key/value projections around torch's fused attention; attention_backprop's NumPy
Attention.forward (float64, causal mask) against torch on the same arrays (projections, then fused
attention with is_causal=True). Whole calls, the best of several repeats, measured in one run on one
thread: the ratio is what to read, not the absolute times.
"""
from __future__ import annotations

import math
import sys
import timeit
from pathlib import Path

import numpy as np
import torch
from torch.nn.functional import scaled_dot_product_attention

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "solutions" / "bert_attention"), str(ROOT / "solutions" / "attention_backprop")]

from attention import Attention  # noqa: E402 - the references (their solution markers are comments)
from bert_attention import BertSelfAttention  # noqa: E402
from bert_model import BertConfig  # noqa: E402

SHAPES = [(8, 64, 64, 4), (32, 128, 128, 8), (4, 512, 256, 8)]  # batch, tokens, hidden size, heads


def best_seconds(call, repeat: int = 5) -> float:
    """The best time of one call over ``repeat`` rounds (each round enough calls for about 0.1 s)."""
    number, _ = timeit.Timer(call).autorange()
    number = max(1, number // 2)
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def bert_row(B: int, S: int, hidden: int, heads: int) -> tuple[float, float]:
    layer = BertSelfAttention(BertConfig(hidden_size=hidden, num_attention_heads=heads)).eval()
    H = torch.randn(B, S, hidden)
    mask = torch.zeros(B, S)
    mask[: B // 2, S - S // 4:] = -10000.0  # half of the batch padded at the end

    def fused() -> torch.Tensor:
        q, k, v = (layer.transpose_for_scores(linear(H)) for linear in (layer.query, layer.key, layer.value))
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return out.transpose(1, 2).reshape(B, S, hidden)

    with torch.no_grad():
        assert torch.allclose(layer(H, mask), fused(), atol=1e-5)
        return best_seconds(lambda: layer(H, mask)), best_seconds(fused)


def backprop_row(B: int, S: int, hidden: int, heads: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    Dk = hidden // heads  # one head of the same size as the layer's heads
    W_q, W_k, W_v = (rng.normal(size=(hidden, Dk)) / math.sqrt(hidden) for _ in range(3))
    X = rng.normal(size=(B, S, hidden))
    attention = Attention(W_k, W_q, W_v)
    Xt, Wq, Wk, Wv = (torch.from_numpy(a) for a in (X, W_q, W_k, W_v))

    def fused() -> np.ndarray:
        return scaled_dot_product_attention(Xt @ Wq, Xt @ Wk, Xt @ Wv, is_causal=True).numpy()

    assert np.allclose(attention.forward(X), fused(), atol=1e-10)
    return best_seconds(lambda: attention.forward(X)), best_seconds(fused)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"{'op':<44} {'shape (B, S, hidden, heads)':<28} {'hand (ms)':>10} {'sdpa (ms)':>10} {'ratio':>7}")
    for shape in SHAPES:
        for name, row in (("bert_attention BertSelfAttention.forward", bert_row),
                          ("attention_backprop Attention.forward (NumPy)", backprop_row)):
            hand, fused = row(*shape)
            print(f"{name:<44} {str(shape):<28} {hand * 1e3:>10.3f} {fused * 1e3:>10.3f} {hand / fused:>7.2f}")


if __name__ == "__main__":
    main()
