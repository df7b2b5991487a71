"""Labels to one-hot rows, and a minibatcher that reshuffles the data at every pass."""
from typing import Iterator

import numpy as np


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    """Integer labels (m,) -> one-hot rows (m, k) of float64."""
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


class Minibatches:
    """Iterate over (X, Y) in minibatches of ``batch_size`` rows (the last one may be smaller)."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0):
        self.X, self.Y, self.batch_size, self.shuffle = X, Y, batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = self.rng.permutation(len(self.X)) if self.shuffle else np.arange(len(self.X))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            yield self.X[rows], self.Y[rows]
