"""Solution markers in reference code, and the editable regions they become in the starter.

In a reference file::

    ### BEGIN SOLUTION subtract each row's maximum before exp
    shifted = X - X.max(dim=1, keepdim=True).values
    ### END SOLUTION

becomes, in the starter, a TODO region that the student fills in::

    # ---- TODO begin: subtract each row's maximum before exp ----
    raise NotImplementedError("TODO: subtract each row's maximum before exp")
    # ---- TODO end ----

``### BEGIN HYPERPARAMETERS`` / ``### END HYPERPARAMETERS`` keep their lines in the starter and mark
them editable. Everything outside the regions must stay byte-for-byte (modulo trailing whitespace).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SOLUTION_BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*(?P<hint>.*?)\s*$")
SOLUTION_END = re.compile(r"^\s*### END SOLUTION\s*$")
HYPER_BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN HYPERPARAMETERS\s*$")
HYPER_END = re.compile(r"^\s*### END HYPERPARAMETERS\s*$")

TODO_BEGIN = re.compile(r"^\s*# ---- TODO begin(: .*)? ----$")
TODO_END = re.compile(r"^\s*# ---- TODO end ----$")
TUNE_BEGIN = re.compile(r"^\s*# ---- HYPERPARAMETERS begin \(you may tune these\) ----$")
TUNE_END = re.compile(r"^\s*# ---- HYPERPARAMETERS end ----$")


class MarkerError(ValueError):
    """A reference file whose markers do not pair up."""


def has_solution_markers(source: str) -> bool:
    """Whether a file carries solution markers (it is a reference, not a student's file)."""
    return any(SOLUTION_BEGIN.match(line) for line in source.splitlines())


def make_starter(reference: str, filename: str = "<reference>", keep_solution: bool = False) -> str:
    """Turn a reference file with solution markers into the student's starter; with
    ``keep_solution``, into the reference as a perfect student would submit it (regions filled in)."""
    out: list[str] = []
    lines = reference.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        begin, hyper = SOLUTION_BEGIN.match(line), HYPER_BEGIN.match(line)
        if begin:
            end = _find(lines, i, SOLUTION_END, filename)
            indent, hint = begin["indent"], begin["hint"] or "your code here"
            body = lines[i + 1:end] if keep_solution else [f"{indent}raise NotImplementedError({('TODO: ' + hint)!r})"]
            out += [f"{indent}# ---- TODO begin: {hint} ----", *body, f"{indent}# ---- TODO end ----"]
            i = end + 1
        elif hyper:
            end = _find(lines, i, HYPER_END, filename)
            out += [f"{hyper['indent']}# ---- HYPERPARAMETERS begin (you may tune these) ----"]
            out += lines[i + 1:end]
            out += [f"{hyper['indent']}# ---- HYPERPARAMETERS end ----"]
            i = end + 1
        elif SOLUTION_END.match(line) or HYPER_END.match(line) or "### BEGIN" in line:
            raise MarkerError(f"{filename}:{i + 1}: marker without its pair: {line.strip()}")
        else:
            out.append(line)
            i += 1
    return "\n".join(out) + "\n"


def _find(lines: list[str], start: int, end_pattern: re.Pattern, filename: str) -> int:
    for j in range(start + 1, len(lines)):
        if end_pattern.match(lines[j]):
            return j
        if "### BEGIN" in lines[j]:
            break
    raise MarkerError(f"{filename}:{start + 1}: region opened here is never closed")


@dataclass
class Skeleton:
    """A file with the content of its editable regions collapsed: what must match the starter."""

    lines: list[tuple[int, str]]  # (1-based line number in the file, text without trailing space)
    regions: int


def skeleton(source: str) -> Skeleton:
    """Collapse every editable region of a starter-shaped file; raises MarkerError if unbalanced."""
    kept: list[tuple[int, str]] = []
    regions = 0
    open_end: re.Pattern | None = None
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.rstrip()
        if open_end is None:
            if TODO_BEGIN.match(line) or TUNE_BEGIN.match(line):
                open_end = TODO_END if TODO_BEGIN.match(line) else TUNE_END
                kept.append((number, line))
            elif TODO_END.match(line) or TUNE_END.match(line):
                raise MarkerError(f"line {number}: an end-of-region marker without its begin marker")
            else:
                kept.append((number, line))
        elif open_end.match(line):
            open_end = None
            regions += 1
            kept.append((number, line))
        elif TODO_BEGIN.match(line) or TUNE_BEGIN.match(line):
            raise MarkerError(f"line {number}: a region begins inside another region")
    if open_end is not None:
        raise MarkerError("a region's end marker is missing")
    while kept and not kept[-1][1]:
        kept.pop()
    return Skeleton(kept, regions)
