"""The report formats, on a GradeResult built by hand."""
from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from autograder.config import LabConfig
from autograder.report import FORMATS, render, summary_table, write
from autograder.report.text import render_text
from autograder.result import GradeResult, Isolation
from autograder.result import TestResult as Line  # not collected as a test class

WARNING = "No namespaces: the submission runs as a separate process with rlimits only."


def make_result() -> GradeResult:
    """A result with every kind of line: passed, partial, failed, hidden, after_due_date, rules, a warning."""
    return GradeResult(
        lab="linear-regression",
        submission="alice/linear.py",
        tests=[
            Line("only TODO regions changed", 1.0, 1.0, kind="rule"),
            Line("no loops in predict", 0.0, 1.0, kind="rule", feedback=["predict loops over rows (line 12)"]),
            Line("forward shape", 2.0, 2.0, seconds=0.25),
            Line("gradient matches", 1.5, 2.0, feedback=["2 of 8 entries differ", "max error 0.3"]),
            Line("loss <plain> & [red]markup[/red]", 0.0, 2.0,
                       feedback=["ValueError: shapes (3,) & (4,)\n\x1b[31mtraceback\x1b[0m"], mistake="transposed weights"),
            Line("held-out accuracy", 2.0, 2.0, visibility="hidden"),
            Line("held-out loss", 0.0, 1.0, visibility="after_due_date",
                       feedback=["Failed (hidden test). Known mistake detected: forgot bias."], mistake="forgot bias"),
        ],
        isolation=Isolation("C", "laptop: separate process and rlimits", warning=WARNING),
        messages=["extra file ignored: notes.txt"],
        seconds=3.21,
    )


@pytest.fixture
def result() -> GradeResult:
    return make_result()


def test_totals(result: GradeResult) -> None:
    assert (result.score, result.max_score) == (6.5, 11.0)


def test_gradescope_keys_types_and_scores(result: GradeResult) -> None:
    data = json.loads(render(result, "gradescope"))
    assert data["score"] == 6.5
    assert (data["visibility"], data["stdout_visibility"]) == ("visible", "hidden")
    assert isinstance(data["execution_time"], float)
    assert "Isolation: C" in data["output"] and WARNING in data["output"] and "notes.txt" in data["output"]
    assert len(data["tests"]) == len(result.tests)
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert isinstance(test["output"], str)
    by_name = {test["name"]: test for test in data["tests"]}
    assert by_name["Rule: no loops in predict"]["status"] == "failed"
    assert by_name["Rule: only TODO regions changed"]["status"] == "passed"
    partial = by_name["gradient matches"]
    assert (partial["score"], partial["max_score"], partial["status"]) == (1.5, 2.0, "failed")
    assert partial["output"] == "2 of 8 entries differ\nmax error 0.3"
    assert "Known mistake: transposed weights" in by_name["loss <plain> & [red]markup[/red]"]["output"]
    assert by_name["held-out loss"]["output"].count("forgot bias") == 1
    assert [t["visibility"] for t in data["tests"][-3:]] == ["visible", "visible", "after_due_date"]


def test_junit_parses_and_counts_failures(result: GradeResult) -> None:
    suite = ET.fromstring(render(result, "junit").encode())
    assert suite.tag == "testsuite" and suite.get("name") == "linear-regression"
    assert (suite.get("tests"), suite.get("failures")) == ("7", "4")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["score"] == "6.5" and properties["max_score"] == "11"
    assert properties["isolation"] == "C" and properties["isolation_warning"] == WARNING
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert {case.get("classname") for case in cases.values()} == {"linear-regression"}
    assert cases["forward shape"].find("failure") is None
    failure = cases["gradient matches"].find("failure")
    assert failure.get("message") == "1.5/2 points: 2 of 8 entries differ"
    assert failure.text == "2 of 8 entries differ\nmax error 0.3"
    markup = cases["loss <plain> & [red]markup[/red]"].find("failure")
    assert "\x1b" not in markup.text and "[31mtraceback" in markup.text and "shapes (3,) & (4,)" in markup.text
    assert cases["Rule: no loops in predict"].find("failure") is not None
    assert "notes.txt" in suite.find("system-out").text


def test_junit_survives_characters_xml_cannot_hold(result: GradeResult) -> None:
    result.submission = "bad\udcffname\x01.py"  # an undecodable file name, a control character
    result.messages.append("load problem: \x00\x1b[2J")
    suite = ET.fromstring(render(result, "junit").encode())
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["submission"] == "bad\ufffdname\ufffd.py"
    assert "load problem:" in suite.find("system-out").text


def test_text_report(result: GradeResult) -> None:
    text = render_text(result)
    assert "\x1b" not in text  # neither styling nor the student's own escapes
    for name in ("only TODO regions changed", "forward shape", "gradient matches", "held-out accuracy"):
        assert name in text
    assert "loss <plain> & [red]markup[/red]" in text  # student text is never parsed as markup
    assert "1.5/2" in text and "✓" in text and "✗" in text and "~" in text
    assert "Total: 6.5 / 11" in text
    assert WARNING in " ".join(text.split())
    assert "Isolation: C (laptop" in text and "alice/linear.py" in text and "notes.txt" in text
    assert "    max error 0.3" in text
    feedback = text[text.index("    2 of 8 entries differ"):]
    assert "forward shape" not in feedback  # passing lines have no feedback section


def test_text_total_line_exact() -> None:
    result = GradeResult("lab", "sub", [Line("a", 5.0, 5.0), Line("b", 2.5, 5.0)],
                         Isolation("A", "namespaces"))
    text = render_text(result)
    assert "Total: 7.5 / 10" in text and "⚠" not in text


def test_summary_table(result: GradeResult) -> None:
    empty = GradeResult("empty-lab", "ref", [], Isolation("A", "namespaces"), seconds=0.04)
    table = summary_table([result, empty])
    assert "linear-regression" in table and "6.5/11" in table and "59.1%" in table and "3.2" in table
    assert "empty-lab" in table and "0/0" in table


def test_json_round_trips(result: GradeResult) -> None:
    data = json.loads(render(result, "json"))
    assert data == json.loads(json.dumps(result.to_dict()))
    assert data["tests"][3]["status"] == "partial"


def test_render_unknown_format(result: GradeResult) -> None:
    with pytest.raises(ValueError, match="junit"):
        render(result, "csv")


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_file_atomically(result: GradeResult, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "sub" / "report.out"
    out.parent.mkdir()
    out.write_text("old")
    write(result, fmt, out)
    assert out.read_text(encoding="utf-8") == render(result, fmt)
    assert [p.name for p in out.parent.iterdir()] == ["report.out"]  # no temporary file left behind


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_to_console(result: GradeResult, fmt: str) -> None:
    buffer = StringIO()
    write(result, fmt, None, console=Console(file=buffer, width=100))
    assert buffer.getvalue() == render(result, fmt)


def test_write_text_to_terminal_in_colour(result: GradeResult) -> None:
    buffer = StringIO()
    write(result, "text", None, console=Console(file=buffer, width=100, force_terminal=True, color_system="standard"))
    assert "\x1b[" in buffer.getvalue() and "Total: 6.5 / 11" in buffer.getvalue()


# ---- Gradescope: what a student sees, and when ---------------------------------------------------------

def lab_config(**tables: str) -> LabConfig:
    """A lab.toml with the given extra tables (TOML text)."""
    text = 'title = "T"\nfiles = ["a.py"]\n' + "".join(tables.values())
    return LabConfig.model_validate(tomllib.loads(text))


def test_gradescope_shows_hidden_tests_at_once_with_only_pass_fail_and_the_mistake(result: GradeResult) -> None:
    data = json.loads(render(result, "gradescope", lab_config()))
    hidden = next(t for t in data["tests"] if t["name"] == "held-out accuracy")
    assert hidden["visibility"] == "visible" and hidden["status"] == "passed" and hidden["output"] == ""
    later = next(t for t in data["tests"] if t["name"] == "held-out loss")
    assert later["visibility"] == "after_due_date" and later["output"].startswith("Failed (hidden test)")
    assert "Total:" not in data["output"]  # Gradescope hides the total while an entry is hidden; so does the summary
    assert "Your total appears after the due date" in data["output"]


def test_gradescope_hidden_points_after_the_due_date() -> None:
    result = GradeResult("lab", "sub", [
        Line("public one", 1.0, 1.0),
        Line("hidden metric", 1.4, 2.0, visibility="hidden", metrics={"test accuracy": 0.87},
             feedback=["Failed (hidden test: its inputs and outputs are not shown)."]),
        Line("hidden exact", 1.0, 1.0, visibility="hidden")], Isolation("B", "uid"))
    data = json.loads(render(result, "gradescope", lab_config(g='[gradescope]\nhidden_points = "after_due_date"\n')))
    entries = {t["name"]: t for t in data["tests"]}
    for name in ("hidden metric", "hidden exact"):
        assert entries[name]["visibility"] == "visible" and "score" not in entries[name]
    assert entries["hidden metric"]["status"] == "failed" and entries["hidden exact"]["status"] == "passed"
    held = entries["Points of the hidden tests"]
    assert (held["visibility"], held["score"], held["max_score"]) == ("after_due_date", 2.4, 3.0)
    assert data["score"] == 3.4 and "Total:" not in data["output"]
    assert "0.87" not in json.dumps(data)  # a hidden metric value never reaches the student
    everything_visible = json.loads(render(result, "gradescope", lab_config()))
    assert all(t["visibility"] == "visible" and "score" in t for t in everything_visible["tests"])
    assert "Total: 3.4 / 4" in everything_visible["output"]


def test_gradescope_leaderboard_field() -> None:
    board = '[leaderboard]\nmetric = "test loss"\nhigher_is_better = false\nreveal = 2026-12-18T23:59:00Z\n'
    lines = [Line("trains", 2.0, 2.0, visibility="hidden", metrics={"test loss": 0.25})]
    result = GradeResult("lab", "sub", lines, Isolation("B", "uid"))
    data = json.loads(render(result, "gradescope", lab_config(b=board)))
    assert data["leaderboard"] == [{"name": "test loss", "value": 0.25, "order": "asc"}]
    assert "leaderboard" not in json.loads(render(result, "gradescope", lab_config()))
    lines[0].metrics = {}
    assert "leaderboard" not in json.loads(render(result, "gradescope", lab_config(b=board)))  # not measured


def test_a_leaderboard_reveal_time_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        lab_config(b='[leaderboard]\nmetric = "m"\nreveal = 2026-12-18T23:59:00\n')
    with pytest.raises(ValueError, match="hidden_points"):
        lab_config(g='[gradescope]\nhidden_points = "never"\n')
