"""Every lab, through the real sandbox: the reference scores full marks, the untouched starter
(almost) nothing, each alternative correct implementation full marks, and each known-mistake mutant
loses points on the tests it names, which name the mistake. Also the student's path (``check``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grade import grade
from autograder.lab import Course
from autograder.release import stale
from autograder.verify import verify

COURSE = Course(Path(__file__).resolve().parents[1])
LABS = ["linear_regression", "softmax_regression", "mlp_numpy"]


def test_the_course_has_its_labs() -> None:
    assert set(LABS) <= set(COURSE.lab_ids())


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_lab_expectations_hold(lab_id: str) -> None:
    results, problems = verify(COURSE, [lab_id], variants=True)
    assert problems == []
    lab = COURSE.lab(lab_id)
    assert len(lab.mutants) >= 5 and len(lab.alternatives) >= 1
    assert len(results) == 2 + len(lab.mutants) + len(lab.alternatives)


@pytest.mark.parametrize("lab_id", LABS)
def test_every_mutant_has_feedback_and_a_test(lab_id: str) -> None:
    for mutant in COURSE.lab(lab_id).mutants:
        assert mutant.title and len(mutant.feedback) > 20 and mutant.fails, mutant.id


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_check_on_the_shipped_starter(lab_id: str) -> None:
    """What a student sees first: a result, every public test failing with a message."""
    result = grade(COURSE, lab_id, COURSE.root / "labs" / lab_id, mode="check")
    tests = [line for line in result.tests if line.kind == "test"]
    assert tests and result.score == 0
    assert all(line.visibility == "public" and line.feedback for line in tests)
    assert any("not implemented" in " ".join(line.feedback) for line in tests)
    assert result.messages == []  # the kit's own files in the lab folder are not 'extra files'


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_check_passes_the_reference(lab_id: str, tmp_path: Path) -> None:
    lab = COURSE.lab(lab_id)
    for name in lab.files:
        (tmp_path / name).write_text(lab.reference_files[name])
    result = grade(COURSE, lab_id, tmp_path, mode="check")
    assert result.score == result.max_score > 0
    assert all(line.visibility == "public" for line in result.tests)


@pytest.mark.slow
def test_labs_folder_is_in_sync_with_solutions() -> None:
    assert stale(COURSE, LABS) == []
