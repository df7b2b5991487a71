"""The grader's side of the sandbox: one process per lab per submission, restarted after a crash or
a timeout, killed with its whole process tree at the end. Replies are plain data or a StudentError.
It knows nothing of labs or tests: it runs the files of a SandboxSpec and answers calls into its entry module."""
from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from autograder.result import Isolation
from autograder.sandbox import wire
from autograder.sandbox.api import LineCount, Reply, SandboxSpec, StudentError
from autograder.sandbox.isolation import SANDBOX_DIR, prepare_folder, sandbox_command

HERE = Path(__file__).resolve().parent
SANDBOX_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0"}


class Sandbox:
    """Runs probes on a submission in an isolated, resource-limited process."""

    def __init__(self, spec: SandboxSpec, isolation: Isolation):
        self.spec = spec
        self.limits = spec.limits
        self.isolation = isolation
        self.messages: list[str] = []
        self.violations: list[str] = []
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._fatal: StudentError | None = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        """Run one probe; its Reply, or StudentError saying what went wrong. With ``trace``, the reply
        counts how often each line of the student's files ran."""
        if self._fatal:
            raise self._fatal
        if self._process is None:
            self._start()
        request = {"probe": probe, "args": args, "kwargs": kwargs, "cpu": float(self.limits.cpu), "trace": trace}
        try:
            frame = wire.encode(request)
        except wire.WireError as exc:
            raise RuntimeError(f"probe {probe!r} was called with arguments the wire cannot carry: {exc}") from None
        start = time.monotonic()
        try:
            self._send(frame)
            reply = self._receive(timeout)
        except TimeoutError:
            self._kill()
            raise StudentError("timeout", f"your code took longer than the {timeout:g} s time limit "
                                          "(an infinite loop, or a loop that should be vectorised?)") from None
        except (BrokenPipeError, EOFError, ConnectionError):
            raise self._crashed() from None
        return self._unpack(reply, time.monotonic() - start)

    def _unpack(self, reply: Any, seconds: float) -> Reply:
        """Fail closed: only a well-formed 'ok' reply with a value is a result."""
        if type(reply) is not dict or reply.get("status") not in ("ok", "error", "bad_output"):
            raise StudentError("bad_output", "the sandbox sent back something that is not a reply")
        output = _text(reply.get("output"), MAX_OUTPUT)
        violations = reply.get("violations")
        found = [v for v in violations if type(v) is str] if type(violations) is list else []
        if found:
            self.violations += [v for v in found if v not in self.violations]
            raise StudentError("forbidden", f"your code called {found[0]}, which this lab forbids", output=output)
        if reply["status"] == "bad_output":
            raise StudentError("bad_output", f"your code returned {reply.get('message', 'an unusable value')}",
                               output=output)
        if reply["status"] == "error":
            return self._raise_error(reply, output)
        if "value" not in reply:
            raise StudentError("bad_output", "the reply has no value")
        return Reply(reply["value"], output, _line_counts(reply.get("lines")), round(seconds, 4))

    def _raise_error(self, reply: dict, output: str) -> None:
        kind, where = str(reply.get("type", "Exception")), str(reply.get("where", ""))
        at = f" at {where}" if where else ""
        message = str(reply.get("message", ""))
        if kind == "NotImplementedError":
            raise StudentError("not_implemented", f"not implemented yet{at}: fill in its TODO region",
                               detail=message, output=output)
        if kind == "ForbiddenAPI":
            raise StudentError("forbidden", f"your code called an API this lab forbids{at}", detail=message,
                               output=output)
        raise StudentError("exception", f"your code raised {kind}{at}", detail=f"{kind}: {message}", output=output,
                           where=where)

    def _start(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="autograder-sandbox-"))
        fd_in_read, fd_in_write = os.pipe()
        fd_out_read, fd_out_write = os.pipe()
        config = {"fd_in": fd_in_read, "fd_out": fd_out_write, "entry": self.spec.entry,
                  "student_files": list(self.spec.student_files), "forbidden_names": list(self.spec.forbidden_names),
                  "forbidden_aten": list(self.spec.forbidden_aten), "hide": list(self.spec.hide)}
        files = {**self.spec.files, "config.json": json.dumps(config),
                 **{name: (HERE / name).read_text() for name in ("worker.py", "wire.py", "guards.py")}}
        for name, text in files.items():
            (self._folder / name).write_text(text)
        prepare_folder(self._folder, self.isolation.profile)
        cwd = SANDBOX_DIR if self.isolation.profile == "A" else str(self._folder)
        command = sandbox_command(self.isolation.profile, self._folder, ["-E", "-s", f"{cwd}/worker.py"],
                                  int(self.limits.memory_mb), cpu_total=3600)
        self._output = tempfile.TemporaryFile()
        self._token = secrets.token_hex(8)
        env = {**SANDBOX_ENV, "AUTOGRADER_SANDBOX": self._token}
        self._process = subprocess.Popen(command, cwd=self._folder, env=env, stdin=subprocess.DEVNULL,
                                         stdout=self._output, stderr=self._output, pass_fds=(fd_in_read, fd_out_write),
                                         start_new_session=True)
        os.close(fd_in_read)
        os.close(fd_out_write)
        self._to_worker, self._from_worker = fd_in_write, fd_out_read
        startup = float(self.limits.startup)
        try:
            started = self._receive(startup)
        except (TimeoutError, EOFError, ConnectionError):
            self._fatal = StudentError("sandbox", f"the sandbox could not start (profile {self.isolation.profile}): "
                                                  f"{self._output_tail()}")
            self.messages.append(f"No test could run: {self._fatal.message}. This is a problem with the grading "
                                 "machine, not with the submission.")
            self._kill()
            raise self._fatal from None
        try:
            reply = self._receive(startup) if started == {"status": "started"} else started
        except (TimeoutError, EOFError, ConnectionError):
            self._kill()
            self._fatal = StudentError("import", "your code ended or hung the process while being imported "
                                                 "(sys.exit, os._exit or an endless loop at module level?)")
            raise self._fatal from None
        if type(reply) is dict and reply.get("status") == "import_error":
            self._kill()
            kind, where = str(reply.get("type", "")), str(reply.get("where", ""))
            self._fatal = StudentError("import", f"your code could not be imported: {kind}"
                                                 f"{' at ' + where if where else ''}",
                                       detail=str(reply.get("message", "")))
            raise self._fatal
        if reply != {"status": "ready"}:
            self._kill()
            self._fatal = StudentError("import", "the sandbox did not start properly")
            raise self._fatal

    def _output_tail(self, size: int = 2000) -> str:
        """The end of what the sandbox printed (for diagnosing a sandbox that will not start)."""
        self._output.seek(0, os.SEEK_END)
        self._output.seek(max(0, self._output.tell() - size))
        return self._output.read().decode(errors="replace").strip() or "no output"

    def _send(self, frame: bytes) -> None:
        data = struct.pack("<Q", len(frame)) + frame
        while data:
            data = data[os.write(self._to_worker, data):]

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self._from_worker], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(self._from_worker, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _receive(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        (size,) = struct.unpack("<Q", self._read_exact(8, deadline))
        if size > wire.MAX_FRAME_BYTES:
            self._kill()
            raise StudentError("bad_output", "your code sent back more data than the limit allows")
        try:
            return wire.decode(self._read_exact(size, deadline))
        except wire.WireError as exc:
            self._kill()
            raise StudentError("bad_output", f"the reply could not be read: {exc}") from None

    def _crashed(self) -> StudentError:
        code = self._process.wait() if self._process else None
        self._kill()
        if code is not None and code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return StudentError("crashed", f"your code used more than its {self.limits.cpu:g} s CPU time limit "
                                           "(an infinite loop, or a loop that should be vectorised?)")
        if code is not None and code in (-signal.SIGKILL, 128 + signal.SIGKILL):
            return StudentError("crashed", "the process running your code was killed "
                                           f"(over the {self.limits.memory_mb} MiB memory limit?)")
        return StudentError("crashed", f"the process running your code ended unexpectedly (exit status {code}); "
                                       "does your code call sys.exit or os._exit, or use too much memory?")

    def _kill(self) -> None:
        """Kill the sandbox's whole process tree and forget it; the next call starts a fresh one."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        kill_strays(self._token)
        for fd in (self._to_worker, self._from_worker):
            os.close(fd)
        self._output.close()
        shutil.rmtree(self._folder, ignore_errors=True)
        self._process = None

    def close(self) -> None:
        self._kill()


MAX_OUTPUT = 10_000  # characters of a call's captured output kept by the grader
MAX_LINES = 5_000  # traced lines kept by the grader


def _text(value: Any, limit: int) -> str:
    """A string field of a reply, capped by the grader (whatever the sandbox claims to have capped)."""
    if type(value) is not str:
        return ""
    return value if len(value) <= limit else value[:limit] + f"\n... [{len(value) - limit} more characters cut]"


def _line_counts(value: Any) -> list[LineCount] | None:
    """A traced call's line counts, checked entry by entry; None when the call was not traced."""
    if type(value) is not list:
        return None
    counts = []
    for entry in value[:MAX_LINES]:
        if (type(entry) is list and len(entry) == 4 and type(entry[0]) is str and type(entry[1]) is int
                and type(entry[2]) is str and type(entry[3]) is int and entry[3] >= 0):
            counts.append(LineCount(entry[0][:200], entry[1], entry[2][:200], entry[3]))
    return counts


def kill_strays(token: str) -> None:
    """Kill what escaped the process group (a double-forked daemon): every process whose environment
    carries this sandbox's token. In profile A the PID namespace has already taken care of it."""
    marker = f"AUTOGRADER_SANDBOX={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
