"""Parallel text for translation, as padded arrays of token ids.

Embedded default (generated): English number words and their digits, one token per word and per digit:
"three thousand five" -> "3 0 0 5", for numbers 0..9999. The training, validation and test numbers are
disjoint, so translating the test split needs the rules (where the zeros go), not memory.

With ``data_dir``: a course's parallel files, ``train.<src>`` / ``train.<tgt>``, ``val.*`` and
``test.*`` (e.g. ``train.en`` / ``train.de``), one sentence per line, line i of one language translating
line i of the other. Tokens are split on whitespace; each vocabulary comes from the training split.

Ids: 0 <pad>, 1 <bos>, 2 <eos>, 3 <unk> in both vocabularies. ``x`` (N, S) holds the source ids padded
with 0; ``y`` (N, T) the target ids, then <eos>, then padding.
"""
from collections import Counter
from pathlib import Path

import numpy as np

from autograder.datasets import Dataset

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
PAD, BOS, EOS, UNK = range(4)
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SPLITS = ("train", "val", "test")


def number_words(n: int) -> str:
    """English words for 0 <= n <= 999999, without "and" or hyphens: 4205 -> "four thousand two hundred five"."""
    if n == 0:
        return "zero"
    words = []
    for value, scale in ((n // 1000, "thousand"), (n % 1000, "")):
        if value == 0:
            continue
        hundreds, rest = divmod(value, 100)
        if hundreds:
            words += [ONES[hundreds], "hundred"]
        if rest >= 20:
            words += [TENS[rest // 10]] + ([ONES[rest % 10]] if rest % 10 else [])
        elif rest:
            words.append(ONES[rest])
        if scale:
            words.append(scale)
    return " ".join(words)


def number_pairs(numbers: np.ndarray) -> tuple[list[str], list[str]]:
    """(words, digits separated by spaces) for each number."""
    return [number_words(int(n)) for n in numbers], [" ".join(str(int(n))) for n in numbers]


def build_vocab(sentences: list[str], min_freq: int = 1) -> list[str]:
    """The specials, then every token seen at least ``min_freq`` times, most frequent first (ties sorted)."""
    counts = Counter(token for sentence in sentences for token in sentence.split())
    kept = sorted((token for token, count in counts.items() if count >= min_freq), key=lambda t: (-counts[t], t))
    return SPECIALS + [token for token in kept if token not in SPECIALS]


def encode(sentences: list[str], vocab: list[str], eos: bool) -> np.ndarray:
    """(N, longest) int64 ids, PAD-padded; unknown tokens become UNK; with ``eos`` each row ends in EOS."""
    index = {token: i for i, token in enumerate(vocab)}
    rows = [[index.get(token, UNK) for token in sentence.split()] + ([EOS] if eos else []) for sentence in sentences]
    ids = np.full((len(rows), max(map(len, rows), default=0)), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
    return ids


def read_parallel(data_dir: Path, src: str, tgt: str) -> dict[str, tuple[list[str], list[str]]]:
    """{split: (source lines, target lines)} from ``<split>.<src>`` and ``<split>.<tgt>`` under data_dir."""
    texts = {}
    for split in SPLITS:
        pair = []
        for lang in (src, tgt):
            path = Path(data_dir) / f"{split}.{lang}"
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: --data-dir needs train/val/test.{src} and .{tgt}, "
                                        "one sentence per line")
            pair.append(path.read_text(encoding="utf-8").splitlines())
        if len(pair[0]) != len(pair[1]):
            raise ValueError(f"{split}.{src} has {len(pair[0])} lines but {split}.{tgt} has {len(pair[1])}: "
                             "line i of one file must translate line i of the other")
        keep = [i for i in range(len(pair[0])) if pair[0][i].strip() and pair[1][i].strip()]
        texts[split] = ([pair[0][i] for i in keep], [pair[1][i] for i in keep])
    return texts


def generate(seed: int, held_out_seed: int, n_train: int, n_val: int, n_test: int,
             max_number: int) -> dict[str, tuple[list[str], list[str]]]:
    """Disjoint sets of numbers: train and validation from ``seed``, test from ``held_out_seed`` among
    the numbers neither of them uses."""
    order = np.random.default_rng(seed).permutation(max_number + 1)
    train, val, rest = order[:n_train], order[n_train:n_train + n_val], np.sort(order[n_train + n_val:])
    test = np.random.default_rng(held_out_seed).choice(rest, size=n_test, replace=False)
    return {"train": number_pairs(train), "val": number_pairs(val), "test": number_pairs(test)}


def check_data_dir(data_dir: Path) -> str | None:
    """None when the folder holds parallel text (train.<src> and train.<tgt>, with val.* and test.*)."""
    languages = {path.suffix for path in Path(data_dir).glob("train.*")}
    if len(languages) < 2:
        return "no parallel text in it (train.<src> and train.<tgt>, val.*, test.*, one sentence per line)"
    missing = [f"{split}{lang}" for split in SPLITS[1:] for lang in sorted(languages) if not (Path(data_dir) / f"{split}{lang}").is_file()]
    return f"parallel text without {', '.join(missing)}" if missing else None


def load(data_dir: Path | None, seed: int = 0, held_out_seed: int | None = None, n_train: int = 3000,
         n_val: int = 400, n_test: int = 400, max_number: int = 9999, src: str = "en", tgt: str = "de",
         min_freq: int = 1) -> Dataset:
    """Train / val / test arrays of ids (see the module's docstring); ``info`` holds both vocabularies
    and the texts. The generated test split comes from ``held_out_seed``, the grader's secret for each
    grading run (from ``seed`` when None), so no public seed reproduces the held-out numbers."""
    if data_dir is None:
        if n_train + n_val + n_test > max_number + 1:
            raise ValueError(f"{n_train + n_val + n_test} distinct numbers do not fit in 0..{max_number}")
        held_out_seed = [seed, 2] if held_out_seed is None else held_out_seed
        texts = generate(seed, held_out_seed, n_train, n_val, n_test, max_number)
    else:
        texts = read_parallel(data_dir, src, tgt)
    src_vocab = build_vocab(texts["train"][0], min_freq)
    tgt_vocab = build_vocab(texts["train"][1], min_freq)
    arrays = {}
    for split, (sources, targets) in texts.items():
        arrays[f"{split}_x"] = encode(sources, src_vocab, eos=False)
        arrays[f"{split}_y"] = encode(targets, tgt_vocab, eos=True)
    return Dataset(**arrays, info={"src_vocab": src_vocab, "tgt_vocab": tgt_vocab, "texts": texts,
                                   "pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK})
