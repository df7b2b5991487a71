"""Hostile submissions are scored as they deserve, and the grader survives every one of them.

They run against a toy lab (tests/fixtures/course) whose short limits make hangs cost seconds. Each
hostile body replaces the TODO region of ``double(x)``, whose correct answer is ``x * 2``. The attacks of
issue 6 against every lab, as root and as an ordinary user, are in ``test_hostile_labs.py``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import torch

from autograder.grade import grade, sandbox_spec
from autograder.lab import Course
from autograder.load import Workspace
from autograder.release import release
from autograder.report import write
from autograder.sandbox import Sandbox, detect_isolation
from autograder.sandbox.isolation import PROFILE_ENV
from autograder.sandbox.uids import uid_range

pytestmark = pytest.mark.sandbox  # every test here grades through a real sandbox
COURSE = Course(Path(__file__).parent / "fixtures" / "course")
LAB = COURSE.lab("toy")
SECRET = LAB.solution_dir / "tests.py"  # the hidden tests: must stay out of the sandbox's reach


def submission(tmp_path: Path, body: str, header: str = "") -> Path:
    """A toy submission whose TODO region holds ``body`` (and ``header`` after the imports)."""
    source = LAB.reference_files["toy.py"].replace("    return x * 2\n", "".join(f"    {line}\n" for line in body.splitlines()))
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    if header:
        source = source.replace("import torch\n", f"import torch\n{header}\n", 1)
    (folder / "toy.py").write_text(source)
    return folder


def scores_of(tmp_path: Path, body: str, header: str = "") -> dict[str, float]:
    """The score of each test (not rule) of the toy lab for this body."""
    result = grade(COURSE, "toy", submission(tmp_path, body, header))
    return {line.id: line.score for line in result.tests if line.kind == "test"}

CHEATS = {
    "sys_exit_at_import": ("import sys\nsys.exit(0)", "return x * 2"),
    "os_exit_at_import": ("import os\nos._exit(0)", "return x * 2"),
    "endless_loop_at_import": ("while True:\n    pass", "return x * 2"),
    "sys_exit_in_call": ("import sys", "sys.exit(0)"),
    "os_exit_in_call": ("import os", "os._exit(3)"),
    "endless_loop": ("", "while True:\n    pass"),
    "sleeps_forever": ("import time", "time.sleep(1000)"),
    "fork_bomb": ("import os", "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
    "memory_bomb": ("", "hoard = []\nwhile True:\n    hoard.append(bytearray(1 << 28))"),
    "fake_results_on_stdout": ("", 'print(\'{"score": 100, "tests": []}\')\nprint("All tests passed! 100/100")\nreturn x * 3'),
    "allclose_monkeypatched": ("import numpy", "torch.allclose = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
                                               "torch.Tensor.__eq__ = lambda *a: True\nreturn x * 3"),
    "tensor_subclass_lying_eq": ("", "class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                                     "return (x * 3).as_subclass(Liar)"),
    "object_lying_eq": ("", "class Liar:\n    def __eq__(self, other):\n        return True\nreturn Liar()"),
    "pickle_payload": ("import pickle, os", "class Boom:\n    def __reduce__(self):\n        return (os.system, ('touch /tmp/autograder-pwned',))\n"
                                            "return pickle.dumps(Boom())"),
    "reads_hidden_tests": ("", f"return x * 2 if open({str(SECRET)!r}).read() else x * 3"),
    "imports_the_solutions": ("import sys", f"sys.path.insert(0, {str(LAB.solution_dir)!r})\nimport tests\nreturn x * 2"),
    "forbidden_api_at_run_time": ("", "f = getattr(torch, 'soft' + 'max')\nf(x, 0)\nreturn x * 2"),
}


NEEDS_PROFILE_A = {"reads_hidden_tests", "imports_the_solutions", "fork_bomb"}  # private files, a uid of its own


@pytest.mark.parametrize("name", CHEATS)
def test_cheat_earns_nothing_and_grader_survives(tmp_path: Path, name: str) -> None:
    if name in NEEDS_PROFILE_A and detect_isolation().profile != "A":
        pytest.skip("only profile A hides the grader's files and limits a uid of its own")
    header, body = CHEATS[name]
    start = time.monotonic()
    scores = scores_of(tmp_path, body, header)
    assert scores == {"doubles_a_vector": 0.0, "doubles_a_matrix": 0.0}, name
    assert time.monotonic() - start < 60
    assert not Path("/tmp/autograder-pwned").exists()


def test_reference_earns_full_marks(tmp_path: Path) -> None:
    assert scores_of(tmp_path, "return x * 2") == {"doubles_a_vector": 1.0, "doubles_a_matrix": 2.0}


def test_one_crash_costs_only_its_own_test(tmp_path: Path) -> None:
    """A crash kills the sandbox; the next test gets a fresh one."""
    body = "import os\nif x.dim() == 1:\n    os._exit(1)\nreturn x * 2"
    assert scores_of(tmp_path, body) == {"doubles_a_vector": 0.0, "doubles_a_matrix": 2.0}


def test_messages_name_what_happened(tmp_path: Path) -> None:
    cases = {"while True:\n    pass": "CPU time limit", "import time\ntime.sleep(100)": "s time limit",
             "return x.softmax(0)": "forbids",
             "class T(torch.Tensor):\n    pass\nreturn (x * 2).as_subclass(T)": "Tensor subclass",
             "raise ValueError('my bug')": "ValueError"}
    for body, words in cases.items():
        result = grade(COURSE, "toy", submission(tmp_path, body))
        public = next(line for line in result.tests if line.id == "doubles_a_vector")
        assert words in " ".join(public.feedback), (body, public.feedback)
        hidden = next(line for line in result.tests if line.id == "doubles_a_matrix")
        assert hidden.feedback == ["Failed (hidden test: its inputs and outputs are not shown)."]


def test_results_file_written_by_student_is_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    body = (f"open({str(out)!r}, 'w').write('{{\"score\": 100}}')\n" if detect_isolation().profile == "C" else "") + \
        "open('results.json', 'w').write('{\"score\": 100}')\nreturn x * 3"
    result = grade(COURSE, "toy", submission(tmp_path, body))
    write(result, "gradescope", out)
    report = json.loads(out.read_text())
    assert report["score"] == 0 and len(report["tests"]) == len(result.tests)


@pytest.fixture(params=["A", "C"])
def profile(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Run a test under profile A (if this machine has it) and under the weakest, C."""
    monkeypatch.setenv(PROFILE_ENV, request.param)
    detect_isolation.cache_clear()
    if detect_isolation().profile != request.param:
        pytest.skip(f"profile {request.param} is not available here")
    yield request.param
    monkeypatch.delenv(PROFILE_ENV)
    detect_isolation.cache_clear()


def test_no_daemon_survives(tmp_path: Path, profile: str) -> None:
    marker = f"987.65432{ord(profile)}"
    daemon = ("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n    os._exit(0)")
    scores_of(tmp_path, "return x * 2", header=daemon)
    time.sleep(0.5)
    found = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout
    assert found == "", f"a daemon outlived its sandbox: pids {found.split()}"


@pytest.fixture
def sandbox_for():
    """Start a sandbox on a toy body and close it afterwards."""
    opened = []

    def start(tmp_path: Path, body: str, header: str = "") -> Sandbox:
        files = {"toy.py": (submission(tmp_path, body, header) / "toy.py").read_text()}
        opened.append(Sandbox(sandbox_spec(LAB, Workspace(files)), detect_isolation()))
        return opened[-1]

    yield start
    for sandbox in opened:
        sandbox.close()


@pytest.mark.skipif(detect_isolation().profile != "A", reason="needs namespaces (profile A)")
def test_profile_a_hides_the_grader(tmp_path: Path, sandbox_for) -> None:
    """The sandbox sees neither the solutions nor the repository, has no network, and as root runs as nobody."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    body = ("import os, socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=1)\n    net = 1.0\n"
            "except OSError:\n    net = 0.0\n"
            "return torch.tensor([float(os.getuid()), float(os.path.exists(%r)), net, "
            "float(sum(name.isdigit() for name in os.listdir('/proc')))])") % (port, str(SECRET))
    uid, secret_visible, network, processes = sandbox_for(tmp_path, body).call("doubled", [torch.ones(1)], {}, 10).value.tolist()
    listener.close()
    assert secret_visible == 0.0 and network == 0.0
    assert processes <= 3  # its own PID namespace: the sandbox's init and the worker
    if os.geteuid() == 0:
        assert uid in uid_range()


def test_every_profile_grades_and_records_itself(tmp_path: Path, profile: str) -> None:
    result = grade(COURSE, "toy", submission(tmp_path, "return x * 2"))
    assert result.isolation.profile == profile and result.score == result.max_score
    assert ("weakest isolation" in (result.isolation.warning or "")) == (profile == "C")


@pytest.mark.sandbox
def test_a_reference_changed_after_release_is_never_imported(make_lab, tmp_path: Path) -> None:
    """Code appended to the reference on disk (by anyone: the grader never imports from a path a sandbox can
    write, and this is the last line of defence) is refused before import: its hash differs from the one
    recorded at release. The grading says so as a grader error, and the appended code never ran."""
    hidden = ("from autograder.testing import Run, test\n\n\n@test(points=1, visibility='hidden')\n"
              "def f_of_four(run: Run):\n    \"\"\"f(4)\"\"\"\n    run.expect_match('call_f', 4, what='f(4)')\n")
    lab = make_lab(README__md="# Tiny\n", tests__py=hidden)
    course = Course(lab.course_root)
    release(course, [lab.id])
    marker = tmp_path / "appended-code-ran"
    reference = lab.solution_dir / "tiny.py"
    reference.write_text(reference.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "tiny.py").write_text("def f(x):\n    return x\n")
    result = grade(Course(lab.course_root), lab.id, submission)  # a later grading reads the kit afresh
    assert not marker.exists()
    errors = result.grader_errors
    assert errors and "solutions/tiny differs from what labs/tiny was released from" in errors[0].feedback[-1]
