"""Nothing left behind: a registry of what is live (sandboxes, fork servers, temporary folders) and
signal handlers that, on SIGTERM, SIGINT or SIGHUP, kill every sandbox tree, remove every temporary
folder and exit with 128 + the signal. A command runs inside ``signals_clean_up()``; everything that
creates something to clean up registers it here."""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator, Protocol

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Closable(Protocol):
    def close(self) -> None: ...


_lock = threading.RLock()
_live: dict[int, Closable] = {}
_paths: dict[str, None] = {}


def register(obj: Closable) -> None:
    """Close ``obj`` when the process is told to stop (until it is unregistered)."""
    with _lock:
        _live[id(obj)] = obj


def unregister(obj: Closable) -> None:
    with _lock:
        _live.pop(id(obj), None)


def remove_at_exit(path: Path | str) -> None:
    """Remove this temporary folder when the process stops, however it stops (short of SIGKILL)."""
    with _lock:
        _paths[str(path)] = None


def forget_path(path: Path | str) -> None:
    with _lock:
        _paths.pop(str(path), None)


def close_everything() -> None:
    """Close every registered object (newest first), then remove every registered folder."""
    with _lock:
        live, paths = list(_live.values()), list(_paths)
        _live.clear()
        _paths.clear()
    for obj in reversed(live):
        try:
            obj.close()
        except Exception:  # noqa: BLE001 - one failure must not keep the others alive
            continue
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _on_signal(number: int, frame: object) -> None:
    for each in SIGNALS:  # a second signal while cleaning up must not interrupt it
        signal.signal(each, signal.SIG_IGN)
    close_everything()
    sys.stderr.flush()
    os._exit(128 + number)


@contextlib.contextmanager
def signals_clean_up() -> Iterator[None]:
    """While inside, SIGTERM, SIGINT and SIGHUP clean up and exit with 128 + the signal; the previous
    handlers come back after. A command wraps its work in this (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _on_signal) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


atexit.register(close_everything)  # a normal exit cleans up too
