"""Synthetic one-variable data: y = w * x + b + noise, generated from a seed (embedded default)."""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset, split


def load(data_dir: Path | None, seed: int = 0, n: int = 2000, w: float = 2.5, b: float = -1.0,
         noise: float = 0.5, held_out_seed: int | None = None) -> Dataset:
    """``noise`` is the standard deviation; its square is the best test MSE any model can reach.
    Training and validation splits come from ``seed``; with ``held_out_seed`` (the grader's secret), the
    test split is drawn afresh from it, so that no public seed reproduces it."""
    x, y = _line(np.random.default_rng(seed), n, w, b, noise)
    data = split(x, y, seed, w=w, b=b, noise=noise)
    if held_out_seed is not None:
        stream = np.random.default_rng([held_out_seed, 1])  # never the public stream, even for a secret equal to seed
        data.test_x, data.test_y = _line(stream, len(data.test_x), w, b, noise)
    return data


def _line(rng: np.random.Generator, n: int, w: float, b: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-3.0, 3.0, size=n).astype(np.float32)
    return x, (w * x + b + rng.normal(0.0, noise, size=n)).astype(np.float32)
