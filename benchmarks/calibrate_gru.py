"""Calibrate the gru lab's accuracy thresholds: the reference trained on char_text (the embedded default,
CPython's pydoc topics) with seeds 0-4 (dataset seed = training seed), next to baselines that a broken
model does not beat by much: the most frequent character, a bigram table of the training text, and the
reference with its outputs lagging one step (the old state appended).

    python benchmarks/calibrate_gru.py [--data-dir DIR] [--seeds 0 1 2 3 4]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from autograder.datasets import Datasets
from autograder.expected import TrustedCode
from autograder.lab import Course

ROOT = Path(__file__).resolve().parents[1]
PREFIX_CHARS, GENERATED_CHARS = 16, 60  # as in solutions/gru/public_tests.py


def trained_accuracy(code: TrustedCode, data, seed: int) -> tuple[float, float]:
    """Validation and test accuracy of the next character after one training run, as the tests score it."""
    result = code.call("train_and_predict", [data.train_x, data.train_y, len(data.info["chars"]),
                                             {"val": data.val_x, "test": data.test_x}, data.val_x[:1, :PREFIX_CHARS],
                                             GENERATED_CHARS], {"seed": seed})
    return (float((np.asarray(result["val"]) == data.val_y).mean()),
            float((np.asarray(result["test"]) == data.test_y).mean()))


def baselines(data) -> dict[str, tuple[float, float]]:
    """Accuracy of the most frequent character and of a bigram table (previous character -> next)."""
    vocab = len(data.info["chars"])
    common = np.bincount(data.train_y, minlength=vocab).argmax()
    table = np.zeros((vocab, vocab))
    np.add.at(table, (data.train_x, data.train_y), 1)
    bigram = table.argmax(axis=1)
    return {"most frequent character": ((data.val_y == common).mean(), (data.test_y == common).mean()),
            "bigram table": ((bigram[data.val_x[:, -1]] == data.val_y).mean(),
                             (bigram[data.test_x[:, -1]] == data.test_y).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--mutant", default="old_state_appended/append_before_update",
                        help="a mutant trained on seed 0 for the margin (empty: none)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lab = Course(ROOT).lab("gru")
    datasets = Datasets(ROOT / "data", args.data_dir)
    reference = TrustedCode(lab.reference_files, lab.probes_source, "gru-calibration")
    print(f"{'run':<44} {'val':>7} {'test':>7} {'cpu s':>7}")
    val, test = [], []
    for seed in args.seeds:
        data = datasets("char_text", seed=seed)
        start = time.process_time()
        v, t = trained_accuracy(reference, data, seed)
        val.append(v)
        test.append(t)
        print(f"{f'reference, seed {seed}':<44} {v:7.4f} {t:7.4f} {time.process_time() - start:7.1f}")
    print(f"{'reference, min / mean':<44} {min(val):7.4f} {min(test):7.4f}   (mean {np.mean(val):.4f} / {np.mean(test):.4f})")
    data = datasets("char_text", seed=0)
    for name, (v, t) in baselines(data).items():
        print(f"{name + ', seed 0':<44} {v:7.4f} {t:7.4f}")
    if args.mutant:
        mutant = next(m for m in lab.mutants if m.id == args.mutant)
        code = TrustedCode(lab.variant_files(mutant), lab.probes_source, "gru-calibration-mutant")
        v, t = trained_accuracy(code, data, 0)
        print(f"{f'mutant {args.mutant}, seed 0':<44} {v:7.4f} {t:7.4f}")


if __name__ == "__main__":
    main()
