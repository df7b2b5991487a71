"""Runs a lab's tests against a submission and turns each outcome into a scored, redacted line."""
from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

from autograder.lab import Lab, LabError, Variant
from autograder.result import TestResult
from autograder.testing import Expected, Fail, GraderError, Run, SignatureSpec, Student, StudentError, TestSpec, \
    grading_with, probe_names

GRADER_ERROR = "a grader error, not your code's fault: this line does not count; your instructor has been told"


class TestFileError(Exception):
    """A test file of the lab that does not compile or import (the instructor's problem)."""


@dataclass
class Suite:
    """A lab's tests in file order (public first) and the signatures of known mistakes they use."""

    tests: list[TestSpec] = field(default_factory=list)
    signatures: list[SignatureSpec] = field(default_factory=list)


def collect(lab: Lab, public_only: bool) -> list[TestSpec]:
    """The lab's tests in file order: public tests, then (unless ``public_only``) the hidden ones."""
    return collect_suite(lab, public_only).tests


def collect_suite(lab: Lab, public_only: bool) -> Suite:
    """Tests and signatures from the lab's test files. ``tests.py`` may import helpers with
    ``from public_tests import ...``. Raises TestFileError naming the file and line of a broken one."""
    suite = Suite()
    loaded: dict[str, ModuleType] = {}
    for path in lab.test_paths(public_only):
        module = _load_module(lab, path, loaded)
        loaded[path.stem] = module
        for obj in vars(module).values():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if hasattr(obj, "__autograder_test__"):
                suite.tests.append(obj.__autograder_test__)
            if hasattr(obj, "__autograder_signature__"):
                suite.signatures.append(obj.__autograder_signature__)
    return suite


def _load_module(lab: Lab, path: Path, loaded: dict[str, ModuleType]) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"autograder_tests_{lab.id}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    stashed = {name: sys.modules.get(name) for name in loaded}
    sys.modules.update(loaded)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise TestFileError(f"{path}:{exc.lineno}: does not compile: {exc.msg}") from None
    except Exception as exc:  # noqa: BLE001 - any failure while importing a test file is the lab's
        frame = next((f for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == str(path)), None)
        where = f"{path}:{frame.lineno}" if frame else str(path)
        raise TestFileError(f"{where}: cannot be imported: {type(exc).__name__}: {exc}") from None
    finally:
        for name, previous in stashed.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


def describe(error: StudentError, public: bool) -> str:
    """What a student is told about their code failing; their own exception text only when public."""
    if error.detail and public:
        return f"{error.message}\n{error.detail}"
    return error.message


@dataclass
class Outcome:
    """A test's result before redaction: what the runner needs to settle named mistakes."""

    line: TestResult
    message: str | None
    fallback: str | None = None
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (mistake id, message), best first


def run_one(spec: TestSpec, lab: Lab, student: Student, expected: Expected, datasets: Callable,
            signatures: list[SignatureSpec] = (), shared: dict | None = None) -> Outcome:
    """Run one test; whatever happens, a scored line comes back. ``shared`` is the grading's cache of
    probe results (``run.student(..., cache=True)``)."""
    run = Run(lab, student, expected, spec.timeout or lab.limits["timeout"], datasets,
              probes=probe_names(lab.probes_source), signatures=list(signatures),
              shared={} if shared is None else shared)
    public = spec.visibility == "public"
    candidates, fallback, grader_error, limit = [], None, False, None
    start = time.perf_counter()
    try:
        fraction = spec.func(run)
        fraction = 1.0 if fraction is None else min(1.0, max(0.0, float(fraction)))
        message = None
    except Fail as failure:
        fraction, message, candidates, fallback = 0.0, failure.message, failure.candidates, failure.fallback
    except StudentError as error:
        fraction, message, limit = 0.0, describe(error, public), error.limit
        grader_error = error.kind == "sandbox"  # the machine's fault, not the student's
    except (GraderError, LabError) as error:  # a one-line reason meant for the instructor, no traceback
        fraction, grader_error, message = 0.0, True, f"{GRADER_ERROR} ({error})"
    except Exception:  # a bug in the lab's test: report it, never crash the run, never charge the student
        fraction, grader_error = 0.0, True
        message = f"{GRADER_ERROR}\n{_test_traceback(lab)}"
    line = TestResult(name=spec.title, score=round(spec.points * fraction, 4), max_score=spec.points,
                      visibility=spec.visibility, kind="test", feedback=list(run.feedback),
                      seconds=round(time.perf_counter() - start, 3), id=spec.name, grader_error=grader_error,
                      output="".join(run.output) if public else "", metrics=dict(run.metrics),
                      thresholds=dict(run.thresholds), curves=dict(run.curves) if public else {}, limit=limit)
    return Outcome(line, message, fallback, candidates)


def _test_traceback(lab: Lab) -> str:
    """The failing test's own frames (the lab's files), for the instructor."""
    frames = traceback.extract_tb(sys.exc_info()[2])
    mine = [f for f in frames if Path(f.filename).parent in (lab.solution_dir, lab.starter_dir)] or frames[-1:]
    where = "; ".join(f"{Path(f.filename).name} line {f.lineno} in {f.name}" for f in mine[-2:])
    kind, value = sys.exc_info()[:2]
    return f"{kind.__name__}: {value} ({where})"


def settle(outcomes: list[Outcome], expected: Expected) -> list[TestResult]:
    """Final feedback: a named mistake is withdrawn when another test that every form of it fails has
    passed (the student's code does not have it: e.g. predict passed, so the mistake is not in predict);
    then hidden lines keep only pass/fail and the mistake's title (their metric values stay in ``metrics``,
    for the instructor and the leaderboard, and no report shows them to students)."""
    known = expected.mistakes()
    passed = {o.line.id for o in outcomes if o.line.score >= o.line.max_score and not o.line.grader_error}
    lines = []
    for outcome in outcomes:
        line, message, variant = outcome.line, outcome.message, None
        for mistake, text in outcome.candidates:
            candidate = known.get(mistake)
            if candidate is None and mistake:  # a test names a mistake the lab (or this copy) does not list
                candidate = Variant(mistake, mistake, (), "", (), mistake)
            if candidate and not passed & (set(candidate.fails) - {line.id}):
                message, variant = text, candidate
                break
        else:
            if outcome.candidates:
                message = outcome.fallback
        line.mistake = variant.title if variant else None
        if message is not None:
            line.feedback.append(message)
        if line.visibility != "public":
            line.feedback = _hidden_feedback(line, message)
        lines.append(line)
    return lines


def _hidden_feedback(line: TestResult, message: str | None) -> list[str]:
    """What a hidden line keeps: nothing when it passed (not even a metric's value), a grader error's
    first line, or the pass/fail message with the known mistake's title."""
    if line.grader_error and message:
        return [message.splitlines()[0]]
    return [] if line.score >= line.max_score else _redacted(line.mistake)


def _redacted(title: str | None) -> list[str]:
    """A hidden test says pass/fail and, if it knows it, which known mistake it detected; nothing else."""
    if title is None:
        return ["Failed (hidden test: its inputs and outputs are not shown)."]
    return [f"Failed (hidden test). Known mistake detected: {title}."]


def run_tests(lab: Lab, suite: Suite, student: Student, expected: Expected, datasets: Callable,
              on_result: Callable[[TestResult], None] | None = None) -> list[TestResult]:
    """Run every test of the suite, reporting each score as it is final; then settle the feedback."""
    outcomes, shared = [], {}
    with grading_with(expected):  # where the tests' @recorded functions find their values
        for spec in suite.tests:
            outcome = run_one(spec, lab, student, expected, datasets, suite.signatures, shared)
            outcomes.append(outcome)
            if on_result:
                on_result(outcome.line)
    return settle(outcomes, expected)
