"""The transformer lab's data: the generated number-words task and parallel text in the course's layout
(written here in the exact format: ``<split>.<lang>``, UTF-8, one sentence per line)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("translation_data", ROOT / "data" / "translation.py")
translation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(translation)

PAD, BOS, EOS, UNK = 0, 1, 2, 3


@pytest.mark.parametrize("number, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (42, "forty two"), (100, "one hundred"),
    (105, "one hundred five"), (999, "nine hundred ninety nine"), (1000, "one thousand"),
    (1005, "one thousand five"), (4205, "four thousand two hundred five"), (9999, "nine thousand nine hundred ninety nine"),
    (12345, "twelve thousand three hundred forty five"), (700011, "seven hundred thousand eleven"),
])
def test_number_words(number: int, words: str) -> None:
    assert translation.number_words(number) == words


def decode(ids: np.ndarray, vocab: list[str]) -> list[str]:
    """Rows of ids back to sentences, specials dropped."""
    return [" ".join(vocab[i] for i in row if i > UNK) for row in ids]


def numbers(data, split: str) -> set[int]:
    return {int(s.replace(" ", "")) for s in decode(getattr(data, f"{split}_y"), data.info["tgt_vocab"])}


def test_generated_task_is_consistent_and_disjoint() -> None:
    data = translation.load(None, seed=0, held_out_seed=7)
    info = data.info
    assert info["src_vocab"][:4] == info["tgt_vocab"][:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert sorted(info["tgt_vocab"][4:]) == [str(d) for d in range(10)]
    for split, size in (("train", 3000), ("val", 400), ("test", 400)):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        assert x.dtype == y.dtype == np.int64 and len(x) == len(y) == size
        assert (x[:, 0] != PAD).all() and UNK not in x and BOS not in x and EOS not in x
        assert ((y == EOS).sum(axis=1) == 1).all()                     # exactly one EOS per target
        after = np.cumsum(y == EOS, axis=1) - (y == EOS) > 0
        assert (y[after] == PAD).all() and (y[~after] != PAD).all()   # PAD exactly after EOS
        targets = decode(y, info["tgt_vocab"])
        assert decode(x, info["src_vocab"]) == [translation.number_words(int(t.replace(" ", ""))) for t in targets]
    train, val, test = numbers(data, "train"), numbers(data, "val"), numbers(data, "test")
    assert len(train) == 3000 and not (train & val) and not (train & test) and not (val & test)
    assert max(train | val | test) <= 9999


def test_held_out_split_comes_from_the_graders_seed() -> None:
    a, b = translation.load(None, seed=0, held_out_seed=1), translation.load(None, seed=0, held_out_seed=2)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.val_y, b.val_y)
    assert numbers(a, "test") != numbers(b, "test")
    again = translation.load(None, seed=0, held_out_seed=1)
    assert np.array_equal(a.test_x, again.test_x) and np.array_equal(a.test_y, again.test_y)
    # grading always passes its secret (datasets.HeldOut); without one (check, release) the split follows seed
    assert numbers(translation.load(None, seed=0), "test") == numbers(translation.load(None, seed=0), "test")
    assert np.array_equal(translation.load(None, seed=0).val_x, a.val_x)
    assert not np.array_equal(translation.load(None, seed=1, held_out_seed=1).train_x, a.train_x)


def test_generated_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        translation.load(None, n_train=90, n_val=10, n_test=10, max_number=99)


def write_corpus(folder: Path, pairs: dict[str, list[tuple[str, str]]], src: str = "en", tgt: str = "de") -> None:
    for split, rows in pairs.items():
        (folder / f"{split}.{src}").write_text("".join(s + "\n" for s, _ in rows), encoding="utf-8")
        (folder / f"{split}.{tgt}").write_text("".join(t + "\n" for _, t in rows), encoding="utf-8")


CORPUS = {
    "train": [("a man is sleeping .", "ein mann schläft ."), ("a dog runs .", "ein hund läuft ."),
              ("", ""), ("the dog is sleeping .", "der hund schläft .")],
    "val": [("a dog is sleeping .", "ein hund schläft .")],
    "test": [("a cat runs .", "eine katze läuft ."), ("the man runs .", "der mann läuft .")],
}


def test_parallel_text_in_the_course_layout(tmp_path: Path) -> None:
    write_corpus(tmp_path, CORPUS)
    data = translation.load(tmp_path)
    src_vocab, tgt_vocab = data.info["src_vocab"], data.info["tgt_vocab"]
    assert src_vocab[4:6] == [".", "a"]                 # most frequent first, ties in sorted order
    assert "katze" not in tgt_vocab and "schläft" in tgt_vocab  # vocabularies come from train only
    assert data.train_x.shape == (3, 5) and len(data.train_y) == 3  # the blank pair is dropped
    assert decode(data.train_x, src_vocab)[0] == "a man is sleeping ."
    assert decode(data.train_y, tgt_vocab)[2] == "der hund schläft ."
    assert data.test_x[0, 2] == src_vocab.index("runs") and data.test_x[0, 1] == UNK  # "cat" is unknown
    assert data.test_y[0, 0] == UNK and data.test_y[0, 4] == EOS
    assert data.val_y.shape == (1, 5) and data.val_y[0, -1] == EOS
    assert data.info["texts"]["test"][1][1] == "der mann läuft ."


def test_parallel_text_other_languages_and_errors(tmp_path: Path) -> None:
    write_corpus(tmp_path, CORPUS)
    data = translation.load(tmp_path, src="de", tgt="en")  # German to English from the same files
    assert decode(data.train_x, data.info["src_vocab"])[1] == "ein hund läuft ."
    assert decode(data.test_y, data.info["tgt_vocab"])[0] == "a runs ." and data.test_y[0, 1] == UNK
    with pytest.raises(FileNotFoundError, match="train.fr is missing"):
        translation.load(tmp_path, tgt="fr")
    (tmp_path / "val.en").write_text("one line\nanother line\n", encoding="utf-8")
    with pytest.raises(ValueError, match="val.de has 1 lines but val.en has 2"):
        translation.load(tmp_path, src="de", tgt="en")
