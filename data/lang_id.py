"""Language identification of single words: 5 languages, a 47-character alphabet, words of 2 to 10
characters.

The layout is the one of the course's ``lang_id.npz`` (read from ``data_dir``): ``train_x``, ``dev_x``,
``test_x`` of shape (N, 10) holding character ids padded at the end with -1, ``*_y`` the language ids,
``*_buckets`` the [start, end) ranges of equal-length words, and ``chars``, ``language_codes``,
``language_names``. The dev split is the validation split.

The embedded default is generated here: five made-up languages over the same alphabet, each with its
own letter frequencies, letter-to-letter transitions, accented letters and word lengths (a shared
transition table makes them overlap). The languages and the train and validation words come from
``seed``; the test words from ``held_out_seed`` (the grader's secret for each grading run, so that nothing outside
the grader can rebuild the held-out split; from ``seed`` when None).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

FILE = "lang_id.npz"
CHARS = "abcdefghijklmnopqrstuvwxyzáäèéêëíïñóöúüąćęłńśźż"
LANGUAGE_NAMES = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
LANGUAGE_CODES = ["en", "es", "fi", "nl", "pl"]
MAX_LENGTH = 10
# the accented letters each made-up language favours, in the spirit of the real ones
ACCENTED = ["", "áéíñóú", "äö", "ëèéï", "ąćęłńóśźż"]


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, embedded: bool = False,
         n_train: int = 4000, n_val: int = 500, n_test: int = 1000) -> Dataset:
    """``lang_id.npz`` under ``data_dir`` (FileNotFoundError if it is not there), or the generated
    default when ``data_dir`` is None or ``embedded`` is set."""
    if data_dir is not None and not embedded:
        return read(Path(data_dir) / FILE)
    return generate(seed, held_out_seed, n_train, n_val, n_test)


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds the course's lang_id.npz, else why not."""
    return None if (Path(data_dir) / FILE).is_file() else f"no {FILE} in it"


def read(path: Path) -> Dataset:
    """The course's file, checked against the published layout."""
    if not path.is_file():
        raise FileNotFoundError(f"no {FILE} in {path.parent}")
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    if "".join(arrays["chars"]) != CHARS or len(arrays["language_names"]) != len(LANGUAGE_NAMES):
        raise ValueError(f"{path}: not the 47-character, 5-language layout of {FILE}")
    splits = []
    for split in ("train", "dev", "test"):
        x, y = arrays[f"{split}_x"].astype(np.int64), arrays[f"{split}_y"].astype(np.int64)
        if x.ndim != 2 or x.shape[1] != MAX_LENGTH or len(x) != len(y) or x.min() < -1 or x.max() >= len(CHARS):
            raise ValueError(f"{path}: {split}_x should be (N, {MAX_LENGTH}) character ids padded with -1")
        splits += [x, y]
    return Dataset(*splits, info={"source": FILE, "chars": CHARS, "languages": [str(n) for n in arrays["language_names"]]})


def languages(seed: int) -> list[dict[str, np.ndarray]]:
    """Five made-up languages: start and transition probabilities over the alphabet, and a mean length."""
    rng = np.random.default_rng(seed)
    shared = rng.dirichlet(np.r_[np.full(26, 6.0), np.full(21, 0.3)], size=len(CHARS))
    made_up = []
    for accented in ACCENTED:
        weights = np.full(len(CHARS), 0.0)
        weights[:26] = 0.05
        common = rng.choice(26, size=16, replace=False)
        weights[common] = rng.gamma(1.0, 1.0, size=16) + 0.2
        weights[[CHARS.index(c) for c in accented]] = 0.6
        concentration = weights / weights.sum() * len(CHARS) * 0.6
        transitions = 0.2 * shared + 0.8 * rng.dirichlet(concentration, size=len(CHARS))
        made_up.append({"start": rng.dirichlet(concentration), "transitions": transitions,
                        "mean_length": rng.uniform(5.0, 7.5)})
    return made_up


def words(rng: np.random.Generator, made_up: list[dict[str, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """n words (character ids padded with -1) and their language ids."""
    y = rng.integers(0, len(made_up), size=n)
    start = np.stack([lang["start"] for lang in made_up]).cumsum(axis=-1)
    transitions = np.stack([lang["transitions"] for lang in made_up]).cumsum(axis=-1)
    mean_length = np.array([lang["mean_length"] for lang in made_up])
    lengths = np.clip(np.round(rng.normal(mean_length[y], 1.7)), 2, MAX_LENGTH).astype(np.int64)
    x = np.full((n, MAX_LENGTH), -1, dtype=np.int64)
    char = np.minimum((start[y] < rng.random((n, 1))).sum(axis=1), len(CHARS) - 1)  # inverse-CDF sampling
    x[:, 0] = char
    for t in range(1, MAX_LENGTH):
        char = np.minimum((transitions[y, char] < rng.random((n, 1))).sum(axis=1), len(CHARS) - 1)
        x[:, t] = np.where(t < lengths, char, -1)
    return x, y


def generate(seed: int, held_out_seed: int | None, n_train: int, n_val: int, n_test: int) -> Dataset:
    """The generated default: train and validation words from ``seed``, test words from ``held_out_seed``."""
    made_up = languages(seed)
    rng = np.random.default_rng([seed, 1])
    train_x, train_y = words(rng, made_up, n_train)
    val_x, val_y = words(rng, made_up, n_val)
    test_rng = np.random.default_rng([seed, 2] if held_out_seed is None else [held_out_seed, 2])
    test_x, test_y = words(test_rng, made_up, n_test)
    return Dataset(train_x, train_y, val_x, val_y, test_x, test_y,
                   info={"source": "generated", "chars": CHARS, "languages": LANGUAGE_NAMES})
