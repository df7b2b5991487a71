"""Calibration of the cnn lab's accuracy thresholds (the numbers recorded in solutions/cnn/lab.toml).

For each seed s in 0..4: the digits split of seed s, a twin trained with seed s on its training split
(twin.py's budget), and the reference HandCNN run with the twin's weights: its validation and test
accuracy, and its accuracy minus the twin's. Then, on seed 0 (the committed twin), the accuracy of each
known mistake's first form that still runs, to show where the zero of the thresholds sits.

    python benchmarks/calibrate_cnn.py
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from autograder.datasets import Datasets
from autograder.expected import import_from_memory
from autograder.lab import Course

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [0, 1, 2, 3, 4]


def load_twin():
    spec = importlib.util.spec_from_file_location("cnn_twin", ROOT / "solutions" / "cnn" / "twin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def accuracies(cnn, layers: list, params: dict, data) -> tuple[float, float]:
    model = cnn.HandCNN.from_twin(layers, params)
    return tuple(float((model.predict_np(getattr(data, f"{split}_x")) == getattr(data, f"{split}_y")).mean())
                 for split in ("val", "test"))


def main() -> None:
    torch.set_num_threads(1)
    course = Course(ROOT)
    lab = course.lab("cnn")
    twin = load_twin()
    datasets = Datasets(course.data_dir)
    reference = import_from_memory(lab.reference_files, "cnn", "cnn-calibration")
    rows = []
    for seed in SEEDS:
        data = datasets("images", seed=seed)
        layers, params = twin.load() if seed == twin.SEED else twin.train_on(data, seed)
        val, test = accuracies(reference, layers, params, data)
        twin_val, twin_test = (float((twin.logits(layers, params, getattr(data, f"{s}_x")).argmax(1)
                                      == getattr(data, f"{s}_y")).mean()) for s in ("val", "test"))
        rows.append((seed, val, test, val - twin_val, test - twin_test))
        print(f"seed {seed}: validation {val:.4f}  test {test:.4f}  minus the twin's: {val - twin_val:+.4f} "
              f"{test - twin_test:+.4f}", flush=True)
    for name, column in (("validation", 1), ("test", 2)):
        values = [row[column] for row in rows]
        print(f"{name}: reference = {[round(v, 4) for v in values]}, min {min(values):.4f}, mean {np.mean(values):.4f}")
    print("known mistakes on seed 0 (committed twin), first form of each, validation / test accuracy:")
    data = datasets("images", seed=twin.SEED)
    layers, params = twin.load()
    seen = set()
    for mutant in lab.mutants:
        if mutant.mistake in seen:
            continue
        seen.add(mutant.mistake)
        try:
            module = import_from_memory(lab.variant_files(mutant), "cnn", f"cnn-{mutant.id}")
            val, test = accuracies(module, layers, params, data)
            print(f"  {mutant.id:45s} {val:.4f} / {test:.4f}")
        except Exception as exc:  # noqa: BLE001 - a mutant that crashes on the network scores nothing
            print(f"  {mutant.id:45s} crashes ({type(exc).__name__})")


if __name__ == "__main__":
    main()
