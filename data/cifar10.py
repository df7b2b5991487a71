"""CIFAR-10, read from its binary version under --data-dir (never downloaded; the Python-pickle version is
not read: unpickling a data file can run code).

The folder (``data_dir`` itself or its ``cifar-10-batches-bin/`` subfolder) holds ``data_batch_1.bin`` ...
``data_batch_5.bin`` and ``test_batch.bin``: records of 3073 bytes, a label byte (0..9) then 3072 pixel
bytes, the red, green and blue 32x32 planes in row-major order. ``batches.meta.txt`` names the classes.
"""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST = "test_batch.bin"
META = "batches.meta.txt"
SUBFOLDERS = (".", "cifar-10-batches-bin")
SHAPE = (3, 32, 32)
RECORD = 1 + int(np.prod(SHAPE))  # 3073 bytes


def load(data_dir: Path | None, seed: int = 0, val_size: int = 5000, limit: int | None = None) -> Dataset:
    """Images float32 in [0, 1] of shape (N, 3, 32, 32), labels int64 in 0..9. Train and validation are cut
    from the five training batches (``val_size`` images chosen by ``seed``), test is ``test_batch.bin``.
    ``limit`` keeps at most that many images of each split (chosen by ``seed``)."""
    if data_dir is None:
        raise ValueError("CIFAR-10 is not embedded in the kit: point --data-dir at the folder of its binary version "
                         f"({', '.join(TRAIN)}, {TEST})")
    folder = find(Path(data_dir))
    if folder is None:
        raise FileNotFoundError(f"no CIFAR-10 binary batches in {data_dir} (looked for {TRAIN[0]} in "
                                f"{', '.join(SUBFOLDERS)})")
    missing = [name for name in (*TRAIN, TEST) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: missing CIFAR-10 file(s) {', '.join(missing)}")
    batches = [read_batch(folder / name) for name in TRAIN]
    train_x, train_y = np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])
    test_x, test_y = read_batch(folder / TEST)
    if not 0 < val_size < len(train_x):
        raise ValueError(f"val_size={val_size} must leave training images (the training files hold {len(train_x)})")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_x))
    parts = [(train_x, train_y, order[val_size:]), (train_x, train_y, order[:val_size]),
             (test_x, test_y, np.arange(len(test_x)))]
    arrays = []
    for x, y, index in parts:
        if limit is not None and len(index) > limit:
            index = np.sort(rng.choice(index, size=limit, replace=False))
        arrays += [x[index].astype(np.float32) / 255.0, y[index]]
    names = (folder / META).read_text().split() if (folder / META).is_file() else [str(i) for i in range(10)]
    return Dataset(*arrays, info={"name": "cifar10", "classes": 10, "labels": names, "folder": str(folder)})


def find(data_dir: Path) -> Path | None:
    """The folder under ``data_dir`` that holds CIFAR-10's binary batches, or None."""
    for sub in SUBFOLDERS:
        if (data_dir / sub / TRAIN[0]).is_file():
            return data_dir / sub
    return None


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch: images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % RECORD:
        raise ValueError(f"{path}: {data.size} bytes is not a whole number of {RECORD}-byte CIFAR-10 records")
    records = data.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: label {labels.max()} is not a CIFAR-10 class (0..9): is this the CIFAR-100 file?")
    return records[:, 1:].reshape(-1, *SHAPE), labels


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds the files this loader reads, else why not."""
    return None if find(Path(data_dir)) is not None else "no CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin) in it"
