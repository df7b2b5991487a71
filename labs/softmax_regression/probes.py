"""Probes: run inside the sandbox with the submission's code, take plain data, return plain data."""
import numpy as np
import torch

from softmax_regression import SoftmaxRegression, fit, predict, softmax


def softmax_rows(X: torch.Tensor) -> torch.Tensor:
    """softmax(X) on logits X chosen by the grader."""
    return softmax(X).detach()


def _model(W: torch.Tensor, b: torch.Tensor, lr: float) -> SoftmaxRegression:
    """A model of W's dtype whose linear layer holds the given weight W (q, d) and bias b (q,)."""
    model = SoftmaxRegression(W.shape[1], W.shape[0], lr=lr).to(W.dtype)
    with torch.no_grad():
        model.linear.weight.copy_(W)
        model.linear.bias.copy_(b)
    return model


def forward_probs(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """The model's forward pass on fixed weights."""
    return _model(W, b, lr=0.1)(X).detach()


def manual_steps(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float,
                 steps: int = 1) -> dict:
    """``steps`` updates by manual_backward on the batch (X, y), starting from fixed weights."""
    model = _model(W, b, lr)
    for _ in range(steps):
        y_hat = model(X)  # as a trainer does it: the forward pass, then the model's own update
        model.manual_backward(X, y, y_hat)
    return {"weight": model.linear.weight.detach().clone(), "bias": model.linear.bias.detach().clone()}


def train_and_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int) -> dict:
    """Train with the module's hyperparameters and fit(), then predict labels for test_x (no labels here).
    Also returns the training loss of each epoch (what fit() returns), which your report plots."""
    torch.manual_seed(seed)
    X, y = torch.from_numpy(train_x), torch.from_numpy(train_y)
    model = SoftmaxRegression(X.shape[1], int(y.max()) + 1)
    losses = fit(model, X, y, seed=seed)
    return {"predictions": predict(model, torch.from_numpy(test_x)), "loss": _numbers(losses)}


def _numbers(values) -> list:
    """``values`` as a list of floats, or [] if it is not a sequence of numbers (the plot is then left out)."""
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return []
