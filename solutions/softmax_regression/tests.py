"""Hidden tests of softmax_regression: never shipped to students."""
import numpy as np
import torch

from autograder.testing import Run, accuracy, test


def problem(seed: int, n: int, d: int, q: int, dtype: type = np.float64) -> tuple[torch.Tensor, ...]:
    """Fixed weights W (q, d), bias b (q,), inputs X (n, d) and labels y (n,)."""
    rng = np.random.default_rng(seed)
    W, b, X = rng.normal(size=(q, d)) * 0.5, rng.normal(size=q) * 0.5, rng.normal(size=(n, d))
    return (*(torch.from_numpy(a.astype(dtype)) for a in (W, b, X)), torch.from_numpy(rng.integers(0, q, size=n)))


@test(points=2, visibility="hidden")
def softmax_shapes_and_dtypes(run: Run):
    """softmax equals the reference on other shapes (one row, one class, float32) and mixed scales"""
    rng = np.random.default_rng(100)
    for shape in [(1, 7), (9, 1), (13, 10), (3, 2)]:
        X = torch.from_numpy(rng.normal(size=shape) * 5.0)
        run.expect_match("softmax_rows", X, what=f"softmax(X) on logits {shape}", rtol=1e-6, atol=1e-12)
    X = torch.from_numpy((rng.normal(size=(6, 8)) * np.array([[1.0], [10.0], [100.0], [1e3], [1e4], [3e4]])).astype(np.float32))
    X[0, 0] = -torch.inf
    run.expect_match("softmax_rows", X, what="softmax(X) on float32 logits of mixed scales", rtol=1e-4, atol=1e-6)


@test(points=2, visibility="hidden")
def manual_update_other_shapes(run: Run):
    """manual_backward equals the reference on other batch sizes, shapes, step sizes and float32"""
    W, b, X, y = problem(200, 37, 9, 6)
    run.expect_match("manual_steps", W, b, X, y, 0.3, what="one step (37, 9 -> 6)", rtol=1e-7, atol=1e-12)
    W, b, X, y = problem(201, 50, 10, 10)
    run.expect_match("manual_steps", W, b, X, y, 0.05, what="one step (50, 10 -> 10)", rtol=1e-7, atol=1e-12)
    W, b, X, y = problem(202, 32, 64, 10, dtype=np.float32)
    run.expect_match("manual_steps", W, b, X, y, 1.0, what="one float32 step (32, 64 -> 10)", rtol=1e-4, atol=1e-6)


@test(points=1, visibility="hidden")
def manual_update_several_steps(run: Run):
    """three manual_backward steps in a row, each from the model's new probabilities"""
    W, b, X, y = problem(300, 20, 6, 6)
    run.expect_match("manual_steps", W, b, X, y, 0.5, steps=3, what="weight and bias after three steps",
                     rtol=1e-7, atol=1e-12)


@test(points=3, visibility="hidden", slow=True)
def digits_test_accuracy(run: Run):
    """the trained classifier reaches the test-accuracy threshold on held-out digits"""
    data = run.dataset("digits", seed=0)
    trained = run.student("train_and_predict", data.train_x, data.train_y, data.test_x, 0)
    return run.score_predictions(trained["predictions"], labels=data.test_y, metric=accuracy,
                                 label="test accuracy", threshold="test_accuracy", what="train_and_predict")
