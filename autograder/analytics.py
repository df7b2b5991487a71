"""How a class did on one lab, from the gradebook (each student's latest attempt): the score distribution,
each test's pass rate, the named mistakes to re-teach (with their counts and an example of the feedback),
the run-time distribution, and the submissions that need a look (limits hit, forbidden APIs, grader
errors, nothing gradable). Plain data, rendered by ``autograder.report.html`` and written as CSV here.

This is an instructor's view: it names hidden tests and hidden-only mistakes. It is never given to students.
"""
from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grade import RULES_NEED_A_PASS
from autograder.lab import Lab
from autograder.report.common import printable
from autograder.result import GradeResult, TestResult

SCORE_BINS = 10  # 0-10 %, ..., 90-100 % (100 % falls in the last bin)
TIME_BINS = 10
LIMITS = {"timeout": "wall-clock time limit", "cpu": "CPU time limit", "memory": "memory limit", "disk": "writable-space limit"}


@dataclass
class StudentRow:
    """One student's latest attempt."""

    student: str
    attempt: int
    score: float
    max_score: float
    seconds: float
    gradable: bool
    mistakes: list[str]

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0


@dataclass
class TestStats:
    """How the class did on one scored line."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    kind: str
    visibility: str
    max_score: float
    passed: int = 0
    partial: int = 0
    failed: int = 0
    errors: int = 0
    points: float = 0.0

    @property
    def graded(self) -> int:
        """Students whose line counts (grader errors do not)."""
        return self.passed + self.partial + self.failed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0

    @property
    def mean_points(self) -> float:
        return self.points / self.graded if self.graded else 0.0


@dataclass
class MistakeStats:
    """A named mistake: how many students made it, in which tests it was named, and what they were told."""

    title: str
    students: int
    tests: list[str]
    example: str
    example_source: str  # "student feedback" (a public test's message) or "mutants.toml" (the lab's own words)


@dataclass
class Problem:
    """A submission that needs a look."""

    student: str
    kind: str  # timeout | cpu | memory | forbidden API | grader error | nothing gradable
    test: str
    detail: str


@dataclass
class ClassReport:
    """Everything the class report shows."""

    lab: str
    title: str
    students: list[StudentRow]
    tests: list[TestStats]
    mistakes: list[MistakeStats]
    problems: list[Problem]
    score_edges: list[float] = field(default_factory=list)
    score_counts: list[int] = field(default_factory=list)
    time_edges: list[float] = field(default_factory=list)
    time_counts: list[int] = field(default_factory=list)

    @property
    def percents(self) -> list[float]:
        return [row.percent for row in self.students]

    def problems_of(self, *kinds: str) -> list[Problem]:
        return [problem for problem in self.problems if problem.kind in kinds]


def class_report(lab: Lab, rows: list[dict]) -> ClassReport:
    """The report of ``lab`` from gradebook rows (``Gradebook.latest(lab)``)."""
    results = [(row["student"], row["attempt"], GradeResult.from_dict(row["result"])) for row in rows]
    students = [StudentRow(student, attempt, result.score, result.max_score, result.seconds, result.gradable,
                           sorted({t.mistake for t in result.tests if t.mistake}))
                for student, attempt, result in results]
    tests: dict[str, TestStats] = {}
    mistakes: dict[str, dict] = {}
    problems: list[Problem] = []
    for student, _, result in results:
        if not result.gradable:
            problems.append(Problem(student, "nothing gradable", "", printable(result.messages[0] if result.messages
                                                                              else "none of the lab's files")))
            continue
        for test in result.tests:
            _count(tests, test)
            if test.mistake:
                entry = mistakes.setdefault(test.mistake, {"students": set(), "tests": {}, "example": ""})
                entry["students"].add(student)
                entry["tests"][test.name] = None
                if not entry["example"] and test.visibility == "public":
                    entry["example"] = _example(test)
            problems += _problems(student, test)
    score_edges, score_counts = _bins([row.percent for row in students], SCORE_BINS, 0.0, 100.0)
    seconds = [row.seconds for row in students]
    time_edges, time_counts = _bins(seconds, TIME_BINS, 0.0, max(seconds, default=1.0) or 1.0)
    return ClassReport(lab.id, lab.title, students, list(tests.values()), _mistakes(lab, mistakes), problems,
                       score_edges, score_counts, time_edges, time_counts)


def _count(tests: dict[str, TestStats], test: TestResult) -> None:
    stats = tests.setdefault(test.id or test.name, TestStats(test.id or test.name, test.name, test.kind,
                                                            test.visibility, test.max_score))
    if test.grader_error:
        stats.errors += 1
        return
    stats.points += test.score
    if test.status == "passed":
        stats.passed += 1
    elif test.status == "partial":
        stats.partial += 1
    else:
        stats.failed += 1


def _example(test: TestResult) -> str:
    """The feedback line that names the mistake (or the first one)."""
    lines = [line for entry in test.feedback for line in entry.splitlines() if line.strip()]
    naming = [line for line in lines if test.mistake and test.mistake in line]
    return printable((naming or lines or [""])[0])


def _mistakes(lab: Lab, found: dict[str, dict]) -> list[MistakeStats]:
    """Most frequent first; the example is a student's public feedback, else the lab's own words."""
    known = {variant.title: variant.feedback for variant in lab.mistakes.values()} if lab.has_solution else {}
    stats = []
    for title, entry in found.items():
        example, source = entry["example"], "student feedback"
        if not example:
            example, source = known.get(title, ""), "mutants.toml"
        stats.append(MistakeStats(title, len(entry["students"]), list(entry["tests"]), example, source))
    return sorted(stats, key=lambda m: (-m.students, m.title))


def _problems(student: str, test: TestResult) -> list[Problem]:
    """The limits a line hit, forbidden APIs its rule found, and grader errors."""
    found = []
    if test.limit:
        found.append(Problem(student, test.limit, test.name, f"over the {LIMITS.get(test.limit, test.limit)}"))
    if test.id == "rule:forbidden" and test.score < test.max_score:
        uses = [line for line in test.feedback if line != RULES_NEED_A_PASS]
        if uses:
            found.append(Problem(student, "forbidden API", test.name, printable("; ".join(uses))[:500]))
    if test.grader_error:
        found.append(Problem(student, "grader error", test.name, printable((test.feedback or [""])[-1])[:500]))
    return found


def _bins(values: list[float], count: int, low: float, high: float) -> tuple[list[float], list[int]]:
    """``count`` equal bins from ``low`` to ``high`` (the last one closed) and how many values fall in each."""
    width = (high - low) / count
    edges = [round(low + i * width, 6) for i in range(count + 1)]
    counts = [0] * count
    for value in values:
        if math.isfinite(value):
            counts[min(count - 1, max(0, int((value - low) // width)))] += 1
    return edges, counts


def summary(report: ClassReport) -> list[tuple[str, str]]:
    """The headline numbers, as (label, value) pairs."""
    percents = report.percents
    full = sum(p >= 100 for p in percents)
    return [
        ("Students", str(len(report.students))),
        ("Nothing gradable", str(len(report.problems_of("nothing gradable")))),
        ("Mean score", f"{statistics.fmean(percents):.1f}%" if percents else "-"),
        ("Median score", f"{statistics.median(percents):.1f}%" if percents else "-"),
        ("Full marks", str(full)),
        ("Median grading time", f"{statistics.median(r.seconds for r in report.students):.1f} s"
         if report.students else "-"),
    ]


def write_csv(report: ClassReport, folder: Path) -> list[Path]:
    """The report's figures and tables as CSV files in ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "students.csv": (["student", "attempt", "score", "max_score", "percent", "seconds", "gradable", "mistakes"],
                         [[r.student, r.attempt, r.score, r.max_score, round(r.percent, 2), r.seconds, r.gradable,
                           "; ".join(r.mistakes)] for r in report.students]),
        "score_histogram.csv": (["percent_from", "percent_to", "students"],
                                _rows(report.score_edges, report.score_counts)),
        "test_pass_rates.csv": (["test", "name", "kind", "visibility", "max_score", "passed", "partial", "failed",
                                 "grader_errors", "pass_rate", "mean_points"],
                                [[t.id, t.name, t.kind, t.visibility, t.max_score, t.passed, t.partial, t.failed,
                                  t.errors, round(t.pass_rate, 4), round(t.mean_points, 4)] for t in report.tests]),
        "mistakes.csv": (["mistake", "students", "tests", "example_feedback", "example_source"],
                         [[m.title, m.students, "; ".join(m.tests), m.example, m.example_source]
                          for m in report.mistakes]),
        "run_time_histogram.csv": (["seconds_from", "seconds_to", "submissions"],
                                   _rows(report.time_edges, report.time_counts)),
        "problems.csv": (["student", "problem", "test", "detail"],
                         [[p.student, p.kind, p.test, p.detail] for p in report.problems]),
    }
    written = []
    for name, (header, rows) in tables.items():
        path = folder / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[_cell(value) for value in row] for row in rows])
        written.append(path)
    return written


def _cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula (a student id may start with ``=``)."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _rows(edges: list[float], counts: list[int]) -> list[list]:
    return [[a, b, n] for a, b, n in zip(edges, edges[1:], counts)]
