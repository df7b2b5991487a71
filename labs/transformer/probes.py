"""Probes: they run your transformer.py on inputs the grader sends and return plain data.

Models are built in float64 with fixed weights: every parameter is redrawn from a generator seeded by
the probe's seed and the parameter's name, so your model and the reference get the same weights.
"""
import zlib
from contextlib import contextmanager

import numpy as np
import torch

from transformer import (BOS, EOS, PAD, DecoderBlock, EncoderBlock, MultiHeadAttention, PositionalEncoding,
                         Translator, ViT, causal_mask, greedy_translate, padding_mask, patchify, sinusoidal_encoding,
                         train_translator, train_vit)


@contextmanager
def _float64():
    """Build and run models in float64 (comparisons to 1e-6), then restore the default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            yield
    finally:
        torch.set_default_dtype(previous)


@contextmanager
def _one_thread():
    """Train on one thread, as in the sandbox: these models are tiny, and a second thread only costs time
    (this matters where the reference trains in the grader's process, e.g. at release)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fixed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Redraw every parameter from (seed, its name): Linear weights ~ N(0, 1.5^2 / fan_in), so that
    attention is far from uniform; LayerNorm gains near 1; biases ~ N(0, 0.3^2); embeddings and the
    class token ~ N(0, 1)."""
    for module_name, owner in module.named_modules():
        for name, parameter in owner.named_parameters(recurse=False):
            seeded = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(f"{module_name}.{name}".encode()))
            values = torch.randn(parameter.shape, generator=seeded, dtype=torch.float64)
            if isinstance(owner, torch.nn.Linear) and name == "weight":
                values = values * 1.5 / parameter.shape[1] ** 0.5
            elif isinstance(owner, torch.nn.LayerNorm) and name == "weight":
                values = 1.0 + 0.3 * values
            elif parameter.dim() == 1:
                values = 0.3 * values
            parameter.copy_(values)
    return module.eval()


def masks(size: int, tokens: torch.Tensor, pad_id: int) -> dict:
    """causal_mask(size) and padding_mask(tokens, pad_id), as returned."""
    return {"causal": causal_mask(size), "padding": padding_mask(tokens, pad_id)}


def attention(d_model: int, num_heads: int, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              mask: torch.Tensor | None, seed: int) -> dict:
    """MultiHeadAttention on fixed weights: its output and its stored attention probabilities."""
    with _float64():
        mha = _fixed(MultiHeadAttention(d_model, num_heads), seed)
        output = mha(query, key, value, mask)
        return {"output": output, "weights": mha.attn_weights}


def positional(length: int, d_model: int, x: torch.Tensor) -> dict:
    """sinusoidal_encoding(length, d_model), and PositionalEncoding(d_model, length)(x)."""
    with _float64():
        return {"table": sinusoidal_encoding(length, d_model), "added": PositionalEncoding(d_model, length)(x)}


def encoder_block(d_model: int, num_heads: int, d_ff: int, x: torch.Tensor, mask: torch.Tensor | None,
                  seed: int) -> torch.Tensor:
    """EncoderBlock(x, mask) on fixed weights."""
    with _float64():
        return _fixed(EncoderBlock(d_model, num_heads, d_ff), seed)(x, mask)


def decoder_block(d_model: int, num_heads: int, d_ff: int, x: torch.Tensor, memory: torch.Tensor,
                  src_mask: torch.Tensor | None, tgt_mask: torch.Tensor | None, seed: int) -> torch.Tensor:
    """DecoderBlock(x, memory, src_mask, tgt_mask) on fixed weights."""
    with _float64():
        return _fixed(DecoderBlock(d_model, num_heads, d_ff), seed)(x, memory, src_mask, tgt_mask)


def _translator(config: dict, seed: int) -> Translator:
    return _fixed(Translator(**config), seed)


def translator_logits(config: dict, src: torch.Tensor, tgt: torch.Tensor, seed: int) -> torch.Tensor:
    """Translator(**config)(src, tgt) on fixed weights: teacher-forced logits (B, T, tgt_vocab), set to 0
    where tgt is PAD (what a padded position predicts is never used)."""
    with _float64():
        return _translator(config, seed)(src, tgt).masked_fill((tgt == PAD)[:, :, None], 0.0)


def encoder_attention(config: dict, src: torch.Tensor, seed: int) -> dict:
    """Translator.encode(src) on fixed weights: the memory and the first encoder block's attention."""
    with _float64():
        model = _translator(config, seed)
        memory = model.encode(src)
        return {"memory": memory, "weights": model.encoder[0].self_attn.attn_weights}


def decoder_attention(config: dict, src: torch.Tensor, tgt: torch.Tensor, seed: int) -> torch.Tensor:
    """The first decoder block's self-attention probabilities after the teacher-forced forward pass
    (B, num_heads, T, T), set to 0 in the rows of PAD queries (never used)."""
    with _float64():
        model = _translator(config, seed)
        model(src, tgt)
        return model.decoder[0].self_attn.attn_weights.masked_fill((tgt == PAD)[:, None, :, None], 0.0)


def greedy(config: dict, src: torch.Tensor, max_len: int, eos_bias: float, seed: int) -> torch.Tensor:
    """greedy_translate on fixed weights, with ``eos_bias`` added to the EOS logit (so that some
    sentences end early and others run to max_len); PAD and BOS are never predicted."""
    with _float64():
        model = _translator(config, seed)
        model.generator.bias[EOS] += eos_bias
        model.generator.bias[[PAD, BOS]] = -1e4
        return greedy_translate(model, src, max_len)


def greedy_lines(config: dict, size: int, src_len: int, max_len: int, seed: int) -> torch.Tensor:
    """greedy_translate on ``size`` sentences drawn here (for counting the lines your code runs)."""
    tokens = torch.randint(3, config["src_vocab"], (size, src_len), generator=torch.Generator().manual_seed(seed))
    return greedy(config, tokens, max_len, eos_bias=-100.0, seed=seed)


def patches(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """patchify(images, patch_size)."""
    return patchify(images, patch_size)


def _vit(config: dict, seed: int) -> ViT:
    return _fixed(ViT(**config), seed)


def vit_logits(config: dict, images: torch.Tensor, seed: int) -> torch.Tensor:
    """ViT(**config)(images) on fixed weights."""
    with _float64():
        return _vit(config, seed)(images)


def vit_attention(config: dict, images: torch.Tensor, seed: int) -> torch.Tensor:
    """The first ViT block's attention probabilities on fixed weights."""
    with _float64():
        model = _vit(config, seed)
        model(images)
        return model.blocks[0].self_attn.attn_weights


def translate(train_x: np.ndarray, train_y: np.ndarray, inputs: dict, src_vocab: int, tgt_vocab: int,
              max_len: int, seed: int) -> dict:
    """Train with train_translator (your hyperparameters), then translate each split of ``inputs``
    greedily (their translations stay with the grader)."""
    with _one_thread():
        model = train_translator(torch.from_numpy(train_x), torch.from_numpy(train_y), src_vocab, tgt_vocab, seed=seed)
        return {split: greedy_translate(model, torch.from_numpy(x), max_len) for split, x in inputs.items()}


def classify_digits(train_x: np.ndarray, train_y: np.ndarray, inputs: dict, seed: int) -> dict:
    """Train a ViT with train_vit on 8x8 digits (flat rows of 64 pixels, reshaped to 1x8x8 here), then
    predict the class of each split of ``inputs`` (their labels stay with the grader)."""
    images = lambda x: torch.from_numpy(x).reshape(-1, 1, 8, 8)  # noqa: E731
    with _one_thread():
        model = train_vit(images(train_x), torch.from_numpy(train_y), 10, seed=seed)
        with torch.no_grad():
            return {split: model(images(x)).argmax(dim=-1) for split, x in inputs.items()}
