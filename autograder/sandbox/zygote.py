"""The fork server ("zygote"): a long-lived process that imports numpy (and torch) once and forks one
sandbox per request, each confined exactly as a cold start would be.

Why a hand-written fork server rather than bubblewrap: bwrap can only start a *new* program, so
every sandbox would pay the interpreter start and ``import torch`` again (1.5-3 s). Here the
zygote holds the warm interpreter and each sandbox is a fork of it that enters fresh namespaces, a
private root (pivot_root, old root detached), drops its uid and every capability, sets no_new_privs,
seccomp and resource limits before it reads the submission. A cold start runs the very same code from
a zygote that preloaded nothing, so the two cannot drift apart.

Processes, for one sandbox (profile A):

    grader --control socket-- zygote --fork--> keeper --fork--> init (PID 1) --fork--> worker (PID 2)

* The zygote receives only isolation plans and file descriptors, never a submission's files (they
  go straight from the grader to the worker through its request pipe), so nothing of one sandbox
  sits in the memory the next one is forked from. It is not dumpable, dies with the grader
  (PR_SET_PDEATHSIG) and, without root, lives in a user namespace where it is root so that its
  children can create their own namespaces.
* The keeper stays outside the sandbox's PID namespace, where the sandbox cannot see it, and in the
  host's mount namespace (init makes the sandbox's own, then pivots into it). It is a child
  subreaper; it reports the worker's exit status and CPU time to the grader over its own socket, and
  when that socket says stop (or closes because the grader died) it kills the whole tree: the PID
  namespace in profile A, every process of the sandbox's uid in profile B, every descendant in
  profile C; then it removes the sandbox's cgroup, folder and leftovers.
* init is PID 1 of the sandbox (the kernel spares PID 1 from signals it has no handler for, so the
  worker must not be PID 1 or SIGXCPU would never end it); it reaps and exits with the worker's status.
* The worker applies the last steps (rlimits, uid drop, capabilities, no_new_privs, PDEATHSIG,
  seccomp), then serves requests (``worker.py``).

It imports nothing from the autograder package: it runs as a script next to its sibling modules.
"""
from __future__ import annotations

import importlib
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import NoReturn

import cgroups
import confine
import linux
import procfs
import uids

MAX_MESSAGE = 1 << 16


def send(link: socket.socket, message: dict) -> None:
    """One JSON message on a SOCK_SEQPACKET socket (ignored if the other side is gone)."""
    try:
        link.send(json.dumps(message).encode())
    except OSError:
        pass


def waitstatus(status: int) -> dict:
    """A wait status as the grader reads it."""
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.WEXITSTATUS(status)}


# ---- the worker and init -----------------------------------------------------------------------------

def start_worker(plan: dict, requests: int, replies: int, parent: int) -> NoReturn:
    """The sandbox's worker: finish the confinement, then serve requests until the pipe closes."""
    import worker

    try:
        if plan["profile"] == "A":
            os.chdir(confine.WORK_DIR)
        else:
            confine.join_cgroups(plan["cgroups"])
            os.chdir(plan["folder"])
            os.setsid()
        confine.keep_fds([requests, replies])
        os.umask(0o077)
        os.environ.clear()
        os.environ.update(plan["env"])
        tempfile.tempdir = None
        confine.first_for_the_oom_killer()
        confine.fresh_randomness()
        confine.apply_rlimits(plan["rlimits"])
        confine.drop_privileges(plan["uid"], plan["gid"])
        confine.die_with_parent(parent)
        if plan["seccomp"]:
            confine.install_seccomp()
    except BaseException as exc:  # noqa: BLE001 - reported to the grader, never run student code half-confined
        _report_setup_error(replies, exc)
        os._exit(1)
    worker.serve(requests, replies)
    os._exit(0)


def start_init(plan: dict, requests: int, replies: int) -> NoReturn:
    """PID 1 of a profile-A sandbox: build and enter the private root, start the worker, reap, and exit
    with the worker's status (128 + signal when a signal ended it)."""
    try:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        confine.join_cgroups(plan["cgroups"])
        confine.die_with_parent(0)  # the keeper lies outside this PID namespace
        confine.enter_private_namespaces()
        confine.enter_root(confine.build_root(plan))
        worker = os.fork()
        if worker == 0:
            start_worker(plan, requests, replies, parent=1)
        confine.keep_fds([])
        confine.drop_privileges(plan["uid"], plan["gid"])
        confine.die_with_parent(0)
        if plan["seccomp"]:
            confine.install_seccomp()
    except BaseException as exc:  # noqa: BLE001
        _report_setup_error(replies, exc)
        os._exit(125)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(125)
        if pid == worker:
            os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _report_setup_error(replies: int, exc: BaseException) -> None:
    """Tell the grader why the sandbox could not be confined (before any student code ran)."""
    import wire

    try:
        with os.fdopen(replies, "wb") as stream:
            wire.write_frame(stream, {"status": "setup_error", "message": f"{type(exc).__name__}: {exc}"[:2000]})
    except OSError:
        pass


# ---- the keeper --------------------------------------------------------------------------------------

def kill_tree(plan: dict, child: int) -> None:
    """Kill everything the sandbox started: its PID namespace (A), its uid (B), every descendant (C)."""
    if plan["profile"] == "B":
        uids.kill_uid(plan["uid"])
    while True:
        pids = [child] if plan["profile"] == "A" else procfs.descendants(os.getpid())
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if plan["profile"] == "A":
            return
        _reap(block=False)


def _reap(block: bool) -> list[tuple[int, int]]:
    """Reap exited children (all of them when ``block``, until none is left)."""
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped.append((pid, status))


def over_disk(plan: dict) -> bool:
    """Whether a sandbox without a private tmpfs (B, C) has written more than it may: its folder and,
    in profile B, what its uid owns in the shared temporary folders."""
    paths = [plan["folder"]]
    if plan["profile"] == "B":
        paths += [entry.path for entry in uids.owned_entries(plan["uid"])]
    size, count = uids.usage(paths)
    return size > plan["disk"]["bytes"] or count > plan["disk"]["files"]


def watch(plan: dict, child: int, link: socket.socket) -> dict:
    """Wait for the sandbox to end, for the grader to say stop, or (B, C) for the sandbox to write more
    than it may; kill the tree; the worker's status (and ``disk`` when the writes ended it)."""
    pidfd = os.pidfd_open(child)
    status, disk = None, False
    while status is None and not disk:
        ready = select.select([link, pidfd], [], [], 1.0 if plan["profile"] == "A" else plan["disk"]["poll"])[0]
        for pid, raw in _reap(block=False):
            if pid == child:
                status = raw
        if link in ready and status is None:
            break
        disk = plan["profile"] != "A" and over_disk(plan)
    kill_tree(plan, child)
    for pid, raw in _reap(block=True):
        if pid == child:
            status = raw
    if disk or status is None:
        return {"signal": signal.SIGKILL, "disk": disk}
    result = waitstatus(status)
    if plan["profile"] == "A" and "code" in result and result["code"] >= 128:
        return {"signal": result["code"] - 128}  # init passes on the worker's signal as 128 + signal
    return result


def keeper(plan: dict, requests: int, replies: int, link_fd: int) -> NoReturn:
    """Start one sandbox, report to the grader, and clean up after it."""
    link = socket.socket(fileno=link_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
        if plan["profile"] == "A":
            confine.enter_pid_namespace(user=plan["userns"])
        me = os.getpid()
        child = os.fork()
        if child == 0:
            os.close(link.detach())
            if plan["profile"] == "A":
                start_init(plan, requests, replies)
            start_worker(plan, requests, replies, parent=me)
    except BaseException as exc:  # noqa: BLE001
        send(link, {"error": f"{type(exc).__name__}: {exc}"[:2000]})
        os._exit(1)
    os.close(requests)
    os.close(replies)
    send(link, {"started": child})
    report = watch(plan, child, link)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    send(link, {**report, **clean_up(plan), "cpu": usage.ru_utime + usage.ru_stime})
    os._exit(0)


def clean_up(plan: dict) -> dict:
    """Once the tree is dead: remove its cgroup (saying how many processes its memory cap killed), its
    folder and, in profile B, what its uid left in shared temporary folders. The grader does the same
    after; this is what happens when the grader died."""
    folders = [os.path.dirname(path) for path in plan["cgroups"]]
    killed = cgroups.oom_kills(folders)
    cgroups.remove(folders, time.monotonic() + 10)
    if plan["folder"]:
        shutil.rmtree(plan["folder"], ignore_errors=True)
    if plan["profile"] == "B":
        uids.remove_files_of(plan["uid"])
    return {"oom_kills": killed}


# ---- the server --------------------------------------------------------------------------------------

def serve(control: socket.socket, preload: list[str]) -> None:
    """Import ``preload``, say ready, then fork a keeper per request until the grader hangs up."""
    loaded = []
    for name in preload:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            continue
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    send(control, {"ready": os.getpid(), "preloaded": loaded})
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 3)
        except OSError:
            return
        if not data:
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            send(control, {"error": "a request needs three file descriptors"})
            continue
        pid = os.fork()
        if pid == 0:
            os.close(control.detach())
            keeper(json.loads(data), *fds)
        for fd in fds:
            os.close(fd)
        send(control, {"keeper": pid})


def check(profile: str, uid: int, paths: list[str]) -> int:
    """Exit status 0 when this machine can confine a process as ``profile`` needs: namespaces, a
    private root and seccomp (A), or the uid drop with the interpreter still readable (B)."""
    if profile == "A":
        try:
            linux.seccomp_library()
            seccomp = True
        except OSError:  # reported apart: the namespaces hold without it
            seccomp = False
        nested = os.geteuid() != 0  # as the fork server, then as a keeper
        if nested:
            confine.enter_user_namespace()
        confine.enter_pid_namespace(user=nested)
        child = os.fork()
        if child == 0:
            try:
                confine.enter_private_namespaces()
                plan = {"uid": None, "gid": None, "root": {"binds": [], "symlinks": [], "hide": [], "disk_mb": 1,
                                                          "inodes": 64}}
                confine.enter_root(confine.build_root(plan))
                confine.drop_privileges(None, None)
                if seccomp:
                    confine.install_seccomp()
            except BaseException:  # noqa: BLE001
                os._exit(1)
            os._exit(0)
        return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
        except OSError:
            return 1
    return 0


def main(argv: list[str]) -> int:
    os.chdir("/")
    if argv[0] == "check":
        return check(argv[1], int(argv[2]), argv[3:])
    import worker  # noqa: F401 - imported once here (with wire), so that every sandbox starts with them

    del sys.path[0]  # this folder: nothing in the sandbox may import from it again
    control_fd, grader, userns, seccomp, preload = int(argv[1]), int(argv[2]), argv[3] == "1", argv[4] == "1", argv[5:]
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader:
        return 1
    linux.prctl(linux.PR_SET_DUMPABLE, 0)
    if userns:
        confine.enter_user_namespace()
    if seccomp:
        linux.seccomp_library()
    serve(socket.socket(fileno=control_fd), preload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
