"""The HTML pages in a real browser: a class of generated submissions is graded by ``autograder batch`` (with
HTML reports), its class report is made by ``autograder report``, and both kinds of page are opened in
headless Chromium: figures decode to real images, tables have their rows, nothing is fetched, the console
stays clean, and a full-page screenshot of each is saved in the test's tmp folder (run with
``--basetemp=/tmp/report-shots`` to keep them in a known place).

Skipped, saying why, only where no Chromium/Chrome (and its driver) can be found: ``.ci/run`` installs
Debian's ``chromium`` and ``chromium-driver`` when it can."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.runner import collect
from conftest import COURSE, ROOT

LAB = COURSE.lab("softmax_regression")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
NO_BROWSER = ("no Chromium or Chrome to drive: install one (Debian/Ubuntu: apt-get install chromium chromium-driver, "
              "which .ci/run does where apt is available)")


def make_class(folder: Path) -> None:
    """Five students: the reference, a named mistake that still trains, a forbidden API, the untouched
    starter and an empty folder (nothing gradable)."""
    mutants = {m.id: m for m in LAB.mutants}
    works = {"ada": LAB.reference_files, "bob": LAB.variant_files(mutants["wrong_dim/dim0"]),
             "cy": LAB.variant_files(mutants["autograd/backward"]), "dee": LAB.starter_files}
    for student, files in works.items():
        (folder / student).mkdir(parents=True)
        for name in LAB.files:
            (folder / student / name).write_text(files[name])
    (folder / "eve").mkdir()


@pytest.fixture(scope="module")
def driver():
    """A headless Chromium (skipped where none can be found)."""
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchDriverException
    from selenium.webdriver.chrome.service import Service

    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if binary is None:
        pytest.skip(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="autograder-chromium-")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                     "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chromedriver = shutil.which("chromedriver")
    try:  # without a chromedriver on PATH, Selenium Manager looks for one
        browser = webdriver.Chrome(options=options, service=Service(chromedriver) if chromedriver else Service())
    except NoSuchDriverException as exc:
        pytest.skip(f"{NO_BROWSER} (found {binary}, but no driver for it: {exc.msg.splitlines()[0]})")
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real batch with per-student HTML reports, and the class report made from its gradebook."""
    folder = tmp_path_factory.mktemp("class")
    make_class(folder / "submissions")
    gradebook, reports = folder / "gradebook.sqlite", folder / "reports"
    assert main(["--root", str(ROOT), "batch", str(folder / "submissions"), "--lab", LAB.id, "-j", "2", "-q",
                 "--gradebook", str(gradebook), "--reports", str(reports), "--format", "html"]) == 0
    assert main(["--root", str(ROOT), "report", LAB.id, "--html", str(folder / "class.html"),
                 "--csv", str(folder / "csv"), "--gradebook", str(gradebook)]) == 0
    return {"submission": reports / "ada.html", "mistake": reports / "bob.html", "class": folder / "class.html"}


def open_page(driver, page: Path, screenshot: Path) -> dict:
    """Open ``page``; what rendered (images, table rows, fetched resources, console errors), and a full-page
    screenshot saved at ``screenshot``."""
    driver.get(page.as_uri())
    facts = driver.execute_script("""
        const tables = {};
        for (const table of document.querySelectorAll('table')) tables[table.className] = table.rows.length;
        return {
          title: document.title,
          images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth,
                                                         height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
          tables: tables,
          fetched: performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:')),
          height: document.documentElement.scrollHeight,
          sections: Array.from(document.querySelectorAll('section')).map(s => s.id),
        };""")
    driver.set_window_size(1200, min(facts["height"] + 40, 12000))
    assert driver.save_screenshot(str(screenshot))
    facts["errors"] = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    return facts


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_feedback_pages_render(driver, pages: dict[str, Path], tmp_path: Path) -> None:
    reference = open_page(driver, pages["submission"], tmp_path / "submission.png")
    assert reference["errors"] == [] and reference["fetched"] == []
    assert reference["tables"]["tests"] == len(collect(LAB, public_only=False)) + 3 + 1  # three rules and a header
    assert reference["tables"]["metrics"] >= 2
    assert {"tests", "metrics", "curves"} <= set(reference["sections"])
    assert [image["alt"] for image in reference["images"]] == ["metric values against their thresholds",
                                                                "training curves: training loss"]
    for image in reference["images"]:
        assert image["complete"] and image["width"] > 300 and image["height"] > 100 and image["shown"] > 0
    mistake = open_page(driver, pages["mistake"], tmp_path / "submission-with-a-mistake.png")
    assert mistake["errors"] == [] and {"mistakes", "feedback", "curves"} <= set(mistake["sections"])
    assert (tmp_path / "submission.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_class_report_renders(driver, pages: dict[str, Path], tmp_path: Path) -> None:
    facts = open_page(driver, pages["class"], tmp_path / "class-report.png")
    assert facts["errors"] == [] and facts["fetched"] == []
    assert [image["alt"] for image in facts["images"]] == ["histogram of scores", "pass rate of each test",
                                                           "histogram of grading times"]
    for image in facts["images"]:
        assert image["complete"] and image["width"] > 300 and image["height"] > 100 and image["shown"] > 0
    assert facts["tables"]["pass-rates"] == len(collect(LAB, public_only=False)) + 3 + 1
    assert facts["tables"]["mistakes"] >= 2  # header, softmax over the wrong dimension
    assert facts["tables"]["problems"] >= 2  # at least the forbidden API, the empty folder
    assert (tmp_path / "class-report.png").stat().st_size > 10_000
