"""Process trees read from /proc: who descends from whom, and how much CPU they used.

Stdlib only: the fork server's keepers use it too (to find what to kill in profile C)."""
from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, list[bytes]]:
    """Each process's /proc/PID/stat fields after the command name (state first, then the parent)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as file:
                    stats[int(entry)] = file.read().rpartition(b")")[2].split()
            except OSError:
                continue
    return stats


def _below(root: int, stats: dict[int, list[bytes]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def descendants(root: int) -> list[int]:
    """The live (not zombie) processes below ``root``."""
    stats = _stats()
    return [pid for pid in _below(root, stats) if stats[pid][0] != b"Z"]


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by every process below ``root``, and by the children they reaped
    (``root``'s own reaped children included, not ``root`` itself)."""
    stats = _stats()
    ticks = sum(int(value) for value in stats[root][13:15]) if root in stats else 0  # cutime, cstime
    for pid in _below(root, stats):
        ticks += sum(int(value) for value in stats[pid][11:15])  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS
