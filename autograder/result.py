"""The result of grading one submission: one object, rendered by every report format."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

Visibility = Literal["public", "hidden", "after_due_date"]
Status = Literal["passed", "partial", "failed"]


@dataclass
class TestResult:
    """One scored line: a test of the lab or a rule."""

    __test__ = False  # not a pytest test class

    name: str
    score: float
    max_score: float
    visibility: Visibility = "public"
    kind: Literal["test", "rule"] = "test"
    feedback: list[str] = field(default_factory=list)
    mistake: str | None = None
    seconds: float = 0.0
    id: str = ""  # the test function's name, or "rule:<rule>"

    @property
    def status(self) -> Status:
        if self.score >= self.max_score:
            return "passed"
        return "partial" if self.score > 0 else "failed"


@dataclass
class Isolation:
    """The sandbox profile a result was graded under; ``limits`` states the effective caps (how the
    memory, processes and disk of the sandbox's whole process tree were bounded)."""

    profile: str
    description: str
    warning: str | None = None
    limits: str = ""


@dataclass
class GradeResult:
    """Everything known about one grading of one submission for one lab."""

    lab: str
    submission: str
    tests: list[TestResult]
    isolation: Isolation
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    mode: Literal["grade", "check"] = "grade"

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        for test, row in zip(self.tests, data["tests"]):
            row["status"] = test.status
        return data
