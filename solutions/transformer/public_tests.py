"""Public tests of the transformer lab (run them with `autograder check transformer`)."""
import numpy as np
import torch

from autograder.testing import Fail, Run, accuracy, signature, test

PAD, BOS, EOS = 0, 1, 2
TRANSLATOR = dict(src_vocab=13, tgt_vocab=9, d_model=8, num_heads=2, d_ff=16, num_layers=2)
VIT = dict(image_size=6, in_channels=3, num_classes=5, patch_size=2, d_model=8, num_heads=2, d_ff=16, num_layers=2)
TIGHT = dict(rtol=1e-6, atol=1e-9)  # float64 on both sides: any correct formula agrees to ~1e-12


# ---- inputs -------------------------------------------------------------------------------------------

def normal(seed: int, *shape: int) -> torch.Tensor:
    """Standard normal float64 values."""
    return torch.from_numpy(np.random.default_rng(seed).normal(size=shape))


def token_ids(seed: int, lengths: list[int], width: int, vocab: int, pad_id: int = PAD,
              first: int | None = None) -> torch.Tensor:
    """(len(lengths), width) ids drawn from 3..vocab-1 (never a special id nor pad_id), each row padded
    with pad_id after its length; ``first`` replaces column 0 (e.g. BOS for a decoder input)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, vocab, size=(len(lengths), width))
    ids[ids == pad_id] = 3 if pad_id != 3 else 4
    for row, length in enumerate(lengths):
        ids[row, length:] = pad_id
    if first is not None:
        ids[:, 0] = first
    return torch.from_numpy(ids)


def keep_mask(tokens: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """The grader's own keep-mask for a batch of ids: real keys (B, 1, 1, S), and the past if causal."""
    mask = (tokens != PAD)[:, None, None, :]
    return mask & torch.ones(tokens.shape[1], tokens.shape[1], dtype=torch.bool).tril() if causal else mask


# ---- how known mistakes are recognised, from what the code does ------------------------------------------

def _support(weights) -> np.ndarray:
    """Where attention probabilities are non-zero (NaN counts as zero)."""
    return np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0) > 1e-12


def _degenerate(weights) -> np.ndarray:
    """Rows (over the keys) that a fully masked query produces: NaN, or the same weight everywhere."""
    w = np.asarray(weights, dtype=np.float64)
    return np.isnan(w).any(-1) | np.all(np.isclose(w, w[..., :1], rtol=0, atol=1e-12), axis=-1)


def _uniform_where_allowed(weights, keys: slice = slice(None)) -> bool:
    """Every query spreads its weight evenly over the (non-zero) keys in ``keys``: it cannot tell them apart."""
    w = np.asarray(weights, dtype=np.float64)[..., keys]
    if np.isnan(w).any():
        return False
    top = w.max(-1)
    low = np.where(w > 1e-12, w, np.inf).min(-1)
    return bool(np.all(top - low < 1e-9))


def _temperature(got, want) -> float | None:
    """c when the attention probabilities are softmax(c * the right scores): the log-probabilities of
    each row, centred, are c times the right ones (a missing or wrong 1/sqrt(d_head))."""
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    kept = w > 0
    if g.shape != w.shape or not np.array_equal(kept, g > 0) or np.isnan(g).any():
        return None
    count = kept.sum(-1, keepdims=True)
    lg, lw = (np.where(kept, np.log(np.where(kept, a, 1.0)), 0.0) for a in (g, w))
    lg = np.where(kept, lg - lg.sum(-1, keepdims=True) / count, 0.0)
    lw = np.where(kept, lw - lw.sum(-1, keepdims=True) / count, 0.0)
    norm = float((lw * lw).sum())
    if norm == 0:
        return None
    scale = float((lg * lw).sum()) / norm
    return scale if np.allclose(lg, scale * lw, atol=1e-6) else None


@signature("causal_off_by_one", probe="masks")
def _causal_mask_shifted(got, want, call):
    size, causal = call.args[0], np.asarray(got["causal"])
    return causal.shape == (size, size) and any(np.array_equal(causal.astype(bool), np.tri(size, k=k, dtype=bool))
                                                 for k in (-1, 1))


@signature("padding_wrong_axis", probe="masks")
def _padding_mask_on_queries(got, want, call):
    tokens, pad_id = np.asarray(call.args[1]), call.args[2]
    mask = np.asarray(got["padding"])
    return (tokens.shape[1] > 1 and mask.size == tokens.size and mask.shape[-1] == 1
            and np.array_equal(mask.reshape(tokens.shape).astype(bool), tokens != pad_id))


@signature("attention_not_scaled", probe="attention")
def _softmax_temperature(got, want, call):
    scale = _temperature(got["weights"], want["weights"])
    return scale is not None and abs(scale - 1.0) > 1e-3


@signature("padding_wrong_axis", probe="encoder_attention")
def _encoder_masks_queries(got, want, call):
    real = np.asarray(call.args[1]) != PAD
    if real.all():
        return False
    weights = got["weights"]
    real_rows_see_padding = (_support(weights) & real[:, None, :, None] & ~real[:, None, None, :]).any()
    padded_rows_blocked = _degenerate(weights)[np.broadcast_to(~real[:, None, :], _degenerate(weights).shape)].all()
    return bool(real_rows_see_padding and padded_rows_blocked)


def _repeated(tokens) -> bool:
    tokens = np.asarray(tokens)
    return bool(np.all(tokens == tokens[:, :1]))


@signature("pe_not_before_blocks", probe="encoder_attention")
def _encoder_blind_to_order(got, want, call):
    weights, right = got["weights"], want["weights"]
    return _repeated(call.args[1]) and _uniform_where_allowed(weights) and not _uniform_where_allowed(right)


@signature("pe_not_before_blocks", probe="decoder_attention")
def _decoder_blind_to_order(got, want, call):
    return _repeated(call.args[2]) and _uniform_where_allowed(got) and not _uniform_where_allowed(want)


@signature("pe_not_before_blocks", probe="vit_attention")
def _vit_blind_to_order(got, want, call):
    blank = bool(np.all(np.asarray(call.args[1]) == np.asarray(call.args[1]).flat[0]))
    return blank and _uniform_where_allowed(got, slice(1, None)) and not _uniform_where_allowed(want, slice(1, None))


def _decoder_rows(got, call) -> tuple[np.ndarray, np.ndarray]:
    """The support of the decoder's self-attention, and which (batch, head, query) rows to read: real
    queries that are not fully masked."""
    real = np.asarray(call.args[2]) != PAD
    rows = ~_degenerate(got) & real[:, None, :]
    return _support(got), rows


@signature("causal_off_by_one", probe="decoder_attention")
def _decoder_causal_shifted(got, want, call):
    support, rows = _decoder_rows(got, call)
    real, size = np.asarray(call.args[2]) != PAD, support.shape[-1]
    for k in (-1, 1):
        allowed = np.broadcast_to(np.tri(size, k=k, dtype=bool) & real[:, None, None, :], support.shape)
        if rows.any() and np.array_equal(support[rows], allowed[rows]):
            return True
    return False


@signature("decoder_no_causal_mask", probe="decoder_attention")
def _decoder_sees_far_ahead(got, want, call):
    support, rows = _decoder_rows(got, call)
    far_ahead = np.triu(np.ones(support.shape[-2:], dtype=bool), k=2)
    return bool((support & far_ahead & rows[..., None]).any())


@signature("class_token_not_used", probe="vit_logits")
def _logits_depend_on_the_patches(got, want, call):
    """With no block, the class token's state never meets the patches: every image gets the same logits."""
    got, want = np.asarray(got), np.asarray(want)
    return (call.args[0]["num_layers"] == 0 and np.allclose(want, want[:1])
            and got.shape == want.shape and not np.allclose(got, got[:1]))


# ---- the blocks ---------------------------------------------------------------------------------------

@test(points=2)
def masks_match_reference(run: Run):
    """causal_mask and padding_mask allow the right positions"""
    tokens = token_ids(0, [5, 3, 1, 4], width=5, vocab=10)
    run.expect_match("masks", 5, tokens, PAD, what="causal_mask(5) and padding_mask of (4, 5) ids, pad_id=0")
    tokens = token_ids(1, [2, 6, 4], width=6, vocab=12, pad_id=7)
    run.expect_match("masks", 3, tokens, 7, what="causal_mask(3) and padding_mask of (3, 6) ids, pad_id=7")


@test(points=3)
def attention_matches_reference(run: Run):
    """multi-head attention: output and attention probabilities equal the reference (fixed weights)"""
    tokens = token_ids(2, [5, 3], width=5, vocab=10)
    x = normal(3, 2, 5, 8)
    run.expect_match("attention", 8, 2, x, x, x, keep_mask(tokens, causal=True), 0, **TIGHT,
                     what="self-attention (B=2, T=5, d_model=8, 2 heads) with a padding and a causal mask")
    memory_tokens = token_ids(4, [6, 2], width=6, vocab=10)
    run.expect_match("attention", 8, 2, normal(5, 2, 3, 8), normal(6, 2, 6, 8), normal(7, 2, 6, 8),
                     keep_mask(memory_tokens), 1, **TIGHT,
                     what="cross-attention (3 queries, 6 keys and values, padded keys, 2 heads)")
    x = normal(8, 2, 5, 12)
    run.expect_match("attention", 12, 4, x, x, x, None, 2, **TIGHT,
                     what="self-attention without a mask (d_model=12, 4 heads)")


@test(points=1)
def positional_encoding_matches_reference(run: Run):
    """sinusoidal_encoding and PositionalEncoding equal the reference"""
    run.expect_match("positional", 12, 6, normal(8, 2, 9, 6), what="the (12, 6) table and x + PE for x (2, 9, 6)",
                     rtol=1e-6, atol=1e-6)


@test(points=2)
def encoder_block_matches_reference(run: Run):
    """EncoderBlock (pre-norm) equals the reference on fixed weights"""
    tokens = token_ids(9, [6, 4], width=6, vocab=10)
    run.expect_match("encoder_block", 8, 2, 16, normal(10, 2, 6, 8), keep_mask(tokens), 0, **TIGHT,
                     what="EncoderBlock(8, 2, 16) on (2, 6, 8) with a padding mask")


@test(points=2)
def decoder_block_matches_reference(run: Run):
    """DecoderBlock (pre-norm) equals the reference on fixed weights"""
    src, tgt = token_ids(11, [6, 3], width=6, vocab=10), token_ids(12, [5, 4], width=5, vocab=10, first=BOS)
    run.expect_match("decoder_block", 8, 2, 16, normal(13, 2, 5, 8), normal(14, 2, 6, 8), keep_mask(src),
                     keep_mask(tgt, causal=True), 0, **TIGHT,
                     what="DecoderBlock(8, 2, 16): target (2, 5, 8), memory (2, 6, 8), both masks")


# ---- the masks at work ---------------------------------------------------------------------------------

def look_ahead(run: Run, config: dict, src: torch.Tensor, tgt: torch.Tensor, seed: int) -> None:
    """Change one target token at a time: the logits before it must not move."""
    size = tgt.shape[1]
    rows = tgt.repeat(size, 1)
    for position in range(1, size):
        rows[position, position] = 3 + (int(tgt[0, position]) - 2) % (config["tgt_vocab"] - 3)
    logits = np.asarray(run.student("translator_logits", config, src.repeat(size, 1), rows, seed), dtype=np.float64)
    if logits.shape[:2] != (size, size):
        raise Fail(f"translator logits: expected shape ({size}, {size}, V), got {logits.shape}")
    moved = ~np.isclose(logits, logits[:1], rtol=1e-9, atol=1e-9, equal_nan=True).all(-1)  # (changed position, t)
    leak = next(((t, p) for p in range(1, size) for t in range(p) if moved[p, t]), None)
    if leak:
        raise Fail(f"the logits at target position {leak[0]} change when only the later token {leak[1]} changes, "
                   "although the attention probabilities are right: something else mixes positions (e.g. heads "
                   "merged back without transposing, or a context computed without the masked probabilities)")


@test(points=2)
def decoder_sees_no_future(run: Run):
    """no look-ahead: decoder outputs at t do not change when later target tokens change"""
    run.expect_match("decoder_attention", TRANSLATOR, token_ids(17, [6, 4, 5], width=6, vocab=13),
                     token_ids(18, [5, 3, 4], width=5, vocab=9, first=BOS), 0, **TIGHT,
                     what="the first decoder block's self-attention probabilities (padded targets)")
    look_ahead(run, TRANSLATOR, token_ids(15, [6], width=6, vocab=13), token_ids(16, [6], width=6, vocab=9, first=BOS),
               seed=0)


@test(points=2)
def padding_is_ignored(run: Run):
    """padding is ignored: padded positions get no attention and do not change the real positions' outputs"""
    src = token_ids(19, [6, 3, 4], width=6, vocab=13)
    run.expect_match("encoder_attention", TRANSLATOR, src, 1, **TIGHT,
                     what="Translator.encode on padded sources: memory and first-block attention")
    x, mask = normal(20, 3, 6, 8), keep_mask(src)
    other = x.clone()
    other[~(src != PAD)] = normal(21, int((src == PAD).sum()), 8)
    outputs = [np.asarray(run.student("encoder_block", 8, 2, 16, v, mask, 3)) for v in (x, other)]
    real = (src != PAD).numpy()
    if not np.allclose(outputs[0][real], outputs[1][real], rtol=1e-9, atol=1e-9, equal_nan=True):
        raise Fail("EncoderBlock: the outputs at real positions change when only the padded positions' vectors "
                   "change: padded keys still receive attention")
    tgt = token_ids(22, [5, 5, 5], width=5, vocab=9, first=BOS)
    longer = torch.cat([src, torch.full((3, 4), PAD)], dim=1)
    logits = [np.asarray(run.student("translator_logits", TRANSLATOR, s, tgt, 1)) for s in (src, longer)]
    if logits[0].shape != logits[1].shape or not np.allclose(logits[0], logits[1], rtol=1e-9, atol=1e-9,
                                                                  equal_nan=True):
        raise Fail("Translator: the same sources with 4 more PAD tokens give other logits: the cross-attention "
                   "(or the encoder) attends to padding; pass the source's padding mask to both")


@test(points=2)
def blocks_see_positions(run: Run):
    """positional encoding is added before the blocks: attention tells repeated tokens apart"""
    run.expect_match("encoder_attention", TRANSLATOR, torch.full((2, 5), 6), 2, **TIGHT,
                     what="the first encoder block's attention on a source of one repeated token")
    run.expect_match("decoder_attention", TRANSLATOR, token_ids(23, [5, 5], width=5, vocab=13),
                     torch.full((2, 6), 4), 2, **TIGHT,
                     what="the first decoder block's self-attention on a target of one repeated token")
    run.expect_match("vit_attention", VIT, torch.full((2, 3, 6, 6), 0.5, dtype=torch.float64), 2, **TIGHT,
                     what="the first ViT block's attention on blank images (identical patches)")


# ---- the translator -----------------------------------------------------------------------------------

@test(points=2)
def translator_matches_reference(run: Run):
    """Translator: teacher-forced logits equal the reference on fixed weights (2 layers, padded sources)"""
    src, tgt = token_ids(24, [6, 2, 5], width=6, vocab=13), token_ids(25, [5, 5, 5], width=5, vocab=9, first=BOS)
    run.expect_match("translator_logits", TRANSLATOR, src, tgt, 0, **TIGHT,
                     what="Translator(src (3, 6), tgt (3, 5)) logits")


GREEDY = dict(src_vocab=13, tgt_vocab=9, d_model=8, num_heads=2, d_ff=16, num_layers=1)


def greedy_sources(seed: int) -> torch.Tensor:
    """Six sources of lengths 5, 3, 1, 5, 5, 5."""
    src = torch.randint(3, 13, (6, 5), generator=torch.Generator().manual_seed(seed))
    src[1, 3:] = PAD
    src[2, 1:] = PAD
    return src


@test(points=2)
def greedy_decoding_matches_reference(run: Run):
    """greedy_translate feeds back its argmax, stops at EOS and pads after it (fixed weights)"""
    run.expect_match("greedy", GREEDY, greedy_sources(13), 7, 1.0, 13,
                     what="greedy_translate(model, src (6, 5), max_len=7)")


# ---- the Vision Transformer ---------------------------------------------------------------------------

@test(points=1)
def patchify_matches_reference(run: Run):
    """patchify cuts images into flattened patches in the stated order"""
    images = torch.arange(2 * 3 * 4 * 6, dtype=torch.float64).reshape(2, 3, 4, 6)
    run.expect_match("patches", images, 2, what="patchify of (2, 3, 4, 6) images, patch 2", rtol=0, atol=0)
    run.expect_match("patches", normal(26, 1, 1, 8, 8), 4, what="patchify of one 8x8 image, patch 4", rtol=0, atol=0)


@test(points=2)
def vit_matches_reference(run: Run):
    """ViT: logits equal the reference on fixed weights (3 channels, 9 patches, 2 layers)"""
    run.expect_match("vit_logits", VIT, normal(27, 4, 3, 6, 6), 0, **TIGHT, what="ViT logits for 4 images")


@test(points=1)
def vit_reads_class_token(run: Run):
    """ViT classifies from the class token's final state"""
    run.expect_match("vit_logits", {**VIT, "num_layers": 0}, normal(28, 4, 3, 6, 6), 1, **TIGHT,
                     what="a ViT with no blocks: the class token never meets the patches, so every image must get "
                          "the same logits")


# ---- training -----------------------------------------------------------------------------------------

def sentences(ids: np.ndarray) -> list[tuple[int, ...]]:
    """Each row up to and including its first EOS (the whole row if it has none)."""
    return [tuple(row[:list(row).index(EOS) + 1]) if EOS in row else tuple(row) for row in ids.tolist()]


def exact_match(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of sentences translated exactly (every token, then EOS)."""
    return float(np.mean([p == y for p, y in zip(sentences(predicted), sentences(labels))]))


def token_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of reference tokens (EOS included) predicted at their position."""
    width = labels.shape[1]
    predicted = np.pad(predicted, ((0, 0), (0, max(0, width - predicted.shape[1]))), constant_values=PAD)[:, :width]
    real = labels != PAD
    return float((predicted[real] == labels[real]).mean())


def translations(run: Run, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One training of the translator per grading (shared by the validation and the test check): the
    greedy translations of ``split`` and its reference translations (which stay here)."""
    data = run.dataset("translation", seed=0)
    max_len = data.train_y.shape[1] + 2
    out = run.student("translate", data.train_x, data.train_y, {"val": data.val_x, "test": data.test_x},
                      len(data.info["src_vocab"]), len(data.info["tgt_vocab"]), max_len, seed=0, cache=True)
    labels = getattr(data, f"{split}_y")
    predicted = np.asarray(out[split]) if isinstance(out, dict) and split in out else np.zeros(0)
    if predicted.shape != (len(labels), max_len):
        raise Fail(f"greedy_translate should return ({len(labels)}, max_len={max_len}) ids, "
                   f"got shape {predicted.shape}")
    return predicted, labels


def digit_predictions(run: Run, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One training of the ViT per grading: the predicted classes of ``split`` and its labels."""
    data = run.dataset("digits", seed=0)
    out = run.student("classify_digits", data.train_x, data.train_y, {"val": data.val_x, "test": data.test_x},
                      seed=0, cache=True)
    return np.asarray(out[split] if isinstance(out, dict) and split in out else []), getattr(data, f"{split}_y")


@test(points=3, slow=True)
def translation_val_exact_match(run: Run):
    """the trained translator's greedy translations of the validation numbers are exact"""
    predicted, labels = translations(run, split="val")
    run.note(f"validation token accuracy = {token_accuracy(predicted, labels):.4f}")
    return run.metric("validation exact match", exact_match(predicted, labels), "translation_val_exact")


@test(points=3, slow=True)
def vit_val_accuracy(run: Run):
    """the trained ViT reaches the validation-accuracy threshold on digits"""
    predicted, labels = digit_predictions(run, split="val")
    return run.score_predictions(predicted, labels=labels, metric=accuracy, label="validation accuracy",
                                 threshold="vit_val_accuracy", what="ViT predictions")
