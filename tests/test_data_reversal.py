"""The reversal loader: targets are the sources reversed, letters stay in range, the public seed fixes train
and validation, and the test split follows held_out_seed (the grader's secret for each grading run)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def loader():
    spec = importlib.util.spec_from_file_location("reversal_under_test", ROOT / "data" / "reversal.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_targets_are_the_sources_reversed() -> None:
    data = loader().load(None, seed=0, held_out_seed=5)
    for x, y in ((data.train_x, data.train_y), (data.val_x, data.val_y), (data.test_x, data.test_y)):
        assert x.dtype == y.dtype == np.int64 and x.shape == y.shape and x.shape[1] == 7
        assert np.array_equal(y, x[:, ::-1])
        assert x.min() >= 1 and x.max() <= 26  # 0 is the start token, never a letter
    assert data.info["vocab_size"] == 27 and data.info["alphabet"][1:4] == "ABC"


def test_sizes_and_options() -> None:
    data = loader().load(None, seed=1, held_out_seed=2, length=4, letters=5, n_train=30, n_val=6, n_test=9)
    assert data.train_x.shape == (30, 4) and data.val_x.shape == (6, 4) and data.test_x.shape == (9, 4)
    assert data.train_x.max() <= 5 and data.info["vocab_size"] == 6


def test_public_seed_fixes_train_and_val_only() -> None:
    module = loader()
    a, b = module.load(None, seed=0, held_out_seed=3), module.load(None, seed=0, held_out_seed=4)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.val_x, b.val_x)
    assert not np.array_equal(a.test_x, b.test_x)  # another secret, another test split
    c, d = module.load(None, seed=0, held_out_seed=7), module.load(None, seed=0, held_out_seed=7)
    assert np.array_equal(c.test_x, d.test_x)
    assert not np.array_equal(c.test_x, module.load(None, seed=1, held_out_seed=8).test_x)


def test_no_real_files() -> None:
    assert not hasattr(loader(), "check_data_dir")  # synthetic: takes no --data-dir
    with pytest.raises(ValueError, match="letters"):
        loader().load(None, letters=27)
