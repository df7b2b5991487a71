"""The sandbox holds, under every profile this machine has: each attack on the sandbox itself runs
through a real sandbox and gains nothing (issue 6: the escape, profile B's sharing, forged replies,
starving or crashing the grader, leftovers).

Profiles: A (namespaces) as root and, in ``test_the_suite_holds_for_an_ordinary_user``, as an ordinary
user; B (root without namespaces, forced with $AUTOGRADER_ISOLATION) and C. Nothing here waits with a
fixed sleep or judges by a clock: waits poll with a deadline, and the only times asserted are the
budgets themselves, with slack.
"""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from autograder.sandbox import Sandbox, SandboxPool, cgroups, detect_isolation
from autograder.sandbox.api import Limits, SandboxSpec, StudentError
from autograder.sandbox.isolation import DISK_POLL, PROFILE_ENV
from autograder.sandbox.procfs import descendants
from autograder.sandbox.uids import processes_of, uid_range

import users

ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "tests" / "fixtures" / "course"
USER = "agsandbox"  # the ordinary user the unprivileged tests create


# ---- helpers -----------------------------------------------------------------------------------------

def spec(body: str, header: str = "", preload: tuple[str, ...] = ("numpy",), hide: tuple[str, ...] = (),
         **limits: float) -> SandboxSpec:
    """A one-file submission whose ``run(*args)`` has ``body`` (``header`` runs at import)."""
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    source = f"import os, sys, time\n{header}\n\ndef run(*args):\n{indented}"
    return SandboxSpec({"probe.py": source}, ("probe.py",), Limits(**{"timeout": 30.0, "startup": 60.0, **limits}),
                       entry="probe", hide=hide, preload=preload, guards=False)  # the confinement alone, beneath the guards


def poll(condition, seconds: float = 30.0) -> bool:
    """Whether ``condition()`` becomes true within ``seconds`` (checked as fast as it can be)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still run (zombies excluded)."""
    left = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z":
                left.append(pid)
        except OSError:
            continue
    return left


@contextlib.contextmanager
def modes_restored(paths: list[Path]) -> Iterator[None]:
    """Profile B takes world access from hidden paths (the kit's solutions): give them back afterwards."""
    saved = {path: stat.S_IMODE(path.stat().st_mode) for path in paths if path.exists()}
    try:
        yield
    finally:
        for path, mode in saved.items():
            os.chmod(path, mode)


@pytest.fixture(params=["A", "B", "C"])
def profile(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each profile this machine has (B: as root, with the interpreter made reachable and the modes of
    the paths it hides restored after)."""
    if request.param == "B" and not ROOT:
        pytest.skip("profile B needs root")
    with users.interpreter_traversable() if request.param == "B" else contextlib.nullcontext(), \
            modes_restored([COURSE / "solutions", REPO / "solutions"] if request.param == "B" else []):
        monkeypatch.setenv(PROFILE_ENV, request.param)
        detect_isolation.cache_clear()
        if detect_isolation().profile != request.param:
            pytest.skip(f"profile {request.param} is not available here")
        yield request.param
    detect_isolation.cache_clear()


@pytest.fixture
def open_sandbox(profile: str) -> Iterator:
    """Open sandboxes under the current profile; all closed afterwards."""
    opened: list[Sandbox] = []

    def make(sandbox_spec: SandboxSpec) -> Sandbox:
        opened.append(Sandbox(sandbox_spec, detect_isolation()))
        return opened[-1]

    yield make
    for sandbox in opened:
        sandbox.close()


def run(sandbox: Sandbox, *args: object, timeout: float = 30.0) -> object:
    return sandbox.call("run", list(args), {}, timeout).value


# ---- the process is confined ---------------------------------------------------------------------------

CONFINEMENT = """\
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
found = {key: status[key].split()[0] for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                                                "Seccomp")}
found["uid"] = os.getuid()
found["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))[:-1]  # the last one is listdir's own
def refused(call):
    try:
        call()
    except OSError:
        return True
    return False
import ctypes, socket
libc = ctypes.CDLL(None, use_errno=True)
found["exec"] = refused(lambda: os.execv(sys.executable, [sys.executable, "-c", "pass"]))
found["mount"] = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == -1
found["unshare"] = libc.unshare(0x10000000) == -1
found["ptrace"] = libc.ptrace(16, os.getppid(), 0, 0) == -1
found["chroot"] = refused(lambda: os.chroot("."))
found["inet"] = refused(lambda: socket.socket(socket.AF_INET))
found["setuid"] = refused(lambda: os.setuid(0)) or os.getuid() == 0
return found
"""


@pytest.mark.sandbox
def test_the_worker_has_no_privilege_left(open_sandbox, profile: str) -> None:
    found = run(open_sandbox(spec(CONFINEMENT)))
    sets = ("CapInh", "CapPrm", "CapEff", "CapAmb") + (("CapBnd",) if ROOT or profile == "A" else ())  # see below
    assert {key: found[key] for key in sets} == dict.fromkeys(sets, "0000000000000000")
    assert found["NoNewPrivs"] == "1" and found["Seccomp"] == "2"
    assert all(found[call] for call in ("exec", "mount", "unshare", "ptrace", "chroot", "inet", "setuid"))
    assert found["fds"] == [0, 1, 2, 3, 4]  # /dev/null three times, the request and the reply pipes
    if ROOT and profile in ("A", "B"):
        assert found["uid"] in uid_range()
    elif profile == "A":
        assert found["uid"] == 0  # root of a user namespace of its own, with no capability
    else:  # an ordinary user's process in C never had a capability (nor CAP_SETPCAP to empty its bounding set)
        assert found["uid"] == os.getuid()


@pytest.mark.sandbox
def test_concurrent_sandboxes_get_distinct_uids(open_sandbox, profile: str) -> None:
    if not (ROOT and profile in ("A", "B")):
        pytest.skip("distinct uids are for a grader running as root")
    first, second = open_sandbox(spec("return os.getuid()")), open_sandbox(spec("return os.getuid()"))
    assert run(first) != run(second)


@pytest.mark.sandbox
def test_the_fork_server_is_out_of_reach(open_sandbox, profile: str) -> None:
    """Every sandbox is forked from the fork server; none can see, signal or read it."""
    sandbox = open_sandbox(spec("""\
pid = args[0]
seen = os.path.exists(f"/proc/{pid}") and profile == "A"
try:
    os.kill(pid, 0)
    signalled = True
except OSError:
    signalled = False
readable = []
for name in ("mem", "environ", "fd"):
    try:
        os.listdir(f"/proc/{pid}/fd") if name == "fd" else open(f"/proc/{pid}/{name}", "rb").read(1)
        readable.append(name)
    except OSError:
        pass
return [seen, signalled, readable]""", header="profile = None"))
    run(sandbox, 1)
    zygote = int(Path(f"/proc/{sandbox._process.keeper}/stat").read_bytes().rpartition(b")")[2].split()[1])
    seen, signalled, readable = run(sandbox, zygote)
    assert not seen
    if profile == "C":  # the student's code runs as the grader's user (C's warning): it only cannot read memory
        assert set(readable) <= ({"fd"} if ROOT else set())  # root's own files, no capability needed
    else:
        assert readable == [] and not signalled


# ---- escapes --------------------------------------------------------------------------------------------

SECRET = COURSE / "solutions" / "toy" / "tests.py"  # the hidden tests
REFERENCE = COURSE / "solutions" / "toy" / "toy.py"  # what the grader imports to compute expected values

ESCAPES = """\
import ctypes, os
def escapes(secret, solution, grader, marker=""):
    try:  # the run-time guards refuse ctypes to a submission: then every attempt through libc fails too
        libc = ctypes.CDLL(None, use_errno=True)
    except Exception:
        libc = None
    found = []

    def attempt(name, how):
        try:
            if how():
                found.append(name)
        except Exception:
            pass

    def chroot_trick():
        os.makedirs("/tmp/jail", exist_ok=True)
        outside = os.open("/", os.O_RDONLY)
        os.chroot("/tmp/jail")
        os.fchdir(outside)
        for _ in range(64):
            os.chdir("..")
        os.chroot(".")
        return open(secret).read()

    def fchdir_trick():
        outside = os.open("/", os.O_RDONLY)
        os.fchdir(outside)
        for _ in range(64):
            os.chdir("..")
        return open(secret.lstrip("/")).read()

    def mount_trick():
        os.makedirs("/tmp/m", exist_ok=True)
        return libc.mount(b"/", b"/tmp/m", None, 4096 | 16384, None) == 0 and open("/tmp/m" + secret).read()

    attempt("read the hidden tests", lambda: open(secret).read())
    attempt("write the reference", lambda: open(solution, "a").write("# pwned\\n") >= 0)
    attempt("chroot and fchdir", chroot_trick)
    attempt("fchdir", fchdir_trick)
    attempt("mount", mount_trick)
    attempt("proc root", lambda: open(f"/proc/1/root{secret}").read())
    attempt("proc cwd", lambda: os.listdir("/proc/1/cwd/..") and open(f"/proc/1/cwd/../..{secret}").read())
    attempt("ptrace the parent", lambda: libc.ptrace(16, os.getppid(), 0, 0) == 0)
    attempt("ptrace the grader", lambda: libc.ptrace(16, grader, 0, 0) == 0)
    attempt("grader environ", lambda: open(f"/proc/{grader}/environ", "rb").read())
    attempt("grader memory", lambda: open(f"/proc/{grader}/mem", "rb").read(1))
    attempt("new namespaces", lambda: libc.unshare(0x10000000 | 0x00020000) == 0)
    for pid in [entry for entry in os.listdir("/proc") if entry.isdigit() and int(entry) != os.getpid()]:
        attempt("the grader's environment", lambda: marker and marker.encode() in open(f"/proc/{pid}/environ", "rb").read())
    return found
"""


@pytest.mark.sandbox
def test_no_escape_from_the_sandbox(open_sandbox, profile: str) -> None:
    """The chroot escape that worked as an ordinary user, and its cousins: none reads or changes a thing."""
    if profile == "C":
        pytest.skip("profile C shares the grader's user by design (its warning says so)")
    before = REFERENCE.read_bytes(), SECRET.read_bytes()
    sandbox = open_sandbox(spec("return escapes(*args)", header=ESCAPES, hide=(str(COURSE / "solutions"),)))
    assert run(sandbox, str(SECRET), str(REFERENCE), os.getpid()) == []
    assert (REFERENCE.read_bytes(), SECRET.read_bytes()) == before


@pytest.mark.sandbox
def test_hidden_paths_stay_hidden(open_sandbox, profile: str, tmp_path: Path) -> None:
    """``hide`` covers a path inside a directory the sandbox sees (A), takes world access from it (B),
    or is named in the result's warning (C)."""
    data = Path(np.__file__).parent / "__init__.pyi" if profile == "A" else tmp_path / "held_out.csv"
    if profile != "A":
        tmp_path.chmod(0o755)
        data.write_text("the held-out labels")
        data.chmod(0o644)
    sandbox = open_sandbox(spec("try:\n    return open(args[0]).read()\nexcept OSError as exc:\n    return str(exc)",
                                hide=(str(data),)))
    got = run(sandbox, str(data))
    if profile == "C":
        assert got == "the held-out labels" and str(data) in sandbox.isolation.warning
    else:
        assert got in ("", f"[Errno 13] Permission denied: '{data}'")
        assert data.read_text()  # still there for the grader


# ---- nothing shared, nothing left -----------------------------------------------------------------------

@pytest.mark.sandbox
def test_concurrent_sandboxes_share_nothing(open_sandbox, profile: str) -> None:
    """Profile B's attack: one student's sandbox read and appended to another's graded at the same time,
    and files left in /tmp carried into a later grading. (A file its owner makes world-writable in B's
    shared /tmp is shared, as on any machine: only A gives every sandbox a /tmp of its own.)"""
    if profile == "C":
        pytest.skip("profile C shares the grader's user by design (its warning says so)")
    token = secrets.token_hex(4)
    victim = open_sandbox(spec(f"""\
paths = []
for folder in ("/tmp", os.environ["TMPDIR"], "."):
    paths.append(os.path.abspath(os.path.join(folder, "left-{token}")))
    if not args:  # an honest submission's scratch files, with the sandbox's umask
        open(paths[-1], "w").write("secret-{token}")
return [paths, [open(path).read() for path in paths]]"""))
    paths, _ = run(victim)
    thief = open_sandbox(spec(f"""\
got = []
for path in args[0] + [os.path.join(root, name) for root, _, names in os.walk("/tmp") for name in names]:
    if os.path.abspath(path).startswith(os.getcwd()):  # its own files
        continue
    for mode in ("r", "a"):
        try:
            with open(path, mode, errors="replace") as file:
                got.append(file.read(1 << 16) if mode == "r" else file.write("pwned"))
        except OSError:
            pass
return [text for text in got if "{token}" in str(text)]"""))
    assert run(thief, paths) == []
    assert run(victim, "again")[1] == [f"secret-{token}"] * 3
    victim.close()
    later = open_sandbox(spec(f"return [n for r, _, ns in os.walk('/tmp') for n in ns if '{token}' in n]"))
    assert run(later) == []
    assert not [name for name in os.listdir("/tmp") if token in name]


DAEMON = """\
read, write = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.environ.clear()
        for fd in range(3, 64):
            if fd != write:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            os.execve(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)"], {})
        except OSError:
            os.write(write, b"exec refused\\n")
        while True:
            time.sleep(1)
    os._exit(0)
os.close(write)
"""


@pytest.mark.sandbox
def test_no_daemon_outlives_its_sandbox(open_sandbox, profile: str) -> None:
    """A double-forked daemon that drops its environment (and tries to exec itself afresh) dies with its
    sandbox: the tree is killed by PID namespace (A), by uid (B) or by subreaper (C)."""
    sandbox = open_sandbox(spec("return os.read(read, 100).decode()", header=DAEMON))
    assert run(sandbox) == "exec refused\n"
    tree = descendants(sandbox._process.keeper)
    uid = int(Path(f"/proc/{tree[-1]}/status").read_text().split("Uid:")[1].split()[0])
    assert len(tree) >= 2 + (profile == "A")  # worker and daemon (and init)
    sandbox.close()
    assert poll(lambda: not alive(tree))
    if profile in ("A", "B") and ROOT:
        assert processes_of(uid) == []


# ---- the student cannot speak for the grader ------------------------------------------------------------

FORGE = """\
import fcntl, stat, struct, wire
def forge(*messages):
    for fd in range(3, 64):
        try:
            writable = stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
        except OSError:
            continue
        if writable:
            for message in messages:
                frame = wire.encode(message)
                os.write(fd, struct.pack("<Q", len(frame)) + frame)
"""


@pytest.mark.sandbox
def test_frames_written_ahead_answer_nothing(open_sandbox, profile: str) -> None:
    """Replies written in advance (at import, or during one call for the next ones) are refused: each
    request has a fresh random id its reply must echo, and no file names the reply channel."""
    at_import = open_sandbox(spec("return 'honest'", header=FORGE + "forge({'status': 'started'}, {'status': 'ready'}, "
                                  "*[{'status': 'ok', 'value': 'forged'}] * 5)"))
    with pytest.raises(StudentError) as error:
        run(at_import)
    assert error.value.kind == "import" and "did not start properly" in error.value.message
    during_a_call = open_sandbox(spec("if args:\n    forge(*[{'status': 'ok', 'value': 'forged', 'id': 'guess'}] * 5)\n"
                                      "return os.listdir('.')", header=FORGE))
    with pytest.raises(StudentError) as error:
        run(during_a_call, "forge")
    assert error.value.kind == "bad_output" and "reply to no request" in error.value.message
    assert run(during_a_call) == ["probe.py"] + ([".tmp"] if profile != "A" else [])  # a fresh sandbox, no config file


@pytest.mark.sandbox
def test_a_sandbox_that_stops_reading_is_a_timeout(open_sandbox, profile: str) -> None:
    """The grader's writes never block past the call's deadline."""
    sandbox = open_sandbox(spec("return len(args[0])", header="import worker\n"
                                "worker.read_request = lambda stream: time.sleep(10 ** 6)"))
    start = time.monotonic()
    with pytest.raises(StudentError) as error:
        sandbox.call("run", [np.zeros(4 << 20)], {}, timeout=3)
    assert error.value.kind == "timeout"
    assert time.monotonic() - start < 3 + 30  # the deadline, with slack for a loaded machine


@pytest.mark.sandbox
@pytest.mark.timeout(300)
def test_floods_are_cut_in_linear_time(open_sandbox, profile: str) -> None:
    """Violations, exception text, locations and output: capped and deduplicated by the grader, whatever
    the (student-controlled) worker claims to have capped, with a line saying what was cut."""
    sandbox = open_sandbox(spec("""\
import worker
if args[0] == "violations":  # the next reply claims a flood of forbidden calls
    send = worker.send
    flood = [f"v{i}" for i in range(14_000)] + ["torch.softmax"] * 14_000
    def flooding(replies, message, limit):
        worker.send = send
        send(replies, {**message, "violations": flood}, limit)
    worker.send = flooding
    return 1
worker.MAX_MESSAGE, worker.MAX_OUTPUT = 10 ** 8, 10 ** 8
worker.where = lambda exc, files: "w" * 300_000
print("o" * 300_000)
raise ValueError("m" * 300_000)"""))
    with pytest.raises(StudentError) as error:
        run(sandbox, "violations")
    assert error.value.kind == "forbidden"
    assert len(sandbox.violations) == 50 and len(set(sandbox.violations)) == 50
    assert any("cut" in message for message in sandbox.messages)
    with pytest.raises(StudentError) as error:
        run(sandbox, "text")
    assert error.value.kind == "exception"
    assert len(error.value.message) < 400 and len(error.value.detail) < 2_200 and "cut by the grader" in error.value.detail
    assert len(error.value.output) < 10_200 and "cut by the grader" in error.value.output


GREEDY_GRADER = """\
import json, sys
from autograder.sandbox import Sandbox
from autograder.sandbox.api import Limits, SandboxSpec, StudentError
source = "import os, struct\\n" + sys.argv[1]
sandbox = Sandbox(SandboxSpec({"probe.py": source}, ("probe.py",), Limits(timeout=60, startup=60), entry="probe", guards=False,
                              preload=("numpy",)))
outcome = []
for how in ("400 MB reply", "16 MB header", "60 MB reply"):
    try:
        value = sandbox.call("run", [how], {}, 60).value
        outcome.append(f"{how}: {type(value).__name__} of {getattr(value, 'nbytes', 0)} bytes")
    except StudentError as exc:
        outcome.append(f"{how}: {exc.kind}: {exc.message}")
sandbox.close()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"outcome": outcome, "peak_kib": int(status["VmHWM"].split()[0])}))
"""
GREEDY_SANDBOX = """\
import fcntl, stat, numpy
def run(how):
    if how == "60 MB reply":
        return numpy.ones(60 << 20, dtype=numpy.uint8)
    fd = next(fd for fd in range(3, 64) if stat.S_ISFIFO(os.fstat(fd).st_mode)
              and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY)
    if how == "16 MB header":
        os.write(fd, struct.pack("<Q", 20 << 20) + b"AGW1" + struct.pack("<I", 16 << 20))
    else:
        os.write(fd, struct.pack("<Q", 400 << 20))
    chunk = b"[" * (1 << 20)
    while True:
        os.write(fd, chunk)
"""
GRADER_RSS_CAP_KIB = 1 << 20  # 1 GiB: the cap this kit states for the grading process


@pytest.mark.sandbox
def test_huge_replies_are_refused_before_they_are_read(profile: str) -> None:
    """A 400 MB reply or a 16 MB header is refused from its length prefix; the grader's peak memory stays
    under the stated cap (and barely above a 60 MB reply that is under the 64 MB reply limit)."""
    done = subprocess.run([sys.executable, "-c", GREEDY_GRADER, GREEDY_SANDBOX], capture_output=True, text=True,
                          timeout=600, env={**os.environ, PROFILE_ENV: profile})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["outcome"][0].startswith("400 MB reply: bad_output") and "over the" in report["outcome"][0]
    assert report["outcome"][1].startswith("16 MB header: bad_output") and "header" in report["outcome"][1]
    assert report["outcome"][2] == f"60 MB reply: ndarray of {60 << 20} bytes"
    assert report["peak_kib"] < GRADER_RSS_CAP_KIB
    assert report["peak_kib"] < 400 << 10  # no copy of the 400 MB: the grader stays far below it


# ---- budgets ----------------------------------------------------------------------------------------------

@pytest.mark.sandbox
@pytest.mark.slow
def test_sleeping_to_every_limit_stays_within_the_total_budget(open_sandbox, profile: str) -> None:
    """A submission that sleeps just under the start-up limit and to each call's time limit, with a
    restart after each: without a total budget ten calls take a minute; with it, the budget."""
    sandbox = open_sandbox(spec("time.sleep(10 ** 6)", header="time.sleep(4)", timeout=2, startup=5, total_wall=12))
    start, kinds = time.monotonic(), []
    for _ in range(10):
        with pytest.raises(StudentError) as error:
            run(sandbox, timeout=2)
        kinds.append(error.value.kind)
    assert kinds[0] == "timeout" and kinds[-1] == "budget" and "budget" in sandbox.budget.exhausted().message
    assert sandbox.budget.wall_used <= 12 + 1
    assert time.monotonic() - start < 12 + 30  # the budget, with slack for the grader on a loaded machine


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_cpu_budget_ends_a_submission(open_sandbox, profile: str) -> None:
    sandbox = open_sandbox(spec("while True:\n    pass", cpu=100, total_cpu=2, timeout=120))
    with pytest.raises(StudentError) as error:
        run(sandbox, timeout=120)
    assert error.value.kind == "crashed"  # its hard CPU limit was the submission's budget
    with pytest.raises(StudentError) as error:
        run(sandbox)
    assert error.value.kind == "budget" and "CPU time budget" in error.value.message


HOARDERS = """\
def hoard(children, size):
    ready, release = os.pipe(), os.pipe()
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            block = bytearray(size)  # zero-filled: every page touched
            os.write(ready[1], b"+")
            os.close(ready[1])  # so that the parent sees the end once each child holds its block or died
            os.read(release[0], 1)
            os._exit(0)
        pids.append(pid)
    os.close(ready[1])
    held = 0
    while held < children and os.read(ready[0], 1):
        held += 1
    os.write(release[1], b"x" * children)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    return [held, sum(os.WIFSIGNALED(s) and os.WTERMSIG(s) == 9 for s in statuses)]
"""


@pytest.mark.sandbox
@pytest.mark.slow
def test_memory_is_capped_for_the_whole_tree(open_sandbox, profile: str) -> None:
    """Four forked children of 1 GiB each under a 3 GiB cap: the cgroup holds the tree to 3 GiB
    (without a cgroup the result states the weaker cap that applies)."""
    sandbox = open_sandbox(spec("return hoard(4, 1 << 30)", header=HOARDERS, memory_mb=3072))
    if cgroups.version() is None:
        assert "no cgroup available" in sandbox.isolation.limits
        pytest.skip("no cgroup here: the cap is per process (stated in the result)")
    assert "whole process tree" in sandbox.isolation.limits
    try:
        held, killed = run(sandbox, timeout=120)
        assert held <= 3 and killed >= 1  # 3 GiB can hold three blocks, never the fourth
    except StudentError as error:  # the kernel may pick the worker itself
        assert error.kind == "crashed" and "memory limit" in error.message


@pytest.mark.sandbox
def test_the_writable_space_is_bounded(open_sandbox, profile: str) -> None:
    """16 files of 63 MiB: a private tmpfs stops the writes at its size (A); elsewhere the sandbox is
    stopped once it holds more than its space (at the next measure: a fast burst may end first, and the
    next call then finds the sandbox stopped), and what it wrote is removed."""
    sandbox = open_sandbox(spec("""\
if args[0] == "where":
    return os.getcwd()
written = 0
for i in range(16):
    try:
        with open(os.path.join(os.environ["TMPDIR"], f"big-{i}"), "wb") as file:
            for _ in range(63):
                file.write(b"x" * (1 << 20))
                written += 1 << 20
    except OSError:
        break
return written""", disk_mb=256))
    folder = run(sandbox, "where")
    try:
        written = run(sandbox, "write")
        if profile != "A":  # the burst ended before the measure that stops it
            time.sleep(4 * DISK_POLL)
            run(sandbox, "where")
        assert written <= 256 << 20 and profile == "A"
    except StudentError as error:
        assert profile != "A" and error.kind == "crashed" and "MiB or" in error.message
        assert not os.path.exists(folder)
    files = open_sandbox(spec("""\
made = 0
try:
    while made < 100_000:
        open(f"f{made}", "w").close()
        made += 1
except OSError:
    pass
return made""", files=500))
    try:
        assert run(files) < 500 and profile == "A"
    except StudentError as error:
        assert profile != "A" and "500 files" in error.message


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_fork_bomb_does_not_starve_another_sandbox(open_sandbox, profile: str) -> None:
    """Each sandbox has a process count of its own (its uid, its user namespace, its pids cgroup)."""
    if profile == "C":
        pytest.skip("profile C shares the grader's user, and so its process count")
    bomb = open_sandbox(spec("while True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
                             processes=16))
    other = open_sandbox(spec("pids = []\nfor _ in range(8):\n    pids.append(os.fork())\n    if pids[-1] == 0:\n"
                              "        os._exit(0)\nreturn sum(os.waitpid(pid, 0)[1] == 0 for pid in pids)", processes=16))
    run(other)  # started before the bomb goes off
    failures: list[StudentError] = []
    thread = threading.Thread(target=lambda: failures.append(pytest.raises(StudentError, run, bomb, timeout=60)))
    thread.start()
    try:
        assert poll(lambda: bomb._process is not None and len(descendants(bomb._process.keeper)) >= 10)
        assert run(other, timeout=120) == 8
        assert thread.is_alive()  # the bomb went on all along
    finally:
        keeper = bomb._process.keeper if bomb._process is not None else 0
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # unless the bomb has already ended
            for pid in Path(f"/proc/{keeper}/task/{keeper}/children").read_text().split():
                os.kill(int(pid), signal.SIGKILL)  # the worker: its keeper ends the rest of the bomb
        thread.join()
    assert failures and failures[0].value.kind == "crashed"


# ---- nothing outlives the grader ------------------------------------------------------------------------

def toy_submission(folder: Path, body: str, header: str = "") -> Path:
    """The toy lab's file with ``body`` in place of the reference's ``return x * 2``."""
    source = REFERENCE.read_text().replace("    return x * 2\n", "".join(f"    {line}\n" for line in body.splitlines()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.py").write_text(source.replace("import torch\n", f"import torch\n{header}\n", 1))
    return folder


def our_cgroups(pid: int) -> list[str]:
    return [name for base in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified")
            for _, names, _ in os.walk(base) for name in names if name.startswith(f"autograder-{pid}-")]


@pytest.mark.sandbox
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["TERM", "INT", "KILL"])
def test_nothing_outlives_a_stopped_grader(tmp_path: Path, profile: str, number: int) -> None:
    """SIGTERM or SIGINT to ``autograder grade`` mid-grade: every sandbox process and temporary folder is
    gone and the exit status is 128 + the signal. SIGKILL: the sandboxes still die (the fork server by
    PR_SET_PDEATHSIG, each sandbox's keeper when the grader's end of its socket closes)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    submission = toy_submission(tmp_path / "submission", "time.sleep(1000)", header="import time")
    grader = subprocess.Popen([REPO / ".venv" / "bin" / "autograder", "--root", COURSE, "grade", submission, "--lab",
                               "toy", "-q"], env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert poll(lambda: len(descendants(grader.pid)) >= 3 + (profile == "A"), 120)  # server, keeper, (init,) worker
        tree = descendants(grader.pid)
        grader.send_signal(number)
        code = grader.wait(60)
    finally:
        grader.kill()
        grader.wait()
    assert code == (128 + number if number != signal.SIGKILL else -number), grader.stderr.read()[-2000:]
    assert poll(lambda: not alive(tree)), f"left running: {alive(tree)}"
    assert poll(lambda: not our_cgroups(grader.pid))
    left = [path.name for path in temp.iterdir()]
    if number == signal.SIGKILL:  # nothing could remove the grader's own folders (the reference's copy)
        assert not [name for name in left if name.startswith("autograder-sandbox-")]
    else:
        assert left == []


# ---- as an ordinary user -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ordinary_user() -> Iterator[pwd.struct_passwd]:
    """An ordinary user made for these tests (removed after), who can reach the interpreter."""
    if not ROOT:
        pytest.skip("creating a user needs root")
    with users.ordinary_user(USER) as user:
        yield user


@pytest.fixture
def user_folder(ordinary_user: pwd.struct_passwd) -> Iterator[Path]:
    """A folder of the ordinary user's own (pytest's folders are closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-user-test-"))
    os.chown(folder, ordinary_user.pw_uid, ordinary_user.pw_gid)
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_user(user: pwd.struct_passwd, command: list, folder: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``command`` as ``user`` in ``folder``."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--",
                           *map(str, command)], cwd=folder, capture_output=True, text=True, timeout=1800,
                          env={"PATH": os.environ["PATH"], "HOME": str(folder), "TMPDIR": str(folder), **env})


@pytest.mark.sandbox
@pytest.mark.unprivileged
def test_an_ordinary_user_grades_without_escape(user_folder: Path, ordinary_user: pwd.struct_passwd) -> None:
    """The critical escape: graded by an ordinary user, a submission tried to read the hidden tests,
    append to the reference, chroot/fchdir out, mount, ptrace, and read the grader's environment. It
    answers right only if every attempt failed (or the run-time guards refuse its first attempt, through
    ctypes, and fail the call), never the wrong answer of a found escape; the course is unchanged."""
    marker = secrets.token_hex(8)
    body = (f"found = escapes({str(SECRET)!r}, {str(REFERENCE)!r}, -1, {marker!r})\n"
            "print('escaped:', found)\nreturn x * 2 if not found else x * 3")
    submission = toy_submission(user_folder / "submission", body, header=ESCAPES)
    before = REFERENCE.read_bytes(), SECRET.read_bytes()
    done = as_user(ordinary_user, [REPO / ".venv" / "bin" / "autograder", "--root", COURSE, "grade", submission,
                                   "--lab", "toy", "--format", "json", "--out", user_folder / "result.json"],
                   user_folder, AUTOGRADER_MARKER=marker)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((user_folder / "result.json").read_text())
    assert result["isolation"]["profile"] == "A" and "user namespace" in result["isolation"]["description"]
    tests = {test["id"]: test for test in result["tests"] if test["kind"] == "test"}
    public = tests["doubles_a_vector"]  # right only if every attempt failed; or the guards refused the first one
    assert public["score"] == 1.0 or "ctypes" in " ".join(public["feedback"]), json.dumps(public)  # never x * 3
    assert (REFERENCE.read_bytes(), SECRET.read_bytes()) == before


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.unprivileged
def test_the_suite_holds_for_an_ordinary_user(user_folder: Path, ordinary_user: pwd.struct_passwd) -> None:
    """This file's sandbox tests and the hostile suite, run again by the ordinary user (all but the one
    hostile test that asserts which of two limits, CPU or wall, a busy loop meets first: on a loaded
    machine that is the wall limit, whoever grades)."""
    done = as_user(ordinary_user, [REPO / ".venv" / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   "--basetemp", user_folder / "pytest", "-m", "not unprivileged and not slow",
                                   "-k", "not test_messages_name_what_happened", REPO / "tests" / "test_sandbox.py",
                                   REPO / "tests" / "test_hostile.py"], user_folder)
    assert done.returncode == 0, done.stdout[-5000:]
    assert " passed" in done.stdout


# ---- warm and cold starts ------------------------------------------------------------------------------

@pytest.mark.sandbox
def test_warm_and_cold_sandboxes_are_confined_alike(profile: str) -> None:
    """A sandbox forked from a warm server and one started cold go through the same confinement: the
    same capabilities, limits, filesystem view and refusals (only the uid, leased per sandbox, differs, and
    the CPU limit's soft value: each call may use its budget beyond the CPU the process has already used, and
    a cold start has used more; and in profile C the process cap, set above the processes the grading user
    has at each start)."""
    body = CONFINEMENT.replace("return found", "found['root'] = sorted(os.listdir('/'))\n"
                               "limits = open('/proc/self/limits').read().splitlines()\n"
                               "found['cpu_limited'] = [l.split()[3] != 'unlimited' for l in limits if l.startswith('Max cpu')]\n"
                               "found['limits'] = [l for l in limits if not l.startswith('Max cpu')]\n"
                               "found.pop('uid')\nreturn found")
    seen = []
    for pool in (SandboxPool(detect_isolation()), SandboxPool(detect_isolation(), warm=False)):
        with pool, pool.sandbox(spec(body)) as sandbox:
            seen.append(run(sandbox))
            assert sandbox.isolation.limits
    warm, cold = seen
    if profile == "C":
        for found in seen:
            found["limits"] = [line for line in found["limits"] if not line.startswith("Max processes")]
    assert warm == cold
    assert warm["cpu_limited"] == [True]


@pytest.mark.sandbox
def test_a_fork_server_started_beside_the_isolation_check_is_kept_only_if_it_fits(
        profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``start_shared`` starts the server on a predicted profile while the check runs: the shared pool
    serves sandboxes from it when its user namespace is the one the detected profile needs, and replaces it
    otherwise (here faked: a server made with the other choice). A process that grades again reuses it."""
    from autograder.sandbox import pool as pool_module

    monkeypatch.setattr(pool_module, "_shared", {})
    pool_module.start_shared(("numpy",))
    early = pool_module._early[-1]
    shared = pool_module.shared_pool()
    try:
        assert not pool_module._early and shared._zygotes[("numpy",)] is early
        with shared.sandbox(spec("return os.getpid() > 0")) as sandbox:
            assert run(sandbox) is True
        pool_module.start_shared(("numpy",))  # the next grading in this process: nothing new is started
        assert not pool_module._early and shared._zygotes[("numpy",)] is early
    finally:
        shared.close()
    monkeypatch.setattr(pool_module, "_shared", {})
    pool_module.start_shared(("json",))
    misfit = pool_module._early[-1]
    misfit.userns = not misfit.userns
    fresh = pool_module.shared_pool()
    try:
        assert ("json",) not in fresh._zygotes and poll(lambda: not misfit.alive)
    finally:
        fresh.close()


# ---- the grader's own bookkeeping (no sandbox) -------------------------------------------------------------

def test_caps_and_deduplication_are_linear_and_say_what_they_cut() -> None:
    from autograder.sandbox import bounded

    assert bounded.text("x" * 10, 4) == "xxxx\n... [6 more characters cut by the grader]"
    assert bounded.text(b"bytes") == "" and bounded.name("a\nb") == "a"
    values = [f"v{i % 1000}" for i in range(200_000)] + [None, 3, ""]
    kept, cut = bounded.unique(values, 50)
    assert kept == [f"v{i}" for i in range(50)] and cut == 950
    seen = dict.fromkeys(kept)
    assert bounded.unique(["v0", "new"], 51, seen) == (["new"], 0)


def test_decoding_makes_one_copy_of_a_frame() -> None:
    from autograder.sandbox import wire

    frame = bytearray(wire.encode({"a": np.arange(1000.0), "b": np.ones(3, dtype=np.float32)}))
    value = wire.decode(frame)
    assert np.shares_memory(value["a"], np.frombuffer(frame, dtype=np.uint8))
    assert value["a"].flags.writeable and value["a"][999] == 999.0


def test_a_budget_runs_out_for_wall_and_for_cpu() -> None:
    from autograder.sandbox.budget import Budget

    budget = Budget(Limits(total_wall=10, total_cpu=5))
    budget.check()
    deadline, by_budget = budget.deadline(60)
    assert by_budget and deadline - time.monotonic() <= 10
    budget.spend(cpu=4)
    with pytest.raises(StudentError) as error:
        budget.check(cpu_live=1.5)
    assert error.value.kind == "budget" and "CPU time budget" in error.value.message
    budget.spend(wall=10)
    with pytest.raises(StudentError) as error:
        budget.check()
    assert "time budget (10 s" in error.value.message


@pytest.mark.skipif(not ROOT, reason="sandbox uids are for a grader running as root")
def test_a_uid_is_leased_once_across_processes() -> None:
    """Two grader processes never get the same sandbox uid (an flock per uid, held for the lease)."""
    from autograder.sandbox.uids import UidLease

    lease = UidLease.take()
    try:
        other = subprocess.run([sys.executable, "-c", "from autograder.sandbox.uids import UidLease\n"
                                "lease = UidLease.take()\nprint(lease.uid)\nlease.release()"],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr
        assert int(other.stdout) != lease.uid and int(other.stdout) in uid_range()
    finally:
        lease.release()


def test_cleanup_closes_what_is_registered_and_removes_folders(tmp_path: Path) -> None:
    from autograder.sandbox import cleanup

    closed = []
    thing = type("Thing", (), {"close": lambda self: closed.append(self)})()
    folder = tmp_path / "left"
    folder.mkdir()
    cleanup.register(thing)
    cleanup.remove_at_exit(folder)
    done = subprocess.run([sys.executable, "-c", "import os, signal, sys, tempfile\n"
                           "from autograder.sandbox import cleanup\n"
                           "folder = tempfile.mkdtemp(dir=sys.argv[1])\ncleanup.remove_at_exit(folder)\n"
                           "with cleanup.signals_clean_up():\n    os.kill(os.getpid(), signal.SIGTERM)\n"
                           "    signal.pause()\n", str(tmp_path)], timeout=60)
    assert done.returncode == 128 + signal.SIGTERM and sorted(p.name for p in tmp_path.iterdir()) == ["left"]
    cleanup.unregister(thing)
    cleanup.forget_path(folder)
    cleanup.close_everything()
    assert closed == [] and folder.exists()


def test_the_cpu_count_walks_proc_only_once_the_budget_could_be_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox cannot have used more CPU than its age on every core: below the budget left, that bound
    stands in for the walk over /proc; above it, the sandbox's tree is counted."""
    from autograder.sandbox import procfs
    from autograder.sandbox.process import SandboxProcess

    walks: list[int] = []
    monkeypatch.setattr(procfs, "tree_cpu", lambda pid: walks.append(pid) or 0.5)
    sandbox = object.__new__(SandboxProcess)  # only the fields the count reads
    sandbox.report, sandbox.keeper, sandbox.born = None, 4242, time.monotonic() - 1.0
    assert 1.0 <= sandbox.cpu_seconds(enough=1000.0) < 1000.0 and walks == []
    assert sandbox.cpu_seconds(enough=0.5) == 0.5 and walks == [4242]
    assert sandbox.cpu_seconds() == 0.5 and walks == [4242, 4242]
