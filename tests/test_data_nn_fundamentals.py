"""The data of nn_fundamentals: loaders on small files written here in the real formats (lang_id.npz,
MNIST's idx files), the generated defaults, and the shared real files when they are present."""
from __future__ import annotations

import gzip
import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# the shared real datasets sit beside the clone (../shared), or beside the folder of worktrees
SHARED = next((p / "shared" / "datasets" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "datasets").is_dir()),
              ROOT.parent / "shared" / "datasets")


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lang_id = load_module(ROOT / "data" / "lang_id.py", "nnf_lang_id")
sine = load_module(ROOT / "data" / "sine.py", "nnf_sine")
repeats = load_module(ROOT / "data" / "repeats.py", "nnf_repeats")
digits = load_module(ROOT / "data" / "digits.py", "nnf_digits")


# ---- lang_id ----------------------------------------------------------------------------------------------

def write_lang_id(path: Path, sizes=(12, 4, 5)) -> dict:
    """A small lang_id.npz in the published layout: words sorted by length into buckets, padded with -1."""
    rng = np.random.default_rng(0)
    arrays = {"chars": np.array(list(lang_id.CHARS)), "language_codes": np.array(lang_id.LANGUAGE_CODES),
              "language_names": np.array(lang_id.LANGUAGE_NAMES)}
    for split, n in zip(("train", "dev", "test"), sizes):
        lengths = np.sort(rng.integers(2, 11, size=n))
        x = np.full((n, 10), -1, dtype=np.int64)
        for i, length in enumerate(lengths):
            x[i, :length] = rng.integers(0, 47, size=length)
        starts = np.flatnonzero(np.r_[True, lengths[1:] != lengths[:-1]])
        arrays[f"{split}_x"], arrays[f"{split}_y"] = x, rng.integers(0, 5, size=n)
        arrays[f"{split}_buckets"] = np.stack([starts, np.r_[starts[1:], n]], axis=1)
    np.savez(path, **arrays)
    return arrays


def test_lang_id_reads_the_published_layout(tmp_path: Path) -> None:
    arrays = write_lang_id(tmp_path / "lang_id.npz")
    data = lang_id.load(tmp_path)
    assert data.info["source"] == "lang_id.npz" and data.info["languages"] == lang_id.LANGUAGE_NAMES
    for got, key in ((data.train_x, "train_x"), (data.val_x, "dev_x"), (data.test_x, "test_x"),
                     (data.train_y, "train_y"), (data.val_y, "dev_y"), (data.test_y, "test_y")):
        assert got.dtype == np.int64 and np.array_equal(got, arrays[key])


def test_lang_id_missing_or_wrong_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        lang_id.load(tmp_path)
    assert lang_id.load(tmp_path, embedded=True).info["source"] == "generated"  # what the tests fall back on
    arrays = write_lang_id(tmp_path / "lang_id.npz")
    np.savez(tmp_path / "lang_id.npz", **{**arrays, "train_x": arrays["train_x"][:, :8]})
    with pytest.raises(ValueError, match="train_x"):
        lang_id.load(tmp_path)
    np.savez(tmp_path / "lang_id.npz", **{**arrays, "chars": arrays["chars"][::-1]})
    with pytest.raises(ValueError, match="layout"):
        lang_id.load(tmp_path)


def test_lang_id_generated_default_has_the_real_layout() -> None:
    data = lang_id.load(None, seed=3, held_out_seed=4)
    for x, y in ((data.train_x, data.train_y), (data.val_x, data.val_y), (data.test_x, data.test_y)):
        assert x.shape[1] == 10 and x.dtype == np.int64 and x.min() == -1 and x.max() < 47
        lengths = (x >= 0).sum(axis=1)
        assert lengths.min() >= 2 and lengths.max() <= 10
        assert np.all((x >= 0) == (np.arange(10) < lengths[:, None]))  # characters first, then -1 padding
        assert set(np.unique(y)) == set(range(5))
    assert (len(data.train_x), len(data.val_x), len(data.test_x)) == (4000, 500, 1000)
    # the languages differ: each has its own favourite letters
    first = np.stack([np.bincount(data.train_x[data.train_y == k, 0], minlength=47) for k in range(5)])
    assert len({int(row.argmax()) for row in first}) >= 3


def test_lang_id_held_out_words_come_from_the_held_out_seed() -> None:
    a, b = lang_id.load(None, seed=0, held_out_seed=1), lang_id.load(None, seed=0, held_out_seed=1)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.test_x, b.test_x)
    assert not np.array_equal(a.test_x, lang_id.load(None, seed=0, held_out_seed=2).test_x)
    assert not hasattr(sine, "check_data_dir") and lang_id.check_data_dir(Path("/nonexistent")) == "no lang_id.npz in it"


@pytest.mark.skipif(not (SHARED / "lang_id" / "lang_id.npz").is_file(), reason="shared lang_id.npz not present")
def test_lang_id_real_file() -> None:
    data = lang_id.load(SHARED / "lang_id")
    assert data.train_x.shape == (17500, 10) and data.val_x.shape == (500, 10) and data.test_x.shape == (500, 10)
    assert np.array_equal(np.bincount(data.test_y), [100] * 5)


# ---- MNIST ------------------------------------------------------------------------------------------------

def write_idx(path: Path, array: np.ndarray, zipped: bool) -> None:
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()
    path.with_name(path.name + (".gz" if zipped else "")).write_bytes(gzip.compress(raw) if zipped else raw)


def write_mnist(folder: Path, n_train: int = 30, n_test: int = 7, zipped: bool = False) -> dict:
    rng = np.random.default_rng(1)
    arrays = {"train_x": rng.integers(0, 256, size=(n_train, 28, 28)), "train_y": rng.integers(0, 10, size=n_train),
              "test_x": rng.integers(0, 256, size=(n_test, 28, 28)), "test_y": rng.integers(0, 10, size=n_test)}
    names = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
             "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
    for key, name in names.items():
        write_idx(folder / name, arrays[key], zipped)
    return arrays


# ---- sine, repeats, digits ---------------------------------------------------------------------------------

def test_sine() -> None:
    data = sine.load(None, seed=0, held_out_seed=5)
    assert data.train_x.shape == (200,) and np.isclose(data.train_x[0], -2 * np.pi) and np.isclose(data.train_x[-1], 2 * np.pi)
    for x, y in ((data.train_x, data.train_y), (data.val_x, data.val_y), (data.test_x, data.test_y)):
        assert np.all(np.abs(x) <= 2 * np.pi + 1e-6) and np.allclose(y, np.sin(x), atol=1e-6)
    assert np.array_equal(data.test_x, sine.load(None, held_out_seed=5).test_x)
    assert not np.array_equal(sine.load(None, held_out_seed=1).test_x, sine.load(None, held_out_seed=2).test_x)
    assert sine.load(Path("/nonexistent")).train_x.shape == (200,)  # real files for other data: ignored


def test_repeats_are_periodic_words() -> None:
    data = repeats.load(None, seed=0, held_out_seed=1, block_size=16)
    assert data.train_x.shape == (4000, 16) and data.val_x.shape == (500, 16) and data.test_x.shape == (1000, 16)
    for x, y in ((data.train_x, data.train_y), (data.test_x, data.test_y)):
        sequences = np.concatenate([x, y[:, None]], axis=1)
        periods = [next(p for p in range(3, 7) if np.array_equal(s[p:], s[:-p])) for s in sequences[:200]]
        assert set(periods) <= {3, 4, 5, 6} and len(set(periods)) > 1
        assert x.max() < len(repeats.ALPHABET)
    assert not np.array_equal(repeats.load(None, held_out_seed=1).test_x, repeats.load(None, held_out_seed=2).test_x)


def test_digits_images_and_sources() -> None:
    flat, images = digits.load(None), digits.load(None, images=True)
    assert flat.train_x.shape[1:] == (64,) and images.train_x.shape[1:] == (1, 8, 8)
    assert np.array_equal(images.test_x.reshape(len(images.test_x), -1), flat.test_x)
    assert digits.load(Path("/nonexistent")).train_x.shape == flat.train_x.shape  # --data-dir is for other data
    assert all(path.is_file() for path in digits.source_paths())


# ---- the given backend: words padded at the front -----------------------------------------------------------

def test_language_words_are_padded_at_the_front() -> None:
    sys.path.insert(0, str(ROOT / "solutions" / "nn_fundamentals"))
    try:
        backend = load_module(ROOT / "solutions" / "nn_fundamentals" / "backend.py", "nnf_backend")
    finally:
        sys.path.pop(0)
    import torch

    words = backend.one_hot_words(torch.tensor([[3, 1, -1, -1, -1, -1, -1, -1, -1, -1], list(range(10))]))
    assert words.shape == (2, 10, 47)
    assert words[0, :8].sum() == 0 and words[0, 8, 3] == 1 and words[0, 9, 1] == 1
    assert torch.equal(words[1].argmax(dim=1), torch.arange(10))
    item = backend.language_dataset(torch.tensor([[5, 6, -1, -1, -1, -1, -1, -1, -1, -1]]), torch.tensor([4]))[0]
    assert item["x"].shape == (10, 47) and item["label"].tolist() == [0, 0, 0, 0, 1]
