"""``autograder leaderboard``: a toy lab that declares one, a gradebook of results built by hand."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.gradebook import Gradebook
from autograder.leaderboard import names, pseudonym, ranking
from autograder.result import GradeResult, Isolation
from autograder.result import TestResult as Line  # not collected as a test class
from conftest import TOY_LAB_TOML

BOARD = '\n[leaderboard]\nmetric = "test accuracy"\nhigher_is_better = true\nreveal = {when}\n'
SCORES = {"ada": 0.91, "bob": 0.97, "cy": 0.91, "dee": None, "eve": 0.55}


def record(path: Path, scores: dict[str, float | None]) -> None:
    with Gradebook(path) as book:
        for i, (student, value) in enumerate(scores.items()):
            metrics = {} if value is None else {"test accuracy": value}
            line = Line("held-out accuracy", 1.0, 1.0, visibility="hidden", metrics=metrics, id="acc")
            result = GradeResult("tiny", student, [line], Isolation("A", "namespaces")).to_dict()
            book.record(f"job{i}", student, "tiny", f"h{i}", "v", "g", result)


@pytest.fixture
def course(make_lab, tmp_path: Path) -> Path:
    """A course with two toy labs: one revealed long ago, one revealed far in the future."""
    make_lab("tiny", lab__toml=TOY_LAB_TOML + BOARD.format(when="2001-01-01T00:00:00Z"))
    make_lab("later", lab__toml=TOY_LAB_TOML + BOARD.format(when="2999-01-01T00:00:00-08:00"))
    make_lab("plain")
    record(tmp_path / "gradebook.sqlite", SCORES)
    return tmp_path / "course"


def leaderboard(course: Path, tmp_path: Path, lab: str, *flags: str) -> int:
    return main(["--root", str(course), "leaderboard", lab, "--gradebook", str(tmp_path / "gradebook.sqlite"), *flags])


def rows(out: str) -> list[list[str]]:
    """The (rank, name) cells of each row of the printed table."""
    return [[cell.strip() for cell in line.split("│")[1:3]] for line in out.splitlines() if line.startswith("│")]


def test_ranked_by_the_metric_once_revealed(course: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert leaderboard(course, tmp_path, "tiny") == 0
    out = capsys.readouterr().out
    assert rows(out) == [["1", "bob"], ["2", "ada"], ["2", "cy"], ["4", "eve"], ["-", "dee"]]  # ties share a rank
    assert "0.97" in out and "not measured" in out


def test_refused_before_the_reveal_time_unless_instructor(course: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as book:  # the same class on the later lab
        rows = [(row["job_id"], row["student"], row["result"]) for row in book.latest("tiny")]
        for job, student, result in rows:
            book.record(job + "-later", student, "later", job, "v", "g", {**result, "lab": "later"})
    assert leaderboard(course, tmp_path, "later") == 1
    captured = capsys.readouterr()
    assert "refused:" in captured.err and "hidden until 2999-01-01 08:00 UTC" in captured.err
    assert "bob" not in captured.out + captured.err
    assert leaderboard(course, tmp_path, "later", "--instructor") == 0
    captured = capsys.readouterr()
    assert "bob" in captured.out and "instructor view" in captured.err


def test_pseudonyms_are_stable_and_need_the_gradebook(course: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    assert leaderboard(course, tmp_path, "tiny", "--pseudonyms") == 0
    first = capsys.readouterr().out
    shown = [name for _, name in rows(first)]
    assert len(shown) == len(SCORES) and not set(shown) & set(SCORES)
    assert leaderboard(course, tmp_path, "tiny", "--pseudonyms") == 0
    assert capsys.readouterr().out == first  # stable
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        key = book.secret()
    assert rows(first)[0] == ["1", pseudonym(key, "bob")]
    other = Gradebook(tmp_path / "other.sqlite")
    assert pseudonym(other.secret(), "bob") != pseudonym(key, "bob")  # another key, another name: not a plain hash
    other.close()


def test_colliding_pseudonyms_are_made_longer() -> None:
    key = b"k" * 32
    students = [f"s{i}" for i in range(5000)]
    short = [pseudonym(key, s) for s in students]
    assert len(set(short)) < len(short)  # 1024 word pairs x 65536: some collide at this size
    assert len(set(names(key, students).values())) == len(students)


def test_no_leaderboard_and_no_gradebook_are_usage_errors(course: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    assert leaderboard(course, tmp_path, "plain") == 2
    assert "has no leaderboard" in capsys.readouterr().err
    assert main(["--root", str(course), "leaderboard", "tiny", "--gradebook", str(tmp_path / "none.sqlite")]) == 2
    assert "no gradebook at" in capsys.readouterr().err


def test_lower_is_better(course: Path) -> None:
    from autograder.config import Leaderboard

    board = Leaderboard(metric="loss", higher_is_better=False, reveal=datetime(2001, 1, 1, tzinfo=timezone.utc))
    rows = [{"student": s, "attempt": 1, "result": {"tests": [{"metrics": {"loss": v}}]}}
            for s, v in (("a", 0.5), ("b", 0.1), ("c", float("nan")))]
    assert [(e.rank, e.name) for e in ranking(board, rows)] == [(1, "b"), (2, "a"), (None, "c")]
