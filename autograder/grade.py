"""The pipeline: load -> rules -> run -> score -> one GradeResult. A pure function of
(submission, lab); every failure of the submission becomes a scored line, never an exception."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Literal

from autograder.datasets import Datasets
from autograder.expected import EXPECTED_FILE, LiveExpected, RecordedExpected, probes_source
from autograder.lab import Course, Lab
from autograder.load import Workspace, load_files, load_submission
from autograder.result import GradeResult, TestResult
from autograder.release import COPIED
from autograder.rules import check_rules
from autograder.runner import collect, run_tests
from autograder.sandbox import Sandbox, detect_isolation, shared_pool
from autograder.sandbox.api import Limits, SandboxSpec

Mode = Literal["grade", "check"]
KIT_FILES = (*COPIED, EXPECTED_FILE)  # what a student's lab folder holds besides their own files


def grade(course: Course, lab_id: str, submission: Path | list[Path], mode: Mode = "grade",
          data_dir: Path | None = None, on_result: Callable[[TestResult], None] | None = None,
          expected: LiveExpected | None = None) -> GradeResult:
    """Grade one submission (a folder, a .zip, a notebook, or one or more .py files) for one lab.
    ``check`` runs only the public tests, against values recorded at release."""
    start = time.perf_counter()
    lab = course.lab(lab_id)
    isolation = detect_isolation()
    shared_pool(isolation).start(preload(lab))  # the warm sandbox imports while the submission loads
    if isinstance(submission, list):
        workspace = load_files(submission, lab.files)
        submission = Path(", ".join(map(str, submission)))
    else:
        workspace = load_submission(submission, lab.files, known=lab.given + list(KIT_FILES))
    try:
        rule_lines = check_rules(lab, workspace)
    except Exception as exc:  # a bug of ours must not cost the submission its result
        rule_lines = []
        workspace.messages.append(f"The rules could not be checked (a grader error, not yours: {type(exc).__name__}); "
                                  "tell your instructor.")
    for line in rule_lines:
        if on_result:
            on_result(line)
    if expected is None:
        expected = RecordedExpected(lab) if mode == "check" else LiveExpected(lab)
    specs = collect(lab, public_only=mode == "check")
    with Sandbox(sandbox_spec(lab, workspace), isolation) as sandbox:
        test_lines = run_tests(lab, specs, sandbox, expected, Datasets(course.data_dir, data_dir), on_result)
    settle_rules(rule_lines, test_lines, sandbox.violations)
    messages = list(workspace.messages) + sandbox.messages
    return GradeResult(lab=lab.id, submission=str(submission), tests=rule_lines + test_lines, isolation=sandbox.isolation,
                       messages=messages, seconds=round(time.perf_counter() - start, 2), mode=mode)


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
                line.feedback.append("rule points count once your code passes at least one test")


def preload(lab: Lab) -> tuple[str, ...]:
    """What a warm sandbox for this lab imports ahead of time (lab.toml ``preload``; numpy and torch)."""
    return tuple(lab.config.get("preload", SandboxSpec.__dataclass_fields__["preload"].default))


def sandbox_spec(lab: Lab, workspace: Workspace) -> SandboxSpec:
    """What the sandbox runs: the student's editable files, the kit's given files (never the student's
    copies) and the lab's probes, under the lab's limits and forbidden APIs; the kit's solutions (the
    hidden tests among them) are kept from it."""
    files = {name: lab.starter_files[name] for name in lab.given}
    files.update({name: text for name, text in workspace.files.items() if name in lab.files})
    files["probes.py"] = probes_source(lab)
    limits = Limits(**{key: value for key, value in lab.limits.items() if key in Limits.__dataclass_fields__})
    hidden = (str(lab.solution_dir.parent),) if lab.solution_dir else ()
    return SandboxSpec(files, tuple(lab.files), limits, forbidden_names=tuple(lab.forbidden["names"]),
                       forbidden_aten=tuple(lab.forbidden["aten"]), hide=hidden, preload=preload(lab))
