"""``autograder release --bundle LAB``: the student bundle, unpacked. It holds nothing of the grader's side
(no reference code, hidden test, mutant, held-out label or value the reference computed for a hidden test),
its workflow is valid YAML that runs the check and publishes the JUnit report, and its one-command check
grades in place."""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from autograder.cli import main
from autograder.datasets import Datasets
from autograder.expected import LiveExpected, RecordedExpected, TrustedCode, TrustedStudent
from autograder.lab import INSTRUCTOR_FILES, KIT_FILES, Course, Lab
from autograder.lint import threshold_names
from autograder.load import load_submission
from autograder.markers import SOLUTION_BEGIN, SOLUTION_END
from autograder.runner import collect_suite, run_tests
from autograder.sandbox.wire import decode
from autograder.student_bundle import REPORT, WORKFLOW, public_lab_toml
from autograder.vendor import package_files
from conftest import COURSE, ROOT, TOY_LAB_TOML

LABS = COURSE.lab_ids()


class RecordingDatasets(Datasets):
    """Datasets that remember every split they loaded (to know the held-out labels)."""

    def __init__(self, data_dir: Path):
        super().__init__(data_dir)
        self.loaded = []

    def __call__(self, name: str, **options):
        data = super().__call__(name, **options)
        self.loaded.append(data)
        return data


def grader_side(lab: Lab) -> tuple[set[str], set[str], list[np.ndarray]]:
    """Every probe call key whose value the reference computed for the hidden tests only, the same for the
    public tests, and every held-out label array the tests load: the lab's whole suite is run on the
    reference, in this process."""
    datasets = RecordingDatasets(COURSE.data_dir)
    keys = {}
    for public_only in (True, False):
        expected = LiveExpected(lab)
        student = TrustedStudent(TrustedCode(lab.reference_files, lab.probes_source, f"{lab.id}-bundle-test"))
        suite = collect_suite(lab, public_only=public_only)
        if not public_only:
            suite.tests = [spec for spec in suite.tests if spec.visibility != "public"]
        run_tests(lab, suite, student, expected, datasets)
        keys[public_only] = set(expected.calls)
    return keys[False] - keys[True], keys[True], [data.test_y for data in datasets.loaded]


def solution_lines(lab: Lab) -> set[str]:
    """The lines inside the reference's solution regions that no public text of the kit holds (the starter,
    the given files, the probes, the kit's own package), long enough to be telling: at least 12 characters."""
    public = [*lab.starter_files.values(), *[(lab.solution_dir / name).read_text() for name in (*lab.given, "probes.py")
                                             if (lab.solution_dir / name).is_file()],
              *[data.decode("utf-8", "replace") for data in package_files().values()]]
    common = "\n".join(public)
    found = set()
    for name in lab.files:
        inside = False
        for line in (lab.solution_dir / name).read_text().splitlines():
            if SOLUTION_BEGIN.match(line):
                inside = True
            elif SOLUTION_END.match(line):
                inside = False
            elif inside and len(line.strip()) >= 12 and line.strip() not in common:
                found.add(line.strip())
    return found


def arrays(value) -> list[np.ndarray]:
    """Every array inside a decoded wire value."""
    if isinstance(value, dict):
        return [a for item in value.values() for a in arrays(item)]
    if isinstance(value, list):
        return [a for item in value for a in arrays(item)]
    if hasattr(value, "shape"):
        return [np.asarray(value)]
    return []


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each lab's bundle, made by the command and unpacked."""
    folder = tmp_path_factory.mktemp("bundles")
    unpacked = {}
    for lab in LABS:
        out = folder / f"{lab}.zip"
        assert main(["--root", str(ROOT), "release", "--bundle", lab, "--out", str(out)]) == 0
        with zipfile.ZipFile(out) as archive:
            archive.extractall(folder / lab)
            for info in archive.infolist():  # extractall drops the modes: put them back
                (folder / lab / info.filename).chmod(info.external_attr >> 16 & 0o777)
        unpacked[lab] = folder / lab
    return unpacked


def files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", LABS)
def test_the_bundle_holds_nothing_of_the_grader(bundles: dict[str, Path], lab_id: str) -> None:
    lab = COURSE.lab(lab_id)
    found = files(bundles[lab_id])
    names = set(found)
    assert {f"labs/{lab_id}/{name}" for name in [*lab.files, *lab.given, "public_tests.py", "probes.py", "README.md",
                                                 "lab.toml", "expected.wire", f"{lab_id}.ipynb"]} <= names
    assert {"check.sh", "requirements.txt", "README.md", WORKFLOW} <= names
    assert not [n for n in names if n.startswith("solutions/") or Path(n).name in
                ("tests.py", "mutants.toml", "alternatives.toml")]
    assert not [n for n in names if n.startswith("labs/") and not n.startswith(f"labs/{lab_id}/")]  # no other lab
    # the vendored package is the kit's own, file for file: nothing of a lab slipped into it
    assert {n: b for n, b in found.items() if n.startswith("autograder/")} == package_files()
    text = {name: data.decode("utf-8", "replace") for name, data in found.items()}
    outside_package = {name: t for name, t in text.items() if not name.startswith("autograder/")}
    assert not [name for name, t in outside_package.items() if "### BEGIN SOLUTION" in t or "END SOLUTION" in t]
    leaked = [(name, line) for line in solution_lines(lab) for name, t in text.items() if line in t]
    assert not leaked, f"reference code in the bundle: {leaked[:3]}"
    hidden = [spec for spec in collect_suite(lab, public_only=False).tests if spec.visibility != "public"]
    assert hidden
    for spec in hidden:
        assert not [name for name, t in text.items() if spec.name in t or spec.title in t], spec.name
    public_fails = {spec.name for spec in collect_suite(lab, public_only=True).tests}
    hidden_only = [m for m in lab.mistakes.values() if not set(m.fails) & public_fails]
    for mistake in hidden_only:
        assert not [name for name, t in outside_package.items() if mistake.title in t], mistake.title
    recorded = decode(found[f"labs/{lab_id}/expected.wire"])
    hidden_keys, public_keys, held_out = grader_side(lab)
    assert set(recorded["calls"]) == public_keys and not hidden_keys & set(recorded["calls"])
    assert set(recorded["mistakes"]) <= {m.id for m in lab.mistakes.values()} - {m.id for m in hidden_only}
    shipped = arrays(recorded)
    for labels in held_out:
        assert not any(a.shape == labels.shape and np.array_equal(a, labels) for a in shipped)
        assert labels.astype(np.int64).tobytes() not in found[f"labs/{lab_id}/expected.wire"]
    toml = text[f"labs/{lab_id}/lab.toml"]
    patterns = [name for _, name in threshold_names(lab.home / "public_tests.py")]  # names and f-string patterns
    patterns += decode(found[f"labs/{lab_id}/expected.wire"])["thresholds"]  # and those used at release
    assert set(RecordedExpected(lab).thresholds) <= set(lab.config.thresholds)
    for name in lab.config.thresholds:
        used_publicly = any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
        assert (f"[thresholds.{name}]" in toml) == used_publicly, name  # a hidden threshold's calibration stays out


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", LABS)
def test_the_workflow_runs_the_check_and_publishes_junit(bundles: dict[str, Path], lab_id: str) -> None:
    workflow = yaml.safe_load((bundles[lab_id] / WORKFLOW).read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "push" in triggers
    steps = workflow["jobs"]["check"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "download.pytorch.org/whl/cpu" in runs and "pip install -r requirements.txt" in runs
    assert f"python -m autograder check {lab_id} --format junit --out {REPORT}" in runs
    publish = next(step for step in steps if "junit" in step.get("uses", ""))
    assert publish["with"]["report_paths"] == REPORT and publish["if"] == "always()"
    assert workflow["permissions"]["checks"] == "write"
    assert os.access(bundles[lab_id] / "check.sh", os.X_OK)


def test_a_bundle_of_an_unreleased_lab_is_refused(make_lab, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_lab("tiny", README__md="# Tiny\n")
    assert main(["--root", str(tmp_path / "course"), "release", "--bundle", "tiny", "--out", str(tmp_path / "b.zip")]) == 2
    err = capsys.readouterr().err
    assert "labs/tiny/" in err and "run 'autograder release tiny' first" in err and not (tmp_path / "b.zip").exists()


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", LABS)
def test_the_one_command_check_grades_in_place(bundles: dict[str, Path], lab_id: str) -> None:
    """check.sh with its environment already made (a link to the kit's own): the reference filled into the
    bundle's starter earns full marks on the public tests, from the bundle's own engine, data loaders,
    thresholds and recorded values, for every lab."""
    lab = COURSE.lab(lab_id)
    bundle = bundles[lab.id]
    (bundle / ".venv").symlink_to(ROOT / ".venv")
    for name in lab.files:
        (bundle / "labs" / lab.id / name).write_text(lab.reference_files[name])
    env = {key: value for key, value in os.environ.items() if key not in ("AUTOGRADER_ROOT", "PYTHONPATH")}
    done = subprocess.run([str(bundle / "check.sh"), "--format", "json", "--out", str(bundle / "report.json")],
                          cwd=bundle.parent, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = yaml.safe_load((bundle / "report.json").read_text())
    assert report["mode"] == "check" and report["score"] == report["max_score"] > 0
    assert str(bundle) in report["submission"]  # the bundle's own labs/<lab>, found from the script's folder
    assert Course(bundle).lab(lab.id).has_solution is False


def test_a_students_copy_is_compared_with_the_starter_as_released(tmp_path: Path) -> None:
    """Without solutions/, the starter is the one recorded at release, not the student's edited copy: so an
    edited .py beside the untouched notebook is what gets graded, and the regions rule sees the edits."""
    kit = COURSE.lab("linear_regression")
    shutil.copytree(ROOT / "labs" / kit.id, tmp_path / "labs" / kit.id)
    (tmp_path / "autograder").mkdir()
    edited = kit.reference_files["linear_regression.py"]
    (tmp_path / "labs" / kit.id / "linear_regression.py").write_text(edited)
    lab = Course(tmp_path).lab(kit.id)
    assert not lab.has_solution and lab.starter_files == kit.starter_files
    workspace = load_submission(lab.starter_dir, lab.files, known=[*KIT_FILES, *INSTRUCTOR_FILES, lab.notebook_name],
                                starters=lab.starter_files)
    assert workspace.files["linear_regression.py"] == edited


def test_the_bundles_lab_toml_keeps_only_the_public_tests_thresholds(make_lab) -> None:
    public = ('from autograder.testing import test\n\n\n@test(points=1)\ndef acc(run):\n    """accuracy"""\n'
              '    return run.metric("accuracy", 1.0, threshold="acc")\n')
    lab = make_lab("tiny", lab__toml=TOY_LAB_TOML + '\n[thresholds.mse.notes]\nseed_9 = [1.1]\n', public_tests__py=public)
    text = public_lab_toml(lab)
    parsed = tomllib.loads(text)
    assert set(parsed["thresholds"]) == {"acc"} and parsed["title"] == "Toy" and "seed_9" not in text
