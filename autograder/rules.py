"""The static rules every lab enforces, read from the student's source with ``ast`` (never executed).

Each rule whose points in ``lab.toml``'s ``[rules]`` table are positive becomes one all-or-nothing
scored line: only the TODO regions changed, no new imports, no forbidden APIs, and no Python loops in
the functions the lab says must be vectorised. Every problem is reported as a student-readable line
naming the file and line.
"""
from __future__ import annotations

import ast
import difflib
import multiprocessing
from pathlib import Path
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Callable

from autograder.lab import FORBIDDEN_IN_EVERY_LAB
from autograder.load import REMOVED
from autograder.markers import MarkerError, skeleton
from autograder.result import TestResult
from autograder.source_imports import module_roots

if TYPE_CHECKING:
    from autograder.lab import Lab
    from autograder.load import Workspace

RULE_NAMES: dict[str, str] = {
    "regions": "Only the TODO regions changed",
    "imports": "No new imports",
    "forbidden": "No forbidden APIs",
    "vectorised": "Vectorised code (no Python loops over samples)",
}

MAX_FEEDBACK = 5
MAX_REGION_DIFFS = 3
MAX_DEPTH = 8  # attributes deep: longer dotted names are never real APIs (this bounds the work per node)
MAX_ALIASES = 16  # different flagged modules/APIs one name may stand for before the file is refused
RULES_SECONDS = 30.0  # wall time for the whole rules stage of one submission (it reads untrusted source)

_RUNS_CODE = "runs code built at run time, which is not allowed: write the code directly"
_IMPORTS_DYNAMICALLY = "imports modules at run time, which is not allowed: use the starter's imports"
_REACHES_INTERNALS = "reaches names indirectly, which is not allowed: use names directly"
_RUNS_PROGRAMS = "starts other processes or programs, which is not allowed"
_OPENS_FILES = "opens files, which is not allowed: the grader passes your code the data it needs"
_NOT_IN_ANY_LAB = "is not allowed in any lab: write the code yourself with the starter's imports"

# Escape hatches flagged in every lab, whatever its config. Keys are dotted names as the code resolves
# them (a key also covers everything under it); values say why the use is refused.
ESCAPE_HATCHES: dict[str, str] = {
    **{name: _RUNS_CODE for name in ("eval", "exec", "compile", "breakpoint", "pickle", "marshal", "types", "code",
                                     "codeop", "runpy", "timeit", "pdb", "bdb", "doctest", "pydoc", "cProfile",
                                     "profile", "trace", "dill", "shelve", "torch.utils.cpp_extension")},
    **{name: _IMPORTS_DYNAMICALLY for name in ("__import__", "importlib", "imp", "pkgutil", "zipimport", "sys.modules",
                                               "sys.path", "sys.meta_path", "sys.path_hooks", "torch.hub",
                                               "torch.library", "torch.ops.load_library")},
    **{name: _REACHES_INTERNALS for name in ("globals", "locals", "vars", "__builtins__", "builtins", "inspect",
                                             "gc", "weakref", "sys._getframe", "sys.settrace", "sys.setprofile",
                                             "sys.addaudithook", "operator.attrgetter", "operator.methodcaller",
                                             "threading.settrace", "threading.setprofile")},
    **{name: _OPENS_FILES for name in ("open", "io", "os.open", "os.fdopen", "pathlib", "shutil", "tempfile", "mmap",
                                       "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile",
                                       "numpy.fromregex", "numpy.memmap", "numpy.DataSource", "numpy.lib.npyio",
                                       "numpy.lib.format", "torch.load", "torch.from_file", "torch.serialization")},
    **{name: _RUNS_PROGRAMS for name in ("subprocess", "multiprocessing", "pty", "os.system", "os.popen", "os.fork",
                                         "os.forkpty", "os.posix_spawn", "os.posix_spawnp",
                                         *(f"os.exec{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
                                         *(f"os.spawn{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")))},
    **{name: _NOT_IN_ANY_LAB for name in FORBIDDEN_IN_EVERY_LAB},
    "ctypes": "reaches raw memory, which is not allowed",
    "torch.ops": "calls torch's operators directly, which is not allowed: use the public torch API",
}
# Attributes that reach an object's internals, flagged on any expression.
INTERNAL_ATTRIBUTES = frozenset({
    "__dict__", "__class__", "__subclasses__", "__globals__", "__code__", "__builtins__", "__getattr__",
    "__getattribute__", "__mro__", "__bases__", "__base__", "mro", "__self__", "__func__", "__wrapped__", "__closure__",
    "__defaults__", "__kwdefaults__", "__loader__", "__spec__", "__import__", "__reduce__", "__reduce_ex__",
    "__objclass__", "__traceback__", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame",
    "gi_frame", "gi_code", "cr_frame", "ag_frame", "cell_contents",
})
# Modules that give code execution, imports or raw memory: an attribute by one of these names reaches the
# module through another module (``torch.hub.sys``, ``np.f2py.sys``), so it is flagged on any expression.
MODULE_ATTRIBUTES = frozenset({
    "sys", "os", "posix", "importlib", "builtins", "__builtin__", "subprocess", "ctypes", "pickle", "marshal", "gc",
    "inspect", "runpy", "pkgutil", "zipimport", "multiprocessing", "pty", "imp", "codeop", "shutil", "socket",
    "weakref", "pathlib", "_imp", "_thread", "_posixsubprocess", "_io",
})
PUBLIC_DUNDERS = frozenset({"__version__", "__name__", "__doc__"})  # harmless on a module
ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr"})
METHOD_OWNERS = frozenset({"Tensor", "ndarray"})  # "<pkg>.Tensor.<method>" forbids `.method` anywhere

_LOOPS: dict[type, str] = {
    ast.For: "a for loop", ast.AsyncFor: "a for loop", ast.While: "a while loop",
    ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
}
_Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass
class _File:
    """A student file that parsed."""

    name: str
    text: str
    tree: ast.Module


def check_rules(lab: Lab, workspace: Workspace) -> list[TestResult]:
    """One all-or-nothing public line per rule with positive points in ``lab.rule_points``."""
    checks: dict[str, Callable[[Lab, _File], list[str]]] = {
        "regions": _check_regions, "imports": _check_imports,
        "forbidden": _check_forbidden, "vectorised": _check_vectorised,
    }
    files, unreadable = _read_files(lab, workspace)
    results = []
    for key, name in RULE_NAMES.items():
        points = lab.rule_points.get(key, 0)
        if points <= 0:
            continue
        problems = unreadable + [problem for file in files for problem in checks[key](lab, file)]
        results.append(TestResult(name=name, score=0.0 if problems else points, max_score=points,
                                  visibility="public", kind="rule", feedback=_cap(problems), id=f"rule:{key}"))
    return results


def check_rules_within(lab: Lab, workspace: Workspace, seconds: float = RULES_SECONDS) -> list[TestResult]:
    """``check_rules`` in a forked child that is killed after ``seconds``: the rules read untrusted source,
    so however it is built the stage ends in time. Past the deadline every rule line scores 0 and says why.
    Raises RuntimeError if the child failed (a grader bug). Without ``fork`` (Windows) the rules run here."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return check_rules(lab, workspace)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_rules_in_child, args=(lab, workspace, send), daemon=True)
    child.start()
    send.close()
    try:
        outcome = receive.recv() if receive.poll(seconds) else None
    except (EOFError, OSError):
        outcome = ("error", "the rules process ended without an answer")
    finally:
        child.kill()
        child.join()
        receive.close()
    if outcome is None:
        return _too_complex(lab, seconds)
    status, value = outcome
    if status != "ok":
        raise RuntimeError(value)
    return value


def _rules_in_child(lab: Lab, workspace: Workspace, send: Connection) -> None:
    """Run the rules and send ("ok", lines) or ("error", why) to the parent."""
    try:
        send.send(("ok", check_rules(lab, workspace)))
    except Exception as exc:  # noqa: BLE001 - reported by the parent as a grader error
        send.send(("error", type(exc).__name__))


def _too_complex(lab: Lab, seconds: float) -> list[TestResult]:
    """Every rule line at 0: the submission could not be checked within the time limit."""
    message = (f"your code is too large or too complex for the rules to be checked within {seconds:g} s, so these "
               "points cannot be given: keep your code to what the TODO regions ask for")
    return [TestResult(name=name, score=0.0, max_score=lab.rule_points[key], visibility="public", kind="rule",
                       feedback=[message], id=f"rule:{key}")
            for key, name in RULE_NAMES.items() if lab.rule_points.get(key, 0) > 0]


def find_forbidden(source: str, filename: str, names: list[str]) -> list[str]:
    """Messages for every use of a forbidden API (``names``) or of an escape hatch in ``source``."""
    tree = _parse(source, filename)
    if isinstance(tree, str):
        return [tree]
    return _ForbiddenFinder(tree, filename, names).problems()


def _read_files(lab: Lab, workspace: Workspace) -> tuple[list[_File], list[str]]:
    """The lab's files that parse, and a message for each that is missing or does not parse."""
    files, unreadable = [], []
    for name in lab.files:
        text = workspace.files.get(name)
        if text is None:
            unreadable.append(f"{name} is missing from the submission, so this rule cannot be checked")
            continue
        tree = _parse(text, name)
        if isinstance(tree, str):
            unreadable.append(tree)
        else:
            files.append(_File(name, text, tree))
    return files, unreadable


def _parse(source: str, filename: str) -> ast.Module | str:
    """The module's syntax tree, or a one-line message saying why it does not parse."""
    try:
        return ast.parse(source, filename)
    except SyntaxError as exc:
        return f"{filename} does not parse: {exc.msg}" + (f" at line {exc.lineno}" if exc.lineno else "")
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurdly deep nesting
        return f"{filename} does not parse: {exc}"


def _cap(problems: list[str]) -> list[str]:
    """At most MAX_FEEDBACK messages, then a count of the rest."""
    if len(problems) <= MAX_FEEDBACK:
        return problems
    return problems[:MAX_FEEDBACK] + [f"... and {len(problems) - MAX_FEEDBACK} more"]


# ---- regions --------------------------------------------------------------------------------------

def _check_regions(lab: Lab, file: _File) -> list[str]:
    """Every line outside the TODO regions equals the starter's (trailing whitespace ignored)."""
    expected = skeleton(lab.starter_files[file.name])
    markers = f"{file.name}: the TODO markers were removed/changed"
    try:
        student = skeleton(file.text)
    except MarkerError as exc:
        return [f"{markers} ({exc}); put back the starter's '# ---- TODO begin/end ----' lines"]
    if student.regions != expected.regions:
        return [f"{markers} (the starter has {expected.regions} regions, this file {student.regions}); "
                "put back the starter's '# ---- TODO begin/end ----' lines"]
    student_lines, expected_lines = _significant(student.lines), _significant(expected.lines)
    got, want = [text for _, text in student_lines], [text for _, text in expected_lines]
    numbers = [number for number, _ in student_lines] + [student_lines[-1][0] + 1 if student_lines else 1]
    problems = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, got, want, autojunk=False).get_opcodes():
        changed = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        problems += [f"{file.name} line {numbers[i1 + k]}: changed outside the TODO regions: "
                     f"{got[i1 + k].strip()!r} (the starter has {want[j1 + k].strip()!r})" for k in range(changed)]
        if tag != "equal":
            problems += [f"{file.name} line {numbers[i]}: a line was added outside the TODO regions: "
                         f"{got[i].strip()!r}" for i in range(i1 + changed, i2)]
            problems += [f"{file.name} line {numbers[i2]}: the starter's line {want[j].strip()!r} is missing "
                         "here (outside the TODO regions)" for j in range(j1 + changed, j2)]
    return problems[:MAX_REGION_DIFFS]


def _significant(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The lines that count as code for the region rule: not blank (blank lines and notebook cell boundaries
    never count as edits) and not an IPython-only line that the loader neutralised."""
    return [(number, text) for number, text in lines
            if text.strip() and not text.lstrip().removeprefix("pass  ").startswith(REMOVED)]


# ---- imports --------------------------------------------------------------------------------------

def _check_imports(lab: Lab, file: _File) -> list[str]:
    """Every import (anywhere in the file) is one of the starter's own."""
    allowed = {entry for _, entry in _imports(ast.parse(lab.starter_files[file.name]))}
    return [f"{file.name} line {line}: {_import_text(entry)} is a new import; only the starter's imports "
            "are allowed" for line, entry in _imports(file.tree) if entry not in allowed]


def _imports(tree: ast.AST) -> list[tuple[int, tuple[str, str | None, str]]]:
    """(line, (module, imported name or None, bound name)) for every import in the tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, (a.name, None, a.asname or a.name)) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [(node.lineno, (module, a.name, a.asname or a.name)) for a in node.names]
    return sorted(found, key=lambda line_and_entry: line_and_entry[0])


def _import_text(entry: tuple[str, str | None, str]) -> str:
    """The import statement a normalised entry stands for."""
    module, name, bound = entry
    text = f"import {module}" if name is None else f"from {module} import {name}"
    return text if bound == (name or module) else f"{text} as {bound}"


# ---- forbidden APIs -------------------------------------------------------------------------------

def _check_forbidden(lab: Lab, file: _File) -> list[str]:
    """No use of the lab's forbidden APIs, nor of any escape hatch."""
    local = [Path(name).stem for name in (*lab.files, *lab.given)]
    return _ForbiddenFinder(file.tree, file.name, lab.forbidden["names"], local).problems()


def _prefixes(path: str) -> list[str]:
    """``a``, ``a.b``, ``a.b.c`` for ``a.b.c``."""
    parts = path.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


class _ForbiddenFinder:
    """Resolves the dotted names a module's expressions refer to (through imports and simple alias
    assignments) and reports forbidden APIs and escape hatches.

    Alias resolution is a flow-insensitive propagation of (name, dotted path) facts along assignments
    ``target = base.attr...``: each fact is added once and pushed along each assignment that reads its
    name once, and a name holds at most MAX_ALIASES facts, so the work is linear in the file's size.
    """

    def __init__(self, tree: ast.Module, filename: str, names: list[str], local_modules: list[str] = ()):
        self.filename, self.names = filename, list(names)
        self.nodes = list(ast.walk(tree))  # walked once: the checks below are linear in its length
        self.forbidden = frozenset(self.names)
        self.local = frozenset(local_modules)
        self.modules = frozenset(module_roots(self.nodes)) - self.local  # the library modules the file imports
        self.methods = {method: name for name in self.names if (method := _method_of(name))}
        self.flagged = frozenset({*self.names, *ESCAPE_HATCHES, *ATTRIBUTE_BUILTINS})
        self.leads_to_flagged = frozenset(prefix for name in self.flagged for prefix in _prefixes(name)[:-1])
        self.called = {id(node.func) for node in self.nodes if isinstance(node, ast.Call)}
        self.aliases: dict[str, set[str]] = {}
        self.ambiguous: dict[str, int] = {}  # name -> line of an assignment that bound it to one path too many
        self._resolve_aliases()

    def problems(self) -> list[str]:
        """One message per (line, reason), in line order."""
        found: dict[tuple[int, str], str] = {}
        for name, line in self.ambiguous.items():
            found[(line, f"ambiguous:{name}")] = (f"{self.filename} line {line}: {name} stands for more than "
                                                 f"{MAX_ALIASES} different modules or functions, too many to check: "
                                                 "give each its own name")
        for node in self.nodes:
            for key, message in self._problems_at(node):
                found.setdefault((node.lineno, key), f"{self.filename} line {node.lineno}: {message}")
        return [found[key] for key in sorted(found, key=lambda line_and_key: line_and_key[0])]

    # -- name resolution

    def _resolve_aliases(self) -> None:
        """Bind names from imports, then push every binding along the assignments that read the name."""
        work: list[tuple[str, str]] = []
        readers: dict[str, list[tuple[ast.Name, tuple[str, ...]]]] = {}  # name -> (target, attributes) it flows to
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    bound = a.asname or a.name.partition(".")[0]
                    self._bind(bound, a.name if a.asname else bound, node.lineno, work)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                for a in node.names:
                    if a.name != "*":
                        self._bind(a.asname or a.name, f"{node.module}.{a.name}", node.lineno, work)
            for target, value in _assigned(node):
                chain = _chain(value)
                if chain:
                    base, attributes = chain
                    readers.setdefault(base, []).append((target, attributes))
                    if base in self.flagged:  # a builtin such as exec or getattr stands for itself
                        self._bind(base, base, target.lineno, work)
        while work:
            name, path = work.pop()
            for target, attributes in readers.get(name, ()):
                relevant = self._relevant(".".join((path, *attributes)))
                if relevant:
                    self._bind(target.id, relevant, target.lineno, work)

    def _relevant(self, path: str) -> str | None:
        """What an alias of ``path`` needs to remember: the path if it leads to a flagged name, the shortest
        problematic name it lies under (which keeps the alias sets small), else None."""
        if path in self.leads_to_flagged:
            return path
        return next((prefix for prefix in _prefixes(path) if prefix in self.flagged or self._kind(prefix)), None)

    def _bind(self, name: str, path: str, line: int, work: list[tuple[str, str]]) -> None:
        """Record that ``name`` may refer to ``path`` (and queue the new fact)."""
        known = self.aliases.setdefault(name, set())
        if path in known:
            return
        if len(known) >= MAX_ALIASES:
            self.ambiguous.setdefault(name, line)
            return
        known.add(path)
        work.append((name, path))

    def _paths(self, node: ast.AST) -> set[str]:
        """The dotted names an expression may refer to (empty if it is not a plain reference)."""
        attributes: list[str] = []
        while (access := self._access(node)) and access[0] in ("attribute", "getattr"):
            if len(attributes) == MAX_DEPTH:
                return set()
            _, node, attribute = access
            attributes.append(attribute)
        if not isinstance(node, ast.Name):
            return set()
        attributes.reverse()
        return {".".join([base, *attributes]) for base in self.aliases.get(node.id) or {node.id}}

    def _access(self, node: ast.AST) -> tuple[str, ast.expr, str] | None:
        """(how, object, attribute name) for ``obj.name`` and ``getattr/setattr/delattr(obj, "name")``."""
        if isinstance(node, ast.Attribute):
            return "attribute", node.value, node.attr
        if isinstance(node, ast.Call) and len(node.args) >= 2 and (attr := _literal(node.args[1])) is not None:
            if builtins := self._paths(node.func) & ATTRIBUTE_BUILTINS:
                return min(builtins), node.args[0], attr
        return None

    # -- what is wrong at one node

    def _problems_at(self, node: ast.AST) -> list[tuple[str, str]]:
        """(key, message) for the problems at one node; the key de-duplicates a line's messages."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return self._import_problems(node)
        if isinstance(node, ast.Name):
            return self._path_problem(node, self._paths(node))
        access = self._access(node)
        if access:
            _, obj, attr = access
            found = self._path_problem(node, {f"{base}.{attr}" for base in self._paths(obj)})
            if not found and attr in self.methods:
                found = [(self.methods[attr], f"{self._verb(node)} .{attr} ({self.methods[attr]}), which this lab "
                                              f"forbids{self._hint(node, attr)}")]
            if not found and attr in INTERNAL_ATTRIBUTES:
                found = [(attr, f"accessing {attr} {_REACHES_INTERNALS}")]
            if not found and attr in MODULE_ATTRIBUTES:
                found = [(attr, f".{attr} reaches the module {attr} through another object, which is not allowed: "
                                "use the starter's imports")]
            return found
        if isinstance(node, ast.Call) and (builtins := self._paths(node.func) & ATTRIBUTE_BUILTINS):
            name = min(builtins)
            return [(name, f"{name} with a computed name is not allowed: call functions directly")]
        return []

    def _kind(self, path: str) -> str | None:
        """Why a dotted name is refused by itself (not by what lies under it), or None."""
        root, _, rest = path.partition(".")
        leaf = path.rpartition(".")[2]
        if path in self.forbidden:
            return "forbidden"
        if path in ESCAPE_HATCHES:
            return "hatch"
        if rest and root in self.modules and leaf.startswith("_") and leaf not in PUBLIC_DUNDERS:
            return "private"
        if rest and root in self.modules and leaf in MODULE_ATTRIBUTES:
            return "module"
        return None

    def _path_problem(self, node: ast.AST, paths: set[str]) -> list[tuple[str, str]]:
        """The first problem among the dotted names a node may refer to (empty if none)."""
        for path in sorted(paths):
            kinds = {kind: prefix for prefix in reversed(_prefixes(path)) if (kind := self._kind(prefix))}
            if "forbidden" in kinds:
                return [(kinds["forbidden"], f"{self._verb(node)} {path}, which this lab forbids"
                                             f"{self._hint(node, path.rpartition('.')[2])}")]
            if "hatch" in kinds:
                return [(kinds["hatch"], f"{path} {ESCAPE_HATCHES[kinds['hatch']]}")]
            if "private" in kinds:
                root = path.partition(".")[0]
                return [(kinds["private"], f"{path} is a private part of {root}, which is not allowed: "
                                           "use the public API")]
            if "module" in kinds:
                reached, _, leaf = kinds["module"].rpartition(".")
                return [(kinds["module"], f"{path} reaches the module {leaf} through {reached}, which is not "
                                          "allowed: use the starter's imports")]
            if path in ATTRIBUTE_BUILTINS and id(node) not in self.called:
                return [(path, f"{path} may only be called directly, with a literal attribute name")]
        return []

    def _import_problems(self, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
        """Imports of flagged names, and star imports that would bring forbidden names in."""
        if isinstance(node, ast.Import):
            return [problem for a in node.names for problem in self._path_problem(node, {a.name})]
        if node.level:
            return []
        problems = []
        for a in node.names:
            if a.name != "*":
                problems += self._path_problem(node, {f"{node.module}.{a.name}"})
                continue
            problems += self._path_problem(node, {node.module})
            covered = [name for name in self.names if name.startswith(node.module + ".")]
            if covered:
                problems.append((f"{node.module}.*", f"from {node.module} import * would bring in "
                                                     f"{', '.join(covered)}, which this lab forbids: import "
                                                     "names one by one"))
        return problems

    def _verb(self, node: ast.AST) -> str:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return "imports"
        return "calls" if id(node) in self.called else "uses"

    def _hint(self, node: ast.AST, leaf: str) -> str:
        return f" (write {leaf} yourself)" if id(node) in self.called else ""


def _method_of(name: str) -> str | None:
    """``method`` for a forbidden ``<pkg>.Tensor.method`` or ``numpy.ndarray.method``, else None."""
    parts = name.split(".")
    return parts[-1] if len(parts) >= 3 and parts[-2] in METHOD_OWNERS else None


def _chain(node: ast.expr) -> tuple[str, tuple[str, ...]] | None:
    """(base name, attributes) of ``base.a.b`` or ``getattr(base, "a")`` (literal names only), else None."""
    attributes: list[str] = []
    while len(attributes) <= MAX_DEPTH:
        if isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_BUILTINS
              and len(node.args) >= 2 and (attr := _literal(node.args[1])) is not None):
            attributes.append(attr)
            node = node.args[0]
        elif isinstance(node, ast.Name):
            return node.id, tuple(reversed(attributes))
        else:
            return None
    return None


def _assigned(node: ast.AST) -> list[tuple[ast.Name, ast.expr]]:
    """(name, value) for each simple name assignment (``a = x``, ``a, b = x, y``, ``a: T = x``, ``(a := x)``)."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return []
    pairs = []
    for target in targets:
        if isinstance(target, ast.Name):
            pairs.append((target, value))
        elif isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List) \
                and len(target.elts) == len(value.elts):
            pairs += [(t, v) for t, v in zip(target.elts, value.elts, strict=True) if isinstance(t, ast.Name)]
    return pairs


def _literal(node: ast.AST) -> str | None:
    """The value of a string literal, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# ---- vectorised ----------------------------------------------------------------------------------

_ELEMENTWISE_CALLS = frozenset({"map", "vectorize", "apply_along_axis", "frompyfunc"})


def _check_vectorised(lab: Lab, file: _File) -> list[str]:
    """No loop over the samples in the functions ``lab.vectorised`` lists for this file. Statically, only
    what provably scales with the input is flagged: a loop or comprehension whose iterable (or a while
    loop whose condition) involves one of the function's arguments, or names computed from them, and
    ``map``/``np.vectorize``/``np.apply_along_axis`` over them. A loop over a fixed set (parameter
    names, layers) passes here; the count-based tests judge every other form."""
    problems = []
    for entry in lab.vectorised:
        filename, _, qualname = entry.partition(":")
        if filename != file.name:
            continue
        functions = _definitions(file.tree, qualname)
        if not functions:
            problems.append(f"{file.name}: {qualname} is not defined; keep the starter's functions and classes "
                            "(this rule checks it for loops)")
        for function in functions:
            problems += [f"{file.name} line {line}: {what} in {qualname} goes over {names} — this lab requires "
                         "vectorised code (operate on the whole batch at once)"
                         for line, what, names in _loops_over_inputs(function)]
    return problems


def _loops_over_inputs(function: ast.AST) -> list[tuple[int, str, str]]:
    """(line, what, input names) for each loop of ``function`` that goes over its inputs."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    every = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    inputs = {a.arg for a in every if a.arg not in ("self", "cls")}
    inputs |= {a.arg for a in (function.args.vararg, function.args.kwarg) if a is not None}
    inputs = _derived_names(function, inputs)
    found = []
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            used = _names_in(node.iter) & inputs
            what = "a for loop"
        elif isinstance(node, ast.While):
            used = _names_in(node.test) & inputs
            what = "a while loop"
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            used = set().union(*(_names_in(g.iter) for g in node.generators)) & inputs
            what = _LOOPS[type(node)]
        elif isinstance(node, ast.Call) and _call_name(node.func) in _ELEMENTWISE_CALLS:
            used = set().union(*(_names_in(arg) for arg in node.args)) & inputs
            what = f"{_call_name(node.func)}()"
        else:
            continue
        if used:
            found.append((node.lineno, what, ", ".join(sorted(used))))
    return found


def _derived_names(function: ast.AST, inputs: set[str]) -> set[str]:
    """The inputs plus every local name assigned from an expression that involves them (a worklist over
    the assignments that read each name: linear in the size of the function)."""
    readers: dict[str, list[str]] = {}
    for node in ast.walk(function):
        for target, value in _assigned(node):
            for name in _names_in(value):
                readers.setdefault(name, []).append(target.id)
    derived, pending = set(inputs), list(inputs)
    while pending:
        for target in readers.get(pending.pop(), ()):
            if target not in derived:
                derived.add(target)
                pending.append(target)
    return derived


def _names_in(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _call_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _definitions(tree: ast.Module, qualname: str) -> list[ast.Module | _Definition]:
    """Every definition at ``qualname`` (``Class.method`` or ``function``); a redefinition counts too."""
    found: list[ast.Module | _Definition] = [tree]
    for part in qualname.split("."):
        found = [child for node in found for child in node.body
                 if isinstance(child, _Definition) and child.name == part]
    return found
