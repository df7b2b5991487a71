"""Time from ``Sandbox(...)`` to the first reply of a trivial probe, cold (a fresh fork server that
imports nothing ahead) and warm (a fork server that already imported the spec's ``preload``), for a
NumPy-only spec and a torch spec, under the isolation profile this machine has.

    .venv/bin/python benchmarks/sandbox_start.py [REPEATS]
"""
from __future__ import annotations

import statistics
import sys
import time

from autograder.sandbox import Sandbox, SandboxPool, detect_isolation
from autograder.sandbox.api import SandboxSpec

SPECS = {
    "numpy": SandboxSpec({"probe.py": "import numpy\n\ndef run():\n    return numpy.ones(3)\n"}, ("probe.py",),
                         entry="probe", preload=("numpy",)),
    "torch": SandboxSpec({"probe.py": "import torch\n\ndef run():\n    return torch.ones(3)\n"}, ("probe.py",),
                         entry="probe", preload=("numpy", "torch")),
}


def first_reply(pool: SandboxPool, spec: SandboxSpec) -> float:
    """Seconds from creating a sandbox to its first reply."""
    start = time.perf_counter()
    with Sandbox(spec, pool=pool) as sandbox:
        sandbox.call("run", [], {}, timeout=120)
        return time.perf_counter() - start


def main(repeats: int) -> None:
    print(f"isolation profile {detect_isolation().profile}; median of {repeats} (min-max), seconds")
    for name, spec in SPECS.items():
        with SandboxPool(warm=False) as cold_pool:
            cold = [first_reply(cold_pool, spec) for _ in range(repeats)]
        with SandboxPool() as warm_pool:
            first_reply(warm_pool, spec)  # the server's own start, paid once per grader process
            warm = [first_reply(warm_pool, spec) for _ in range(repeats)]
        for label, times in (("cold", cold), ("warm", warm)):
            print(f"{name:6} {label}: {statistics.median(times):6.3f} ({min(times):.3f}-{max(times):.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
