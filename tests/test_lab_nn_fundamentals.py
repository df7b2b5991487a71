"""nn_fundamentals keeps its questions apart: a submission whose models.py breaks in one question (a
syntax error, an exception while a class is defined) still gets the other questions' points, and the
broken question's tests point at the line."""
from __future__ import annotations

from pathlib import Path

import pytest

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
    result = grade_unit_tests(tmp_path, models)
    questions = by_question(result)
    assert set(questions) == {"q1", "q2", "q3", "q4", "q5", "q6"}
    for question, lines in questions.items():
        if question == "q4":
            assert all(line.score == 0 for line in lines)
            public = [line for line in lines if line.visibility == "public"]
            error = "SyntaxError" if breakage == "syntax" else "ZeroDivisionError"
            assert all(error in " ".join(line.feedback) and "models.py line" in " ".join(line.feedback)
                       for line in public), [line.feedback for line in public]
        else:
            assert all(line.score == line.max_score for line in lines), (question, [l.feedback for l in lines])


@pytest.mark.sandbox
def test_a_broken_attention_fails_question_6_only(tmp_path: Path) -> None:
    reference = COURSE.lab(LAB).reference_files["models.py"]
    models = reference.replace("        B, T, C = input.size()\n", "        B, T, C = input.size(\n")
    questions = by_question(grade_unit_tests(tmp_path, models))
    assert all(line.score == 0 for line in questions["q6"])
    assert all(line.score == line.max_score for q, lines in questions.items() if q != "q6" for line in lines)
