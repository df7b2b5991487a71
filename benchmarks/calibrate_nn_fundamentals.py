"""Calibrate the thresholds of nn_fundamentals: the reference's metrics over several seeds (data seed =
training seed = test seed), each training timed in CPU seconds on one thread.

    python benchmarks/calibrate_nn_fundamentals.py                      # seeds 0-4, embedded defaults
    python benchmarks/calibrate_nn_fundamentals.py --data-dir DIR       # also lang_id.npz / MNIST under DIR
    python benchmarks/calibrate_nn_fundamentals.py --variant language_last_character_only/last_only

The tests grade seed 0 with a secret test seed for the generated data; lab.toml records these numbers.
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

LAB = "nn_fundamentals"
ROOT = Path(__file__).resolve().parents[1]


def load_public_tests(lab) -> dict:
    """The lab's public test module (for the shared budgets and data helpers), loaded by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nnf_public_tests", lab.solution_dir / "public_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(code: TrustedCode, probe: str, *args, **kwargs) -> tuple[dict, float]:
    start = time.process_time()
    result = code.call(probe, list(args), kwargs)
    return result, time.process_time() - start


def accuracy(predicted, labels) -> float:
    return float((np.asarray(predicted) == labels).mean())


def mse(predicted, labels) -> float:
    return float(np.mean((np.asarray(predicted, dtype=np.float64) - labels) ** 2))


def measure(code: TrustedCode, datasets: Datasets, tests, seed: int, data_dir: Path | None) -> list[tuple]:
    """(question, data, metric, val, test, cpu seconds) for every training of the lab."""
    rows = []
    sine = datasets("sine", seed=seed, held_out_seed=seed)
    got, seconds = timed(code, "regression_train_predict", sine.train_x, sine.train_y, sine.val_x, sine.test_x, seed=seed)
    rows.append(("q2", "sine", "mse", mse(got["val"], sine.val_y), mse(got["test"], sine.test_y), seconds))

    digit_sources = [("digits", datasets("digits", seed=seed, images=True))]
    if data_dir is not None and any(data_dir.glob("train-images-idx3-ubyte*")):
        digit_sources.append(("mnist", datasets("mnist", seed=seed)))
    for source, data in digit_sources:
        flat = [np.ascontiguousarray(x.reshape(len(x), -1)) for x in (data.train_x, data.val_x, data.test_x)]
        for question, probe, extra in (("q3", "digit_train_predict", {}),
                                       ("q5", "conv_train_predict", {"image_size": data.train_x.shape[-1]})):
            got, seconds = timed(code, probe, flat[0], data.train_y, flat[1], flat[2], **extra, seed=seed)
            rows.append((question, source, "accuracy", accuracy(got["val"], data.val_y),
                         accuracy(got["test"], data.test_y), seconds))

    language_sources = [("generated", datasets("lang_id", seed=seed, held_out_seed=seed, embedded=True))]
    if data_dir is not None and (data_dir / "lang_id.npz").is_file():
        language_sources.append(("real", datasets("lang_id", seed=seed)))
    for source, data in language_sources:
        got, seconds = timed(code, "language_train_predict", data.train_x, data.train_y, data.val_x, data.test_x,
                             seed=seed)
        rows.append(("q4", source, "accuracy", accuracy(got["val"], data.val_y), accuracy(got["test"], data.test_y),
                     seconds))

    data = datasets("repeats", seed=seed, held_out_seed=seed, block_size=tests.TRANSFORMER["block_size"])
    got, seconds = timed(code, "transformer_train_predict", data.train_x, data.train_y, data.val_x, data.test_x,
                         **tests.TRANSFORMER, seed=seed)
    rows.append(("q6", "repeats", "accuracy", accuracy(got["val"], data.val_y), accuracy(got["test"], data.test_y),
                 seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", type=Path, default=None, help="a folder with lang_id.npz and/or MNIST's idx files")
    parser.add_argument("--variant", default=None, help="a mutant form (mistake/form) or alternative id instead of the reference")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lab = Course(ROOT).lab(LAB)
    files = lab.reference_files
    if args.variant:
        variant = next(v for v in lab.mutants + lab.alternatives if v.id == args.variant)
        files = lab.variant_files(variant)
    code = TrustedCode(files, lab.probes_source, f"{LAB}-calibration")
    tests = load_public_tests(lab)
    datasets = Datasets(ROOT / "data", args.data_dir)
    results: dict[tuple, list] = {}
    for seed in args.seeds:
        for question, source, metric, val, test, seconds in measure(code, datasets, tests, seed, args.data_dir):
            results.setdefault((question, source, metric), []).append((val, test, seconds))
            print(f"seed {seed} {question} {source:9} {metric:8} val {val:.4f} test {test:.4f}  ({seconds:.2f} s CPU)",
                  flush=True)
    print(f"\n{args.variant or 'reference'} over seeds {args.seeds}:")
    for (question, source, metric), values in results.items():
        val, test, seconds = (np.array(column) for column in zip(*values))
        print(f"{question} {source:9} {metric:8} val {np.round(val, 4).tolist()} test {np.round(test, 4).tolist()} "
              f"(min {min(val.min(), test.min()):.4f}, max {max(val.max(), test.max()):.4f}; "
              f"mean {seconds.mean():.2f} s CPU)")


if __name__ == "__main__":
    main()
