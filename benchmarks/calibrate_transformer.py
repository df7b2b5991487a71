"""Calibration of the transformer lab's thresholds: the reference (and, for the lower bounds, a few known
mistakes that still train) on 5 seeds, through the lab's own probes and metrics.

    python benchmarks/calibrate_transformer.py [--mutants]

Seed s: translation data seed s (test numbers from held-out seed 1000 + s), digits split seed s,
training seed s. The graded configuration is seed 0 with a fresh secret held-out seed per grading: for
seed 0 the translator's test metrics are also measured on the test numbers of held-out seeds 2000-2004.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "solutions" / "transformer"))

from autograder.datasets import Datasets  # noqa: E402
from autograder.expected import TrustedCode  # noqa: E402
from autograder.lab import Course  # noqa: E402
from public_tests import exact_match, token_accuracy  # noqa: E402

SEEDS = [0, 1, 2, 3, 4]
HELD_OUT = [2000, 2001, 2002, 2003, 2004]  # other secret test splits of the graded configuration (seed 0)
MUTANTS = ["pe_not_before_blocks/translator_omitted", "decoder_no_causal_mask/padding_only",
           "class_token_not_used/mean_pool", "pe_not_before_blocks/vit_omitted"]


def measure(code: TrustedCode, datasets: Datasets, seed: int) -> dict[str, float]:
    """The five graded metrics of one seed, as the tests compute them."""
    text = datasets("translation", seed=seed, held_out_seed=1000 + seed)
    others = {h: datasets("translation", seed=seed, held_out_seed=h) for h in (HELD_OUT if seed == 0 else [])}
    inputs = {"val": text.val_x, "test": text.test_x, **{f"test{h}": data.test_x for h, data in others.items()}}
    max_len = text.train_y.shape[1] + 2
    start = time.process_time()
    out = code.call("translate", [text.train_x, text.train_y, inputs, len(text.info["src_vocab"]),
                                  len(text.info["tgt_vocab"]), max_len], {"seed": seed})
    translate_cpu = time.process_time() - start
    for h, data in others.items():
        print(f"    seed 0, held-out seed {h}: test exact {exact_match(np.asarray(out[f'test{h}']), data.test_y):.4f}, "
              f"tokens {token_accuracy(np.asarray(out[f'test{h}']), data.test_y):.4f}")
    images = datasets("digits", seed=seed)
    start = time.process_time()
    classes = code.call("classify_digits", [images.train_x, images.train_y, {"val": images.val_x, "test": images.test_x}],
                        {"seed": seed})
    vit_cpu = time.process_time() - start
    return {
        "translation_val_exact": exact_match(np.asarray(out["val"]), text.val_y),
        "translation_test_exact": exact_match(np.asarray(out["test"]), text.test_y),
        "translation_test_tokens": token_accuracy(np.asarray(out["test"]), text.test_y),
        "vit_val_accuracy": float((np.asarray(classes["val"]) == images.val_y).mean()),
        "vit_test_accuracy": float((np.asarray(classes["test"]) == images.test_y).mean()),
        "cpu_translate": translate_cpu, "cpu_vit": vit_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", action="store_true", help="also measure known mistakes that still train (seed 0)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lab = Course(ROOT).lab("transformer")
    datasets = Datasets(ROOT / "data")
    runs = [("reference", TrustedCode(lab.reference_files, lab.probes_source, "calibrate"), SEEDS)]
    if args.mutants:
        forms = {m.id: m for m in lab.mutants}
        runs += [(name, TrustedCode(lab.variant_files(forms[name]), lab.probes_source, name), [0]) for name in MUTANTS]
    for name, code, seeds in runs:
        rows = [measure(code, datasets, seed) for seed in seeds]
        print(f"{name} (seeds {seeds})")
        for key in rows[0]:
            values = [row[key] for row in rows]
            print(f"  {key:26s} " + "  ".join(f"{v:.4f}" for v in values) + f"   min {min(values):.4f}")


if __name__ == "__main__":
    main()
