"""Hostile submissions for every lab, built from the lab's reference, and a runner that grades them in a
separate process (as another user, for the unprivileged runs).

Hostile code goes inside TODO regions only, so that no rule about edits outside the regions masks it:
either replacing the body of the region that matters for an attack, or at the start of every region.

Run as ``python tests/hostile_kit.py JOBS.json OUT.json``: each job grades a folder for a lab, or runs the
toy lab's sandbox attacks; the results go to OUT.json.
"""
from __future__ import annotations

import ast
import base64
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TOY_COURSE = REPO / "tests" / "fixtures" / "course"
TODO_BEGIN = re.compile(r"^(?P<indent>\s*)# ---- TODO begin: (?P<hint>.*) ----$")
TODO_END = re.compile(r"^\s*# ---- TODO end ----$")
USER = "autograder-hostile"


# ---- placing code in TODO regions ----


def _regions(text: str) -> list[tuple[int, int, str, str]]:
    """(begin line, end line, indent, hint) of each TODO region (hyperparameter regions excluded)."""
    lines, found, begin = text.splitlines(), [], None
    for number, line in enumerate(lines):
        if match := TODO_BEGIN.match(line):
            begin = (number, match["indent"], match["hint"])
        elif TODO_END.match(line) and begin:
            found.append((begin[0], number, begin[1], begin[2]))
            begin = None
    return found


def replace_region(text: str, hint: str, code: str) -> str:
    """``text`` with the body of the region whose hint contains ``hint`` replaced by ``code``."""
    lines = text.splitlines()
    start, end, indent, _ = next(region for region in _regions(text) if hint in region[3])
    return "\n".join(lines[:start + 1] + textwrap.indent(code, indent).splitlines() + lines[end:]) + "\n"


def prefix_regions(text: str, code: str) -> str:
    """``text`` with ``code`` at the start of every region."""
    lines = text.splitlines()
    for start, _, indent, _ in reversed(_regions(text)):
        lines[start + 1:start + 1] = textwrap.indent(code, indent).splitlines()
    return "\n".join(lines) + "\n"


# ---- held-out attacks: a copy of the public data brought into the sandbox ----


def held_out_calls(lab_id: str) -> list[tuple[str, str, int, str, dict]]:
    """(test, probe, position of the inputs among the probe's arguments, dataset, options) of each test that
    scores predictions against held-out labels."""
    found = []
    for name in ("public_tests.py", "tests.py"):
        tree = ast.parse((REPO / "solutions" / lab_id / name).read_text())
        for function in [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]:
            datasets = [node for node in ast.walk(function) if isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute) and node.func.attr == "dataset"]
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "held_out":
                    inputs = next(i for i, arg in enumerate(node.args[1:]) if isinstance(arg, ast.Attribute)
                                  and arg.attr in ("test_x", "val_x"))
                    dataset = datasets[0]
                    found.append((function.name, ast.literal_eval(node.args[0]), inputs,
                                  ast.literal_eval(dataset.args[0]),
                                  {k.arg: ast.literal_eval(k.value) for k in dataset.keywords}))
    return found


def lookup_code(lab_id: str, with_table: bool) -> str:
    """Code that replaces the held-out probe by one answering from a table of the public test split (what
    the public recipe, or a copy of scikit-learn's data, gives a student); unknown rows get 0. With an
    empty table it is the honest baseline: the same predictions without the copy."""
    from autograder.datasets import Datasets

    _, probe, inputs, name, options = held_out_calls(lab_id)[-1]
    data = Datasets(REPO / "data")(name, **options)  # the public recipe: no secret seed, no perturbation
    x, y = (data.test_x, data.test_y) if with_table else (data.test_x[:0], data.test_y[:0])
    packed = base64.b64encode(zlib.compress(np.ascontiguousarray(x).tobytes())).decode()
    labels = [float(label) for label in y]
    return f"""def copied_answers(*args, **kwargs):
    import base64, zlib
    import numpy
    rows = numpy.frombuffer(zlib.decompress(base64.b64decode({packed!r})), {x.dtype.str!r})
    rows = rows.reshape((-1,) + {tuple(x.shape[1:])!r})
    table = dict(zip((row.tobytes() for row in rows), {labels!r}))
    asked = numpy.asarray(args[{inputs}])
    return numpy.array([table.get(row.tobytes(), 0.0) for row in asked])
setattr(probes, {probe!r}, copied_answers)
"""


def prelude(lab_id: str, with_table: bool, tamper: bool) -> str:
    """Region code that, once per sandbox process, tampers with the grader's files (if ``tamper``) and (for
    a lab with a held-out test) replaces the held-out probe."""
    body = (tamper_code(lab_id) if tamper else "") + (lookup_code(lab_id, with_table) if held_out_calls(lab_id) else "")
    return ("import sys\nprobes = sys.modules.get('probes')\n"
            "if probes is not None and not getattr(probes, 'hostile', False):\n    probes.hostile = True\n"
            + textwrap.indent(body, "    "))


# ---- forbidden APIs reached by the routes of the issue, in the region that matters (per lab) ----

SOFTMAX_ROUTES = '''import sys, threading, base64, operator
from torch.utils._python_dispatch import _disable_current_modes
def by_variable_functions():
    b = sys.modules["builtins"]
    with torch._C._DisableTorchDispatch(), _disable_current_modes():
        return b.getattr(torch._C._VariableFunctions, "_soft" + "max")(X, 1, False)
def from_a_thread():
    box = []
    worker = threading.Thread(target=lambda: box.append(torch.softmax(X, 1)))
    worker.start()
    worker.join()
    return box[0]
def by_encoded_source():
    names = {"torch": torch, "X": X}
    exec(base64.b64decode("WSA9IHRvcmNoLnNvZnRtYXgoWCwgMSk="), names)
    return names["Y"]
def by_attrgetter():
    return operator.attrgetter("ops.aten._softmax")(torch)(X, 1, False)
def by_attention():
    eye = torch.eye(X.shape[1], dtype=X.dtype)[None, None]
    return torch.nn.functional.scaled_dot_product_attention(X[None, None], eye, eye, scale=1.0)[0, 0]
'''
LSTSQ_ROUTES = '''import operator
def numpy_polyfit():
    np = torch.hub.sys.modules["numpy"]
    return np.polyfit(x.double().numpy(), y.double().numpy(), 1)
def numpy_through_torch_hub():
    np = torch.hub.sys.modules["numpy"]
    A = np.stack([x.double().numpy(), np.ones(len(x))], axis=1)
    return np.linalg.lstsq(A, y.double().numpy(), rcond=None)[0]
def private_numpy_solver():
    np = torch.hub.sys.modules["numpy"]
    A = np.stack([x.double().numpy(), np.ones(len(x))], axis=1)
    return np.linalg._linalg.solve(A.T @ A, A.T @ y.double().numpy())
def torch_by_attrgetter():
    A = torch.stack([x.double(), torch.ones(len(x), dtype=torch.float64)], dim=1)
    return operator.attrgetter("linalg.lstsq")(torch)(A, y.double().unsqueeze(1)).solution[:, 0].numpy()
'''
LIBRARY_ROUTES = '''def scipy_through_f2py():
    importlib = np.f2py.sys.modules["importlib"]
    return importlib.import_module("scipy.special").softmax(Z, axis=1)
def torch_through_importlib():
    importlib = np.f2py.sys.modules["importlib"]
    return importlib.import_module("torch").softmax(importlib.import_module("torch").from_numpy(Z), 1).numpy()
'''
TRY_ROUTES = '''for route in ({routes}):
    try:
        {use}
    except Exception:
        pass
raise NotImplementedError("no forbidden route worked")
'''
# lab -> (file, hint of the region that matters, the routes, what uses a route's result, the routes' names,
#         what each route's run-time violation names)
EVASIONS: dict[str, tuple[str, str, str, str, list[str], list[str]]] = {
    "softmax_regression": ("softmax_regression.py", "subtract each row's max", SOFTMAX_ROUTES, "return route()",
                           ["by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
                            "by_attention"],
                           ["torch.ops.aten._softmax", "torch.softmax", "compile", "attention"]),
    "linear_regression": ("linear_regression.py", "closed-form slope", LSTSQ_ROUTES,
                          "self.w, self.b = (torch.tensor(float(v)) for v in route())\n        return",
                          ["numpy_polyfit", "numpy_through_torch_hub", "private_numpy_solver", "torch_by_attrgetter"],
                          ["numpy.linalg.lstsq", "numpy.linalg.solve", "linalg_lstsq"]),
    "mlp_numpy": ("activations.py", "normalise each row", LIBRARY_ROUTES,
                  "self.Y = route()\n        return self.Y",
                  ["scipy_through_f2py", "torch_through_importlib"], ["scipy", "torch"]),
}


def evasion_code(lab_id: str) -> str:
    _, _, routes, use, names, _ = EVASIONS[lab_id]
    return routes + TRY_ROUTES.format(routes=", ".join(names) + ",", use=use)


# Tampering with the grader's files, from every region: nothing outside the sandbox may change.
TAMPER = """for target in {targets!r}:
    try:
        with open(target, "a") as handle:
            handle.write("\\nraise SystemExit('tampered')\\n")
    except Exception:
        pass
"""


def tamper_code(lab_id: str) -> str:
    """Region code that appends to the lab's hidden tests, public tests and reference, and creates a file
    beside them."""
    from autograder.lab import Course

    folder = REPO / "solutions" / lab_id
    names = ["tests.py", "public_tests.py", "planted.py", *Course(REPO).lab(lab_id).files]
    return TAMPER.format(targets=[str(folder / name) for name in names])


def submissions(lab_id: str, tamper: bool) -> dict[str, dict[str, str]]:
    """The hostile variants of a lab's reference, by name: ``honest`` (the baseline: the region the
    evasions use left to the starter, the held-out probe answering without a copy of the data),
    ``held_out`` (the same with the copy), ``forbidden`` (the region done through forbidden routes).
    With ``tamper``, every variant also tries to change the grader's files: only for profiles that promise
    to stop it (in profile C the student's code runs as the grader's user, and would succeed)."""
    from autograder.lab import Course

    lab = Course(REPO).lab(lab_id)
    file, hint = EVASIONS[lab_id][:2] if lab_id in EVASIONS else (None, "")
    variants = {}
    for variant in ("honest", "held_out", "forbidden"):
        if variant == "forbidden" and file is None:
            continue
        files = dict(lab.reference_files)
        if file is not None:
            body = evasion_code(lab_id) if variant == "forbidden" else 'raise NotImplementedError("not done")'
            files[file] = replace_region(files[file], hint, body)
        code = prelude(lab_id, with_table=variant == "held_out", tamper=tamper)
        variants[variant] = {name: prefix_regions(files[name], code) for name in lab.files}
    return variants


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (to prove that nothing changed)."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


# ---- the toy lab's sandbox attacks: each must fail and be recorded ----

# name -> (code returning a tensor from x, what the violation names; "" when the attack must return 1.0)
SANDBOX_ATTACKS: dict[str, tuple[str, str]] = {
    "variable_functions_in_disabled_modes": (
        "import sys\nfrom torch.utils._python_dispatch import _disable_current_modes\nb = sys.modules['builtins']\n"
        "with torch._C._DisableTorchDispatch(), _disable_current_modes():\n"
        "    return b.getattr(torch._C._VariableFunctions, '_soft' + 'max')(x, 0, False)", "aten._softmax"),
    "from_a_thread": ("import threading\nbox = []\nt = threading.Thread(target=lambda: box.append(torch.softmax(x, 0)))\n"
                      "t.start()\nt.join()\nreturn box[0]", "torch.softmax"),
    "torch_ops_by_attrgetter": ("import operator\nreturn operator.attrgetter('ops.aten._softmax')(torch)(x, 0, False)",
                                "aten._softmax"),
    "exec_of_base64_source": ("import base64\nnames = {'torch': torch, 'x': x}\n"
                              "exec(base64.b64decode('eSA9IHRvcmNoLnNvZnRtYXgoeCwgMCk='), names)\nreturn names['y']",
                              "compile"),
    "eval_of_a_code_object": ("import sys\ncode = sys.modules['builtins'].compile('torch.softmax(x, 0)', 'f.py', 'eval')\n"
                              "return eval(code)", "compile"),
    "scipy_through_np_f2py": ("import numpy as np\nimportlib = np.f2py.sys.modules['importlib']\n"
                              "return torch.as_tensor(importlib.import_module('scipy.special').softmax(x.numpy()))",
                              "scipy"),
    "sklearn_by_import": ("import sklearn.datasets\nreturn torch.as_tensor(sklearn.datasets.load_digits().target[:3])",
                          "sklearn"),
    "scikit_learn_data_file": ("import numpy as np\nimport importlib.util\n"
                               "folder = importlib.util.find_spec('sklearn').submodule_search_locations[0]\n"
                               "return torch.as_tensor(np.loadtxt(folder + '/datasets/data/iris.csv', delimiter=',', "
                               "skiprows=1)[:3, 0])", "hides"),
    "symlink_to_a_data_file": ("import os, importlib.util\n"
                               "folder = importlib.util.find_spec('sklearn').submodule_search_locations[0]\n"
                               "os.symlink(folder + '/datasets/data/iris.csv', 'iris.csv')\n"
                               "return torch.tensor(float(len(open('iris.csv').read())))", "os.symlink"),
    "fresh_copy_of_a_guarded_module": ("import sys\nsys.modules.pop('numpy.linalg._umath_linalg')\n"
                                       "import numpy.linalg._umath_linalg\nreturn x", "_umath_linalg"),
    "garbage_collector_walk": ("import gc\nreturn torch.tensor(float(len(gc.get_objects())))", "gc.get_objects"),
    "ctypes_call": ("import ctypes\nreturn torch.tensor(float(ctypes.CDLL(None).getpid()))", "ctypes"),
    "subprocess": ("import subprocess\nsubprocess.run(['true'])\nreturn x", "subprocess"),
    "multiprocessing_spawn": ("import multiprocessing\nchild = multiprocessing.get_context('spawn').Process(target=print)\n"
                              "child.start()\nchild.join()\nreturn x", "fork_exec"),
    "frame_walk": ("import sys\nreturn torch.tensor(float(len(sys._getframe(1).f_globals)))", "sys._getframe"),
    "forked_child_keeps_the_guards": (
        "import os\nread, write = os.pipe()\npid = os.fork()\nif pid == 0:\n    try:\n        torch.softmax(x, 0)\n"
        "        os.write(write, b'ran')\n    except Exception:\n        os.write(write, b'refused')\n    os._exit(0)\n"
        "os.waitpid(pid, 0)\nreturn torch.tensor(1.0 if os.read(read, 16) == b'refused' else 0.0)", ""),
}


def toy_attack_source() -> str:
    """toy.py whose double(x) runs attack number int(x[0]) of SANDBOX_ATTACKS."""
    from autograder.lab import Course

    functions = "".join(f"def attack_{i}():\n{textwrap.indent(code, '    ')}\n"
                        for i, (code, _) in enumerate(SANDBOX_ATTACKS.values()))
    body = functions + f"return [{', '.join(f'attack_{i}' for i in range(len(SANDBOX_ATTACKS)))}][int(x[0])]()"
    return replace_region(Course(TOY_COURSE).lab("toy").reference_files["toy.py"], "multiply x by two", body)


def run_toy_attacks() -> dict[str, dict[str, Any]]:
    """Each attack in its own call to one toy sandbox: the value that came back, or the error (the message
    of a forbidden call names its first violation)."""
    import torch

    from autograder.grade import sandbox_spec
    from autograder.lab import Course
    from autograder.load import Workspace
    from autograder.sandbox import Sandbox, detect_isolation
    from autograder.sandbox.api import StudentError

    lab = Course(TOY_COURSE).lab("toy")
    outcomes = {}
    with Sandbox(sandbox_spec(lab, Workspace({"toy.py": toy_attack_source()})), detect_isolation()) as sandbox:
        for i, name in enumerate(SANDBOX_ATTACKS):
            try:
                value = sandbox.call("doubled", [torch.full((2,), float(i))], {}, 60).value
                outcomes[name] = {"value": [float(v) for v in value.reshape(-1)[:3]]}
            except StudentError as error:
                outcomes[name] = {"error": error.kind, "message": error.message}
    return outcomes


# ---- running the grader as another user ----


@contextmanager
def unprivileged_user() -> Iterator[pwd.struct_passwd]:
    """An ordinary user for the duration (needs root); /root gets o+x meanwhile so that the interpreter
    under it can run, and its mode is restored afterwards."""
    created = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                             capture_output=True, text=True)
    if created.returncode not in (0, 9):  # 9: the user exists (a run that was interrupted)
        raise RuntimeError(created.stderr)
    mode = stat.S_IMODE(os.stat("/root").st_mode)
    os.chmod("/root", mode | stat.S_IXOTH)
    try:
        yield pwd.getpwnam(USER)
    finally:
        os.chmod("/root", mode)
        subprocess.run(["userdel", USER], capture_output=True)


def run_as(user: pwd.struct_passwd, jobs: list[dict[str, Any]], work: Path, timeout: float) -> dict[str, Any]:
    """Run ``jobs`` (see ``main``) in a fresh process as ``user``; their results by job name."""
    work.mkdir(parents=True, exist_ok=True)
    for path in (work, *work.rglob("*")):
        shutil.chown(path, user.pw_uid, user.pw_gid)
    (work / "jobs.json").write_text(json.dumps(jobs))
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", sys.executable,
               str(Path(__file__).resolve()), str(work / "jobs.json"), str(work / "out.json")]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the unprivileged run failed:\n{done.stderr[-3000:]}")
    return json.loads((work / "out.json").read_text())


def main(jobs_path: str, out_path: str) -> None:
    """Run the jobs: {"name", "kind": "grade", "lab", "folder"} or {"name", "kind": "toy_attacks"}."""
    from autograder.grade import grade
    from autograder.lab import Course

    results: dict[str, Any] = {"uid": os.getuid()}
    for job in json.loads(Path(jobs_path).read_text()):
        if job["kind"] == "grade":
            results[job["name"]] = grade(Course(REPO), job["lab"], Path(job["folder"])).to_dict()
        else:
            results[job["name"]] = run_toy_attacks()
    Path(out_path).write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
