"""Given: the datasets that ``train`` receives (the grader always uses this copy of the file).

Each dataset is a ``torch.utils.data.Dataset`` whose items are dicts ``{'x': ..., 'label': ...}``.
Iterate over one yourself, or let a ``DataLoader`` shuffle it and stack items into batches::

    for batch in DataLoader(dataset, batch_size=64, shuffle=True):
        x, label = batch["x"], batch["label"]   # x (64, ...), label (64, ...)
"""
import torch
from torch import Tensor
from torch.utils.data import Dataset

NUM_CHARS = 47  # the alphabet of the language-identification words: a-z and 21 accented letters
MAX_WORD_LENGTH = 10
NUM_LANGUAGES = 5


class LabeledDataset(Dataset):
    """Inputs and their labels, one item per row: ``{'x': x[i], 'label': label[i]}``."""

    def __init__(self, x: Tensor, label: Tensor) -> None:
        if len(x) != len(label):
            raise ValueError(f"{len(x)} inputs but {len(label)} labels")
        self.x, self.label = x, label

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"x": self.x[index], "label": self.label[index]}


def perceptron_dataset(points: Tensor, labels: Tensor) -> LabeledDataset:
    """Points (n, d) and their classes (n,), each 1 or -1: x (d,) float32, label a float32 1. or -1."""
    return LabeledDataset(torch.as_tensor(points, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.float32))


def regression_dataset(x: Tensor, y: Tensor) -> LabeledDataset:
    """Inputs and targets of a function of one variable: x (1,) and label (1,), float32."""
    return LabeledDataset(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1),
                          torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1))


def one_hot(classes: Tensor, count: int) -> Tensor:
    """Class ids (n,) -> float32 one-hot rows (n, count)."""
    return torch.nn.functional.one_hot(torch.as_tensor(classes, dtype=torch.int64), count).float()


def digit_dataset(pixels: Tensor, digits: Tensor) -> LabeledDataset:
    """Flat images (n, pixels) in [0, 1] and their digits (n,): x float32 (pixels,), label one-hot (10,)."""
    return LabeledDataset(torch.as_tensor(pixels, dtype=torch.float32), one_hot(digits, 10))


def one_hot_words(char_ids: Tensor) -> Tensor:
    """Words as character ids (n, 10), padded at the end with -1 (the layout of lang_id.npz), ->
    one-hot characters (n, 10, 47), padded at the front with all-zero rows: a word of 4 characters
    has 6 zero rows, then its 4 characters, so every word ends at the last position."""
    ids = torch.as_tensor(char_ids, dtype=torch.int64)
    words = torch.zeros(len(ids), ids.shape[1], NUM_CHARS)
    for i, word in enumerate(ids):
        chars = word[word >= 0]
        words[i, ids.shape[1] - len(chars):] = one_hot(chars, NUM_CHARS)
    return words


def language_dataset(char_ids: Tensor, languages: Tensor) -> LabeledDataset:
    """Words (n, 10) of character ids and their languages (n,): x (10, 47) one-hot characters padded
    at the front, label one-hot (5,)."""
    return LabeledDataset(one_hot_words(char_ids), one_hot(languages, NUM_LANGUAGES))
