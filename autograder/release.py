"""``autograder release``: generate ``labs/<lab>/`` from ``solutions/<lab>/`` (the single source).

What a student gets: the starter (TODO regions), the kit's given files, the handout, the public tests,
the probes, the lab config and the expected values the public tests need (recorded from the
reference, so ``autograder check`` runs without it). ``--check`` regenerates in memory and reports
every file that differs from what is on disk.

For the grader: ``solutions/<lab>/recorded.wire``, the reference's answer to every probe call of every test
(hidden ones too) and the tests' ``@recorded`` values, so that grading a correct submission need not run
the reference (nor import what it needs); recorded again whenever the lab's files change.
"""
from __future__ import annotations

from pathlib import Path

from autograder.datasets import Datasets
from autograder.diagnose import compare
from autograder.expected import LiveExpected, RecordedExpected, TrustedCode, TrustedStudent, grader_record, \
    reference_hash
from autograder.lab import EXPECTED_FILE, RECORDED_FILE, RELEASED, Course, Lab, LabError
from autograder.lint import lint
from autograder.notebooks import starter_notebook
from autograder.result import TestResult
from autograder.runner import Suite, collect_suite, run_tests
from autograder.sandbox.wire import decode, encode


def generate(course: Course, lab: Lab) -> dict[str, bytes]:
    """Every file of ``labs/<lab>/``, by name."""
    files = {name: text.encode() for name, text in lab.starter_files.items()}
    files.update({name: (lab.solution_dir / name).read_bytes() for name in RELEASED})
    files[lab.notebook_name] = starter_notebook(lab).encode()
    files[EXPECTED_FILE] = encode(record_expected(course, lab))
    return files


def record_expected(course: Course, lab: Lab) -> dict:
    """Run the public tests on the reference and keep every expected value they asked for."""
    expected = LiveExpected(lab)
    suite = collect_suite(lab, public_only=True)
    results = _graded_reference(course, lab, suite, expected)
    failing = [f"{r.name} ({' / '.join(r.feedback)[:200]})" for r in results if r.score < r.max_score or r.grader_error]
    if failing:
        raise LabError(f"{lab.id}: the reference fails its own public tests: {'; '.join(failing)}")
    recording = expected.recording({spec.name for spec in suite.tests})
    recording["thresholds"] = sorted({t["threshold"] for r in results for t in r.thresholds.values()})
    return recording


def record_grader_values(course: Course, lab: Lab) -> bytes:
    """What ``solutions/<lab>/recorded.wire`` holds: the reference's value for every probe call of every
    test (hidden ones too) and every ``@recorded`` value, from a grading of the reference (whatever it
    scores: ``verify`` judges the reference, this only records what the tests asked)."""
    expected = LiveExpected(lab, fresh=True)
    _graded_reference(course, lab, collect_suite(lab, public_only=False), expected)
    return expected.record()


def _graded_reference(course: Course, lab: Lab, suite: Suite, expected: LiveExpected) -> list[TestResult]:
    """The reference graded in this process on ``suite``, its values noted in ``expected``."""
    student = TrustedStudent(TrustedCode(lab.reference_files, lab.probes_source, f"{lab.id}-release"))
    return run_tests(lab, suite, student, expected, Datasets(course.data_dir))


def _record_is_current(lab: Lab) -> bool:
    """Whether ``solutions/<lab>/recorded.wire`` was recorded from the lab's current files."""
    try:
        return bool(grader_record(lab))  # empty when missing, of another format or from other files
    except LabError:  # damaged: recorded again
        return False


def release(course: Course, lab_ids: list[str]) -> list[Path]:
    """Write ``labs/<lab>/`` for each lab; returns the files written."""
    written = []
    for lab_id in lab_ids:
        lab = course.lab(lab_id)
        folder = course.root / "labs" / lab_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in generate(course, lab).items():
            path = folder / name
            if not path.exists() or path.read_bytes() != data and not _same_recording(path, name, data):
                path.write_bytes(data)
                written.append(path)
        if not _record_is_current(lab):
            lab.recorded_path.write_bytes(record_grader_values(course, lab))
            written.append(lab.recorded_path)
    return written


def _same_recording(path: Path, name: str, data: bytes) -> bool:
    """Recorded values that differ only in the last bits (another summation order) are not rewritten."""
    return name == EXPECTED_FILE and _differs(decode(path.read_bytes()), decode(data)) is None


def stale(course: Course, lab_ids: list[str]) -> list[str]:
    """What ``release`` would change: one line per out-of-date file (empty when in sync)."""
    problems = []
    for lab_id in lab_ids:
        lab = course.lab(lab_id)
        folder = course.root / "labs" / lab_id
        for name, data in generate(course, lab).items():
            path = folder / name
            if not path.exists():
                problems.append(f"labs/{lab_id}/{name} is missing")
            elif name == EXPECTED_FILE:
                problem = _differs(decode(path.read_bytes()), decode(data))
                if problem:
                    problems.append(f"labs/{lab_id}/{name}: {problem}")
            elif path.read_bytes() != data:
                problems.append(f"labs/{lab_id}/{name} differs from what solutions/{lab_id} generates")
        if not _record_is_current(lab):
            problems.append(f"solutions/{lab_id}/{RECORDED_FILE} was not recorded from the lab's current files")
    return problems


def unreleased(lab: Lab) -> list[str]:
    """What differs between ``labs/<lab>`` and what ``solutions/<lab>`` would release, without running the
    reference (for bundles made from labs/): the copied and generated files byte for byte, and the
    reference that ``expected.wire`` was recorded from by its hash."""
    folder = lab.starter_dir
    problems = [f"solutions/{lab.id}/{name} is missing" for name in RELEASED if not (lab.solution_dir / name).is_file()]
    fresh = {name: text.encode() for name, text in lab.starter_files.items()}
    fresh.update({name: (lab.solution_dir / name).read_bytes() for name in RELEASED
                  if (lab.solution_dir / name).is_file()})
    fresh[lab.notebook_name] = starter_notebook(lab).encode()
    problems += [f"labs/{lab.id}/{name} differs from what solutions/{lab.id} generates (or is missing)"
                 for name, data in fresh.items() if not (folder / name).is_file() or (folder / name).read_bytes() != data]
    recorded = RecordedExpected(lab)
    if recorded.reference_sha256 != reference_hash(lab) or recorded.data.get("starter") != lab.starter_files:
        problems.append(f"labs/{lab.id}/{EXPECTED_FILE} was recorded from another version of the lab")
    return problems


def check_releasable(course: Course, lab_id: str) -> None:
    """LabError unless the lab lints clean and ``labs/<lab>`` is released from its current solution (what a
    bundle made from them needs)."""
    problems = lint(course, lab_id)
    if problems:
        raise LabError(f"lab {lab_id} has problems", [*problems, "nothing written: fix the problems above first"])
    stale = unreleased(course.lab(lab_id))
    if stale:
        raise LabError(f"labs/{lab_id} is out of date", [*stale, f"nothing written: run 'autograder release {lab_id}' "
                                                                 "first (and commit the result)"])


def _differs(on_disk: dict, fresh: dict) -> str | None:
    """Recorded values are floating point: equal within a tolerance that absorbs CPU differences."""
    if on_disk.get("format") != fresh["format"] or on_disk.get("reference_sha256") != fresh["reference_sha256"]:
        return "recorded from another version of the reference (or of the autograder)"
    if on_disk.get("mistakes") != fresh["mistakes"]:
        return "the known mistakes the public tests can name differ"
    if on_disk.get("starter") != fresh["starter"]:
        return "the recorded starter differs"
    if on_disk.get("thresholds") != fresh["thresholds"]:
        return "the thresholds the public tests use differ"
    if set(on_disk["calls"]) != set(fresh["calls"]):
        return "recorded probe calls differ (the public tests changed)"
    for key, entry in fresh["calls"].items():
        problem = compare(on_disk["calls"][key], entry, rtol=1e-5, atol=1e-7)
        if problem:
            return f"recorded values for probe {entry['probe']!r} differ: {problem}"
    computed, fresh_computed = on_disk.get("computed", {}), fresh.get("computed", {})  # none before @recorded
    if set(computed) != set(fresh_computed):
        return "the public tests' @recorded calls differ (the public tests changed)"
    for key, value in fresh_computed.items():
        problem = compare(computed[key], value, rtol=1e-5, atol=1e-7)
        if problem:
            return f"the public tests' @recorded values differ: {problem}"
    return None
