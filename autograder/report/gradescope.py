"""Gradescope's autograder ``results.json``: one entry per scored line, rules included."""
from __future__ import annotations

import json

from autograder.report.common import display_name, feedback_lines, header_fields, printable, total_line
from autograder.result import GradeResult, TestResult

VISIBILITY = {"public": "visible", "hidden": "hidden", "after_due_date": "after_due_date"}


def summary(result: GradeResult) -> str:
    """The top-level ``output``: what was graded, the isolation profile, any warning and messages, the total."""
    lines = [f"{label}: {value}" for label, value in header_fields(result)]
    if result.isolation.warning:
        lines.append(f"WARNING: {result.isolation.warning}")
    lines += [f"- {printable(message)}" for message in result.messages]
    lines.append(total_line(result))
    return "\n".join(lines)


def entry(test: TestResult) -> dict:
    """One scored line as a Gradescope test (partial credit is ``failed``: the score tells how much)."""
    return {
        "name": display_name(test),
        "score": test.score if test.counts else 0.0,
        "max_score": test.max_score if test.counts else 0.0,
        "status": "passed" if test.status == "passed" else "failed",
        "output": "\n".join(feedback_lines(test)),
        "visibility": VISIBILITY[test.visibility],
    }


def render_gradescope(result: GradeResult) -> str:
    """The ``results.json`` Gradescope reads from ``/autograder/results/``."""
    return json.dumps({
        "score": result.score,
        "output": summary(result),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": result.seconds,
        "tests": [entry(test) for test in result.tests],
    }, indent=2)
