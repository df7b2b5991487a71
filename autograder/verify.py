"""``autograder verify``: prove that a lab's tests can fail and that its reference cannot.

The reference must score full marks and every alternative correct implementation too; the untouched
starter must score (almost) nothing; every known-mistake mutant must lose points on each test it
names, and that test must name the mistake.
"""
from __future__ import annotations

import tempfile
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable, Iterator

from autograder.expected import LiveExpected
from autograder.grade import grade
from autograder.lab import Course, Lab, Variant
from autograder.lint import lint
from autograder.result import GradeResult
from autograder.testing import TestSpec

STARTER_MAX_FRACTION = 0.1


def grade_files(course: Course, lab: Lab, files: dict[str, str], label: str, expected: LiveExpected,
                only: Callable[[TestSpec], bool] | None = None) -> GradeResult:
    """Grade a set of files as a folder submission."""
    with tempfile.TemporaryDirectory(prefix="autograder-verify-") as folder:
        for name in lab.files:
            (Path(folder) / name).write_text(files[name])
        result = grade(course, lab.id, Path(folder), expected=expected, only=only)
    result.submission = label
    return result


_warm: dict[tuple[str, str], tuple[Course, LiveExpected]] = {}  # per process: (root, lab) -> its reference's values


def grade_run(root: str, lab_id: str, label: str, variant_id: str | None, quick: bool) -> GradeResult:
    """Grade one of a lab's runs (the reference, the starter, an alternative or a mutant) here or in a worker
    process, with the reference's values computed once per process."""
    if (root, lab_id) not in _warm:
        course = Course(Path(root))
        _warm[(root, lab_id)] = (course, LiveExpected(course.lab(lab_id)))
    course, expected = _warm[(root, lab_id)]
    lab = course.lab(lab_id)
    variant = next((v for v in [*lab.alternatives, *lab.mutants] if v.id == variant_id), None)
    files = lab.reference_files if label == "reference" else lab.starter_files if label == "starter" else \
        lab.variant_files(variant)
    return grade_files(course, lab, files, f"{lab_id} {label}", expected, _selection(label, variant, quick))


def lost_points(result: GradeResult) -> list[str]:
    """Each line of a result that did not earn full marks (or hit a grader error), with its feedback."""
    return [f"    {line.id}: {line.score:g}/{line.max_score:g}{' (grader error)' if line.grader_error else ''}: "
            f"{' / '.join(line.feedback)[:300]}"
            for line in result.tests if line.grader_error or line.score < line.max_score]


def mutant_problems(mutant: Variant, result: GradeResult) -> list[str]:
    """What a mutant's grading shows that it should not: a named test passing or not naming the mistake."""
    problems = []
    if all(line.score >= line.max_score for line in result.tests):
        problems.append(f"{result.submission} loses no points")
    lines = {line.id: line for line in result.tests}
    for test_id in mutant.fails:
        line = lines.get(test_id)
        if line is None:
            problems.append(f"{result.submission}: no test or rule called {test_id!r}")
        elif line.score >= line.max_score:
            problems.append(f"{result.submission} passes {test_id}")
        elif line.kind == "test" and line.mistake != mutant.title:
            problems.append(f"{result.submission} fails {test_id} without naming the mistake "
                            f"(it says: {line.mistake or ' / '.join(line.feedback)[:160]})")
    return problems


def verify(course: Course, lab_ids: list[str], variants: bool = False, quick: bool = False,
           on_grade: Callable[[str], None] | None = None, pool: Executor | None = None
           ) -> tuple[list[GradeResult], list[str]]:
    """Grade each lab's reference (and, with ``variants``, its starter, alternatives and mutants);
    returns the results and every broken expectation. ``quick``: the reference runs every test, the
    others skip the slow (training) tests, except those a mutant must fail. With a ``pool`` of worker
    processes (``batch.warm_workers``) the gradings run there (``on_grade`` then hears of each one as it ends)."""
    results, problems = [], []
    for lab_id in lab_ids:
        found = lint(course, lab_id)
        if found:
            problems += found
            continue
        lab = course.lab(lab_id)
        runs: list[tuple[str, Variant | None]] = [("reference", None)]
        if variants:
            runs.append(("starter", None))
            runs += [(f"alternative {a.id}", a) for a in lab.alternatives]
            runs += [(f"mutant {m.id}", m) for m in lab.mutants]
        jobs = [(str(course.root), lab_id, label, variant.id if variant else None, quick) for label, variant in runs]
        if pool is None:
            graded = (_announced(on_grade, f"{lab_id}: {label}", job) for (label, _), job in zip(runs, jobs))
        else:
            graded = _told(on_grade, lab_id, runs, pool.map(grade_run, *zip(*jobs)))
        for (label, variant), result in zip(runs, graded):
            results.append(result)
            problems += run_problems(lab_id, label, variant, result)
    return results, problems


def _announced(on_grade: Callable[[str], None] | None, what: str, job: tuple) -> GradeResult:
    if on_grade:
        on_grade(what)
    return grade_run(*job)


def _told(on_grade: Callable[[str], None] | None, lab_id: str, runs: list, graded: Iterator[GradeResult]
          ) -> Iterator[GradeResult]:
    for (label, _), result in zip(runs, graded):
        if on_grade:
            on_grade(f"{lab_id}: {label} ({result.seconds:g} s)")
        yield result


def run_problems(lab_id: str, label: str, variant: Variant | None, result: GradeResult) -> list[str]:
    """The broken expectations one grading shows."""
    full = result.score >= result.max_score and not result.grader_errors
    problems = []
    if result.grader_errors and label != "reference":
        problems.append(f"{lab_id} {label} hits grader errors:\n" + "\n".join(lost_points(result)))
    if label == "reference" and not full:
        problems.append(f"{lab_id} reference scores {result.score:g}/{result.max_score:g}, not full marks:\n"
                        + "\n".join(lost_points(result)))
    elif label == "starter" and result.score > STARTER_MAX_FRACTION * result.max_score:
        problems.append(f"{lab_id} starter scores {result.score:g}/{result.max_score:g}, more than almost nothing")
    elif label.startswith("alternative") and not full:
        problems.append(f"{lab_id} {label} scores {result.score:g}/{result.max_score:g}, not full marks:\n"
                        + "\n".join(lost_points(result)))
    elif label.startswith("mutant"):
        problems += mutant_problems(variant, result)
    return problems


def _selection(label: str, variant: Variant | None, quick: bool) -> Callable[[TestSpec], bool] | None:
    """Which tests a quick verification runs for one grading (None: all of them)."""
    if not quick or label == "reference":
        return None
    if label.startswith("mutant"):
        return lambda spec: not spec.slow or spec.name in variant.fails
    return lambda spec: not spec.slow
