"""The grader's side of the sandbox: one per lab per submission, restarted after a crash or a timeout,
its whole process tree killed at the end. Replies are plain data or a StudentError.

It knows nothing of labs or tests: it runs the files of a SandboxSpec and answers calls into its entry
module. Every request carries a fresh random id that its reply must echo (so frames written ahead of
time answer nothing); every field of a reply is capped and deduplicated here; every wait has a
deadline, and the submission's total wall and CPU budget bounds them all.
"""
from __future__ import annotations

import dataclasses
import secrets
import signal
import time
from typing import Any

from autograder.result import Isolation
from autograder.sandbox import bounded, cgroups, cleanup, wire
from autograder.sandbox.api import LineCount, Reply, SandboxSpec, StartError, StudentError
from autograder.sandbox.budget import Budget
from autograder.sandbox.isolation import describe_limits
from autograder.sandbox.pool import SandboxPool, shared_pool
from autograder.sandbox.process import FrameError, SandboxProcess

MAX_MESSAGES = 20  # distinct notes about cut replies kept in ``messages``


class Sandbox:
    """Runs probes on a submission in an isolated, resource-limited process tree."""

    def __init__(self, spec: SandboxSpec, isolation: Isolation | None = None, pool: SandboxPool | None = None):
        self.spec = spec
        self.limits = spec.limits
        self.pool = pool or shared_pool(isolation)
        self.isolation = self._effective(self.pool.isolation, cgroup=cgroups.version() is not None)
        self.budget = Budget(spec.limits)
        self.messages: list[str] = []
        self.violations: list[str] = []
        self._notes: dict[str, None] = {}
        self._violations: dict[str, None] = {}
        self._process: SandboxProcess | None = None
        self._fatal: StudentError | None = None
        self._max_reply = int(spec.limits.max_reply_mb) * 1024 * 1024
        cleanup.register(self)

    def _effective(self, isolation: Isolation, cgroup: bool) -> Isolation:
        """The profile with this sandbox's effective caps, and in profile C the paths it cannot hide."""
        warning = isolation.warning
        if isolation.profile == "C" and self.spec.hide:
            shown = ", ".join(self.spec.hide[:5]) + (f" and {len(self.spec.hide) - 5} more" if len(self.spec.hide) > 5 else "")
            warning = f"{warning}; the submission can read what should be hidden from it: {shown}"
        return dataclasses.replace(isolation, warning=warning,
                                   limits=describe_limits(isolation.profile, self.limits, cgroup))

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- calls -----------------------------------------------------------------------------------

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        """Run one probe; its Reply, or StudentError saying what went wrong. With ``trace``, the reply
        counts how often each line of the student's files ran."""
        if self._fatal:
            raise self._fatal
        self.budget.check(self._process.cpu_seconds(enough=self.budget.cpu_left()) if self._process else 0.0)
        if self._process is None:
            self._start()
        request_id = secrets.token_hex(16)
        request = {"id": request_id, "probe": probe, "args": args, "kwargs": kwargs, "cpu": float(self.limits.cpu),
                   "trace": trace}
        try:
            frame = wire.encode(request)
        except wire.WireError as exc:
            raise RuntimeError(f"probe {probe!r} was called with arguments the wire cannot carry: {exc}") from None
        deadline, by_budget = self.budget.deadline(timeout)
        start = time.monotonic()
        try:
            self._process.send(frame, deadline)
            reply = self._process.receive(deadline, self._max_reply)
        except TimeoutError:
            self._kill()
            if by_budget:
                raise self.budget.exhausted() from None
            raise StudentError("timeout", f"your code took longer than the {timeout:g} s time limit "
                                          "(an infinite loop, or a loop that should be vectorised?)",
                               limit="timeout") from None
        except EOFError:
            raise self._crashed() from None
        except (FrameError, wire.WireError) as exc:
            self._kill()
            raise StudentError("bad_output", f"the reply could not be used: {exc}") from None
        finally:
            self.budget.spend(wall=time.monotonic() - start)
        if type(reply) is not dict or reply.get("id") != request_id:
            self._kill()
            raise StudentError("bad_output", "the sandbox sent back a reply to no request (written ahead of time, "
                                             "or by your code instead of the grader's worker)")
        return self._unpack(reply, time.monotonic() - start)

    def _unpack(self, reply: dict, seconds: float) -> Reply:
        """Fail closed: only a well-formed 'ok' reply with a value is a result."""
        status = reply.get("status")
        if status not in ("ok", "error", "bad_output"):
            raise StudentError("bad_output", "the sandbox sent back something that is not a reply")
        output = bounded.text(reply.get("output"), bounded.MAX_OUTPUT)
        found = self._note_violations(reply.get("violations"))
        if found:
            raise StudentError("forbidden", f"your code called {found[0]}, which this lab forbids", output=output)
        if status == "bad_output":
            raise StudentError("bad_output", f"your code returned {bounded.name(reply.get('message')) or 'an unusable value'}",
                               output=output)
        if status == "error":
            self._raise_error(reply, output)
        if "value" not in reply:
            raise StudentError("bad_output", "the reply has no value")
        return Reply(reply["value"], output, self._line_counts(reply.get("lines")), round(seconds, 4))

    @staticmethod
    def _raise_error(reply: dict, output: str) -> None:
        kind, where = bounded.name(reply.get("type")) or "Exception", bounded.name(reply.get("where"))
        at = f" at {where}" if where else ""
        message = bounded.text(reply.get("message"))
        if kind == "NotImplementedError":
            raise StudentError("not_implemented", f"not implemented yet{at}: fill in its TODO region",
                               detail=message, output=output)
        if kind == "ForbiddenAPI":
            raise StudentError("forbidden", f"your code called an API this lab forbids{at}", detail=message,
                               output=output)
        raise StudentError("exception", f"your code raised {kind}{at}", detail=f"{kind}: {message}", output=output,
                           where=where, limit="memory" if kind == "MemoryError" else None)

    def _note(self, message: str) -> None:
        if message not in self._notes and len(self._notes) < MAX_MESSAGES:
            self._notes[message] = None
            self.messages.append(message)

    def _note_violations(self, values: Any) -> list[str]:
        """This reply's forbidden calls; the distinct ones join ``violations`` (capped)."""
        if type(values) is not list:
            return []
        found, cut = bounded.unique(values, bounded.MAX_ITEMS)
        added, more = bounded.unique(found, bounded.MAX_ITEMS, seen=self._violations)
        self.violations += added
        if cut or more:
            self._note(f"The sandbox reported more forbidden calls than the {bounded.MAX_ITEMS} kept; the rest were cut.")
        return found

    def _line_counts(self, value: Any) -> list[LineCount] | None:
        """A traced call's line counts, checked entry by entry, first of each line kept; None when untraced."""
        if type(value) is not list:
            return None
        counts: dict[tuple[str, int, str], LineCount] = {}
        for entry in value:
            if (type(entry) is list and len(entry) == 4 and type(entry[0]) is str and type(entry[1]) is int
                    and type(entry[2]) is str and type(entry[3]) is int and entry[3] >= 0):
                key = (bounded.name(entry[0]), entry[1], bounded.name(entry[2]))
                if key not in counts and len(counts) < bounded.MAX_LINES:
                    counts[key] = LineCount(*key, entry[3])
        if len(value) > len(counts):
            self._note(f"A traced call reported {len(value)} line counts; {len(counts)} distinct ones were kept.")
        return list(counts.values())

    # ---- start and end ---------------------------------------------------------------------------

    def _start(self) -> None:
        deadline, by_budget = self.budget.deadline(float(self.limits.startup))
        start = time.monotonic()
        try:
            self._handshake(deadline, by_budget)
        finally:
            self.budget.spend(wall=time.monotonic() - start)

    def _fail_to_start(self, detail: str) -> StudentError:
        self._kill()
        self._fatal = StudentError("sandbox", f"the sandbox could not start (profile {self.isolation.profile}): "
                                              f"{detail}")
        self.messages.append(f"No test could run: {self._fatal.message}. This is a problem with the grading "
                             "machine, not with the submission.")
        return self._fatal

    def _handshake(self, deadline: float, by_budget: bool) -> None:
        """Start a process, send it the configuration and files, and wait for the submission's import."""
        try:
            self._process = SandboxProcess(self.pool, self.spec.preload, self.limits, self.spec.hide,
                                           self.budget.cpu_left(), deadline)
        except StartError as exc:
            raise self._fail_to_start(str(exc)) from None
        self.isolation.limits = describe_limits(self.isolation.profile, self.limits, self._process.cgroup is not None)
        nonce = secrets.token_hex(16)
        config = {"id": nonce, "files": dict(self.spec.files), "entry": self.spec.entry,
                  "student_files": list(self.spec.student_files), "forbidden_names": list(self.spec.forbidden_names),
                  "forbidden_aten": list(self.spec.forbidden_aten), "hide": list(self.spec.hide),
                  "guards": self.spec.guards,
                  "cpu": float(self.limits.startup), "max_reply": self._max_reply}
        try:
            self._process.send(wire.encode(config), deadline)
            started = self._process.receive(deadline, self._max_reply)
        except (TimeoutError, EOFError, FrameError, wire.WireError) as exc:
            if by_budget and isinstance(exc, TimeoutError):
                self._kill()
                raise self.budget.exhausted() from None
            raise self._fail_to_start(f"no word from it ({type(exc).__name__})") from None
        if type(started) is dict and started.get("status") == "setup_error":
            raise self._fail_to_start(bounded.text(started.get("message"), 500))
        if started != {"id": nonce, "status": "started"}:
            raise self._fail_to_start("it answered out of turn")
        try:
            reply = self._process.receive(deadline, self._max_reply)
        except TimeoutError:
            self._kill()
            if by_budget:
                raise self.budget.exhausted() from None
            self._fatal = StudentError("import", "your code hung the process while being imported "
                                                 "(an endless loop at module level?)", limit="timeout")
            raise self._fatal from None
        except (EOFError, FrameError, wire.WireError):
            self._kill()
            self._fatal = StudentError("import", "your code ended the process while being imported "
                                                 "(sys.exit or os._exit at module level?)")
            raise self._fatal from None
        if type(reply) is dict and reply.get("id") == nonce and reply.get("status") == "import_error":
            self._kill()
            kind, where = bounded.name(reply.get("type")), bounded.name(reply.get("where"))
            self._fatal = StudentError("import", f"your code could not be imported: {kind}"
                                                 f"{' at ' + where if where else ''}", detail=bounded.text(reply.get("message")))
            raise self._fatal
        if reply != {"id": nonce, "status": "ready"}:
            self._kill()
            self._fatal = StudentError("import", "the sandbox did not start properly (did your code write to the "
                                                 "grader's channel?)")
            raise self._fatal

    def _crashed(self) -> StudentError:
        self._process.wait_ended(time.monotonic() + 5)  # its status, before a stop could overwrite it
        report = self._kill()
        code, sig = report.get("code"), report.get("signal")
        if sig == signal.SIGXCPU:
            return StudentError("crashed", f"your code used more than its {self.limits.cpu:g} s CPU time limit "
                                           "(an infinite loop, or a loop that should be vectorised?)", limit="cpu")
        if report.get("disk"):
            return StudentError("crashed", f"your code wrote more than the {self.limits.disk_mb} MiB or "
                                           f"{self.limits.files} files the sandbox may hold", limit="disk")
        if report.get("oom_kills"):
            return StudentError("crashed", f"the process running your code was killed: over the {self.limits.memory_mb} "
                                           "MiB memory limit", limit="memory")
        if sig == signal.SIGKILL:
            return StudentError("crashed", "the process running your code was killed "
                                           f"(over the {self.limits.memory_mb} MiB memory limit?)", limit="memory")
        what = f"signal {sig}" if sig else f"exit status {code}"
        return StudentError("crashed", f"the process running your code ended unexpectedly ({what}); "
                                       "does your code call sys.exit or os._exit, or use too much memory?")

    def _kill(self) -> dict:
        """Kill the sandbox's whole process tree and forget it; the next call starts a fresh one. Its
        keeper's report (exit status, CPU) is returned, and its CPU charged to the budget."""
        process, self._process = self._process, None
        if process is None:
            return {}
        report = process.stop()
        self.budget.spend(cpu=float(report.get("cpu", 0.0)))
        return report

    def close(self) -> None:
        self._kill()
        cleanup.unregister(self)
