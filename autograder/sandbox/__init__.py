"""The untrusted side: student code runs here, in separate, confined, resource-limited processes.

The names below load on first use, so that starting a warm fork server (``shared_pool().start(...)``)
does not wait for the client's imports (NumPy, for the wire format)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.sandbox.client import Sandbox
    from autograder.sandbox.isolation import detect_isolation
    from autograder.sandbox.pool import SandboxPool, shared_pool

_HOMES = {"Sandbox": "client", "detect_isolation": "isolation", "SandboxPool": "pool", "shared_pool": "pool"}
__all__ = ["Sandbox", "SandboxPool", "detect_isolation", "shared_pool"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
