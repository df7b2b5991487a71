"""A course on disk (labs/, solutions/, data/) and one lab: the only module that knows a lab's folder
layout. Configuration files are parsed once into the typed models of ``autograder.config``."""
from __future__ import annotations

import ast
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ValidationError

from autograder.config import AlternativesFile, LabConfig, MutantsFile, Threshold
from autograder.markers import MarkerError, make_starter
from autograder.source_imports import module_roots

LAB_TOML = "lab.toml"
MUTANTS_TOML = "mutants.toml"
ALTERNATIVES_TOML = "alternatives.toml"
PROBES = "probes.py"
PUBLIC_TESTS = "public_tests.py"
HIDDEN_TESTS = "tests.py"
HANDOUT = "README.md"
EXPECTED_FILE = "expected.wire"  # generated: the values the public tests need, recorded from the reference
RECORDED_FILE = "recorded.wire"  # generated in solutions/<lab>: the reference's answers and the @recorded values
RELEASED = (HANDOUT, PUBLIC_TESTS, PROBES, LAB_TOML)  # copied from solutions/<lab> into labs/<lab> as they are
KIT_FILES = (*RELEASED, EXPECTED_FILE)  # what a lab folder holds besides the student's own files
INSTRUCTOR_FILES = (HIDDEN_TESTS, MUTANTS_TOML, ALTERNATIVES_TOML, RECORDED_FILE)  # only in solutions/<lab>


# Libraries that no lab lets student code use (rules.py flags them; the sandbox refuses to import them).
FORBIDDEN_IN_EVERY_LAB = ("scipy", "sklearn")


class LabError(Exception):
    """A lab that is missing or misconfigured (an instructor's problem, reported plainly)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class UsageError(LabError):
    """A command used in a way that cannot work (an option the lab cannot use): one line, before grading."""


@dataclass(frozen=True)
class Variant:
    """The reference with small edits: one form of a known mistake (a mutant: ``mistake`` names it, and
    ``fails`` lists the tests it must fail) or an alternative correct implementation (full marks)."""

    id: str
    title: str
    edits: tuple[tuple[str, str, str], ...]  # (file, find, replace)
    feedback: str = ""
    fails: tuple[str, ...] = ()
    mistake: str = ""  # the known mistake's id (empty for an alternative)


def parse_toml(path: Path, model: type[BaseModel]) -> BaseModel:
    """Parse ``path`` into ``model``; LabError with one line per problem (file, key, fix) otherwise."""
    from autograder.lint import describe_validation  # the wording of config errors lives with the linter

    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabError(f"{path}: cannot be read: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation(exc, path, model)
        raise LabError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(problems), problems) from None


@dataclass
class Lab:
    """One lab: its config plus where its reference (if present) and starter live."""

    id: str
    config: LabConfig
    starter_dir: Path
    solution_dir: Path | None
    course_root: Path

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def files(self) -> list[str]:
        """The files a student edits and submits."""
        return list(self.config.files)

    @property
    def given(self) -> list[str]:
        """Kit files the submission runs with, always taken from the kit, never from the student."""
        return list(self.config.given)

    @property
    def limits(self) -> dict:
        return self.config.limits.model_dump()

    @property
    def rule_points(self) -> dict[str, float]:
        return self.config.rules.model_dump()

    @property
    def forbidden(self) -> dict:
        return self.config.forbidden.model_dump()

    @property
    def forbidden_names(self) -> tuple[str, ...]:
        """The names student code may not use: the lab's own and the libraries no lab allows."""
        return tuple(dict.fromkeys([*self.forbidden["names"], *FORBIDDEN_IN_EVERY_LAB]))

    @property
    def sandbox_preload(self) -> tuple[str, ...]:
        """What the lab's warm sandbox imports before the submission: its ``preload`` but the libraries it
        blocks (a top-level module among its forbidden names, and those no lab allows). The guards make a
        blocked library unimportable, but one loaded before them would stay in memory, its classes reachable
        without an import."""
        blocked = {name for name in self.forbidden_names if "." not in name}
        return tuple(name for name in self.config.preload if name.partition(".")[0] not in blocked)

    @cached_property
    def grader_preload(self) -> tuple[str, ...]:
        """What the grader imports ahead of time to run the reference itself: the lab's ``preload`` but the
        libraries neither the reference nor the probes import (a test that needs one imports it when used,
        and its values can be ``@recorded``)."""
        imported = set()
        for source in [*self.reference_files.values(), self.probes_source]:
            try:
                tree = ast.parse(source)
            except SyntaxError:  # lint names the file; the grader preloads all, as the lab says
                return tuple(self.config.preload)
            imported |= module_roots(tree.body)  # what importing them imports (not a function's own import)
        return tuple(name for name in self.config.preload if name.partition(".")[0] in imported)

    @property
    def vectorised(self) -> list[str]:
        return list(self.config.vectorised.functions)

    def threshold(self, name: str) -> Threshold:
        try:
            return self.config.thresholds[name]
        except KeyError:
            raise LabError(f"lab {self.id}: {LAB_TOML} has no [thresholds.{name}]") from None

    @property
    def notebook_name(self) -> str:
        """The notebook version of the starter that release writes into labs/<lab>."""
        return f"{self.id}.ipynb"

    @property
    def has_solution(self) -> bool:
        return self.solution_dir is not None

    @property
    def home(self) -> Path:
        """Where the lab's kit files (config, probes, public tests) are read: solutions/ if present."""
        return self.solution_dir or self.starter_dir

    @property
    def recorded_path(self) -> Path:
        """Where release keeps the values of the tests' ``@recorded`` functions (never shipped to students)."""
        return self._need_solution() / RECORDED_FILE

    def sources_hash(self) -> str:
        """The sha256 of the lab's own files in solutions/<lab> (every file but the handout and what release
        generates there): what the tests' ``@recorded`` values were computed from."""
        digest = hashlib.sha256()
        for path in sorted(self._need_solution().iterdir()):
            if path.is_file() and path.name not in (RECORDED_FILE, HANDOUT) and not path.name.startswith("."):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def test_paths(self, public_only: bool) -> list[Path]:
        """The test files, public first; the hidden ones only with the solutions."""
        paths = [self.home / PUBLIC_TESTS]
        if not public_only and self.solution_dir is not None:
            paths.append(self.solution_dir / HIDDEN_TESTS)
        return [path for path in paths if path.exists()]

    @cached_property
    def probes_source(self) -> str:
        return (self.home / PROBES).read_text()

    @cached_property
    def reference_files(self) -> dict[str, str]:
        """The reference as a perfect student would submit it (TODO regions filled in), plus the given files."""
        base = self._need_solution()
        files = {name: self._starter(base / name, keep_solution=True) for name in self.files}
        files.update({name: (base / name).read_text() for name in self.given})
        return files

    @cached_property
    def starter_files(self) -> dict[str, str]:
        """The starter's files as generated from the reference; without solutions, as recorded at release in
        ``expected.wire`` (the copies in labs/<lab> are the ones the student edits), else as they lie there."""
        if self.solution_dir is None:
            recorded = self._recorded_starter()
            if recorded is not None:
                return recorded
            return {name: (self.starter_dir / name).read_text() for name in self.files + self.given}
        files = {name: self._starter(self.solution_dir / name, keep_solution=False) for name in self.files}
        files.update({name: (self.solution_dir / name).read_text() for name in self.given})
        return files

    def _recorded_starter(self) -> dict[str, str] | None:
        """The starter recorded in ``expected.wire`` at release, if it holds every file of the lab."""
        from autograder.sandbox.wire import WireError, decode  # the recorded values' format

        path = self.starter_dir / EXPECTED_FILE
        try:
            starter = decode(path.read_bytes()).get("starter") if path.is_file() else None
        except (WireError, OSError, AttributeError):
            return None
        names = self.files + self.given
        if not isinstance(starter, dict) or not all(isinstance(starter.get(name), str) for name in names):
            return None
        return {name: starter[name] for name in names}

    def _starter(self, path: Path, keep_solution: bool) -> str:
        try:
            return make_starter(path.read_text(), str(path), keep_solution=keep_solution)
        except MarkerError as exc:
            raise LabError(str(exc)) from None
        except OSError as exc:
            raise LabError(f"{path}: cannot be read ({exc.strerror}); it is listed in {LAB_TOML}") from None

    @cached_property
    def mutants(self) -> list[Variant]:
        """Every form of every known mistake (``mutants.toml``)."""
        path = self._need_solution() / MUTANTS_TOML
        if not path.exists():
            return []
        parsed = parse_toml(path, MutantsFile)
        return [Variant(f"{mistake.id}/{form.id}", mistake.title, _edits(form), mistake.feedback,
                        tuple(dict.fromkeys(mistake.fails + form.fails)), mistake.id)
                for mistake in parsed.mistake for form in mistake.form]

    @cached_property
    def mistakes(self) -> dict[str, Variant]:
        """Each known mistake by id, with the tests every one of its forms fails."""
        path = self._need_solution() / MUTANTS_TOML
        if not path.exists():
            return {}
        return {m.id: Variant(m.id, m.title, (), m.feedback, tuple(m.fails), m.id)
                for m in parse_toml(path, MutantsFile).mistake}

    @cached_property
    def alternatives(self) -> list[Variant]:
        """Alternative correct implementations (``alternatives.toml``)."""
        path = self._need_solution() / ALTERNATIVES_TOML
        if not path.exists():
            return []
        parsed = parse_toml(path, AlternativesFile)
        return [Variant(alt.id, alt.title, _edits(alt)) for alt in parsed.alternative]

    def variant_files(self, variant: Variant) -> dict[str, str]:
        """The reference with the variant's edits applied; each edit must match exactly once."""
        files = dict(self.reference_files)
        for name, find, replace in variant.edits:
            if name not in self.files:
                raise LabError(f"{self.id} variant {variant.id}: {name} is not one of the lab's files {self.files}")
            count = files[name].count(find)
            if count != 1:
                raise LabError(f"{self.id} variant {variant.id}: its 'find' text occurs {count} times in {name} "
                               "(it must occur exactly once in the reference with its solution regions filled in)")
            files[name] = files[name].replace(find, replace)
        return files

    def _need_solution(self) -> Path:
        if self.solution_dir is None:
            raise LabError(f"lab {self.id}: this needs solutions/{self.id}, which this copy of the kit does not have")
        return self.solution_dir


def _edits(entry) -> tuple[tuple[str, str, str], ...]:
    return tuple((edit.file, edit.find, edit.replace) for edit in entry.all_edits())


@dataclass
class Course:
    """The folder that holds labs/, solutions/ (instructors only) and data/."""

    root: Path
    _labs: dict[str, Lab] = field(default_factory=dict, repr=False)

    @classmethod
    def find(cls, start: Path | None = None) -> "Course":
        """The course root: $AUTOGRADER_ROOT, else the nearest folder above ``start`` with labs/."""
        if os.environ.get("AUTOGRADER_ROOT"):
            return cls(Path(os.environ["AUTOGRADER_ROOT"]).resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "labs").is_dir() and (folder / "autograder").is_dir():
                return cls(folder)
        package_root = Path(__file__).resolve().parent.parent
        if (package_root / "labs").is_dir():
            return cls(package_root)
        raise LabError("cannot find the course folder (one with labs/ and autograder/); set AUTOGRADER_ROOT")

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def lab_ids(self) -> list[str]:
        found = {p.parent.name for p in (self.root / "solutions").glob(f"*/{LAB_TOML}")}
        found |= {p.parent.name for p in (self.root / "labs").glob(f"*/{LAB_TOML}")}
        return sorted(found)

    def lab(self, lab_id: str) -> Lab:
        if lab_id not in self._labs:
            self._labs[lab_id] = self._load(lab_id)
        return self._labs[lab_id]

    def _load(self, lab_id: str) -> Lab:
        solution_dir = self.root / "solutions" / lab_id
        starter_dir = self.root / "labs" / lab_id
        has_solution = (solution_dir / LAB_TOML).is_file()
        config_path = (solution_dir if has_solution else starter_dir) / LAB_TOML
        if not config_path.is_file():
            known = ", ".join(self.lab_ids()) or "none"
            raise LabError(f"no lab called {lab_id!r} (labs here: {known})")
        config = parse_toml(config_path, LabConfig)
        return Lab(lab_id, config, starter_dir, solution_dir if has_solution else None, self.root)
