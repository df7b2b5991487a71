"""``autograder export gradescope LAB``: the autograder zip Gradescope builds its image from.

The zip holds ``setup.sh`` (run once, as root, when Gradescope builds the image: a Python 3.11+ virtual
environment at ``/autograder/venv`` with the CPU build of torch and the kit's dependencies), and
``run_autograder`` (run for every submission: grades ``/autograder/submission`` with the kit's own engine,
in its sandbox, and writes ``/autograder/results/results.json``), the ``autograder`` package, and that
lab only: ``solutions/<lab>`` (reference, hidden tests, mutants), ``labs/<lab>`` (as released) and the
dataset loaders its tests use. No other lab's files are in it.

``$AUTOGRADER_GRADESCOPE_ROOT`` moves the ``/autograder`` tree; only the kit's own tests set it.
"""
from __future__ import annotations

from pathlib import Path

from autograder import __version__
from autograder.lab import Course, LabError
from autograder.lint import datasets_used
from autograder.release import check_releasable
from autograder.vendor import (dataset_files, folder_files, package_files, released_files, requirements, torch_install,
                               write_zip)

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image of lab {lab}.
# It makes a Python 3.11+ virtual environment with the CPU build of torch and the autograder's dependencies.
set -euo pipefail
SOURCE=/autograder/source
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$candidate"
        break
    fi
done
export DEBIAN_FRONTEND=noninteractive
if [ -z "$PYTHON" ]; then
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv /autograder/venv 2>/dev/null || {{
    apt-get update -qq
    apt-get install -y -qq "$PYTHON-venv" || apt-get install -y -qq python3-venv
    "$PYTHON" -m venv /autograder/venv
}}
# prlimit and setpriv (util-linux) run the sandbox: a separate uid and resource limits for student code
command -v prlimit >/dev/null && command -v setpriv >/dev/null || apt-get install -y -qq util-linux
/autograder/venv/bin/pip install --quiet --upgrade pip
/autograder/venv/bin/{torch}
/autograder/venv/bin/pip install --quiet -r "$SOURCE/requirements.txt"
# the sandbox's unprivileged user runs this interpreter: it must be able to read it
chmod -R a+rX /autograder/venv "$SOURCE"
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission of lab {lab}, as root, in /autograder: it grades the files in
# /autograder/submission and writes /autograder/results/results.json (the kit's tests move the tree with
# ${root_env}). Student code runs in the kit's sandbox (a separate uid and resource limits).
set -uo pipefail
ROOT="${{{root_env}:-/autograder}}"
PYTHON="$ROOT/venv/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$ROOT/results"
cd "$ROOT/source"
AUTOGRADER_ROOT="$ROOT/source" PYTHONPATH="$ROOT/source" "$PYTHON" -m autograder grade "$ROOT/submission" \\
    --lab {lab} --format gradescope --out "$ROOT/results/results.json" --quiet
status=$?
# 0: graded; 3: a test failed through the lab's fault (excluded from the score); 4: nothing gradable in the
# submission (the results say why). Each wrote results.json; anything else is a failure of the autograder.
case "$status" in
    0|3|4) exit 0 ;;
    *) echo "the autograder failed (exit status $status): see the lines above" >&2; exit "$status" ;;
esac
"""

README = """\
# Gradescope autograder for lab {lab}

Made by `autograder export gradescope {lab}` (autograder {version}). Upload this zip as the autograder of a
Gradescope programming assignment ("Autograder" configuration; any Ubuntu base image). `setup.sh` installs
Python 3.11+, the CPU build of torch and the kit; `run_autograder` grades each submission.

What students see, and when: see "On Gradescope" in the kit's README.
"""


def export_gradescope(course: Course, lab_id: str, out: Path) -> Path:
    """Write the autograder zip of ``lab_id`` to ``out``; the lab must lint clean and be released."""
    lab = course.lab(lab_id)
    if not lab.has_solution:
        raise LabError(f"lab {lab_id}: the Gradescope autograder needs solutions/{lab_id} (its hidden tests and "
                       "reference), which this copy of the kit does not have")
    check_releasable(course, lab_id)
    files = {
        "setup.sh": SETUP.format(lab=lab_id, torch=torch_install("pip")).encode(),
        "run_autograder": RUN.format(lab=lab_id, root_env=ROOT_ENV).encode(),
        "README.md": README.format(lab=lab_id, version=__version__).encode(),
        "requirements.txt": requirements().encode(),
        **package_files(),
        **folder_files(lab.solution_dir, f"solutions/{lab_id}"),
        **released_files(lab),
        **dataset_files(course, datasets_used(lab)),
    }
    write_zip(out, files, executable={"setup.sh", "run_autograder"})
    return out
