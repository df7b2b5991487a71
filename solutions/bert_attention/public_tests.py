"""Public tests of bert_attention (run them with `autograder check bert_attention`).

The layer is compared with the reference on fixed weights in float64; the grader's own simulations below
recognise the known mistakes by what they do to the output, however they are written."""
import math

import numpy as np
import torch

from autograder.testing import Fail, Run, accuracy, signature, test

TOL = dict(rtol=1e-7, atol=1e-9)
MASKED = -10000.0
# the small BERT trained on marked_pairs, and its budget (one training: about 6 s on one core)
FINE_TUNE = dict(config=dict(hidden_size=32, num_attention_heads=4, num_hidden_layers=2, intermediate_size=64,
                             vocab_size=12, max_position_embeddings=12),
                 epochs=10, batch_size=64, lr=2e-3, seed=0)


def config(hidden_size: int, heads: int, dropout: float = 0.1) -> dict:
    return dict(hidden_size=hidden_size, num_attention_heads=heads, attention_probs_dropout_prob=dropout)


def weights(seed: int, hidden_size: int) -> dict:
    """float64 query/key/value weights (large enough for peaked attention) and biases."""
    rng = np.random.default_rng(seed)
    values = {}
    for name in ("query", "key", "value"):
        values[f"{name}.weight"] = torch.from_numpy(rng.normal(size=(hidden_size, hidden_size)) * 1.5)
        values[f"{name}.weight"] /= math.sqrt(hidden_size)
        values[f"{name}.bias"] = torch.from_numpy(rng.normal(size=hidden_size) * 0.2)
    return values


def hidden_states(seed: int, B: int, S: int, hidden_size: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(B, S, hidden_size)))


def additive_mask(keep: list[str]) -> torch.Tensor:
    """One string per sequence, "1" for a token and "0" for padding -> the additive (B, S) mask."""
    return torch.tensor([[0.0 if c == "1" else MASKED for c in row] for row in keep], dtype=torch.float64)


def problem(seed: int, hidden_size: int, heads: int, keep: list[str], dropout: float = 0.1) -> tuple:
    """(config, weights, hidden_states, mask) of one test case."""
    return (config(hidden_size, heads, dropout), weights(seed, hidden_size),
            hidden_states(seed + 1, len(keep), len(keep[0]), hidden_size), additive_mask(keep))


def sizes(cfg: dict) -> dict:
    heads = cfg["num_attention_heads"]
    return {"the head size": cfg["hidden_size"] // heads, "hidden_size": cfg["hidden_size"],
            "the number of heads": heads}


# ---- the grader's simulation of the layer and of its known mistakes ----------------------------------

def simulate(cfg: dict, w: dict, H: torch.Tensor, mask: torch.Tensor, seed: int | None = None,
             scale: str = "head_size", mask_axis: str = "keys", softmax_dim: int = -1, merge: str = "permute",
             dropout_on: str = "probs") -> torch.Tensor:
    """The layer, or one of its known mistakes: ``scale`` (head_size | none | hidden_size | head_size_not_sqrt),
    ``mask_axis`` (keys | queries | none), ``softmax_dim``, ``merge`` (permute | reshape | transpose_last |
    wrong_permute), ``dropout_on`` (probs | context | merged). With ``seed``: train mode, the dropout masks
    drawn as torch's dropout draws them after torch.manual_seed(seed)."""
    B, S, hidden = H.shape
    n = cfg["num_attention_heads"]
    d = hidden // n
    p = cfg["attention_probs_dropout_prob"]
    generator = None if seed is None else torch.Generator().manual_seed(seed)  # the stream manual_seed starts

    def dropout(x: torch.Tensor) -> torch.Tensor:
        return x if seed is None else x * torch.empty_like(x).bernoulli_(1 - p, generator=generator).div_(1 - p)

    def heads(name: str) -> torch.Tensor:
        return (H @ w[f"{name}.weight"].T + w[f"{name}.bias"]).view(B, S, n, d).permute(0, 2, 1, 3)

    q, k, v = heads("query"), heads("key"), heads("value")
    divide = {"head_size": math.sqrt(d), "none": 1.0, "hidden_size": math.sqrt(hidden), "head_size_not_sqrt": d}[scale]
    scores = q @ k.transpose(-1, -2) / divide
    if mask_axis == "keys":
        scores = scores + mask[:, None, None, :]
    elif mask_axis == "queries":
        scores = scores + mask[:, None, :, None]
    probs = torch.softmax(scores, dim=softmax_dim)
    context = (dropout(probs) if dropout_on == "probs" else probs) @ v
    if dropout_on == "context":
        context = dropout(context)
    merged = {"permute": lambda: context.permute(0, 2, 1, 3), "reshape": lambda: context,
              "transpose_last": lambda: context.transpose(-1, -2),
              "wrong_permute": lambda: context.permute(0, 2, 3, 1)}[merge]().reshape(B, S, hidden)
    return dropout(merged) if dropout_on == "merged" else merged


def simulated_like(got, call, **mistake) -> bool:
    """The student's output equals the simulation of this mistake (on the same inputs, the same seed)."""
    simulated = simulate(*call.args, **mistake)
    got = torch.as_tensor(got)
    return got.shape == simulated.shape and torch.allclose(got, simulated, rtol=1e-6, atol=1e-8)


@signature("scale_wrong")
def _scores_scaled_by_something_else(got, want, call):
    return any(simulated_like(got, call, scale=s) for s in ("none", "hidden_size", "head_size_not_sqrt"))


@signature("mask_wrong_axis")
def _padding_not_removed_from_the_keys(got, want, call):
    return any(simulated_like(got, call, mask_axis=axis) for axis in ("queries", "none"))


@signature("softmax_wrong_dim")
def _softmax_over_another_axis(got, want, call):
    return any(simulated_like(got, call, softmax_dim=dim) for dim in (-2, 1, 0))


@signature("heads_not_permuted")
def _heads_merged_without_moving_the_head_axis_back(got, want, call):
    return any(simulated_like(got, call, merge=merge) for merge in ("reshape", "transpose_last", "wrong_permute"))


@signature("dropout_on_context", probe="attention_train")
def _dropout_on_the_context(got, want, call):
    return any(simulated_like(got, call, dropout_on=where) for where in ("context", "merged"))


# ---- eval mode -----------------------------------------------------------------------------------------

def expect_eval(run: Run, seed: int, hidden_size: int, heads: int, keep: list[str]) -> None:
    cfg, w, H, mask = problem(seed, hidden_size, heads, keep)
    what = (f"forward in eval mode (hidden_size={hidden_size}, {heads} heads, batch {len(keep)}, "
            f"{len(keep[0])} tokens, padding {' '.join(keep)})")
    run.expect_match("attention_eval", cfg, w, H, mask, what=what, sizes=sizes(cfg), **TOL)


@test(points=2)
def eval_matches_reference(run: Run):
    """forward (eval mode) equals the reference: 3 heads, padding at the end of one sequence"""
    expect_eval(run, 0, 12, 3, ["11111", "11100"])


def check_padding(run: Run, seed: int, hidden_size: int, heads: int, keep: list[str]) -> None:
    """The output at every real token must not change when the hidden states at padded positions change."""
    cfg, w, H, mask = problem(seed, hidden_size, heads, keep)
    padded = mask == MASKED
    changed = H.clone()
    noise = np.random.default_rng(seed + 7).normal(size=(int(padded.sum()), hidden_size)) * 3
    changed[padded] = torch.from_numpy(noise)
    outputs = run.student("padding_outputs", cfg, w, [H, changed], mask)
    if type(outputs) is not list or len(outputs) != 2 or any(tuple(o.shape) != tuple(H.shape) for o in outputs):
        raise Fail(f"forward should return a tensor of shape {tuple(H.shape)}")
    real = ~padded
    if torch.allclose(outputs[0][real], outputs[1][real], rtol=1e-9, atol=1e-12):
        return
    moved = ~torch.isclose(outputs[0], outputs[1], rtol=1e-9, atol=1e-12).all(dim=-1) & real
    b, s = [int(i) for i in torch.nonzero(moved)[0]]
    message = (f"the output at token {s} of sequence {b} (a real token) changes when only the padded positions of "
               "its sequence change: padding must have no influence on real tokens (padded keys get no weight)")
    try:  # what the eval-mode output shows names the mistake
        run.expect_match("attention_eval", cfg, w, H, mask, what="forward in eval mode", sizes=sizes(cfg), **TOL)
    except Fail as failure:
        raise Fail(message, fallback=message,
                   candidates=[(mistake, f"{message}. {text}") for mistake, text in failure.candidates]) from None
    raise Fail(message)


@test(points=1)
def padded_positions_get_no_weight(run: Run):
    """padded positions receive no weight: real tokens ignore the padding (at the end, the start, the middle)"""
    check_padding(run, 2, 12, 3, ["111100", "001111", "110011"])


# ---- dropout -------------------------------------------------------------------------------------------

def expect_train(run: Run, seed: int, hidden_size: int, heads: int, keep: list[str], dropout: float) -> None:
    cfg, w, H, mask = problem(seed, hidden_size, heads, keep, dropout)
    run.expect_match("attention_train", cfg, w, H, mask, seed, sizes=sizes(cfg), **TOL,
                     what=f"forward in train mode (dropout {dropout}, torch.manual_seed({seed}) just before)")


@test(points=1)
def dropout_seeded_train_mode(run: Run):
    """train mode, torch's generator seeded: the output equals the reference's (self.dropout on the probabilities)"""
    expect_train(run, 3, 12, 3, ["11111", "11100"], dropout=0.2)


@test(points=1)
def dropout_statistics(run: Run):
    """dropout acts on whole attention probabilities: each head's output is kept (scaled by 1/(1-p)) or dropped whole"""
    p, heads, d, B = 0.3, 2, 4, 400
    cfg, w, H, mask = problem(4, heads * d, heads, ["1"] * B, dropout=p)  # one token: its probability is 1
    samples = run.student("dropout_samples", cfg, w, H, mask, 5)
    if type(samples) is not dict or set(samples) != {"train", "eval"} or \
            any(tuple(samples[k].shape) != (B, 1, heads * d) for k in samples):
        raise Fail(f"forward should return a tensor of shape {(B, 1, heads * d)}")
    train, full = samples["train"][:, 0], samples["eval"][:, 0]  # (B, hidden): one token per sequence
    kept = 1.0 / (1.0 - p)
    # with one token its probability is 1, so in train mode each head's output is its value vector, either
    # dropped (0) or kept and scaled by 1/(1-p): every entry is one or the other, a head's entries together
    dropped = train.abs() <= 1e-9 * full.abs()
    if not bool((dropped | torch.isclose(train, kept * full, rtol=1e-6, atol=1e-9)).all()):
        if torch.allclose(train, full, rtol=1e-6, atol=1e-9):
            raise Fail("in train mode nothing is dropped: apply self.dropout to the attention probabilities")
        raise Fail(f"in train mode a kept attention probability must be scaled by 1/(1-p) = {kept:.4g} and a dropped "
                   "one be 0; your output is scaled otherwise")
    # entries of one head are dropped together in every sequence: group the output's columns by when they drop
    groups: dict[tuple, int] = {}
    for column in dropped.T:
        pattern = tuple(column.tolist())
        groups[pattern] = groups.get(pattern, 0) + 1
    if sorted(groups.values()) != [d] * heads:
        raise Fail("in train mode single entries of the output are dropped, not a whole head's value vector at once: "
                   "dropout acts on the context, not on the attention probabilities", mistake="dropout_on_context")
    share = float(dropped.double().mean())
    if abs(share - p) > 0.07:  # 800 draws: 0.07 is more than 4 standard deviations
        raise Fail(f"{share:.0%} of the attention probabilities were dropped in train mode, not about "
                   f"attention_probs_dropout_prob = {p:.0%}")


# ---- construction --------------------------------------------------------------------------------------

def check_construction(run: Run, hidden_size: int, heads: int) -> None:
    got = run.student("construction", config(hidden_size, heads))
    divisible = hidden_size % heads == 0
    if divisible and got != "built":
        raise Fail(f"building the layer with hidden_size={hidden_size} and {heads} heads raised {got}")
    if not divisible and got != "ValueError":
        what = "built the layer" if got == "built" else f"raised {got}"
        raise Fail(f"hidden_size={hidden_size} is not a multiple of {heads} heads: the constructor must raise "
                   f"ValueError, yours {what}", mistake="no_value_error")


@test(points=1)
def value_error_when_heads_do_not_divide(run: Run):
    """the constructor raises ValueError when hidden_size is not a multiple of num_attention_heads"""
    for hidden_size, heads in ((10, 3), (12, 5), (12, 4)):
        check_construction(run, hidden_size, heads)


# ---- fine-tuning ---------------------------------------------------------------------------------------

def fine_tuned(run: Run) -> tuple:
    """One training for the validation and the test split (the hidden test reuses it): data, predictions."""
    data = run.dataset("marked_pairs", seed=0)
    predictions = run.student("fine_tune_and_predict", data.train_x, data.train_y, [data.val_x, data.test_x],
                              **FINE_TUNE, cache=True)
    if type(predictions) is not list or len(predictions) != 2:
        raise Fail("fine_tune_and_predict should return the predictions of both splits")
    return data, predictions


@test(points=2, slow=True)
def fine_tune_val_accuracy(run: Run):
    """a tiny BERT on your layer fine-tunes on marked_pairs: validation accuracy"""
    data, predictions = fine_tuned(run)
    return run.score_predictions(predictions[0], labels=data.val_y, metric=accuracy, label="validation accuracy",
                                 threshold="marked_pairs_val", fmt=".3f", what="predict")
