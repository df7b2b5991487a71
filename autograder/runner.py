"""Runs a lab's tests against a submission and turns each outcome into a scored, redacted line."""
from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Callable

from autograder.lab import Lab
from autograder.result import TestResult
from autograder.testing import Expected, Fail, Run, Student, StudentError, TestSpec

PUBLIC_TESTS = "public_tests.py"
HIDDEN_TESTS = "tests.py"
GRADER_ERROR = "the grader's test itself failed (not your code's fault); tell your instructor"


def collect(lab: Lab, public_only: bool) -> list[TestSpec]:
    """The lab's tests in file order: public tests, then (unless ``public_only``) the hidden ones.
    Without the solutions (a student's copy), the public tests shipped in ``labs/<lab>/``.
    ``tests.py`` may import helpers with ``from public_tests import ...``."""
    base = lab.solution_dir or lab.starter_dir
    paths = [base / PUBLIC_TESTS] if public_only else [base / PUBLIC_TESTS, base / HIDDEN_TESTS]
    specs: list[TestSpec] = []
    loaded: dict[str, ModuleType] = {}
    for path in filter(Path.exists, paths):
        spec = importlib.util.spec_from_file_location(f"autograder_tests_{lab.id}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        stashed = {name: sys.modules.get(name) for name in loaded}
        sys.modules.update(loaded)
        try:
            spec.loader.exec_module(module)
        finally:
            for name, previous in stashed.items():
                if previous is None:
                    del sys.modules[name]
                else:
                    sys.modules[name] = previous
        loaded[path.stem] = module
        specs += [obj.__autograder_test__ for obj in vars(module).values()
                  if hasattr(obj, "__autograder_test__") and obj.__module__ == module.__name__]
    return specs


def describe(error: StudentError, public: bool) -> str:
    """What a student is told about their code failing; their own exception text only when public."""
    if error.detail and public:
        return f"{error.message}\n{error.detail}"
    return error.message


def run_one(spec: TestSpec, lab: Lab, student: Student, expected: Expected, datasets: Callable) -> TestResult:
    """Run one test; whatever happens, a scored line comes back."""
    run = Run(lab, student, expected, spec.timeout or lab.limits["timeout"], datasets)
    public = spec.visibility == "public"
    mistake, grader_error = None, False
    start = time.perf_counter()
    try:
        fraction = spec.func(run)
        fraction = 1.0 if fraction is None else min(1.0, max(0.0, float(fraction)))
        message = None
    except Fail as failure:
        fraction, message, mistake = 0.0, failure.message, failure.mistake
    except StudentError as error:
        fraction, message = 0.0, describe(error, public)
        grader_error = error.kind == "sandbox"  # the machine's fault, not the student's: never redacted
    except Exception:  # a bug in the lab's test: report it, never crash the run
        fraction, grader_error = 0.0, True
        message = f"{GRADER_ERROR}\n" + traceback.format_exc(limit=-3)
    feedback = list(run.feedback)
    if message is not None:
        feedback.append(message)
    title = _title(lab, run, mistake)
    if not public and fraction < 1.0:
        feedback = [message.splitlines()[0]] if grader_error else _redacted(title)
    return TestResult(name=spec.title, score=round(spec.points * fraction, 4), max_score=spec.points,
                      visibility=spec.visibility, kind="test", feedback=feedback,
                      mistake=title, seconds=round(time.perf_counter() - start, 3), id=spec.name)


def _title(lab: Lab, run: Run, mistake: str | None) -> str | None:
    """A known mistake's title, from the mutants the test compared against or the lab's list."""
    if mistake is None:
        return None
    if mistake in run.mistake_titles:
        return run.mistake_titles[mistake]
    if lab.has_solution:
        return next((m.title for m in lab.mutants if m.id == mistake), mistake)
    return mistake


def _redacted(title: str | None) -> list[str]:
    """A hidden test says pass/fail and, if it knows it, which known mistake it detected; nothing else."""
    if title is None:
        return ["Failed (hidden test: its inputs and outputs are not shown)."]
    return [f"Failed (hidden test). Known mistake detected: {title}."]


def run_tests(lab: Lab, specs: list[TestSpec], student: Student, expected: Expected, datasets: Callable,
              on_result: Callable[[TestResult], None] | None = None) -> list[TestResult]:
    results = []
    for spec in specs:
        result = run_one(spec, lab, student, expected, datasets)
        results.append(result)
        if on_result:
            on_result(result)
    return results
