"""The confinement steps a sandbox goes through before student code runs, each applied from outside
the student's reach: namespaces, a private root entered with pivot_root, the uid drop, capabilities,
no_new_privs, seccomp and resource limits.

Runs in the fork server's children (see ``zygote.py``), so it imports nothing from the autograder
package. The steps take a *plan*: plain JSON data built by the grader (``isolation.py``).
"""
from __future__ import annotations

import errno
import os
import random
import resource
import signal
import sys

import linux

WORK_DIR = "/sandbox"  # where the working folder appears inside a private root
ROOT_CANDIDATES = ("/tmp", "/mnt", "/run", "/var/tmp", "/opt", "/srv", "/media", "/home")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "hosts", "alternatives")
DEVICES = ("null", "zero", "random", "urandom")
SOCKET_FAMILIES_DENIED = (2, 10, 17)  # AF_INET, AF_INET6, AF_PACKET: no network, whatever the profile
DENIED_CALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "open_by_handle_at", "name_to_handle_at",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "uselib", "vhangup", "iopl",
    "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "execve", "execveat",
)
DENIED_PRCTL = (linux.PR_SET_PDEATHSIG, linux.PR_SET_DUMPABLE, linux.PR_SET_PTRACER, linux.PR_SET_MM)


class ConfinementError(RuntimeError):
    """A confinement step failed: the sandbox must not start."""


# ---- namespaces --------------------------------------------------------------------------------------

def enter_user_namespace() -> None:
    """A new user namespace where this process is root, mapped to its current uid and gid. The process
    is dumpable only while it writes its own maps (a non-dumpable one cannot)."""
    uid, gid = os.geteuid(), os.getegid()
    linux.unshare(linux.CLONE_NEWUSER)
    linux.prctl(linux.PR_SET_DUMPABLE, 1)
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            try:
                with open(f"/proc/self/{name}", "w") as file:
                    file.write(text)
            except PermissionError:
                if name != "setgroups":  # an ancestor namespace already denies setgroups
                    raise
    finally:
        linux.prctl(linux.PR_SET_DUMPABLE, 0)


def enter_pid_namespace(user: bool) -> None:
    """A fresh PID namespace for the children (the caller stays outside it, with the host's files);
    first a user namespace of its own when ``user`` (so that the process count is this sandbox's alone)."""
    if user:
        enter_user_namespace()
    linux.unshare(linux.CLONE_NEWPID)


def enter_private_namespaces() -> None:
    """Fresh mount, network, IPC and UTS namespaces (by the sandbox's init, inside its PID namespace)."""
    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS)


# ---- the private root --------------------------------------------------------------------------------

def _mount_point(sources: list[str]) -> str:
    """A directory to build the new root on that hides none of the bind sources."""
    for candidate in ROOT_CANDIDATES:
        if os.path.isdir(candidate) and not os.path.islink(candidate) and \
                not any(source == candidate or source.startswith(candidate + "/") for source in sources):
            return candidate
    raise ConfinementError("no directory to build the private root on")


def _bind(source: str, target: str, readonly: bool) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    linux.mount(source, target, None, linux.MS_BIND | linux.MS_REC)
    if readonly:
        linux.make_readonly(target)


def _hide(new: str, path: str, empty_dir: str, empty_file: str) -> None:
    """Cover ``path`` (inside a bound directory) with an empty read-only directory or file."""
    target = new + path
    if not os.path.lexists(target) or os.path.islink(target):
        return
    linux.mount(empty_dir if os.path.isdir(target) else empty_file, target, None, linux.MS_BIND)
    linux.make_readonly(target)


def _write(path: str, text: str, mode: int = 0o644) -> None:
    with open(path, "w") as file:
        file.write(text)
    os.chmod(path, mode)


def build_root(plan: dict) -> str:
    """Build the private root described by ``plan["root"]`` on a fresh tmpfs; its path.

    It holds read-only binds of the system and the Python install, a minimal /etc, /dev with four
    devices, and one size- and inode-limited tmpfs seen as both the working folder and /tmp."""
    root = plan["root"]
    uid, gid = plan["uid"] or 0, plan["gid"] or 0
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    new = _mount_point([source for source, _ in root["binds"]])
    linux.mount("tmpfs", new, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    rw = f"{new}/.rw"
    os.mkdir(rw)
    linux.mount("tmpfs", rw, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV,
                f"mode=0755,size={root['disk_mb']}m,nr_inodes={root['inodes']}")
    for name, mode in (("work", 0o700), ("tmp", 0o1777), ("empty", 0o555)):
        os.mkdir(f"{rw}/{name}")
        os.chmod(f"{rw}/{name}", mode)
    os.chown(f"{rw}/work", uid, gid)
    _write(f"{rw}/empty.file", "", 0o444)
    for path, target in root["symlinks"]:
        os.symlink(target, new + path)
    # the writable folders first: a kit or venv that lives under /tmp is bound on top of the private /tmp
    for name, source in ((WORK_DIR, f"{rw}/work"), ("/tmp", f"{rw}/tmp")):
        _bind(source, new + name, readonly=False)
    for source, readonly in root["binds"]:
        _bind(source, new + source, readonly)
    for path in root["hide"]:
        _hide(new, path, f"{rw}/empty", f"{rw}/empty.file")
    os.makedirs(f"{new}/etc", exist_ok=True)
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            _bind(f"/etc/{name}", f"{new}/etc/{name}", readonly=True)
    _write(f"{new}/etc/passwd", f"root:x:0:0::/:/sbin/nologin\nsandbox:x:{uid}:{gid}::{WORK_DIR}:/sbin/nologin\n")
    _write(f"{new}/etc/group", f"root:x:0:\nsandbox:x:{gid}:\n")
    _build_dev(f"{new}/dev")
    os.mkdir(f"{new}/proc")
    linux.umount2(rw, linux.MNT_DETACH)
    os.rmdir(rw)
    return new


def _build_dev(dev: str) -> None:
    os.mkdir(dev)
    linux.mount("tmpfs", dev, "tmpfs", linux.MS_NOSUID | linux.MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64")
    for name in DEVICES:
        open(f"{dev}/{name}", "w").close()
        linux.mount(f"/dev/{name}", f"{dev}/{name}", None, linux.MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2"), ("shm", "/tmp")):
        os.symlink(target, f"{dev}/{name}")
    linux.mount(None, dev, None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NOEXEC)


def enter_root(new: str) -> None:
    """Mount /proc for this PID namespace, make ``new`` the root with pivot_root, detach the old root
    (nothing of it stays reachable) and make the new root read-only."""
    linux.mount("proc", f"{new}/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    os.chdir(new)
    linux.pivot_root(".", ".")
    linux.umount2(".", linux.MNT_DETACH)
    os.chdir("/")
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    linux.sethostname("sandbox")


# ---- the process -------------------------------------------------------------------------------------

def join_cgroups(procs_files: list[str]) -> None:
    """Move this process (and so all it will start) into the sandbox's cgroups."""
    for path in procs_files:
        with open(path, "w") as file:
            file.write(str(os.getpid()))


def keep_fds(fds: list[int]) -> None:
    """Close every file descriptor but ``fds`` (all above 2); 0, 1 and 2 become /dev/null."""
    null = os.open("/dev/null", os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    keep = sorted({0, 1, 2, *fds})
    for low, high in zip(keep, keep[1:] + [2 ** 31 - 1]):
        os.closerange(low + 1, high)


def first_for_the_oom_killer() -> None:
    """When memory runs out, the kernel kills this process (and its children) before the grader."""
    linux.prctl(linux.PR_SET_DUMPABLE, 1)  # a non-dumpable process cannot write its own /proc files
    try:
        with open("/proc/self/oom_score_adj", "w") as file:
            file.write("1000")
    finally:
        linux.prctl(linux.PR_SET_DUMPABLE, 0)


def fresh_randomness() -> None:
    """A process forked from a warm server must not share its random state with its siblings."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()


def apply_rlimits(limits: dict[str, list[int]]) -> None:
    """Set each limit (name like "DATA" -> [soft, hard], -1 for unlimited), never above the current hard one."""
    for name, (soft, hard) in limits.items():
        which = getattr(resource, f"RLIMIT_{name}")
        _, current = resource.getrlimit(which)
        hard = current if hard < 0 else (hard if current == resource.RLIM_INFINITY else min(hard, current))
        soft = hard if soft < 0 else (soft if hard == resource.RLIM_INFINITY else min(soft, hard))
        resource.setrlimit(which, (soft, hard))


def drop_privileges(uid: int | None, gid: int | None) -> None:
    """Become ``uid``/``gid`` (when given) with no supplementary groups, and lose every capability for
    good: bounding set, ambient set, securebits locked so that root regains nothing, no_new_privs. (A
    process that never had CAP_SETPCAP, an ordinary user's in profile C, cannot empty its bounding set;
    it has no capability to lose, and no_new_privs keeps it from gaining any.)"""
    bounding = bool(linux.capability_sets()["CapEff"] & (1 << linux.CAP_SETPCAP))
    if bounding:
        for cap in range(linux.last_capability() + 1):
            linux.prctl(linux.PR_CAPBSET_DROP, cap)
        linux.prctl(linux.PR_SET_SECUREBITS, linux.SECUREBITS)
    linux.prctl(linux.PR_CAP_AMBIENT, linux.PR_CAP_AMBIENT_CLEAR_ALL)
    if uid is not None and gid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    linux.clear_capabilities()
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    linux.prctl(linux.PR_SET_DUMPABLE, 0)
    left = {name: value for name, value in linux.capability_sets().items() if value and (bounding or name != "CapBnd")}
    if left:
        raise ConfinementError(f"capabilities left after the drop: {left}")
    if uid is not None and (os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid)):
        raise ConfinementError("the uid drop did not hold")


def die_with_parent(parent: int) -> None:
    """SIGKILL when the parent dies (set after the uid drop, which clears it); exit now if the parent
    is no longer ``parent`` (0 when it lies outside this PID namespace)."""
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def install_seccomp() -> None:
    """Deny what a lab never needs (see DENIED_CALLS), new namespaces through clone, and starting any
    program; clone3 answers ENOSYS so that the C library falls back to clone, whose flags are checked."""
    rules = linux.Seccomp()
    for name in DENIED_CALLS:
        rules.deny(name)
    rules.deny("clone3", errno.ENOSYS)
    for flag in linux.NAMESPACE_FLAGS:
        rules.deny("clone", errno.EPERM, (0, rules.CMP_MASKED_EQ, flag, flag))
    rules.deny("personality", errno.EPERM, (0, rules.CMP_NE, 0xFFFFFFFF, 0))  # querying it is fine
    for option in DENIED_PRCTL:
        rules.deny("prctl", errno.EPERM, (0, rules.CMP_EQ, option, 0))
    for family in SOCKET_FAMILIES_DENIED:
        rules.deny("socket", errno.EPERM, (0, rules.CMP_EQ, family, 0))
    rules.load()
