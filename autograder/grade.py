"""The pipeline: load -> rules -> run -> score -> one GradeResult. A pure function of
(submission, lab); every failure of the submission becomes a scored line, never an exception."""
from __future__ import annotations

import contextlib
import importlib
import threading
import time
from pathlib import Path
from typing import Callable, Literal

from autograder.datasets import Datasets, HeldOut, hidden_paths
from autograder.expected import LiveExpected, RecordedExpected
from autograder.lab import EXPECTED_FILE, INSTRUCTOR_FILES, KIT_FILES, Course, Lab, LabError, UsageError
from autograder.lint import datasets_used
from autograder.load import Workspace, load_files, load_submission
from autograder.markers import MarkerError, has_solution_markers, make_starter
from autograder.result import GradeResult, TestResult
from autograder.rules import check_rules_within
from autograder.runner import Suite, TestFileError, collect_suite, run_tests
from autograder.sandbox import Sandbox, detect_isolation, shared_pool
from autograder.sandbox.api import Limits, SandboxSpec
from autograder.sandbox.wire import decode_field
from autograder.testing import TestSpec

Mode = Literal["grade", "check"]
RULES_NEED_A_PASS = "rule points count once your code passes at least one test"


def grade(course: Course, lab_id: str, submission: Path | list[Path], mode: Mode = "grade",
          data_dir: Path | None = None, on_result: Callable[[TestResult], None] | None = None,
          expected: LiveExpected | None = None, only: Callable[[TestSpec], bool] | None = None) -> GradeResult:
    """Grade one submission (a folder, a .zip, a notebook, or one or more .py files) for one lab.
    ``check`` runs only the public tests, against values recorded at release; ``only`` selects tests
    (``verify --quick``)."""
    start = time.perf_counter()
    lab = course.lab(lab_id)
    isolation = detect_isolation()
    shared_pool(isolation).start(lab.sandbox_preload)  # the warm sandbox imports while the submission loads
    if mode == "grade" and expected is None:  # the reference runs here: its libraries load meanwhile too
        import_in_background(lab.grader_preload)
    workspace, label = load(lab, submission)
    rule_lines = rules(lab, workspace)
    held_out = HeldOut.draw(lab.config.held_out.perturbation) if mode == "grade" else None
    datasets = Datasets(course.data_dir, data_dir, held_out)
    if data_dir is not None:
        errors, notes = datasets.check_real_data(datasets_used(lab))
        if errors:
            raise UsageError(f"lab {lab.id} cannot use {errors[0]}")
        workspace.messages += notes
    if expected is None:
        expected = RecordedExpected(lab) if mode == "check" else LiveExpected(lab, released_hash(lab))
    suite = tests(lab, mode, only)
    if not workspace.files:  # nothing of the lab's in the submission: no sandbox, every test fails plainly
        test_lines, violations, sandbox_messages = [_not_graded(spec) for spec in suite.tests], [], []
    else:
        with Sandbox(sandbox_spec(lab, workspace, datasets.hidden(datasets_used(lab))), isolation) as sandbox:
            test_lines = run_tests(lab, suite, sandbox, expected, datasets, on_result)
        violations, sandbox_messages, isolation = sandbox.violations, sandbox.messages, sandbox.isolation
    settle_rules(rule_lines, test_lines, violations)
    for line in rule_lines:  # shown only now that they are final
        if on_result:
            on_result(line)
    return GradeResult(lab=lab.id, submission=label, tests=rule_lines + test_lines, isolation=isolation,
                       messages=workspace.messages + sandbox_messages, seconds=round(time.perf_counter() - start, 2),
                       mode=mode, gradable=bool(workspace.files), held_out=held_out.record() if held_out else None)


def load(lab: Lab, submission: Path | list[Path]) -> tuple[Workspace, str]:
    """The submission as a workspace of the lab's files, and how to name it in the report."""
    if isinstance(submission, list):
        workspace, label = load_files(submission, lab.files), ", ".join(map(str, submission))
    else:
        known = [*lab.given, *KIT_FILES, *INSTRUCTOR_FILES, lab.notebook_name]
        workspace = load_submission(submission, lab.files, known=known, starters=lab.starter_files)
        label = str(submission)
    fill_solution_regions(workspace)
    return workspace, label


def rules(lab: Lab, workspace: Workspace) -> list[TestResult]:
    """The static rules' lines (not yet settled); a failure of ours never costs the submission its result."""
    try:
        return check_rules_within(lab, workspace)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not cost the submission its result
        workspace.messages.append(f"The rules could not be checked (a grader error, not yours: {type(exc).__name__}); "
                                  "tell your instructor.")
        return []


def tests(lab: Lab, mode: Mode, only: Callable[[TestSpec], bool] | None) -> Suite:
    """The tests this grading runs; a lab whose test files are broken is the instructor's error."""
    try:
        suite = collect_suite(lab, public_only=mode == "check")
    except TestFileError as exc:
        raise LabError(str(exc)) from None
    if only is not None:
        suite.tests = [spec for spec in suite.tests if only(spec)]
    return suite


def _not_graded(spec: TestSpec) -> TestResult:
    return TestResult(name=spec.title, score=0.0, max_score=spec.points, visibility=spec.visibility, kind="test",
                      feedback=["not graded: the submission holds none of the lab's files (see the messages)"],
                      id=spec.name)


def settle_rules(rule_lines: list[TestResult], test_lines: list[TestResult], violations: list[str]) -> None:
    """Forbidden calls caught at run time fail the forbidden-API rule; and rules are conditions on
    working code, so they earn nothing while no test passes (an untouched starter breaks no rule)."""
    for line in rule_lines:
        if line.id == "rule:forbidden" and violations:
            line.score = 0.0
            line.feedback += [f"at run time, your code called {name}, which this lab forbids" for name in violations]
    if test_lines and not any(line.score > 0 for line in test_lines):
        for line in rule_lines:
            if line.score > 0:
                line.score = 0.0
                line.feedback.append(RULES_NEED_A_PASS)


def fill_solution_regions(workspace: Workspace) -> None:
    """A reference file with its ``### BEGIN SOLUTION`` markers (an instructor grading solutions/<lab>)
    is graded as the reference with its regions filled in, exactly as a perfect student submits it."""
    for name, text in workspace.files.items():
        if has_solution_markers(text):
            try:
                workspace.files[name] = make_starter(text, name, keep_solution=True)
            except MarkerError:
                continue  # unbalanced markers: graded as written; the region rule says what is wrong


def released_hash(lab: Lab) -> str | None:
    """The reference hash recorded when labs/<lab> was released (None if it never was)."""
    path = lab.starter_dir / EXPECTED_FILE
    return decode_field(path.read_bytes(), "reference_sha256") if lab.solution_dir and path.exists() else None


def sandbox_spec(lab: Lab, workspace: Workspace, hide: tuple[str, ...] = ()) -> SandboxSpec:
    """What the sandbox runs: the student's editable files, the kit's given files (never the student's
    copies) and the lab's probes, under the lab's limits and forbidden APIs (with the libraries no lab
    allows), hiding the held-out data (``hide``: see ``Datasets.hidden``)."""
    files = {name: lab.starter_files[name] for name in lab.given}
    files.update({name: text for name, text in workspace.files.items() if name in lab.files})
    files["probes.py"] = lab.probes_source
    limits = Limits(**{key: value for key, value in lab.limits.items() if key in Limits.__dataclass_fields__})
    kit = (str(lab.course_root / "solutions"),)  # the reference, the hidden tests and the mutants
    return SandboxSpec(files, tuple(lab.files), limits, forbidden_names=lab.forbidden_names,
                       forbidden_aten=tuple(lab.forbidden["aten"]), hide=tuple(dict.fromkeys(kit + (hide or hidden_paths()))),
                       preload=lab.sandbox_preload)


def import_in_background(modules: list[str]) -> None:
    """Import ``modules`` (e.g. torch, for the reference's own runs) in a thread, while the sandbox starts."""
    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    threading.Thread(target=load, name="preload", daemon=True).start()
