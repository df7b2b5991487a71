"""Grading a whole class: one pure job per submission, run by a pool of warm local workers or by a Dask
cluster, every result written to the gradebook by the caller as it arrives.

The job, ``grade_payload(root, lab, payload, data_dir)``, is a pure function of the submission's bytes and
the lab: it writes the payload into a fresh private folder, grades it exactly as ``autograder grade`` does
(same sandbox, same isolation), and returns the result as plain JSON-able data. A worker process keeps its
warm state between jobs: numpy and torch imported once, and each lab's reference values computed once.
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib
import os
import signal
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from autograder import __version__
from autograder.expected import LiveExpected
from autograder.grade import grade, released_hash
from autograder.gradebook import Gradebook, job_id
from autograder.lab import Course, Lab
from autograder.submissions import Payload, Submission

_warm: dict[tuple[str, str, bool], tuple[Course, LiveExpected]] = {}  # per worker process


def warm_lab(root: str, lab_id: str, released: bool = True) -> tuple[Course, LiveExpected]:
    """This process's course and the lab's reference values, made once per process and kept warm between
    jobs. ``released``: the reference must be the one labs/<lab> was released from (``verify`` checks
    solutions/ as it stands, so it passes False)."""
    if (root, lab_id, released) not in _warm:
        course = Course(Path(root))
        lab = course.lab(lab_id)
        _warm[(root, lab_id, released)] = (course, LiveExpected(lab, released_hash(lab) if released else None))
    return _warm[(root, lab_id, released)]


def lab_version(lab: Lab) -> str:
    """A hash of every file of the lab's folder (config, reference, tests, mutants): a change means regrading."""
    digest = hashlib.sha256()
    for path in sorted(p for p in lab.home.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(lab.home).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def grade_payload(root: str, lab_id: str, payload: Payload, data_dir: str | None = None) -> dict:
    """Grade one submission held in memory; the result as plain data. The course is found at
    $AUTOGRADER_ROOT when set (a remote worker), else at ``root``."""
    course, expected = warm_lab(os.environ.get("AUTOGRADER_ROOT", root), lab_id)
    with tempfile.TemporaryDirectory(prefix="autograder-batch-") as folder:
        target = _write(payload, Path(folder) / "submission")
        result = grade(course, lab_id, target, data_dir=Path(data_dir) if data_dir else None, expected=expected)
    result.submission = payload.student
    data = result.to_dict()
    data["messages"] = payload.notes + data["messages"]
    return data


def _write(payload: Payload, folder: Path) -> Path:
    """The payload as files under ``folder``; the path to grade (the one file, or the folder)."""
    folder.mkdir(parents=True)
    for name, content in payload.files.items():
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts:
            continue
        path = folder.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    single = payload.single_file
    return folder / single if single else folder


def _warm_worker(libraries: tuple[str, ...]) -> None:
    """A pool worker: die with the batch (a killed batch leaves no worker), and import once the libraries
    every grading needs."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    for name in libraries:
        importlib.import_module(name)


@contextlib.contextmanager
def warm_workers(workers: int, libraries: Iterable[str] = ("numpy", "torch")) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of ``workers`` grading processes that import ``libraries`` first (a lab's ``preload``: a NumPy
    lab's workers need no torch); None for one worker: the caller grades in-process."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_warm_worker,
                             initargs=(tuple(libraries),)) as pool:
        yield pool


@dataclass
class Job:
    """One submission to grade."""

    submission: Submission
    payload: Payload
    id: str


@dataclass
class BatchSummary:
    """What a batch did."""

    graded: list[dict] = field(default_factory=list)  # results written now
    skipped: list[str] = field(default_factory=list)  # students whose submission was already graded
    duplicates: int = 0  # results that arrived twice and were written once
    seconds: float = 0.0


def plan(course: Course, lab_id: str, submissions: list[Submission], gradebook: Gradebook,
         force: bool) -> tuple[list[Job], list[str]]:
    """The jobs to run (each submission read into memory), and the students already graded."""
    lab = course.lab(lab_id)
    version, run = lab_version(lab), (str(time.time_ns()) if force else "")
    jobs, skipped = [], []
    for submission in submissions:
        payload = submission.payload()
        if not force and gradebook.has(submission.student, lab_id, payload.content_hash, version, __version__):
            skipped.append(submission.student)
            continue
        jobs.append(Job(submission, payload, job_id(submission.student, lab_id, payload.content_hash, version,
                                                    __version__, run)))
    return jobs, skipped


def run_batch(course: Course, lab_id: str, submissions: list[Submission], gradebook: Gradebook, workers: int = 1,
              force: bool = False, data_dir: Path | None = None, dask: str | None = None,
              on_result: Callable[[Job, dict], None] | None = None,
              on_plan: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Grade every submission not graded yet into the gradebook; ``on_result`` after each is written."""
    start = time.monotonic()
    jobs, skipped = plan(course, lab_id, submissions, gradebook, force)
    if on_plan:
        on_plan(len(jobs), len(skipped))
    summary = BatchSummary(skipped=skipped)
    version = lab_version(course.lab(lab_id))
    results = _run_dask(dask, course, lab_id, jobs, data_dir) if dask else \
        _run_local(course, lab_id, jobs, workers, data_dir)
    for job, result in results:
        attempt = gradebook.record(job.id, job.submission.student, lab_id, job.payload.content_hash, version,
                                   __version__, result)
        if attempt is None:
            summary.duplicates += 1
            continue
        summary.graded.append(result)
        if on_result:
            on_result(job, result)
    summary.seconds = round(time.monotonic() - start, 2)
    return summary


def _run_local(course: Course, lab_id: str, jobs: list[Job], workers: int,
               data_dir: Path | None) -> Iterator[tuple[Job, dict]]:
    root, data = str(course.root), str(data_dir) if data_dir else None
    if workers <= 1:
        for job in jobs:
            yield job, grade_payload(root, lab_id, job.payload, data)
        return
    with warm_workers(workers, course.lab(lab_id).grader_preload) as pool:
        pending: dict[Future, Job] = {}
        queue = iter(jobs)
        try:
            for job in queue:  # keep at most two jobs per worker in flight: a kill loses little work
                pending[pool.submit(grade_payload, root, lab_id, job.payload, data)] = job
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    yield job, future.result()
                    for next_job in queue:
                        pending[pool.submit(grade_payload, root, lab_id, next_job.payload, data)] = next_job
                        break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_dask(address: str, course: Course, lab_id: str, jobs: list[Job],
              data_dir: Path | None) -> Iterator[tuple[Job, dict]]:
    from distributed import Client, as_completed  # an optional dependency: only a --dask batch needs it

    root, data = str(course.root), str(data_dir) if data_dir else None
    with Client(address) as client:
        futures = {client.submit(grade_payload, root, lab_id, job.payload, data, key=f"grade-{job.id}",
                                 pure=False): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
