"""Stochastic gradient descent with momentum."""
import numpy as np


class SGD:
    """v <- momentum * v - lr * grad;  param <- param + v   (one velocity per parameter, kept by name)."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.9):
        self.lr = lr
        self.momentum = momentum
        self.velocity: dict[str, np.ndarray] = {}

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The new value of the parameter called ``name`` after one step."""
        v = self.momentum * self.velocity.get(name, 0.0) - self.lr * grad
        self.velocity[name] = v
        return param + v
