"""The reference LanguageIDModel (nn_fundamentals, question 4) on the course's real lang_id.npz: its dev
and test accuracy next to the course's bar of 81%, one row per training seed.

    python benchmarks/lang_id_real.py [--data-dir ../shared/datasets/lang_id] [--seeds 0 1 2]
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
COURSE_BAR = 0.81


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets" / "lang_id")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    lab = Course(ROOT).lab("nn_fundamentals")
    code = TrustedCode(lab.reference_files, lab.probes_source, "nn_fundamentals-lang-id")
    data = Datasets(ROOT / "data", args.data_dir)("lang_id")
    print(f"lang_id.npz: {len(data.train_x)} training, {len(data.val_x)} dev, {len(data.test_x)} test words")
    print(f"{'seed':>4}  {'dev':>6}  {'test':>6}  {'CPU s':>6}  test >= {COURSE_BAR:.0%}")
    tests = []
    for seed in args.seeds:
        start = time.process_time()
        got = code.call("language_train_predict", [data.train_x, data.train_y, data.val_x, data.test_x], {"seed": seed})
        seconds = time.process_time() - start
        dev, test = (float((np.asarray(got[split]) == labels).mean()) for split, labels in
                     (("val", data.val_y), ("test", data.test_y)))
        tests.append(test)
        print(f"{seed:>4}  {dev:6.3f}  {test:6.3f}  {seconds:6.1f}  {'yes' if test >= COURSE_BAR else 'NO'}", flush=True)
    print(f"reference test accuracy {np.mean(tests):.3f} (min {min(tests):.3f}) vs the course's {COURSE_BAR:.0%}")


if __name__ == "__main__":
    main()
