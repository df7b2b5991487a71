"""The sandbox's run-time guards (autograder/sandbox/guards.py) without a sandbox: installed in a child
process over a NumPy-only 'lab' (the hook cannot be removed, so never in this process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import guards

GUARDS = Path(guards.__file__)

STUDENT = '''
import numpy as np


def attempt(name):
    """Run one attack; what stopped it (the exception's type), or 'ran'."""
    attacks = {
        "lstsq": lambda: np.linalg.lstsq(np.eye(2), np.ones(2), rcond=None),
        "kernel": lambda: np.linalg._umath_linalg.lstsq(np.eye(2), np.ones((2, 1)), 0.0),
        "private": lambda: np.linalg._linalg.lstsq(np.eye(2), np.ones(2), rcond=None),
        "polyfit": lambda: np.polyfit([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], 1),
        "scipy": lambda: __import__("scipy.linalg"),
        "exec": lambda: exec("y = 1"),
        "frames": lambda: __import__("sys")._getframe(0),
        "norm": lambda: float(np.linalg.norm(np.ones(4))),
        "lazy_import": lambda: __import__("json").dumps([1]),
        "annotation": lambda: __import__("typing").Optional["NotYetDefined"],  # typing compiles the string
        "timeit": lambda: __import__("timeit").timeit("y = 1", number=1),  # a library that compiles and runs it
        "namedtuple": lambda: __import__("collections").namedtuple("Point", "x y")(1, 2),  # eval inside
        "timeit_lstsq": lambda: __import__("timeit").timeit(
            "numpy.linalg.lstsq(numpy.eye(2), numpy.ones(2))", "import numpy", number=1),
    }
    try:
        attacks[name]()
    except Exception as error:
        return type(error).__name__
    return "ran"
'''

RUNNER = '''
import json, os, sys
sys.path.insert(0, os.getcwd())
import guards
take = guards.install({names!r}, [], ["student.py"], {hide!r}, os.getcwd())
import student
outcome = {{name: student.attempt(name) for name in {attacks!r}}}
print(json.dumps({{"outcome": outcome, "violations": take()}}))
'''


def run_guarded(tmp_path: Path, attacks: list[str], hide: list[str] = ()) -> dict:
    """Install the guards in a child process over ``STUDENT`` and run the attacks."""
    (tmp_path / "guards.py").write_text(GUARDS.read_text())
    (tmp_path / "student.py").write_text(STUDENT)
    (tmp_path / "worker.py").write_text(RUNNER.format(names=["numpy.linalg.lstsq", "scipy"], hide=list(hide),
                                                      attacks=attacks))
    done = subprocess.run([sys.executable, "-E", "-s", "worker.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_forbidden_numpy_solver_fails_by_every_route(tmp_path: Path) -> None:
    found = run_guarded(tmp_path, ["lstsq", "kernel", "private", "polyfit", "norm", "lazy_import"])
    assert found["outcome"] == {"lstsq": "ForbiddenAPI", "kernel": "ForbiddenAPI", "private": "ForbiddenAPI",
                                "polyfit": "ForbiddenAPI", "norm": "ran", "lazy_import": "ran"}
    assert found["violations"] == ["numpy.linalg.lstsq", "numpy.linalg._umath_linalg.lstsq"]


def test_forbidden_library_dynamic_code_and_frames_fail_and_are_recorded(tmp_path: Path) -> None:
    found = run_guarded(tmp_path, ["scipy", "exec", "frames"])
    assert found["outcome"] == {"scipy": "ForbiddenAPI", "exec": "ForbiddenAPI", "frames": "ForbiddenAPI"}
    assert found["violations"] == ["scipy.linalg (by import)", "compile (code built at run time)", "sys._getframe"]


def test_code_a_library_builds_runs_and_stays_guarded(tmp_path: Path) -> None:
    """exec, eval and compile are refused when the submission writes them itself; code a library builds and runs
    (typing's string annotations, namedtuple's __new__, timeit's loop: torch's first optimizer step does both)
    runs, and what that code does is still guarded: a forbidden call inside it fails as it would anywhere."""
    found = run_guarded(tmp_path, ["annotation", "namedtuple", "timeit", "timeit_lstsq"])
    assert found["outcome"] == {"annotation": "ran", "namedtuple": "ran", "timeit": "ran", "timeit_lstsq": "ForbiddenAPI"}
    assert found["violations"] == ["numpy.linalg.lstsq"]


def test_operators_are_refused_by_pattern_in_any_namespace(tmp_path: Path) -> None:
    """aten patterns, and another namespace's operators as ``namespace::pattern``, however they are reached."""
    (tmp_path / "guards.py").write_text(GUARDS.read_text())
    (tmp_path / "student.py").write_text(textwrap.dedent('''
        import torch
        x, k = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
        ATTACKS = {
            "dilated": lambda: torch._C._nn.slow_conv_dilated2d(x, k, [2, 2]),
            "mkldnn": lambda: torch.ops.mkldnn._convolution_pointwise(x, k, None, [0, 0], [1, 1], [1, 1], 1, "none",
                                                                      [], None),
            "matmul": lambda: x @ x,
        }
        def attempt(name):
            try:
                ATTACKS[name]()
            except Exception as error:
                return type(error).__name__
            return "ran"
    '''))
    (tmp_path / "worker.py").write_text(textwrap.dedent('''
        import json, os, sys
        sys.path.insert(0, os.getcwd())
        import torch
        import guards
        take = guards.install([], ["*slow_conv*", "mkldnn::*conv*"], ["student.py"], [], os.getcwd())
        import student
        outcome = {name: student.attempt(name) for name in student.ATTACKS}
        print(json.dumps({"outcome": outcome, "violations": take()}))
    '''))
    done = subprocess.run([sys.executable, "-E", "-s", "worker.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["outcome"] == {"dilated": "ForbiddenAPI", "mkldnn": "ForbiddenAPI", "matmul": "ran"}
    assert found["violations"] == ["torch.ops.aten.slow_conv_dilated2d", "torch.ops.mkldnn._convolution_pointwise"]


def test_hidden_files_are_refused_through_links(tmp_path: Path) -> None:
    secret = tmp_path / "held_out"
    secret.mkdir()
    (secret / "labels.csv").write_text("1,2,3\n")
    (tmp_path / "link").symlink_to(secret)
    runner = textwrap.dedent(f'''
        import json, os, sys
        sys.path.insert(0, os.getcwd())
        import guards
        take = guards.install([], [], ["student.py"], [{str(secret)!r}], os.getcwd())
        results = []
        for path in ("link/labels.csv", "./link/../link/labels.csv", {str(secret / "labels.csv")!r}):
            try:
                open(path).read()
                results.append("read")
            except ImportError:
                results.append("refused")
        print(json.dumps(results))
    ''')
    (tmp_path / "guards.py").write_text(GUARDS.read_text())
    (tmp_path / "worker.py").write_text(runner)
    done = subprocess.run([sys.executable, "-E", "-s", "worker.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert json.loads(done.stdout.splitlines()[-1]) == ["refused"] * 3, done.stderr[-2000:]


def test_the_resolver_follows_links_like_realpath(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "to_b").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "a" / "up").symlink_to("..")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    resolve = guards.resolver()
    for path in ["to_b/x.txt", "a/up/a/b/../b", "./a//b/", "../" * 3 + str(tmp_path)[1:] + "/to_b", "loop/x", "a/b"]:
        assert resolve(path, str(tmp_path)) == os.path.realpath(os.path.join(tmp_path, path)), path


def test_a_stand_in_records_and_raises() -> None:
    seen: list[str] = []
    stand_in = guards._refuse("numpy.linalg.lstsq", seen.append)
    with pytest.raises(guards.ForbiddenAPI, match="numpy.linalg.lstsq is forbidden"):
        stand_in(1, 2, rcond=None)
    assert seen == ["numpy.linalg.lstsq"] and stand_in.__name__ == "lstsq"
    assert issubclass(guards.ForbiddenAPI, ImportError)  # `try: import x except ImportError` keeps working


def test_a_missing_student_file_is_left_to_the_import_that_reports_it(tmp_path: Path) -> None:
    (tmp_path / "guards.py").write_text(GUARDS.read_text())
    (tmp_path / "probes.py").write_text("import numpy\nfrom missing import f\nimport not_installed_anywhere\n")
    (tmp_path / "worker.py").write_text(textwrap.dedent('''
        import os, sys
        sys.path.insert(0, os.getcwd())
        import guards
        guards.install([], [], ["missing.py"], [], os.getcwd())
        try:
            import probes
        except ImportError as error:
            print(type(error).__name__, error.name)
    '''))
    done = subprocess.run([sys.executable, "-E", "-s", "worker.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["ModuleNotFoundError", "missing"], done.stderr[-2000:]
