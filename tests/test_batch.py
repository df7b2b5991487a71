"""Grading a class: platform layouts, the gradebook's guarantees, a real batch killed with SIGKILL and
resumed, and the same batch on a Dask cluster."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.gradebook import Gradebook, job_id
from autograder.submissions import discover
from conftest import COURSE, ROOT

LAB = COURSE.lab("mlp_numpy")


def make_class(folder: Path, size: int) -> dict[str, str]:
    """``size`` submissions of mlp_numpy in every form a class hands in: folders, zips, notebooks, correct,
    with known mistakes, untouched, broken or empty. Returns what each student handed in."""
    folder.mkdir(parents=True)
    kinds = {}
    for i in range(size):
        student = f"s{i:02d}"
        kind = ["reference", "mutant", "zip", "notebook", "starter", "syntax_error", "empty", "mutant"][i % 8]
        mutant = LAB.mutants[i % len(LAB.mutants)]
        files = LAB.variant_files(mutant) if kind == "mutant" else \
            LAB.starter_files if kind == "starter" else LAB.reference_files
        if kind == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name in LAB.files:
                    archive.writestr(f"mlp/{name}", files[name])
            (folder / f"{student}.zip").write_bytes(buffer.getvalue())
        elif kind == "notebook":
            cells = [new_code_cell(f"%%writefile {name}\n{files[name]}") for name in LAB.files]
            (folder / f"{student}.ipynb").write_text(nbformat.writes(new_notebook(cells=cells)))
        else:
            (folder / student).mkdir()
            if kind != "empty":
                for name in LAB.files:
                    text = files[name] + ("\ndef broken(:\n" if kind == "syntax_error" and name == "layers.py" else "")
                    (folder / student / name).write_text(text)
        kinds[student] = kind
    return kinds


# ---- where the student id comes from -------------------------------------------------------------------

def test_gradescope_export_maps_folders_to_students(tmp_path: Path) -> None:
    for n in (101, 102, 103):
        (tmp_path / f"submission_{n}").mkdir()
        (tmp_path / f"submission_{n}" / "layers.py").write_text("x = 1\n")
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1815'\n    :email: ada@example.edu\n"
        "submission_102:\n  :submitters:\n  - :name: Alan Turing\n    :email: alan@example.edu\n"
        "submission_103:\n  :created_at: 2026-11-01\n")
    found, notes = discover(tmp_path)
    assert [(s.student, s.name) for s in found] == [("1815", "Ada Lovelace"), ("alan@example.edu", "Alan Turing")]
    assert notes and "submission_103" in notes[0]


def test_lms_downloads_group_a_students_files_and_strip_the_prefix(tmp_path: Path) -> None:
    for name in ("lovelaceada_1815_9001_layers.py", "lovelaceada_1815_9002_model.py",
                 "turingalan_LATE_1912_9003_linear_regression-1.py"):
        (tmp_path / name).write_text("x = 1\n")
    found, _ = discover(tmp_path)
    assert [(s.student, s.name, sorted(s.files)) for s in found] == [
        ("1815", "lovelaceada", ["layers.py", "model.py"]), ("1912", "turingalan", ["linear_regression-1.py"])]


def test_github_classroom_clones_are_named_after_the_assignment(tmp_path: Path) -> None:
    for user in ("ada", "alan-t", "grace"):
        (tmp_path / f"mlp-numpy-hw-{user}").mkdir()
    found, _ = discover(tmp_path)
    assert [s.student for s in found] == ["ada", "alan-t", "grace"]


def test_one_entry_per_student_otherwise(tmp_path: Path) -> None:
    kinds = make_class(tmp_path / "class", 8)
    (tmp_path / "class" / "notes.txt").write_text("not a submission")
    (tmp_path / "class" / ".DS_Store").write_text("junk")
    found, notes = discover(tmp_path / "class")
    assert [s.student for s in found] == sorted(kinds)
    assert notes == ["notes.txt: not a folder, .zip, .py or .ipynb, so it was skipped"]
    payload = next(s for s in found if s.student == "s02").payload()
    assert payload.single_file == "s02.zip"


# ---- the gradebook -----------------------------------------------------------------------------------

RESULT = {"score": 3.0, "max_score": 4.0, "seconds": 1.5, "isolation": {"profile": "A"}, "gradable": True,
          "tests": [{"id": "t1", "score": 1.0, "mistake": None}, {"id": "t2", "score": 2.0, "mistake": "sign flipped"},
                    {"id": "t3", "score": 0.0, "mistake": None, "grader_error": True}]}


def test_attempts_are_numbered_and_a_job_is_written_once(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.sqlite") as book:
        first = job_id("ada", "lab", "h1", "v1", "g1")
        assert book.record(first, "ada", "lab", "h1", "v1", "g1", RESULT) == 1
        assert book.record(first, "ada", "lab", "h1", "v1", "g1", RESULT) is None  # arrived twice: written once
        assert book.has("ada", "lab", "h1", "v1", "g1") and not book.has("ada", "lab", "h1", "v2", "g1")
        assert book.record(job_id("ada", "lab", "h2", "v1", "g1"), "ada", "lab", "h2", "v1", "g1", RESULT) == 2
        assert book.record(job_id("bob", "lab", "h1", "v1", "g1"), "bob", "lab", "h1", "v1", "g1", RESULT) == 1
        latest = book.latest("lab")
        assert [(r["student"], r["attempt"]) for r in latest] == [("ada", 2), ("bob", 1)]
        assert latest[0]["tests"] == {"t1": 1.0, "t2": 2.0} and latest[0]["mistakes"] == ["sign flipped"]
        assert book.count("lab") == 3
        assert book.export_csv(tmp_path / "g.csv", "lab") == 2
    rows = list(csv.reader((tmp_path / "g.csv").open()))
    assert rows[0][:5] == ["student", "attempt", "t1", "t2", "total"] and rows[1][:5] == ["ada", "2", "1.0", "2.0", "3.0"]


# ---- a real batch: killed and resumed; on a Dask cluster ----------------------------------------------

def batch_command(submissions: Path, gradebook: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder.cli", "--root", str(ROOT), "batch", str(submissions), "--lab", LAB.id,
            "--gradebook", str(gradebook), "-q", *extra]


def rows_of(gradebook: Path) -> list[tuple]:
    if not gradebook.exists():
        return []
    with sqlite3.connect(gradebook) as db:
        try:
            return db.execute("SELECT student, attempt FROM grading ORDER BY student").fetchall()
        except sqlite3.OperationalError:  # the table is not there yet
            return []


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_killed_batch_resumes_to_exactly_one_row_per_student(tmp_path: Path) -> None:
    kinds = make_class(tmp_path / "class", 30)
    gradebook = tmp_path / "grades.sqlite"
    batch = subprocess.Popen(batch_command(tmp_path / "class", gradebook, "-j", "2"), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(rows_of(gradebook)) < 10 and batch.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(batch.pid, signal.SIGKILL)  # the batch and its workers, mid-way
    batch.wait()
    halfway = rows_of(gradebook)
    assert 10 <= len(halfway) < 30
    done = subprocess.run(batch_command(tmp_path / "class", gradebook, "-j", "2"), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    rows = rows_of(gradebook)
    assert sorted(rows) == sorted((student, 1) for student in kinds)  # 30 rows, no duplicate, nothing lost
    again = subprocess.run(batch_command(tmp_path / "class", gradebook), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and rows_of(gradebook) == rows  # unchanged submissions are not regraded
    with Gradebook(gradebook) as book:
        results = {row["student"]: row for row in book.latest(LAB.id)}
    assert results["s00"]["score"] == results["s00"]["max_score"]  # the reference
    assert results["s06"]["gradable"] is False  # the empty folder
    assert results["s01"]["mistakes"]  # a mutant, named
    assert results["s03"]["score"] == results["s03"]["max_score"]  # the notebook of the reference
    export = subprocess.run([sys.executable, "-m", "autograder.cli", "--root", str(ROOT), "gradebook", "export", "--lab",
                             LAB.id, "--gradebook", str(gradebook), "--csv", str(tmp_path / "g.csv")],
                            capture_output=True, text=True)
    assert export.returncode == 0 and len((tmp_path / "g.csv").read_text().splitlines()) == 31


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_same_batch_runs_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import LocalCluster

    from autograder.batch import run_batch
    kinds = make_class(tmp_path / "class", 6)
    submissions, _ = discover(tmp_path / "class")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Gradebook(tmp_path / "grades.sqlite") as book:
        summary = run_batch(COURSE, LAB.id, submissions, book, dask=cluster.scheduler_address)
        assert len(summary.graded) == len(kinds) and book.count(LAB.id) == len(kinds)
        again = run_batch(COURSE, LAB.id, submissions, book, dask=cluster.scheduler_address)
        assert again.graded == [] and len(again.skipped) == len(kinds)
        assert json.dumps(book.latest(LAB.id)[0]["result"])  # the full result is stored
