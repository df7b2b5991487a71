"""A course on disk (labs/, solutions/, data/) and one lab's declarative configuration (lab.toml)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from autograder.markers import make_starter


class LabError(Exception):
    """A lab that is missing or misconfigured (an instructor's problem, reported plainly)."""


@dataclass(frozen=True)
class Threshold:
    """A metric's bounds: full marks at ``full``, none at ``zero``, linear in between."""

    full: float
    zero: float
    higher_is_better: bool = True

    def fraction(self, value: float) -> float:
        if value != value:  # NaN earns nothing
            return 0.0
        if not self.higher_is_better:
            value, full, zero = -value, -self.full, -self.zero
        else:
            full, zero = self.full, self.zero
        if value >= full:
            return 1.0
        if value <= zero:
            return 0.0
        return (value - zero) / (full - zero)


@dataclass(frozen=True)
class Variant:
    """The reference with small edits: a known mistake (a mutant, with the tests it must fail and the
    feedback it earns) or an alternative correct implementation (which must keep full marks)."""

    id: str
    title: str
    edits: tuple[tuple[str, str, str], ...]  # (file, find, replace)
    feedback: str = ""
    fails: tuple[str, ...] = ()

    @classmethod
    def from_toml(cls, entry: dict) -> "Variant":
        edits = entry.get("edits") or [{k: entry[k] for k in ("file", "find", "replace")}]
        return cls(entry["id"], entry["title"], tuple((e["file"], e["find"], e["replace"]) for e in edits),
                   entry.get("feedback", ""), tuple(entry.get("fails", ())))


@dataclass
class Lab:
    """One lab: its config plus where its reference (if present) and starter live."""

    id: str
    config: dict
    starter_dir: Path
    solution_dir: Path | None
    course_root: Path

    @property
    def title(self) -> str:
        return self.config.get("title", self.id)

    @property
    def files(self) -> list[str]:
        """The files a student edits and submits."""
        return list(self.config["files"])

    @property
    def given(self) -> list[str]:
        """Kit files the submission runs with, always taken from the kit, never from the student."""
        return list(self.config.get("given", []))

    @property
    def limits(self) -> dict:
        return {"timeout": 60.0, "cpu": 120.0, "memory_mb": 3072, "startup": 120.0, **self.config.get("limits", {})}

    @property
    def rule_points(self) -> dict[str, float]:
        return dict(self.config.get("rules", {}))

    @property
    def forbidden(self) -> dict:
        return {"names": [], "aten": [], **self.config.get("forbidden", {})}

    @property
    def vectorised(self) -> list[str]:
        return list(self.config.get("vectorised", {}).get("functions", []))

    def threshold(self, name: str) -> Threshold:
        try:
            spec = self.config["thresholds"][name]
        except KeyError:
            raise LabError(f"lab {self.id}: lab.toml has no [thresholds.{name}]") from None
        return Threshold(spec["full"], spec["zero"], spec.get("higher_is_better", True))

    @property
    def has_solution(self) -> bool:
        return self.solution_dir is not None

    @cached_property
    def reference_files(self) -> dict[str, str]:
        """The reference as a perfect student would submit it (TODO regions filled in), plus the given files."""
        base = self._need_solution()
        files = {name: make_starter((base / name).read_text(), name, keep_solution=True) for name in self.files}
        files.update({name: (base / name).read_text() for name in self.given})
        return files

    @cached_property
    def starter_files(self) -> dict[str, str]:
        """The starter's files as generated from the reference (or as shipped, without solutions)."""
        if self.solution_dir is None:
            return {name: (self.starter_dir / name).read_text() for name in self.files + self.given}
        files = {name: make_starter((self.solution_dir / name).read_text(), name) for name in self.files}
        files.update({name: (self.solution_dir / name).read_text() for name in self.given})
        return files

    @cached_property
    def mutants(self) -> list[Variant]:
        """Known mistakes (``mutants.toml``)."""
        return self._variants("mutants.toml", "mutant")

    @cached_property
    def alternatives(self) -> list[Variant]:
        """Alternative correct implementations (``alternatives.toml``)."""
        return self._variants("alternatives.toml", "alternative")

    def _variants(self, filename: str, table: str) -> list[Variant]:
        path = self._need_solution() / filename
        if not path.exists():
            return []
        return [Variant.from_toml(entry) for entry in tomllib.loads(path.read_text()).get(table, [])]

    def variant_files(self, variant: Variant) -> dict[str, str]:
        """The reference with the variant's edits applied; each edit must match exactly once."""
        files = dict(self.reference_files)
        for name, find, replace in variant.edits:
            count = files[name].count(find)
            if count != 1:
                raise LabError(f"{self.id} variant {variant.id}: its 'find' text occurs {count} times in {name}")
            files[name] = files[name].replace(find, replace)
        return files

    def _need_solution(self) -> Path:
        if self.solution_dir is None:
            raise LabError(f"lab {self.id}: this needs solutions/{self.id}, which this copy of the kit does not have")
        return self.solution_dir


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
        found = {p.parent.name for p in (self.root / "solutions").glob("*/lab.toml")}
        found |= {p.parent.name for p in (self.root / "labs").glob("*/lab.toml")}
        return sorted(found)

    def lab(self, lab_id: str) -> Lab:
        if lab_id not in self._labs:
            self._labs[lab_id] = self._load(lab_id)
        return self._labs[lab_id]

    def _load(self, lab_id: str) -> Lab:
        solution_dir = self.root / "solutions" / lab_id
        starter_dir = self.root / "labs" / lab_id
        has_solution = (solution_dir / "lab.toml").is_file()
        config_path = (solution_dir if has_solution else starter_dir) / "lab.toml"
        if not config_path.is_file():
            known = ", ".join(self.lab_ids()) or "none"
            raise LabError(f"no lab called {lab_id!r} (labs here: {known})")
        try:
            config = tomllib.loads(config_path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise LabError(f"{config_path}: {exc}") from None
        return Lab(lab_id, config, starter_dir, solution_dir if has_solution else None, self.root)
