"""Caps on what comes back from a sandbox, applied by the grader in linear time: whatever the sandbox
says it capped, it could have lied (its process belongs to the student)."""
from __future__ import annotations

from typing import Any, Iterable

MAX_TEXT = 2_000  # an exception's text, a message
MAX_NAME = 200  # a type name, a location, a file or function name, a forbidden API's name
MAX_OUTPUT = 10_000  # a call's captured output
MAX_ITEMS = 50  # entries of a list of names (violations)
MAX_LINES = 5_000  # traced line counts


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """A string field of a reply, cut to ``limit`` characters with a line saying how much was cut;
    anything but a str is an empty string."""
    if type(value) is not str:
        return ""
    if len(value) <= limit:
        return value
    return value[:limit] + f"\n... [{len(value) - limit} more characters cut by the grader]"


def name(value: Any) -> str:
    """A short single-line field (a type name, a location): cut to MAX_NAME characters."""
    if type(value) is not str:
        return ""
    first = value.split("\n", 1)[0]
    return first if len(first) <= MAX_NAME else first[:MAX_NAME] + "..."


def unique(values: Iterable[Any], limit: int, seen: dict[str, None] | None = None) -> tuple[list[str], int]:
    """The distinct strings among ``values`` not already in ``seen`` (in order, each a ``name``), at
    most ``limit`` of them counting ``seen``; and how many distinct others were cut. Linear time."""
    kept: dict[str, None] = {} if seen is None else seen
    start, cut = len(kept), {}
    for value in values:
        item = name(value)
        if not item or item in kept or item in cut:
            continue
        if len(kept) < limit:
            kept[item] = None
        else:
            cut[item] = None
    return list(kept)[start:], len(cut)
