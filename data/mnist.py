"""MNIST handwritten digits, read from their idx files under --data-dir (never downloaded).

The folder (``data_dir`` itself, or its ``mnist/`` or ``MNIST/raw/`` subfolder) holds the four files
of the original distribution, each optionally gzipped:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte`` (the spelling ``train-images.idx3-ubyte`` is accepted too).
"""
import gzip
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
SUBFOLDERS = (".", "mnist", "MNIST/raw")
# the idx format's element types: the third byte of the magic number
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load(data_dir: Path | None, seed: int = 0, val_size: int = 5000, limit: int | None = None,
         flat: bool = False) -> Dataset:
    """Images float32 in [0, 1] of shape (N, 1, 28, 28) (or (N, 784) with ``flat``), labels int64 in 0..9.
    Train and validation are cut from the training files (``val_size`` images chosen by ``seed``), test is
    the t10k files. ``limit`` keeps at most that many images of each split (chosen by ``seed``)."""
    if data_dir is None:
        raise ValueError("MNIST is not embedded in the kit: point --data-dir at the folder holding its idx files "
                         f"({', '.join(FILES['train'] + FILES['test'])}, optionally .gz)")
    folder = find(Path(data_dir))
    if folder is None:
        raise FileNotFoundError(f"no MNIST idx files in {data_dir} (looked for {FILES['train'][0]}[.gz] in "
                                f"{', '.join(SUBFOLDERS)})")
    train_x, train_y = _pair(folder, *FILES["train"])
    test_x, test_y = _pair(folder, *FILES["test"])
    if not 0 < val_size < len(train_x):
        raise ValueError(f"val_size={val_size} must leave training images (the training files hold {len(train_x)})")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_x))
    val, train = order[:val_size], order[val_size:]
    parts = [(train_x, train_y, train), (train_x, train_y, val), (test_x, test_y, np.arange(len(test_x)))]
    arrays = []
    for x, y, index in parts:
        if limit is not None and len(index) > limit:
            index = np.sort(rng.choice(index, size=limit, replace=False))
        images = x[index].astype(np.float32) / 255.0
        arrays += [images.reshape(len(index), -1) if flat else images[:, None], y[index].astype(np.int64)]
    return Dataset(*arrays, info={"name": "mnist", "classes": 10, "folder": str(folder)})


def find(data_dir: Path) -> Path | None:
    """The folder under ``data_dir`` that holds MNIST's training images, or None."""
    for sub in SUBFOLDERS:
        if _file(data_dir / sub, FILES["train"][0]) is not None:
            return data_dir / sub
    return None


def _file(folder: Path, name: str) -> Path | None:
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx"), name.replace("-idx", ".idx") + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _pair(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    paths = [_file(folder, name) for name in (images_name, labels_name)]
    missing = [name for name, path in zip((images_name, labels_name), paths) if path is None]
    if missing:
        raise FileNotFoundError(f"{folder}: missing MNIST file(s) {', '.join(missing)}")
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{folder}: expected images (N, rows, cols) and N labels, got {images.shape} and {labels.shape}")
    return images, labels


def read_idx(path: Path) -> np.ndarray:
    """An idx file (optionally gzipped): two zero bytes, the element type, the number of dimensions, each
    dimension as a big-endian uint32, then the elements in C order."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an idx file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[data[2]])
    offset = 4 + 4 * ndim
    if len(data) != offset + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{path}: {len(data) - offset} bytes of data for shape {shape} of {dtype.name}: "
                         "the file is truncated or not what its header says")
    return np.frombuffer(data, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds the files this loader reads, else why not."""
    return None if find(Path(data_dir)) is not None else "no MNIST idx files (train-images-idx3-ubyte[.gz] ...) in it"
