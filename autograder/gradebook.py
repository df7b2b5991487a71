"""The gradebook: one SQLite row per (student, lab, attempt), written in a transaction as each grading
ends, so that a batch killed at any moment loses nothing and, run again, repeats nothing.

A row holds the submission's content hash, the total and per-test scores, the named mistakes, the
isolation profile, the duration, the grader's and the lab's versions, and the full JSON result. Each
grading has a job id (a hash of student, lab, content, versions and, with --force, the run), so a result
that arrives twice (a retried remote job) is written once.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS grading (
    job_id TEXT PRIMARY KEY,
    student TEXT NOT NULL,
    lab TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    lab_version TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    tests TEXT NOT NULL,
    mistakes TEXT NOT NULL,
    isolation TEXT NOT NULL,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL,
    gradable INTEGER NOT NULL,
    result TEXT NOT NULL,
    UNIQUE (student, lab, attempt)
);
CREATE INDEX IF NOT EXISTS grading_by_lab ON grading (lab, student, attempt);
"""


def job_id(student: str, lab: str, content_hash: str, lab_version: str, grader_version: str, run: str = "") -> str:
    """The identity of one grading: the same submission graded by the same lab and grader is the same job
    (``run`` makes a forced regrade a new one)."""
    return hashlib.sha256("\0".join((student, lab, content_hash, lab_version, grader_version, run)).encode()).hexdigest()


class Gradebook:
    """A gradebook file (created on first use)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, student: str, lab: str, content_hash: str, lab_version: str, grader_version: str) -> bool:
        """Whether this submission has already been graded by this lab and grader version."""
        row = self.db.execute("SELECT 1 FROM grading WHERE student=? AND lab=? AND content_hash=? AND lab_version=? "
                              "AND grader_version=? LIMIT 1", (student, lab, content_hash, lab_version,
                                                               grader_version)).fetchone()
        return row is not None

    def record(self, job: str, student: str, lab: str, content_hash: str, lab_version: str, grader_version: str,
               result: dict) -> int | None:
        """Write one grading as the student's next attempt, atomically; None if this job is already written."""
        tests = {t["id"]: t["score"] for t in result["tests"] if not t.get("grader_error")}
        mistakes = sorted({t["mistake"] for t in result["tests"] if t.get("mistake")})
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("SELECT 1 FROM grading WHERE job_id=?", (job,)).fetchone():
                self.db.execute("ROLLBACK")
                return None
            (attempt,) = self.db.execute("SELECT COALESCE(MAX(attempt), 0) + 1 FROM grading WHERE student=? AND lab=?",
                                         (student, lab)).fetchone()
            self.db.execute(
                "INSERT INTO grading VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job, student, lab, attempt, content_hash, lab_version, grader_version, result["score"],
                 result["max_score"], json.dumps(tests), json.dumps(mistakes), result["isolation"]["profile"],
                 result["seconds"], time.strftime("%Y-%m-%dT%H:%M:%S%z"), int(result.get("gradable", True)),
                 json.dumps(result)))
            self.db.execute("COMMIT")
            return attempt
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def latest(self, lab: str | None = None) -> list[dict[str, Any]]:
        """Each student's latest attempt (of ``lab``, or of every lab), as dicts with parsed JSON fields."""
        query = ("SELECT g.* FROM grading g JOIN (SELECT student, lab, MAX(attempt) AS attempt FROM grading "
                 "GROUP BY student, lab) last USING (student, lab, attempt)")
        rows = self.db.execute(query + (" WHERE g.lab=?" if lab else "") + " ORDER BY g.lab, g.student",
                               (lab,) if lab else ()).fetchall()
        return [_parsed(row) for row in rows]

    def count(self, lab: str | None = None) -> int:
        query = "SELECT COUNT(*) FROM grading" + (" WHERE lab=?" if lab else "")
        return self.db.execute(query, (lab,) if lab else ()).fetchone()[0]

    def export_csv(self, path: Path, lab: str) -> int:
        """One row per student (their latest attempt), a column per test and the total; returns the rows."""
        rows = self.latest(lab)
        test_ids = list(dict.fromkeys(test for row in rows for test in row["tests"]))
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", "attempt", *test_ids, "total", "max_total", "mistakes", "graded_at"])
            for row in rows:
                writer.writerow([row["student"], row["attempt"], *(row["tests"].get(t, "") for t in test_ids),
                                 row["score"], row["max_score"], "; ".join(row["mistakes"]), row["graded_at"]])
        return len(rows)

    def export_json(self, path: Path, lab: str) -> int:
        """Each student's latest attempt with its full result, as a JSON list; returns the rows."""
        rows = self.latest(lab)
        Path(path).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return len(rows)


def _parsed(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    for key in ("tests", "mistakes", "result"):
        data[key] = json.loads(data[key])
    data["gradable"] = bool(data["gradable"])
    return data
