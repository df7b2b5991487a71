"""Repeated words: the character transformer's data (generated; there are no real files).

Each sequence repeats a random word of 3 to 6 letters over and over (``abcdabcdab...``): after the
first copy, the next letter is the one a word's length back, which only attention to earlier
positions can find. Sequences of ``block_size + 1`` letters; train_x holds ``block_size`` letters
and train_y the next one (training uses the whole sequence), val_x / test_x the contexts whose next
letter val_y / test_y the model must predict. Train and validation come from ``seed``, test from
``held_out_seed`` (the grader's secret for each grading run; from ``seed`` when None). ``data_dir`` is ignored.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

ALPHABET = "abcdefghijklmnop"


def sequences(rng: np.random.Generator, n: int, length: int, min_word: int, max_word: int) -> np.ndarray:
    """n sequences (n, length) of letter ids, each a random word repeated."""
    sizes = rng.integers(min_word, max_word + 1, size=n)
    letters = rng.integers(0, len(ALPHABET), size=(n, max_word))
    position = np.arange(length) % sizes[:, None]  # where in its word each position falls
    return np.take_along_axis(letters, position, axis=1)


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, block_size: int = 16,
         n_train: int = 4000, n_val: int = 500, n_test: int = 1000, min_word: int = 3, max_word: int = 6) -> Dataset:
    """Contexts (N, block_size) and next letters (N,), int64."""
    rng = np.random.default_rng([seed, 1])
    train, val = (sequences(rng, n, block_size + 1, min_word, max_word) for n in (n_train, n_val))
    test_rng = np.random.default_rng([seed, 2] if held_out_seed is None else [held_out_seed, 2])
    test = sequences(test_rng, n_test, block_size + 1, min_word, max_word)
    return Dataset(train[:, :-1], train[:, -1], val[:, :-1], val[:, -1], test[:, :-1], test[:, -1],
                   info={"source": "generated", "alphabet": ALPHABET, "block_size": block_size})
