"""Grading time, measured in one run as a user waits for it (whole processes), for each lab:

- plain: a fresh, unsandboxed Python process that imports the reference and makes the same probe calls the
  tests make (the floor: what the student's code itself costs); "probes" is the time of the calls alone;
- grade: one ``autograder grade`` of the reference, the whole process;
- batch -j 1 / -j 2: ``autograder batch`` over classes of 2 and 2 + N students who all hand in the reference:
  the batch's start-up (once per class) and the seconds each further submission adds.

Plain and grade are the medians of five runs, alternated. Overheads reported: grade - plain (target <= 0.5 s) and batch
seconds per submission - probes (target <= 0.1 s).
Then the labs' op benchmarks (``benchmarks/ops_*.py``: a hand-written op next to the library's).

    python benchmarks/bench.py [LAB ...] [--copies N]
"""
from __future__ import annotations

import json
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.datasets import Datasets
from autograder.expected import LiveExpected, TrustedCode, TrustedStudent
from autograder.lab import Course, Lab
from autograder.runner import collect_suite, run_tests
from autograder.sandbox import detect_isolation
from autograder.sandbox.wire import encode

HERE = Path(__file__).resolve().parent
WIRE = HERE.parent / "autograder" / "sandbox" / "wire.py"
REPLAY = """
import sys, time, wire
calls = wire.decode(open("calls.wire", "rb").read())
import probes
start = time.perf_counter()
for probe, args, kwargs in calls:
    getattr(probes, probe)(*args, **kwargs)
print(time.perf_counter() - start)
"""
REPEATS = 5  # plain runs and grades, alternated; their medians are reported
ENV = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


class LoggingStudent(TrustedStudent):
    """The reference answering in-process, noting every probe call the tests make."""

    def __init__(self, code: TrustedCode):
        super().__init__(code)
        self.calls: list[list] = []

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False):
        self.calls.append([probe, args, kwargs])
        return super().call(probe, args, kwargs, timeout, trace)


def probe_calls(course: Course, lab: Lab) -> list[list]:
    student = LoggingStudent(TrustedCode(lab.reference_files, lab.probes_source, f"{lab.id}-bench"))
    run_tests(lab, collect_suite(lab, public_only=False), student, LiveExpected(lab), Datasets(course.data_dir))
    return student.calls


def plain_seconds(lab: Lab, calls: list[list]) -> tuple[float, float]:
    """(whole process, the probe calls alone) of a fresh unsandboxed Python process replaying ``calls``."""
    with tempfile.TemporaryDirectory() as folder:
        files = {**lab.reference_files, "probes.py": lab.probes_source, "wire.py": WIRE.read_text()}
        for name, text in files.items():
            (Path(folder) / name).write_text(text)
        (Path(folder) / "calls.wire").write_bytes(encode(calls))
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", REPLAY], cwd=folder, check=True, env=ENV, capture_output=True,
                             text=True).stdout
        return time.perf_counter() - start, float(out.strip().splitlines()[-1])


def reference_folder(lab: Lab, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in lab.files:
        (folder / name).write_text(lab.reference_files[name])
    return folder


def cli(*args: str | Path) -> tuple[float, str]:
    """Wall time of one ``autograder`` command, as a user runs it, and its stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "AUTOGRADER_ROOT": str(HERE.parent)})
    if done.returncode not in (0, 1):
        raise RuntimeError(f"autograder {' '.join(map(str, args))} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start, done.stdout


def batch_seconds(lab: Lab, copies: int, jobs: int, folder: Path) -> tuple[float, float]:
    """``batch -j jobs`` over classes of 2 and 2 + ``copies`` students who all hand in the reference: (the
    batch's start-up, paid once per class: the command, its workers, their warm sandboxes; and the seconds
    each further submission adds)."""
    seconds = []
    for students in (2, 2 + copies):
        submissions = folder / f"class-j{jobs}-{students}"
        for i in range(students):
            reference_folder(lab, submissions / f"student{i:03d}")
        seconds.append(cli("batch", submissions, "--lab", lab.id, "-j", jobs, "--gradebook",
                           folder / f"j{jobs}-{students}.sqlite", "-q")[0])
    per_submission = (seconds[1] - seconds[0]) / copies
    return seconds[0] - 2 * per_submission, per_submission


def main(argv: list[str]) -> None:
    copies = int(argv[argv.index("--copies") + 1]) if "--copies" in argv else 8
    labs = [arg for arg in argv if not arg.startswith("--") and not arg.isdigit()]
    course = Course.find(HERE)
    console = Console(width=160)
    table = Table("lab", "calls", "plain (s)", "probes (s)", "grade (s)", "grade - plain", "batch -j1: start + s/sub",
                  "batch -j2: start + s/sub", "batch s/sub - probes", "score",
                  title=f"Grading time as a user waits for it (isolation profile {detect_isolation().profile}, "
                        f"{os.cpu_count()} cores, {copies} submissions per batch)")
    for lab_id in labs or [lab for lab in course.lab_ids() if course.lab(lab).has_solution]:
        lab = course.lab(lab_id)
        console.print(f"benchmarking {lab_id} ...")
        calls = probe_calls(course, lab)
        with tempfile.TemporaryDirectory() as tmp:
            folder = reference_folder(lab, Path(tmp) / "reference")
            runs, grades = [], []
            for _ in range(REPEATS):  # alternated, so that both see the same machine load
                runs.append(plain_seconds(lab, calls))
                grades.append(cli("grade", folder, "--lab", lab_id, "-q")[0])
            plain, probes = (statistics.median(run[i] for run in runs) for i in (0, 1))
            graded = statistics.median(grades)
            result = json.loads(cli("grade", folder, "--lab", lab_id, "--format", "json", "-q")[1])
            start1, j1 = batch_seconds(lab, copies, 1, Path(tmp))
            start2, j2 = batch_seconds(lab, copies, 2, Path(tmp))
        table.add_row(lab_id, str(len(calls)), f"{plain:.2f}", f"{probes:.2f}", f"{graded:.2f}", f"{graded - plain:+.2f}",
                      f"{start1:.1f} + {j1:.2f}", f"{start2:.1f} + {j2:.2f}", f"{min(j1, j2) - probes:+.2f}",
                      f"{result['score']:g}/{result['max_score']:g}")
    console.print(table)
    for ops in sorted(HERE.glob("ops_*.py")):  # the labs' hand-written ops next to the library's, same shapes
        if not labs or any(lab_id in ops.stem for lab_id in labs):
            console.print(f"\n[bold]{ops.name}[/]")
            runpy.run_path(str(ops), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
