"""Probes: they run your LinearRegression on inputs the grader sends and return plain data.

Each probe builds a fresh model, so w and b start at zero.
"""
import random

import numpy as np
import torch

from linear_regression import LinearRegression


def _seed(seed: int) -> None:
    """Seed every RNG a submission might draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _params(model: LinearRegression) -> dict:
    return {"w": float(model.w), "b": float(model.b)}


def predict(w: float, b: float, x: np.ndarray) -> torch.Tensor:
    """predict(x) of a model whose w and b are set by hand."""
    x = torch.as_tensor(x)
    model = LinearRegression()
    model.w, model.b = torch.tensor(w, dtype=x.dtype), torch.tensor(b, dtype=x.dtype)
    return torch.as_tensor(model.predict(x)).detach()


def lse_fit(x: np.ndarray, y: np.ndarray) -> dict:
    """w and b after fit_lse(x, y)."""
    model = LinearRegression()
    model.fit_lse(torch.as_tensor(x), torch.as_tensor(y))
    return _params(model)


def lse_predict(x: np.ndarray, y: np.ndarray, x_new: np.ndarray) -> torch.Tensor:
    """Predictions at x_new after fit_lse(x, y)."""
    model = LinearRegression()
    model.fit_lse(torch.as_tensor(x), torch.as_tensor(y))
    return torch.as_tensor(model.predict(torch.as_tensor(x_new))).detach()


def sgd_fit(x: np.ndarray, y: np.ndarray, lr: float, epochs: int, batch_size: int, seed: int) -> dict:
    """w and b after fit_sgd, with every RNG seeded from ``seed``."""
    _seed(seed)
    model = LinearRegression()
    model.fit_sgd(torch.as_tensor(x), torch.as_tensor(y), lr, epochs, batch_size)
    return _params(model)


def sgd_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, lr: float, epochs: int,
                batch_size: int, seed: int) -> torch.Tensor:
    """Train with fit_sgd, then predict the test inputs (their labels stay with the grader)."""
    _seed(seed)
    model = LinearRegression()
    model.fit_sgd(torch.as_tensor(train_x), torch.as_tensor(train_y), lr, epochs, batch_size)
    return torch.as_tensor(model.predict(torch.as_tensor(test_x))).detach()
