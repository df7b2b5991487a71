"""``@recorded``: values the grader computes (with torch, say) are recorded by ``release`` for every test's
inputs, read back while grading and by ``check``, computed for any other input, and recorded again once
the lab's files change."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograder.datasets import Datasets
from autograder.expected import LiveExpected, RecordedExpected, TrustedCode, TrustedStudent
from autograder.lab import Course, LabError
from autograder.release import release, stale
from autograder.runner import collect_suite, run_tests
from conftest import ROOT, TOY_MODULE

PUBLIC = '''\
import os

from autograder.testing import Fail, Run, recorded, test


@recorded
def doubled(x):
    """The grader's answer, noting each time it is computed."""
    with open(os.environ["TOY_LOG"], "a") as log:
        log.write(f"{x}\\n")
    return {"twice": 2 * x}


def expect_doubled(run: Run, x: int) -> None:
    if 2 * run.student("call_f", x) != doubled(x)["twice"]:
        raise Fail("not doubled")


@test(points=1)
def public_double(run: Run):
    """f(3), doubled, is the recorded double"""
    expect_doubled(run, 3)


@test(points=1)
def public_match(run: Run):
    """f(4) equals the reference's"""
    run.expect_match("call_f", 4, what="f(4)")
'''

HIDDEN = '''\
from autograder.testing import Run, test
from public_tests import expect_doubled


@test(points=1, visibility="hidden")
def hidden_double(run: Run):
    """f(5), doubled, is the recorded double"""
    expect_doubled(run, 5)
'''


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "computed.log"
    monkeypatch.setenv("TOY_LOG", str(path))
    return path


def computed(log: Path) -> list[str]:
    """The inputs ``doubled`` was computed for since the last look."""
    found = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return found


def graded(lab, expected) -> list[float]:
    """The reference graded in-process on every test, with ``expected``'s values."""
    student = TrustedStudent(TrustedCode(lab.reference_files, lab.probes_source, "toy"))
    suite = collect_suite(lab, public_only=isinstance(expected, RecordedExpected))
    return [line.score for line in run_tests(lab, suite, student, expected, Datasets(lab.course_root / "data"))]


def test_release_records_every_tests_values_and_grading_reads_them(make_lab, log: Path) -> None:
    lab = make_lab(public_tests__py=PUBLIC, tests__py=HIDDEN, README__md="# Tiny\n")
    assert graded(lab, LiveExpected(lab)) == [1, 1, 1] and computed(log) == ["3", "5"]  # nothing recorded yet
    course = Course(lab.course_root)
    release(course, ["tiny"])
    assert lab.recorded_path.is_file()
    computed(log)

    assert graded(lab, LiveExpected(lab)) == [1, 1, 1] and computed(log) == []  # grading: read, never computed
    assert graded(lab, RecordedExpected(lab)) == [1, 1] and computed(log) == []  # check: the public values
    assert LiveExpected(lab).computed("x", [7], {}, lambda: 14) == 14  # any other input is computed

    (lab.solution_dir / "tests.py").write_text(HIDDEN + "# changed\n")  # the record no longer counts
    assert any("recorded.wire was not recorded from the lab's current files" in line for line in stale(course, ["tiny"]))
    computed(log)  # what --check itself computed
    assert graded(lab, LiveExpected(lab)) == [1, 1, 1] and computed(log) == ["3", "5"]
    release(course, ["tiny"])
    computed(log)
    assert not stale(course, ["tiny"]) and graded(lab, LiveExpected(lab)) == [1, 1, 1] and computed(log) == []


def test_the_record_holds_the_references_values_so_grading_need_not_run_it(make_lab, log: Path) -> None:
    lab = make_lab(public_tests__py=PUBLIC, tests__py=HIDDEN, README__md="# Tiny\n")
    release(Course(lab.course_root), ["tiny"])
    expected = LiveExpected(lab)
    assert graded(lab, expected) == [1, 1, 1] and expected._reference is None  # never imported
    (lab.solution_dir / "tiny.py").write_text(TOY_MODULE.replace("return x", "return x * 1"))
    expected = LiveExpected(lab)  # the record was made from other files: the reference runs
    assert graded(lab, expected) == [1, 1, 1] and expected._reference is not None


def test_a_damaged_record_is_named_for_the_instructor(make_lab, log: Path) -> None:
    lab = make_lab(public_tests__py=PUBLIC)
    lab.recorded_path.write_bytes(b"not a record")
    with pytest.raises(LabError, match="recorded.wire is damaged: run 'autograder release tiny'"):
        LiveExpected(lab).computed("x", [1], {}, lambda: 2)


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", ["attention_backprop", "cnn"])
def test_labs_that_check_against_torch_grade_without_it(lab_id: str, tmp_path: Path) -> None:
    """Their tests compare with autograd and a PyTorch twin: recorded at release, so the grader never
    imports torch for a correct submission (and both sandboxes block it)."""
    script = (f"import sys\nfrom pathlib import Path\nfrom autograder.lab import Course\nfrom autograder.grade import grade\n"
              f"course, folder = Course(Path({str(ROOT)!r})), Path({str(tmp_path)!r})\nlab = course.lab({lab_id!r})\n"
              f"for name in lab.files:\n    (folder / name).write_text(lab.reference_files[name])\n"
              f"result = grade(course, {lab_id!r}, folder)\n"
              f"print(result.score, result.max_score, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1] and out[2] == "False"
