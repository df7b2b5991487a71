"""How well the grader recognises known mistakes written in ways it has never seen.

Each ``benchmarks/unseen_mistakes/<lab>.toml`` holds known mistakes of a lab written differently from
every form in its mutants.toml. Each is graded through the real sandbox (the training tests skipped, as
in ``verify --quick``) and counted as: losing points; named (a line names the mistake's title); or, if
not named, its effect stated (a line says how the values differ: a factor, a sign, transposed axes, the
wrong axis, an overflow, a mask...). Targets (issue "Grading engine v2"): >= 95% lose points, >= 80% named
or effect stated.

    python benchmarks/diagnosis.py [LAB ...] [--check]
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.config import Edit
from autograder.lab import Course, Variant
from autograder.verify import grade_files
from autograder.expected import LiveExpected

HERE = Path(__file__).resolve().parent
EFFECT_PHRASES = ("times of the expected", "of the expected:", "wrong sign", "transposed", "axes swapped",
                  "wrong axis", "overflow", "underflow", "should be 0", "should not be", "same constant",
                  "different order", "every value is 0", "unchanged", "one more along", "one fewer along",
                  "axis is missing", "wrong shape", "loop over the samples", "more than once", "same order",
                  "index order", "start at zero", "disagree", "must not see later")
TARGET_LOSE, TARGET_NAMED = 0.95, 0.80


def unseen(lab_id: str) -> list[tuple[str, Variant]]:
    """(mistake id, variant) for each unseen form of a lab."""
    path = HERE / "unseen_mistakes" / f"{lab_id}.toml"
    entries = tomllib.loads(path.read_text())["unseen"]
    found = []
    for i, entry in enumerate(entries):
        edits = entry.get("edits") or [{k: entry[k] for k in ("file", "find", "replace")}]
        parsed = tuple((e.file, e.find, e.replace) for e in (Edit(**edit) for edit in edits))
        found.append((entry["mistake"], Variant(f"{entry['mistake']}#{i + 1}", entry["mistake"], parsed)))
    return found


def judge(course: Course, lab_id: str) -> list[tuple[str, bool, str]]:
    """(variant id, loses points, 'named' | 'effect' | 'silent') for each unseen form of a lab."""
    lab = course.lab(lab_id)
    expected = LiveExpected(lab)
    rows = []
    for mistake, variant in unseen(lab_id):
        result = grade_files(course, lab, lab.variant_files(variant), variant.id, expected,
                             only=lambda spec: not spec.slow)
        lost = [line for line in result.tests if line.score < line.max_score]
        title = lab.mistakes[mistake].title
        if any(line.mistake == title for line in lost):
            said = "named"
        elif any(phrase in text for line in lost for text in line.feedback for phrase in EFFECT_PHRASES):
            said = "effect"
        else:
            said = "silent"
        rows.append((variant.id, bool(lost), said))
    return rows


def main(argv: list[str]) -> int:
    course = Course.find(HERE)
    labs = [arg for arg in argv if not arg.startswith("--")] or \
        sorted(path.stem for path in (HERE / "unseen_mistakes").glob("*.toml"))
    console = Console(width=120)
    table = Table("lab", "unseen form", "loses points", "feedback", title="Known mistakes written in unseen ways")
    rows = []
    for lab_id in labs:
        for variant_id, lost, said in judge(course, lab_id):
            rows.append((lost, said))
            table.add_row(lab_id, variant_id, "yes" if lost else "NO", said)
    console.print(table)
    lose = sum(lost for lost, _ in rows) / len(rows)
    named = sum(said in ("named", "effect") for _, said in rows) / len(rows)
    only_named = sum(said == "named" for _, said in rows) / len(rows)
    console.print(f"{len(rows)} unseen forms: {lose:.0%} lose points (target {TARGET_LOSE:.0%}); {named:.0%} get a line "
                  f"that names the mistake or states its effect (target {TARGET_NAMED:.0%}); {only_named:.0%} named")
    return 1 if "--check" in argv and (lose < TARGET_LOSE or named < TARGET_NAMED) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
