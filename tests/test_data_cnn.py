"""The cnn lab's data: scikit-learn's digits as images, and the MNIST (idx) and CIFAR-10 (binary) loaders,
tested on small files written here in those exact formats (and on the real files when they are present)."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def loader(name: str) -> ModuleType:
    """``data/<name>.py``, loaded by path as the grader loads it."""
    spec = importlib.util.spec_from_file_location(f"test_data_{name}", ROOT / "data" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mnist, cifar10, images, digits = (loader(name) for name in ("mnist", "cifar10", "images", "digits"))


# ---- writing the real formats

def idx_bytes(array: np.ndarray) -> bytes:
    """The idx format: two zero bytes, the type code, the number of dimensions, each dimension as a
    big-endian uint32, then the values big-endian in C order."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder: Path, n_train: int = 60, n_test: int = 20, gz: bool = False, seed: int = 0,
                dotted: bool = False) -> dict[str, np.ndarray]:
    """Random MNIST-shaped idx files; returns what was written."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, size=n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, size=n_test, dtype=np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        filename = name.replace("-idx", ".idx") if dotted else name
        if gz:
            (folder / f"{filename}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / filename).write_bytes(data)
    return arrays


def write_cifar(folder: Path, per_batch: int = 7, n_test: int = 5, seed: int = 0) -> dict[str, tuple]:
    """Random CIFAR-10 binary batches (records: label byte, then the R, G, B 32x32 planes)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, n in [*((f"data_batch_{i}.bin", per_batch) for i in range(1, 6)), ("test_batch.bin", n_test)]:
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        pixels = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        records = np.concatenate([labels[:, None], pixels.reshape(n, -1)], axis=1)
        (folder / name).write_bytes(records.tobytes())
        written[name] = (pixels, labels)
    (folder / "batches.meta.txt").write_text("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
    return written


def check_split_of(data, x: np.ndarray, y: np.ndarray, scale: float = 255.0) -> None:
    """train + val are exactly the written training images (each once), with their labels."""
    images_ = np.concatenate([data.train_x, data.val_x])
    labels = np.concatenate([data.train_y, data.val_y])
    assert len(images_) == len(x)
    flat_written = x.reshape(len(x), -1).astype(np.float32) / scale
    index = {row.tobytes(): i for i, row in enumerate(flat_written)}
    found = [index[row.tobytes()] for row in images_.reshape(len(images_), -1)]
    assert sorted(found) == list(range(len(x)))
    assert np.array_equal(labels, y[found].astype(np.int64))


# ---- MNIST

def test_mnist_reads_idx_files(tmp_path: Path) -> None:
    written = write_mnist(tmp_path)
    data = mnist.load(tmp_path, seed=0, val_size=15)
    assert data.train_x.shape == (45, 1, 28, 28) and data.val_x.shape == (15, 1, 28, 28)
    assert data.test_x.shape == (20, 1, 28, 28)
    assert data.train_x.dtype == np.float32 and data.train_y.dtype == np.int64
    assert 0.0 <= data.train_x.min() and data.train_x.max() <= 1.0
    check_split_of(data, written["train-images-idx3-ubyte"], written["train-labels-idx1-ubyte"])
    assert np.array_equal(data.test_x[:, 0], written["t10k-images-idx3-ubyte"].astype(np.float32) / 255.0)
    assert np.array_equal(data.test_y, written["t10k-labels-idx1-ubyte"])
    assert data.info == {"name": "mnist", "classes": 10, "folder": str(tmp_path / ".")}


def test_mnist_split_depends_on_the_seed_only(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    a, b, c = (mnist.load(tmp_path, seed=s, val_size=10) for s in (0, 0, 1))
    assert np.array_equal(a.val_x, b.val_x) and not np.array_equal(a.val_x, c.val_x)


def test_mnist_gzipped_dotted_names_subfolder_flat_and_limit(tmp_path: Path) -> None:
    written = write_mnist(tmp_path / "MNIST" / "raw", gz=True, dotted=True)
    data = mnist.load(tmp_path, val_size=10, limit=8, flat=True)
    assert data.train_x.shape == (8, 784) and data.val_x.shape == (8, 784) and data.test_x.shape == (8, 784)
    test_rows = written["t10k-images-idx3-ubyte"].reshape(20, -1).astype(np.float32) / 255.0
    assert all(any(np.array_equal(row, written_row) for written_row in test_rows) for row in data.test_x)


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:-1], "truncated"),
    (lambda data: b"\x01\x02" + data[2:], "not an idx file"),
])
def test_mnist_rejects_damaged_files(tmp_path: Path, damage, message: str) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message):
        mnist.load(tmp_path)


def test_mnist_names_what_is_missing(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        mnist.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="no MNIST"):
        mnist.load(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="--data-dir"):
        mnist.load(None)


def test_idx_reads_other_element_types(tmp_path: Path) -> None:
    for array in (np.arange(12, dtype=np.int32).reshape(3, 4) - 5, np.linspace(-1, 1, 6, dtype=np.float32)):
        path = tmp_path / "values.idx"
        path.write_bytes(idx_bytes(array))
        assert np.array_equal(mnist.read_idx(path), array)


# ---- CIFAR-10

def test_cifar10_reads_binary_batches(tmp_path: Path) -> None:
    written = write_cifar(tmp_path / "cifar-10-batches-bin")
    data = cifar10.load(tmp_path, seed=0, val_size=5)
    assert data.train_x.shape == (30, 3, 32, 32) and data.val_x.shape == (5, 3, 32, 32)
    assert data.test_x.shape == (5, 3, 32, 32) and data.test_x.dtype == np.float32
    train_pixels = np.concatenate([written[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    train_labels = np.concatenate([written[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    check_split_of(data, train_pixels, train_labels)
    pixels, labels = written["test_batch.bin"]
    assert np.array_equal(data.test_x, pixels.astype(np.float32) / 255.0)  # channel planes in R, G, B order
    assert np.array_equal(data.test_y, labels)
    assert data.info["labels"][:2] == ["airplane", "automobile"] and len(data.info["labels"]) == 10


def test_cifar10_one_record_is_label_then_red_green_blue_planes(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    record = np.zeros(3073, dtype=np.uint8)
    record[0], record[1 + 0], record[1 + 1024 + 33], record[1 + 2048 + 1023] = 7, 10, 20, 30
    (tmp_path / "test_batch.bin").write_bytes(record.tobytes())
    x, y = cifar10.read_batch(tmp_path / "test_batch.bin")
    assert y.tolist() == [7] and x.shape == (1, 3, 32, 32)
    assert x[0, 0, 0, 0] == 10 and x[0, 1, 1, 1] == 20 and x[0, 2, 31, 31] == 30 and x.sum() == 60


def test_cifar10_rejects_what_is_not_cifar10(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(b"\0" * 3072)
    with pytest.raises(ValueError, match="3073-byte"):
        cifar10.load(tmp_path)
    record = np.zeros(3073, dtype=np.uint8)
    record[0] = 42
    (tmp_path / "test_batch.bin").write_bytes(record.tobytes())
    with pytest.raises(ValueError, match="CIFAR-100"):
        cifar10.load(tmp_path)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        cifar10.load(tmp_path)
    with pytest.raises(ValueError, match="--data-dir"):
        cifar10.load(None)


def test_cifar10_never_reads_the_pickle_version(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ("data_batch_1", "test_batch", "batches.meta"):
        (folder / name).write_bytes(b"\x80\x04 not read")
    with pytest.raises(FileNotFoundError, match="binary"):
        images.load(tmp_path)


# ---- the dispatcher and the default

def test_images_default_is_digits_as_images() -> None:
    data = images.load(None, seed=0)
    flat = digits.load(None, seed=0)
    assert data.train_x.shape == (1078, 1, 8, 8) and data.info["name"] == "digits"
    assert np.array_equal(data.train_x.reshape(len(data.train_x), -1), flat.train_x)
    assert np.array_equal(data.test_y, flat.test_y)
    assert flat.train_x.shape == (1078, 64) and flat.train_x.dtype == np.float32  # softmax_regression's view
    assert all(path.is_file() for path in images.source_paths())
    assert images.source_paths() == digits.source_paths()


def test_images_finds_mnist_or_cifar10(tmp_path: Path) -> None:
    write_mnist(tmp_path / "m")
    write_cifar(tmp_path / "c")
    data = images.load(tmp_path / "m", limit=5, val_size=10)
    assert data.info["name"] == "mnist" and data.train_x.shape == (5, 1, 28, 28) and len(data.val_x) == 5
    data = images.load(tmp_path / "c", val_size=10)
    assert data.info["name"] == "cifar10" and data.train_x.shape == (25, 3, 32, 32) and len(data.val_x) == 10
    with pytest.raises(FileNotFoundError, match="neither"):
        images.load(tmp_path)


# ---- the real files, when an instructor has them next to the kit

@pytest.mark.parametrize("name, module, shape", [("mnist", mnist, (1, 28, 28)),
                                                 ("cifar-10-batches-bin", cifar10, (3, 32, 32))])
def test_real_files_when_present(name: str, module: ModuleType, shape: tuple) -> None:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here")
    data = module.load(folder, limit=500)
    assert data.train_x.shape[1:] == shape and len(data.test_x) == 500
    assert set(np.unique(data.train_y)) <= set(range(10))


def test_val_size_must_leave_training_images(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match="val_size"):
        mnist.load(tmp_path, val_size=60)


# ---- the whole lab on a real-format dataset (--data-dir)

@pytest.mark.sandbox
@pytest.mark.slow
def test_the_reference_grades_full_marks_on_an_mnist_data_dir(tmp_path: Path) -> None:
    """With --data-dir the grader trains a twin on the real set (28x28: 5x5 convolutions, two poolings) and
    scores the accuracy against the twin's; the reference matches it exactly."""
    from autograder.grade import grade
    from autograder.lab import Course

    write_mnist(tmp_path / "mnist", n_train=5600, n_test=300)
    result = grade(Course(ROOT), "cnn", ROOT / "solutions" / "cnn", data_dir=tmp_path)
    assert not result.grader_errors and result.score == result.max_score
    notes = " ".join(" ".join(line.feedback) for line in result.tests)
    assert "accuracy minus the twin's (mnist) = +0.0000" in notes
