"""Calibrate the lstm_lm thresholds: the reference trained with the tests' budget on several seeds (training
seed s, test fixtures drawn with held_out_seed s + 1), next to what broken or weak models score on the same fixtures.

    python benchmarks/calibrate_lstm_lm.py [--seeds 0 1 2 3 4] [--data-dir /path/to/datasets]

Prints, per seed, the validation and test NLL and the judge's perplexity of the continuations (what lab.toml
records under [thresholds.nll_*] and [thresholds.judge_*]); then the same figures for an untrained model,
for known mistakes that still train, for the weight-tying alternative, and the NLL of the judge itself
(a Kneser-Ney trigram of the training text) and of a unigram model.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from autograder.datasets import Datasets
from autograder.expected import TrustedCode
from autograder.lab import Course, Variant

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "solutions" / "lstm_lm"))
import public_tests as lab_tests  # noqa: E402 - the lab's own scoring functions

MUTANTS = ["targets_not_shifted/same_window", "one_layer/first_cell_only", "state_reset_each_step/state_not_passed",
           "generation_not_fed_back/prompt_word_again", "generation_not_fed_back/predict_the_prompt_again"]
ALTERNATIVES = ["weight_tying"]


def evaluate(code: TrustedCode, data, seed: int, epochs: int | None = None) -> dict:
    """Train with the tests' budget (or ``epochs``), then the four graded figures."""
    real = data.info["source"] != "pydoc_data"
    budget = dict(lab_tests.REAL_BUDGET if real else lab_tests.BUDGET)
    if epochs is not None:
        budget["epochs"] = epochs
    start = time.process_time()
    result = code.call("train_and_predict", [data.train_x, len(data.info["vocab"]), data.val_x, data.test_x,
                                             data.info["generation_val"], data.info["generation_test"]],
                       dict(forward=lab_tests.CONTINUATION, seed=seed, **budget))
    judge = lab_tests.judge(data)
    figures = {"val_nll": lab_tests.next_word_nll(np.asarray(result["val_logits"]), data.val_y),
               "test_nll": lab_tests.next_word_nll(np.asarray(result["test_logits"]), data.test_y)}
    for split in ("val", "test"):
        prompts, words = data.info[f"generation_{split}"], np.asarray(result[f"{split}_generated"])
        figures[f"{split}_judge"] = judge.perplexity(prompts, words)
        figures[f"{split}_repeated"] = sum(lab_tests.degenerate(p, w) == "repeated" for p, w in zip(prompts, words))
    figures["cpu_s"] = time.process_time() - start
    return figures


def baselines(data) -> dict:
    """NLL of the fixtures under the judge (a Kneser-Ney trigram of the training text) and a unigram model."""
    judge, out = lab_tests.judge(data), {}
    counts = np.bincount(data.train_x, minlength=len(data.info["vocab"])) + 0.5
    for split in ("val", "test"):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        out[f"{split}_trigram_nll"] = float(np.mean([-np.log(judge.p(int(a[-2]), int(a[-1]), int(b))) for a, b in zip(x, y)]))
        out[f"{split}_unigram_nll"] = float(np.mean(-np.log(counts[y] / counts.sum())))
    return out


def show(label: str, figures: dict) -> None:
    print(f"{label:48s} " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", type=Path, default=None, help="the folder holding hw4p1/ and wikitext2/")
    parser.add_argument("--no-variants", action="store_true", help="only the reference")
    args = parser.parse_args()
    torch.set_num_threads(1)
    course = Course(ROOT)
    lab = course.lab("lstm_lm")
    datasets = Datasets(course.data_dir, args.data_dir)
    reference = TrustedCode(lab.reference_files, lab.probes_source, "lstm_lm-calibration")
    rows = []
    for seed in args.seeds:
        data = datasets("word_lm", held_out_seed=seed + 1)
        rows.append(evaluate(reference, data, seed))
        show(f"reference seed {seed} (held_out_seed {seed + 1})", rows[-1])
    for key in ("val_nll", "test_nll", "val_judge", "test_judge"):
        values = [row[key] for row in rows]
        print(f"  {key}: {[round(v, 4) for v in values]}  min {min(values):.3f}  max {max(values):.3f}")
    data = datasets("word_lm", held_out_seed=1)
    show("baselines (seed 0 fixtures)", baselines(data))
    show("untrained reference (0 epochs)", evaluate(reference, data, 0, epochs=0))
    if args.no_variants:
        return
    variants: list[Variant] = [m for m in lab.mutants if m.id in MUTANTS] + \
                              [a for a in lab.alternatives if a.id in ALTERNATIVES]
    for variant in variants:
        code = TrustedCode(lab.variant_files(variant), lab.probes_source, f"lstm_lm-{variant.id}")
        show(f"{'mutant' if variant.mistake else 'alternative'} {variant.id}", evaluate(code, data, 0))


if __name__ == "__main__":
    main()
