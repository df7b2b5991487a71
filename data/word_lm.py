"""Word-level language-modelling data in the course's layout: a vocabulary (index = token id), a training
stream of token ids (articles concatenated, ``<eol>`` at the end of every paragraph), next-word prediction
fixtures (``<sos>`` and 20 words of context -> the id of the next word) and prompts for generation.

Embedded default: the English prose of CPython's own documentation, as the standard library ships it for
``help()`` (``pydoc_data/topics.py``: the language reference's sections on statements, expressions, the data
model...). Paragraphs of prose are kept once each (code, grammar rules, tables and repeated paragraphs are
left out), lower-cased and cut into words and punctuation; the stream is cut into blocks of 1000 words, of
which every tenth (from the fourth) is validation text and every tenth (from the ninth) test text, and the
rest is the training text. The vocabulary is every word seen at least 5 times in the training text; the
others become ``<unk>``.

With ``data_dir``: the course's own arrays under ``data_dir/hw4p1`` (``vocab.npy``, ``fixtures/prediction.npz``,
``fixtures/generation.npy``, ``fixtures/generation_test.npy``) and WikiText-2 under ``data_dir/wikitext2``: the
model trains on ``valid.txt`` (the train split is not part of those files) and the held-out fixtures are cut
from ``test.txt``. Arrays are read with ``allow_pickle=False``, never unpickled.
"""
from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

SOS, EOL, UNK = "<sos>", "<eol>", "<unk>"
CONTEXT = 20  # words of context in a prediction fixture or a prompt, after <sos>
BLOCK = 1000  # words per block of the embedded default's stream when it is split
MIN_COUNT = 5  # a training word seen fewer times becomes <unk> (embedded default)
WORD = re.compile(r"[a-z_][a-z0-9_]*(?:'[a-z]+)?|[0-9]+|\S")
NOT_PROSE = (">>>", "::=", "+--", "|", "***", "===", "---")
REAL_FILES = ("hw4p1/vocab.npy", "hw4p1/fixtures/prediction.npz", "hw4p1/fixtures/generation.npy",
              "hw4p1/fixtures/generation_test.npy", "wikitext2/valid.txt", "wikitext2/test.txt")


def source_paths() -> list[Path]:
    """The files the embedded default is read from (the grader hides them from the sandbox): the
    standard library's pydoc_data/topics.py and its compiled copies."""
    spec = importlib.util.find_spec("pydoc_data.topics")
    source = Path(spec.origin)
    return [source, *sorted(source.parent.glob("__pycache__/topics.*.pyc"))]


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds the course's arrays and WikiText-2's text, else what is missing."""
    missing = [name for name in REAL_FILES if not (Path(data_dir) / name).is_file()]
    return f"no {', '.join(missing)} in it (the course's hw4p1 arrays and WikiText-2)" if missing else None


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, fixtures: int = 256,
         prompts: int = 32, test_prompts: int = 64) -> Dataset:
    """The corpus as arrays (all token ids int64):

    - ``train_x`` (n,): the training stream; ``train_y`` is empty (a language model's targets are its
      inputs shifted by one word: the lab builds them);
    - ``val_x`` / ``test_x`` (N, 21): ``<sos>`` then 20 words of held-out text; ``val_y`` / ``test_y`` (N,):
      the word that follows. ``seed`` picks the validation fixtures, ``held_out_seed`` (the grader's secret for
      each grading run) the test fixtures and test prompts;
    - ``info``: ``vocab`` (array of str), ``generation_val`` / ``generation_test`` (prompts, one per row,
      ``<sos>`` first), the ids of ``sos``, ``eol``, ``unk``, and ``source``.

    ``fixtures``, ``prompts`` and ``test_prompts`` size the embedded default's fixtures; the course's own
    files fix their own (128 prediction fixtures, 32 and 128 prompts).
    """
    test_seed = seed + 1 if held_out_seed is None else held_out_seed
    if data_dir is None:
        return _embedded(seed, test_seed, fixtures, prompts, test_prompts)
    return _course(Path(data_dir), test_seed)


# ---- the embedded default: CPython's documentation --------------------------------------------------

def prose_words(block: str) -> list[str] | None:
    """The words of a paragraph of prose, lower-cased; None for code, grammar, tables and headings."""
    text = " ".join(line.strip() for line in block.splitlines() if line.strip()).replace("\u2019", "'")
    if not text or any(mark in text for mark in NOT_PROSE) or not re.search(r"[.:?!]$", text):
        return None
    words = WORD.findall(text.lower())
    if len(words) < 6 or sum(w[0].isalpha() or w[0] == "_" for w in words) < 0.6 * len(words):
        return None
    return words


def documentation_words() -> list[str]:
    """Every paragraph of prose of the documentation's topics in name order, each ended by <eol>; a paragraph
    that several topics share (the documentation repeats whole sections) is kept once, where it first occurs."""
    spec = importlib.util.spec_from_file_location("_pydoc_topics", source_paths()[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    words, seen = [], set()
    for name in sorted(module.topics):
        for block in re.split(r"\n\s*\n", module.topics[name]):
            paragraph = prose_words(block)
            if paragraph and tuple(paragraph) not in seen:
                seen.add(tuple(paragraph))
                words += paragraph + [EOL]
    return words


def _embedded(seed: int, test_seed: int, fixtures: int, prompts: int, test_prompts: int) -> Dataset:
    words = documentation_words()
    blocks = [words[i:i + BLOCK] for i in range(0, len(words), BLOCK)]
    part = {"val": 3, "test": 8}
    train = [w for i, block in enumerate(blocks) if i % 10 not in part.values() for w in block]
    val = [w for i, block in enumerate(blocks) if i % 10 == part["val"] for w in block]
    test = [w for i, block in enumerate(blocks) if i % 10 == part["test"] for w in block]
    counts = Counter(train)
    vocab = [UNK, SOS, EOL] + sorted(w for w, n in counts.items() if n >= MIN_COUNT and w not in (UNK, SOS, EOL))
    ids = {w: i for i, w in enumerate(vocab)}
    encode = lambda text: np.array([ids.get(w, 0) for w in text], dtype=np.int64)  # noqa: E731
    val_ids, test_ids = encode(val), encode(test)
    val_x, val_y = windows(val_ids, np.random.default_rng(seed), fixtures, ids[SOS])
    test_x, test_y = windows(test_ids, np.random.default_rng([test_seed, 1]), fixtures, ids[SOS])
    generation_val, _ = windows(val_ids, np.random.default_rng([seed, 2]), prompts, ids[SOS])
    generation_test, _ = windows(test_ids, np.random.default_rng([test_seed, 3]), test_prompts, ids[SOS])
    info = {"vocab": np.array(vocab), "generation_val": generation_val, "generation_test": generation_test,
            "sos": ids[SOS], "eol": ids[EOL], "unk": ids[UNK], "source": "pydoc_data"}
    return Dataset(encode(train), np.zeros(0, dtype=np.int64), val_x, val_y, test_x, test_y, info)


def windows(stream: np.ndarray, rng: np.random.Generator, n: int, sos: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct windows of the stream: ``<sos>`` + CONTEXT words (n, CONTEXT + 1), and the next word (n,)."""
    starts = np.sort(rng.choice(len(stream) - CONTEXT, size=n, replace=False))
    x = np.stack([np.concatenate([[sos], stream[s:s + CONTEXT]]) for s in starts]).astype(np.int64)
    return x, stream[starts + CONTEXT].astype(np.int64)


# ---- the course's files: hw4p1 arrays and WikiText-2 text -------------------------------------------

def load_vocab(path: Path) -> np.ndarray:
    """vocab.npy: an array of str (index = token id). Refused, never unpickled, if it is not one."""
    try:
        vocab = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a plain array of str ({exc}); an array of Python objects would need "
                         "unpickling, which this kit never does: save it with a unicode dtype "
                         "(np.save(path, np.array(words, dtype=str)))") from None
    if vocab.dtype.kind != "U" or vocab.ndim != 1:
        raise ValueError(f"{path}: expected a 1-D array of str, got dtype {vocab.dtype} and shape {vocab.shape}")
    return vocab


def load_ids(path: Path, key: str | None, vocab_size: int, ndim: int) -> np.ndarray:
    """Token ids from an .npy file or one array of an .npz file, checked, as int64."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if key not in loaded.files:
                    raise ValueError(f"no array {key!r} in it (it has {loaded.files})")
                array = loaded[key]
        elif key is not None:
            raise ValueError(f"expected an .npz archive holding {key!r}")
        else:
            array = loaded
    except ValueError as exc:  # also what an array of Python objects raises without pickle
        raise ValueError(f"{path}: cannot be read as token ids: {exc}") from None
    if array.dtype.kind not in "iu" or array.ndim != ndim:
        raise ValueError(f"{path}{f'[{key}]' if key else ''}: expected {ndim}-D integer token ids, "
                         f"got dtype {array.dtype} and shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        raise ValueError(f"{path}: token ids outside the vocabulary of {vocab_size} words")
    return array.astype(np.int64)


def text_ids(path: Path, ids: dict[str, int]) -> np.ndarray:
    """A WikiText file as the course's stream: the words of every non-empty line, then <eol>; a word
    missing from the vocabulary becomes <unk>."""
    unk = ids[UNK]
    words = [w for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
             for w in line.split() + [EOL]]
    return np.array([ids.get(w, unk) for w in words], dtype=np.int64)


def _course(data_dir: Path, test_seed: int) -> Dataset:
    arrays, text = data_dir / "hw4p1", data_dir / "wikitext2"
    problem = check_data_dir(data_dir)
    if problem:
        raise FileNotFoundError(f"word_lm: {data_dir}: {problem}")
    vocab = load_vocab(arrays / "vocab.npy")
    ids = {w: i for i, w in enumerate(vocab.tolist())}
    for special in (SOS, EOL, UNK):
        if special not in ids:
            raise ValueError(f"{arrays / 'vocab.npy'} has no {special} token")
    fixtures = arrays / "fixtures"
    val_x = load_ids(fixtures / "prediction.npz", "inp", len(vocab), 2)
    val_y = load_ids(fixtures / "prediction.npz", "out", len(vocab), 1)
    if len(val_x) != len(val_y):
        raise ValueError(f"{fixtures / 'prediction.npz'}: {len(val_x)} inputs but {len(val_y)} labels")
    test_stream = text_ids(text / "test.txt", ids)
    test_x, test_y = windows(test_stream, np.random.default_rng([test_seed, 1]), len(val_x), ids[SOS])
    info = {"vocab": vocab, "sos": ids[SOS], "eol": ids[EOL], "unk": ids[UNK], "source": "wikitext2",
            "generation_val": load_ids(fixtures / "generation.npy", None, len(vocab), 2),
            "generation_test": load_ids(fixtures / "generation_test.npy", None, len(vocab), 2)}
    return Dataset(text_ids(text / "valid.txt", ids), np.zeros(0, dtype=np.int64), val_x, val_y, test_x, test_y, info)
