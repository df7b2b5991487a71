"""``autograder export gradescope LAB``: the zip's contents, and its ``run_autograder`` run against a simulated
``/autograder`` tree (under a temporary root) on real submissions."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.gradescope_export import ROOT_ENV
from autograder.lab import Course
from autograder.release import release
from autograder.runner import collect
from autograder.vendor import TORCH_CPU_INDEX, package_files, torch_version
from conftest import COURSE, ROOT, TOY_LAB_TOML, write_lab

TOY_HIDDEN = '''\
from autograder.testing import Run, test


@test(points=2, visibility="hidden")
def held_out_accuracy(run: Run):
    """the accuracy on held-out inputs"""
    return run.metric("test accuracy", float(run.student("call_f", 0.75)), threshold="acc")
'''
TOY_PUBLIC = '''\
from autograder.testing import Run, test


@test(points=1)
def identity(run: Run):
    """f(1) is 1"""
    run.expect_match("call_f", 1.0, what="f(1)")
'''
BOARD = ('\n[leaderboard]\nmetric = "test accuracy"\nreveal = 2030-01-01T00:00:00Z\n'
         '\n[gradescope]\nhidden_points = "after_due_date"\n')


def export(course: Path, lab: str, out: Path) -> dict[str, zipfile.ZipInfo]:
    assert main(["--root", str(course), "export", "gradescope", lab, "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        return {info.filename: info for info in archive.infolist()}


def test_the_zip_holds_the_kit_and_that_lab_only(tmp_path: Path) -> None:
    members = export(ROOT, "softmax_regression", tmp_path / "gs.zip")
    assert set(package_files()) <= set(members)
    for script in ("setup.sh", "run_autograder"):
        assert members[script].external_attr >> 16 & 0o777 == 0o755
    labs = {name.split("/")[1] for name in members if name.startswith(("solutions/", "labs/"))}
    assert labs == {"softmax_regression"}  # no other lab's solution or starter
    assert {"solutions/softmax_regression/tests.py", "solutions/softmax_regression/mutants.toml",
            "labs/softmax_regression/expected.wire", "data/digits.py", "requirements.txt"} <= set(members)
    assert not [name for name in members if name.startswith("data/") and name != "data/digits.py"]
    with zipfile.ZipFile(tmp_path / "gs.zip") as archive:
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        requirements = archive.read("requirements.txt").decode()
    assert f"pip install torch=={torch_version()} --index-url {TORCH_CPU_INDEX}" in setup
    assert "requirements.txt" in setup and "torch" not in requirements.replace("# the autograder's dependencies; "
                                                                                "torch is installed first", "")
    assert '"$ROOT/submission"' in run and '"$ROOT/results/results.json"' in run and ROOT_ENV in run


def test_an_unreleased_lab_is_refused(make_lab, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_lab("tiny", README__md="# Tiny\n")
    assert main(["--root", str(tmp_path / "course"), "export", "gradescope", "tiny",
                 "--out", str(tmp_path / "gs.zip")]) == 2
    assert "run 'autograder release tiny' first" in capsys.readouterr().err and not (tmp_path / "gs.zip").exists()


def run_autograder(archive: Path, submission: dict[str, str], root: Path) -> dict:
    """Unpack ``archive`` as Gradescope does (/autograder/source, /autograder/run_autograder), put the
    submission in /autograder/submission, run run_autograder there (with this kit's Python on PATH, as
    setup.sh would have installed it) and return results.json."""
    shutil.rmtree(root, ignore_errors=True)
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).write_text(text)
    env = {key: value for key, value in os.environ.items() if key not in ("AUTOGRADER_ROOT", "PYTHONPATH")}
    env.update({ROOT_ENV: str(root), "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"})
    done = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.sandbox
def test_run_autograder_grades_real_submissions(tmp_path: Path) -> None:
    lab = COURSE.lab("linear_regression")
    archive = tmp_path / "gs.zip"
    export(ROOT, lab.id, archive)
    reference = run_autograder(archive, lab.reference_files, tmp_path / "autograder")
    assert reference["score"] == sum(t["max_score"] for t in reference["tests"]) > 0
    assert "Total:" in reference["output"] and "Isolation:" in reference["output"]
    assert {t["visibility"] for t in reference["tests"]} == {"visible"}  # this lab holds no point back

    mutant = next(m for m in lab.mutants if m.id == "grad_not_averaged/divide_by_batch_size")
    hidden = {spec.name: spec.title for spec in collect(lab, public_only=False) if spec.visibility == "hidden"}
    caught = [hidden[test] for test in mutant.fails if test in hidden]
    assert caught
    graded = run_autograder(archive, {"linear_regression.py": lab.variant_files(mutant)["linear_regression.py"]},
                            tmp_path / "autograder")
    entries = {t["name"]: t for t in graded["tests"]}
    for title in caught:
        assert entries[title]["visibility"] == "visible"  # a hidden test is shown at once ...
        assert entries[title]["output"] == f"Failed (hidden test). Known mistake detected: {mutant.title}."  # ... so
    assert graded["score"] < reference["score"]


@pytest.mark.sandbox
def test_run_autograder_fills_the_leaderboard_and_holds_hidden_points_back(tmp_path: Path) -> None:
    course = tmp_path / "course"
    write_lab(course, "tiny", {"lab.toml": TOY_LAB_TOML + BOARD, "README.md": "# Tiny\n",
                               "tiny.py": "def f(x):\n    ### BEGIN SOLUTION identity\n    return x\n    ### END SOLUTION\n",
                               "probes.py": "from tiny import f\n\n\ndef call_f(x):\n    return f(x)\n",
                               "public_tests.py": TOY_PUBLIC, "tests.py": TOY_HIDDEN})
    release(Course(course), ["tiny"])
    archive = tmp_path / "gs.zip"
    export(course, "tiny", archive)
    results = run_autograder(archive, {"tiny.py": Course(course).lab("tiny").reference_files["tiny.py"]},
                             tmp_path / "autograder")
    assert results["leaderboard"] == [{"name": "test accuracy", "value": 0.75, "order": "desc"}]
    entries = {t["name"]: t for t in results["tests"]}
    hidden = entries["the accuracy on held-out inputs"]
    assert hidden["visibility"] == "visible" and "score" not in hidden and hidden["status"] == "failed"
    assert "0.75" not in hidden["output"]  # its metric value is never shown in the test
    held = entries["Points of the hidden tests"]
    assert held["visibility"] == "after_due_date" and (held["score"], held["max_score"]) == (1.25, 2.0)
    assert "Total:" not in results["output"] and "Your total appears after the due date" in results["output"]
