"""The course leaderboard of a lab that declares ``[leaderboard]``: each student's latest attempt ranked by
the lab's metric (a value a test recorded with ``run.metric``/``run.held_out``), hidden from students until
the lab's reveal time.

Pseudonyms are stable per student and cannot be reversed without the gradebook: each is an HMAC of the
student id under a random key that only the gradebook holds (``Gradebook.secret``), written as
``adjective-animal-xxxx``.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from autograder.config import Leaderboard

ADJECTIVES = ("amber", "bold", "brisk", "calm", "clever", "cosmic", "daring", "eager", "fuzzy", "gentle", "golden",
              "happy", "jolly", "keen", "lucky", "mellow", "nimble", "noble", "plucky", "quick", "quiet", "rapid",
              "shiny", "silver", "sunny", "swift", "tidy", "vivid", "wise", "witty", "zesty", "zen")
ANIMALS = ("badger", "beaver", "bison", "crane", "dingo", "dolphin", "eagle", "falcon", "ferret", "gecko", "heron",
           "ibex", "jackal", "koala", "lemur", "lynx", "marten", "narwhal", "ocelot", "otter", "panda", "puffin",
           "quokka", "raven", "salmon", "tapir", "toucan", "walrus", "weasel", "yak", "zebra", "wombat")


@dataclass
class Entry:
    """One row of the leaderboard; ``rank`` and ``value`` are None when the metric was not measured."""

    rank: int | None
    name: str
    value: float | None
    attempt: int


def revealed(board: Leaderboard, now: datetime | None = None) -> bool:
    """Whether students may see the leaderboard now."""
    return (now or datetime.now(timezone.utc)) >= board.reveal


def pseudonym(key: bytes, student: str, length: int = 4) -> str:
    """``student``'s pseudonym under ``key``: the same student always gets the same one."""
    digest = hmac.new(key, student.encode(), hashlib.sha256).digest()
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]}-{ANIMALS[digest[1] % len(ANIMALS)]}-{digest[2:].hex()[:length]}"


def ranking(board: Leaderboard, rows: list[dict], name: Callable[[str], str] = str) -> list[Entry]:
    """Gradebook rows (each student's latest attempt) ranked by the board's metric, best first; equal values
    share a rank (1, 2, 2, 4). Students whose grading did not measure the metric come last, unranked."""
    measured, unmeasured = [], []
    for row in rows:
        value = _metric(row["result"], board.metric)
        (measured if value is not None else unmeasured).append((value, row))
    measured.sort(key=lambda pair: -pair[0] if board.higher_is_better else pair[0])
    entries, previous = [], None
    for position, (value, row) in enumerate(measured, start=1):
        rank = entries[-1].rank if previous is not None and value == previous else position
        entries.append(Entry(rank, name(row["student"]), value, row["attempt"]))
        previous = value
    entries += [Entry(None, name(row["student"]), None, row["attempt"]) for _, row in unmeasured]
    return entries


def names(key: bytes, students: list[str]) -> dict[str, str]:
    """Each student's pseudonym, longer where two short ones would collide."""
    short = {student: pseudonym(key, student) for student in students}
    taken = list(short.values())
    return {student: value if taken.count(value) == 1 else pseudonym(key, student, 12) for student, value in short.items()}


def _metric(result: dict, metric: str) -> float | None:
    """The metric's value in a stored result (from a line that counts), if finite."""
    for test in result.get("tests", []):
        value = test.get("metrics", {}).get(metric)
        if value is not None and not test.get("grader_error") and math.isfinite(value):
            return float(value)
    return None
