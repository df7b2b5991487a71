"""The lab format: ``lab.toml``, ``mutants.toml`` and ``alternatives.toml`` as typed, strict models.

Every file is parsed once into these models; an unknown key, a wrong type or a missing required key is
an error that names the file, the key and the fix (see ``autograder.lint``). ``docs/lab-format.md`` is
generated from the descriptions here (``python -m autograder.docs``), and a test keeps it in step.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
PyFile = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.py$")]


def unique_ids(ids: list[str], what: str) -> None:
    """Raise when ids repeat (a ValueError, which pydantic reports at the key)."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} ids repeat: {repeated}")


class Strict(BaseModel):
    """Unknown keys are errors; values are not coerced between types (``"1"`` is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Limits(Strict):
    """Resource limits of the sandbox that runs a submission."""

    timeout: float = Field(60.0, gt=0, description="wall-clock seconds per test (a test may set its own)")
    cpu: float = Field(120.0, gt=0, description="CPU seconds per probe call")
    memory_mb: int = Field(3072, ge=512, description="memory cap of the sandbox in MiB (`import torch` needs ~2 GiB)")
    startup: float = Field(120.0, gt=0, description="seconds to start the sandbox and import the submission")

    @field_validator("timeout", "cpu", "startup", mode="before")
    @classmethod
    def _int_is_float(cls, value: Any) -> Any:
        return float(value) if type(value) is int else value


class Rules(Strict):
    """Points of the static rules; a rule with 0 points is not checked."""

    regions: float = Field(0.0, ge=0, description="only the TODO regions changed")
    imports: float = Field(0.0, ge=0, description="no imports beyond the starter's")
    forbidden: float = Field(0.0, ge=0, description="no forbidden APIs (static, and at run time)")
    vectorised: float = Field(0.0, ge=0, description="no loop over samples in `[vectorised] functions` (static)")

    @field_validator("*", mode="before")
    @classmethod
    def _int_is_float(cls, value: Any) -> Any:
        return float(value) if type(value) is int else value


class Forbidden(Strict):
    """APIs the lab forbids. Names are dotted paths; a module forbids everything under it."""

    names: list[str] = Field(default_factory=list, description="dotted names, e.g. `torch.linalg`, "
                             "`torch.Tensor.backward`, `numpy.linalg.lstsq`; a top-level module forbids its import")
    aten: list[str] = Field(default_factory=list, description="aten operator names or fnmatch patterns blocked "
                            "at run time however they are reached, e.g. `linalg_lstsq`, `*convolution*`; another "
                            "namespace's as `mkldnn::*conv*`")


class Vectorised(Strict):
    """Functions the static vectorisation rule reads."""

    functions: list[str] = Field(default_factory=list, description="`file.py:Class.method` or `file.py:function`")

    @field_validator("functions")
    @classmethod
    def _qualified(cls, value: list[str]) -> list[str]:
        for entry in value:
            file, _, qualname = entry.partition(":")
            if not file.endswith(".py") or not qualname:
                raise ValueError(f"{entry!r} should look like 'file.py:Class.method'")
        return value


class Threshold(Strict):
    """A metric's bounds: full marks at ``full``, none at ``zero``, linear in between; and how they were
    calibrated (the reference over several seeds, and the margin)."""

    full: float = Field(description="the value that earns full marks")
    zero: float = Field(description="the value that earns nothing")
    higher_is_better: bool = Field(True, description="false for losses and errors")
    metric: str = Field(description="what is measured, on which data, with which budget")
    seeds: list[int] = Field(min_length=5, description="the seeds the reference was calibrated on (at least 5)")
    reference: list[float] = Field(min_length=1, description="the reference's metric on each seed")
    margin: str = Field(min_length=1, description="why full and zero sit where they do")
    secret_seeds: list[float] = Field(default_factory=list, description="the reference's metric on held-out splits "
                                      "drawn from secret seeds, as graded (see [held_out])")
    notes: dict[str, list[float] | str] = Field(default_factory=dict,
                                                description="more calibration records, free-form")

    @field_validator("full", "zero", mode="before")
    @classmethod
    def _int_is_float(cls, value: Any) -> Any:
        return float(value) if type(value) is int else value

    @field_validator("reference", "secret_seeds", mode="before")
    @classmethod
    def _ints_are_floats(cls, value: Any) -> Any:
        return [float(v) if type(v) is int else v for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _ordered(self) -> "Threshold":
        if self.full == self.zero or (self.full > self.zero) != self.higher_is_better:
            better = "above" if self.higher_is_better else "below"
            raise ValueError(f"full ({self.full:g}) must lie {better} zero ({self.zero:g}) "
                             f"when higher_is_better = {str(self.higher_is_better).lower()}")
        return self

    def fraction(self, value: float) -> float:
        """The fraction of the points ``value`` earns (NaN earns nothing)."""
        if value != value:
            return 0.0
        sign = 1.0 if self.higher_is_better else -1.0
        value, full, zero = sign * value, sign * self.full, sign * self.zero
        if value >= full:
            return 1.0
        if value <= zero:
            return 0.0
        return (value - zero) / (full - zero)


class Leaderboard(Strict):
    """A course leaderboard ranked by one metric of the hidden tests, revealed to students at a set time."""

    metric: str = Field(min_length=1, description="the label a test passes to `run.metric`/`run.held_out` "
                        "(e.g. `test accuracy`)")
    higher_is_better: bool = Field(True, description="the ranking's direction")
    reveal: datetime = Field(description="when students may see it: a TOML date-time with its time zone, e.g. "
                             "2026-12-18T23:59:00Z or 2026-12-18T23:59:00-08:00")

    @field_validator("reveal")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no time zone: write it with one, e.g. "
                             f"{value.isoformat()}Z (UTC) or {value.isoformat()}-08:00")
        return value


class Gradescope(Strict):
    """What students on Gradescope see of the hidden tests before the due date.

    Public tests and rules are always shown in full; a hidden test always shows its name, passed/failed
    and the known mistake's title, never its inputs, outputs, metric values or feedback; tests written
    with ``visibility="after_due_date"`` appear only after the due date."""

    hidden_points: Literal["visible", "after_due_date"] = Field(
        "visible", description="`visible`: each hidden test shows its points at once, so students see their "
        "total; `after_due_date`: hidden tests show passed/failed and the mistake at once, their points (and so "
        "the total) only after the due date, so that partial credit on a hidden metric test reveals nothing")


class HeldOutConfig(Strict):
    """How the graded held-out data is kept from the sandbox beyond hiding its files: synthetic held-out splits
    always come from a secret seed per grading run; a lab may add a secret task-preserving perturbation."""

    perturbation: Literal["permute_features"] | None = Field(
        None, description="`permute_features`: the inputs' features in a secret fixed order (a dense model learns "
        "the same; a copy of the public data does not match)")


class LabConfig(Strict):
    """``lab.toml``: one lab's declarative configuration."""

    title: str = Field(min_length=1, description="the lab's title, shown in reports")
    files: list[PyFile] = Field(min_length=1, description="the files students edit and submit")
    given: list[PyFile] = Field(default_factory=list, description="kit files the submission runs with, always "
                                "taken from the kit, never from the student")
    limits: Limits = Field(default_factory=Limits, description="sandbox limits (see [limits])")
    rules: Rules = Field(default_factory=Rules, description="points of the static rules (see [rules])")
    forbidden: Forbidden = Field(default_factory=Forbidden, description="forbidden APIs (see [forbidden])")
    vectorised: Vectorised = Field(default_factory=Vectorised, description="see [vectorised]")
    thresholds: dict[Identifier, Threshold] = Field(default_factory=dict,
                                                    description="metric bounds by name (see [thresholds.NAME])")
    leaderboard: Leaderboard | None = Field(None, description="see [leaderboard]")
    held_out: HeldOutConfig = Field(default_factory=HeldOutConfig, description="see [held_out]")
    preload: list[str] = Field(default_factory=lambda: ["numpy", "torch"], description="what a warm sandbox "
                               "imports before the submission, and the grader before it runs the reference (those "
                               "the reference imports); a lab that never needs torch says [\"numpy\"]")
    gradescope: Gradescope = Field(default_factory=Gradescope, description="see [gradescope]")

    @model_validator(mode="after")
    def _files_distinct(self) -> "LabConfig":
        both = set(self.files) & set(self.given)
        if both:
            raise ValueError(f"{sorted(both)} cannot be both a student file (files) and a kit file (given)")
        return self


class Edit(Strict):
    """Replace the one occurrence of ``find`` in ``file`` (of the reference, solution regions filled in)."""

    file: PyFile = Field(description="a student file of the lab")
    find: str = Field(min_length=1, description="text that occurs exactly once in the reference file")
    replace: str = Field(description="what it becomes")


class _Edited(Strict):
    """Either one edit written inline (``file``, ``find``, ``replace``) or a list of ``[[...edits]]``."""

    file: PyFile | None = Field(None, description="shorthand for a single edit")
    find: str | None = Field(None, description="shorthand for a single edit")
    replace: str | None = Field(None, description="shorthand for a single edit")
    edits: list[Edit] = Field(default_factory=list, description="several edits, as [[...edits]] tables")

    @model_validator(mode="after")
    def _one_way(self) -> "_Edited":
        inline = (self.file, self.find, self.replace)
        if any(part is not None for part in inline):
            if self.edits:
                raise ValueError("give either file/find/replace or [[...edits]] tables, not both")
            if any(part is None for part in inline):
                raise ValueError("an inline edit needs all of file, find and replace")
        elif not self.edits:
            raise ValueError("no edit: give file/find/replace or [[...edits]] tables")
        return self

    def all_edits(self) -> list[Edit]:
        if self.edits:
            return list(self.edits)
        return [Edit(file=self.file, find=self.find, replace=self.replace)]


class Form(_Edited):
    """One way of writing a known mistake: edits of the reference."""

    id: Identifier = Field(description="names this form, unique within its mistake")
    fails: list[str] = Field(default_factory=list, description="tests this form fails besides the mistake's own")


class Mistake(Strict):
    """``[[mistake]]`` in ``mutants.toml``: a known mistake, the tests that catch it, and the forms it is
    written in (at least two: students write the same mistake in many ways)."""

    id: Identifier = Field(description="unique within the lab")
    title: str = Field(min_length=1, description="the mistake's name, shown to students when a test detects it")
    feedback: str = Field(min_length=20, description="what is wrong and how to fix it, in the student's terms")
    fails: list[str] = Field(min_length=1, description="test ids (or `rule:NAME`) every form must fail; "
                             "a test fails it by losing points and naming the mistake")
    form: list[Form] = Field(min_length=1, description="the forms, as [[mistake.form]] tables (`autograder lint` "
                             "asks for at least two: students write the same mistake in many ways)")

    @model_validator(mode="after")
    def _unique_forms(self) -> "Mistake":
        unique_ids([form.id for form in self.form], "form")
        return self


class MutantsFile(Strict):
    """``mutants.toml``: the lab's known mistakes."""

    mistake: list[Mistake] = Field(default_factory=list, description="[[mistake]] tables")

    @model_validator(mode="after")
    def _unique(self) -> "MutantsFile":
        unique_ids([mistake.id for mistake in self.mistake], "mistake")
        return self


class Alternative(_Edited):
    """``[[alternative]]`` in ``alternatives.toml``: a correct implementation written differently,
    which must keep full marks."""

    id: Identifier = Field(description="unique within the lab")
    title: str = Field(min_length=1, description="what is different about it")


class AlternativesFile(Strict):
    """``alternatives.toml``: the lab's alternative correct implementations."""

    alternative: list[Alternative] = Field(default_factory=list, description="[[alternative]] tables")

    @model_validator(mode="after")
    def _unique(self) -> "AlternativesFile":
        unique_ids([alternative.id for alternative in self.alternative], "alternative")
        return self
