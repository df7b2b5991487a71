"""What the sandbox takes and gives back: plain types, knowing nothing of labs or of the test API."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-sandbox resource limits. ``timeout`` (wall) and ``cpu`` are per call; ``startup`` bounds the
    start and the import of the submission."""

    timeout: float = 60.0
    cpu: float = 120.0
    memory_mb: int = 3072
    startup: float = 120.0


@dataclass(frozen=True)
class SandboxSpec:
    """What one sandbox runs: ``files`` (name -> source) are written into its working folder and
    ``entry`` (a module among them) is imported; ``student_files`` are the untrusted ones, whose frames
    locate errors and whose executed lines are counted on request. ``hide``: host paths the sandbox must
    not read (held-out data); the worker's guards refuse them too."""

    files: dict[str, str]
    student_files: tuple[str, ...]
    limits: Limits = Limits()
    entry: str = "probes"
    forbidden_names: tuple[str, ...] = ()
    forbidden_aten: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()


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

    def __init__(self, kind: str, message: str, detail: str = "", output: str = "", where: str = ""):
        super().__init__(message)
        self.kind = kind  # exception | not_implemented | timeout | crashed | import | bad_output | forbidden | sandbox
        self.message = message
        self.detail = detail  # the student's own exception text: shown for public tests only
        self.output = output  # what the student's code printed before failing: public tests only
        self.where = where  # the innermost frame of the student's files ("file line N"), if any


__all__ = ["Limits", "LineCount", "Reply", "SandboxSpec", "StudentError"]
