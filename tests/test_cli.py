"""The ``autograder`` command end to end, with the real sandbox (a few seconds per grading: six in all)."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.lab import Course
from autograder.runner import collect

ROOT = Path(__file__).resolve().parents[1]
LAB = "linear_regression"
STARTER = ROOT / "labs" / LAB
HIDDEN_GENERIC = "Failed (hidden test: its inputs and outputs are not shown)."
needs_starter = pytest.mark.skipif(not (STARTER / "lab.toml").exists(),
                                   reason=f"labs/{LAB} has not been generated yet (run 'autograder release')")


def cli(*args: str | Path) -> int:
    return main(["--root", str(ROOT), *map(str, args)])


def grade_to(tmp: Path, fmt: str, *extra: str | Path,
             command: tuple = ("grade", STARTER, "--lab", LAB)) -> tuple[int, str]:
    out = tmp / f"report.{fmt}"
    code = cli(*command, "--format", fmt, "--out", out, "-q", *extra)
    return code, out.read_text()


# ---- gradings, each run once per module ------------------------------------------------------------

@pytest.fixture(scope="module")
def gradescope(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    code, text = grade_to(tmp_path_factory.mktemp("gs"), "gradescope", "--fail-under", "0")
    return code, json.loads(text)


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, ET.Element]:
    code, text = grade_to(tmp_path_factory.mktemp("junit"), "junit")
    return code, ET.fromstring(text.encode())


@pytest.fixture(scope="module")
def as_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    code, text = grade_to(tmp_path_factory.mktemp("json"), "json", "--fail-under", "100")
    return code, json.loads(text)


@pytest.fixture(scope="module")
def missing(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    tmp = tmp_path_factory.mktemp("missing")
    code, text = grade_to(tmp, "json", command=("grade", tmp / "no_such_submission", "--lab", LAB))
    return code, json.loads(text)


@pytest.fixture(scope="module")
def checked_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    tmp = tmp_path_factory.mktemp("reference")
    work = tmp / "mine"
    work.mkdir()
    for name, text in Course(ROOT).lab(LAB).reference_files.items():
        (work / name).write_text(text)
    code, text = grade_to(tmp, "json", "--fail-under", "100", command=("check", LAB, work))
    return code, json.loads(text)


# ---- help, list, usage errors (no grading) ---------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--help"], ["grade", "check", "verify", "release", "list", "--root", "--version", "examples:"]),
    (["grade", "--help"], ["PATH", "--lab", "--format", "gradescope", "junit", "json", "--out", "--fail-under",
                           "--data-dir", "--quiet"]),
    (["check", "--help"], ["lab", "path", "--format", "--fail-under"]),
    (["release", "--help"], ["--check", "labs"]),
    (["verify", "--help"], ["--variants", "--quick", "--jobs"]),
])
def test_help_mentions_commands_and_options(capsys: pytest.CaptureFixture, args: list[str], words: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert [word for word in words if word not in out] == []


@pytest.mark.parametrize("args", [
    ["grade", "sub"],  # --lab missing
    ["grade", "sub", "--lab", LAB, "--format", "pdf"],
    ["frobnicate"],
    [],
])
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def installed_labs() -> list[str]:
    labs = [LAB, "softmax_regression"]
    return labs + (["mlp_numpy"] if (ROOT / "solutions" / "mlp_numpy" / "lab.toml").exists() else [])


def test_list_shows_the_labs(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert [lab for lab in installed_labs() if lab not in out] == []
    assert "linear_regression.py" in out and "Linear regression" in out


def test_list_shows_full_lab_ids_at_80_columns(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert [lab for lab in installed_labs() if lab not in out] == []


@pytest.mark.parametrize("args", [("grade", "whatever", "--lab", "no_such_lab"), ("check", "no_such_lab")])
def test_unknown_lab_is_a_clear_usage_error(capsys: pytest.CaptureFixture, args: tuple[str, ...]) -> None:
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert "no lab called 'no_such_lab'" in err and LAB in err and "Traceback" not in err


def test_unknown_lab_from_the_installed_command(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("autograder")
    done = subprocess.run([command, "--root", ROOT, "grade", tmp_path, "--lab", "no_such_lab"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "no lab called 'no_such_lab'" in done.stderr and "Traceback" not in done.stderr + done.stdout


@pytest.mark.sandbox
def test_grade_takes_several_py_files(tmp_path: Path) -> None:
    """mlp_numpy's four files passed one by one (plus a stray one) grade like a folder."""
    lab = Course(ROOT).lab("mlp_numpy")
    for name in [*lab.files, "notes.py"]:
        (tmp_path / name).write_text(lab.reference_files.get(name, "# my notes\n"))
    code, text = grade_to(tmp_path, "json", command=("grade", *sorted(tmp_path.glob("*.py")), "--lab", "mlp_numpy"))
    report = json.loads(text)
    assert code == 0 and report["score"] == report["max_score"] > 0
    assert any("notes.py" in message for message in report["messages"])


# ---- grading the starter ------------------------------------------------------------------------

@needs_starter
@pytest.mark.sandbox
def test_gradescope_report_of_the_starter(gradescope: tuple[int, dict]) -> None:
    code, data = gradescope
    assert code == 0  # --fail-under 0: a score of 0 is not under it
    assert data["score"] == 0 == sum(test["score"] for test in data["tests"])
    assert "Isolation:" in data["output"] and "Total: 0 / " in data["output"]
    tests = data["tests"]
    assert len(tests) > 3
    for test in tests:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert type(test["name"]) is str and test["max_score"] > 0 and test["score"] == 0
        assert (test["status"], test["visibility"] in ("visible", "hidden", "after_due_date")) == ("failed", True)
        assert test["output"].strip(), f"{test['name']} failed without saying why"
        assert "Traceback" not in test["output"]
    visibility = {spec.title: spec.visibility for spec in collect(Course(ROOT).lab(LAB), public_only=False)}
    public = [t for t in tests if visibility.get(t["name"]) == "public"]
    hidden = [t for t in tests if visibility.get(t["name"]) == "hidden"]
    assert public and hidden
    assert {t["visibility"] for t in public + hidden} == {"visible"}  # hidden tests show pass/fail and the mistake
    assert [t["name"] for t in public if "not implemented" not in t["output"]] == []
    assert [t["name"] for t in hidden if t["output"] != HIDDEN_GENERIC] == []
    assert [t["name"] for t in tests if t["name"].startswith("Rule: ")] != []


@needs_starter
@pytest.mark.sandbox
def test_junit_report_of_the_starter(junit: tuple[int, ET.Element], gradescope: tuple[int, dict]) -> None:
    code, suite = junit
    assert code == 0
    cases = suite.findall("testcase")
    failures = [case.find("failure") for case in cases if case.find("failure") is not None]
    assert suite.tag == "testsuite" and suite.get("name") == LAB
    assert int(suite.get("tests")) == len(cases) == len(gradescope[1]["tests"])
    assert int(suite.get("failures")) == len(failures) == len(cases) > 0
    assert all(failure.get("message", "").startswith("0/") and failure.text for failure in failures)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    max_score = sum(t["max_score"] for t in gradescope[1]["tests"])
    assert (properties["score"], properties["max_score"]) == ("0", format(max_score, "g"))


@needs_starter
@pytest.mark.sandbox
def test_json_report_of_the_starter_and_fail_under(as_json: tuple[int, dict], gradescope: tuple[int, dict]) -> None:
    code, data = as_json
    assert code == 1  # --fail-under 100 on a starter
    assert (data["lab"], data["mode"], data["score"]) == (LAB, "grade", 0)
    assert data["max_score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert data["isolation"]["profile"] in ("A", "B", "C")
    assert {t["status"] for t in data["tests"]} == {"failed"}
    ids = {t["id"] for t in data["tests"]}
    assert {"rule:regions", "rule:imports", "rule:forbidden"} <= ids
    assert {spec.name for spec in collect(Course(ROOT).lab(LAB), public_only=False)} <= ids
    assert len(data["tests"]) == len(gradescope[1]["tests"])


# ---- a missing submission, and the reference through `check` -------------------------------------

def test_missing_submission_still_gives_a_result(missing: tuple[int, dict]) -> None:
    code, data = missing
    assert code == 4  # nothing gradable: a distinct status, and still a report
    assert any("not found" in message for message in data["messages"]), data["messages"]
    assert data["score"] == 0 and data["tests"]
    assert all(t["feedback"] for t in data["tests"])
    rules = [t for t in data["tests"] if t["kind"] == "rule"]
    assert rules and all("missing" in " ".join(t["feedback"]) for t in rules)


def test_missing_submission_says_why_each_test_was_not_graded(missing: tuple[int, dict]) -> None:
    public = [t for t in missing[1]["tests"] if t["kind"] == "test" and t["visibility"] == "public"]
    assert public and all("none of the lab's files" in " ".join(t["feedback"]) for t in public)


@needs_starter
@pytest.mark.sandbox
def test_check_on_the_reference_earns_full_marks(checked_reference: tuple[int, dict]) -> None:
    code, data = checked_reference
    assert code == 0  # even with --fail-under 100
    assert data["mode"] == "check" and data["score"] == data["max_score"] > 0
    assert {t["visibility"] for t in data["tests"]} == {"public"}  # check runs no hidden test
    assert [t["id"] for t in data["tests"] if t["status"] != "passed"] == []


# ---- verify ----------------------------------------------------------------------------------------

@pytest.mark.sandbox
@pytest.mark.parametrize("jobs, word", [("1", "grading"), ("2", "graded")])
def test_verify_grades_every_variant(capsys: pytest.CaptureFixture, jobs: str, word: str) -> None:
    """``verify``: every variant graded here, each named as it starts; with ``-j 2`` in two warm worker
    processes, each named as it ends, in order."""
    lab = Course(ROOT).lab(LAB)
    assert cli("verify", LAB, "--variants", "--quick", "-j", jobs) == 0
    captured = capsys.readouterr()
    graded = [line.split(": ", 1)[1].rsplit(" (", 1)[0] for line in captured.err.splitlines() if f"{word} " in line]
    assert graded == ["reference", "starter", *[f"alternative {a.id}" for a in lab.alternatives],
                      *[f"mutant {m.id}" for m in lab.mutants]]
    assert f"every expectation holds ({len(graded)} gradings)" in captured.err


# ---- release --check ---------------------------------------------------------------------------

@pytest.mark.slow
def test_release_check_passes_once_labs_are_generated(capsys: pytest.CaptureFixture) -> None:
    course = Course(ROOT)
    labs = [lab for lab in course.lab_ids() if course.lab(lab).has_solution]
    missing = [lab for lab in labs if not (ROOT / "labs" / lab / "lab.toml").exists()]
    if missing:
        pytest.skip(f"labs/ not generated yet for {', '.join(missing)} (run 'autograder release')")
    assert cli("release", "--check") == 0
    err = capsys.readouterr().err
    assert "in sync" in err and "✗" not in err


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", ["linear_regression", "mlp_numpy"])
def test_grading_the_solutions_folder_gives_the_reference_full_marks(lab_id: str, tmp_path: Path) -> None:
    """An instructor grading solutions/<lab> itself: solution markers are accepted, instructor files ignored."""
    out = tmp_path / "r.json"
    code = cli("grade", ROOT / "solutions" / lab_id, "--lab", lab_id, "--format", "json", "--out", out, "-q",
               "--fail-under", "100")
    report = json.loads(out.read_text())
    assert code == 0 and report["score"] == report["max_score"] > 0 and report["messages"] == []


LAB_WITH_A_BROKEN_TEST = {
    "lab.toml": 'title = "Broken"\nfiles = ["tiny.py"]\n[limits]\ntimeout = 20\n',
    "tiny.py": "def f(x):\n    ### BEGIN SOLUTION identity\n    return x\n    ### END SOLUTION\n",
    "probes.py": "from tiny import f\n\n\ndef call_f(x):\n    return f(x)\n",
    "public_tests.py": ("from autograder.testing import test\n\n\n@test(points=1)\ndef fine(run):\n    \"\"\"f(1)\"\"\"\n"
                        "    run.expect_match('call_f', 1.0, what='f(1)')\n\n\n@test(points=2)\ndef typo(run):\n"
                        "    \"\"\"a probe name with a typo\"\"\"\n    run.student('call_ff', 1.0)\n"),
}


@pytest.mark.sandbox
def test_a_lab_bug_is_a_grader_error_never_the_students_points(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "course"
    (root / "solutions" / "broken").mkdir(parents=True)
    (root / "labs").mkdir()
    for name, text in LAB_WITH_A_BROKEN_TEST.items():
        (root / "solutions" / "broken" / name).write_text(text)
    submission = tmp_path / "tiny.py"
    submission.write_text("def f(x):\n    # ---- TODO begin: identity ----\n    return x\n    # ---- TODO end ----\n")
    out = tmp_path / "r.json"
    code = main(["--root", str(root), "grade", str(submission), "--lab", "broken", "--format", "json", "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 3
    assert (report["score"], report["max_score"]) == (1.0, 1.0)
    typo = next(t for t in report["tests"] if t["id"] == "typo")
    assert typo["grader_error"] and "call_ff" in typo["feedback"][0]
    err = capsys.readouterr().err
    assert "grader error" in err and "typo" in err and "Traceback" not in err


@pytest.mark.sandbox
def test_every_line_is_final_when_shown(tmp_path: Path) -> None:
    """Progress lines are printed as each is settled: an untouched starter's rule lines are shown with the 0
    they end with (rules count only once a test passes), after the tests."""
    from autograder.grade import grade
    shown = []
    result = grade(Course(ROOT), LAB, STARTER, mode="check", on_result=lambda line: shown.append((line.id, line.score)),
                   only=lambda spec: not spec.slow)
    assert shown == [(line.id, line.score) for line in result.tests if line.kind == "test"] + \
        [(line.id, line.score) for line in result.tests if line.kind == "rule"]
    assert all(score == 0 for _, score in shown)


@pytest.mark.parametrize("make", ["missing", "empty_folder", "empty_zip", "broken_notebook", "no_code_cells"])
def test_an_unusable_submission_exits_4_with_a_one_line_reason(tmp_path: Path, make: str,
                                                              capsys: pytest.CaptureFixture) -> None:
    import zipfile
    path = tmp_path / {"missing": "nope", "empty_folder": "sub", "empty_zip": "sub.zip",
                       "broken_notebook": "work.ipynb", "no_code_cells": "notes.ipynb"}[make]
    if make == "empty_folder":
        path.mkdir()
    elif make == "empty_zip":
        zipfile.ZipFile(path, "w").close()
    elif make == "broken_notebook":
        path.write_text('{"cells": [')
    elif make == "no_code_cells":
        path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": "hi", "metadata": {}}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    out = tmp_path / "r.json"
    assert cli("grade", path, "--lab", LAB, "--format", "json", "--out", out, "-q") == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: nothing to grade in") and "Traceback" not in err[0]
    assert json.loads(out.read_text())["score"] == 0


@pytest.mark.parametrize("args, words", [
    (["--out", "{tmp}"], "is a folder"),
    (["--fail-under", "150"], "not a percentage from 0 to 100"),
    (["--fail-under", "all"], "is not a number"),
    (["--data-dir", "{tmp}"], "cannot use --data-dir"),
])
def test_unusable_options_are_one_line_errors_before_grading(tmp_path: Path, args: list[str], words: str,
                                                            capsys: pytest.CaptureFixture) -> None:
    args = [arg.format(tmp=tmp_path) for arg in args]
    with_exit = None
    try:
        with_exit = cli("grade", STARTER, "--lab", LAB, *args)
    except SystemExit as exc:  # argparse's own usage errors
        with_exit = exc.code
    err = capsys.readouterr().err
    assert with_exit == 2 and words in err and "Traceback" not in err and str(ROOT) not in err.split(words)[0][-0:]
