"""Isolation profiles, strongest first, chosen once at start-up and recorded in every result; and the
plan (plain data) that tells the fork server how to confine one sandbox under a profile.

A  Linux namespaces: a private root entered with pivot_root (old root detached) holding only the
   system, the Python install and a private tmpfs; private PID, network, IPC and UTS namespaces; as
   root a real unprivileged uid of its own, as a user a user namespace of its own.
B  no namespaces, but the grader is root (a container such as Gradescope's): an unprivileged uid and
   a private 0700 folder of its own per sandbox; the paths to hide lose their world permissions.
C  a laptop: a separate process and resource limits only. Shown with a warning.

Every profile drops every capability, sets no_new_privs and a seccomp filter, sets resource limits
before the submission is imported, and kills the sandbox's whole process tree at the end.
"""
from __future__ import annotations

import ctypes.util
import functools
import os
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

from autograder.result import Isolation
from autograder.sandbox import cgroups, uids
from autograder.sandbox.api import Limits

HERE = Path(__file__).resolve().parent
ZYGOTE = HERE / "zygote.py"
PROFILE_ENV = "AUTOGRADER_ISOLATION"  # force a weaker profile (A, B or C), e.g. for tests
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
DISK_POLL = 0.25  # seconds between two measures of what a sandbox without a private tmpfs wrote
SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")

DESCRIPTIONS = {
    "A": "Linux namespaces: private root (pivot_root), PID, network, IPC and UTS namespaces, {uid}, "
         "no capabilities, seccomp, resource limits",
    "B": "a separate unprivileged uid and private folder per sandbox, no capabilities, seccomp, resource limits "
         "(no namespaces available)",
    "C": "separate process, seccomp and resource limits only",
}
WARNING_C = ("weakest isolation: the student's code runs as your own user and could read your files; "
             "grade untrusted submissions on Linux with user namespaces, or as root in a container")


def zygote_command(*args: str) -> list[str]:
    """The command that runs the fork server (or one of its checks) with this interpreter."""
    return [sys.executable, "-E", "-s", "-B", str(ZYGOTE), *args]


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, env=SANDBOX_ENV, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def python_paths() -> list[str]:
    """What a sandbox needs to see of the Python install: the interpreter's prefixes and the venv."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             str(Path(sys.executable).resolve().parent.parent)}
    return sorted(found)


def _readable_by_sandbox() -> list[str]:
    """Files a sandbox uid must be able to read for the warm interpreter to keep importing."""
    return [os.__file__, sysconfig.get_paths()["purelib"], str(Path(sys.executable).resolve())]


_detecting = threading.Lock()


def detect_isolation() -> Isolation:
    """The strongest profile this machine supports (or the one forced by $AUTOGRADER_ISOLATION), found once
    per process. One check at a time: a caller waits for a check begun in another thread (``start_shared``
    starts one beside the fork server) and takes its answer."""
    with _detecting:
        return _strongest_profile()


@functools.cache
def _strongest_profile() -> Isolation:
    forced = os.environ.get(PROFILE_ENV, "").upper()
    root = os.geteuid() == 0
    for profile in ("A", "B", "C"):
        if forced and forced > profile:
            continue
        if profile == "A" and _works(zygote_command("check", "A", "0")):
            break
        if profile == "B" and root and _works(zygote_command("check", "B", str(uids.uid_range()[0]),
                                                             *_readable_by_sandbox())):
            break
    uid = "an unprivileged uid of its own" if root else "a user namespace of its own (runs as you)"
    warning = WARNING_C if profile == "C" else None
    if not seccomp_available():
        warning = ((warning + "; ") if warning else "") + "no seccomp filter (libseccomp is not installed)"
    return Isolation(profile, DESCRIPTIONS[profile].format(uid=uid), warning)


detect_isolation.cache_clear = _strongest_profile.cache_clear  # type: ignore[attr-defined]  # tests re-detect


@functools.cache
def seccomp_available() -> bool:
    return ctypes.util.find_library("seccomp") is not None


def _root_layout(hide: tuple[str, ...]) -> dict:
    binds, symlinks = [], []
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            symlinks.append([top, os.readlink(top)])
        elif os.path.isdir(top):
            binds.append([top, True])
    for prefix in python_paths():
        if not any(prefix == source or prefix.startswith(source + "/") for source, _ in binds):
            binds.append([prefix, True])
    return {"binds": binds, "symlinks": symlinks, "hide": [os.path.realpath(path) for path in hide]}


def _user_processes() -> int:
    uid = os.getuid()
    return sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit() and _owned(entry, uid))


def _owned(entry: Path, uid: int) -> bool:
    try:
        return entry.stat().st_uid == uid
    except OSError:
        return False


def plan(profile: str, limits: Limits, hide: tuple[str, ...], uid: int | None, cgroup: cgroups.Cgroup | None,
         folder: str | None, cpu_left: float) -> dict:
    """How the fork server confines one sandbox (JSON data; see ``confine.py`` and ``zygote.py``)."""
    mib = 1024 * 1024
    processes = limits.processes
    if profile == "C" and os.geteuid() != 0:  # RLIMIT_NPROC counts every process of your user here
        processes += _user_processes()
    cpu = max(int(cpu_left) + 1, 1)
    home = "/sandbox" if profile == "A" else folder
    return {
        "profile": profile,
        "uid": uid, "gid": uid,
        "userns": profile == "A" and os.geteuid() != 0,
        "cgroups": cgroup.procs if cgroup else [],
        "folder": folder,
        "seccomp": seccomp_available(),
        "env": {**SANDBOX_ENV, "HOME": home, "TMPDIR": "/tmp" if profile == "A" else f"{folder}/.tmp"},
        "rlimits": {"DATA": [limits.memory_mb * mib] * 2, "CPU": [cpu, cpu], "NPROC": [processes] * 2,
                    "FSIZE": [limits.disk_mb * mib] * 2, "NOFILE": [256, 256], "CORE": [0, 0],
                    "MSGQUEUE": [0, 0]},
        "root": {**_root_layout(hide), "disk_mb": limits.disk_mb, "inodes": limits.files} if profile == "A" else None,
        "disk": {"bytes": limits.disk_mb * mib, "files": limits.files, "poll": DISK_POLL},
    }


def describe_limits(profile: str, limits: Limits, cgroup: bool) -> str:
    """The effective caps of one sandbox, as recorded in the result."""
    if cgroup:
        memory = f"memory: {limits.memory_mb} MiB for the whole process tree (cgroup {cgroups.version()})"
    else:
        memory = (f"memory: {limits.memory_mb} MiB per process, at most {limits.processes} processes, so up to "
                  f"{limits.memory_mb * limits.processes} MiB in all (no cgroup available)")
    processes = {
        "A": f"at most {limits.processes} (a user namespace of its own)" if os.geteuid() != 0 else
             f"at most {limits.processes} (a uid of its own)",
        "B": f"at most {limits.processes} (a uid of its own)",
        "C": f"{limits.processes} more than your user runs (a count shared with your other processes)"}[profile]
    if cgroup:
        processes += f", and at most {limits.processes} in its pids cgroup"
    disk = (f"writable space: a private {limits.disk_mb} MiB tmpfs of at most {limits.files} files"
            if profile == "A" else
            f"writable space: {limits.disk_mb} MiB and {limits.files} files, measured every "
            f"{DISK_POLL} s (the sandbox is stopped past them), each file at most {limits.disk_mb} MiB, removed "
            "at the end")
    return f"{memory}; processes: {processes}; {disk}"
