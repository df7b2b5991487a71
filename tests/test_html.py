"""The HTML feedback page, on a result built by hand: self-contained, escaped, and hidden tests show no more
than in the other formats. (tests/test_browser.py opens real pages in Chromium.)"""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from autograder.report import render
from autograder.result import GradeResult, Isolation
from autograder.result import TestResult as Line  # not collected as a test class

ATTACK = "<script>alert('x')</script><img src=http://evil.example/x.png>"
BOUNDS = {"threshold": "val", "full": 0.9, "zero": 0.5, "higher_is_better": True}


def student_result() -> GradeResult:
    """A training lab's result: a public metric test with a loss curve and printed output, a failed public
    test with a named mistake, and hidden tests that hold a metric, a curve and notes they must not show."""
    return GradeResult(
        lab="softmax_regression", submission=f"alice/{ATTACK}.py",
        tests=[
            Line("No new imports", 1.0, 1.0, kind="rule"),
            Line("softmax on huge logits", 0.0, 2.0, mistake="no max subtraction",
                 feedback=[f"softmax(X): overflows to nan. Subtract each row's max first {ATTACK}"],
                 output=f"debug print {ATTACK}\n"),
            Line("validation accuracy", 1.5, 2.0, metrics={"validation accuracy": 0.8123},
                 thresholds={"validation accuracy": BOUNDS}, curves={"training loss": [1.2, 0.6, 0.4, 0.35]},
                 feedback=["validation accuracy = 0.8123 (full marks at >= 0.9, none at <= 0.5)"]),
            Line("test accuracy", 3.0, 3.0, visibility="hidden", metrics={"test accuracy": 0.9876},
                 thresholds={"test accuracy": BOUNDS}, curves={"secret curve": [9.0, 8.0]},
                 feedback=["test accuracy = 0.9876 (full marks at >= 0.9, none at <= 0.5)"], output="hidden print\n"),
            Line("softmax on other shapes", 0.0, 2.0, visibility="hidden", mistake="softmax over the wrong axis",
                 feedback=["Failed (hidden test). Known mistake detected: softmax over the wrong axis."]),
        ],
        isolation=Isolation("A", "namespaces"), messages=[f"extra file ignored: {ATTACK}"], seconds=12.5)


class Page(HTMLParser):
    """The tags, attributes and text of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def page() -> tuple[str, Page]:
    text = render(student_result(), "html")
    return text, Page(text)


def test_the_page_is_self_contained(page: tuple[str, Page]) -> None:
    text, parsed = page
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
    assert not parsed.all("script") and not parsed.all("link") and not parsed.all("iframe")
    images = parsed.all("img")
    assert len(images) == 2  # the metric against its threshold, the training curve
    for image in images:
        assert image["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["src"].split(",", 1)[1]).startswith(b"\x89PNG")
    links = [value for _, attrs in parsed.tags for name, value in attrs.items() if name in ("src", "href")]
    assert all(link.startswith("data:") for link in links)  # no request leaves the page


def test_student_text_is_escaped_everywhere(page: tuple[str, Page]) -> None:
    text, parsed = page
    assert "<script>" not in text and "evil.example/x.png>" not in text
    assert text.count("&lt;script&gt;") == 5  # submission name (title and header), feedback, output, message
    assert sum(ATTACK in chunk for chunk in parsed.text) >= 4  # shown to the reader as the text it is


def test_header_table_feedback_mistakes_metrics_and_output(page: tuple[str, Page]) -> None:
    text, parsed = page
    words = " ".join(parsed.text)
    assert "Lab softmax_regression" in words and "Isolation" in words and "Total: 5.5 / 10" in words
    assert len(re.findall(r"<tr>", text.split('class="tests"')[1].split("</table>")[0])) == 6  # header + 5 lines
    assert "no max subtraction" in words and "Subtract each row's max first" in words
    assert "debug print" in words  # a public test's printed output
    metrics = text.split('id="metrics"')[1].split("</section>")[0]
    assert "0.8123" in metrics and "&gt;= 0.9" in metrics and "&lt;= 0.5" in metrics
    assert "training loss" in text.split('id="curves"')[1]


def test_hidden_tests_show_only_pass_fail_and_the_mistake(page: tuple[str, Page]) -> None:
    text, parsed = page
    words = " ".join(parsed.text)
    assert "test accuracy" in words and "softmax over the wrong axis" in words  # name and mistake title
    assert "0.9876" not in text and "hidden print" not in text and "secret curve" not in text
    assert "Known mistake detected: softmax over the wrong axis" in words


def test_a_result_without_figures_needs_no_matplotlib_figure() -> None:
    result = GradeResult("lab", "sub", [Line("a", 1.0, 1.0)], Isolation("C", "process", warning="weak isolation"))
    text = render(result, "html")
    assert "<img" not in text and "weak isolation" in text and 'id="feedback"' not in text
