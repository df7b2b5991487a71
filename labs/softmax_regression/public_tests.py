"""Public tests of softmax_regression: shipped to students, run by `autograder check softmax_regression`."""
import numpy as np
import torch

from autograder.testing import Run, accuracy, test


def logits(seed: int, n: int, q: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    """Normal logits (n, q) in float64, times ``scale`` plus ``shift``."""
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, q)) * scale + shift)


def problem(seed: int, n: int, d: int, q: int) -> tuple[torch.Tensor, ...]:
    """Fixed weights W (q, d), bias b (q,), inputs X (n, d) and labels y (n,), float64."""
    rng = np.random.default_rng(seed)
    W, b, X = rng.normal(size=(q, d)) * 0.5, rng.normal(size=q) * 0.5, rng.normal(size=(n, d))
    return tuple(map(torch.from_numpy, (W, b, X, rng.integers(0, q, size=n))))


@test(points=2)
def softmax_matches_reference(run: Run):
    """softmax equals the reference on ordinary logits"""
    run.expect_match("softmax_rows", logits(0, 8, 5, scale=3.0), what="softmax(X) on logits (8, 5)",
                     rtol=1e-6, atol=1e-12)


@test(points=2)
def softmax_huge_logits(run: Run):
    """softmax does not overflow on huge logits (|logit| around 1e4)"""
    X = torch.cat([logits(1, 3, 6, scale=2.0, shift=1e4),     # near ties, all huge
                   logits(2, 3, 6, scale=2.0, shift=-1e4),    # near ties, all hugely negative
                   logits(3, 3, 6, scale=1e4)])               # one logit dominates
    run.expect_match("softmax_rows", X, what="softmax(X) on logits near +-1e4", rtol=1e-6, atol=1e-12)


@test(points=1)
def softmax_negative_infinity(run: Run):
    """a -inf logit gets probability 0 and the rest of its row still sums to 1"""
    X = logits(4, 4, 5, scale=3.0)
    X[0, 1] = X[1, 0] = X[1, 4] = -torch.inf
    X[2, :4] = -torch.inf  # one finite logit left: probability 1
    X[3, 2], X[3, 3] = -torch.inf, 1e4
    run.expect_match("softmax_rows", X, what="softmax(X) on rows with -inf entries", rtol=1e-6, atol=1e-12)


@test(points=1)
def forward_matches_reference(run: Run):
    """the model's forward pass returns softmax(linear(X))"""
    W, b, X, _ = problem(5, 7, 4, 3)
    run.expect_match("forward_probs", W, b, X, what="model(X)", rtol=1e-6, atol=1e-12)


@test(points=2)
def manual_update_matches_reference(run: Run):
    """one manual_backward step equals one step of gradient descent on the mean cross-entropy"""
    W, b, X, y = problem(6, 16, 5, 3)
    run.expect_match("manual_steps", W, b, X, y, 0.1, what="weight and bias after one step (batch 16, 5 inputs, 3 classes)",
                     rtol=1e-7, atol=1e-12)


@test(points=1)
def manual_update_square(run: Run):
    """one manual_backward step is right when num_inputs == num_outputs (a transposed gradient still runs)"""
    W, b, X, y = problem(7, 12, 4, 4)
    run.expect_match("manual_steps", W, b, X, y, 0.1, what="weight and bias after one step (4 inputs, 4 classes)",
                     rtol=1e-7, atol=1e-12)


@test(points=2, slow=True)
def digits_val_accuracy(run: Run):
    """the trained classifier reaches the validation-accuracy threshold on digits"""
    data = run.dataset("digits", seed=0)
    return run.held_out("train_and_predict", data.train_x, data.train_y, data.val_x, 0, labels=data.val_y,
                        metric=accuracy, label="validation accuracy", threshold="val_accuracy")
