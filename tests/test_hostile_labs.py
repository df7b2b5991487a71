"""The standing hostile suite, against every lab of the kit, as root and as an ordinary user.

For each lab in ``solutions/`` (see ``hostile_kit.submissions``), graded the way the grader grades:

- ``honest``: the reference, with the region the forbidden routes would do left undone and the held-out
  probe answering without a copy of the data: the baseline;
- ``held_out``: the same, answering from a copy of the public test split (the public recipe, or
  scikit-learn's copy), which must earn nothing beyond the baseline;
- ``forbidden``: the baseline with that region done through the forbidden routes of issue 6
  (``torch._C._VariableFunctions`` in disabled dispatch modes, a thread, exec of base64 source,
  ``operator.attrgetter`` to ``torch.ops``, NumPy's solvers through ``torch.hub.sys.modules``, SciPy through
  ``np.f2py.sys.modules['importlib']``), which must lose the forbidden rule and earn nothing beyond the baseline.

Where the profile promises it (A, B), every variant also tries to append to the lab's hidden tests, public
tests and reference and to plant a file beside them; nothing there may change. The toy lab's sandbox attacks
run as both users too.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

import hostile_kit
from autograder.datasets import HeldOut
from autograder.grade import grade
from autograder.lab import Course
from autograder.sandbox import detect_isolation
from hostile_kit import EVASIONS, REPO, SANDBOX_ATTACKS, held_out_calls, run_toy_attacks, snapshot, submissions

pytestmark = pytest.mark.sandbox
COURSE = Course(REPO)
LABS = COURSE.lab_ids()
HELD_OUT_LABS = [lab for lab in LABS if held_out_calls(lab)]
USERS = ["root", pytest.param("user", marks=pytest.mark.unprivileged)]


@pytest.fixture(scope="module")
def folders() -> Iterator[dict[tuple[str, str], Path]]:
    """Every lab's hostile variants as submission folders anyone can read (pytest's own temporary folder
    is private to its user)."""
    root = Path(tempfile.mkdtemp(prefix="autograder-hostile-"))
    found = {}
    tamper = detect_isolation().profile in ("A", "B")
    for lab_id in LABS:
        for variant, files in submissions(lab_id, tamper).items():
            folder = root / lab_id / variant
            folder.mkdir(parents=True)
            for name, text in files.items():
                (folder / name).write_text(text)
            found[(lab_id, variant)] = folder
    for path in (root, *root.rglob("*")):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    yield found
    shutil.rmtree(root)


def changes(before: dict[str, bytes]) -> list[str]:
    """The files of solutions/ that differ from ``before``, appeared or went away."""
    after = snapshot(REPO / "solutions")
    return sorted({name for name in {*before, *after} if before.get(name) != after.get(name)})


@pytest.fixture(scope="module")
def graded_root(folders: dict[tuple[str, str], Path]) -> dict[str, Any]:
    """Each variant graded here, by this process's user, and the toy attacks."""
    before = snapshot(REPO / "solutions")
    results: dict[str, Any] = {f"{lab_id}/{variant}": grade(COURSE, lab_id, folder).to_dict()
                               for (lab_id, variant), folder in folders.items()}
    results["toy_attacks"] = run_toy_attacks()
    results["changed"] = changes(before)
    return results


@pytest.fixture(scope="module")
def graded_user(folders: dict[tuple[str, str], Path]) -> dict[str, Any]:
    """The same, graded in one process run by an ordinary user created for it."""
    if os.geteuid() != 0:
        pytest.skip("grading as an ordinary user needs root to create one")
    before = snapshot(REPO / "solutions")
    jobs = [{"name": f"{lab_id}/{variant}", "kind": "grade", "lab": lab_id, "folder": str(folder)}
            for (lab_id, variant), folder in folders.items()] + [{"name": "toy_attacks", "kind": "toy_attacks"}]
    work = Path(tempfile.mkdtemp(prefix="autograder-unprivileged-"))
    try:
        with hostile_kit.unprivileged_user() as user:
            results = hostile_kit.run_as(user, jobs, work, timeout=1500)
    finally:
        shutil.rmtree(work)
    assert results.pop("uid") == user.pw_uid
    results["changed"] = changes(before)
    return results


@pytest.fixture
def graded(request: pytest.FixtureRequest, user: str) -> dict[str, Any]:
    return request.getfixturevalue(f"graded_{user}")


def scores_of(result: dict[str, Any]) -> dict[str, float]:
    return {line["id"]: line["score"] for line in result["tests"] if line["kind"] == "test"}


def differences(cheat: dict[str, Any], honest: dict[str, Any]) -> list[tuple]:
    """The tests where the cheat scored more than the honest baseline, with both feedbacks."""
    baseline = {line["id"]: line for line in honest["tests"]}
    return [(line["id"], line["score"], line["feedback"], baseline[line["id"]]["score"], baseline[line["id"]]["feedback"])
            for line in cheat["tests"] if line["kind"] == "test" and line["score"] > baseline[line["id"]]["score"]]


def rule(result: dict[str, Any], key: str) -> dict[str, Any]:
    return next(line for line in result["tests"] if line["id"] == f"rule:{key}")


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("lab_id", HELD_OUT_LABS)
def test_a_copy_of_the_public_data_earns_nothing(graded: dict[str, Any], lab_id: str, user: str) -> None:
    honest, cheat = graded[f"{lab_id}/honest"], graded[f"{lab_id}/held_out"]
    assert differences(cheat, honest) == []
    for test, *_ in held_out_calls(lab_id):  # the copy changed nothing where it could have gained
        assert scores_of(cheat)[test] == scores_of(honest)[test], test
    assert cheat["held_out"]["seed"] != honest["held_out"]["seed"]  # a fresh secret per grading


@pytest.mark.parametrize("lab_id", HELD_OUT_LABS)
def test_the_copy_would_have_earned_the_threshold_points_without_the_secrets(
        folders: dict[tuple[str, str], Path], graded_root: dict[str, Any], lab_id: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: with the public held-out split (no secret seed, no perturbation) the same copy earns
    the threshold points, so it is the secrets that take them away."""
    monkeypatch.setattr(HeldOut, "draw", classmethod(lambda cls, perturbation=None: None))
    exposed = scores_of(grade(COURSE, lab_id, folders[(lab_id, "held_out")]).to_dict())
    honest = scores_of(graded_root[f"{lab_id}/honest"])
    gained = [name for name in exposed if exposed[name] > honest[name]]
    assert gained, f"the copy of the public split should have gained threshold points in {lab_id}"


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("lab_id", [lab for lab in LABS if lab in EVASIONS])
def test_forbidden_routes_fail_and_lose_the_rule(graded: dict[str, Any], lab_id: str, user: str) -> None:
    honest, cheat = graded[f"{lab_id}/honest"], graded[f"{lab_id}/forbidden"]
    assert differences(cheat, honest) == []
    forbidden = rule(cheat, "forbidden")
    assert forbidden["score"] == 0
    at_run_time = " ".join(line for line in forbidden["feedback"] if line.startswith("at run time"))
    for label in EVASIONS[lab_id][5]:  # each route was stopped by a run-time guard, not only by the static rule
        assert label in at_run_time, (label, forbidden["feedback"])


@pytest.mark.parametrize("user", USERS)
def test_the_toy_sandbox_attacks_fail_and_are_recorded(graded: dict[str, Any], user: str) -> None:
    outcomes = graded["toy_attacks"]
    for name, (_, label) in SANDBOX_ATTACKS.items():
        outcome = outcomes[name]
        if not label:
            assert outcome.get("value", [0.0])[0] == 1.0, (name, outcome)
            continue
        assert outcome.get("error") == "forbidden" and label in outcome["message"], (name, outcome)


@pytest.mark.parametrize("user", USERS)
def test_nothing_outside_the_sandbox_changed(graded: dict[str, Any], user: str) -> None:
    assert graded["changed"] == []
