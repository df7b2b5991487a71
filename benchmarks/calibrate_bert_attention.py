"""Calibrate the fine-tuning thresholds of bert_attention: the reference's tiny BERT on marked_pairs.

    python benchmarks/calibrate_bert_attention.py

For training seeds 0-4 (the dataset's seed = the training seed), the validation accuracy and the accuracy on
a held-out split drawn from test seed 1000 + seed; then, for the graded run (seed 0), the test accuracy over
ten test seeds (the grader draws a fresh one per grading), and an untrained model for the floor.
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "solutions" / "bert_attention"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    torch.set_num_threads(1)
    sys.path.insert(0, str(LAB))  # the reference (its solution markers are comments) and the given model
    from bert_model import BertConfig, BertForSequenceClassification, fine_tune, predict

    budget = _load("bert_attention_public_tests", LAB / "public_tests.py").FINE_TUNE
    marked_pairs = _load("marked_pairs", ROOT / "data" / "marked_pairs.py")

    def train(seed: int):
        data = marked_pairs.load(None, seed=seed)
        torch.manual_seed(seed)
        model = BertForSequenceClassification(BertConfig(**budget["config"]))
        start = time.process_time()
        fine_tune(model, data.train_x, data.train_y, budget["epochs"], budget["batch_size"], budget["lr"], seed)
        return data, model, time.process_time() - start

    def accuracy(model, x, y) -> float:
        return float((predict(model, x) == y).mean())

    print("seed  val     test    train CPU s")
    for seed in range(5):
        data, model, seconds = train(seed)
        test = marked_pairs.load(None, seed=seed, held_out_seed=1000 + seed)
        print(f"{seed:<5} {accuracy(model, data.val_x, data.val_y):.3f}   "
              f"{accuracy(model, test.test_x, test.test_y):.3f}   {seconds:.1f}")
    _, model, _ = train(0)
    graded = [accuracy(model, d.test_x, d.test_y)
              for d in (marked_pairs.load(None, seed=0, held_out_seed=s) for s in range(10))]
    print(f"graded run (seed 0), test seeds 0-9: {' '.join(f'{a:.3f}' for a in graded)}; min {min(graded):.3f}, "
          f"mean {np.mean(graded):.3f}, max {max(graded):.3f}")
    data = marked_pairs.load(None, seed=0)
    torch.manual_seed(0)
    untrained = BertForSequenceClassification(BertConfig(**budget["config"]))
    print(f"untrained model: val {accuracy(untrained, data.val_x, data.val_y):.3f}")


if __name__ == "__main__":
    main()
