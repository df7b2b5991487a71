"""A cgroup per sandbox, where the grader may make one: memory and process count for the sandbox's
whole process tree (stdlib only: the fork server's keepers use it too). cgroup v2 (``memory.max``, ``pids.max``) under the grader's own cgroup when that
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


def oom_kills(dirs: list[str]) -> int:
    """How many processes the memory cap of these cgroup folders has killed."""
    for folder in dirs:
        for name in ("memory.events", "memory.oom_control"):
            try:
                for line in Path(folder, name).read_text().splitlines():
                    field, _, value = line.partition(" ")
                    if field == "oom_kill":
                        return int(value)
            except (OSError, ValueError):
                continue
    return 0


def kill(dirs: list[str]) -> None:
    """SIGKILL every process in these cgroup folders (``cgroup.kill`` where the kernel has it)."""
    for folder in dirs:
        try:
            Path(folder, "cgroup.kill").write_text("1")
            continue
        except OSError:
            pass
        try:
            pids = [int(pid) for pid in Path(folder, "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


def remove(dirs: list[str], deadline: float) -> bool:
    """Kill what is left in these cgroup folders and remove them, trying until ``deadline``; whether
    they are gone. Used by the grader and, in case the grader died, by the sandbox's keeper."""
    pending = list(dirs)
    while pending:
        kill(pending)
        for folder in list(pending):
            try:
                os.rmdir(folder)
                pending.remove(folder)
            except FileNotFoundError:
                pending.remove(folder)
            except OSError:
                continue
        if pending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
    return True


class Cgroup:
    """One sandbox's cgroup folders (one for v2; memory and pids for v1), made with the caps set and
    joined by the sandbox's first process."""

    def __init__(self, dirs: list[str]):
        self.dirs = dirs

    @classmethod
    def create(cls, memory_bytes: int, processes: int) -> "Cgroup | None":
        """A new cgroup capping memory and processes, or None where none can be made."""
        kind = version()
        if kind is None:
            return None
        name = f"autograder-{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        if kind == "v2":
            path = _v2_base() / name
            folders = [path]
            required = {path / "memory.max": memory_bytes, path / "pids.max": processes}
            optional = {path / "memory.swap.max": 0}
        else:
            bases = _v1_bases()
            memory, pids = bases["memory"] / name, bases["pids"] / name
            folders = [memory, pids]
            required = {memory / "memory.limit_in_bytes": memory_bytes, pids / "pids.max": processes}
            optional = {memory / "memory.memsw.limit_in_bytes": memory_bytes}
        group = cls([str(folder) for folder in folders])
        try:
            for folder in folders:
                folder.mkdir()
            for path, value in {**required, **{p: v for p, v in optional.items() if p.exists()}}.items():
                path.write_text(str(value))
        except OSError:
            remove(group.dirs, time.monotonic() + 1)
            return None
        return group

    @property
    def procs(self) -> list[str]:
        """The files the sandbox's first process writes its pid into."""
        return [f"{folder}/cgroup.procs" for folder in self.dirs]
