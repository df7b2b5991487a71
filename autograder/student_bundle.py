"""``autograder release --bundle LAB``: what a student gets for one lab, as a zip that also works as a
GitHub Classroom template repository.

Contents (at the zip's root): ``labs/<lab>/`` as released (the starter, its notebook, the given files, the
handout, the public tests, the probes, ``lab.toml`` and ``expected.wire``, the values the public tests
need, recorded from the reference); the ``autograder`` package itself, vendored (it holds no lab and no
solution) with ``requirements.txt``; the dataset loaders the public tests use; ``check.sh``, the one-command
local check; ``.github/workflows/autograde.yml``, which runs the same check on every push and publishes
its JUnit report; and a README for the student.

Nothing of the grader's side is in it: no reference code, no hidden test (``tests.py``, or any hidden
test's name), no mutant, no held-out label and no value the reference computed for a hidden test. The
bundle's ``lab.toml`` keeps only the thresholds the public tests use: a hidden test's threshold carries
the reference's own scores on it (its calibration), so it is left out.

The kit runs in place: ``python -m autograder check LAB`` from the bundle's root, once torch (CPU) and
``requirements.txt`` are installed, which ``check.sh`` does on its first run, in ``.venv``.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from autograder import __version__
from autograder.expected import RecordedExpected
from autograder.lab import LAB_TOML, PUBLIC_TESTS, Course, Lab, LabError
from autograder.lint import datasets_used, threshold_names, thresholds_named
from autograder.release import check_releasable
from autograder.vendor import (dataset_files, package_files, released_files, requirements, torch_install, torch_version,
                               write_zip)

WORKFLOW = ".github/workflows/autograde.yml"
REPORT = "autograder-report.xml"

CHECK = """\
#!/usr/bin/env bash
# Check your work on lab {lab} with its public tests, with the same engine that grades it:
#   ./check.sh                        your files in labs/{lab}/
#   ./check.sh path/to/{lab}.ipynb    or a notebook, a .py file, a folder or a .zip
#   ./check.sh --format html --out report.html     any option of 'autograder check'
# The first run makes .venv next to this script (Python 3.11+, the CPU build of torch and the autograder's
# dependencies: a few minutes, once); later runs reuse it.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
if [ ! -x "$HERE/.venv/bin/python" ]; then
    PYTHON=""
    for candidate in python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            PYTHON="$candidate"
            break
        fi
    done
    [ -n "$PYTHON" ] || {{ echo "check.sh needs Python 3.11 or newer (python.org, or your package manager)" >&2; exit 2; }}
    echo "first run: installing the autograder into $HERE/.venv (once)" >&2
    "$PYTHON" -m venv "$HERE/.venv"
    "$HERE/.venv/bin/python" -m pip install --quiet --upgrade pip
    "$HERE/.venv/bin/python" -m {torch}
    "$HERE/.venv/bin/python" -m pip install --quiet -r "$HERE/requirements.txt"
fi
AUTOGRADER_ROOT="$HERE" PYTHONPATH="$HERE" exec "$HERE/.venv/bin/python" -m autograder check {lab} "$@"
"""

WORKFLOW_TEXT = """\
# Runs the public tests of lab {lab} on every push and publishes their JUnit report (GitHub Classroom).
name: Autograde
on:
  push:
  workflow_dispatch:
permissions:
  contents: read
  checks: write
jobs:
  check:
    name: Public tests of {lab}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
          cache-dependency-path: requirements.txt
      - name: Install the autograder (CPU torch)
        run: |
          python -m {torch}
          python -m pip install -r requirements.txt
      - name: Run the public tests
        run: python -m autograder check {lab} --format junit --out {report} --fail-under 100
      - name: Publish the JUnit report
        if: always()
        uses: mikepenz/action-junit-report@v4
        with:
          report_paths: {report}
          check_name: Public tests of {lab}
          require_tests: true
      - name: Keep the report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: autograder-report
          path: {report}
"""

README = """\
# {title}

Lab `{lab}`. The handout is `labs/{lab}/README.md`; the files you edit are {files} in `labs/{lab}/`
(or the notebook `labs/{lab}/{lab}.ipynb`, for Jupyter or Colab). Fill in each region between
`# ---- TODO begin` and `# ---- TODO end ----`; change nothing else and add no imports (both are graded).

## Check your work

```sh
./check.sh                              # your files in labs/{lab}/
./check.sh labs/{lab}/{lab}.ipynb      # or your notebook
```

The first run installs Python packages into `.venv` here (the CPU build of torch and the autograder's
dependencies; a few minutes, once). On Windows, or to use your own environment:
`python -m pip install torch=={torch_version} --index-url https://download.pytorch.org/whl/cpu`,
`python -m pip install -r requirements.txt`, then `python -m autograder check {lab}` from this folder.

`check` runs the public tests with the same engine and report as the real grading, which adds hidden tests
(other inputs, held-out data). A hidden test tells you only whether it passed and, when it recognises it,
the name of your mistake.

Pushing to GitHub runs the same check (`.github/workflows/autograde.yml`) and publishes its report.

Made by autograder {version}.
"""


def public_lab_toml(lab: Lab) -> str:
    """The lab's ``lab.toml`` without the thresholds that only hidden tests use: kept are those the public
    tests name (a string, a conditional, an f-string pattern) and those they used when release ran them."""
    text = (lab.home / LAB_TOML).read_text()
    patterns = [name for _, name in threshold_names(lab.home / PUBLIC_TESTS)] if (lab.home / PUBLIC_TESTS).exists() \
        else []
    public = {name for pattern in patterns for name in thresholds_named(pattern, lab.config.thresholds)}
    public |= set(RecordedExpected(lab).thresholds)  # those named at run time (a helper's argument, a variable)
    for name in set(lab.config.thresholds) - public:
        header = re.compile(rf'^\[\s*thresholds\s*\.\s*"?{re.escape(name)}"?\s*(\.[^\]]*)?\]\s*(#.*)?$')
        lines, kept, dropping = text.splitlines(keepends=True), [], False
        for line in lines:
            if line.lstrip().startswith("["):
                dropping = bool(header.match(line.strip()))
            if not dropping:
                kept.append(line)
        text = "".join(kept)
    left = set(tomllib.loads(text).get("thresholds", {}))
    if left != set(lab.config.thresholds) & public:
        raise LabError(f"{lab.home / LAB_TOML}: cannot leave out the hidden tests' thresholds "
                       f"{sorted(left - public)}: write each as its own [thresholds.NAME] table")
    return text


def bundle(course: Course, lab_id: str, out: Path) -> Path:
    """Write the student bundle of ``lab_id`` to ``out``."""
    check_releasable(course, lab_id)
    lab = course.lab(lab_id)
    files = {
        **released_files(lab),
        f"labs/{lab_id}/{LAB_TOML}": public_lab_toml(lab).encode(),
        **package_files(),
        **dataset_files(course, datasets_used(lab, public_only=True)),
        "requirements.txt": requirements().encode(),
        "check.sh": CHECK.format(lab=lab_id, torch=torch_install("pip --quiet")).encode(),
        WORKFLOW: WORKFLOW_TEXT.format(lab=lab_id, torch=torch_install("pip"), report=REPORT).encode(),
        ".gitignore": f".venv/\n__pycache__/\n{REPORT}\nreport.html\n".encode(),
        "README.md": README.format(title=lab.title, lab=lab_id, files=", ".join(f"`{f}`" for f in lab.files),
                                   torch_version=torch_version(),
                                   version=__version__).encode(),
    }
    write_zip(out, files, executable={"check.sh"})
    return out
