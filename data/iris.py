"""Fisher's iris flowers: 4 measurements, 3 species (the copy scikit-learn ships; embedded default)."""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset, sklearn_data_file, split


def load(data_dir: Path | None, seed: int = 0) -> Dataset:
    """Features standardised with the training split's statistics, float64 (N, 4); labels int64."""
    table = np.loadtxt(sklearn_data_file("iris.csv"), delimiter=",", skiprows=1)  # 4 measurements, species
    data = split(table[:, :4], table[:, 4].astype(np.int64), seed, classes=3)
    mean, std = data.train_x.mean(axis=0), data.train_x.std(axis=0)
    for part in ("train_x", "val_x", "test_x"):
        setattr(data, part, (getattr(data, part) - mean) / std)
    return data


def source_paths() -> list[Path]:
    """The file of scikit-learn this dataset is read from (the grader hides it from the sandbox)."""
    return [sklearn_data_file("iris.csv")]
