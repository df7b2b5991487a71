"""The marked_pairs loader of bert_attention: shapes, the label rule, padding, seeds and the held-out split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.datasets import Datasets

DATA = Datasets(Path(__file__).resolve().parents[1] / "data")


def marked_pairs(**options):
    return DATA("marked_pairs", **options)


def check_split(x: np.ndarray, y: np.ndarray, length: int = 12, vocab: int = 12) -> None:
    assert x.dtype == np.int64 and y.dtype == np.int64
    assert x.shape == (len(y), 2, length)
    ids, types = x[:, 0], x[:, 1]
    assert (ids[:, 0] == 1).all() and (types[:, 0] == 0).all()          # [CLS] first, never marked
    assert ids.min() >= 0 and ids.max() < vocab
    real = ids != 0
    lengths = real.sum(axis=1)
    assert (real == (np.arange(length) < lengths[:, None])).all()       # padding only at the end
    assert (lengths >= 4).all()
    assert (types.sum(axis=1) == 2).all() and not (types.astype(bool) & ~real).any()
    pairs = ids[types == 1].reshape(-1, 2)                              # the two marked tokens of each row
    assert (pairs >= 2).all()                                           # content tokens
    assert ((pairs[:, 0] == pairs[:, 1]).astype(np.int64) == y).all()   # the label is the rule


def test_splits_follow_the_task() -> None:
    data = marked_pairs(seed=0)
    for x, y in ((data.train_x, data.train_y), (data.val_x, data.val_y), (data.test_x, data.test_y)):
        check_split(x, y)
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (2500, 500, 1000)
    assert 0.45 < data.train_y.mean() < 0.55
    assert data.info == {"vocab_size": 12, "length": 12, "classes": 2}


def test_seeds_are_deterministic_and_the_test_split_follows_held_out_seed() -> None:
    a, b = marked_pairs(seed=3, held_out_seed=7), marked_pairs(seed=3, held_out_seed=7)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.test_x, b.test_x)
    other = marked_pairs(seed=3, held_out_seed=8)
    assert np.array_equal(a.train_x, other.train_x) and np.array_equal(a.val_x, other.val_x)
    assert not np.array_equal(a.test_x, other.test_x)
    assert not np.array_equal(a.train_x, marked_pairs(seed=4).train_x)


def test_small_options() -> None:
    data = marked_pairs(seed=1, n_train=50, n_val=10, n_test=20, length=6, vocab=5)
    check_split(data.train_x, data.train_y, length=6, vocab=5)
    check_split(data.test_x, data.test_y, length=6, vocab=5)


def test_synthetic_data_takes_no_data_dir(tmp_path: Path) -> None:
    datasets = Datasets(DATA.data_dir, tmp_path)
    assert "marked_pairs takes no --data-dir" in datasets.problem("marked_pairs")
    errors, _ = datasets.check_real_data(["marked_pairs"])
    assert errors and "takes no --data-dir" in errors[0]
