"""Hidden tests of the transformer lab (never shipped to students)."""
import numpy as np
import torch

from autograder.testing import Run, accuracy, test
from public_tests import (BOS, PAD, TIGHT, TRANSLATOR, VIT, digit_predictions, exact_match, keep_mask, normal,
                          token_accuracy, token_ids, translations)


@test(points=1, visibility="hidden")
def masks_hidden_cases(run: Run):
    """causal_mask of size 1 and 8; padding_mask of one sentence, of unpadded ids, of width 1"""
    run.expect_match("masks", 1, token_ids(100, [1], width=1, vocab=10), PAD, what="size 1, one id")
    run.expect_match("masks", 8, token_ids(101, [4, 4], width=4, vocab=10), PAD, what="size 8, no padding")
    run.expect_match("masks", 2, token_ids(102, [2, 7, 1, 5, 7], width=7, vocab=9, pad_id=5), 5, what="pad_id=5")


@test(points=2, visibility="hidden")
def attention_hidden_cases(run: Run):
    """multi-head attention on one head, heads of size 1, batch 1, one query, and a general mask"""
    x = normal(103, 3, 4, 6)
    run.expect_match("attention", 6, 1, x, x, x, None, 10, **TIGHT, what="one head")
    x = normal(104, 2, 5, 4)
    run.expect_match("attention", 4, 4, x, x, x, keep_mask(token_ids(105, [5, 2], width=5, vocab=9), causal=True),
                     11, **TIGHT, what="four heads of size 1")
    run.expect_match("attention", 8, 2, normal(106, 1, 1, 8), normal(107, 1, 7, 8), normal(108, 1, 7, 8), None, 12,
                     **TIGHT, what="batch 1, one query, seven keys")
    mask = torch.from_numpy(np.random.default_rng(109).random((2, 1, 4, 7)) < 0.6)
    mask[..., 0] = True  # every query keeps a key
    run.expect_match("attention", 9, 3, normal(110, 2, 4, 9), normal(111, 2, 7, 9), normal(112, 2, 7, 9), mask, 13,
                     **TIGHT, what="cross-attention with an arbitrary (B, 1, T_q, T_k) mask, 3 heads")


@test(points=2, visibility="hidden")
def blocks_hidden_cases(run: Run):
    """encoder and decoder blocks on batch 1, no mask, one target position, odd sizes"""
    run.expect_match("encoder_block", 6, 3, 7, normal(113, 1, 5, 6), None, 14, **TIGHT, what="EncoderBlock, no mask")
    src = token_ids(114, [3, 7, 5], width=7, vocab=10)
    run.expect_match("decoder_block", 6, 2, 10, normal(115, 3, 1, 6), normal(116, 3, 7, 6), keep_mask(src),
                     torch.ones(1, 1, dtype=torch.bool), 15, **TIGHT, what="DecoderBlock, one target position")
    tgt = token_ids(117, [4], width=4, vocab=10, first=BOS)
    run.expect_match("decoder_block", 4, 1, 5, normal(118, 1, 4, 4), normal(119, 1, 3, 4), None,
                     keep_mask(tgt, causal=True), 16, **TIGHT, what="DecoderBlock, one head, no source mask")


@test(points=2, visibility="hidden")
def translator_hidden_cases(run: Run):
    """Translator logits for 1 and 3 layers, batch 1, padded targets, 3 heads"""
    one = dict(TRANSLATOR, num_layers=1)
    run.expect_match("translator_logits", one, token_ids(120, [4], width=4, vocab=13),
                     token_ids(121, [6], width=6, vocab=9, first=BOS), 17, **TIGHT, what="1 layer, batch 1")
    three = dict(src_vocab=10, tgt_vocab=14, d_model=12, num_heads=3, d_ff=20, num_layers=3)
    run.expect_match("translator_logits", three, token_ids(122, [5, 1, 3, 5], width=5, vocab=10),
                     token_ids(123, [7, 3, 5, 2], width=7, vocab=14, first=BOS), 18, **TIGHT,
                     what="3 layers, 3 heads, padded sources and targets")


@test(points=1, visibility="hidden")
def greedy_hidden_cases(run: Run):
    """greedy_translate on another model, on one sentence, when every sentence ends at once or never"""
    config = dict(src_vocab=13, tgt_vocab=12, d_model=16, num_heads=2, d_ff=32, num_layers=1)
    src = torch.randint(3, 13, (6, 5), generator=torch.Generator().manual_seed(6))
    src[1, 3:], src[2, 1:] = PAD, PAD
    run.expect_match("greedy", config, src, 7, 0.0, 6, what="mixed lengths")
    run.expect_match("greedy", config, src[:1], 4, 0.0, 6, what="one sentence")
    run.expect_match("greedy", config, src, 5, 50.0, 6, what="every sentence ends at once")
    run.expect_match("greedy", config, src, 6, -50.0, 6, what="no sentence ends")


@test(points=1, visibility="hidden")
def vit_hidden_cases(run: Run):
    """ViT on one 8x8 grey image with 4 patches, and on a batch with 4 heads and 3 layers"""
    digits = dict(image_size=8, in_channels=1, num_classes=10, patch_size=4, d_model=8, num_heads=2, d_ff=16,
                  num_layers=1)
    run.expect_match("vit_logits", digits, normal(124, 1, 1, 8, 8), 19, **TIGHT, what="one grey 8x8 image")
    deep = dict(VIT, d_model=12, num_heads=4, num_layers=3)
    run.expect_match("vit_logits", deep, normal(125, 3, 3, 6, 6), 20, **TIGHT, what="4 heads, 3 layers")


@test(points=1, visibility="hidden")
def greedy_decodes_the_batch_at_once(run: Run):
    """greedy_translate decodes the whole batch at each step (no Python loop over sentences)"""
    run.expect_vectorised("greedy_lines", dict(TRANSLATOR, num_layers=1), n=(4, 16), size="size", src_len=5,
                          max_len=6, seed=0, what="greedy_translate", mistake="greedy_one_sentence_at_a_time")


@test(points=4, visibility="hidden", slow=True)
def translation_test_exact_match(run: Run):
    """the trained translator's greedy translations of held-out numbers: exact match and token accuracy"""
    predicted, labels = translations(run, split="test")
    exact = run.metric("test exact match", exact_match(predicted, labels), "translation_test_exact")
    tokens = run.metric("test token accuracy", token_accuracy(predicted, labels), "translation_test_tokens")
    return (exact + tokens) / 2


@test(points=3, visibility="hidden", slow=True)
def vit_test_accuracy(run: Run):
    """the trained ViT reaches the test-accuracy threshold on held-out digits"""
    predicted, labels = digit_predictions(run, split="test")
    return run.score_predictions(predicted, labels=labels, metric=accuracy, label="test accuracy",
                                 threshold="vit_test_accuracy", what="ViT predictions")
