"""Gradescope's autograder ``results.json``: one entry per scored line, rules included.

What a student sees, and when (``[gradescope]`` in lab.toml; the README says it in words):
- public tests and rules: ``visible`` at once, with points, status and full feedback (and printed output);
- hidden tests: ``visible`` at once with their name, passed/failed and, when a test recognises it, the
  known mistake's title (the runner keeps nothing else of a hidden line); their points are shown at once
  too (``hidden_points = "visible"``, the default) or, with ``hidden_points = "after_due_date"``, in one
  ``after_due_date`` entry that sums them;
- tests written with ``visibility="after_due_date"``: one ``after_due_date`` entry each (the same limited
  message as a hidden test).
Gradescope hides a student's total while any entry is not yet shown, so the summary states the total
only when every point is visible. Labs with a ``[leaderboard]`` fill the ``leaderboard`` field.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from autograder.report.common import display_name, feedback_lines, header_fields, points, printable, total_line
from autograder.result import GradeResult, TestResult

if TYPE_CHECKING:
    from autograder.config import LabConfig

HIDDEN_POINTS_ENTRY = "Points of the hidden tests"


def summary(result: GradeResult, total_shown: bool = True) -> str:
    """The top-level ``output``: what was graded, the isolation profile, any warning and messages, and the
    total (or, while some points are held back until the due date, the points shown now)."""
    lines = [f"{label}: {value}" for label, value in header_fields(result)]
    if result.isolation.warning:
        lines.append(f"WARNING: {result.isolation.warning}")
    lines += [f"- {printable(message)}" for message in result.messages]
    if total_shown:
        lines.append(total_line(result))
    else:
        shown = [t for t in result.tests if t.counts and t.visibility == "public"]
        lines.append(f"Points of the public tests and rules: {points(sum(t.score for t in shown))} / "
                     f"{points(sum(t.max_score for t in shown))}. Your total appears after the due date.")
    return "\n".join(lines)


def entry(test: TestResult, visibility: str = "visible", with_points: bool = True) -> dict:
    """One scored line as a Gradescope test (partial credit is ``failed``: the score tells how much)."""
    data = {"name": display_name(test), "status": "passed" if test.status == "passed" else "failed",
            "output": "\n".join(feedback_lines(test)), "visibility": visibility}
    if with_points:
        data["score"] = test.score if test.counts else 0.0
        data["max_score"] = test.max_score if test.counts else 0.0
    return data


def entries(result: GradeResult, hidden_points: str = "visible") -> list[dict]:
    """Every line's entry, in order, and the hidden tests' points entry when they are held back."""
    out, held = [], []
    for test in result.tests:
        if test.visibility == "public":
            out.append(entry(test))
        elif test.visibility == "after_due_date":
            out.append(entry(test, "after_due_date"))
        elif hidden_points == "after_due_date":
            out.append(entry(test, with_points=False))
            held.append(test)
        else:
            out.append(entry(test))
    if held:
        counted = [test for test in held if test.counts]
        score, max_score = sum(t.score for t in counted), sum(t.max_score for t in counted)
        out.append({"name": HIDDEN_POINTS_ENTRY, "score": score, "max_score": max_score,
                    "status": "passed" if score >= max_score else "failed", "visibility": "after_due_date",
                    "output": "\n".join(f"{t.name}: {points(t.score)} / {points(t.max_score)}" for t in counted)})
    return out


def leaderboard(result: GradeResult, config: "LabConfig | None") -> list[dict] | None:
    """The ``leaderboard`` field: the lab's leaderboard metric, if the lab has one and this grading measured it."""
    board = config.leaderboard if config else None
    if board is None:
        return None
    values = [t.metrics[board.metric] for t in result.tests if board.metric in t.metrics and t.counts]
    if not values or not math.isfinite(values[0]):
        return None
    return [{"name": board.metric, "value": values[0], "order": "desc" if board.higher_is_better else "asc"}]


def render_gradescope(result: GradeResult, config: "LabConfig | None" = None) -> str:
    """The ``results.json`` Gradescope reads from ``/autograder/results/``."""
    hidden_points = config.gradescope.hidden_points if config else "visible"
    tests = entries(result, hidden_points)
    data = {
        "score": result.score,
        "output": summary(result, total_shown=all(test["visibility"] == "visible" for test in tests)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": result.seconds,
        "tests": tests,
    }
    board = leaderboard(result, config)
    if board:
        data["leaderboard"] = board
    return json.dumps(data, indent=2)
