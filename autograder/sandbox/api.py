"""What the sandbox takes and gives back: plain types, knowing nothing of labs or of the test API."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-sandbox resource limits. ``timeout`` (wall) and ``cpu`` are per call; ``startup`` bounds the
    start and the import of the submission; ``total_wall`` and ``total_cpu`` bound the whole submission
    (every start and call together). ``memory_mb`` caps each process and, where a cgroup can be made,
    the whole process tree; ``processes`` counts threads too; ``disk_mb`` and ``files`` bound the
    writable space; ``max_reply_mb`` bounds one reply, checked before it is read."""

    timeout: float = 60.0
    cpu: float = 120.0
    memory_mb: int = 3072
    startup: float = 120.0
    total_wall: float = 900.0
    total_cpu: float = 900.0
    processes: int = 32
    disk_mb: int = 256
    files: int = 4096
    max_reply_mb: int = 64


@dataclass(frozen=True)
class SandboxSpec:
    """What one sandbox runs: ``files`` (name -> source) are written into its working folder and
    ``entry`` (a module among them) is imported; ``student_files`` are the untrusted ones, whose frames
    locate errors and whose executed lines are counted on request. ``hide`` lists host paths kept
    from the sandbox (covered in profile A, made unreadable to sandbox uids in B, named in C's
    warning); ``preload`` the modules a warm sandbox starts with (a lab that never needs torch says
    ``("numpy",)``)."""

    files: dict[str, str]
    student_files: tuple[str, ...]
    limits: Limits = Limits()
    entry: str = "probes"
    forbidden_names: tuple[str, ...] = ()
    forbidden_aten: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()  # host paths the sandbox must not read, even inside a directory it sees
    preload: tuple[str, ...] = ("numpy", "torch")  # what a warm start imports before forking
    guards: bool = True  # the run-time guards (guards.py); off only to test the confinement beneath them


@dataclass(frozen=True)
class LineCount:
    """How often one line of a student file ran during a traced call."""

    file: str
    line: int
    function: str
    count: int


@dataclass
class Reply:
    """A call's result, as plain data: the value, what the student's code printed (capped) and, for a
    traced call, how often each line of the student's files ran."""

    value: Any
    output: str = ""
    lines: list[LineCount] | None = None
    seconds: float = 0.0


class StudentError(Exception):
    """The student's code did not produce a usable value: it raised, hung, crashed or cheated."""

    def __init__(self, kind: str, message: str, detail: str = "", output: str = "", where: str = "",
                 limit: str | None = None):
        super().__init__(message)
        self.kind = kind  # exception | not_implemented | timeout | crashed | import | bad_output | forbidden | sandbox | budget
        self.limit = limit  # the resource limit hit: timeout | cpu | memory (None: none, or not known)
        self.message = message
        self.detail = detail  # the student's own exception text: shown for public tests only
        self.output = output  # what the student's code printed before failing: public tests only
        self.where = where  # the innermost frame of the student's files ("file line N"), if any


__all__ = ["Limits", "LineCount", "Reply", "SandboxSpec", "StudentError"]


class StartError(RuntimeError):
    """The sandbox could not be started: a problem of the grading machine, not of the submission."""
