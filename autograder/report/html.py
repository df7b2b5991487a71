"""HTML pages: one submission's feedback (``--format html``) and a class's report (``autograder report``).

Each page is one self-contained file: inline CSS, figures as base64 PNG drawn with matplotlib, no script,
no external request. Every text is escaped. A student's page shows hidden tests exactly as the other
formats do (name, points, passed/failed, the known mistake's title): never their inputs, outputs,
metric values, curves or feedback. The class page is the instructor's and names everything.
"""
from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING

from autograder.report import figures
from autograder.report.common import header_fields, message_lines, points, printable, printed_output, total_line
from autograder.result import GradeResult, TestResult

if TYPE_CHECKING:
    from autograder.analytics import ClassReport
    from autograder.config import LabConfig

STATUS = {"passed": ("✓", "passed"), "partial": ("~", "partial credit"), "failed": ("✗", "failed"),
          "error": ("!", "grader error, not counted")}
CSS = """
:root { --ink: #1d2733; --muted: #5b6b7b; --line: #d8dee6; --pass: #2e7d32; --part: #b26a00; --fail: #c62828;
        --err: #7b1fa2; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0;
       background: var(--bg); }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
header, section { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
                  margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 18px; margin: 0 0 10px; } h3 { font-size: 15px; margin: 14px 0 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.total { font-size: 20px; font-weight: 600; margin-top: 10px; }
.warning { background: #fff8e1; border: 1px solid #f9a825; border-radius: 6px; padding: 8px 12px; margin-top: 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; } td.num, th.num { text-align: right; white-space: nowrap; }
.status { font-weight: 700; white-space: nowrap; }
.passed { color: var(--pass); } .partial { color: var(--part); } .failed { color: var(--fail); } .error { color: var(--err); }
.tag { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 10px; padding: 0 7px; }
figure { margin: 12px 0 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto;
      white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13px; margin: 4px 0; }
ul.lines { margin: 4px 0; padding-left: 20px; } ul.lines li { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
"""


def esc(text: object) -> str:
    """``text`` as HTML text or attribute value: control characters dropped, markup escaped."""
    return html.escape(printable(str(text)), quote=True)


def page(title: str, body: list[str]) -> str:
    """A complete, self-contained HTML document."""
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>", "<main>",
                      *body, "</main>", "</body>", "</html>"])


def figure(uri: str, alt: str, caption: str, name: str) -> str:
    return (f'<figure class="figure" id="figure-{esc(name)}"><img src="{uri}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def table(headers: list[str], rows: list[list[str]], css: str, numeric: set[int] = frozenset()) -> str:
    """A table of already-escaped cells; ``numeric`` columns are right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>'
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ---- one submission --------------------------------------------------------------------------------------

def render_html(result: GradeResult, config: "LabConfig | None" = None) -> str:
    """One submission's feedback page."""
    public = [test for test in result.tests if test.visibility == "public"]
    body = [_header(result, config), _tests(result)]
    body += [part for part in (_mistakes(result), _metrics(public), _curves(public), _feedback(result),
                               _messages(result)) if part]
    return page(f"{result.lab}: {result.submission}", body)


def _header(result: GradeResult, config: "LabConfig | None") -> str:
    facts = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in header_fields(result))
    facts += f"<dt>Graded in</dt><dd>{result.seconds:.1f} s</dd>"
    title = f'<p class="muted">{esc(config.title)}</p>' if config else ""
    warning = f'<p class="warning">{esc(result.isolation.warning)}</p>' if result.isolation.warning else ""
    percent = f" ({100 * result.score / result.max_score:.0f}%)" if result.max_score else ""
    return (f'<header><h1>Lab {esc(result.lab)}</h1>{title}<dl class="facts">{facts}</dl>{warning}'
            f'<p class="total" id="total">{esc(total_line(result))}{percent}</p></header>')


def _status(test: TestResult) -> str:
    mark, words = STATUS[test.status]
    return f'<span class="status {test.status}" title="{words}">{mark} {words}</span>'


def _tests(result: GradeResult) -> str:
    rows = [[esc(test.kind), esc(test.name), f"{points(test.score)} / {points(test.max_score)}", _status(test),
             f'<span class="tag">{esc(test.visibility)}</span>'] for test in result.tests]
    note = ('<p class="muted">Hidden tests show only whether they passed and, when one recognises it, the name '
            "of the known mistake: never their inputs, outputs or values.</p>"
            if any(test.visibility != "public" for test in result.tests) else "")
    return (f'<section id="tests"><h2>Tests</h2>'
            f"{table(['Kind', 'Name', 'Points', 'Status', 'Visibility'], rows, 'tests', {2})}{note}</section>")


def _mistakes(result: GradeResult) -> str:
    found: dict[str, list[str]] = {}
    for test in result.tests:
        if test.mistake:
            found.setdefault(test.mistake, []).append(test.name)
    if not found:
        return ""
    items = "".join(f"<li><strong>{esc(mistake)}</strong> <span class=muted>(found by: {esc('; '.join(tests))})</span>"
                    "</li>" for mistake, tests in found.items())
    return f'<section id="mistakes"><h2>Known mistakes found</h2><ul class="lines mistakes">{items}</ul></section>'


def _metrics(public: list[TestResult]) -> str:
    """Public tests' metric values against their thresholds: a table and a figure."""
    found = [(test, label, value, test.thresholds.get(label)) for test in public for label, value in test.metrics.items()]
    if not found:
        return ""
    rows, bars = [], []
    for test, label, value, bounds in found:
        if bounds:
            better, worse = (">=", "<=") if bounds["higher_is_better"] else ("<=", ">=")
            rows.append([esc(label), f"{value:.4g}", esc(f"{better} {bounds['full']:.4g}"),
                         esc(f"{worse} {bounds['zero']:.4g}"), esc(test.name)])
            bars.append((label, value, bounds["full"], bounds["zero"]))
        else:
            rows.append([esc(label), f"{value:.4g}", "", "", esc(test.name)])
    chart = figure(figures.thresholds(bars), "metric values against their thresholds",
                   "Red: no points; amber: part of the points; green: full marks. The marker is your value.",
                   "metrics") if bars else ""
    return (f'<section id="metrics"><h2>Metrics against their thresholds</h2>'
            f"{table(['Metric', 'Your value', 'Full marks at', 'No points at', 'Test'], rows, 'metrics', {1, 2, 3})}"
            f"{chart}</section>")


def _curves(public: list[TestResult]) -> str:
    series = {label: values for test in public for label, values in test.curves.items() if values}
    if not series:
        return ""
    return (f'<section id="curves"><h2>Training curves</h2>'
            f"{figure(figures.curves(series), 'training curves: ' + ', '.join(series), 'What your training loop reported for each epoch.', 'curves')}"
            "</section>")


def _feedback(result: GradeResult) -> str:
    """Each line with something to say: its messages and, for public tests, what the student's code printed."""
    parts = []
    for test in result.tests:
        lines = message_lines(test)
        output = printed_output(test)
        if not lines and not output.strip():
            continue
        items = "".join(f"<li>{esc(line)}</li>" for line in lines)
        printed = f"<p class=muted>Your code printed:</p><pre class=output>{esc(output)}</pre>" if output.strip() else ""
        parts.append(f'<article class="feedback"><h3>{_status(test)} {esc(test.name)}</h3>'
                     f'<ul class="lines">{items}</ul>{printed}</article>')
    return f'<section id="feedback"><h2>Feedback</h2>{"".join(parts)}</section>' if parts else ""


def _messages(result: GradeResult) -> str:
    if not result.messages:
        return ""
    items = "".join(f"<li>{esc(message)}</li>" for message in result.messages)
    return f'<section id="messages"><h2>Messages</h2><ul class="lines">{items}</ul></section>'


# ---- a class ---------------------------------------------------------------------------------------------

def render_class_html(report: "ClassReport", summary: list[tuple[str, str]]) -> str:
    """The class report: headline numbers, figures, what to re-teach and the submissions that need a look."""
    facts = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in summary)
    body = [f'<header><h1>Class report: lab {esc(report.lab)}</h1><p class="muted">{esc(report.title)}</p>'
            f'<dl class="facts">{facts}</dl><p class="muted">Each student\'s latest attempt, from the gradebook; '
            f"made {esc(time.strftime('%Y-%m-%d %H:%M %Z'))}. This page names hidden tests and hidden-only "
            "mistakes: it is for instructors, not students.</p></header>"]
    if report.students:
        body.append(_scores(report))
    if report.tests:
        body.append(_pass_rates(report))
    body.append(_reteach(report))
    if report.students:
        body.append(_run_times(report))
    body.append(_needs_a_look(report))
    return page(f"Class report: {report.lab}", body)


def _scores(report: "ClassReport") -> str:
    chart = figure(figures.histogram(report.score_edges, report.score_counts, "score (% of the maximum)", "students"),
                   "histogram of scores", "Scores of each student's latest attempt (the last bin includes 100%).",
                   "scores")
    return f'<section id="scores"><h2>Scores</h2>{chart}</section>'


def _pass_rates(report: "ClassReport") -> str:
    tests = report.tests
    chart = figure(figures.rates([t.name for t in tests], [t.pass_rate for t in tests], "students with full marks"),
                   "pass rate of each test", "Share of gradable submissions that earned a test's full points.",
                   "pass-rates")
    rows = [[esc(t.name), esc(t.kind), f'<span class="tag">{esc(t.visibility)}</span>', str(t.passed), str(t.partial),
             str(t.failed), str(t.errors), f"{100 * t.pass_rate:.0f}%", f"{t.mean_points:.2f} / {points(t.max_score)}"]
            for t in tests]
    return (f'<section id="pass-rates"><h2>Pass rate per test</h2>{chart}'
            f"{table(['Test', 'Kind', 'Visibility', 'Passed', 'Partial', 'Failed', 'Grader errors', 'Pass rate', 'Mean points'], rows, 'pass-rates', {3, 4, 5, 6, 7, 8})}"
            "</section>")


def _reteach(report: "ClassReport") -> str:
    if not report.mistakes:
        return '<section id="mistakes"><h2>Most frequent mistakes</h2><p>No known mistake was named.</p></section>'
    rows = [[f"<strong>{esc(m.title)}</strong>", str(m.students), esc(", ".join(m.tests)),
             f'{esc(m.example)} <span class="muted">({esc(m.example_source)})</span>'] for m in report.mistakes]
    return ('<section id="mistakes"><h2>Most frequent mistakes: what to re-teach</h2>'
            f"{table(['Mistake', 'Students', 'Named by', 'Example feedback'], rows, 'mistakes', {1})}</section>")


def _run_times(report: "ClassReport") -> str:
    chart = figure(figures.histogram(report.time_edges, report.time_counts, "seconds to grade", "submissions"),
                   "histogram of grading times", "Wall-clock seconds each submission took to grade.", "run-times")
    return f'<section id="run-times"><h2>Run time</h2>{chart}</section>'


def _needs_a_look(report: "ClassReport") -> str:
    groups = [("Limits hit (time, CPU, memory)", ("timeout", "cpu", "memory")), ("Forbidden APIs", ("forbidden API",)),
              ("Grader errors (not counted in the score)", ("grader error",)),
              ("Nothing gradable", ("nothing gradable",))]
    parts = []
    for title, kinds in groups:
        found = report.problems_of(*kinds)
        content = (table(["Student", "Problem", "Test", "Detail"],
                         [[esc(p.student), esc(p.kind), esc(p.test), esc(p.detail)] for p in found], "problems")
                   if found else "<p class=muted>None.</p>")
        parts.append(f"<h3>{esc(title)}: {len(found)}</h3>{content}")
    return f'<section id="problems"><h2>Submissions that need a look</h2>{"".join(parts)}</section>'
