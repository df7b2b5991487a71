"""Weight initialisers. Each takes a shape (n_in, n_out) and draws from NumPy's global generator,
so ``np.random.seed(s)`` before building a network makes its initial weights reproducible."""
from typing import Callable

import numpy as np


def xavier_uniform(shape: tuple[int, int]) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (n_in + n_out)), keeping the variance of the
    activations (forward) and of the gradients (backward) about the same from layer to layer."""
    n_in, n_out = shape
    a = np.sqrt(6.0 / (n_in + n_out))
    return np.random.uniform(-a, a, size=shape)


def zeros(shape: tuple[int, int]) -> np.ndarray:
    """All zeros: fine for biases, bad for weights (every unit of a layer would learn the same thing)."""
    return np.zeros(shape)


def initialize_weights(name: str) -> Callable[[tuple[int, int]], np.ndarray]:
    """The initialiser called ``name``."""
    initialisers = {"xavier_uniform": xavier_uniform, "zeros": zeros}
    if name not in initialisers:
        raise ValueError(f"unknown weight initialiser {name!r}; choose from {sorted(initialisers)}")
    return initialisers[name]
