"""sin(x) on [-2pi, 2pi]: the regression question's data (generated; there are no real files).

Training inputs are evenly spaced, as in the course; validation inputs are uniform draws from
``seed``, test inputs uniform draws from ``held_out_seed`` (the grader's secret for each grading run; from ``seed`` when None). ``data_dir`` is
ignored: a grading with real files for other datasets still uses this.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

LOW, HIGH = -2 * math.pi, 2 * math.pi


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, n_train: int = 200,
         n_val: int = 200, n_test: int = 1000) -> Dataset:
    """float32 inputs x (N,) and targets sin(x) (N,)."""
    train_x = np.linspace(LOW, HIGH, n_train, dtype=np.float32)
    val_x = np.random.default_rng([seed, 1]).uniform(LOW, HIGH, n_val).astype(np.float32)
    test_rng = np.random.default_rng([seed, 2] if held_out_seed is None else [held_out_seed, 2])
    test_x = test_rng.uniform(LOW, HIGH, n_test).astype(np.float32)
    return Dataset(train_x, np.sin(train_x), val_x, np.sin(val_x), test_x, np.sin(test_x), info={"source": "generated"})
