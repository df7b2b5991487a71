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

from autograder.batch import warm_lab
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


Run = tuple[str, Variant | None]  # a grading's label ("reference", "mutant <id>", ...) and its variant


def lab_runs(lab: Lab, variants: bool) -> list[Run]:
    """What ``verify`` grades for a lab: its reference, and with ``variants`` its starter, alternatives and mutants."""
    runs: list[Run] = [("reference", None)]
    if variants:
        runs.append(("starter", None))
        runs += [(f"alternative {a.id}", a) for a in lab.alternatives]
        runs += [(f"mutant {m.id}", m) for m in lab.mutants]
    return runs


def grade_run(course: Course, lab: Lab, run: Run, quick: bool, expected: LiveExpected) -> GradeResult:
    """Grade one of a lab's runs as a folder submission."""
    label, variant = run
    files = lab.reference_files if label == "reference" else lab.starter_files if label == "starter" else \
        lab.variant_files(variant)
    return grade_files(course, lab, files, f"{lab.id} {label}", expected, _selection(label, variant, quick))


def _grade_in_worker(root: str, lab_id: str, index: int, quick: bool) -> GradeResult:
    """``grade_run`` of the lab's run number ``index`` in a pool worker, whose reference values stay warm."""
    course, expected = warm_lab(root, lab_id, released=False)
    lab = course.lab(lab_id)
    return grade_run(course, lab, lab_runs(lab, variants=True)[index], quick, expected)


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
        runs = lab_runs(lab, variants)
        graded = _graded_here(course, lab, runs, quick, on_grade) if pool is None else \
            _graded_in(pool, course, lab, runs, quick, on_grade)
        for (label, variant), result in zip(runs, graded):
            results.append(result)
            problems += run_problems(lab_id, label, variant, result)
    return results, problems


def _graded_here(course: Course, lab: Lab, runs: list[Run], quick: bool,
                 on_grade: Callable[[str], None] | None) -> Iterator[GradeResult]:
    """Each run graded in this process, in turn (``on_grade`` hears of each before it starts)."""
    expected = LiveExpected(lab)
    for run in runs:
        if on_grade:
            on_grade(f"{lab.id}: {run[0]}")
        yield grade_run(course, lab, run, quick, expected)


def _graded_in(pool: Executor, course: Course, lab: Lab, runs: list[Run], quick: bool,
               on_grade: Callable[[str], None] | None) -> Iterator[GradeResult]:
    """Each run graded in the pool's workers, results in order (``on_grade`` hears of each as it ends)."""
    count = len(runs)
    graded = pool.map(_grade_in_worker, [str(course.root)] * count, [lab.id] * count, range(count), [quick] * count)
    for (label, _), result in zip(runs, graded):
        if on_grade:
            on_grade(f"{lab.id}: {label} ({result.seconds:g} s)")
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
