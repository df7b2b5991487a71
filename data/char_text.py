"""Real text for character language models, cut into a training stream and held-out next-character windows.

Embedded default: CPython's own reference documentation, the English prose of ``pydoc_data/topics.py``
(the text behind ``help('if')``), which ships with every CPython interpreter: about 465,000 characters.
With ``data_dir``: any plain-text corpus, ``input.txt`` in that folder if present (tiny Shakespeare's
layout), else every ``*.txt`` file in it in name order.
"""
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

TRAIN, VAL = 0.8, 0.1  # the text's first 80 % trains, the next 10 % validates, the last 10 % tests


def source_paths() -> list[Path]:
    """The files the embedded default is read from (the grader hides them from the sandbox)."""
    import pydoc_data.topics

    return [Path(pydoc_data.topics.__file__)]


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds plain text to read (input.txt, or *.txt files), else why not."""
    data_dir = Path(data_dir)
    if (data_dir / "input.txt").is_file() or any(data_dir.glob("*.txt")):
        return None
    return "no input.txt and no *.txt file in it (a plain-text corpus)"


def read_text(data_dir: Path | None) -> str:
    """The whole corpus as one string."""
    if data_dir is None:
        from pydoc_data.topics import topics

        return "\n".join(topics[key].strip() for key in sorted(topics))
    data_dir = Path(data_dir)
    single = data_dir / "input.txt"
    paths = [single] if single.is_file() else sorted(data_dir.glob("*.txt"))
    if not paths:
        raise FileNotFoundError(f"{data_dir} holds no input.txt and no *.txt file: give a folder of plain text")
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def windows(ids: np.ndarray, context: int, limit: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``limit`` windows of ``context`` ids and the id that follows each. Windows start every
    ``context + 1`` ids from a random offset, so no window contains the answer to another."""
    offset = int(rng.integers(0, context + 1))
    starts = np.arange(offset, len(ids) - context, context + 1)
    starts = np.sort(rng.choice(starts, size=min(limit, len(starts)), replace=False))
    return ids[starts[:, None] + np.arange(context)], ids[starts + context]


def load(data_dir: Path | None, seed: int = 0, context: int = 64, n_val: int = 500, n_test: int = 800) -> Dataset:
    """train_x / train_y: the training stream and, at each position, the character that follows (int64, (n,));
    val_x / test_x: windows (N, context) of the later text, val_y / test_y: the character after each.
    info: ``chars``, the vocabulary (a string, index = id), ``source`` and ``context``."""
    text = read_text(data_dir)
    chars = "".join(sorted(set(text)))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text], dtype=np.int64)
    n_train, n_val_chars = int(len(ids) * TRAIN), int(len(ids) * VAL)
    train, val, test = ids[:n_train], ids[n_train:n_train + n_val_chars], ids[n_train + n_val_chars:]
    rng = np.random.default_rng(seed)
    val_x, val_y = windows(val, context, n_val, rng)
    test_x, test_y = windows(test, context, n_test, rng)
    source = "pydoc_data/topics.py (CPython)" if data_dir is None else str(data_dir)
    return Dataset(train[:-1], train[1:], val_x, val_y, test_x, test_y,
                   {"chars": chars, "source": source, "context": context})
