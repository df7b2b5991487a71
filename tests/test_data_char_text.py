"""The char_text loader: the embedded default (CPython's pydoc topics), plain-text folders in the layouts it
accepts, the held-out windows (no window holds another's answer), and the shared tiny Shakespeare file."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = Path("/work/shared/datasets/tiny_shakespeare")


def loader():
    spec = importlib.util.spec_from_file_location("char_text_under_test", ROOT / "data" / "char_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode(ids: np.ndarray, chars: str) -> str:
    return "".join(chars[i] for i in ids)


def check_splits(data, text: str, context: int) -> None:
    """Streams aligned by one character, windows of real text each followed by its label, and no window
    that contains the position of another window's label."""
    chars = data.info["chars"]
    assert chars == "".join(sorted(set(text)))
    assert data.train_x.dtype == data.train_y.dtype == np.int64
    assert np.array_equal(data.train_x[1:], data.train_y[:-1])
    assert decode(np.append(data.train_x, data.train_y[-1]), chars) == text[:len(data.train_x) + 1]
    for x, y in ((data.val_x, data.val_y), (data.test_x, data.test_y)):
        assert x.shape[1] == context and x.shape[0] == y.shape[0] > 0
        for row, label in zip(x[:20], y[:20]):
            assert decode(np.append(row, label), chars) in text


def test_embedded_default_is_cpython_prose() -> None:
    module = loader()
    data = module.load(None, seed=0)
    text = module.read_text(None)
    assert len(text) > 400_000 and "the" in text
    check_splits(data, text, context=64)
    paths = module.source_paths()
    assert paths and all(path.is_file() and path.name == "topics.py" for path in paths)


def test_seed_moves_the_windows_not_the_text() -> None:
    module = loader()
    a, b = module.load(None, seed=0), module.load(None, seed=1)
    assert np.array_equal(a.train_x, b.train_x)
    assert not np.array_equal(a.test_x, b.test_x)


def test_windows_never_contain_another_windows_label() -> None:
    module = loader()
    ids = np.arange(1000)  # every id is its own position
    x, y = module.windows(ids, context=10, limit=50, rng=np.random.default_rng(3))
    assert x.shape == (50, 10) and np.array_equal(x[:, -1] + 1, y)
    assert not set(y.tolist()) & set(x.ravel().tolist())


def test_plain_text_folder(tmp_path: Path) -> None:
    text = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 200)
    (tmp_path / "input.txt").write_text(text, encoding="utf-8")
    (tmp_path / "other.txt").write_text("ignored when input.txt exists", encoding="utf-8")
    module = loader()
    data = module.load(tmp_path, seed=0, context=16, n_val=20, n_test=30)
    check_splits(data, text, context=16)
    assert data.val_x.shape == (20, 16) and data.test_x.shape == (30, 16)


def test_folder_of_txt_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("second part of the corpus. " * 100, encoding="utf-8")
    (tmp_path / "a.txt").write_text("first part of the corpus. " * 100, encoding="utf-8")
    module = loader()
    text = module.read_text(tmp_path)
    assert text.startswith("first part") and "second part" in text


def test_folder_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no input.txt"):
        loader().load(tmp_path)


@pytest.mark.skipif(not (SHAKESPEARE / "input.txt").is_file(), reason="the shared tiny Shakespeare file is absent")
def test_tiny_shakespeare() -> None:
    module = loader()
    data = module.load(SHAKESPEARE, seed=0)
    text = (SHAKESPEARE / "input.txt").read_text(encoding="utf-8")
    check_splits(data, text, context=64)
    assert len(data.info["chars"]) == 65


def test_held_out_windows_come_after_the_training_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz \n"), size=20_000))  # every 16-gram is unique
    (tmp_path / "input.txt").write_text(text, encoding="utf-8")
    module = loader()
    data = module.load(tmp_path, seed=0, context=16, n_val=50, n_test=50)
    chars = data.info["chars"]
    val_start, test_start = int(len(text) * module.TRAIN), int(len(text) * (module.TRAIN + module.VAL))
    for x, first in ((data.val_x, val_start), (data.test_x, test_start)):
        for row in x:
            assert text.index(decode(row, chars)) >= first


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.skipif(not (SHAKESPEARE / "input.txt").is_file(), reason="the shared tiny Shakespeare file is absent")
def test_the_gru_reference_earns_full_marks_on_tiny_shakespeare() -> None:
    """A corpus given with --data-dir has bounds of its own: the reference is not charged for another text."""
    from autograder.grade import grade
    from autograder.lab import Course

    result = grade(Course(ROOT), "gru", ROOT / "solutions" / "gru", data_dir=SHAKESPEARE)
    assert result.score == result.max_score, [line.feedback for line in result.tests if line.score < line.max_score]
