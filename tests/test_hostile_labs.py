"""The standing hostile suite, against every lab of the kit, as root and as an ordinary user.

For each lab in ``solutions/`` (see ``hostile_kit.submissions``), graded the way the grader grades:

- ``honest``: the reference, with the region the forbidden routes would do left undone and the held-out
  probe answering without a copy of the data: the baseline;
- ``held_out``: the same, answering from a copy of the public test split (the public recipe, or
  scikit-learn's copy), which must earn nothing beyond the baseline;
- ``forbidden``: the baseline with those regions done through the forbidden routes of issue 6 and the lab's
  own (``hostile_routes.EVASIONS``: ``torch._C._VariableFunctions`` in disabled dispatch modes, a thread, exec of
  base64 source, ``operator.attrgetter`` to ``torch.ops`` or the library function, a library reached through
  another module, and per lab einsum, strided views, NumPy's correlate, torch's and oneDNN's convolutions, the
  recurrent cells, scaled_dot_product_attention, nn.MultiheadAttention, flex_attention, autograd...), which
  must lose the forbidden rule, each route recorded by a run-time guard, and earn nothing beyond the baseline.

Each route is a real evasion: outside the sandbox, in a plain Python process beside the reference, it computes
what its region must; and the static rule flags each one too.

Where the profile promises it (A, B), every variant also tries to append to the lab's hidden tests, public
tests and reference and to plant a file beside them; nothing there may change. The toy lab's sandbox attacks
run as both users too.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

import autograder.grade
import hostile_kit
from autograder.datasets import HeldOut
from autograder.grade import grade
from autograder.lab import Course
from autograder.sandbox import detect_isolation
from autograder.sandbox import pool as pool_module
from autograder.rules import find_forbidden
from hostile_kit import REPO, SANDBOX_ATTACKS, held_out_calls, region_lines, run_toy_attacks, snapshot, submissions
from hostile_routes import EVASIONS, route_lines, route_outcomes

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


def user_tests_selected(session: pytest.Session) -> bool:
    """Whether this run has this module's tests as the ordinary user (``-m "not unprivileged"`` drops them)."""
    return any(item.module.__name__ == __name__ and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("user") == "user" for item in session.items)


@pytest.fixture(scope="module")
def user_grading(folders: dict[tuple[str, str], Path]) -> Iterator[Future | None]:
    """Every variant and the toy attacks graded by an ordinary user created for it, in a process of its own,
    started at once: it runs beside the root grading (None without root, which creating a user needs)."""
    if os.geteuid() != 0:
        yield None
        return
    jobs = [{"name": f"{lab_id}/{variant}", "kind": "grade", "lab": lab_id, "folder": str(folder)}
            for (lab_id, variant), folder in folders.items() if variant != "unguarded"]
    jobs += [{"name": "toy_attacks", "kind": "toy_attacks"}]
    work = Path(tempfile.mkdtemp(prefix="autograder-unprivileged-"))

    def graded_as(user: pwd.struct_passwd, before: dict[str, bytes]) -> dict[str, Any]:
        results = hostile_kit.run_as(user, jobs, work, timeout=1500)
        assert results.pop("uid") == user.pw_uid
        results["changed"] = changes(before)
        return results

    try:
        with hostile_kit.unprivileged_user() as user, ThreadPoolExecutor(1) as waiter:
            future = waiter.submit(graded_as, user, snapshot(REPO / "solutions"))
            yield future
            with contextlib.suppress(Exception):  # a failure was the tests' to report
                future.result()
    finally:
        shutil.rmtree(work)


@pytest.fixture(scope="module")
def graded_root(folders: dict[tuple[str, str], Path], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each variant graded here, by this process's user, and the toy attacks (the ordinary user's grading
    runs meanwhile, when this run has its tests: except in profile B, whose root gradings take the others'
    permissions away from the held-out data)."""
    if user_tests_selected(request.session) and detect_isolation().profile != "B":
        request.getfixturevalue("user_grading")
    before = snapshot(REPO / "solutions")
    results: dict[str, Any] = {f"{lab_id}/{variant}": grade(COURSE, lab_id, folder).to_dict()
                               for (lab_id, variant), folder in folders.items() if variant != "unguarded"}
    results["toy_attacks"] = run_toy_attacks()
    results["changed"] = changes(before)
    return results


@pytest.fixture(scope="module")
def graded_user(user_grading: Future | None) -> dict[str, Any]:
    """The same, graded in one process run by an ordinary user created for it."""
    if user_grading is None:
        pytest.skip("grading as an ordinary user needs root to create one")
    return user_grading.result()


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


@pytest.mark.sandbox
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("lab_id", HELD_OUT_LABS)
def test_a_copy_of_the_public_data_earns_nothing(graded: dict[str, Any], lab_id: str, user: str) -> None:
    honest, cheat = graded[f"{lab_id}/honest"], graded[f"{lab_id}/held_out"]
    assert differences(cheat, honest) == []
    for test, *_ in held_out_calls(lab_id):  # the copy changed nothing where it could have gained
        assert scores_of(cheat)[test] == scores_of(honest)[test], test
    assert cheat["held_out"]["seed"] != honest["held_out"]["seed"]  # a fresh secret per grading


@pytest.mark.sandbox
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


def at_run_time(result: dict[str, Any]) -> list[str]:
    """The forbidden rule's lines about calls the run-time guards refused."""
    return [line for line in rule(result, "forbidden")["feedback"] if line.startswith("at run time")]


@pytest.mark.sandbox
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("lab_id", [lab for lab in LABS if lab in EVASIONS])
def test_forbidden_routes_fail_and_lose_the_rule(graded: dict[str, Any], lab_id: str, user: str) -> None:
    honest, cheat = graded[f"{lab_id}/honest"], graded[f"{lab_id}/forbidden"]
    assert differences(cheat, honest) == []
    baseline = at_run_time(honest)  # only the tampering with the grader's files (profiles A and B) trips a guard
    assert [line for line in baseline if "hides" not in line] == []
    assert rule(cheat, "forbidden")["score"] == 0
    recorded = " ".join(line for line in at_run_time(cheat) if line not in baseline)
    for label in [label for region in EVASIONS[lab_id] for label in region.labels]:
        assert label in recorded, (label, at_run_time(cheat))  # stopped by a run-time guard, not only statically


@pytest.mark.sandbox
@pytest.mark.parametrize("lab_id", [lab for lab in LABS if lab in EVASIONS])
def test_without_the_guards_every_route_works_in_the_sandbox(
        folders: dict[tuple[str, str], Path], graded_root: dict[str, Any], lab_id: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: graded without the run-time guards (the sandbox's confinement only; its quick tests), a
    variant that runs every route and checks that they agree gains points, so it is the guards that stop them."""
    spec = autograder.grade.sandbox_spec
    monkeypatch.setattr(autograder.grade, "sandbox_spec", lambda *args, **kwargs: replace(spec(*args, **kwargs),
                                                                                          guards=False))
    quick = grade(COURSE, lab_id, folders[(lab_id, "unguarded")], only=lambda test: not test.slow)  # no training
    unguarded = scores_of(quick.to_dict())
    honest = scores_of(graded_root[f"{lab_id}/honest"])
    gained = [name for name in unguarded if unguarded[name] > honest[name] and not name.startswith("rule:")]
    assert gained, f"without the guards, the forbidden routes of {lab_id} should have gained points"


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", [lab for lab in LABS if lab in EVASIONS])
def test_each_route_works_outside_the_sandbox(lab_id: str) -> None:
    """A route that computes nothing useful would prove nothing about the guards that stop it."""
    outcomes = route_outcomes(lab_id)
    assert len(outcomes) == sum(len(region.names) for region in EVASIONS[lab_id])
    assert [outcome for outcome in outcomes if outcome[2] != "ok"] == []


@pytest.mark.parametrize("lab_id", [lab for lab in LABS if lab in EVASIONS])
def test_the_static_rule_flags_each_route(lab_id: str) -> None:
    files = submissions(lab_id, tamper=False)["forbidden"]
    names = COURSE.lab(lab_id).forbidden["names"]
    for index, region in enumerate(EVASIONS[lab_id]):
        text = files[region.file]
        flagged = {int(problem.split(" line ", 1)[1].split(":", 1)[0])
                   for problem in find_forbidden(text, region.file, names) if " line " in problem}
        lines = route_lines(region, text, region_lines(text, region.hint))
        assert [name for name in region.names if not flagged & lines[name]] == [], index


def test_a_lab_that_blocks_a_library_never_gets_it_preloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library loaded before the guards stays in memory, its classes reachable without an import
    (``torch_classes_left_in_memory``): a warm sandbox holds what its lab preloads, never what it blocks."""
    assert COURSE.lab("attention_backprop").sandbox_preload == ("numpy",)
    assert COURSE.lab("cnn").sandbox_preload == ("numpy",)
    assert COURSE.lab("transformer").sandbox_preload == ("numpy", "torch", "torch._dynamo")
    assert COURSE.lab("linear_regression").sandbox_preload == ("numpy", "torch")

    class Server:  # stands for a fork server: started, never run
        def __init__(self, profile: str, preload: tuple[str, ...]):
            self.preload, self.alive = preload, True

        def close(self) -> None:
            self.alive = False

    monkeypatch.setattr(pool_module, "Zygote", Server)
    with pool_module.SandboxPool(warm=True) as pool:
        assert pool._zygote(("numpy", "torch")).preload == ("numpy", "torch")
        assert pool._zygote(("numpy",)).preload == ("numpy",)  # not the server that also preloaded torch


@pytest.mark.sandbox
@pytest.mark.parametrize("user", USERS)
def test_the_toy_sandbox_attacks_fail_and_are_recorded(graded: dict[str, Any], user: str) -> None:
    outcomes = graded["toy_attacks"]
    for name, (_, label) in SANDBOX_ATTACKS.items():
        outcome = outcomes[name]
        if not label:
            assert outcome.get("value", [0.0])[0] == 1.0, (name, outcome)
            continue
        hidden_by_the_sandbox = label == "hides" and "FileNotFoundError" in outcome.get("message", "")
        assert hidden_by_the_sandbox or (outcome.get("error") == "forbidden" and label in outcome["message"]), \
            (name, outcome)  # a hidden file is refused by the guards, or not even there (covered by the sandbox)


@pytest.mark.sandbox
@pytest.mark.parametrize("user", USERS)
def test_nothing_outside_the_sandbox_changed(graded: dict[str, Any], user: str) -> None:
    assert graded["changed"] == []
