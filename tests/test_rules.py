"""The static rules: regions, imports, forbidden APIs and vectorisation, on a tiny lab built in tmp_path."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.lab import Course, Lab
from autograder.load import Workspace
from autograder.result import TestResult
from autograder.rules import RULE_NAMES, check_rules, find_forbidden

LAB_TOML = """
title = "Toy"
files = ["softmax_regression.py", "layers.py"]

[rules]
regions = 1
imports = 1
forbidden = 2
vectorised = {vectorised}

[forbidden]
names = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax", "torch.autograd"]

[vectorised]
functions = ["layers.py:relu", "layers.py:Dense.forward"]
"""

SOFTMAX_SOLUTION = "    return torch.exp(X) / torch.exp(X).sum(dim=1, keepdim=True)"
SOFTMAX_REFERENCE = f'''"""A toy lab."""
import torch
import torch.nn.functional as F

### BEGIN HYPERPARAMETERS
LR = 0.1
### END HYPERPARAMETERS


def softmax(X):
    """Rows of logits -> rows of probabilities."""
    ### BEGIN SOLUTION write softmax
{SOFTMAX_SOLUTION}
    ### END SOLUTION


def relu(X):
    return F.relu(X)
'''

FORWARD_SOLUTION = "        return X @ self.W + self.b"
LAYERS_REFERENCE = f'''import numpy as np


def relu(X):
    ### BEGIN SOLUTION
    return np.maximum(X, 0)
    ### END SOLUTION


class Dense:
    def forward(self, X):
        ### BEGIN SOLUTION
{FORWARD_SOLUTION}
        ### END SOLUTION
'''


def make_lab(root: Path, vectorised: int = 1) -> Lab:
    folder = root / "solutions" / "toy"
    folder.mkdir(parents=True)
    (folder / "lab.toml").write_text(LAB_TOML.format(vectorised=vectorised))
    (folder / "softmax_regression.py").write_text(SOFTMAX_REFERENCE)
    (folder / "layers.py").write_text(LAYERS_REFERENCE)
    return Course(root).lab("toy")


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return make_lab(tmp_path)


def check(lab: Lab, files: dict[str, str]) -> dict[str, TestResult]:
    """The rule lines, by rule key."""
    by_name = {line.name: line for line in check_rules(lab, Workspace(files))}
    return {key: by_name[name] for key, name in RULE_NAMES.items() if name in by_name}


def feedback(lab: Lab, files: dict[str, str], rule: str) -> str:
    """The failed rule's feedback as one text (asserting it failed)."""
    line = check(lab, files)[rule]
    assert line.score == 0, f"{rule} should have failed"
    return "\n".join(line.feedback)


def edit(lab: Lab, name: str, find: str, replace: str) -> dict[str, str]:
    """The perfect submission with one exact edit in one file."""
    files = dict(lab.reference_files)
    assert files[name].count(find) == 1
    files[name] = files[name].replace(find, replace)
    return files


def softmax_body(lab: Lab, code: str) -> dict[str, str]:
    """The perfect submission with the body of the softmax region replaced by ``code``."""
    return edit(lab, "softmax_regression.py", SOFTMAX_SOLUTION, textwrap.indent(textwrap.dedent(code).strip(), "    "))


def line_of(files: dict[str, str], name: str, text: str) -> int:
    return next(n for n, line in enumerate(files[name].splitlines(), 1) if text in line)


# ---- every rule ----------------------------------------------------------------------------------

def test_reference_earns_every_rule_line(lab: Lab) -> None:
    lines = check_rules(lab, Workspace(lab.reference_files))
    assert [line.name for line in lines] == list(RULE_NAMES.values())
    assert [line.id for line in lines] == [f"rule:{key}" for key in RULE_NAMES]
    assert all(line.kind == "rule" and line.visibility == "public" for line in lines)
    assert [(line.score, line.feedback) for line in lines] == [(1, []), (1, []), (2, []), (1, [])]


def test_rules_without_points_are_not_reported(tmp_path: Path) -> None:
    lab = make_lab(tmp_path, vectorised=0)
    assert RULE_NAMES["vectorised"] not in [line.name for line in check_rules(lab, Workspace(lab.reference_files))]


def test_a_missing_file_fails_every_rule(lab: Lab) -> None:
    files = {"softmax_regression.py": lab.reference_files["softmax_regression.py"]}
    for line in check(lab, files).values():
        assert line.score == 0
        assert line.feedback == ["layers.py is missing from the submission, so this rule cannot be checked"]


def test_a_syntax_error_fails_every_rule_without_a_traceback(lab: Lab) -> None:
    files = softmax_body(lab, "return X +")
    number = line_of(files, "softmax_regression.py", "return X +")
    for line in check(lab, files).values():
        assert line.score == 0
        assert line.feedback == [f"softmax_regression.py does not parse: invalid syntax at line {number}"]


def test_feedback_is_capped(lab: Lab) -> None:
    files = softmax_body(lab, "\n".join(["X = X.softmax(1)"] * 8) + "\nreturn X")
    line = check(lab, files)["forbidden"]
    assert len(line.feedback) == 6 and line.feedback[-1] == "... and 3 more"


# ---- regions -------------------------------------------------------------------------------------

def test_untouched_starter_passes_the_static_rules(lab: Lab) -> None:
    assert all(line.score == line.max_score for line in check(lab, lab.starter_files).values())


def test_edits_inside_regions_and_hyperparameters_are_fine(lab: Lab) -> None:
    files = edit(lab, "softmax_regression.py", "LR = 0.1", "LR = 0.5\nEPOCHS = 3")
    assert check(lab, files)["regions"].score == 1


def test_trailing_whitespace_and_blank_lines_are_ignored(lab: Lab) -> None:
    files = {name: "\n".join(line + "  \t" for line in text.splitlines()) + "\n\n\n"
             for name, text in lab.reference_files.items()}
    assert check(lab, files)["regions"].score == 1


def test_an_edit_outside_the_regions_fails(lab: Lab) -> None:
    files = edit(lab, "softmax_regression.py", "    return F.relu(X)", "    return X.clamp(min=0)")
    number = line_of(files, "softmax_regression.py", "X.clamp")
    assert feedback(lab, files, "regions") == (f"softmax_regression.py line {number}: changed outside the TODO "
                                               "regions: 'return X.clamp(min=0)' (the starter has 'return F.relu(X)')")


def test_an_added_line_outside_the_regions_fails(lab: Lab) -> None:
    files = edit(lab, "layers.py", "class Dense:", "DEBUG = True\n\n\nclass Dense:")
    number = line_of(files, "layers.py", "DEBUG")
    assert f"layers.py line {number}: a line was added outside the TODO regions: 'DEBUG = True'" in \
        feedback(lab, files, "regions")


def test_removed_markers_fail(lab: Lab) -> None:
    files = edit(lab, "softmax_regression.py", "    # ---- TODO begin: write softmax ----\n", "")
    assert "softmax_regression.py: the TODO markers were removed/changed" in feedback(lab, files, "regions")


def test_a_removed_region_fails(lab: Lab) -> None:
    files = edit(lab, "softmax_regression.py", "    # ---- TODO begin: write softmax ----\n", "")
    files["softmax_regression.py"] = files["softmax_regression.py"].replace("    # ---- TODO end ----\n", "")
    assert "the TODO markers were removed/changed (the starter has 2 regions, this file 1)" in \
        feedback(lab, files, "regions")


# ---- imports -------------------------------------------------------------------------------------

def test_a_new_import_fails(lab: Lab) -> None:
    files = edit(lab, "layers.py", "import numpy as np\n", "import numpy as np\nimport os.path as p\n")
    assert feedback(lab, files, "imports") == ("layers.py line 2: import os.path as p is a new import; "
                                               "only the starter's imports are allowed")


def test_a_new_import_inside_a_function_fails(lab: Lab) -> None:
    files = softmax_body(lab, "from torch.nn import functional\nreturn functional.relu(X)")
    number = line_of(files, "softmax_regression.py", "from torch.nn import functional")
    assert feedback(lab, files, "imports") == (f"softmax_regression.py line {number}: from torch.nn import "
                                               "functional is a new import; only the starter's imports are allowed")


def test_the_starters_imports_are_allowed_anywhere(lab: Lab) -> None:
    files = softmax_body(lab, "import torch.nn.functional as F\nreturn F.relu(X)")
    assert check(lab, files)["imports"].score == 1


# ---- forbidden APIs ------------------------------------------------------------------------------

# (code for the softmax region, "<row of the code>: <message>")
FORBIDDEN = [
    ("return torch.softmax(X, 1)", "1: calls torch.softmax, which this lab forbids (write softmax yourself)"),
    ("return F.softmax(X, 1)", "1: calls torch.nn.functional.softmax, which this lab forbids"),
    ("import torch.nn.functional as G\nreturn G.softmax(X, 1)", "2: calls torch.nn.functional.softmax"),
    ("from torch.nn import functional\nreturn functional.softmax(X, 1)", "2: calls torch.nn.functional.softmax"),
    ("from torch import softmax as s\nreturn s(X, 1)", "1: imports torch.softmax, which this lab forbids"),
    ("from torch import softmax as s\nreturn s(X, 1)", "2: calls torch.softmax"),
    ("s = torch.softmax\nreturn s(X, 1)", "1: uses torch.softmax, which this lab forbids"),
    ("s = torch.softmax\nreturn s(X, 1)", "2: calls torch.softmax"),
    ("f = F\ng = f\nreturn g.softmax(X, 1)", "3: calls torch.nn.functional.softmax"),
    ("return X.softmax(1)", "1: calls .softmax (torch.Tensor.softmax), which this lab forbids"),
    ("return torch.autograd.grad(X.sum(), X)", "1: calls torch.autograd.grad, which this lab forbids"),
    ("name = 'soft' + 'max'\nreturn getattr(torch, name)(X, 1)",
     "2: getattr with a computed name is not allowed: call functions directly"),
    ("return getattr(torch, 'softmax')(X, 1)", "1: calls torch.softmax"),
    ("return getattr(getattr(torch, 'nn'), 'functional').softmax(X, 1)", "1: calls torch.nn.functional.softmax"),
    ("g = getattr\nreturn g(torch, 'soft' + 'max')(X, 1)", "2: getattr with a computed name is not allowed"),
    ("return __import__('torch').softmax(X, 1)", "1: __import__ imports modules at run time, which is not allowed"),
    ("import importlib\nreturn importlib.import_module('torch').softmax(X, 1)", "1: importlib imports modules"),
    ("import base64\nexec(base64.b64decode('cmV0dXJuIHRvcmNoLnNvZnRtYXgoWCwgMSk='))",
     "2: exec runs code built at run time"),
    ("return torch.ops.aten._softmax(X, 1, False)", "1: torch.ops.aten._softmax calls torch's operators directly"),
    ("return torch._C._nn.softmax(X, 1)", "1: torch._C._nn.softmax is a private part of torch"),
    ("return globals()['torch'].softmax(X, 1)", "1: globals reaches names indirectly"),
    ("return X.__class__.__dict__['softmax'](X, 1)", "1: accessing __dict__ reaches names indirectly"),
]


@pytest.mark.parametrize("code, message", FORBIDDEN)
def test_forbidden_apis_and_escape_hatches_fail(lab: Lab, code: str, message: str) -> None:
    files = softmax_body(lab, code)
    row, text = message.split(": ", 1)
    number = line_of(files, "softmax_regression.py", code.splitlines()[0]) + int(row) - 1
    assert f"softmax_regression.py line {number}: {text}" in feedback(lab, files, "forbidden")


def test_find_forbidden_reports_file_and_line() -> None:
    source = "import torch\n\ny = torch.softmax(x, 1)\n"
    assert find_forbidden(source, "m.py", ["torch.softmax"]) == [
        "m.py line 3: calls torch.softmax, which this lab forbids (write softmax yourself)"]
    assert find_forbidden(source, "m.py", []) == []
    assert find_forbidden("def f(:\n", "m.py", []) == ["m.py does not parse: invalid syntax at line 1"]


def test_allowed_lookalikes_pass(lab: Lab) -> None:
    files = softmax_body(lab, """
        soft = getattr(X, "exp")()
        total = soft.sum(dim=1, keepdim=True)
        return F.relu(soft / total)
    """)
    assert check(lab, files)["forbidden"].score == 2


# ---- vectorised ----------------------------------------------------------------------------------

def test_a_loop_in_a_vectorised_method_fails(lab: Lab) -> None:
    files = edit(lab, "layers.py", FORWARD_SOLUTION,
                 "        out = []\n        for x in X:\n            out.append(x @ self.W + self.b)\n"
                 "        return np.stack(out)")
    number = line_of(files, "layers.py", "for x in X")
    assert feedback(lab, files, "vectorised") == (f"layers.py line {number}: a for loop in Dense.forward goes over X — "
                                                  "this lab requires vectorised code (operate on the whole batch at once)")


@pytest.mark.parametrize("loop", ["for i in range(X.shape[0]):\n            out.append(X[i] @ self.W)",
                                  "m = len(X)\n        i = 0\n        while i < m:\n            out.append(X[i] @ self.W)\n"
                                  "            i += 1",
                                  "out += list(map(lambda x: x @ self.W, X))"])
def test_loops_over_the_input_in_any_form_fail(lab: Lab, loop: str) -> None:
    files = edit(lab, "layers.py", FORWARD_SOLUTION, f"        out = []\n        {loop}\n        return np.stack(out) + self.b")
    assert "in Dense.forward goes over" in feedback(lab, files, "vectorised")


def test_a_loop_over_a_fixed_set_passes(lab: Lab) -> None:
    """A loop over the parameter names (or layers) does not scale with the input: not flagged statically."""
    files = edit(lab, "layers.py", FORWARD_SOLUTION,
                 "        parts = {}\n        for name in ('W', 'b'):\n            parts[name] = getattr(self, name)\n"
                 "        return X @ parts['W'] + parts['b']")
    assert check(lab, files)["vectorised"].score == 1


def test_a_comprehension_in_a_vectorised_function_fails(lab: Lab) -> None:
    files = edit(lab, "layers.py", "    return np.maximum(X, 0)", "    return np.array([max(x, 0) for x in X])")
    number = line_of(files, "layers.py", "for x in X")
    assert f"layers.py line {number}: a list comprehension in relu" in feedback(lab, files, "vectorised")


def test_a_vectorised_function_that_is_gone_fails(lab: Lab) -> None:
    files = edit(lab, "layers.py", "def relu(X):", "def rectify(X):")
    assert "layers.py: relu is not defined" in feedback(lab, files, "vectorised")
