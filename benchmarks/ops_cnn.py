"""The cnn lab's hand-written NumPy ops next to PyTorch's on the same shapes, in one run on one thread:
the reference corr2d (a loop over the kernel offsets) and MaxPool2D against torch.nn.functional.conv2d and
max_pool2d. Each time is the best of 5 rounds of whole calls; the ratio is hand / torch.

    python benchmarks/ops_cnn.py
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5

# (what, images (B, I, H, W), kernels (O, I, h, w) or a pool window)
CONV_SHAPES = [("digits conv1", (270, 1, 8, 8), (8, 1, 3, 3)),
               ("digits conv2", (270, 8, 3, 3), (16, 8, 2, 2)),
               ("MNIST conv1", (64, 1, 28, 28), (8, 1, 5, 5)),
               ("MNIST conv2", (64, 8, 12, 12), (16, 8, 5, 5)),
               ("CIFAR-10 conv1", (64, 3, 32, 32), (8, 3, 5, 5)),
               ("non-square", (32, 16, 15, 21), (32, 16, 3, 7))]
POOL_SHAPES = [("digits pool", (270, 8, 6, 6), (2, 2)),
               ("MNIST pool1", (64, 8, 24, 24), (2, 2)),
               ("CIFAR-10 pool1", (64, 8, 28, 28), (2, 2)),
               ("odd, non-square", (32, 16, 15, 21), (3, 2))]


def reference_cnn():
    """solutions/cnn/cnn.py (its solution markers are comments: it imports as it is)."""
    spec = importlib.util.spec_from_file_location("cnn_reference", ROOT / "solutions" / "cnn" / "cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_time(call: Callable[[], object]) -> float:
    """Seconds per call: the best of ROUNDS rounds, each enough calls to last about 50 ms."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-6)
    number = max(1, int(0.05 / once))
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def main() -> None:
    torch.set_num_threads(1)
    cnn = reference_cnn()
    rng = np.random.default_rng(0)
    table = Table("op", "shape", "hand (ms)", "torch (ms)", "hand / torch",
                  title="cnn lab: hand-written NumPy ops vs PyTorch (float32, one thread)")
    for what, image, kernel in CONV_SHAPES:
        X, K = rng.normal(size=image).astype(np.float32), rng.normal(size=kernel).astype(np.float32)
        tx, tk = torch.from_numpy(X), torch.from_numpy(K)
        assert np.allclose(cnn.corr2d(X, K), F.conv2d(tx, tk).numpy(), rtol=1e-4, atol=1e-3)
        hand = best_time(lambda: cnn.corr2d(X, K))
        with torch.no_grad():
            ref = best_time(lambda: F.conv2d(tx, tk))
        table.add_row(f"corr2d / conv2d: {what}", f"X {image} K {kernel}", f"{hand * 1e3:.3f}", f"{ref * 1e3:.3f}",
                      f"{hand / ref:.1f}")
    for what, image, window in POOL_SHAPES:
        X = rng.normal(size=image).astype(np.float32)
        tx, pool = torch.from_numpy(X), cnn.MaxPool2D(window)
        assert np.array_equal(pool.forward_np(X), F.max_pool2d(tx, window).numpy())
        hand = best_time(lambda: pool.forward_np(X))
        with torch.no_grad():
            ref = best_time(lambda: F.max_pool2d(tx, window))
        table.add_row(f"MaxPool2D / max_pool2d: {what}", f"X {image} window {window}", f"{hand * 1e3:.3f}",
                      f"{ref * 1e3:.3f}", f"{hand / ref:.1f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
