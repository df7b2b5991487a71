"""The word_lm loader of the lstm_lm lab: the embedded default (CPython's documentation), the course's
formats on small files written here, and the real files (hw4p1 arrays, WikiText-2) when present."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("word_lm", ROOT / "data" / "word_lm.py")
word_lm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(word_lm)


def real_data() -> Path | None:
    """The shared real datasets: $AUTOGRADER_REAL_DATA, else a shared/datasets folder above the repository."""
    if os.environ.get("AUTOGRADER_REAL_DATA"):
        return Path(os.environ["AUTOGRADER_REAL_DATA"])
    return next((p / "shared" / "datasets" for p in ROOT.parents if (p / "shared" / "datasets" / "hw4p1").is_dir()),
                None)


REAL = real_data()
needs_real = pytest.mark.skipif(REAL is None or not (REAL / "hw4p1").is_dir() or not (REAL / "wikitext2").is_dir(),
                                reason="the shared hw4p1 and wikitext2 files are not on this machine")


# ---- the embedded default

@pytest.fixture(scope="module")
def docs():
    return word_lm.load(None)


def test_default_layout(docs) -> None:
    vocab = docs.info["vocab"]
    assert vocab.dtype.kind == "U" and len(set(vocab.tolist())) == len(vocab) > 500
    assert [vocab[docs.info[k]] for k in ("unk", "sos", "eol")] == ["<unk>", "<sos>", "<eol>"]
    assert docs.train_x.dtype == np.int64 and docs.train_x.ndim == 1 and len(docs.train_x) > 30_000
    assert docs.train_y.shape == (0,)
    for x, y in ((docs.val_x, docs.val_y), (docs.test_x, docs.test_y)):
        assert x.shape == (256, 21) and y.shape == (256,) and x.dtype == y.dtype == np.int64
        assert np.all(x[:, 0] == docs.info["sos"]) and x.min() >= 0 and x.max() < len(vocab) and y.max() < len(vocab)
    assert docs.info["generation_val"].shape == (32, 21) and docs.info["generation_test"].shape == (64, 21)
    assert docs.info["source"] == "pydoc_data"


def test_default_is_english_prose(docs) -> None:
    words = docs.info["vocab"][docs.train_x[:2000]].tolist()
    for common in ("the", "is", "of", ".", ",", "a", "<eol>"):
        assert common in words
    assert np.mean(docs.train_x == docs.info["unk"]) < 0.1  # rare words only


def test_held_out_text_is_not_training_text(docs) -> None:
    """Held-out windows are not training text: few of their 8-word runs occur in the training stream (the
    documentation repeats whole paragraphs across topics; each is kept once), and no whole window does."""
    train = docs.train_x
    starts = {tuple(train[i:i + 8]) for i in range(len(train) - 8)}
    for x, y in ((docs.val_x, docs.val_y), (docs.test_x, docs.test_y)):
        whole = np.concatenate([x[:, 1:], y[:, None]], axis=1)
        assert sum(tuple(row[i:i + 8]) in starts for row in whole for i in range(0, 14, 6)) < 0.03 * 3 * len(x)
        assert not any(any(np.array_equal(row, train[j:j + 21]) for j in np.flatnonzero(train == row[0])[:200])
                       for row in whole[:20])


def test_seeds(docs) -> None:
    """seed picks the validation fixtures, held_out_seed the test ones; the same options give the same arrays."""
    again = word_lm.load(None)
    assert np.array_equal(again.val_x, docs.val_x) and np.array_equal(again.test_x, docs.test_x)
    other_test = word_lm.load(None, held_out_seed=7)
    assert np.array_equal(other_test.val_x, docs.val_x) and not np.array_equal(other_test.test_x, docs.test_x)
    assert np.array_equal(other_test.train_x, docs.train_x)
    other_val = word_lm.load(None, seed=5, held_out_seed=1)
    assert not np.array_equal(other_val.val_x, docs.val_x) and np.array_equal(other_val.test_x, docs.test_x)


def test_source_paths_name_the_stdlib_file() -> None:
    paths = word_lm.source_paths()
    assert paths[0].name == "topics.py" and paths[0].parent.name == "pydoc_data" and paths[0].is_file()
    assert all(p.name.startswith("topics.") for p in paths[1:])


def test_prose_filter() -> None:
    assert word_lm.prose_words("The \"assert\" statement checks a condition and raises an error.") == \
        ["the", '"', "assert", '"', "statement", "checks", "a", "condition", "and", "raises", "an", "error", "."]
    assert word_lm.prose_words(">>> print(1)\n1\n") is None
    assert word_lm.prose_words("assert_stmt ::= \"assert\" expression") is None
    assert word_lm.prose_words("   if __debug__:\n       if not expression: raise AssertionError") is None
    assert word_lm.prose_words("Object's __init__ isn't called twice.")[:4] == ["object's", "__init__", "isn't", "called"]


# ---- the course's formats, on small files written here

VOCAB = ["!", ",", ".", "<eol>", "<sos>", "<unk>", "=", "A", "The", "cat", "dog", "sat", "Title"]


def write_course(root: Path, vocab=VOCAB, prediction: dict | None = None, generation=None) -> Path:
    ids = {w: i for i, w in enumerate(vocab)}
    arrays, fixtures, text = root / "hw4p1", root / "hw4p1" / "fixtures", root / "wikitext2"
    fixtures.mkdir(parents=True)
    text.mkdir()
    np.save(arrays / "vocab.npy", np.array(vocab))
    sentence = [ids[w] for w in "The cat sat , A dog sat .".split()]
    inp = np.array([[ids["<sos>"]] + (sentence * 3)[:20]] * 3, dtype=np.int64)
    np.savez(fixtures / "prediction.npz", **(prediction if prediction is not None else
                                             {"inp": inp, "out": np.array([1, 2, 3], dtype=np.int32)}))
    np.save(fixtures / "generation.npy", generation if generation is not None else inp[:2])
    np.save(fixtures / "generation_test.npy", np.concatenate([inp, inp[:, 1:11]], axis=1))
    line = " The cat sat , A dog sat . The dog sat . \n"
    (text / "valid.txt").write_text(" \n = Title = \n \n" + line + " \n" + " A cat sat zebra . \n")
    (text / "test.txt").write_text(" \n = Title = \n \n" + line * 4)
    return root


def test_course_layout(tmp_path: Path) -> None:
    data = word_lm.load(write_course(tmp_path), held_out_seed=3)
    vocab = data.info["vocab"].tolist()
    assert vocab == VOCAB and data.info["source"] == "wikitext2"
    words = [vocab[i] for i in data.train_x]
    assert words == ("= Title = <eol> The cat sat , A dog sat . The dog sat . <eol> "
                     "A cat sat <unk> . <eol>").split()  # blank lines dropped, zebra unknown
    assert data.val_x.shape == (3, 21) and data.val_y.tolist() == [1, 2, 3] and data.val_y.dtype == np.int64
    assert data.test_x.shape == (3, 21) and np.all(data.test_x[:, 0] == VOCAB.index("<sos>"))
    assert data.info["generation_val"].shape == (2, 21) and data.info["generation_test"].shape == (3, 31)
    test_words = " ".join(vocab[i] for i in data.test_x[0, 1:])
    assert test_words in " ".join(["= Title = <eol>"] + ["The cat sat , A dog sat . The dog sat . <eol>"] * 4)


def test_vocab_of_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    marker = tmp_path / "unpickled"

    class Trap:
        def __reduce__(self):
            return (marker.touch, ())

    np.save(root / "hw4p1" / "vocab.npy", np.array(VOCAB + [Trap()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="unpickling"):
        word_lm.load(root)
    assert not marker.exists()


@pytest.mark.parametrize("case, message", [
    ({"inp": np.zeros((3, 21), dtype=np.int64)}, "no array 'out'"),
    ({"inp": np.zeros((3, 21)), "out": np.zeros(3, dtype=np.int64)}, "integer token ids"),
    ({"inp": np.full((3, 21), 99), "out": np.zeros(3, dtype=np.int64)}, "outside the vocabulary"),
    ({"inp": np.zeros((3, 21), dtype=np.int64), "out": np.zeros(2, dtype=np.int64)}, "3 inputs but 2 labels"),
])
def test_bad_prediction_files(tmp_path: Path, case: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        word_lm.load(write_course(tmp_path, prediction=case))


def test_vocab_without_specials_or_missing_folders(tmp_path: Path) -> None:
    root = write_course(tmp_path / "a")
    np.save(root / "hw4p1" / "vocab.npy", np.array([w for w in VOCAB if w != "<sos>"]))
    with pytest.raises(ValueError, match="no <sos>"):
        word_lm.load(root)
    (tmp_path / "b" / "hw4p1").mkdir(parents=True)
    assert "wikitext2/valid.txt" in word_lm.check_data_dir(tmp_path / "b")
    assert word_lm.check_data_dir(root) is None
    with pytest.raises(FileNotFoundError, match="wikitext2"):
        word_lm.load(tmp_path / "b")


# ---- the real files

@needs_real
def test_real_course_files() -> None:
    data = word_lm.load(REAL)
    vocab = data.info["vocab"]
    assert vocab.dtype.kind == "U" and vocab.shape == (33_280,)
    assert data.val_x.shape == (128, 21) and data.val_y.shape == (128,) and data.test_x.shape == (128, 21)
    assert np.all(data.val_x[:, 0] == data.info["sos"]) and np.all(data.test_x[:, 0] == data.info["sos"])
    assert data.info["generation_val"].shape == (32, 21) and data.info["generation_test"].shape == (128, 31)
    assert 200_000 < len(data.train_x) < 250_000
    ids = {w: i for i, w in enumerate(vocab.tolist())}
    for name in ("valid.txt", "test.txt"):  # the README's promise: every token is in the vocabulary
        words = {w for line in (REAL / "wikitext2" / name).read_text().splitlines() for w in line.split()}
        assert words - set(ids) == set()


@needs_real
def test_real_fixtures_come_from_the_test_text() -> None:
    """prediction.npz is cut from WikiText-2 test: training on valid.txt does not see it."""
    data = word_lm.load(REAL)
    vocab = data.info["vocab"]
    valid = (REAL / "wikitext2" / "valid.txt").read_text()
    test = (REAL / "wikitext2" / "test.txt").read_text()
    found = {"valid": 0, "test": 0}
    for row in data.val_x:
        words = [w for w in vocab[row[1:]].tolist() if w != "<eol>"][:12]
        text = " ".join(words)
        found["valid"] += text in valid
        found["test"] += text in test
    assert found["valid"] == 0 and found["test"] > 100
