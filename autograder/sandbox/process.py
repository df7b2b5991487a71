"""One running sandbox, seen from the grader: the pipes to and from its worker, its keeper's socket,
and what is held for it (a uid, a cgroup, a folder) until it is stopped.

Every wait has a deadline; frames are bounded before they are read (the length prefix against the
reply cap, then the header length against ``wire.MAX_HEADER_BYTES``) and read into one buffer that
decoding does not copy again; writes never block past their deadline.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import socket
import struct
import tempfile
import time
from typing import TYPE_CHECKING, Any

from autograder.sandbox import cgroups, isolation, procfs, uids, wire
from autograder.sandbox.api import Limits, StartError

if TYPE_CHECKING:
    from autograder.sandbox.pool import SandboxPool

STOP_PATIENCE = 10.0  # seconds for a keeper to kill its tree and report


class FrameError(Exception):
    """A reply that breaks the framing: too large, or not a frame at all."""


def _wait_readable(fds: list, deadline: float) -> list:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    ready = select.select(fds, [], [], remaining)[0]
    if not ready:
        raise TimeoutError
    return ready


def _reachable_temp() -> str:
    """Where a sandbox's folder can go: the temporary folder if every uid can reach it, else /tmp."""
    temp = os.path.realpath(tempfile.gettempdir())
    parts = temp.split("/")
    reachable = all(os.stat("/".join(parts[:end]) or "/").st_mode & 0o001 for end in range(1, len(parts) + 1))
    return temp if reachable else "/tmp"


class SandboxProcess:
    """A sandbox started by a fork server; ``stop`` kills its tree and releases what it held."""

    def __init__(self, pool: "SandboxPool", preload: tuple[str, ...], limits: Limits, hide: tuple[str, ...],
                 cpu_left: float, deadline: float):
        self.born = time.monotonic()  # before the fork: the sandbox is at most this old
        self.profile = pool.isolation.profile
        self.lease: uids.UidLease | None = None
        self.cgroup: cgroups.Cgroup | None = None
        self.folder: str | None = None
        self.report: dict | None = None
        self.keeper = 0
        self._fds: list[int] = []
        self._link: socket.socket | None = None
        try:
            plan = self._hold(limits, hide, cpu_left)
            self._fork(pool, preload, plan, deadline)
        except BaseException:
            self.stop()
            raise

    def _hold(self, limits: Limits, hide: tuple[str, ...], cpu_left: float) -> dict:
        """Take a uid, a cgroup and a folder as the profile needs; the fork server's plan."""
        root = os.geteuid() == 0
        try:
            if root and self.profile in ("A", "B"):
                self.lease = uids.UidLease.take()
            if self.profile == "B":
                uids.protect(hide)
        except uids.UidError as exc:
            raise StartError(str(exc)) from None
        if root:
            self.cgroup = cgroups.Cgroup.create(limits.memory_mb * 1024 * 1024, limits.processes)
        uid = self.lease.uid if self.lease else None
        if self.profile != "A":
            self.folder = tempfile.mkdtemp(prefix="autograder-sandbox-", dir=_reachable_temp())
            os.mkdir(f"{self.folder}/.tmp", 0o700)
            if uid is not None:
                for path in (self.folder, f"{self.folder}/.tmp"):
                    os.chown(path, uid, uid)
        return isolation.plan(self.profile, limits, hide, uid, self.cgroup, self.folder, cpu_left)

    def _fork(self, pool: "SandboxPool", preload: tuple[str, ...], plan: dict, deadline: float) -> None:
        request_read, self._to = os.pipe()
        self._from, reply_write = os.pipe()
        self._fds = [self._to, self._from]
        self._link, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.keeper = pool.fork(preload, plan, [request_read, reply_write, theirs.fileno()], deadline)
        finally:
            for fd in (request_read, reply_write):
                os.close(fd)
            theirs.close()
        os.set_blocking(self._to, False)
        message = self._link_message(deadline)
        if message is None or "started" not in message:
            error = (message or {}).get("error", "its keeper ended without a word")
            raise StartError(f"the sandbox could not be set up: {str(error)[:500]}")

    def _link_message(self, deadline: float) -> dict | None:
        """The keeper's next message, or None when it is gone."""
        try:
            _wait_readable([self._link], deadline)
            data = self._link.recv(4096)
            return json.loads(data) if data else None
        except (OSError, ValueError):
            return None

    def wait_ended(self, deadline: float) -> None:
        """Wait (until ``deadline``) for the keeper's report that the worker has ended."""
        if self.report is None and self._link is not None:
            self.report = self._link_message(deadline)

    def cpu_seconds(self, enough: float = 0.0) -> float:
        """CPU used by the sandbox so far (its final count once it ended). Counting it walks every process
        in /proc, so while the sandbox's age on every core of the machine (more than its process tree can
        have used) stays below ``enough``, that bound is returned instead."""
        if self.report is not None:
            return float(self.report.get("cpu", 0.0))
        most = (time.monotonic() - self.born) * (os.cpu_count() or 1)
        if most < enough:
            return most
        return procfs.tree_cpu(self.keeper) if self.keeper else 0.0

    def send(self, frame: bytes, deadline: float) -> None:
        """Write one length-prefixed frame; TimeoutError if the worker stops reading before ``deadline``,
        EOFError if it has ended."""
        for part in (struct.pack("<Q", len(frame)), frame):
            data = memoryview(part)
            while data:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [self._to], [], remaining)[1]:
                    raise TimeoutError
                try:
                    data = data[os.write(self._to, data):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise EOFError from None

    def _read_into(self, view: memoryview, deadline: float) -> None:
        done = 0
        while done < len(view):
            ready = _wait_readable([self._from, self._link], deadline)
            if self._from not in ready:  # the keeper spoke: the worker has ended
                raise EOFError
            count = os.readv(self._from, [view[done:]])
            if not count:
                raise EOFError
            done += count

    def receive(self, deadline: float, max_bytes: int) -> Any:
        """Read and decode one frame of at most ``max_bytes``; TimeoutError, EOFError (the worker ended),
        FrameError (too large: nothing of it was read) or wire.WireError (malformed)."""
        prefix = bytearray(8)
        self._read_into(memoryview(prefix), deadline)
        (size,) = struct.unpack("<Q", prefix)
        if size > max_bytes:
            raise FrameError(f"a reply of {size} bytes, over the {max_bytes}-byte limit")
        if size < 8:
            raise FrameError("a reply too short to be a frame")
        start = bytearray(8)  # the magic and the header's length, checked before the frame is allocated
        self._read_into(memoryview(start), deadline)
        (header,) = struct.unpack_from("<I", start, 4)
        if header > wire.MAX_HEADER_BYTES:
            raise FrameError(f"a reply header of {header} bytes, over the {wire.MAX_HEADER_BYTES}-byte limit")
        frame = bytearray(size)
        frame[:8] = start
        with memoryview(frame) as view:
            self._read_into(view[8:], deadline)
        return wire.decode(frame)

    def stop(self, patience: float = STOP_PATIENCE) -> dict:
        """Kill the sandbox's whole tree, release its uid, cgroup and folder; the keeper's report
        (the worker's ``code`` or ``signal``, and ``cpu``), empty if it gave none."""
        deadline = time.monotonic() + patience
        if self._link is not None:
            if self.report is None:
                try:
                    self._link.send(b"stop")
                except OSError:
                    pass
                self.report = self._link_message(deadline) or {}
            self._link.close()
            self._link = None
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self.report = self.report or {}
        if self.cgroup is not None:  # the keeper removes it; this is for a keeper that died
            cgroups.remove(self.cgroup.dirs, deadline)
            self.cgroup = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        return self.report
