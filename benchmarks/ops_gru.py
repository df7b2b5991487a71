"""The hand-written GRU of the gru lab (the reference) next to torch.nn.GRU on the same shapes, in one run:
seconds per call of the forward pass (no grad) and of forward + backward, and their ratio.

torch.nn.GRU applies the reset gate after the hidden matmul (r * (W_hn h + b_hn)), the lab's GRU before it
((R * H) @ W_hh): the same cost, slightly different models, so only the times are compared.

    python benchmarks/ops_gru.py
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

from autograder.expected import import_from_memory
from autograder.lab import Course

ROOT = Path(__file__).resolve().parents[1]
SHAPES = [(32, 32, 32, 96), (64, 64, 64, 128), (1, 200, 16, 64)]  # (batch, steps, inputs, hiddens)


def seconds_per_call(fn: Callable[[], object], budget: float = 0.5) -> float:
    """Median over 5 rounds of the mean time of one call, after a warm-up call."""
    fn()
    rounds = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while count == 0 or time.perf_counter() - start < budget / 5:
            fn()
            count += 1
        rounds.append((time.perf_counter() - start) / count)
    return sorted(rounds)[2]


def main() -> None:
    torch.set_num_threads(1)
    gru = import_from_memory(Course(ROOT).lab("gru").reference_files, "gru", "gru-ops")
    print(f"{'batch, steps, inputs, hiddens':<32} {'pass':<18} {'by hand (ms)':>13} {'nn.GRU (ms)':>12} {'ratio':>7}")
    for batch, steps, num_inputs, num_hiddens in SHAPES:
        torch.manual_seed(0)
        mine, theirs = gru.GRU(num_inputs, num_hiddens), torch.nn.GRU(num_inputs, num_hiddens, batch_first=True)
        x = torch.randn(batch, steps, num_inputs)

        def forward(model: torch.nn.Module) -> Callable[[], object]:
            def run() -> object:
                with torch.no_grad():
                    return model(x)
            return run

        def backward(model: torch.nn.Module) -> Callable[[], object]:
            def run() -> object:
                model.zero_grad()
                model(x)[0].sum().backward()
            return run

        for label, make in (("forward", forward), ("forward + backward", backward)):
            a, b = seconds_per_call(make(mine)), seconds_per_call(make(theirs))
            print(f"{f'{batch}, {steps}, {num_inputs}, {num_hiddens}':<32} {label:<18} {a * 1e3:13.2f} {b * 1e3:12.2f} "
                  f"{a / b:7.1f}")


if __name__ == "__main__":
    main()
