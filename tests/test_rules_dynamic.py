"""The forbidden-API rule sees through dynamic code, and the rules stage ends in time on any source."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from autograder import rules
from autograder.lab import Course
from autograder.load import Workspace
from autograder.rules import check_rules_within, find_forbidden

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = Course(ROOT)
TOY = Course(Path(__file__).parent / "fixtures" / "course").lab("toy")
HEADER = "import torch\nimport numpy as np\nimport torch.nn.functional as F\n\n"
NAMES = ["torch.softmax", "torch.linalg", "numpy.linalg.lstsq"]

# (code after HEADER, words the message on that code's last line must contain)
DYNAMIC = [
    ("exec('y = 1')", "exec runs code built at run time"),
    ("f = eval\nf('1')", "eval runs code built at run time"),
    ("compile('1', 'x', 'eval')", "compile runs code built at run time"),
    ("__import__('scipy')", "__import__ imports modules at run time"),
    ("import importlib\nimportlib.import_module('scipy')", "importlib.import_module imports modules at run time"),
    ("name = 'soft' + 'max'\ngetattr(torch, name)", "getattr with a computed name"),
    ("import sys\nsys.modules['numpy']", "sys.modules imports modules at run time"),
    ("__builtins__['exec']", "__builtins__ reaches names indirectly"),
    ("import builtins\nbuiltins.getattr(torch, 'x')", "builtins.getattr reaches names indirectly"),
    ("torch.hub.sys.modules['numpy'].linalg.lstsq", "torch.hub"),
    ("np.f2py.sys.modules['importlib']", "numpy.f2py.sys.modules reaches the module sys through numpy.f2py"),
    ("m = np.f2py\nm.sys.modules['scipy']", ".sys reaches the module sys"),
    ("(np,)[0].testing.os.system('id')", ".os reaches the module os through another object"),
    ("x = np.zeros(1)\nx.__dict__['a']", "accessing __dict__ reaches names indirectly"),
    ("print.__self__", "accessing __self__ reaches names indirectly"),
    ("np.linalg._umath_linalg.lstsq", "numpy.linalg._umath_linalg.lstsq is a private part of numpy"),
    ("from numpy.linalg import _linalg", "numpy.linalg._linalg is a private part of numpy"),
    ("np.linalg.lstsq", "uses numpy.linalg.lstsq, which this lab forbids"),
    ("import scipy.linalg", "scipy.linalg is not allowed in any lab"),
    ("from sklearn.datasets import load_digits", "sklearn.datasets.load_digits is not allowed in any lab"),
    ("import operator\noperator.attrgetter('ops.aten._softmax')(torch)", "operator.attrgetter reaches names"),
    ("torch.ops.aten._softmax", "torch.ops.aten._softmax calls torch's operators directly"),
    ("np.loadtxt('digits.csv')", "numpy.loadtxt opens files"),
    ("open('/etc/passwd')", "open opens files"),
    ("import gc\ngc.get_objects()", "gc.get_objects reaches names indirectly"),
    ("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    e.__traceback__", "accessing __traceback__"),
    ("import os\nos.execv('/bin/sh', ['sh'])", "os.execv starts other processes or programs"),
    ("import multiprocessing", "multiprocessing starts other processes or programs"),
    ("import ctypes", "ctypes reaches raw memory"),
    ("import base64\nexec(base64.b64decode('eD0x'))", "exec runs code built at run time"),
]

ORDINARY = """
x = np.linspace(0.0, 1.0, 5)
n = np.linalg.norm(x) + np.random.default_rng(0).normal() + float(np.pi)
t = torch.as_tensor(x)
w = F.relu(t).sum() + t.exp().mean() + torch.nn.Linear(2, 3).weight.sum()
print(np.__version__, torch.__version__, x.shape, t.dtype)
"""


@pytest.mark.parametrize("code, words", DYNAMIC)
def test_dynamic_code_is_flagged_with_a_readable_message(code: str, words: str) -> None:
    source = HEADER + code + "\n"
    line = source.count("\n")
    problems = find_forbidden(source, "m.py", NAMES)
    assert any(problem.startswith(f"m.py line {line}: ") and words in problem for problem in problems), problems


def test_ordinary_code_is_not_flagged() -> None:
    assert find_forbidden(HEADER + ORDINARY, "m.py", NAMES) == []


@pytest.mark.parametrize("lab_id", SOLUTIONS.lab_ids())
def test_no_false_positive_on_the_labs_correct_code(lab_id: str) -> None:
    """The references, their alternatives and the starters keep the forbidden rule's points."""
    lab = SOLUTIONS.lab(lab_id)
    for files in [lab.reference_files, lab.starter_files, *map(lab.variant_files, lab.alternatives)]:
        lines = rules.check_rules(lab, Workspace(dict(files)))
        assert [line.feedback for line in lines if line.id == "rule:forbidden"] == [[]]


def readers(count: int) -> str:
    """``count`` names that all read one alias of torch, then a forbidden call through the last one."""
    return HEADER + "t = torch\n" + "".join(f"v{i} = t\n" for i in range(count)) + f"v{count - 1}.softmax(x)\n"


def test_two_thousand_readers_of_one_name_are_resolved() -> None:
    problems = find_forbidden(readers(2000), "m.py", NAMES)
    assert problems == [f"m.py line {2000 + 6}: calls torch.softmax, which this lab forbids (write softmax yourself)"]


@pytest.mark.slow
def test_forty_thousand_readers_of_one_name_are_resolved_within_the_deadline() -> None:
    files = {"toy.py": TOY.reference_files["toy.py"] + readers(40_000)}
    forbidden = next(line for line in check_rules_within(TOY, Workspace(files)) if line.id == "rule:forbidden")
    assert forbidden.score == 0 and "calls torch.softmax" in forbidden.feedback[0]


def test_a_name_bound_to_too_many_modules_is_refused() -> None:
    source = "import torch\n" + "".join(f"m = torch._private{i}\n" for i in range(17))
    assert any("m stands for more than 16 different modules" in p for p in find_forbidden(source, "m.py", NAMES))


def test_rules_past_the_deadline_score_zero_and_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "check_rules", lambda lab, workspace: threading.Event().wait())  # never answers
    lines = check_rules_within(TOY, Workspace(dict(TOY.reference_files)), seconds=0.5)
    assert [line.id for line in lines] == ["rule:regions", "rule:imports", "rule:forbidden"]
    assert all(line.score == 0 and "too large or too complex" in line.feedback[0] for line in lines)


def test_a_crash_in_the_rules_child_is_a_grader_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(lab: object, workspace: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(rules, "check_rules", crash)
    with pytest.raises(RuntimeError, match="KeyError"):
        check_rules_within(TOY, Workspace(dict(TOY.reference_files)))


def test_rules_within_the_deadline_equal_the_direct_check() -> None:
    files = {"toy.py": TOY.reference_files["toy.py"].replace("return x * 2", "return torch.softmax(x, 0)")}
    assert check_rules_within(TOY, Workspace(files)) == rules.check_rules(TOY, Workspace(files))
