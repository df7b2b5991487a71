"""Scoring: thresholds, compare, a test's outcome as a redacted scored line, and settling the rules."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
import torch

from autograder.grade import settle_rules
from autograder.lab import Course, Lab, LabError, Threshold, Variant
from autograder.result import TestResult as Line  # not collected as a test class
from autograder.runner import GRADER_ERROR, run_one
from autograder.sandbox.api import Reply, StudentError
from autograder.testing import Fail, Run, accuracy, compare
from autograder.testing import test as register  # not collected by pytest

HIDDEN_GENERIC = ["Failed (hidden test: its inputs and outputs are not shown)."]
SECRET = "s3cr3t"

LAB_TOML = """\
title = "Tiny"
files = ["tiny.py"]

[limits]
timeout = 7

[thresholds.acc]
full = 0.9
zero = 0.5

[thresholds.mse]
full = 1.2
zero = 2.0
higher_is_better = false
"""

MUTANTS_TOML = """\
[[mutant]]
id = "flip"
title = "sign flipped"
feedback = "negate nothing"
fails = ["t"]
file = "tiny.py"
find = "return x"
replace = "return -x"

[[mutant]]
id = "twice"
title = "doubled"
feedback = "do it once"
[[mutant.edits]]
file = "tiny.py"
find = "def f(x):"
replace = "def f(x):\\n    x = x * 2"
[[mutant.edits]]
file = "tiny.py"
find = "    # ---- TODO end ----"
replace = "    # ---- TODO end ----\\n# twice"

[[mutant]]
id = "ambiguous"
title = "edit that matches twice"
file = "tiny.py"
find = "x"
replace = "y"
"""

TINY = """\
def f(x):
    ### BEGIN SOLUTION identity
    return x
    ### END SOLUTION
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    root = tmp_path_factory.mktemp("course")
    folder = root / "solutions" / "tiny"
    folder.mkdir(parents=True)
    for name, text in {"lab.toml": LAB_TOML, "mutants.toml": MUTANTS_TOML, "tiny.py": TINY}.items():
        (folder / name).write_text(text)
    return Course(root).lab("tiny")


class FakeStudent:
    """Answers probes from a table; an exception in the table is raised, as the sandbox would."""

    def __init__(self, answers: dict[str, Any]):
        self.answers = answers
        self.timeouts: list[float] = []

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        self.timeouts.append(timeout)
        answer = self.answers[probe]
        if isinstance(answer, BaseException):
            raise answer
        return Reply(answer)


class FakeExpected:
    def __init__(self, reference: dict[str, Any], mutants: dict[str, list[tuple[Variant, Any]]] | None = None):
        self._reference = reference
        self._mutants = mutants or {}

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        return self._reference[probe]

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        return list(self._mutants.get(probe, []))

    def reference_seconds(self, probe: str, args: list, kwargs: dict) -> float:
        return 0.01


def no_datasets(name: str, **kwargs: Any) -> Any:
    raise AssertionError("no dataset expected")


# ---- Threshold.fraction and Run.metric --------------------------------------------------------------

@pytest.mark.parametrize("threshold, value, want", [
    (Threshold(0.9, 0.5), 0.7, 0.5),
    (Threshold(0.9, 0.5), 0.6, 0.25),
    (Threshold(0.9, 0.5), 0.9, 1.0),
    (Threshold(0.9, 0.5), 0.99, 1.0),
    (Threshold(0.9, 0.5), 0.5, 0.0),
    (Threshold(0.9, 0.5), -3.0, 0.0),
    (Threshold(0.9, 0.5), math.inf, 1.0),
    (Threshold(0.9, 0.5), -math.inf, 0.0),
    (Threshold(0.9, 0.5), math.nan, 0.0),
    (Threshold(1.2, 2.0, higher_is_better=False), 1.6, 0.5),
    (Threshold(1.2, 2.0, higher_is_better=False), 1.8, 0.25),
    (Threshold(1.2, 2.0, higher_is_better=False), 1.2, 1.0),
    (Threshold(1.2, 2.0, higher_is_better=False), 0.0, 1.0),
    (Threshold(1.2, 2.0, higher_is_better=False), 2.0, 0.0),
    (Threshold(1.2, 2.0, higher_is_better=False), 1e9, 0.0),
    (Threshold(1.2, 2.0, higher_is_better=False), math.inf, 0.0),
    (Threshold(1.2, 2.0, higher_is_better=False), math.nan, 0.0),
    (Threshold(1.0, 1.0), 1.0, 1.0),
    (Threshold(1.0, 1.0), 0.999, 0.0),
])
def test_threshold_fraction(threshold: Threshold, value: float, want: float) -> None:
    assert threshold.fraction(value) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("name, value, fraction, note", [
    ("acc", 0.7, 0.5, "accuracy = 0.7 (full marks at >= 0.9, none at <= 0.5)"),
    ("mse", 1.6, 0.5, "accuracy = 1.6 (full marks at <= 1.2, none at >= 2)"),
    ("acc", math.nan, 0.0, "accuracy = nan (full marks at >= 0.9, none at <= 0.5)"),
])
def test_run_metric_scores_and_explains(lab: Lab, name: str, value: float, fraction: float, note: str) -> None:
    run = Run(lab, FakeStudent({}), FakeExpected({}), 1.0, no_datasets)
    assert run.metric("accuracy", value, name) == pytest.approx(fraction)
    assert run.feedback == [note]


@pytest.mark.parametrize("predicted, fraction", [(np.array([0, 1, 2, 2]), 0.625), (np.array([0, 1, 2, 3]), 1.0)])
def test_held_out_scores_predictions_here(lab: Lab, predicted, fraction) -> None:
    run = Run(lab, FakeStudent({"predict": predicted}), FakeExpected({}), 1.0, no_datasets)
    labels = np.array([0, 1, 2, 3])
    assert run.held_out("predict", np.zeros((4, 2)), labels=labels, metric=accuracy, label="acc", threshold="acc") == pytest.approx(fraction)


def test_held_out_wrong_shape_fails_plainly(lab: Lab) -> None:
    run = Run(lab, FakeStudent({"predict": np.zeros(3)}), FakeExpected({}), 1.0, no_datasets)
    with pytest.raises(Fail, match=r"one prediction per input: expected shape \(4,\), got \(3,\)"):
        run.held_out("predict", labels=np.zeros(4), metric=accuracy, label="acc", threshold="acc")


def test_unknown_threshold_is_a_lab_error(lab: Lab) -> None:
    with pytest.raises(LabError, match=r"\[thresholds.nope\]"):
        Run(lab, FakeStudent({}), FakeExpected({}), 1.0, no_datasets).threshold("nope")


# ---- Variant -------------------------------------------------------------------------------------

def test_variants_from_toml_in_both_spellings(lab: Lab) -> None:
    flip, twice, _ = lab.mutants
    assert flip == Variant("flip", "sign flipped", (("tiny.py", "return x", "return -x"),), "negate nothing", ("t",))
    assert (twice.id, len(twice.edits), twice.fails) == ("twice", 2, ())
    assert "return -x" in lab.variant_files(flip)["tiny.py"]
    assert lab.variant_files(twice)["tiny.py"].count("x = x * 2") == 1
    with pytest.raises(LabError, match="occurs"):
        lab.variant_files(lab.mutants[2])


# ---- compare ---------------------------------------------------------------------------------------

class SubTensor(torch.Tensor):
    pass


NAN = float("nan")


@pytest.mark.parametrize("got, want, problem", [
    (np.zeros(2), np.zeros(2), None),
    (torch.zeros(2), np.zeros(2), "expected a NumPy array, got a torch.Tensor"),
    (np.zeros(2), torch.zeros(2), "expected a torch.Tensor, got a NumPy array"),
    (torch.zeros(2).as_subclass(SubTensor), torch.zeros(2), "expected a torch.Tensor, got SubTensor"),
    (np.zeros((2, 3)), np.zeros((3, 2)), "expected shape (3, 2), got shape (2, 3)"),
    (np.zeros(1), np.zeros(()), "expected shape (), got shape (1,)"),
    (np.array([1.0, NAN]), np.array([1.0, 2.0]), "got NaN at [1] where a number was expected (overflow?)"),
    (NAN, 2.0, "got NaN at [] where a number was expected (overflow?)"),
    (np.array([1.0, 2.0]), np.array([1.0, NAN]), "expected NaN at some positions, got numbers"),
    (np.array([NAN, 1.0]), np.array([NAN, 1.0]), None),
    (NAN, NAN, None),
    (torch.tensor([NAN]), torch.tensor([NAN]), None),
    (math.inf, math.inf, None),
    (-math.inf, math.inf, "values differ from the expected ones in 1 of 1 entries (largest error inf at index [])"),
    (1.0 + 1e-7, 1.0, None),
    (1.001, 1.0, "values differ from the expected ones in 1 of 1 entries (largest error 0.001 at index [])"),
    (torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1.0, 2.0], [3.5, 6.0]]),
     "values differ from the expected ones in 2 of 4 entries (largest error 2 at index [1, 1])"),
    (np.array([1, 2]), np.array([1.0, 2.0]), "expected floating-point values, got dtype int64"),
    (np.array([1.0, 2.0]), np.array([1, 2]), None),
    (True, 1, "expected a number, got a bool"),
    (1, True, "expected a bool, got a number"),
    (False, True, "expected True, got False"),
    (None, 0.0, "expected a number, got None"),
    ("a", "b", "expected 'b', got 'a'"),
    ({"a": 1.0}, {"a": 1.0, "b": 2.0}, "expected keys ['a', 'b'], got ['a']"),
    ({"a": 1.0, "b": 9.0}, {"a": 1.0, "b": 2.0},
     "b: values differ from the expected ones in 1 of 1 entries (largest error 7 at index [])"),
    ([1.0, 2.0], [1.0, 2.0, 3.0], "expected 3 items, got 2"),
    ([1.0, np.zeros(2)], [1.0, np.zeros(3)], "item 1: expected shape (3,), got shape (2,)"),
    ({"w": [np.ones(1)]}, {"w": [torch.ones(1)]}, "w: item 0: expected a torch.Tensor, got a NumPy array"),
    ([], [], None),
    (np.zeros((0, 3)), np.zeros((0, 3)), None),
])
def test_compare(got: Any, want: Any, problem: str | None) -> None:
    assert compare(got, want) == problem


@pytest.mark.parametrize("rtol, atol, problem", [(1e-5, 1e-8, True), (1e-2, 0.0, False), (0.0, 0.01, False),
                                                  (0.0, 0.001, True)])
def test_compare_tolerances(rtol: float, atol: float, problem: bool) -> None:
    assert (compare(np.array([1.005, 0.0]), np.array([1.0, 0.0]), rtol=rtol, atol=atol) is not None) is problem


# ---- one test, one scored and redacted line ---------------------------------------------------------

def raise_fail(run: Run) -> None:
    raise Fail(f"expected 3, got 4 ({SECRET})")


def raise_fail_with_mistake(run: Run) -> None:
    raise Fail(f"w is negated ({SECRET})", mistake="flip")


def student_raises(run: Run) -> None:
    run.student("boom")


def note_then_fail(run: Run) -> None:
    run.note(f"metric = 3 ({SECRET})")
    raise Fail("too low")


def grader_bug(run: Run) -> None:
    return {}["missing"]


def partial(run: Run) -> float:
    run.note(f"metric = 0.7 ({SECRET})")
    return 0.25


def matches_mutant(run: Run) -> None:
    run.expect_match("f", 1.0, what="f(1)")


STUDENT = FakeStudent({
    "boom": StudentError("exception", "your code raised ValueError at tiny.py line 3", detail=f"ValueError: {SECRET}"),
    "f": np.array([-1.0, -2.0]),
})
MUTANT = Variant("neg", "negated output", (), feedback=f"you negated it ({SECRET})")
EXPECTED = FakeExpected({"f": np.array([1.0, 2.0])}, {"f": [(MUTANT, np.array([-1.0, -2.0]))]})
PUBLIC_BUG = GRADER_ERROR + "\n"

# body, score out of 2, public feedback (the whole list, or a prefix for a traceback), known mistake's title
CASES = {
    "fail": (raise_fail, 0.0, [f"expected 3, got 4 ({SECRET})"], None),
    "fail_with_mistake": (raise_fail_with_mistake, 0.0, [f"w is negated ({SECRET})"], "sign flipped"),
    "student_error": (student_raises, 0.0,
                      [f"your code raised ValueError at tiny.py line 3\nValueError: {SECRET}"], None),
    "note_then_fail": (note_then_fail, 0.0, [f"metric = 3 ({SECRET})", "too low"], None),
    "partial": (partial, 0.5, [f"metric = 0.7 ({SECRET})"], None),
    "matches_mutant": (matches_mutant, 0.0, [f"f(1): you negated it ({SECRET})"], "negated output"),
    "grader_bug": (grader_bug, 0.0, PUBLIC_BUG, None),
}


def grade_one(lab: Lab, body: Callable, visibility: str, points: float = 2.0) -> Line:
    spec = register(points=points, visibility=visibility)(body).__autograder_test__
    return run_one(spec, lab, STUDENT, EXPECTED, no_datasets)


@pytest.mark.parametrize("case", list(CASES))
def test_public_test_shows_what_went_wrong(lab: Lab, case: str) -> None:
    body, score, feedback, mistake = CASES[case]
    line = grade_one(lab, body, "public")
    assert (line.score, line.max_score, line.visibility, line.kind) == (score, 2.0, "public", "test")
    assert line.mistake == mistake
    if isinstance(feedback, str):  # a traceback follows
        assert len(line.feedback) == 1 and line.feedback[0].startswith(feedback) and "KeyError" in line.feedback[0]
    else:
        assert line.feedback == feedback


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date"])
@pytest.mark.parametrize("case", list(CASES))
def test_hidden_failure_shows_only_pass_fail_and_the_mistake(lab: Lab, case: str, visibility: str) -> None:
    body, score, _, mistake = CASES[case]
    line = grade_one(lab, body, visibility)
    assert (line.score, line.visibility) == (score, visibility)
    want = [f"Failed (hidden test). Known mistake detected: {mistake}."] if mistake else HIDDEN_GENERIC
    assert line.feedback == ([GRADER_ERROR] if case == "grader_bug" else want)
    assert line.mistake == mistake
    assert SECRET not in repr(line)


def test_hidden_pass_earns_full_points(lab: Lab) -> None:
    line = grade_one(lab, lambda run: None, "hidden", points=3)
    assert (line.score, line.max_score, line.status) == (3.0, 3.0, "passed")


@pytest.mark.parametrize("returned, score", [(None, 2.0), (1, 2.0), (0.5, 1.0), (1.7, 2.0), (-3, 0.0),
                                             (math.nan, 0.0), (0, 0.0)])
def test_returned_fraction_is_clamped(lab: Lab, returned: Any, score: float) -> None:
    assert grade_one(lab, lambda run: returned, "public").score == score


def test_grader_bug_with_an_unusable_return_never_propagates(lab: Lab) -> None:
    line = grade_one(lab, lambda run: "not a number", "public")
    assert line.score == 0.0 and line.feedback[0].startswith(PUBLIC_BUG)


def fail_unknown_mistake(run: Run) -> None:
    raise Fail("x", mistake="made_up")


def test_mistake_id_unknown_to_the_lab_is_named_by_its_id(lab: Lab) -> None:
    line = grade_one(lab, fail_unknown_mistake, "hidden")
    assert line.feedback == ["Failed (hidden test). Known mistake detected: made_up."]


def test_mutant_equal_to_reference_is_not_blamed(lab: Lab) -> None:
    expected = FakeExpected({"f": np.array([1.0, 2.0])}, {"f": [(MUTANT, np.array([1.0, 2.0]))]})
    spec = register(points=1)(matches_mutant).__autograder_test__
    line = run_one(spec, lab, STUDENT, expected, no_datasets)
    assert line.mistake is None
    assert line.feedback == ["f(1): values differ from the expected ones in 2 of 2 entries "
                             "(largest error 4 at index [1])"]


@pytest.mark.parametrize("spec_timeout, call_timeout, used", [(None, None, 7.0), (2.0, None, 2.0), (2.0, 0.5, 0.5)])
def test_student_calls_get_the_right_timeout(lab: Lab, spec_timeout: float | None, call_timeout: float | None,
                                             used: float) -> None:
    student = FakeStudent({"f": np.array([1.0, 2.0])})

    def body(run: Run) -> None:
        run.student("f", timeout=call_timeout)

    spec = register(points=1, timeout=spec_timeout)(body).__autograder_test__
    assert run_one(spec, lab, student, EXPECTED, no_datasets).score == 1.0
    assert student.timeouts == [used]


# ---- settle_rules ----------------------------------------------------------------------------------

COUNT_ONCE = "rule points count once your code passes at least one test"


def rules() -> list[Line]:
    return [Line("only TODO regions changed", 1.0, 1.0, kind="rule", id="rule:regions"),
            Line("no new imports", 0.0, 1.0, kind="rule", id="rule:imports", feedback=["import os is new"]),
            Line("no forbidden APIs", 2.0, 2.0, kind="rule", id="rule:forbidden")]


def scored_tests(*scores: float) -> list[Line]:
    return [Line(f"t{i}", score, 2.0, id=f"t{i}") for i, score in enumerate(scores)]


@pytest.mark.parametrize("test_scores, violations, scores, forbidden_feedback", [
    ((2.0, 0.0), [], [1.0, 0.0, 2.0], []),
    ((0.5,), [], [1.0, 0.0, 2.0], []),
    ((), [], [1.0, 0.0, 2.0], []),
    ((0.0, 0.0), [], [0.0, 0.0, 0.0], [COUNT_ONCE]),
    ((2.0,), ["torch.linalg.solve", "torch.optim.SGD"], [1.0, 0.0, 0.0],
     ["at run time, your code called torch.linalg.solve, which this lab forbids",
      "at run time, your code called torch.optim.SGD, which this lab forbids"]),
    ((0.0,), ["torch.linalg.solve"], [0.0, 0.0, 0.0],
     ["at run time, your code called torch.linalg.solve, which this lab forbids"]),
])
def test_settle_rules(test_scores: tuple[float, ...], violations: list[str], scores: list[float],
                      forbidden_feedback: list[str]) -> None:
    rule_lines, test_lines = rules(), scored_tests(*test_scores)
    settle_rules(rule_lines, test_lines, violations)
    assert [line.score for line in rule_lines] == scores
    assert rule_lines[2].feedback == forbidden_feedback
    assert rule_lines[1].feedback == ["import os is new"]  # a rule already at 0 is not told twice
    assert rule_lines[0].feedback == ([COUNT_ONCE] if scores[0] == 0 else [])
    assert [line.score for line in test_lines] == list(test_scores)
