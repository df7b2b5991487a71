"""MNIST from its idx files under ``data_dir`` (no embedded default: FileNotFoundError without them).

Files (optionally gzipped): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte. Images come back as float32 (N, 1, 28, 28) in [0, 1], labels int64; the
validation split is cut from the training files with ``seed``, the test split is the t10k files.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
         "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
IDX_UBYTE = 0x08  # the idx type code of unsigned bytes


def read_idx(path: Path) -> np.ndarray:
    """An idx file of unsigned bytes: magic (0, 0, type, ndim), ndim big-endian uint32 sizes, the data."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE:
        raise ValueError(f"{path}: not an idx file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {data.size} bytes of data for shape {shape}")
    return data.reshape(shape)


def _find(data_dir: Path, name: str) -> Path:
    for candidate in (data_dir / name, data_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {name}[.gz] in {data_dir}")


def load(data_dir: Path | None, seed: int = 0, val: int = 10_000) -> Dataset:
    """MNIST's 60,000 training images (less ``val`` for validation) and 10,000 test images."""
    if data_dir is None:
        raise FileNotFoundError("MNIST has no embedded copy: pass --data-dir with its idx files")
    arrays = {key: read_idx(_find(Path(data_dir), name)) for key, name in FILES.items()}
    images = {key: (arrays[key][:, None] / 255.0).astype(np.float32) for key in ("train_x", "test_x")}
    labels = {key: arrays[key].astype(np.int64) for key in ("train_y", "test_y")}
    order = np.random.default_rng(seed).permutation(len(labels["train_y"]))
    va, tr = order[:val], order[val:]
    return Dataset(images["train_x"][tr], labels["train_y"][tr], images["train_x"][va], labels["train_y"][va],
                   images["test_x"], labels["test_y"], info={"source": "mnist"})
