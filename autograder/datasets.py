"""Datasets, loaded by the grader: the sandbox receives inputs, never held-out labels.

Each dataset is a module ``data/<name>.py`` in the course folder with a function
``load(data_dir: Path | None, **options) -> Dataset``: the embedded default when ``data_dir`` is None,
the real files under ``data_dir`` otherwise. A module that reads real files also defines
``check_data_dir(data_dir: Path) -> str | None``: None when the folder holds what it reads, else why not.
A module without it takes no ``--data-dir`` (its data is generated, or shipped by a dependency).

Held-out data stays held out:

- a synthetic loader accepts ``held_out_seed: int | None``; when the grader passes one (a secret drawn for
  each grading run, see ``HeldOut``), the test split is drawn from it, so no public seed reproduces it;
  the training and validation splits stay those of the public ``seed`` (students reproduce their
  validation numbers);
- a dataset that ships with a library (scikit-learn's digits and iris) or lies under ``--data-dir`` is
  hidden from the sandbox (``hidden_paths``, passed as ``SandboxSpec.hide``);
- a lab whose model is indifferent to it declares a secret task-preserving perturbation in lab.toml
  (``[held_out] perturbation = "permute_features"``: a dense model learns the same from inputs whose
  features come in another fixed order); applied while grading, so a copy of the public data brought
  into the sandbox does not match the inputs it receives.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np

SKLEARN_DATA = ("datasets/data", "datasets/images", "datasets/descr")  # scikit-learn's bundled datasets


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


def _permute_features(data: Dataset, rng: np.random.Generator) -> None:
    """One fixed, secret order of the input features (axis 1) for every split, moving every feature (a
    feature left in place would leave rows matchable on it, and the identity order would change nothing)."""
    if data.train_x.ndim != 2 or data.train_x.shape[1] < 2:
        return
    order = rng.permutation(data.train_x.shape[1])
    while (order == np.arange(len(order))).any():
        order = rng.permutation(len(order))
    for part in ("train_x", "val_x", "test_x"):
        setattr(data, part, np.ascontiguousarray(getattr(data, part)[:, order]))


PERTURBATIONS: dict[str, Callable[[Dataset, np.random.Generator], None]] = {"permute_features": _permute_features}


@dataclass(frozen=True)
class HeldOut:
    """One grading run's secrets: the seed of its synthetic held-out data and of its perturbation (if the
    lab declares one). Drawn by the grader with ``secrets``, recorded in the result for the instructor
    (``GradeResult.held_out``, in the JSON report only), never sent to the sandbox."""

    seed: int
    perturbation: str | None = None

    def __post_init__(self) -> None:
        if self.perturbation is not None and self.perturbation not in PERTURBATIONS:
            raise ValueError(f"unknown held-out perturbation {self.perturbation!r} "
                             f"(lab.toml [held_out]; known: {', '.join(PERTURBATIONS)})")

    @classmethod
    def draw(cls, perturbation: str | None = None) -> "HeldOut":
        return cls(secrets.randbits(63), perturbation)

    def perturb(self, data: Dataset) -> None:
        if self.perturbation is not None:
            PERTURBATIONS[self.perturbation](data, np.random.default_rng([self.seed, 1]))

    def record(self) -> dict[str, Any]:
        """What the instructor needs to reproduce this run's held-out data."""
        return {"seed": self.seed, "perturbation": self.perturbation}


def _sklearn_folders() -> list[str]:
    """Where scikit-learn is installed, found without importing it (its import costs most of a second)."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec else []


def sklearn_data_file(name: str) -> Path:
    """A data file scikit-learn ships (``sklearn/datasets/data/<name>``)."""
    for package in _sklearn_folders():
        path = Path(package) / "datasets" / "data" / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"scikit-learn's {name} (install scikit-learn)")


def hidden_paths(real_data: Path | None = None) -> tuple[str, ...]:
    """Host paths that hold held-out data, for the sandbox to hide: scikit-learn's bundled and downloaded
    datasets (found without importing scikit-learn) and the real datasets under ``--data-dir``."""
    found = [os.path.join(package, sub) for package in _sklearn_folders() for sub in SKLEARN_DATA]
    found.append(os.environ.get("SCIKIT_LEARN_DATA") or os.path.expanduser("~/scikit_learn_data"))
    if real_data is not None:
        found.append(str(real_data))
    return tuple(os.path.realpath(path) for path in found if os.path.exists(path))


class Datasets:
    """Loads ``data/<name>.py`` modules of a course, caching each (name, options) once. With ``held_out``,
    synthetic test splits come from its secret seed and the lab's perturbation is applied."""

    def __init__(self, data_dir: Path, real_data: Path | None = None, held_out: HeldOut | None = None):
        self.data_dir = data_dir
        self.real_data = real_data
        self.held_out = held_out
        self._cache: dict[tuple, Dataset] = {}
        self._modules: dict[str, ModuleType] = {}

    def __call__(self, name: str, **options: Any) -> Dataset:
        key = (name, tuple(sorted(options.items())))
        if key not in self._cache:
            module = self.module(name)
            real = self.real_data if self.real_data and not self.problem(name) else None
            if self.held_out is not None and "held_out_seed" in inspect.signature(module.load).parameters:
                options = {**options, "held_out_seed": self.held_out.seed}
            data = module.load(real, **options)
            if self.held_out is not None:
                self.held_out.perturb(data)
            self._cache[key] = data
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

    def hidden(self, names: list[str]) -> tuple[str, ...]:
        """Every host path the sandbox must not see for these datasets: the files a module's default is read
        from (its ``source_paths()``), scikit-learn's data and the real data under ``--data-dir``."""
        found = [str(path) for name in names for path in getattr(self.module(name), "source_paths", list)()]
        return tuple(dict.fromkeys([*hidden_paths(self.real_data),
                                    *(os.path.realpath(path) for path in found if os.path.exists(path))]))

    def check_real_data(self, names: list[str]) -> tuple[list[str], list[str]]:
        """For a grading with ``--data-dir``: (errors, notes). An error when none of the lab's datasets can
        read the folder; a note for each dataset that keeps its embedded default."""
        problems = {name: self.problem(name) for name in names}
        if not names:
            return ["this lab uses no dataset, so --data-dir has nothing to read"], []
        if all(problems.values()):
            return [f"--data-dir {self.real_data.name}: " + "; ".join(problems.values())], []
        return [], [f"{name}: embedded default ({problem})" for name, problem in problems.items() if problem]
