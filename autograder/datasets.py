"""Datasets, loaded by the grader: the sandbox receives inputs, never held-out labels.

Each dataset is a module ``data/<name>.py`` in the course folder with a function
``load(data_dir: Path | None, **options) -> Dataset``: the embedded default when ``data_dir`` is None,
the real files under ``data_dir`` otherwise.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Dataset:
    """A split dataset. ``val`` is for public checks, ``test`` is the grader's held-out split."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def split(x: np.ndarray, y: np.ndarray, seed: int, val: float = 0.15, test: float = 0.25, **info: Any) -> Dataset:
    """Shuffle with ``seed`` and cut into train / validation / test."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_test, n_val = int(round(len(x) * test)), int(round(len(x) * val))
    te, va, tr = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return Dataset(x[tr], y[tr], x[va], y[va], x[te], y[te], info)


class Datasets:
    """Loads ``data/<name>.py`` modules of a course, caching each (name, options) once."""

    def __init__(self, data_dir: Path, real_data: Path | None = None):
        self.data_dir = data_dir
        self.real_data = real_data
        self._cache: dict[tuple, Dataset] = {}

    def __call__(self, name: str, **options: Any) -> Dataset:
        key = (name, tuple(sorted(options.items())))
        if key not in self._cache:
            path = self.data_dir / f"{name}.py"
            if not path.is_file():
                raise FileNotFoundError(f"no dataset loader {path}")
            spec = importlib.util.spec_from_file_location(f"autograder_data_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._cache[key] = module.load(self.real_data, **options)
        return self._cache[key]
