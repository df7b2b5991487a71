"""Scoring: thresholds, a test's outcome as a redacted scored line, naming known mistakes, honest blame,
and settling the rules."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from autograder.config import Threshold
from autograder.grade import settle_rules
from autograder.lab import Lab, LabError, Variant
from autograder.result import TestResult as Line  # not collected as a test class
from autograder.runner import GRADER_ERROR, Suite, run_one, run_tests
from autograder.sandbox.api import LineCount, Reply, StudentError
from autograder.testing import Fail, Run, accuracy, signature
from autograder.testing import test as register  # not collected by pytest

HIDDEN_GENERIC = ["Failed (hidden test: its inputs and outputs are not shown)."]
SECRET = "s3cr3t"

MUTANTS_TOML = """\
[[mistake]]
id = "flip"
title = "sign flipped"
feedback = "negate nothing, the output is x itself"
fails = ["t"]

[[mistake.form]]
id = "minus"
file = "tiny.py"
find = "return x"
replace = "return -x"

[[mistake.form]]
id = "twice"
[[mistake.form.edits]]
file = "tiny.py"
find = "def f(x):"
replace = "def f(x):\\n    x = x * 2"
[[mistake.form.edits]]
file = "tiny.py"
find = "    # ---- TODO end ----"
replace = "    # ---- TODO end ----\\n# twice"

[[mistake]]
id = "ambiguous"
title = "edit that matches twice"
feedback = "an edit whose text occurs more than once"
fails = ["t"]

[[mistake.form]]
id = "x"
file = "tiny.py"
find = "x"
replace = "y"
"""


PROBES = {"boom", "f", "predict", "g", "bad_result", "broken"}


@pytest.fixture
def lab(make_lab) -> Lab:
    probes = "".join(f"def {name}(*args, **kwargs):\n    pass\n\n\n" for name in sorted(PROBES))
    return make_lab(mutants__toml=MUTANTS_TOML, probes__py=probes)


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
        return Reply(answer, output=f"printed by {probe}")


class FakeExpected:
    def __init__(self, reference: dict[str, Any], mutants: dict[str, list[tuple[Variant, Any]]] | None = None,
                 mistakes: dict[str, Variant] | None = None):
        self._reference = reference
        self._mutants = mutants or {}
        self._mistakes = mistakes or {}

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        value = self._reference[probe]
        if isinstance(value, BaseException):
            raise value
        return value

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        return list(self._mutants.get(probe, []))

    def mistakes(self) -> dict[str, Variant]:
        return self._mistakes


def no_datasets(name: str, **kwargs: Any) -> Any:
    raise AssertionError("no dataset expected")


def make_run(lab: Lab, student: FakeStudent, expected: FakeExpected, signatures=()) -> Run:
    return Run(lab, student, expected, 1.0, no_datasets, probes=PROBES, signatures=list(signatures))


# ---- Threshold.fraction and Run.metric --------------------------------------------------------------

def bounds(full: float, zero: float, higher_is_better: bool = True) -> Threshold:
    return Threshold(full=full, zero=zero, higher_is_better=higher_is_better, metric="m", seeds=[0, 1, 2, 3, 4],
                     reference=[1.0], margin="test")


@pytest.mark.parametrize("threshold, value, want", [
    (bounds(0.9, 0.5), 0.7, 0.5),
    (bounds(0.9, 0.5), 0.6, 0.25),
    (bounds(0.9, 0.5), 0.9, 1.0),
    (bounds(0.9, 0.5), 0.99, 1.0),
    (bounds(0.9, 0.5), 0.5, 0.0),
    (bounds(0.9, 0.5), -3.0, 0.0),
    (bounds(0.9, 0.5), math.inf, 1.0),
    (bounds(0.9, 0.5), -math.inf, 0.0),
    (bounds(0.9, 0.5), math.nan, 0.0),
    (bounds(1.2, 2.0, higher_is_better=False), 1.6, 0.5),
    (bounds(1.2, 2.0, higher_is_better=False), 1.8, 0.25),
    (bounds(1.2, 2.0, higher_is_better=False), 1.2, 1.0),
    (bounds(1.2, 2.0, higher_is_better=False), 0.0, 1.0),
    (bounds(1.2, 2.0, higher_is_better=False), 2.0, 0.0),
    (bounds(1.2, 2.0, higher_is_better=False), 1e9, 0.0),
    (bounds(1.2, 2.0, higher_is_better=False), math.inf, 0.0),
    (bounds(1.2, 2.0, higher_is_better=False), math.nan, 0.0),
])
def test_threshold_fraction(threshold: Threshold, value: float, want: float) -> None:
    assert threshold.fraction(value) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("full, zero, higher", [(1.0, 1.0, True), (0.5, 0.9, True), (2.0, 1.2, False)])
def test_threshold_bounds_must_be_ordered(full: float, zero: float, higher: bool) -> None:
    with pytest.raises(ValueError, match="must lie"):
        bounds(full, zero, higher)


@pytest.mark.parametrize("name, value, fraction, note", [
    ("acc", 0.7, 0.5, "accuracy = 0.7 (full marks at >= 0.9, none at <= 0.5)"),
    ("mse", 1.6, 0.5, "accuracy = 1.6 (full marks at <= 1.2, none at >= 2)"),
    ("acc", math.nan, 0.0, "accuracy = nan (full marks at >= 0.9, none at <= 0.5)"),
])
def test_run_metric_scores_and_explains(lab: Lab, name: str, value: float, fraction: float, note: str) -> None:
    run = make_run(lab, FakeStudent({}), FakeExpected({}))
    assert run.metric("accuracy", value, name) == pytest.approx(fraction)
    assert run.feedback == [note]


@pytest.mark.parametrize("predicted, fraction", [(np.array([0, 1, 2, 2]), 0.625), (np.array([0, 1, 2, 3]), 1.0)])
def test_held_out_scores_predictions_here(lab: Lab, predicted, fraction) -> None:
    run = make_run(lab, FakeStudent({"predict": predicted}), FakeExpected({}))
    labels = np.array([0, 1, 2, 3])
    assert run.held_out("predict", np.zeros((4, 2)), labels=labels, metric=accuracy, label="acc",
                        threshold="acc") == pytest.approx(fraction)


def test_held_out_wrong_shape_fails_plainly(lab: Lab) -> None:
    run = make_run(lab, FakeStudent({"predict": np.zeros(3)}), FakeExpected({}))
    with pytest.raises(Fail, match=r"one prediction per input: expected shape \(4,\), got \(3,\)"):
        run.held_out("predict", labels=np.zeros(4), metric=accuracy, label="acc", threshold="acc")


def test_unknown_threshold_is_a_lab_error(lab: Lab) -> None:
    with pytest.raises(LabError, match=r"\[thresholds.nope\]"):
        make_run(lab, FakeStudent({}), FakeExpected({})).threshold("nope")


# ---- Variant -------------------------------------------------------------------------------------

def test_mistake_forms_in_both_spellings(lab: Lab) -> None:
    minus, twice, ambiguous = lab.mutants
    assert minus == Variant("flip/minus", "sign flipped", (("tiny.py", "return x", "return -x"),),
                            "negate nothing, the output is x itself", ("t",), "flip")
    assert (twice.id, len(twice.edits), twice.fails, twice.mistake) == ("flip/twice", 2, ("t",), "flip")
    assert "return -x" in lab.variant_files(minus)["tiny.py"]
    assert lab.variant_files(twice)["tiny.py"].count("x = x * 2") == 1
    with pytest.raises(LabError, match="occurs"):
        lab.variant_files(ambiguous)
    assert set(lab.mistakes) == {"flip", "ambiguous"} and lab.mistakes["flip"].fails == ("t",)


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


def unknown_probe(run: Run) -> None:
    run.student("no_such_probe", 1)


FLIP = Variant("flip", "sign flipped", (), "negate nothing", ("t",), "flip")
STUDENT = FakeStudent({
    "boom": StudentError("exception", "your code raised ValueError at tiny.py line 3", detail=f"ValueError: {SECRET}",
                         where="tiny.py line 3"),
    "f": np.array([-1.0, -2.0]),
})
MUTANT = Variant("neg/minus", "negated output", (), feedback=f"you negated it ({SECRET})", fails=("t",), mistake="neg")
EXPECTED = FakeExpected({"f": np.array([1.0, 2.0])}, {"f": [(MUTANT, np.array([-1.0, -2.0]))]},
                        {"flip": FLIP, "neg": MUTANT})

# body, score out of 2, public feedback (the whole list, or a prefix for a traceback), known mistake's title
CASES = {
    "fail": (raise_fail, 0.0, [f"expected 3, got 4 ({SECRET})"], None),
    "fail_with_mistake": (raise_fail_with_mistake, 0.0, [f"w is negated ({SECRET})"], "sign flipped"),
    "student_error": (student_raises, 0.0,
                      [f"your code raised ValueError at tiny.py line 3\nValueError: {SECRET}"], None),
    "note_then_fail": (note_then_fail, 0.0, [f"metric = 3 ({SECRET})", "too low"], None),
    "partial": (partial, 0.5, [f"metric = 0.7 ({SECRET})"], None),
    "matches_mutant": (matches_mutant, 0.0,
                       ["f(1): every value has the wrong sign (a minus sign too many or missing?). "
                        f"you negated it ({SECRET})"], "negated output"),
}
GRADER_FAULTS = {"grader_bug": grader_bug, "unknown_probe": unknown_probe}


def grade_one(lab: Lab, body: Callable, visibility: str, points: float = 2.0, student: FakeStudent = STUDENT,
              expected: FakeExpected = EXPECTED) -> Line:
    spec = register(points=points, visibility=visibility)(body).__autograder_test__
    return run_tests(lab, Suite([spec]), student, expected, no_datasets)[0]


@pytest.mark.parametrize("case", list(CASES))
def test_public_test_shows_what_went_wrong(lab: Lab, case: str) -> None:
    body, score, feedback, mistake = CASES[case]
    line = grade_one(lab, body, "public")
    assert (line.score, line.max_score, line.visibility, line.kind) == (score, 2.0, "public", "test")
    assert line.mistake == mistake
    assert line.feedback == feedback
    assert not line.grader_error


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date"])
@pytest.mark.parametrize("case", list(CASES))
def test_hidden_failure_shows_only_pass_fail_and_the_mistake(lab: Lab, case: str, visibility: str) -> None:
    body, score, _, mistake = CASES[case]
    line = grade_one(lab, body, visibility)
    assert (line.score, line.visibility) == (score, visibility)
    want = [f"Failed (hidden test). Known mistake detected: {mistake}."] if mistake else HIDDEN_GENERIC
    assert line.feedback == want
    assert line.mistake == mistake
    assert SECRET not in repr(line) and line.output == ""


@pytest.mark.parametrize("visibility", ["public", "hidden"])
@pytest.mark.parametrize("case", list(GRADER_FAULTS))
def test_a_grader_fault_is_excluded_from_the_score(lab: Lab, case: str, visibility: str) -> None:
    line = grade_one(lab, GRADER_FAULTS[case], visibility)
    assert line.grader_error and line.status == "error" and not line.counts
    assert line.feedback[0].startswith(GRADER_ERROR)
    if case == "unknown_probe":
        assert "no_such_probe" in line.feedback[0] and "probes.py does not define" in line.feedback[0]


def test_a_probe_that_fails_on_the_reference_too_is_the_labs_fault(lab: Lab) -> None:
    no_frame = StudentError("exception", "your code raised TypeError", detail="TypeError: bad operand")
    student = FakeStudent({"broken": no_frame, "bad_result": no_frame})
    expected = FakeExpected({"broken": TypeError("bad operand"), "bad_result": np.zeros(2)})
    broken = grade_one(lab, lambda run: run.student("broken"), "public", student=student, expected=expected)
    assert broken.grader_error and "fails on the reference too" in broken.feedback[0]
    bad = grade_one(lab, lambda run: run.student("bad_result"), "public", student=student, expected=expected)
    assert not bad.grader_error and "could not use what your code returned" in bad.feedback[0]


def test_a_grade_result_leaves_grader_errors_out_of_its_totals() -> None:
    from autograder.result import GradeResult, Isolation
    lines = [Line("a", 1.0, 1.0, id="a"), Line("b", 0.0, 2.0, id="b", grader_error=True), Line("c", 0.0, 3.0, id="c")]
    result = GradeResult("lab", "sub", lines, Isolation("C", "test"))
    assert (result.score, result.max_score, [t.id for t in result.grader_errors]) == (1.0, 4.0, ["b"])


def test_public_tests_show_what_the_code_printed(lab: Lab) -> None:
    line = grade_one(lab, lambda run: run.student("f"), "public")
    assert line.output == "printed by f"
    assert grade_one(lab, lambda run: run.student("f"), "hidden").output == ""


def test_hidden_pass_earns_full_points(lab: Lab) -> None:
    line = grade_one(lab, lambda run: None, "hidden", points=3)
    assert (line.score, line.max_score, line.status) == (3.0, 3.0, "passed")


@pytest.mark.parametrize("returned, score", [(None, 2.0), (1, 2.0), (0.5, 1.0), (1.7, 2.0), (-3, 0.0),
                                             (math.nan, 0.0), (0, 0.0)])
def test_returned_fraction_is_clamped(lab: Lab, returned: Any, score: float) -> None:
    assert grade_one(lab, lambda run: returned, "public").score == score


def test_grader_bug_with_an_unusable_return_never_propagates(lab: Lab) -> None:
    line = grade_one(lab, lambda run: "not a number", "public")
    assert line.grader_error and line.feedback[0].startswith(GRADER_ERROR)


def fail_unknown_mistake(run: Run) -> None:
    raise Fail("x", mistake="made_up")


def test_mistake_id_unknown_to_the_lab_is_named_by_its_id(lab: Lab) -> None:
    line = grade_one(lab, fail_unknown_mistake, "hidden")
    assert line.feedback == ["Failed (hidden test). Known mistake detected: made_up."]


def test_mutant_equal_to_reference_is_not_blamed(lab: Lab) -> None:
    expected = FakeExpected({"f": np.array([1.0, 2.0])}, {"f": [(MUTANT, np.array([1.0, 2.0]))]}, {"neg": MUTANT})
    line = grade_one(lab, matches_mutant, "public", expected=expected)
    assert line.mistake is None
    assert line.feedback == ["f(1): every value has the wrong sign (a minus sign too many or missing?)"]


def test_a_mistake_is_not_named_when_a_test_it_must_fail_passed(lab: Lab) -> None:
    """Feedback never blames code whose own test passed: 'neg' must fail test t, and t passed."""
    spec_t = register(points=1)(lambda run: None).__autograder_test__
    spec_t = type(spec_t)("t", spec_t.func, 1, "public", None, "t passes")
    spec_m = register(points=1)(matches_mutant).__autograder_test__
    lines = run_tests(lab, Suite([spec_t, spec_m]), STUDENT, EXPECTED, no_datasets)
    assert lines[1].mistake is None
    assert lines[1].feedback == ["f(1): every value has the wrong sign (a minus sign too many or missing?)"]


def test_a_signature_names_a_mistake_written_another_way(lab: Lab) -> None:
    @signature("neg", probe="g")
    def negative_everywhere(got, want, call):
        return call.effect() == "sign"

    student = FakeStudent({"g": np.array([-1.0, -2.0, -3.0])})
    expected = FakeExpected({"g": np.array([1.0, 2.0, 3.0])}, mistakes={"neg": MUTANT})

    def body(run: Run) -> None:
        run.expect_match("g", what="g()")

    spec = register(points=1)(body).__autograder_test__
    suite = Suite([spec], [negative_everywhere.__autograder_signature__])
    line = run_tests(lab, suite, student, expected, no_datasets)[0]
    assert line.mistake == "negated output"


def test_a_dict_result_names_the_mistake_by_its_wrong_field(lab: Lab) -> None:
    """Only db is wrong, and it equals the mistake's db: named, although the mistake's dW differs too."""
    want = {"dW": np.ones((2, 2)), "db": np.full(2, 4.0)}
    form = {"dW": np.ones((2, 2)) * 3, "db": np.full(2, 1.0)}
    got = {"dW": np.ones((2, 2)), "db": np.full(2, 1.0)}
    mistake = Variant("db/mean", "db averaged", (), "sum db over the batch", ("t",), "db")
    expected = FakeExpected({"g": want}, {"g": [(mistake, form)]}, {"db": mistake})

    def body(run: Run) -> None:
        run.expect_match("g", what="gradients")

    line = grade_one(lab, body, "public", student=FakeStudent({"g": got}), expected=expected)
    assert line.mistake == "db averaged"
    assert "db: every value is 1/4 of the expected" in line.feedback[0] and "(dW is right)" in line.feedback[0]


@pytest.mark.parametrize("spec_timeout, call_timeout, used", [(None, None, 7.0), (2.0, None, 2.0), (2.0, 0.5, 0.5)])
def test_student_calls_get_the_right_timeout(lab: Lab, spec_timeout: float | None, call_timeout: float | None,
                                             used: float) -> None:
    student = FakeStudent({"f": np.array([1.0, 2.0])})

    def body(run: Run) -> None:
        run.student("f", timeout=call_timeout)

    spec = register(points=1, timeout=spec_timeout)(body).__autograder_test__
    assert run_one(spec, lab, student, EXPECTED, no_datasets).line.score == 1.0
    assert student.timeouts == [used]


# ---- vectorisation by counting lines --------------------------------------------------------------

class CountingStudent(FakeStudent):
    """Line counts that grow with n on one line (a loop) or stay fixed."""

    def __init__(self, loop: bool):
        super().__init__({})
        self.loop = loop

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        n = kwargs["n"]
        lines = [LineCount("tiny.py", 3, "f", 1), LineCount("tiny.py", 4, "f", 4)]  # a fixed loop of 4
        if self.loop:
            lines.append(LineCount("tiny.py", 5, "f", n))
        return Reply(None, lines=lines if trace else None)


@pytest.mark.parametrize("loop", [False, True])
def test_expect_vectorised_decides_by_counts(lab: Lab, loop: bool) -> None:
    run = Run(lab, CountingStudent(loop), EXPECTED, 1.0, no_datasets, probes={"f"})
    if not loop:
        run.expect_vectorised("f", n=(8, 32), what="f")
        return
    with pytest.raises(Fail, match=r"tiny.py line 5 \(in f\) ran 8 times for 8 samples and 32 times for 32"):
        run.expect_vectorised("f", n=(8, 32), what="f")


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
