"""``autograder verify``: prove that a lab's tests can fail and that its reference cannot.

The reference must score full marks and every alternative correct implementation too; the untouched
starter must score (almost) nothing; every known-mistake mutant must lose points on each test it
names, and that test must name the mistake.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

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


def lost_points(result: GradeResult) -> list[str]:
    """Each line of a result that did not earn full marks (or hit a grader error), with its feedback."""
    return [f"    {line.id}: {line.score:g}/{line.max_score:g}{' (grader error)' if line.grader_error else ''}: "
            f"{' / '.join(line.feedback)[:300]}"
            for line in result.tests if line.grader_error or line.score < line.max_score]


def mutant_problems(mutant: Variant, result: GradeResult, reference: GradeResult) -> list[str]:
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
           on_grade: Callable[[str], None] | None = None) -> tuple[list[GradeResult], list[str]]:
    """Grade each lab's reference (and, with ``variants``, its starter, alternatives and mutants);
    returns the results and every broken expectation. ``quick``: the reference runs every test, the
    others skip the slow (training) tests, except those a mutant must fail."""
    results, problems = [], []
    for lab_id in lab_ids:
        found = lint(course, lab_id)
        if found:
            problems += found
            continue
        lab = course.lab(lab_id)
        expected = LiveExpected(lab)
        runs: list[tuple[str, dict[str, str], Variant | None]] = [("reference", lab.reference_files, None)]
        if variants:
            runs.append(("starter", lab.starter_files, None))
            runs += [(f"alternative {a.id}", lab.variant_files(a), a) for a in lab.alternatives]
            runs += [(f"mutant {m.id}", lab.variant_files(m), m) for m in lab.mutants]
        reference = None
        for label, files, variant in runs:
            if on_grade:
                on_grade(f"{lab_id}: {label}")
            result = grade_files(course, lab, files, f"{lab_id} {label}", expected, _selection(label, variant, quick))
            results.append(result)
            full = result.score >= result.max_score and not result.grader_errors
            if result.grader_errors and label != "reference":
                problems.append(f"{lab_id} {label} hits grader errors:\n" + "\n".join(lost_points(result)))
            if label == "reference":
                reference = result
                if not full:
                    problems.append(f"{lab_id} reference scores {result.score:g}/{result.max_score:g}, not full marks:\n"
                                    + "\n".join(lost_points(result)))
            elif label == "starter" and result.score > STARTER_MAX_FRACTION * result.max_score:
                problems.append(f"{lab_id} starter scores {result.score:g}/{result.max_score:g}, more than almost nothing")
            elif label.startswith("alternative") and not full:
                problems.append(f"{lab_id} {label} scores {result.score:g}/{result.max_score:g}, not full marks:\n"
                                + "\n".join(lost_points(result)))
            elif label.startswith("mutant"):
                problems += mutant_problems(variant, result, reference)
    return results, problems


def _selection(label: str, variant: Variant | None, quick: bool) -> Callable[[TestSpec], bool] | None:
    """Which tests a quick verification runs for one grading (None: all of them)."""
    if not quick or label == "reference":
        return None
    if label.startswith("mutant"):
        return lambda spec: not spec.slow or spec.name in variant.fails
    return lambda spec: not spec.slow
