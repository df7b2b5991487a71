"""Datasets, loaded by the grader: the sandbox receives inputs, never held-out labels.

Each dataset is a module ``data/<name>.py`` in the course folder with a function
``load(data_dir: Path | None, **options) -> Dataset``: the embedded default when ``data_dir`` is None,
the real files under ``data_dir`` otherwise. A module that reads real files also defines
``check_data_dir(data_dir: Path) -> str | None``: None when the folder holds what it reads, else why not.
A module without it takes no ``--data-dir`` (its data is generated, or shipped by a dependency).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
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
        self._modules: dict[str, ModuleType] = {}

    def __call__(self, name: str, **options: Any) -> Dataset:
        key = (name, tuple(sorted(options.items())))
        if key not in self._cache:
            module = self.module(name)
            real = self.real_data if self.real_data and not self.problem(name) else None
            self._cache[key] = module.load(real, **options)
        return self._cache[key]

    def module(self, name: str) -> ModuleType:
        """The loader module ``data/<name>.py``."""
        if name not in self._modules:
            path = self.data_dir / f"{name}.py"
            if not path.is_file():
                raise FileNotFoundError(f"no dataset loader data/{name}.py")
            spec = importlib.util.spec_from_file_location(f"autograder_data_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]

    def problem(self, name: str) -> str | None:
        """Why dataset ``name`` cannot read ``real_data`` (None if it can)."""
        module = self.module(name)
        check = getattr(module, "check_data_dir", None)
        if check is None:
            what = (module.__doc__ or name).strip().splitlines()[0].rstrip(".")
            return f"{name} takes no --data-dir ({what})"
        return check(self.real_data)

    def check_real_data(self, names: list[str]) -> tuple[list[str], list[str]]:
        """For a grading with ``--data-dir``: (errors, notes). An error when none of the lab's datasets can
        read the folder; a note for each dataset that keeps its embedded default."""
        problems = {name: self.problem(name) for name in names}
        if not names:
            return ["this lab uses no dataset, so --data-dir has nothing to read"], []
        if all(problems.values()):
            return [f"--data-dir {self.real_data.name}: " + "; ".join(problems.values())], []
        return [], [f"{name}: embedded default ({problem})" for name, problem in problems.items() if problem]
