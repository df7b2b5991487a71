"""The report stage: one GradeResult rendered as a terminal table, Gradescope JSON, JUnit XML, JSON or an
HTML page. Formats that depend on the lab's settings (Gradescope's visibility and leaderboard, the HTML
page's title) take its config."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Console

from autograder.report.gradescope import render_gradescope
from autograder.report.html import render_html
from autograder.report.json_report import render_json
from autograder.report.junit import render_junit
from autograder.report.text import render_text, report, summary_table
from autograder.result import GradeResult

if TYPE_CHECKING:
    from autograder.config import LabConfig

FORMATS = ("text", "gradescope", "junit", "json", "html")
SUFFIX = {"text": "txt", "gradescope": "json", "junit": "xml", "json": "json", "html": "html"}

_RENDERERS: dict[str, Callable[[GradeResult], str]] = {
    "text": render_text,
    "junit": render_junit,
    "json": render_json,
}
_RENDERERS_WITH_CONFIG: dict[str, Callable[[GradeResult, "LabConfig | None"], str]] = {
    "gradescope": render_gradescope,
    "html": render_html,
}

__all__ = ["FORMATS", "SUFFIX", "render", "write", "write_text", "summary_table"]


def render(result: GradeResult, fmt: str, config: "LabConfig | None" = None) -> str:
    """``result`` in format ``fmt`` (one of ``FORMATS``), ending in a newline; ``config`` is the lab's."""
    if fmt in _RENDERERS_WITH_CONFIG:
        text = _RENDERERS_WITH_CONFIG[fmt](result, config)
    elif fmt in _RENDERERS:
        text = _RENDERERS[fmt](result)
    else:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return text if text.endswith("\n") else text + "\n"


def write(result: GradeResult, fmt: str, out: Path | None, console: Console | None = None,
          config: "LabConfig | None" = None) -> None:
    """Write the report to ``out`` atomically, or to the console (in colour for text on a terminal)."""
    if out is not None:
        write_text(Path(out), render(result, fmt, config))
        return
    console = console or Console()
    if fmt == "text" and console.is_terminal:
        console.print(report(result))
    else:
        console.file.write(render(result, fmt, config))
        console.file.flush()


def write_text(path: Path, text: str) -> None:
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

