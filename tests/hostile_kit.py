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

from autograder.datasets import hidden_paths
from hostile_routes import EVASIONS, control_code, region_code
from users import ordinary_user

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


def region_lines(text: str, hint: str) -> range:
    """The lines (1-based) of the body of the region whose hint contains ``hint``."""
    start, end, _, _ = next(region for region in _regions(text) if hint in region[3])
    return range(start + 2, end + 1)


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


# ---- forbidden APIs reached by the routes of the issue, in the regions that matter: see hostile_routes ----


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
    """The hostile variants of a lab's reference, by name: ``honest`` (the baseline: the regions the
    evasions use left undone, the held-out probe answering without a copy of the data),
    ``held_out`` (the same with the copy), ``forbidden`` (the regions done through forbidden routes) and
    ``unguarded`` (every route run and compared: the control, to grade without the guards).
    With ``tamper``, every variant also tries to change the grader's files: only for profiles that promise
    to stop it (in profile C the student's code runs as the grader's user, and would succeed)."""
    from autograder.lab import Course

    lab = Course(REPO).lab(lab_id)
    regions = EVASIONS.get(lab_id, [])
    bodies = {"forbidden": region_code, "unguarded": control_code}
    variants = {}
    for variant in ("honest", "held_out", "forbidden", "unguarded"):
        if variant in bodies and not regions:
            continue
        files = dict(lab.reference_files)
        for region in regions:
            body = bodies[variant](region) if variant in bodies else 'raise NotImplementedError("not done")'
            files[region.file] = replace_region(files[region.file], region.hint, body)
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
    "scikit_learn_data_file": ("import importlib.util\n"  # open() asks the audit hook before the file system
                               "folder = importlib.util.find_spec('sklearn').submodule_search_locations[0]\n"
                               "return torch.tensor(float(len(open(folder + '/datasets/data/iris.csv').read())))",
                               "hides"),
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
    """An ordinary user for the duration (needs root), who can read the datasets as in an ordinary install."""
    with ordinary_user(USER) as user, readable_to_others(hidden_paths()):
        yield user


@contextmanager
def readable_to_others(tops: tuple[str, ...]) -> Iterator[None]:
    """The datasets a root grading in profile B made unreadable to other users (it takes their world
    permissions away, and keeps them so: README, Isolation) readable again for the duration, as they are in
    an install an ordinary user grades from; their modes are restored afterwards."""
    modes = {}
    for top in tops:
        for path in [Path(top), *Path(top).rglob("*")] if os.path.isdir(top) else [Path(top)]:
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode):
                modes[path] = stat.S_IMODE(info.st_mode)
                path.chmod(modes[path] | (0o005 if stat.S_ISDIR(info.st_mode) else 0o004))
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


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
