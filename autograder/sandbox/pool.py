"""Warm starts: fork servers (``zygote.py``) kept by the grader, one per set of preloaded modules.

    with SandboxPool() as pool:          # or shared_pool(), the process-wide one
        pool.start(("numpy", "torch"))   # optional: begin the imports now, in the background
        sandbox = pool.sandbox(spec)     # a Sandbox forked from the warm server

A pool made with ``warm=False`` starts a fresh server that preloads nothing for every sandbox: a cold
start through the same confinement code. A fork server dies with the grader (PR_SET_PDEATHSIG, which
the kernel ties to the *thread* that started it: start pools from a thread that outlives them, such as
the main thread), and is replaced if it dies before.
"""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import tempfile
import threading
import time
from typing import TYPE_CHECKING

from autograder.result import Isolation
from autograder.sandbox import cleanup
from autograder.sandbox.api import SandboxSpec, StartError
from autograder.sandbox.isolation import PROFILE_ENV, SANDBOX_ENV, detect_isolation, seccomp_available, \
    zygote_command

if TYPE_CHECKING:
    from autograder.sandbox.client import Sandbox

DEFAULT_PRELOAD = SandboxSpec.__dataclass_fields__["preload"].default


def needs_user_namespace(profile: str) -> bool:
    """Whether a fork server for ``profile`` enters a user namespace of its own (profile A without root)."""
    return profile == "A" and os.geteuid() != 0


class Zygote:
    """One fork server process and the socket it takes requests on."""

    def __init__(self, profile: str, preload: tuple[str, ...]):
        self.preload = preload
        self.userns = needs_user_namespace(profile)
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile()
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        userns = "1" if self.userns else "0"
        seccomp = "1" if seccomp_available() else "0"
        try:
            self.process = subprocess.Popen(
                zygote_command("serve", str(theirs.fileno()), str(os.getpid()), userns, seccomp, *preload),
                env=SANDBOX_ENV, cwd="/", stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                pass_fds=(theirs.fileno(),), start_new_session=True)
        finally:
            theirs.close()
        self.ready = False

    def _message(self, deadline: float) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self._socket], [], [], remaining)[0]:
            raise StartError("the fork server did not answer in time")
        data = self._socket.recv(65536)
        if not data:
            raise StartError(f"the fork server ended: {self._log_tail()}")
        return json.loads(data)

    def _log_tail(self, size: int = 2000) -> str:
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - size))
        return self._log.read().decode(errors="replace").strip() or "no output"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, plan: dict, fds: list[int], deadline: float) -> int:
        """Ask for one sandbox; the pid of its keeper. A server that fails to answer is stopped (a late
        answer must never be taken for the next request's)."""
        with self._lock:
            try:
                if not self.ready:
                    self._message(deadline)
                    self.ready = True
                try:
                    socket.send_fds(self._socket, [json.dumps(plan).encode()], fds)
                except OSError as exc:
                    raise StartError(f"the fork server is gone ({exc.strerror})") from None
                answer = self._message(deadline)
            except StartError:
                self.close()
                raise
        if "keeper" not in answer:
            raise StartError(f"the fork server refused: {answer.get('error', answer)}")
        return int(answer["keeper"])

    def close(self) -> None:
        """Stop the server at once: it holds nothing of value, and the sandboxes it forked live on (their
        keepers are not its to kill) until they are stopped."""
        self._socket.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


class SandboxPool:
    """Fork servers for one isolation profile, started on demand and kept warm (unless ``warm=False``)."""

    def __init__(self, isolation: Isolation | None = None, warm: bool = True):
        self.isolation = isolation or detect_isolation()
        self.warm = warm
        self._zygotes: dict[tuple[str, ...], Zygote] = {}
        self._lock = threading.Lock()
        cleanup.register(self)

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, preload: tuple[str, ...] = DEFAULT_PRELOAD) -> None:
        """Start a warm server for ``preload`` now, if there is none (returns at once: it imports in
        the background)."""
        if self.warm:
            self._zygote(tuple(preload))

    def adopt(self, zygote: Zygote) -> bool:
        """Keep ``zygote``, started before this pool (see ``start_shared``), as the warm server for its
        preload, if it is what this pool would have started; False (and nothing kept) otherwise."""
        with self._lock:
            if not self.warm or zygote.userns != needs_user_namespace(self.isolation.profile) \
                    or zygote.preload in self._zygotes:
                return False
            self._zygotes[zygote.preload] = zygote
            return True

    def _zygote(self, preload: tuple[str, ...]) -> Zygote:
        with self._lock:
            for have, zygote in list(self._zygotes.items()):
                if not zygote.alive:
                    del self._zygotes[have]
                    zygote.close()
            if preload not in self._zygotes:  # never a server that preloaded more: a sandbox holds in memory
                # exactly what its lab preloads (a library the lab blocks stays out; its classes would be
                # reachable without an import, e.g. through object.__subclasses__())
                self._zygotes[preload] = Zygote(self.isolation.profile, preload)
            return self._zygotes[preload]

    def fork(self, preload: tuple[str, ...], plan: dict, fds: list[int], deadline: float) -> int:
        """Fork one sandbox from a server that has ``preload`` (a fresh, empty one when cold)."""
        if not self.warm:
            zygote = Zygote(self.isolation.profile, ())
            try:
                return zygote.fork(plan, fds, deadline)
            finally:
                zygote.close()
        zygote = self._zygote(tuple(preload))
        try:
            return zygote.fork(plan, fds, deadline)
        except StartError:
            if zygote.ready:  # it served before, so it died since: one more try with a fresh one
                return self._zygote(tuple(preload)).fork(plan, fds, deadline)
            raise

    def sandbox(self, spec: SandboxSpec) -> "Sandbox":
        """A sandbox for ``spec`` that starts from this pool's servers."""
        from autograder.sandbox.client import Sandbox

        return Sandbox(spec, self.isolation, pool=self)

    def close(self) -> None:
        with self._lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
        for zygote in zygotes:
            zygote.close()
        cleanup.unregister(self)


_shared: dict[str, SandboxPool] = {}
_early: list[Zygote] = []  # servers started by start_shared, until shared_pool takes them
_shared_lock = threading.Lock()


def start_shared(preload: tuple[str, ...]) -> None:
    """Start the process-wide pool's warm server for ``preload`` now (call it from the main thread), and
    this machine's isolation check beside it in a thread: the server's command depends on the profile
    only through the user namespace, predicted here (the forced profile, else A). ``shared_pool`` keeps the
    server if the check agrees, and starts another otherwise. Once a shared pool exists (a process that
    grades again), the profile is known: its server for ``preload`` is started there, or kept."""
    if _shared:
        shared_pool().start(preload)
        return
    threading.Thread(target=detect_isolation, name="isolation-check", daemon=True).start()
    _early.append(Zygote(os.environ.get(PROFILE_ENV, "").upper() or "A", tuple(preload)))


def shared_pool(isolation: Isolation | None = None) -> SandboxPool:
    """The process-wide warm pool for ``isolation`` (the detected profile by default)."""
    isolation = isolation or detect_isolation()
    with _shared_lock:
        pool = _shared.get(isolation.profile)
        if pool is None or pool.isolation != isolation:
            pool = _shared[isolation.profile] = SandboxPool(isolation)
        while _early:  # a server started before the isolation check (start_shared): kept if it fits
            zygote = _early.pop()
            if not pool.adopt(zygote):
                zygote.close()
        return pool
