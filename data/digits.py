"""Handwritten digits, 8x8 grey images (the copy scikit-learn ships; embedded default)."""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset, sklearn_data_file, split


def load(data_dir: Path | None, seed: int = 0, images: bool = False) -> Dataset:
    """Pixels scaled to [0, 1] as float32, flat (N, 64) or, with ``images``, shaped (N, 1, 8, 8);
    labels int64 in 0..9."""
    table = np.loadtxt(sklearn_data_file("digits.csv.gz"), delimiter=",")  # 64 pixels in 0..16, the digit
    x = (table[:, :-1] / 16.0).astype(np.float32)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    return split(x, table[:, -1].astype(np.int64), seed, classes=10, name="digits")


def source_paths() -> list[Path]:
    """The files of scikit-learn this dataset is read from (the grader hides them from the sandbox)."""
    return [sklearn_data_file("digits.csv.gz")]
