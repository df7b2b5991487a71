"""nn_fundamentals keeps its questions apart: a submission whose models.py breaks in one question (a
syntax error, an exception while a class is defined) still gets the other questions' points, and the
broken question's tests point at the line. And --data-dir reaches MNIST and lang_id.npz."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_data_nn_fundamentals import write_lang_id, write_mnist  # the real formats, written small

from autograder.grade import grade
from autograder.lab import Course

COURSE = Course(Path(__file__).resolve().parents[1])
LAB = "nn_fundamentals"


def grade_unit_tests(tmp_path: Path, models: str):
    """Grade a models.py on the tests that train nothing (fast)."""
    (tmp_path / "models.py").write_text(models)
    return grade(COURSE, LAB, tmp_path, only=lambda spec: not spec.slow)


def by_question(result) -> dict[str, list]:
    lines: dict[str, list] = {}
    for line in result.tests:
        if line.kind == "test":
            lines.setdefault(line.id[:2], []).append(line)
    return lines


@pytest.mark.sandbox
@pytest.mark.parametrize("breakage", ["syntax", "class_body"])
def test_a_broken_question_costs_only_its_own_points(tmp_path: Path, breakage: str) -> None:
    reference = COURSE.lab(LAB).reference_files["models.py"]
    anchor = "        self.num_chars = 47\n"
    broken = {"syntax": "        self.num_chars = 47 +\n",  # a syntax error inside LanguageIDModel
              "class_body": anchor}[breakage]
    models = reference.replace(anchor, broken)
    if breakage == "class_body":  # an exception while the class statement runs
        models = models.replace("class LanguageIDModel(Module):\n", "class LanguageIDModel(Module):\n    1 / 0\n")
    culprit = "47 +" if breakage == "syntax" else "1 / 0"
    line = next(i for i, text in enumerate(models.splitlines(), 1) if culprit in text)
    result = grade_unit_tests(tmp_path, models)
    questions = by_question(result)
    assert set(questions) == {"q1", "q2", "q3", "q4", "q5", "q6"}
    for question, lines in questions.items():
        if question == "q4":
            assert all(line.score == 0 for line in lines)
            public = [line for line in lines if line.visibility == "public"]
            error = "SyntaxError" if breakage == "syntax" else "ZeroDivisionError"
            assert all(error in " ".join(test.feedback) and f"models.py line {line}" in " ".join(test.feedback)
                       for test in public), [test.feedback for test in public]
        else:
            assert all(line.score == line.max_score for line in lines), (question, [test.feedback for test in lines])


@pytest.mark.sandbox
def test_a_broken_attention_fails_question_6_only(tmp_path: Path) -> None:
    reference = COURSE.lab(LAB).reference_files["models.py"]
    models = reference.replace("        B, T, C = input.size()\n", "        B, T, C = input.size(\n")
    questions = by_question(grade_unit_tests(tmp_path, models))
    assert all(line.score == 0 for line in questions["q6"])
    assert all(line.score == line.max_score for q, lines in questions.items() if q != "q6" for line in lines)


@pytest.mark.sandbox
@pytest.mark.slow
def test_real_data_through_data_dir(tmp_path: Path) -> None:
    """--data-dir with MNIST's idx files and a lang_id.npz: questions 3-5 train on them and are scored
    against the real data's thresholds (small random stand-ins here: only the path is checked)."""
    data = tmp_path / "data"
    data.mkdir()
    write_mnist(data, n_train=10_100, n_test=40, zipped=True)
    write_lang_id(data / "lang_id.npz", sizes=(200, 30, 30))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "models.py").write_text(COURSE.lab(LAB).reference_files["models.py"])
    wanted = {"q3_accuracy_val", "q4_accuracy_val", "q5_accuracy_val"}
    result = grade(COURSE, LAB, submission, data_dir=data, only=lambda spec: spec.name in wanted)
    lines = {line.id: line for line in result.tests if line.kind == "test"}
    assert set(lines) == wanted and not any(line.grader_error for line in lines.values())
    assert "(mnist)" in " ".join(lines["q3_accuracy_val"].feedback)
    assert "(mnist)" in " ".join(lines["q5_accuracy_val"].feedback)
    assert "(real)" in " ".join(lines["q4_accuracy_val"].feedback)
