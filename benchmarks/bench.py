"""Grading overhead, measured in one run: for each lab, the wall time to grade the reference solution
(load, rules, sandbox, tests, expected values) next to the wall time of a plain Python process that
makes the same probe calls on the same code once, and their ratio.

    python benchmarks/bench.py [LAB ...]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.datasets import Datasets
from autograder.expected import LiveExpected, TrustedCode, TrustedStudent, probes_source
from autograder.lab import Course, Lab
from autograder.runner import collect, run_tests
from autograder.sandbox import detect_isolation
from autograder.sandbox.wire import encode
from autograder.verify import grade_files

HERE = Path(__file__).resolve().parent
WIRE = HERE.parent / "autograder" / "sandbox" / "wire.py"
REPLAY = """
import sys, wire
calls = wire.decode(open("calls.wire", "rb").read())
import probes
for probe, args, kwargs in calls:
    getattr(probes, probe)(*args, **kwargs)
"""


class LoggingStudent(TrustedStudent):
    """The reference answering in-process, noting every probe call the tests make."""

    def __init__(self, code: TrustedCode):
        super().__init__(code)
        self.calls: list[list] = []

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False):
        self.calls.append([probe, args, kwargs])
        return super().call(probe, args, kwargs, timeout, trace)


def probe_calls(course: Course, lab: Lab) -> list[list]:
    student = LoggingStudent(TrustedCode(lab.reference_files, probes_source(lab), f"{lab.id}-bench"))
    run_tests(lab, collect(lab, public_only=False), student, LiveExpected(lab), Datasets(course.data_dir))
    return student.calls


def plain_seconds(lab: Lab, calls: list[list]) -> float:
    """Wall time of a fresh, unsandboxed Python process making ``calls`` on the reference."""
    with tempfile.TemporaryDirectory() as folder:
        files = {**lab.reference_files, "probes.py": probes_source(lab), "wire.py": WIRE.read_text()}
        for name, text in files.items():
            (Path(folder) / name).write_text(text)
        (Path(folder) / "calls.wire").write_bytes(encode(calls))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", REPLAY], cwd=folder, check=True,
                       env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
        return time.perf_counter() - start


def main(lab_ids: list[str]) -> None:
    course = Course.find(HERE)
    console = Console(width=120)
    table = Table("lab", "probe calls", "grade reference (s)", "plain probes (s)", "ratio", "score",
                  title=f"Grading overhead (isolation profile {detect_isolation().profile})")
    for lab_id in lab_ids or course.lab_ids():
        lab = course.lab(lab_id)
        console.print(f"benchmarking {lab_id} ...")
        calls = probe_calls(course, lab)
        plain = plain_seconds(lab, calls)
        start = time.perf_counter()
        result = grade_files(course, lab, lab.reference_files, f"{lab_id} reference", LiveExpected(lab))
        graded = time.perf_counter() - start
        table.add_row(lab_id, str(len(calls)), f"{graded:.2f}", f"{plain:.2f}", f"{graded / plain:.2f}x",
                      f"{result.score:g}/{result.max_score:g}")
    console.print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
