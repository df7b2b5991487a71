"""A cgroup per sandbox, where the grader may make one: memory and process count for the sandbox's
whole process tree. cgroup v2 (``memory.max``, ``pids.max``) under the grader's own cgroup when that
is a delegated subtree with both controllers; otherwise cgroup v1 (``memory.limit_in_bytes``,
``pids.max``) under the grader's own memory and pids cgroups, which needs root. None where neither
works: the caller then falls back on per-process limits and says so."""
from __future__ import annotations

import functools
import itertools
import os
import secrets
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count()


def _own_paths() -> dict[str, str]:
    """The grader's cgroup per v1 controller ("" for v2), from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _v2_base() -> Path | None:
    own = _own_paths().get("")
    for mount in (ROOT, ROOT / "unified"):
        base = mount / (own or "/").lstrip("/")
        try:
            if {"memory", "pids"} <= set((base / "cgroup.subtree_control").read_text().split()) \
                    and os.access(base, os.W_OK):
                return base
        except OSError:
            continue
    return None


def _v1_bases() -> dict[str, Path] | None:
    own = _own_paths()
    bases = {name: ROOT / name / own.get(name, "/").lstrip("/") for name in ("memory", "pids")}
    if all((base / "cgroup.procs").exists() and os.access(base, os.W_OK) for base in bases.values()):
        return bases
    return None


@functools.cache
def version() -> str | None:
    """"v2" or "v1" where this process can make sandbox cgroups, else None."""
    if _v2_base() is not None:
        return "v2"
    if os.geteuid() == 0 and _v1_bases() is not None:
        return "v1"
    return None


class Cgroup:
    """One sandbox's cgroup(s): made with the caps set, joined by the sandbox's first process, killed
    and removed by the grader."""

    def __init__(self, dirs: list[Path], events: tuple[Path, str]):
        self.dirs = dirs
        self._events = events

    @classmethod
    def create(cls, memory_bytes: int, processes: int) -> "Cgroup | None":
        """A new cgroup capping memory and processes, or None where none can be made."""
        kind = version()
        if kind is None:
            return None
        name = f"autograder-{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        if kind == "v2":
            path = _v2_base() / name
            group = cls([path], (path / "memory.events", "oom_kill"))
            required = {path / "memory.max": memory_bytes, path / "pids.max": processes}
            optional = {path / "memory.swap.max": 0}
        else:
            bases = _v1_bases()
            memory, pids = bases["memory"] / name, bases["pids"] / name
            group = cls([memory, pids], (memory / "memory.oom_control", "oom_kill"))
            required = {memory / "memory.limit_in_bytes": memory_bytes, pids / "pids.max": processes}
            optional = {memory / "memory.memsw.limit_in_bytes": memory_bytes}
        try:
            for path in group.dirs:
                path.mkdir()
            for path, value in {**required, **{p: v for p, v in optional.items() if p.exists()}}.items():
                path.write_text(str(value))
        except OSError:
            group.remove(time.monotonic() + 1)
            return None
        return group

    @property
    def procs(self) -> list[str]:
        """The files the sandbox's first process writes its pid into."""
        return [str(path / "cgroup.procs") for path in self.dirs]

    def oom_kills(self) -> int:
        """How many processes the memory cap has killed so far."""
        path, key = self._events
        try:
            for line in path.read_text().splitlines():
                field, _, value = line.partition(" ")
                if field == key:
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def _pids(self) -> list[int]:
        found = set()
        for path in self.dirs:
            try:
                found.update(int(pid) for pid in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue
        return sorted(found)

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (``cgroup.kill`` where the kernel has it)."""
        kill_file = self.dirs[0] / "cgroup.kill"
        if kill_file.exists():
            try:
                kill_file.write_text("1")
                return
            except OSError:
                pass
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue

    def remove(self, deadline: float) -> bool:
        """Kill what is left and remove the cgroup, waiting until ``deadline``; whether it is gone."""
        pending = list(self.dirs)
        while pending:
            self.kill()
            for path in list(pending):
                try:
                    path.rmdir()
                    pending.remove(path)
                except FileNotFoundError:
                    pending.remove(path)
                except OSError:
                    continue
            if pending:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
        return True
