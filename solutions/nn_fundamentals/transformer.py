"""Given: a small character transformer (GPT layout) built around your Attention (models.py, question 6).

A block adds to its input the attention of its normalised input, then the output of a small MLP of
that sum's normalisation (``x + attention(norm(x))``, then ``x + mlp(norm(x))``). The model embeds
each character and its position, runs the blocks and maps every position to next-character logits.
Because Attention never lets a position see a later one, the logits at position t depend only on
characters 0..t: one pass over a sequence trains the model to predict every next character at once.
"""
import torch
from torch import Tensor, nn
from torch.nn.functional import cross_entropy

from models import Attention


class Block(nn.Module):
    """Attention, then a position-wise MLP, each around a residual connection."""

    def __init__(self, layer_size: int, block_size: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(layer_size)
        self.attention = Attention(layer_size, block_size)
        self.norm2 = nn.LayerNorm(layer_size)
        self.mlp = nn.Sequential(nn.Linear(layer_size, 4 * layer_size), nn.GELU(), nn.Linear(4 * layer_size, layer_size))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class CharTransformer(nn.Module):
    """Characters (batch, T) as ids -> next-character logits (batch, T, vocab_size), T <= block_size."""

    def __init__(self, vocab_size: int, layer_size: int, block_size: int, n_blocks: int = 1) -> None:
        super().__init__()
        self.chars = nn.Embedding(vocab_size, layer_size)
        self.positions = nn.Embedding(block_size, layer_size)
        self.blocks = nn.Sequential(*[Block(layer_size, block_size) for _ in range(n_blocks)])
        self.norm = nn.LayerNorm(layer_size)
        self.head = nn.Linear(layer_size, vocab_size)

    def forward(self, ids: Tensor) -> Tensor:
        x = self.chars(ids) + self.positions(torch.arange(ids.shape[1]))
        return self.head(self.norm(self.blocks(x)))


def train_transformer(model: CharTransformer, sequences: Tensor, steps: int, batch_size: int, lr: float,
                      seed: int) -> list[float]:
    """``steps`` AdamW updates on random batches of ``sequences`` (n, T + 1): every position learns to
    predict the character after it. Returns the loss of each update."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        batch = sequences[torch.randint(len(sequences), (batch_size,), generator=generator)]
        logits = model(batch[:, :-1])
        loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def predict_next(model: CharTransformer, contexts: Tensor) -> Tensor:
    """The most likely character after each context (n, T): ids (n,)."""
    return model(contexts)[:, -1].argmax(dim=-1)
