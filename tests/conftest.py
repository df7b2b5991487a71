"""Shared fixtures: one factory for the small labs the kit's own tests build on disk."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from autograder.lab import Course, Lab

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)

TOY_LAB_TOML = """\
title = "Toy"
files = ["tiny.py"]

[limits]
timeout = 7

[rules]
regions = 1
imports = 1
forbidden = 1

[thresholds.acc]
full = 0.9
zero = 0.5
metric = "accuracy"
seeds = [0, 1, 2, 3, 4]
reference = [1.0]
margin = "toy"

[thresholds.mse]
full = 1.2
zero = 2.0
higher_is_better = false
metric = "mse"
seeds = [0, 1, 2, 3, 4]
reference = [1.0]
margin = "toy"
"""

TOY_MODULE = """\
def f(x):
    ### BEGIN SOLUTION identity
    return x
    ### END SOLUTION
"""

TOY_PROBES = "from tiny import f\n\n\ndef call_f(x):\n    return f(x)\n"


def write_lab(root: Path, lab_id: str, files: dict[str, str]) -> Lab:
    """Write ``files`` into ``root/solutions/<lab_id>`` and load the lab."""
    folder = root / "solutions" / lab_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return Course(root).lab(lab_id)


@pytest.fixture
def make_lab(tmp_path: Path) -> Callable[..., Lab]:
    """``make_lab(**files)``: a toy lab in a fresh course folder; keyword names are file names with the
    dot written as ``__`` (``lab__toml="..."``), and every file not given takes the toy default."""

    def make(lab_id: str = "tiny", **files: str) -> Lab:
        contents = {"lab.toml": TOY_LAB_TOML, "tiny.py": TOY_MODULE, "probes.py": TOY_PROBES,
                    "public_tests.py": "from autograder.testing import test\n"}
        contents.update({name.replace("__", "."): text for name, text in files.items()})
        return write_lab(tmp_path / "course", lab_id, contents)

    return make
