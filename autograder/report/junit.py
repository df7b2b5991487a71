"""JUnit XML for CI: one testsuite per result, one testcase per scored line."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from autograder.report.common import display_name, feedback_lines, points
from autograder.result import GradeResult

# Characters XML 1.0 cannot hold at all, escaped or not (e.g. ANSI escapes in a student's error text).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """``text`` with characters XML cannot represent replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _element(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A (sub)element with cleaned attributes and text."""
    clean = {key: _xml(value) for key, value in attrs.items()}
    element = ET.Element(tag, clean) if parent is None else ET.SubElement(parent, tag, clean)
    if text is not None:
        element.text = _xml(text)
    return element


def render_junit(result: GradeResult) -> str:
    """A ``<testsuite>`` whose failures are the lines that did not earn full marks."""
    failures = sum(test.status in ("partial", "failed") for test in result.tests)
    errors = len(result.grader_errors)
    suite = _element(None, "testsuite", name=result.lab, tests=str(len(result.tests)), failures=str(failures),
                     errors=str(errors), skipped="0", time=f"{result.seconds:.3f}")
    properties = _element(suite, "properties")
    facts = {"submission": result.submission, "mode": result.mode, "score": points(result.score),
             "max_score": points(result.max_score), "isolation": result.isolation.profile}
    if result.isolation.warning:
        facts["isolation_warning"] = result.isolation.warning
    for name, value in facts.items():
        _element(properties, "property", name=name, value=value)
    for test in result.tests:
        case = _element(suite, "testcase", classname=result.lab, name=display_name(test), time=f"{test.seconds:.3f}")
        if test.status != "passed":
            lines = feedback_lines(test)
            score = f"{points(test.score)}/{points(test.max_score)} points"
            message = f"{score}: {lines[0]}" if lines else score
            tag = "error" if test.grader_error else "failure"
            _element(case, tag, "\n".join(lines), message=message, type=test.status)
    if result.messages:
        _element(suite, "system-out", "\n".join(result.messages))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)
