"""Handwritten digits, 8x8 grey images (the copy scikit-learn ships; embedded default)."""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from autograder.datasets import Dataset, split


def load(data_dir: Path | None, seed: int = 0) -> Dataset:
    """Pixels scaled to [0, 1] as float32 (N, 64); labels int64 in 0..9."""
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    return split(x, bunch.target.astype(np.int64), seed, classes=10)
