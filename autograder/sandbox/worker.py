"""The sandbox side: imports the submission through the lab's probes and answers probe calls.

This file, ``wire.py`` and ``guards.py`` are copied into the sandbox folder with the submission; it imports
nothing from the autograder package. It trusts nothing it gets back from student code: every reply is
re-checked by the grader. The run-time guards (``guards.py``) are installed before the submission is
imported; the violations they record since the last reply go out with the next one (those of the import
with the first call's).
"""
from __future__ import annotations

import importlib
import io
import json
import os
import resource
import sys
import threading
import traceback

import guards
import wire

MAX_MESSAGE = 2000
MAX_OUTPUT = 10_000


def where(exc: BaseException, student_files: list[str]) -> str:
    """The innermost line of the student's own files in a traceback."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = os.path.basename(frame.filename)
        if name in student_files:
            return f"{name} line {frame.lineno}"
    return ""


def error_reply(exc: BaseException, student_files: list[str]) -> dict:
    kind = type(exc).__name__
    message = "called sys.exit()" if isinstance(exc, SystemExit) else str(exc)
    return {"status": "error", "type": kind[:100], "message": message[:MAX_MESSAGE], "where": where(exc, student_files)}


class CappedText(io.TextIOBase):
    """Where the student's prints go during a call: kept up to MAX_OUTPUT characters, the rest counted."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = MAX_OUTPUT - self.size
        self.parts.append(text[:max(room, 0)])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts) + (f"\n... [{self.dropped} more characters]" if self.dropped else "")
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class LineCounter:
    """Counts the line events of the student's files while active (sys.settrace, in every thread)."""

    def __init__(self, student_files: list[str]) -> None:
        self.files = set(student_files)
        self.counts: dict[tuple[str, int, str], int] = {}
        self._mine: dict[object, bool] = {}

    def _global(self, frame, event, arg):
        code = frame.f_code
        mine = self._mine.get(code)
        if mine is None:
            mine = self._mine[code] = os.path.basename(code.co_filename) in self.files
        return self._local if mine else None

    def _local(self, frame, event, arg):
        if event == "line":
            code = frame.f_code
            key = (os.path.basename(code.co_filename), frame.f_lineno, code.co_qualname)
            self.counts[key] = self.counts.get(key, 0) + 1
        return self._local

    def __enter__(self) -> "LineCounter":
        threading.settrace(self._global)
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc) -> None:
        sys.settrace(None)
        threading.settrace(None)

    def result(self) -> list:
        return [[file, line, function, count] for (file, line, function), count in sorted(self.counts.items())]


def read_request(stream) -> object:
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    return wire.decode(stream.read(int.from_bytes(header, "little")))


def call(probes, request: dict) -> object:
    return getattr(probes, request["probe"])(*request["args"], **request["kwargs"])


def answer(probes, request: dict, student_files: list[str], output: CappedText) -> dict:
    """Run one request; the reply, with what the student's code printed (and line counts if asked)."""
    counter = LineCounter(student_files) if request.get("trace") else None
    try:
        if counter:
            with counter:
                value = call(probes, request)
        else:
            value = call(probes, request)
        reply = {"status": "ok", "value": value}
        if counter:
            reply["lines"] = counter.result()
    except BaseException as exc:  # noqa: BLE001 - the student's failure is data, not our crash
        reply = error_reply(exc, student_files)
    reply["output"] = output.take()
    return reply


def set_cpu_budget(seconds: float) -> None:
    """Let this call use ``seconds`` more CPU time (SIGXCPU ends the process past it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def main() -> None:
    config = json.loads(open("config.json").read())
    requests = os.fdopen(config["fd_in"], "rb")
    replies = os.fdopen(config["fd_out"], "wb")
    os.close(0)
    sys.path.insert(0, os.getcwd())
    sys.setrecursionlimit(3000)
    student_files = config["student_files"]
    take_violations = guards.install(config["forbidden_names"], config["forbidden_aten"], student_files,
                                     config.get("hide", []), os.getcwd())
    output = CappedText()
    sys.stdout = sys.stderr = output
    wire.write_frame(replies, {"status": "started"})
    try:
        probes = importlib.import_module(config["entry"])
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, ImportError, SystemExit at import...
        wire.write_frame(replies, {**error_reply(exc, student_files), "status": "import_error", "output": output.take(),
                                   "violations": take_violations()})
        return
    wire.write_frame(replies, {"status": "ready"})
    while True:
        try:
            request = read_request(requests)
        except EOFError:
            return
        set_cpu_budget(request["cpu"])
        reply = answer(probes, request, student_files, output)
        reply["violations"] = take_violations()
        try:
            wire.write_frame(replies, reply)
        except Exception as exc:  # noqa: BLE001 - a value the wire cannot carry, however it fails
            wire.write_frame(replies, {"status": "bad_output", "message": str(exc)[:MAX_MESSAGE],
                                       "violations": reply["violations"] + take_violations()})


if __name__ == "__main__":
    main()
