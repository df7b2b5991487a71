"""Transformer blocks written by hand, and two models built from the same blocks.

Masks, multi-head attention, sinusoidal positional encoding, pre-norm encoder and decoder blocks; then a
translator (encoder-decoder, trained with teacher forcing, greedy decoding) and a Vision Transformer
(patches, a class token, the encoder blocks).

Conventions: tensors are batch first; a mask is a bool tensor that is True where attention is ALLOWED
(a "keep" mask) and broadcasts to the scores' shape (B, num_heads, T_query, T_key).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = 0, 1, 2  # special token ids, the same in every vocabulary
MAX_LEN = 64  # the longest sequence the positional encoding covers

### BEGIN HYPERPARAMETERS
TRANSLATOR = dict(d_model=32, num_heads=2, d_ff=64, num_layers=1)
TRANSLATOR_TRAINING = dict(epochs=10, batch_size=64, lr=3e-3)
VIT = dict(patch_size=4, d_model=64, num_heads=2, d_ff=128, num_layers=1)
VIT_TRAINING = dict(epochs=30, batch_size=64, lr=3e-3)
### END HYPERPARAMETERS


# ---- masks --------------------------------------------------------------------------------------------

def causal_mask(size: int) -> torch.Tensor:
    """(size, size) bool: True where query position i may attend to key position j, i.e. j <= i
    (itself and the past, never the future)."""
    ### BEGIN SOLUTION True on and below the diagonal (torch.tril of a matrix of ones, as bool)
    return torch.tril(torch.ones(size, size, dtype=torch.bool))
    ### END SOLUTION


def padding_mask(tokens: torch.Tensor, pad_id: int = PAD) -> torch.Tensor:
    """Token ids (B, S) -> (B, 1, 1, S) bool, True at real tokens. It masks KEYS: no query attends to
    a padded position (the singleton axes broadcast over the heads and the queries)."""
    ### BEGIN SOLUTION compare with pad_id, then add the head and query axes in front of the key axis
    return (tokens != pad_id)[:, None, None, :]
    ### END SOLUTION


# ---- attention ----------------------------------------------------------------------------------------

class MultiHeadAttention(nn.Module):
    """softmax(Q K^T / sqrt(d_head)) V in num_heads heads of d_head = d_model / num_heads features."""

    def __init__(self, d_model: int, num_heads: int):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be a multiple of num_heads ({num_heads})")
        self.num_heads, self.d_head = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.attn_weights = None  # the last forward's attention probabilities (B, num_heads, T_query, T_key)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """query (B, T_q, d_model), key and value (B, T_k, d_model), mask a keep-mask that broadcasts to
        (B, num_heads, T_q, T_k) or None -> (B, T_q, d_model). Stores the probabilities in attn_weights."""
        batch = query.shape[0]
        ### BEGIN SOLUTION project with W_q, W_k, W_v, then split the features into heads: (B, num_heads, T, d_head)
        q = self.W_q(query).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
        k = self.W_k(key).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
        v = self.W_v(value).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
        ### END SOLUTION
        ### BEGIN SOLUTION scores scaled by 1/sqrt(d_head); -inf where the mask is False; softmax over the keys
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        self.attn_weights = scores.softmax(dim=-1)
        ### END SOLUTION
        ### BEGIN SOLUTION weight the values, merge the heads back to (B, T_q, d_model), project with W_o
        context = (self.attn_weights @ v).transpose(1, 2).reshape(batch, -1, self.num_heads * self.d_head)
        return self.W_o(context)
        ### END SOLUTION


def sinusoidal_encoding(length: int, d_model: int) -> torch.Tensor:
    """(length, d_model) table: PE[t, 2i] = sin(t / 10000^(2i / d_model)), PE[t, 2i+1] = cos(same angle);
    d_model is even."""
    ### BEGIN SOLUTION one angle per (position, pair of features); sines in the even columns, cosines in the odd
    position = torch.arange(length).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table
    ### END SOLUTION


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal table to a batch of embeddings (computed once, for up to max_len positions)."""

    def __init__(self, d_model: int, max_len: int = MAX_LEN):
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, d_model) -> x + PE[:T], the same table for every sequence of the batch."""
        ### BEGIN SOLUTION add the table's first T rows (they broadcast over the batch)
        return x + self.pe[:x.shape[1]]
        ### END SOLUTION


# ---- blocks (pre-norm: each sublayer reads a LayerNorm of its input and adds its output back) ------------

class EncoderBlock(nn.Module):
    """x -> x + SelfAttention(LN(x)) -> x + FeedForward(LN(x))."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, S, d_model), mask a keep-mask for the self-attention (or None) -> (B, S, d_model)."""
        ### BEGIN SOLUTION two residual sublayers, each reading norm1 / norm2 of the running x
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, mask)
        return x + self.ff(self.norm2(x))
        ### END SOLUTION


class DecoderBlock(nn.Module):
    """x -> x + SelfAttention(LN(x)) -> x + CrossAttention(LN(x), memory) -> x + FeedForward(LN(x))."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor | None = None,
                tgt_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, d_model) the target so far, memory (B, S, d_model) the encoder's output; tgt_mask
        masks the self-attention, src_mask the cross-attention (queries from x, keys and values from
        memory) -> (B, T, d_model)."""
        ### BEGIN SOLUTION three residual sublayers: masked self-attention, cross-attention on memory, feed-forward
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, tgt_mask)
        x = x + self.cross_attn(self.norm2(x), memory, memory, src_mask)
        return x + self.ff(self.norm3(x))
        ### END SOLUTION


# ---- translation ---------------------------------------------------------------------------------------

class Translator(nn.Module):
    """An encoder-decoder transformer over token ids (PAD, BOS and EOS are ids 0, 1 and 2 on both sides)."""

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int, num_heads: int, d_ff: int,
                 num_layers: int, max_len: int = MAX_LEN):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        self.encoder = nn.ModuleList([EncoderBlock(d_model, num_heads, d_ff) for _ in range(num_layers)])
        self.decoder = nn.ModuleList([DecoderBlock(d_model, num_heads, d_ff) for _ in range(num_layers)])
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder_norm = nn.LayerNorm(d_model)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """Source ids (B, S), padded with PAD -> memory (B, S, d_model)."""
        ### BEGIN SOLUTION embed + positions, the blocks with the source's padding mask, encoder_norm
        mask = padding_mask(src)
        x = self.pos(self.src_embed(src))
        for block in self.encoder:
            x = block(x, mask)
        return self.encoder_norm(x)
        ### END SOLUTION

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """Decoder input ids (B, T) (BOS first), memory (B, S, d_model) and the source's padding mask
        -> logits (B, T, tgt_vocab); position t sees only the target up to t."""
        ### BEGIN SOLUTION target mask = padding AND causal; embed + positions, blocks, decoder_norm, generator
        tgt_mask = padding_mask(tgt) & causal_mask(tgt.shape[1])
        x = self.pos(self.tgt_embed(tgt))
        for block in self.decoder:
            x = block(x, memory, src_mask, tgt_mask)
        return self.generator(self.decoder_norm(x))
        ### END SOLUTION

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: source ids (B, S), decoder input ids (B, T) -> logits (B, T, tgt_vocab)."""
        return self.decode(tgt, self.encode(src), padding_mask(src))


@torch.no_grad()
def greedy_translate(model: Translator, src: torch.Tensor, max_len: int) -> torch.Tensor:
    """Source ids (B, S) -> (B, max_len) ids: from BOS, feed back the most probable next token at each
    step; a sentence is finished once it produced EOS (kept), and is PAD after it."""
    memory, src_mask = model.encode(src), padding_mask(src)
    out = torch.full((len(src), 1), BOS)
    ### BEGIN SOLUTION up to max_len steps for the whole batch: argmax of the last position, PAD once finished
    finished = torch.zeros(len(src), dtype=torch.bool)
    for _ in range(max_len):
        next_token = model.decode(out, memory, src_mask)[:, -1].argmax(dim=-1)
        next_token = next_token.masked_fill(finished, PAD)
        out = torch.cat([out, next_token[:, None]], dim=1)
        finished |= next_token == EOS
        if finished.all():
            break
    ### END SOLUTION
    return F.pad(out[:, 1:], (0, max_len + 1 - out.shape[1]), value=PAD)


def train_translator(src: torch.Tensor, tgt: torch.Tensor, src_vocab: int, tgt_vocab: int,
                     seed: int = 0) -> Translator:
    """Teacher forcing on pairs (src (N, S) ids, tgt (N, T) ids ending in EOS, PAD-padded): the decoder
    reads BOS + tgt[:-1] and learns to predict tgt; the loss ignores PAD."""
    torch.manual_seed(seed)
    model = Translator(src_vocab, tgt_vocab, **TRANSLATOR)
    optimizer = torch.optim.Adam(model.parameters(), lr=TRANSLATOR_TRAINING["lr"])
    decoder_input = torch.cat([torch.full((len(tgt), 1), BOS), tgt[:, :-1]], dim=1)
    for _ in range(TRANSLATOR_TRAINING["epochs"]):
        for batch in torch.randperm(len(src)).split(TRANSLATOR_TRAINING["batch_size"]):
            logits = model(src[batch], decoder_input[batch])
            loss = F.cross_entropy(logits.flatten(0, 1), tgt[batch].flatten(), ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


# ---- vision --------------------------------------------------------------------------------------------

def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Images (B, C, H, W) -> patches (B, N, C * p * p) with p = patch_size and N = (H / p) * (W / p):
    patches in row-major order over the grid, each flattened in (C, p, p) order (channel, row, column)."""
    batch, channels, height, width = images.shape
    p = patch_size
    ### BEGIN SOLUTION cut H and W into (H / p, p) and (W / p, p), bring the two grid axes first, flatten
    grid = images.reshape(batch, channels, height // p, p, width // p, p)
    return grid.permute(0, 2, 4, 1, 3, 5).reshape(batch, (height // p) * (width // p), channels * p * p)
    ### END SOLUTION


class ViT(nn.Module):
    """A Vision Transformer: linear patch embedding, a learned class token in front, positional encoding,
    encoder blocks, and a classifier that reads the class token's final state."""

    def __init__(self, image_size: int, in_channels: int, num_classes: int, patch_size: int, d_model: int,
                 num_heads: int, d_ff: int, num_layers: int):
        super().__init__()
        self.patch_size = patch_size
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Linear(in_channels * patch_size ** 2, d_model)
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, d_model))
        self.pos = PositionalEncoding(d_model, num_patches + 1)
        self.blocks = nn.ModuleList([EncoderBlock(d_model, num_heads, d_ff) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) -> class logits (B, num_classes)."""
        ### BEGIN SOLUTION patch embedding, class token in front, positions, blocks, norm, head on the class token
        x = self.patch_embed(patchify(images, self.patch_size))
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        x = self.pos(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))
        ### END SOLUTION


def train_vit(images: torch.Tensor, labels: torch.Tensor, num_classes: int, seed: int = 0) -> ViT:
    """Minibatch Adam on the cross-entropy of square images (N, C, H, W) with int64 labels (N,)."""
    torch.manual_seed(seed)
    model = ViT(images.shape[-1], images.shape[1], num_classes, **VIT)
    optimizer = torch.optim.Adam(model.parameters(), lr=VIT_TRAINING["lr"])
    for _ in range(VIT_TRAINING["epochs"]):
        for batch in torch.randperm(len(images)).split(VIT_TRAINING["batch_size"]):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()
