"""The report stage: one GradeResult rendered as a terminal table, Gradescope JSON, JUnit XML or JSON."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from rich.console import Console

from autograder.report.gradescope import render_gradescope
from autograder.report.json_report import render_json
from autograder.report.junit import render_junit
from autograder.report.text import render_text, report, summary_table
from autograder.result import GradeResult

FORMATS = ("text", "gradescope", "junit", "json")

_RENDERERS: dict[str, Callable[[GradeResult], str]] = {
    "text": render_text,
    "gradescope": render_gradescope,
    "junit": render_junit,
    "json": render_json,
}

__all__ = ["FORMATS", "render", "write", "summary_table"]


def render(result: GradeResult, fmt: str) -> str:
    """``result`` in format ``fmt`` (one of ``FORMATS``), ending in a newline."""
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = _RENDERERS[fmt](result)
    return text if text.endswith("\n") else text + "\n"


def write(result: GradeResult, fmt: str, out: Path | None, console: Console | None = None) -> None:
    """Write the report to ``out`` atomically, or to the console (in colour for text on a terminal)."""
    if out is not None:
        _write_atomic(Path(out), render(result, fmt))
        return
    console = console or Console()
    if fmt == "text" and console.is_terminal:
        console.print(report(result))
    else:
        console.file.write(render(result, fmt))
        console.file.flush()


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # as open() would under the usual umask; mkstemp makes it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise

