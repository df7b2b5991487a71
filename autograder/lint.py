"""``autograder lint``: every instructor mistake in a lab's files, one line each, before any grading.

Checked: the three TOML files against their models (unknown keys, wrong types, missing keys), the
solution markers, that the test files compile and import, that every mutant's and alternative's edit
applies exactly once, that ``fails`` names real tests, that every probe a test calls is defined in
probes.py, that every threshold a test uses is configured, and that the vectorised functions exist.
"""
from __future__ import annotations

import ast
import difflib
import fnmatch
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from autograder.lab import (ALTERNATIVES_TOML, HIDDEN_TESTS, LAB_TOML, MUTANTS_TOML, PROBES, PUBLIC_TESTS, Course,
                            Lab, LabError)

# Methods of Run whose first argument is a probe name, and the keyword that names a threshold.
PROBE_METHODS = frozenset({"student", "reference", "expect_match", "held_out", "expect_vectorised", "line_counts"})
THRESHOLD_KEYWORD = "threshold"


def describe_validation(error: ValidationError, path: Path, model: type[BaseModel]) -> list[str]:
    """One line per validation problem: the file, the key as written in TOML, what is wrong, the fix."""
    lines = []
    for problem in error.errors():
        location = problem["loc"]
        where = _toml_key(location)
        kind = problem["type"]
        if kind == "extra_forbidden":
            lines.append(f"{path}: {where}: unknown key{_suggest(location, model)}")
        elif kind == "missing":
            lines.append(f"{path}: {where}: required key is missing")
        elif kind in ("list_type", "dict_type"):
            shape = "a list, e.g. [\"a\", \"b\"]" if kind == "list_type" else "a table"
            lines.append(f"{path}: {where}: expected {shape}, got {_shown(problem['input'])}")
        else:
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {where}: {message} (got {_shown(problem['input'])})")
    return lines


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _toml_key(location: tuple) -> str:
    """``("mistake", 0, "form", 1, "edits", 0, "fails")`` -> ``[[mistake]] #1 > [[form]] #2 > [[edits]] #1 > fails``."""
    parts: list[str] = []
    for i, part in enumerate(location):
        if isinstance(part, int):
            continue
        if i + 1 < len(location) and isinstance(location[i + 1], int):
            parts.append(f"[[{part}]] #{location[i + 1] + 1}")
        else:
            parts.append(str(part))
    return " > ".join(parts) or "the file"


def _suggest(location: tuple, model: type[BaseModel]) -> str:
    """A hint for an unknown key: a close known name, or the TOML trap of keys written after a sub-table."""
    key = location[-1]
    known = _fields_at(model, location[:-1])
    if key in ("fails", "title", "feedback", "id") and "edits" in [p for p in location if isinstance(p, str)]:
        return (f" ({key!r} is written after a [[...edits]] table, so TOML puts it inside that table: move it "
                "above the first [[...edits]] header)")
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(known)})" if known else ""


def _fields_at(model: type[BaseModel], location: tuple) -> list[str]:
    """The field names of the model found by walking ``location`` (list indexes skipped)."""
    current: Any = model
    keyed = False  # the last field was a table of tables (dict): the next part is a key of the user's
    for part in location:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        keyed = getattr(fields[part].annotation, "__origin__", None) is dict
        current = _inner_model(fields[part].annotation)
    return sorted(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    """The model inside ``list[M]``, ``dict[str, M]``, ``M | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def lint(course: Course, lab_id: str) -> list[str]:
    """Every problem found in one lab, one line each (empty when the lab is sound)."""
    try:
        lab = course.lab(lab_id)
    except LabError as exc:
        return exc.problems
    if lab.solution_dir is None:
        return []  # a student's copy: only solutions/ can be linted
    problems = _check_files(lab) or _check_markers(lab)  # the later checks need readable, well-marked files
    if problems:
        return problems
    return _check_variants(lab) + _check_tests(lab)


def _check_files(lab: Lab) -> list[str]:
    base = lab.solution_dir
    missing = [name for name in (*lab.files, *lab.given, PROBES, PUBLIC_TESTS) if not (base / name).is_file()]
    return [f"{base / name}: missing (named in {LAB_TOML} or required in every lab)" for name in missing]


def _check_markers(lab: Lab) -> list[str]:
    try:
        lab.reference_files
        lab.starter_files
    except LabError as exc:
        return exc.problems
    return []


MIN_FORMS = 2  # forms of each known mistake (the curriculum contract)


def _check_variants(lab: Lab) -> list[str]:
    problems = []
    try:
        forms = [m.mistake for m in lab.mutants]
    except LabError:
        forms = []  # reported below
    for mistake in dict.fromkeys(forms):
        if forms.count(mistake) < MIN_FORMS:
            problems.append(f"{lab.solution_dir / MUTANTS_TOML}: mistake {mistake!r} has {forms.count(mistake)} form; "
                            f"write it at least {MIN_FORMS} ways, as different students would")
    for filename, attribute in ((MUTANTS_TOML, "mutants"), (ALTERNATIVES_TOML, "alternatives")):
        try:
            variants = getattr(lab, attribute)
        except LabError as exc:
            problems += exc.problems
            continue
        for variant in variants:
            try:
                lab.variant_files(variant)
            except LabError as exc:
                problems.append(f"{lab.solution_dir / filename}: {exc}")
    return problems


def _check_tests(lab: Lab) -> list[str]:
    """Test files compile and import; fails lists name real tests; probes and thresholds exist."""
    from autograder.runner import TestFileError, collect  # the runner imports the tests; lint reports

    base = lab.solution_dir
    problems = []
    for name in (PUBLIC_TESTS, HIDDEN_TESTS, PROBES):
        path = base / name
        if path.exists():
            try:
                compile(path.read_text(), str(path), "exec")
            except SyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: does not compile: {exc.msg}")
    if problems:
        return problems
    try:
        specs = collect(lab, public_only=False)
    except TestFileError as exc:
        return [str(exc)]
    known_tests = {spec.name for spec in specs} | {f"rule:{rule}" for rule, points in lab.rule_points.items() if points}
    try:
        mutants = lab.mutants
    except LabError:
        mutants = []  # already reported
    for mutant in mutants:
        for test_id in mutant.fails:
            if test_id not in known_tests:
                hint = difflib.get_close_matches(test_id, sorted(known_tests), n=1)
                problems.append(f"{base / MUTANTS_TOML}: mistake {mutant.mistake!r} fails {test_id!r}, which is no "
                                f"test or rule with points of this lab" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    problems = list(dict.fromkeys(problems))
    defined = _top_level_functions(base / PROBES)
    for path in lab.test_paths(public_only=False):
        for line, probe in _probe_names(path):
            if probe not in defined:
                hint = difflib.get_close_matches(probe, sorted(defined), n=1)
                problems.append(f"{path}:{line}: probe {probe!r} is not defined in {PROBES}"
                                + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        for line, threshold in threshold_names(path):
            if not thresholds_named(threshold, lab.config.thresholds):
                problems.append(f"{path}:{line}: threshold {threshold!r} has no [thresholds.{threshold}] in {LAB_TOML}")
    problems += _check_vectorised_names(lab)
    return problems


def _top_level_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _probe_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of string literals passed as probe names: ``run.<method>("name", ...)`` for the Run
    methods that take a probe, and ``helper(run, "name", ...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func, args = node.func, node.args
        if isinstance(func, ast.Attribute) and func.attr in PROBE_METHODS and _is_run(func.value):
            first = args[0]
        elif len(args) >= 2 and _is_run(args[0]):
            first = args[1]
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((node.lineno, first.value))
    return found


def _is_run(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "run"


def datasets_used(lab: Lab, public_only: bool = False) -> list[str]:
    """The datasets a lab's tests (or only its public tests) load (``run.dataset("name", ...)`` with a literal name)."""
    names = []
    for path in lab.test_paths(public_only=public_only):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dataset" \
                    and _is_run(node.func.value) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return list(dict.fromkeys(names))


def threshold_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of each ``threshold="name"`` a test file passes (both names of ``"a" if ... else "b"``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == THRESHOLD_KEYWORD:
                    found += [(node.lineno, name) for name in _literal_strings(keyword.value)]
    return found


def _literal_strings(node: ast.expr) -> list[str]:
    """The names an expression can give: a string, both sides of a conditional, and an f-string as a
    pattern (``f"q3_accuracy_{source}"`` is ``q3_accuracy_*``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_strings(node.body) + _literal_strings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        return ["".join(part.value if isinstance(part, ast.Constant) else "*" for part in node.values)]
    return []


def thresholds_named(pattern: str, thresholds: Iterable[str]) -> list[str]:
    """The configured thresholds a name or pattern from ``threshold_names`` stands for."""
    return [name for name in thresholds if fnmatch.fnmatchcase(name, pattern)]


def _check_vectorised_names(lab: Lab) -> list[str]:
    problems = []
    for entry in lab.vectorised:
        filename, _, qualname = entry.partition(":")
        if filename not in lab.files:
            problems.append(f"{lab.solution_dir / LAB_TOML}: [vectorised] functions: {filename} in {entry!r} is not "
                            "one of the lab's files")
            continue
        scope: list[ast.AST] = [ast.parse(lab.reference_files[filename])]
        for part in qualname.split("."):
            scope = [child for node in scope for child in getattr(node, "body", [])
                     if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child.name == part]
        if not scope:
            problems.append(f"{lab.solution_dir / LAB_TOML}: [vectorised] functions: {qualname} is not defined in "
                            f"{filename}")
    return problems
