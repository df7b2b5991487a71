"""Sandbox uids, when the grader is root: one uid (and gid of the same number) per concurrent sandbox,
so that sandboxes share no files, no process limit (RLIMIT_NPROC counts per uid) and no signals.

The range comes from $AUTOGRADER_SANDBOX_UIDS ("FIRST-LAST", default 50000-50999); numbers that name
a user or group in /etc/passwd or /etc/group are skipped. A uid is leased by holding an exclusive
flock on its lock file in a root-only folder, so concurrent grader processes never share one; the
lease is dropped when the process ends, however it ends. Before a uid is used, and after, every
process it still has is killed and whatever it left in the shared temporary folders is removed.

Paths the sandbox must not read (the kit's hidden material, ``SandboxSpec.hide``) lose their world
permissions: sandbox uids are neither their owner nor in their group.

Stdlib only: the fork server's keepers use it too (to kill by uid, to measure and remove what a uid wrote).
"""
from __future__ import annotations

import fcntl
import grp
import os
import pwd
import re
import shutil
import signal
import stat
import time
from pathlib import Path
from typing import Iterator

UIDS_ENV = "AUTOGRADER_SANDBOX_UIDS"
DEFAULT_UIDS = "50000-50999"
LOCK_DIR = Path("/run/autograder-uids")
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")


class UidError(RuntimeError):
    """No sandbox uid can be had (range used up, or misconfigured)."""


def uid_range() -> range:
    text = os.environ.get(UIDS_ENV, DEFAULT_UIDS)
    try:
        first, last = (int(part) for part in text.split("-"))
    except ValueError:
        raise UidError(f"${UIDS_ENV} must look like FIRST-LAST, not {text!r}") from None
    if not 0 < first <= last:
        raise UidError(f"${UIDS_ENV}={text!r} is not a range of non-root uids")
    return range(first, last + 1)


def _taken(uid: int) -> bool:
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            continue
    return False


def _lock_dir() -> Path:
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    info = LOCK_DIR.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise UidError(f"{LOCK_DIR} must be a directory owned by root with mode 0700")
    return LOCK_DIR


class UidLease:
    """One sandbox uid, held until ``release``."""

    def __init__(self, uid: int, lock: int):
        self.uid = self.gid = uid
        self._lock = lock

    @classmethod
    def take(cls) -> "UidLease":
        folder = _lock_dir()
        for uid in uid_range():
            if _taken(uid):
                continue
            fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            lease = cls(uid, fd)
            lease.scrub()
            return lease
        raise UidError(f"every sandbox uid in {uid_range()} is in use (set ${UIDS_ENV} to a larger range)")

    def scrub(self) -> None:
        """Kill what this uid still runs and remove what it left in shared temporary folders."""
        kill_uid(self.uid)
        remove_files_of(self.uid)

    def release(self) -> None:
        if self._lock >= 0:
            self.scrub()
            os.close(self._lock)
            self._lock = -1


_STATUS = re.compile(rb"\nState:\s+(\S).*?\nUid:\s+(\d+)\s+(\d+)\s+(\d+)", re.DOTALL)


def processes_of(uid: int) -> list[int]:
    """The live (not zombie) processes whose real, effective or saved uid is ``uid``."""
    found, wanted = [], str(uid).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as file:
                match = _STATUS.search(file.read(2048))
        except OSError:
            continue
        if match and match[1] != b"Z" and wanted in match.groups()[1:]:
            found.append(int(entry))
    return found


def kill_uid(uid: int, patience: float = 10.0) -> bool:
    """SIGKILL every process of ``uid`` until none is left (or ``patience`` seconds pass); whether none is."""
    deadline = time.monotonic() + patience
    while pids := processes_of(uid):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        if time.monotonic() > deadline:
            return False
    return True


def owned_entries(uid: int) -> Iterator[os.DirEntry]:
    """What ``uid`` owns in the shared temporary folders, topmost entries only (looking only into
    folders it could write to: everything it made is there)."""
    pending = [top for top in SHARED_TMP if os.path.isdir(top) and not os.path.islink(top)]
    seen: set[tuple[int, int]] = set()
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                yield entry
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002 and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                pending.append(entry.path)


def remove_files_of(uid: int) -> None:
    """Remove every file and folder ``uid`` owns in the shared temporary folders."""
    for entry in list(owned_entries(uid)):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            Path(entry.path).unlink(missing_ok=True)


def usage(paths: list[str]) -> tuple[int, int]:
    """Bytes on disk and number of entries under ``paths`` (symbolic links not followed)."""
    size = count = 0
    pending = list(paths)
    while pending:
        path = pending.pop()
        try:
            info = os.lstat(path)
        except OSError:
            continue
        size += info.st_blocks * 512
        count += 1
        if stat.S_ISDIR(info.st_mode):
            try:
                pending += [entry.path for entry in os.scandir(path)]
            except OSError:
                continue
    return size, count


def protect(paths: tuple[str, ...]) -> None:
    """Take world read, write and search permission away from each path, so that no sandbox uid can
    read it; raise UidError naming a path where that cannot be done."""
    for path in paths:
        try:
            info = os.stat(path)
            if info.st_mode & 0o007:
                os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o007)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UidError(f"cannot keep {path} from the sandbox ({exc.strerror}); make it unreadable to other "
                           "users, or grade where namespaces are available") from None
