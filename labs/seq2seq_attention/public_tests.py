"""Public tests of the seq2seq_attention lab (run them with `autograder check seq2seq_attention`)."""
import numpy as np

from autograder.testing import Fail, Run, test

RTOL, ATOL = 1e-4, 1e-5  # float32, and room for another order of the same sums (bmm, einsum, a softmax by hand)


def model_params(seed: int, vocab_size: int, embedding_size: int, hidden_size: int, scale: float = 0.6) -> dict:
    """Weights of a whole Seq2Seq (float32), named as in its state_dict."""
    rng = np.random.default_rng(seed)
    H, E, V = hidden_size, embedding_size, vocab_size
    shapes = {
        "enc_embedding.weight": (V, E), "dec_embedding.weight": (V, E),
        "encoder.weight_ih_l0": (3 * H, E), "encoder.weight_hh_l0": (3 * H, H),
        "encoder.bias_ih_l0": (3 * H,), "encoder.bias_hh_l0": (3 * H,),
        "decoder.weight_ih": (3 * H, H + E), "decoder.weight_hh": (3 * H, H),
        "decoder.bias_ih": (3 * H,), "decoder.bias_hh": (3 * H,),
        "mlp1.0.weight": (H, H), "mlp1.0.bias": (H,),
        "mlp2.0.weight": (H, H), "mlp2.0.bias": (H,), "mlp2.2.weight": (V, H), "mlp2.2.bias": (V,),
    }
    return {name: (rng.normal(size=shape) * scale).astype(np.float32) for name, shape in shapes.items()}


def tokens(seed: int, vocab_size: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab_size, size=shape)


def encoder_outputs(seed: int, *shape: int, scale: float = 1.5) -> np.ndarray:
    """Encoder outputs (B, S, H) that differ enough between positions for the attention to matter."""
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32)


@test(points=2)
def decode_first_step(run: Run):
    """decode's first step (initial state from mlp1 and the mean, attention, one decoder step) equals the reference"""
    params = model_params(3, vocab_size=7, embedding_size=6, hidden_size=6)
    run.expect_match("decode", params, tokens(4, 7, 3, 1), encoder_outputs(5, 3, 5, 6), None, True, rtol=RTOL, atol=ATOL,
                     what="decode(dec_y (3, 1), enc_hidden (3, 5, 6), None, is_first_step=True)")


@test(points=2)
def decode_sequence(run: Run):
    """decode over four tokens from the first step (teacher forcing) equals the reference, step by step"""
    params = model_params(6, vocab_size=8, embedding_size=5, hidden_size=5)
    run.expect_match("decode", params, tokens(7, 8, 2, 4), encoder_outputs(8, 2, 6, 5), None, True, rtol=RTOL, atol=ATOL,
                     what="decode(dec_y (2, 4), enc_hidden (2, 6, 5), None, is_first_step=True)")


@test(points=2)
def decode_continues_from_state(run: Run):
    """decode with is_first_step=False continues from the given state (attention and steps as the reference)"""
    params = model_params(9, vocab_size=6, embedding_size=4, hidden_size=4)
    run.expect_match("decode", params, tokens(10, 6, 3, 3), encoder_outputs(11, 3, 4, 4), encoder_outputs(12, 3, 4),
                     False, rtol=RTOL, atol=ATOL,
                     what="decode(dec_y (3, 3), enc_hidden (3, 4, 4), a given state, is_first_step=False)")


@test(points=1)
def forward_matches(run: Run):
    """model(src, dec_y) encodes, then decodes from the first step, as the reference"""
    params = model_params(13, vocab_size=9, embedding_size=6, hidden_size=6)
    run.expect_match("forward", params, tokens(14, 9, 2, 5), tokens(15, 9, 2, 5), rtol=RTOL, atol=ATOL,
                     what="model(src (2, 5), dec_y (2, 5))")


def exact_sequences(predicted: np.ndarray, targets: np.ndarray) -> float:
    """The fraction of sequences decoded exactly (every token right)."""
    return float((predicted == targets).all(axis=1).mean())


def mirror_attention(attention: np.ndarray) -> float:
    """The fraction of decoding steps whose largest attention weight is on the mirror position: step t of
    a reversal reads source position S - 1 - t."""
    steps, positions = attention.shape[1:]
    return float((attention.argmax(axis=2) == np.arange(positions)[::-1][:steps]).mean())


def trained(run: Run) -> tuple:
    """One training run shared by every test that needs it: the data, and the greedy decoding (tokens and
    attention) of the validation and test sources."""
    data = run.dataset("reversal", seed=0)
    result = run.student("train_and_decode", data.train_x, data.train_y, data.info["vocab_size"],
                         {"val": data.val_x, "test": data.test_x}, seed=0, cache=True)
    return data, result


def checked_attention(result: dict, sources: np.ndarray) -> np.ndarray:
    attention = np.asarray(result["attention"], dtype=np.float64)
    shape = (len(sources), sources.shape[1], sources.shape[1])
    if attention.shape != shape:
        raise Fail(f"decode's attention weights over greedy decoding: expected shape {shape} (sequences, decoding "
                   f"steps, source positions), got {attention.shape}")
    return attention


@test(points=2, slow=True)
def reversal_val_accuracy(run: Run):
    """the trained model reverses validation sequences exactly (greedy decoding) above the threshold"""
    data, result = trained(run)
    return run.score_predictions(result["val"]["tokens"], labels=data.val_y, metric=exact_sequences,
                                 label="validation exact-sequence accuracy", threshold="val_exact",
                                 what="the greedy decoding of the validation sources")


@test(points=1, slow=True)
def attention_on_mirror_position(run: Run):
    """the trained model's attention at output step t peaks on source position S - 1 - t (the mirror)"""
    data, result = trained(run)
    attention = checked_attention(result["val"], data.val_x)
    return run.metric("steps attending most to the mirror position", mirror_attention(attention), "mirror_attention")
