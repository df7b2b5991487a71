"""Synthetic sequence reversal: random letters in, the same letters reversed out ("ABCDEFG" -> "GFEDCBA").

Token 0 is the decoder's start token; the letters are 1..letters. Train and validation sequences come
from ``seed``; the test sequences from ``held_out_seed``, the grader's secret for each grading run (never
sent to the sandbox): no public seed rebuilds the held-out split.
"""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, length: int = 7, letters: int = 26,
         n_train: int = 20000, n_val: int = 500, n_test: int = 1000) -> Dataset:
    """x: (N, length) int64 letters in 1..letters; y: x reversed along the sequence. info: ``length``,
    ``letters``, ``vocab_size`` (letters + 1, the start token included) and ``alphabet`` (index = token)."""
    if not 1 <= letters <= len(ALPHABET):
        raise ValueError(f"letters must lie in 1..{len(ALPHABET)}")
    rng = np.random.default_rng(seed)
    train_x = rng.integers(1, letters + 1, size=(n_train, length))
    val_x = rng.integers(1, letters + 1, size=(n_val, length))
    test_rng = np.random.default_rng([seed, 2] if held_out_seed is None else [held_out_seed, 2])
    test_x = test_rng.integers(1, letters + 1, size=(n_test, length))
    return Dataset(train_x, np.ascontiguousarray(train_x[:, ::-1]), val_x, np.ascontiguousarray(val_x[:, ::-1]),
                   test_x, np.ascontiguousarray(test_x[:, ::-1]),
                   {"length": length, "letters": letters, "vocab_size": letters + 1, "alphabet": "^" + ALPHABET[:letters]})
