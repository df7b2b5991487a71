"""Thin ctypes wrappers for the Linux system calls the sandbox is built from: namespaces, mounts,
pivot_root, prctl, capabilities and seccomp (through libseccomp).

Runs in the fork server and its children, so it imports nothing from the autograder package.
Every wrapper raises OSError with the call's errno, like the ``os`` module does.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                   CLONE_NEWNET, CLONE_NEWTIME)

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
AT_RECURSIVE = 0x8000
AT_FDCWD = -100

CAP_SETPCAP = 8

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_MM = 35
PR_SET_PTRACER = 0x59616D61
# noroot, no_cap_ambient_raise, keep_caps off and no_setuid_fixup off, each locked
SECUREBITS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7)

_SYSCALLS = {  # the few calls glibc has no wrapper for (the new ones share one table on every arch)
    "x86_64": {"pivot_root": 155, "mount_setattr": 442},
    "aarch64": {"pivot_root": 41, "mount_setattr": 442},
}


def _check(result: int) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _syscall(name: str, *args: object) -> int:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        raise OSError(38, f"{name}: unsupported architecture {platform.machine()}")
    return _check(libc.syscall(ctypes.c_long(numbers[name]), *args))


def _path(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    _check(libc.unshare(ctypes.c_int(flags)))


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    _check(libc.mount(_path(source), _path(target), _path(fstype), ctypes.c_ulong(flags), _path(data)))


def umount2(target: str, flags: int = 0) -> None:
    _check(libc.umount2(_path(target), ctypes.c_int(flags)))


def pivot_root(new_root: str, put_old: str) -> None:
    _syscall("pivot_root", _path(new_root), _path(put_old))


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def make_readonly(path: str) -> None:
    """Make the mount at ``path`` and every mount below it read-only, nosuid and nodev."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    _syscall("mount_setattr", ctypes.c_int(AT_FDCWD), _path(path), ctypes.c_uint(AT_RECURSIVE),
             ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    return _check(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                             ctypes.c_ulong(0), ctypes.c_ulong(0)))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(libc.sethostname(raw, ctypes.c_size_t(len(raw))))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (always allowed: it only drops)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data))


def last_capability() -> int:
    with open("/proc/sys/kernel/cap_last_cap") as file:
        return int(file.read())


def capability_sets() -> dict[str, int]:
    """The process's capability sets as /proc/self/status shows them (CapInh, CapPrm, CapEff, CapBnd, CapAmb)."""
    with open("/proc/self/status") as file:
        return {key: int(value, 16) for key, _, value in (line.partition(":\t") for line in file)
                if key.startswith("Cap")}


@functools.cache
def seccomp_library() -> ctypes.CDLL:
    """libseccomp, loaded once (before a process enters a root where it may not be found)."""
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    return lib


class Seccomp:
    """A seccomp filter built with libseccomp: allow by default, deny the listed calls with EPERM."""

    ALLOW = 0x7FFF0000
    CMP_NE, CMP_EQ, CMP_MASKED_EQ = 1, 4, 7

    class _ArgCmp(ctypes.Structure):
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                    ("datum_b", ctypes.c_uint64)]

    def __init__(self) -> None:
        self.lib = seccomp_library()
        self.ctx = self.lib.seccomp_init(ctypes.c_uint32(self.ALLOW))
        if not self.ctx:
            raise OSError(12, "seccomp_init failed")

    @staticmethod
    def errno(number: int) -> int:
        return 0x00050000 | (number & 0xFFFF)

    def deny(self, name: str, errno: int = 1, *conditions: tuple[int, int, int, int]) -> None:
        """Deny ``name`` (when every (arg, op, a, b) condition holds) with ``errno``; unknown names are skipped."""
        number = self.lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:  # not a call on this architecture
            return
        array = (self._ArgCmp * max(len(conditions), 1))(*(self._ArgCmp(*c) for c in conditions))
        result = self.lib.seccomp_rule_add_array(ctypes.c_void_p(self.ctx), ctypes.c_uint32(self.errno(errno)),
                                                 ctypes.c_int(number), ctypes.c_uint(len(conditions)), array)
        if result < 0:
            raise OSError(-result, f"seccomp rule for {name}: {os.strerror(-result)}")

    def load(self) -> None:
        result = self.lib.seccomp_load(ctypes.c_void_p(self.ctx))
        if result < 0:
            raise OSError(-result, f"seccomp_load: {os.strerror(-result)}")
        self.lib.seccomp_release(ctypes.c_void_p(self.ctx))
