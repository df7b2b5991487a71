"""Isolation profiles, strongest first, chosen once at start-up and recorded in every result.

A  Linux namespaces (``unshare``): a private filesystem view holding only the system, the Python
   install and the sandbox folder; private PID, network, IPC and UTS namespaces; as root, a real
   unprivileged uid (``setpriv``), as a user, a user namespace.
B  no namespaces, but the grader is root (a container such as Gradescope's): a separate unprivileged
   uid and resource limits.
C  a laptop: a separate process and resource limits only. Shown with a warning.

Every profile adds resource limits (``prlimit``) and kills the sandbox's whole process tree.
"""
from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.result import Isolation

SANDBOX_UID = 65534  # nobody
SANDBOX_DIR = "/sandbox"  # where the sandbox folder appears inside profile A's filesystem view
PROFILE_ENV = "AUTOGRADER_ISOLATION"  # force a weaker profile (A, B or C), e.g. for tests

DESCRIPTIONS = {
    "A": "Linux namespaces: private filesystem view, PID and network namespaces, {uid}, resource limits",
    "B": "separate unprivileged uid and resource limits (no namespaces available)",
    "C": "separate process and resource limits only",
}
WARNING_C = ("weakest isolation: the student's code runs as your own user and could read your files; "
             "grade untrusted submissions on Linux with user namespaces, or as root in a container")


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unshare_flags() -> list[str]:
    flags = ["--mount", "--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child"]
    return flags if os.geteuid() == 0 else ["--user", "--map-root-user", *flags]


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest profile this machine supports (or the one forced by $AUTOGRADER_ISOLATION)."""
    forced = os.environ.get(PROFILE_ENV, "").upper()
    root = os.geteuid() == 0
    can_a = shutil.which("unshare") and _works(["unshare", *_unshare_flags(), "true"])
    can_b = root and shutil.which("setpriv") and _works(_drop_uid() + [sys.executable, "-c", "pass"])
    for profile, possible in (("A", can_a), ("B", can_b), ("C", True)):
        if possible and (not forced or forced <= profile):
            break
    uid = "unprivileged uid" if root else "user namespace (runs as you)"
    warning = WARNING_C if profile == "C" else None
    return Isolation(profile, DESCRIPTIONS[profile].format(uid=uid), warning)


def _drop_uid() -> list[str]:
    return ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "--no-new-privs"]


def _limits(memory_mb: int, cpu_total: int) -> list[str]:
    return ["prlimit", f"--data={memory_mb * 1024 * 1024}", f"--cpu={cpu_total}", "--nproc=64",
            f"--fsize={64 * 1024 * 1024}", "--nofile=256", "--core=0", "--"]


def sandbox_command(profile: str, folder: Path, python_args: list[str], memory_mb: int, cpu_total: int) -> list[str]:
    """The command that starts ``python python_args...`` in the sandbox folder under ``profile``."""
    inner = _limits(memory_mb, cpu_total) + [sys.executable, *python_args]
    root = os.geteuid() == 0
    if profile == "C":
        return inner
    if profile == "B":
        return _drop_uid() + inner
    script = _namespace_script(folder, (_drop_uid() if root else []) + inner)
    return ["unshare", *_unshare_flags(), "sh", "-c", script]


def _namespace_script(folder: Path, command: list[str]) -> str:
    """Shell run as (namespace) root inside fresh namespaces: build a minimal root, chroot, drop."""
    new = "/tmp/.autograder-root"
    lines = ["set -e", "mount --make-rprivate /", f"mkdir -p {new}", f"mount -t tmpfs -o mode=755,size=64m tmpfs {new}",
             f"mkdir -p {new}/dev {new}/proc {new}/tmp {new}{SANDBOX_DIR}",
             f"mount -t tmpfs -o mode=1777,size=256m tmpfs {new}/tmp"]  # before the binds: Python may live under /tmp
    for top in ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc"):
        if os.path.islink(top):
            lines.append(f"ln -s {shlex.quote(os.readlink(top))} {new}{top}")
        elif os.path.isdir(top):
            lines += _bind(top, f"{new}{top}", readonly=True)
    for prefix in sorted({sys.base_prefix, sys.prefix, str(Path(sys.executable).resolve().parent.parent)}):
        if not any(prefix.startswith(top + "/") for top in ("/usr", "/lib", "/bin")):
            lines += _bind(prefix, f"{new}{prefix}", readonly=True)
    for device in ("null", "zero", "random", "urandom"):
        lines += [f"touch {new}/dev/{device}", f"mount --bind /dev/{device} {new}/dev/{device}"]
    lines += [f"mount -t proc -o nosuid,nodev,noexec proc {new}/proc",
              *_bind(str(folder), f"{new}{SANDBOX_DIR}", readonly=False),
              f"cd {new}{SANDBOX_DIR}",
              # sh stays as the namespace's PID 1: the kernel spares PID 1 from signals it has no handler
              # for, so the worker must not be PID 1, or the CPU limit's SIGXCPU would never end it
              f"exec chroot {new} sh -c {shlex.quote('cd ' + SANDBOX_DIR + ' && ' + shlex.join(command))}"]
    return "\n".join(lines)


def _bind(source: str, target: str, readonly: bool) -> list[str]:
    src, dst = shlex.quote(source), shlex.quote(target)
    lines = [f"mkdir -p {dst}", f"mount --rbind {src} {dst}"]
    if readonly:
        lines.append(f"mount -o remount,bind,ro,nosuid,nodev {dst}")
    return lines


def prepare_folder(folder: Path, profile: str) -> None:
    """Hand the sandbox folder to the sandbox's user."""
    if os.geteuid() == 0 and profile in ("A", "B"):
        for path in (folder, *folder.rglob("*")):
            os.chown(path, SANDBOX_UID, SANDBOX_UID)
