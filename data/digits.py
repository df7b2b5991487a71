"""Handwritten digits, 8x8 grey images (the copy scikit-learn ships; embedded default)."""
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from autograder.datasets import Dataset, split


def load(data_dir: Path | None, seed: int = 0, images: bool = False) -> Dataset:
    """Pixels scaled to [0, 1] as float32, flat (N, 64), or (N, 1, 8, 8) with ``images``; labels int64
    in 0..9. The data ships with scikit-learn: ``data_dir`` (real files for other datasets) is ignored."""
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    return split(x.reshape(-1, 1, 8, 8) if images else x, bunch.target.astype(np.int64), seed, classes=10)


def source_paths() -> list[Path]:
    """The files of scikit-learn this data comes from (the grader hides them from the sandbox)."""
    return [Path(str(resources.files("sklearn.datasets") / "data" / "digits.csv.gz"))]
