"""The result of grading one submission: one object, rendered by every report format."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

Visibility = Literal["public", "hidden", "after_due_date"]
Status = Literal["passed", "partial", "failed", "error"]


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
    grader_error: bool = False  # the lab's or the grader's fault: excluded from the score
    output: str = ""  # what the student's code printed during the test (public tests only)
    metrics: dict[str, float] = field(default_factory=dict)  # label -> value of the metrics the test scored

    @property
    def counts(self) -> bool:
        """Whether the line counts towards the score (a grader error does not)."""
        return not self.grader_error

    @property
    def status(self) -> Status:
        if self.grader_error:
            return "error"
        if self.score >= self.max_score:
            return "passed"
        return "partial" if self.score > 0 else "failed"


@dataclass
class Isolation:
    """The sandbox profile a result was graded under."""

    profile: str
    description: str
    warning: str | None = None


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
    gradable: bool = True  # False when the submission held none of the lab's files
    held_out: dict | None = None  # the run's held-out secrets (datasets.HeldOut): for the instructor, JSON report only

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests if t.counts), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests if t.counts), 4)

    @property
    def grader_errors(self) -> list[TestResult]:
        """Lines that failed through the lab's or the grader's fault (excluded from the score)."""
        return [t for t in self.tests if t.grader_error]

    @classmethod
    def from_dict(cls, data: dict) -> "GradeResult":
        """A result back from ``to_dict`` (e.g. from the gradebook)."""
        fields = {f.name for f in dataclasses.fields(TestResult)}
        tests = [TestResult(**{k: v for k, v in row.items() if k in fields}) for row in data["tests"]]
        own = {f.name for f in dataclasses.fields(cls)} - {"tests", "isolation"}
        return cls(tests=tests, isolation=Isolation(**data["isolation"]), **{k: v for k, v in data.items() if k in own})

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        for test, row in zip(self.tests, data["tests"]):
            row["status"] = test.status
        return data
