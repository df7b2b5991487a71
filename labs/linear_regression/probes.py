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


def sgd_continue(w: float, b: float, x: np.ndarray, y: np.ndarray, lr: float, epochs: int, batch_size: int,
                 seed: int) -> dict:
    """w and b after fit_sgd on a model that already has w and b set (fit_sgd continues from them)."""
    _seed(seed)
    model = LinearRegression()
    model.w, model.b = torch.tensor(w, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    model.fit_sgd(torch.as_tensor(x), torch.as_tensor(y), lr, epochs, batch_size)
    return _params(model)


# Ops that pick or rearrange samples without computing on them: their results still stand for sample ids.
_SELECTING = {"__getitem__", "index_select", "take", "gather", "masked_select", "narrow", "split", "chunk",
              "unbind", "tensor_split", "clone", "detach", "contiguous", "to", "float", "double", "view", "reshape",
              "flatten", "squeeze", "unsqueeze", "stack", "cat", "concat", "__iter__", "__len__", "size", "dim",
              "numel", "dtype", "shape", "device", "requires_grad", "is_floating_point", "type", "__format__",
              "__repr__", "data", "grad", "ndim", "__bool__", "__index__", "__int__", "__float__", "item", "tolist"}


class _SampleIds(torch.Tensor):
    """x whose values are sample ids: every computation on ids records which samples it used, in order."""

    used: list = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in _SELECTING:
            return super().__torch_function__(func, types, args, kwargs or {})
        for value in list(args) + list((kwargs or {}).values()):
            for item in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(item, _SampleIds):
                    cls.used.append(item.as_subclass(torch.Tensor).reshape(-1).tolist())
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))


def sgd_visits(n: int, lr: float, epochs: int, batch_size: int, seed: int) -> list:
    """The samples fit_sgd computes on, in order: x holds the sample ids 0..n-1 themselves (y = 2x + 1),
    so each batch's values say which samples it used. Returns one list of ids per computation."""
    _seed(seed)
    _SampleIds.used = []
    x = torch.arange(n, dtype=torch.float64).as_subclass(_SampleIds)
    model = LinearRegression()
    model.fit_sgd(x, 2.0 * torch.arange(n, dtype=torch.float64) + 1.0, lr, epochs, batch_size)
    return [[int(v) for v in used] for used in _SampleIds.used]
