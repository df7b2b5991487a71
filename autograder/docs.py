"""The lab-format reference page (``docs/lab-format.md``): its key tables are generated from the models
of ``autograder.config`` so that they never drift from what the linter accepts.

    python -m autograder.docs          rewrite the generated tables in docs/lab-format.md
    python -m autograder.docs --check  exit 1 if they are out of date
"""
from __future__ import annotations

import re
import sys
import typing
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from autograder.config import (Alternative, AlternativesFile, Edit, Forbidden, Form, HeldOutConfig, LabConfig,
                               Leaderboard, Limits, Mistake, MutantsFile, Rules, Threshold, Vectorised)

PAGE = Path(__file__).resolve().parent.parent / "docs" / "lab-format.md"
SECTIONS: dict[str, tuple[type[BaseModel], ...]] = {
    "lab.toml": (LabConfig, Limits, Rules, Forbidden, Vectorised, Threshold, Leaderboard, HeldOutConfig),
    "mutants.toml": (MutantsFile, Mistake, Form, Edit),
    "alternatives.toml": (AlternativesFile, Alternative),
}
TABLE_NAMES = {LabConfig: "top level", Limits: "[limits]", Rules: "[rules]", Forbidden: "[forbidden]",
               Vectorised: "[vectorised]", Threshold: "[thresholds.NAME]", Leaderboard: "[leaderboard]",
               HeldOutConfig: "[held_out]",
               MutantsFile: "top level",
               Mistake: "[[mistake]]", Form: "[[mistake.form]]", Edit: "[[mistake.form.edits]]",
               AlternativesFile: "top level", Alternative: "[[alternative]]"}
BEGIN = "<!-- generated: {name} (python -m autograder.docs) -->"
END = "<!-- end generated -->"


def type_name(annotation: typing.Any) -> str:
    """A field's type as a TOML author reads it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (list, tuple):
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"table of {type_name(args[1])}"
    if origin in (typing.Union, getattr(__import__('types'), 'UnionType', None)):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", datetime: "date-time"}
    return names.get(annotation, str(annotation))


def default_text(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        return "empty" if value in ([], {}) else "see its table"
    return "none" if field.default is None or field.default is PydanticUndefined else f"`{field.default!r}`"


def table(model: type[BaseModel]) -> str:
    """One model's keys as a markdown table."""
    rows = [f"**{TABLE_NAMES[model]}** — {model.__doc__.strip().splitlines()[0]}", "",
            "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        rows.append(f"| `{name}` | {type_name(field.annotation)} | {default_text(field)} | "
                    f"{(field.description or '').replace('|', '/')} |")
    return "\n".join(rows)


def generated(name: str) -> str:
    return "\n\n".join(table(model) for model in SECTIONS[name])


def render(page: str) -> str:
    """The page with every generated block replaced by its current tables."""
    for name in SECTIONS:
        begin = BEGIN.format(name=name)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(END), re.S)
        if not pattern.search(page):
            raise ValueError(f"{PAGE} has no block '{begin}'")
        page = pattern.sub(lambda _: f"{begin}\n{generated(name)}\n{END}", page)
    return page


def main(argv: list[str]) -> int:
    page = PAGE.read_text()
    fresh = render(page)
    if "--check" in argv:
        if fresh != page:
            print(f"{PAGE} is out of date: run python -m autograder.docs", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
