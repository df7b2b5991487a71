"""The class report (``autograder report``), from a gradebook of results built by hand: the numbers, the
CSV files and the page. (tests/test_browser.py grades a real class and opens the page in Chromium.)"""
from __future__ import annotations

import csv
import html
from pathlib import Path

import pytest

from autograder.analytics import class_report
from autograder.cli import main
from autograder.grade import RULES_NEED_A_PASS
from autograder.gradebook import Gradebook
from autograder.result import GradeResult, Isolation
from autograder.result import TestResult as Line  # not collected as a test class
from conftest import COURSE, ROOT

LAB = COURSE.lab("softmax_regression")
NO_MAX = "softmax without subtracting each row's maximum"
WRONG_DIM = "softmax normalised over the wrong dimension"
EVIL = "<b>mallory</b>"


def result(student: str, *tests: Line, gradable: bool = True, seconds: float = 4.0,
           messages: tuple[str, ...] = ()) -> dict:
    return GradeResult("softmax_regression", student, list(tests), Isolation("A", "namespaces"),
                       messages=list(messages), seconds=seconds, gradable=gradable).to_dict()


def lines(huge: float = 2.0, square: float = 1.0, forbidden: float = 2.0, **extra: Line) -> list[Line]:
    forbidden_feedback = [] if forbidden else ["softmax_regression.py line 30: calls torch.softmax, which this lab forbids"]
    return [Line("No forbidden APIs", forbidden, 2.0, kind="rule", id="rule:forbidden", feedback=forbidden_feedback),
            Line("softmax on huge logits", huge, 2.0, id="softmax_huge_logits",
                 mistake=None if huge else NO_MAX,
                 feedback=[] if huge else [f"softmax(X) on logits near +-1e4: nan where finite. {NO_MAX}: subtract it"]),
            Line("one step, square", square, 1.0, id="manual_update_square"),
            *extra.values()]


@pytest.fixture
def gradebook(tmp_path: Path) -> Path:
    """Six students: full marks, a named public mistake, a hidden-only mistake, a timeout and a memory kill,
    a forbidden API, a grader error, and one with nothing gradable."""
    path = tmp_path / "gradebook.sqlite"
    hidden = Line("softmax on other shapes", 0.0, 2.0, visibility="hidden", id="softmax_shapes_and_dtypes",
                  mistake=WRONG_DIM, feedback=[f"Failed (hidden test). Known mistake detected: {WRONG_DIM}."])
    rows = {
        "ada": result("ada", *lines(), seconds=3.0),
        "bob": result("bob", *lines(huge=0.0), seconds=5.0),
        "cy": result("cy", *lines(huge=0.0, hidden=hidden), seconds=6.0),
        "dee": result("dee", *lines(square=0.0, slow=Line("trains", 0.0, 2.0, id="digits_val_accuracy",
                                                           limit="timeout", feedback=["took longer than 60 s"]),
                                    big=Line("trains more", 0.0, 3.0, visibility="hidden", limit="memory",
                                             id="digits_test_accuracy")), seconds=61.0),
        EVIL: result(EVIL, *lines(forbidden=0.0, broken=Line("forward", 0.0, 1.0, id="forward_matches_reference",
                                                              grader_error=True, feedback=["grader error: probe boom"]))),
        "eve": result("eve", *[Line(t.name, 0.0, t.max_score, kind=t.kind, id=t.id,
                                    feedback=[RULES_NEED_A_PASS] if t.kind == "rule" else []) for t in lines()],
                      gradable=False, messages=("the submission holds none of the lab's files",)),
    }
    with Gradebook(path) as book:
        for i, (student, data) in enumerate(rows.items()):
            book.record(f"job{i}", student, "softmax_regression", f"hash{i}", "v1", "g1", data)
    return path


def test_numbers_of_the_class(gradebook: Path) -> None:
    with Gradebook(gradebook) as book:
        report = class_report(LAB, book.latest("softmax_regression"))
    assert [row.student for row in report.students] == sorted(["ada", "bob", "cy", "dee", EVIL, "eve"])
    tests = {t.id: t for t in report.tests}
    assert (tests["softmax_huge_logits"].passed, tests["softmax_huge_logits"].failed) == (3, 2)  # eve not gradable
    assert tests["forward_matches_reference"].errors == 1 and tests["forward_matches_reference"].graded == 0
    mistakes = {m.title: m for m in report.mistakes}
    assert [m.title for m in report.mistakes][0] == NO_MAX and mistakes[NO_MAX].students == 2
    assert mistakes[NO_MAX].example_source == "student feedback" and "nan where finite" in mistakes[NO_MAX].example
    # a hidden-only mistake: the students were told only its title, so the example is the lab's own words
    assert mistakes[WRONG_DIM].example_source == "mutants.toml"
    assert mistakes[WRONG_DIM].example == LAB.mistakes["wrong_dim"].feedback
    kinds = sorted((p.student, p.kind) for p in report.problems)
    assert kinds == sorted([("dee", "timeout"), ("dee", "memory"), (EVIL, "forbidden API"), (EVIL, "grader error"),
                            ("eve", "nothing gradable")])
    assert sum(report.score_counts) == 6 and report.score_counts[-1] == 1  # 100 % falls in the last bin
    assert sum(report.time_counts) == 6 and report.time_edges[-1] == 61.0


def test_report_command_writes_the_page_and_the_csv(gradebook: Path, tmp_path: Path) -> None:
    page, folder = tmp_path / "out" / "class.html", tmp_path / "csv"
    assert main(["--root", str(ROOT), "report", "softmax_regression", "--html", str(page), "--csv", str(folder),
                 "--gradebook", str(gradebook)]) == 0
    text = page.read_text()
    assert text.count("<img") == 3 and text.count('src="data:image/png;base64,') == 3  # scores, pass rates, run times
    assert "<b>mallory</b>" not in text and "&lt;b&gt;mallory&lt;/b&gt;" in text
    for words in (NO_MAX, WRONG_DIM, "Limits hit (time, CPU, memory): 2", "Forbidden APIs: 1",
                  "Grader errors (not counted in the score): 1", "Nothing gradable: 1", "calls torch.softmax"):
        assert html.escape(words) in text
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["mistakes.csv", "problems.csv", "run_time_histogram.csv", "score_histogram.csv", "students.csv",
                     "test_pass_rates.csv"]
    read = {name: list(csv.DictReader(open(folder / name, encoding="utf-8"))) for name in names}
    assert sum(int(row["students"]) for row in read["score_histogram.csv"]) == 6
    assert {row["mistake"]: int(row["students"]) for row in read["mistakes.csv"]} == {NO_MAX: 2, WRONG_DIM: 1}
    rates = {row["test"]: row for row in read["test_pass_rates.csv"]}
    assert rates["softmax_huge_logits"]["pass_rate"] == "0.6"
    assert sorted(row["problem"] for row in read["problems.csv"]) == sorted(
        ["timeout", "memory", "forbidden API", "grader error", "nothing gradable"])


@pytest.mark.parametrize("args, words", [
    (["--html", "{tmp}/r.html"], "no gradebook at"),
    (["--gradebook", "{book}"], "nothing to write"),
    (["--html", "{tmp}", "--gradebook", "{book}"], "is a folder"),
])
def test_report_usage_errors_are_one_line(gradebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                          args: list[str], words: str) -> None:
    filled = [a.format(tmp=tmp_path / "x" if a == "{tmp}/r.html" else tmp_path, book=gradebook) for a in args]
    assert main(["--root", str(ROOT), "report", "softmax_regression", *filled]) == 2
    assert words in capsys.readouterr().err


def test_a_lab_nobody_was_graded_for(gradebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--root", str(ROOT), "report", "mlp_numpy", "--html", str(tmp_path / "r.html"),
                 "--gradebook", str(gradebook)]) == 2
    assert "holds no grading of lab mlp_numpy" in capsys.readouterr().err
