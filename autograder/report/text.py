"""The terminal report: a header, one table row per scored line, feedback, messages and the total."""
from __future__ import annotations

from io import StringIO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from autograder.report.common import feedback_lines, header_fields, points, printable, total_line
from autograder.result import GradeResult

STATUS = {"passed": ("✓", "green"), "partial": ("~", "yellow"), "failed": ("✗", "red"), "error": ("!", "magenta")}


def report(result: GradeResult) -> RenderableType:
    """The whole report as one rich renderable (student text is never parsed as markup)."""
    parts: list[RenderableType] = [_header(result)]
    if result.isolation.warning:
        parts.append(Text(f"⚠ {result.isolation.warning}", style="bold yellow"))
    parts.append(_table(result))
    parts += _feedback(result)
    if result.messages:
        parts.append(Text("Messages:", style="bold"))
        parts += [Text(f"  - {printable(message)}") for message in result.messages]
    parts.append(Text(total_line(result), style="bold"))
    return Group(*parts)


def _header(result: GradeResult) -> Text:
    """``Lab: ...  Submission: ...`` with bold labels, one field per line."""
    header = Text()
    for label, value in header_fields(result):
        header.append(f"{label}: ", style="bold").append(value).append("\n")
    header.rstrip()
    return header


def _table(result: GradeResult) -> Table:
    """One row per scored line: kind, name, points, coloured status, visibility."""
    table = Table(show_lines=False)
    table.add_column("Kind")
    table.add_column("Name")
    table.add_column("Points", justify="right")
    table.add_column("Status", justify="center")
    table.add_column("Visibility")
    for test in result.tests:
        mark, colour = STATUS[test.status]
        table.add_row(test.kind, Text(test.name), f"{points(test.score)}/{points(test.max_score)}",
                      Text(mark, style=f"bold {colour}"), test.visibility)
    return table


def _feedback(result: GradeResult) -> list[Text]:
    """Each non-passing line's name, with its feedback indented beneath it."""
    parts = []
    for test in result.tests:
        lines = feedback_lines(test)
        if test.status == "passed" or not lines:
            continue
        parts.append(Text(test.name, style=STATUS[test.status][1]))
        parts += [Text(f"    {line}") for line in lines]
    return parts


def _plain(renderable: RenderableType) -> str:
    """A renderable as plain text, 100 columns wide, with no colour codes (for files and tests)."""
    buffer = StringIO()
    Console(file=buffer, width=100, color_system=None, force_terminal=False).print(renderable)
    return buffer.getvalue()


def render_text(result: GradeResult) -> str:
    """The terminal report without colour."""
    return _plain(report(result))


def summary_table(results: list[GradeResult]) -> str:
    """One row per result (lab, submission, score, percent, seconds), for grading several labs at once."""
    table = Table()
    table.add_column("Lab")
    table.add_column("Submission")
    table.add_column("Score", justify="right")
    table.add_column("Percent", justify="right")
    table.add_column("Seconds", justify="right")
    for result in results:
        percent = f"{100 * result.score / result.max_score:.1f}%" if result.max_score else "-"
        table.add_row(Text(result.lab), Text(printable(result.submission)),
                      f"{points(result.score)}/{points(result.max_score)}", percent, f"{result.seconds:.1f}")
    return _plain(table)
