"""Public tests of the gru lab (run them with `autograder check gru`)."""
import numpy as np

from autograder.testing import Fail, Run, accuracy, signature, test

GRU_PARAMETERS = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")
RTOL, ATOL = 1e-4, 1e-5  # float32, and room for another order of the same sums (e.g. fused gate matrices)
PREFIX_CHARS, GENERATED_CHARS = 16, 60  # the trained model continues 16 characters of validation text by 60


def gru_params(seed: int, num_inputs: int, num_hiddens: int, scale: float = 0.7) -> dict:
    """The nine GRU parameters, float32, large enough that every gate matters."""
    rng = np.random.default_rng(seed)
    shapes = {"x": (num_inputs, num_hiddens), "h": (num_hiddens, num_hiddens), "b": (num_hiddens,)}
    return {name: (rng.normal(size=shapes[name[0] if name[0] == "b" else name[2]]) * scale).astype(np.float32)
            for name in GRU_PARAMETERS}


def model_params(seed: int, vocab_size: int, embedding_size: int, hidden_size: int, num_outputs: int | None = None,
                 scale: float = 0.7) -> dict:
    """Weights of a whole Sequence_Modeling, named as in its state_dict."""
    rng = np.random.default_rng(seed + 1000)
    num_outputs = num_outputs or vocab_size
    params = {f"gru_layer.{name}": value for name, value in gru_params(seed, embedding_size, hidden_size, scale).items()}
    params["emb_layer.weight"] = rng.normal(size=(vocab_size, embedding_size)).astype(np.float32)
    params["linear.weight"] = (rng.normal(size=(num_outputs, hidden_size)) * 2.0).astype(np.float32)
    params["linear.bias"] = (rng.normal(size=num_outputs) * 0.5).astype(np.float32)
    return params


def sequences(seed: int, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Random float32 inputs or states."""
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32)


def char_ids(seed: int, vocab_size: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab_size, size=shape)


def starting_state(call) -> np.ndarray | None:
    state = call.kwargs.get("state", call.args[2] if len(call.args) > 2 else None)
    return None if state is None else np.asarray(state)


@signature("old_state_appended", probe="gru_forward")
def _outputs_lag_one_step(got, want, call) -> bool:
    """Step t's output is the state before step t: the first is the starting state, the rest are shifted."""
    out, ref = np.asarray(got["outputs"]), np.asarray(want["outputs"])
    start = starting_state(call)
    start = np.zeros_like(ref[:, 0]) if start is None else start
    return out.shape == ref.shape and np.allclose(out[:, 0], start, RTOL, ATOL) and \
        np.allclose(out[:, 1:], ref[:, :-1], RTOL, ATOL) and not np.allclose(out, ref, RTOL, ATOL)


@signature("old_state_appended", probe="model_forward")
def _logits_lag_one_step(got, want, call) -> bool:
    """The logits at position t are the reference's at t - 1: the model reads the state before each step."""
    out, ref = np.asarray(got["logits"]), np.asarray(want["logits"])
    return out.shape == ref.shape and out.shape[1] > 1 and np.allclose(out[:, 1:], ref[:, :-1], RTOL, ATOL) and \
        not np.allclose(out, ref, RTOL, ATOL)


@test(points=2)
def gru_one_step(run: Run):
    """one GRU step from a given state equals the reference (fixed weights)"""
    params = gru_params(1, num_inputs=4, num_hiddens=5)
    run.expect_match("gru_forward", params, sequences(2, 3, 1, 4), state=sequences(3, 3, 5),
                     what="GRU(4, 5) on inputs (3, 1, 4) from a given state: outputs and final state", rtol=RTOL, atol=ATOL)


@test(points=2)
def gru_whole_sequence(run: Run):
    """a whole sequence, from zeros (state=None) and from a given state, equals the reference"""
    params = gru_params(4, num_inputs=3, num_hiddens=6)
    inputs = sequences(5, 2, 7, 3)
    run.expect_match("gru_forward", params, inputs, what="GRU(3, 6) on inputs (2, 7, 3) with state=None",
                     rtol=RTOL, atol=ATOL)
    run.expect_match("gru_forward", params, inputs, state=sequences(6, 2, 6),
                     what="GRU(3, 6) on inputs (2, 7, 3) from a given state", rtol=RTOL, atol=ATOL)


@test(points=1)
def model_forward_matches(run: Run):
    """Sequence_Modeling: embedding, GRU and linear layer give the reference's logits and state"""
    params = model_params(7, vocab_size=9, embedding_size=4, hidden_size=6)
    run.expect_match("model_forward", params, char_ids(8, 9, 3, 5), what="Sequence_Modeling(9, 4, 9, 6) on ids (3, 5)",
                     rtol=RTOL, atol=ATOL)


@test(points=2)
def state_carried_across_calls(run: Run):
    """a sequence fed in pieces, each call starting from the state the last one returned, equals one call"""
    params = model_params(9, vocab_size=7, embedding_size=3, hidden_size=5)
    run.expect_match("model_in_pieces", params, char_ids(10, 7, 2, 9), [4, 6],
                     what="the model on ids (2, 9) fed as pieces of 4, 2 and 3 characters, carrying the state",
                     rtol=RTOL, atol=ATOL)


@signature("state_not_carried", probe="greedy")
def _first_character_only(got, want, call) -> bool:
    """The first new character (read from the prefix's state) is right and a later one is not: the state
    after each new character did not reach the next step."""
    out, ref = np.asarray(got), np.asarray(want)
    return out.shape == ref.shape and out.shape[1] > 1 and (out[:, 0] == ref[:, 0]).all() and (out != ref).any()


@test(points=2)
def greedy_generation(run: Run):
    """greedy generation from a prefix (fixed weights) gives the reference's characters"""
    # a state of 16 with strong recurrent weights: the characters depend on the state carried (measured: a
    # generate that drops or restarts the state differs from the reference for 10 of 10 weight seeds)
    params = model_params(11, vocab_size=8, embedding_size=4, hidden_size=16, scale=1.5)
    run.expect_match("greedy", params, char_ids(12, 8, 4, 3), 20,
                     what="generate(model, prefix (4, 3), 20) with sample=False: the new ids")


def tv_distance(ids: np.ndarray, probabilities: np.ndarray) -> float:
    """Total-variation distance between the frequencies of ``ids`` and a distribution."""
    counts = np.bincount(ids, minlength=len(probabilities)) / len(ids)
    return 0.5 * float(np.abs(counts - probabilities).sum())


def check_ids(ids, shape: tuple, vocab_size: int, what: str) -> np.ndarray:
    """The ids as an int array of the expected shape and range, or a Fail saying what is off."""
    ids = np.asarray(ids)
    if ids.shape != shape:
        raise Fail(f"{what}: expected shape {shape} (one row of new ids per prefix), got {ids.shape}")
    if ids.dtype.kind not in "iu":
        raise Fail(f"{what}: expected integer character ids, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise Fail(f"{what}: ids must lie in 0..{vocab_size - 1} (characters of the vocabulary), got {ids.min()}..{ids.max()}")
    return ids


@test(points=2)
def sampled_generation(run: Run):
    """sampling draws each character from the model's softmax, feeds it back, and follows torch's seed"""
    vocab, n = 6, 4000
    params = model_params(13, vocab_size=vocab, embedding_size=4, hidden_size=6, scale=1.0)
    prefix = np.tile(char_ids(14, vocab, 1, 3), (n, 1))
    what = f"generate(model, prefix ({n}, 3), 2, sample=True)"
    ids = check_ids(run.student("sampled", params, prefix, 2, seed=0), (n, 2), vocab, what)
    if not np.array_equal(ids, run.student("sampled", params, prefix, 2, seed=0)):
        raise Fail(f"{what} twice after torch.manual_seed(0) gave different ids: draw from torch's RNG "
                   "(torch.multinomial) and do not seed it yourself")
    if np.array_equal(ids, run.student("sampled", params, prefix, 2, seed=1)):
        raise Fail(f"{what} gave the same ids after torch.manual_seed(0) and torch.manual_seed(1): draw from torch's RNG")
    # the probabilities of your own model (its forward pass is graded elsewhere): this test grades the sampler
    first = np.asarray(run.student("next_char_probabilities", params, prefix[:1]), dtype=np.float64)[0]
    after = np.asarray(run.student("next_char_probabilities", params,
                                   np.concatenate([np.tile(prefix[:1], (vocab, 1)), np.arange(vocab)[:, None]], axis=1)),
                       dtype=np.float64)
    if (gap := tv_distance(ids[:, 0], first)) > 0.05:
        raise Fail(f"the first sampled characters do not follow the softmax of your model's logits (total-variation "
                   f"distance {gap:.3f} over {n} draws; a correct sampler stays under 0.05): sample from "
                   "softmax(logits) of the last position")
    if (gap := tv_distance(ids[:, 1], first @ after)) > 0.05:
        raise Fail(f"the second sampled characters do not follow your model given the first one (total-variation "
                   f"distance {gap:.3f}): feed each sampled character back, with the state, before drawing the next")


def trained(run: Run) -> tuple:
    """One training run shared by every test that needs it: the data, what the trained model returned, and
    whether it is the default corpus (another one, under --data-dir, has bounds of its own)."""
    data = run.dataset("char_text", seed=0)
    prefix = data.val_x[:1, :PREFIX_CHARS]
    result = run.student("train_and_predict", data.train_x, data.train_y, len(data.info["chars"]),
                         {"val": data.val_x, "test": data.test_x}, prefix, GENERATED_CHARS, seed=0, cache=True)
    return data, result, data.info["source"].startswith("pydoc_data")


@test(points=2, slow=True)
def next_char_accuracy_val(run: Run):
    """the trained model predicts the next character of validation text above the threshold"""
    data, result, default = trained(run)
    return run.score_predictions(result["val"], labels=data.val_y, metric=accuracy,
                                 label="validation next-character accuracy",
                                 threshold="val_accuracy" if default else "val_accuracy_data_dir",
                                 what="the predictions for the validation windows")


@test(points=1, slow=True)
def trained_generation_is_text(run: Run):
    """the trained model continues a prefix, greedily and by sampling, with characters of the vocabulary"""
    data, result, _ = trained(run)
    chars = data.info["chars"]
    for mode in ("greedy", "sampled"):
        ids = check_ids(result[mode], (1, GENERATED_CHARS), len(chars), f"the {mode} continuation")
        run.note(f"{mode}: {''.join(chars[i] for i in data.val_x[0, :PREFIX_CHARS])!r} -> "
                 f"{''.join(chars[i] for i in ids[0])!r}")
