"""Wording shared by every report format, so each states the same facts the same way."""
from __future__ import annotations

import re

from autograder.result import GradeResult, TestResult


# C0/C1 control characters but tab and newline: a student's ANSI escapes must not reach a terminal or a page.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters (tabs and newlines kept)."""
    return _CONTROL.sub("", text)


def points(value: float) -> str:
    """A score as a person writes it: ``2``, ``1.5``, ``0.3333``."""
    return format(round(value, 4), "g")


def display_name(test: TestResult) -> str:
    """A line's name for formats without a kind column: rules are prefixed ``Rule: ``."""
    return f"Rule: {test.name}" if test.kind == "rule" else test.name


def message_lines(test: TestResult) -> list[str]:
    """A line's feedback, one physical line each, naming its known mistake if the feedback does not. A
    hidden line that passed says nothing more (whatever an older result may hold)."""
    if test.visibility != "public" and test.status == "passed":
        return []
    lines = [printable(part) for entry in test.feedback for part in entry.splitlines()]
    if test.grader_error and not any("grader error" in line for line in lines):
        lines.insert(0, "Grader error (not counted in the score).")
    if test.mistake and not any(test.mistake in line for line in lines):
        lines.append(f"Known mistake: {test.mistake}")
    return lines


def printed_output(test: TestResult) -> str:
    """What the student's code printed during a public test (hidden tests never carry it)."""
    return printable(test.output.rstrip()) if test.visibility == "public" else ""


def feedback_lines(test: TestResult) -> list[str]:
    """``message_lines``, then what the student's code printed."""
    lines = message_lines(test)
    output = printed_output(test)
    if output.strip():
        lines.append("Your code printed:")
        lines += [f"  {part}" for part in output.splitlines()]
    return lines


def header_fields(result: GradeResult) -> list[tuple[str, str]]:
    """What was graded and how, as (label, value) pairs."""
    isolation = result.isolation
    return [
        ("Lab", result.lab),
        ("Submission", printable(result.submission)),
        ("Mode", "check (public tests only)" if result.mode == "check" else "grade"),
        ("Isolation", f"{isolation.profile} ({isolation.description})"),
    ]


def total_line(result: GradeResult) -> str:
    """``Total: 7.5 / 10``."""
    return f"Total: {points(result.score)} / {points(result.max_score)}"
