"""A submission's total time budget: wall-clock seconds spent in its sandbox (starts and calls) and
CPU seconds used by its sandbox processes. Once either is spent, every further call fails at once."""
from __future__ import annotations

import time

from autograder.sandbox.api import Limits, StudentError


class Budget:
    """What is left of one submission's wall and CPU budget."""

    def __init__(self, limits: Limits):
        self.wall = float(limits.total_wall)
        self.cpu = float(limits.total_cpu)
        self.wall_used = 0.0
        self.cpu_used = 0.0

    def exhausted(self) -> StudentError:
        spent = "time" if self.wall_used >= self.wall else "CPU time"
        limit = self.wall if spent == "time" else self.cpu
        return StudentError("budget", f"the submission's {spent} budget ({limit:g} s for all its tests) is used up; "
                                      "this test did not run")

    def check(self, cpu_live: float = 0.0) -> None:
        """Raise StudentError("budget") when nothing is left (``cpu_live``: CPU of the running sandbox)."""
        if self.wall_used >= self.wall or self.cpu_used + cpu_live >= self.cpu:
            raise self.exhausted()

    def deadline(self, seconds: float) -> tuple[float, bool]:
        """The monotonic deadline for a step allowed ``seconds``, and whether the budget (not the step's
        own limit) sets it."""
        left = self.wall - self.wall_used
        return time.monotonic() + min(seconds, left), left < seconds

    def cpu_left(self) -> float:
        return max(self.cpu - self.cpu_used, 0.0)

    def spend(self, wall: float = 0.0, cpu: float = 0.0) -> None:
        self.wall_used += max(wall, 0.0)
        self.cpu_used += max(cpu, 0.0)
