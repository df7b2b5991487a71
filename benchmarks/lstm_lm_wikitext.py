"""The lstm_lm reference on real data (a benchmark, not a test): trained on WikiText-2 valid.txt with the
budget of the lab's --data-dir tests, scored on the course's prediction.npz and on windows of test.txt, and
its greedy continuations of the course's generation.npy prompts judged by the lab's n-gram judge, next to an
untrained model and next to the course's own figures.

    python benchmarks/lstm_lm_wikitext.py --data-dir /path/to/datasets [--seeds 0] [--epochs 1] [--threads 1]

``--data-dir`` holds hw4p1/ and wikitext2/. The course's train split is not among these files, so the model
trains on valid.txt (about 216,000 words with <eol>) and every graded text comes from test.txt.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from autograder.datasets import Datasets
from autograder.expected import TrustedCode
from autograder.lab import Course

from calibrate_lstm_lm import ROOT, baselines, evaluate, lab_tests

COURSE_FIGURES = ("the course: validation NLL < 4.6 and test NLL < 5.3 after 20 epochs on the full WikiText-2 train "
                  "split (about 2.1 M words); a reference run there gave 4.76-4.85")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=lab_tests.REAL_BUDGET["epochs"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    course = Course(ROOT)
    lab = course.lab("lstm_lm")
    datasets = Datasets(course.data_dir, args.data_dir)
    reference = TrustedCode(lab.reference_files, lab.probes_source, "lstm_lm-benchmark")
    data = datasets("word_lm", held_out_seed=1)
    budget = {**lab_tests.REAL_BUDGET, "epochs": args.epochs}
    settings = reference.probes.train.__globals__  # the reference's hyperparameters
    print(f"WikiText-2 valid.txt: {len(data.train_x)} training words, vocabulary {len(data.info['vocab'])}; budget "
          f"{budget}, Adam lr {settings['LEARNING_RATE']}, {args.threads} thread(s)", flush=True)
    header = (f"{'model':24s} {'NLL prediction.npz':>19s} {'NLL test.txt':>13s} {'judge ppl gen.npy':>18s} "
              f"{'judge ppl gen_test':>19s} {'CPU s':>8s}")
    print(header + "\n" + "-" * len(header), flush=True)

    def row(label: str, f: dict) -> None:
        print(f"{label:24s} {f['val_nll']:19.3f} {f['test_nll']:13.3f} {f['val_judge']:18.1f} {f['test_judge']:19.1f} "
              f"{f['cpu_s']:8.0f}", flush=True)

    row("untrained (0 epochs)", evaluate(reference, data, 0, epochs=0))
    for seed in args.seeds:
        row(f"reference seed {seed}", evaluate(reference, datasets("word_lm", held_out_seed=seed + 1), seed,
                                               epochs=args.epochs))
    base = baselines(data)
    print(f"{'judge (KN trigram)':24s} {base['val_trigram_nll']:19.3f} {base['test_trigram_nll']:13.3f}")
    print(f"{'unigram':24s} {base['val_unigram_nll']:19.3f} {base['test_unigram_nll']:13.3f}")
    print(COURSE_FIGURES)


if __name__ == "__main__":
    main()
