"""``autograder lint``: each instructor mistake in a lab is one line naming the file and the key or line."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.cli import main
from autograder.lab import Course
from autograder.lint import lint
from conftest import COURSE, TOY_LAB_TOML

GOOD_MUTANTS = """\
[[mistake]]
id = "negated"
title = "negated output"
feedback = "return x itself, not its negative"
fails = ["returns_x"]

[[mistake.form]]
id = "minus"
file = "tiny.py"
find = "return x"
replace = "return -x"

[[mistake.form]]
id = "times_minus_one"
file = "tiny.py"
find = "return x"
replace = "return x * -1"
"""

GOOD_TESTS = """\
from autograder.testing import Run, test


@test(points=1)
def returns_x(run: Run):
    \"\"\"f(x) is x\"\"\"
    run.expect_match("call_f", 1.0, what="f(1)")
"""

BROKEN = {
    "rule_not_rules": ({"lab.toml": TOY_LAB_TOML.replace("[rules]", "[rule]")},
                       ["lab.toml: rule: unknown key (did you mean 'rules'?)"]),
    "files_a_string": ({"lab.toml": TOY_LAB_TOML.replace('files = ["tiny.py"]', 'files = "tiny.py"')},
                       ["lab.toml: files: expected a list"]),
    "fails_after_edits": ({"mutants.toml": GOOD_MUTANTS.replace('fails = ["returns_x"]\n', "").replace(
        'replace = "return x * -1"\n', 'replace = "return x * -1"\n').replace(
        '[[mistake.form]]\nid = "times_minus_one"\nfile = "tiny.py"\nfind = "return x"\nreplace = "return x * -1"\n',
        '[[mistake.form]]\nid = "times_minus_one"\n[[mistake.form.edits]]\nfile = "tiny.py"\nfind = "return x"\n'
        'replace = "return x * -1"\nfails = ["returns_x"]\n')},
        ["mutants.toml: [[mistake]] #1 > fails: required key is missing",
         "mutants.toml: [[mistake]] #1 > [[form]] #2 > [[edits]] #1 > fails: unknown key ('fails' is written after a "
         "[[...edits]] table"]),
    "mistake_without_fails": ({"mutants.toml": GOOD_MUTANTS.replace('fails = ["returns_x"]\n', "")},
                              ["mutants.toml: [[mistake]] #1 > fails: required key is missing"]),
    "find_absent": ({"mutants.toml": GOOD_MUTANTS.replace('find = "return x"\nreplace = "return -x"',
                                                          'find = "return y"\nreplace = "return -x"')},
                    ["mutants.toml: tiny variant negated/minus: its 'find' text occurs 0 times in tiny.py"]),
    "unknown_test_in_fails": ({"mutants.toml": GOOD_MUTANTS.replace('fails = ["returns_x"]', 'fails = ["returns_y"]')},
                              ["mutants.toml: mistake 'negated' fails 'returns_y', which is no test or rule with points "
                               "of this lab (did you mean 'returns_x'?)"]),
    "unknown_probe": ({"public_tests.py": GOOD_TESTS.replace('"call_f"', '"call_g"')},
                      ["public_tests.py:7: probe 'call_g' is not defined in probes.py (did you mean 'call_f'?)"]),
    "unclosed_marker": ({"tiny.py": "def f(x):\n    ### BEGIN SOLUTION identity\n    return x\n"},
                        ["tiny.py:2: region opened here is never closed"]),
    "tests_do_not_compile": ({"public_tests.py": GOOD_TESTS.replace("def returns_x(run: Run):", "def returns_x(run: Run)")},
                             ["public_tests.py:5: does not compile"]),
    "tests_do_not_import": ({"public_tests.py": "from autograder.testing import nothing_here\n" + GOOD_TESTS},
                            ["public_tests.py:1: cannot be imported: ImportError"]),
    "one_form_only": ({"mutants.toml": GOOD_MUTANTS.split('[[mistake.form]]\nid = "times_minus_one"')[0]},
                      ["mutants.toml: mistake 'negated' has 1 form; write it at least 2 ways"]),
    "threshold_calibration_missing": ({"lab.toml": TOY_LAB_TOML.replace('margin = "toy"\n', "", 1)},
                                      ["lab.toml: thresholds > acc > margin: required key is missing"]),
    "unknown_threshold_in_a_test": ({"public_tests.py": GOOD_TESTS + "\n\ndef helper(run):\n    run.metric('a', 1.0, "
                                     "threshold='accuracy')\n"},
                                    ["public_tests.py:11: threshold 'accuracy' has no [thresholds.accuracy] in lab.toml"]),
}


def write_toy(root: Path, overrides: dict[str, str]) -> Path:
    from conftest import TOY_MODULE, TOY_PROBES
    files = {"lab.toml": TOY_LAB_TOML, "tiny.py": TOY_MODULE, "probes.py": TOY_PROBES,
             "public_tests.py": GOOD_TESTS, "mutants.toml": GOOD_MUTANTS, **overrides}
    folder = root / "solutions" / "tiny"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return root


def test_a_sound_lab_has_no_problems(tmp_path: Path) -> None:
    assert lint(Course(write_toy(tmp_path, {})), "tiny") == []


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_broken_config_is_one_line_naming_file_and_key(tmp_path: Path, case: str) -> None:
    overrides, wanted = BROKEN[case]
    root = write_toy(tmp_path, overrides)
    problems = lint(Course(root), "tiny")
    assert len(problems) == len(wanted), problems
    for problem, words in zip(problems, wanted):
        assert "\n" not in problem and "Traceback" not in problem
        file, _, rest = words.partition(":")
        assert str(root / "solutions" / "tiny" / file) in problem, problem
        assert rest.strip() in problem, problem


@pytest.mark.parametrize("case", ["rule_not_rules", "files_a_string", "unclosed_marker", "fails_after_edits"])
def test_the_cli_says_it_in_one_line_per_problem_and_exits_1(tmp_path: Path, case: str,
                                                             capsys: pytest.CaptureFixture) -> None:
    root = write_toy(tmp_path, BROKEN[case][0])
    assert main(["--root", str(root), "lint", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == len(BROKEN[case][1])


@pytest.mark.parametrize("case", ["rule_not_rules", "files_a_string", "unclosed_marker"])
def test_verify_and_release_refuse_a_broken_lab_plainly(tmp_path: Path, case: str, capsys: pytest.CaptureFixture) -> None:
    root = write_toy(tmp_path, BROKEN[case][0])
    for command in (["verify", "tiny"], ["release", "tiny"]):
        code = main(["--root", str(root), *command])
        err = capsys.readouterr().err
        assert code in (1, 2) and "Traceback" not in err and "tiny" in err, (command, err)


def test_every_lab_of_the_kit_lints_clean() -> None:
    assert [problem for lab in COURSE.lab_ids() for problem in lint(COURSE, lab)] == []


def test_the_lab_format_page_is_in_step_with_the_models() -> None:
    from autograder.docs import PAGE, render
    assert render(PAGE.read_text()) == PAGE.read_text(), "run: python -m autograder.docs"
