"""``autograder release``: generate ``labs/<lab>/`` from ``solutions/<lab>/`` (the single source).

What a student gets: the starter (TODO regions), the kit's given files, the handout, the public tests,
the probes, the lab config and the expected values the public tests need (recorded from the
reference, so ``autograder check`` runs without it). ``--check`` regenerates in memory and reports
every file that differs from what is on disk.
"""
from __future__ import annotations

from pathlib import Path

from autograder.datasets import Datasets
from autograder.diagnose import compare
from autograder.expected import LiveExpected, TrustedCode, TrustedStudent
from autograder.lab import EXPECTED_FILE, RELEASED, Course, Lab, LabError
from autograder.notebooks import starter_notebook
from autograder.runner import collect_suite, run_tests
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
    student = TrustedStudent(TrustedCode(lab.reference_files, lab.probes_source, f"{lab.id}-release"))
    suite = collect_suite(lab, public_only=True)
    results = run_tests(lab, suite, student, expected, Datasets(course.data_dir))
    failing = [f"{r.name} ({' / '.join(r.feedback)[:200]})" for r in results if r.score < r.max_score or r.grader_error]
    if failing:
        raise LabError(f"{lab.id}: the reference fails its own public tests: {'; '.join(failing)}")
    return expected.recording({spec.name for spec in suite.tests})


def release(course: Course, lab_ids: list[str]) -> list[Path]:
    """Write ``labs/<lab>/`` for each lab; returns the files written."""
    written = []
    for lab_id in lab_ids:
        lab = course.lab(lab_id)
        folder = course.root / "labs" / lab_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in generate(course, lab).items():
            path = folder / name
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
                written.append(path)
    return written


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
    return problems


def _differs(on_disk: dict, fresh: dict) -> str | None:
    """Recorded values are floating point: equal within a tolerance that absorbs CPU differences."""
    if on_disk.get("format") != fresh["format"] or on_disk.get("reference_sha256") != fresh["reference_sha256"]:
        return "recorded from another version of the reference (or of the autograder)"
    if on_disk.get("mistakes") != fresh["mistakes"]:
        return "the known mistakes the public tests can name differ"
    if set(on_disk["calls"]) != set(fresh["calls"]):
        return "recorded probe calls differ (the public tests changed)"
    for key, entry in fresh["calls"].items():
        problem = compare(on_disk["calls"][key], entry, rtol=1e-5, atol=1e-7)
        if problem:
            return f"recorded values for probe {entry['probe']!r} differ: {problem}"
    return None
