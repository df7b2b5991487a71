"""Every lab of the kit, discovered from solutions/: its files lint clean; through the real sandbox the
reference scores full marks, the untouched starter (almost) nothing, each alternative full marks, and each
form of each known mistake loses points on the tests its mistake names, which name it (``verify --quick``:
only the reference runs the training tests). Also the student's path (``check``) and what ships to them."""
from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Iterator

import pytest

from autograder.batch import warm_workers
from autograder.expected import RecordedExpected
from autograder.grade import grade
from autograder.lab import EXPECTED_FILE, HIDDEN_TESTS, INSTRUCTOR_FILES
from autograder.lint import MIN_FORMS
from autograder.runner import collect
from autograder.sandbox.wire import decode
from autograder.verify import verify
from conftest import COURSE

LABS = [lab for lab in COURSE.lab_ids() if COURSE.lab(lab).has_solution]


def test_the_kit_ships_its_labs() -> None:
    assert {"linear_regression", "softmax_regression", "mlp_numpy"} <= set(LABS)


@pytest.fixture(scope="module")
def workers() -> Iterator[Executor]:
    """Two warm grading processes, as ``verify -j 2`` uses them, for every lab's gradings."""
    with warm_workers(2) as pool:
        yield pool


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("lab_id", LABS)
def test_lab_expectations_hold(lab_id: str, workers: Executor) -> None:
    results, problems = verify(COURSE, [lab_id], variants=True, quick=True, pool=workers)
    assert problems == []
    lab = COURSE.lab(lab_id)
    assert len(results) == 2 + len(lab.mutants) + len(lab.alternatives)


@pytest.mark.parametrize("lab_id", LABS)
def test_every_mistake_has_forms_feedback_and_a_test(lab_id: str) -> None:
    lab = COURSE.lab(lab_id)
    forms = [mutant.mistake for mutant in lab.mutants]
    assert lab.mistakes and lab.alternatives
    for mistake in lab.mistakes.values():
        assert forms.count(mistake.id) >= MIN_FORMS, mistake.id
        assert mistake.title and len(mistake.feedback) > 20 and mistake.fails, mistake.id


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_nothing_hidden_ships_to_students(lab_id: str) -> None:
    """labs/<lab> holds no instructor file, and its recorded values name only the mistakes a public test can
    name, and no hidden test."""
    lab = COURSE.lab(lab_id)
    shipped = {path.name for path in lab.starter_dir.iterdir()}
    assert not shipped & set(INSTRUCTOR_FILES)
    recorded = RecordedExpected(lab)
    public = {spec.name for spec in collect(lab, public_only=True)}
    hidden = {spec.name for spec in collect(lab, public_only=False)} - public
    nameable = {mid for mid, m in lab.mistakes.items() if set(m.fails) & public}
    assert set(recorded.mistakes()) == nameable
    hidden_only_titles = {m.title for mid, m in lab.mistakes.items() if mid not in nameable}
    raw = (lab.starter_dir / EXPECTED_FILE).read_bytes().decode("latin-1")
    assert not [title for title in hidden_only_titles if title in raw]
    assert not [name for name in hidden if name in raw]
    for entry in decode((lab.starter_dir / EXPECTED_FILE).read_bytes())["calls"].values():
        assert {form["mistake"] for form in entry["forms"]} <= nameable
    assert HIDDEN_TESTS not in shipped


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_check_on_the_shipped_starter(lab_id: str) -> None:
    """What a student sees first: a result, every public test failing with a message."""
    result = grade(COURSE, lab_id, COURSE.root / "labs" / lab_id, mode="check",
                   only=lambda spec: not spec.slow)
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
    result = grade(COURSE, lab_id, tmp_path, mode="check", only=lambda spec: not spec.slow)
    assert result.score == result.max_score > 0 and not result.grader_errors
    assert all(line.visibility == "public" for line in result.tests)

