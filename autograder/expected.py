"""Expected values: the reference (and known-mistake mutants) run in the trusted process, or values
recorded at release so that students can run the public tests without the reference."""
from __future__ import annotations

import hashlib
import importlib
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.lab import Lab, Variant
from autograder.sandbox import cleanup
from autograder.sandbox.wire import decode, encode, roundtrip
from autograder.sandbox.api import Reply, StudentError

EXPECTED_FILE = "expected.wire"


def call_key(probe: str, args: list, kwargs: dict) -> str:
    """A stable key for one probe call (its name and encoded inputs)."""
    return hashlib.sha256(encode([probe, args, kwargs])).hexdigest()


def import_isolated(folder: Path, name: str) -> ModuleType:
    """Import ``name`` from ``folder`` without leaving its modules (or its folder) in ``sys.modules``
    and ``sys.path``, so that several copies of a lab's code can live in one process."""
    local = {p.stem for p in folder.glob("*.py")}
    stashed = {mod: sys.modules.pop(mod) for mod in local if mod in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
        for mod in local:
            sys.modules.pop(mod, None)
        sys.modules.update(stashed)


class TrustedCode:
    """A lab's probes over trusted code (the reference or a mutant), imported into this process."""

    def __init__(self, files: dict[str, str], probes: str, label: str):
        self.folder = Path(tempfile.mkdtemp(prefix=f"autograder-{label}-"))
        cleanup.remove_at_exit(self.folder)  # at exit, and on SIGTERM or SIGINT too
        for name, text in {**files, "probes.py": probes}.items():
            (self.folder / name).write_text(text)
        self.probes = import_isolated(self.folder, "probes")

    def call(self, probe: str, args: list, kwargs: dict) -> Any:
        """Call a probe on wire-shaped inputs and return its result as it would cross the wire."""
        result = getattr(self.probes, probe)(*roundtrip(args), **roundtrip(kwargs))
        return roundtrip(result)


class TrustedStudent:
    """Trusted code answering probe calls in this process, as the sandbox would: for recording
    expected values at release and for benchmarks. Never for student code."""

    def __init__(self, code: TrustedCode):
        self.code = code

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        try:
            return Reply(self.code.call(probe, args, kwargs))
        except NotImplementedError as exc:
            raise StudentError("not_implemented", "not implemented yet", detail=str(exc)) from None
        except Exception as exc:
            raise StudentError("exception", f"raised {type(exc).__name__}", detail=str(exc)) from None


def probes_source(lab: Lab) -> str:
    base = lab.solution_dir or lab.starter_dir
    return (base / "probes.py").read_text()


class LiveExpected:
    """Expected values computed now from the reference; mutants loaded on first need."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self._reference: TrustedCode | None = None
        self._mutants: dict[str, TrustedCode] = {}
        self._cache: dict[tuple[str, str], Any] = {}
        self.calls: dict[str, tuple[str, list, dict]] = {}

    def _code(self, mutant: Variant | None) -> TrustedCode:
        if mutant is None:
            if self._reference is None:
                self._reference = TrustedCode(self.lab.reference_files, probes_source(self.lab), f"{self.lab.id}-ref")
            return self._reference
        if mutant.id not in self._mutants:
            files = self.lab.variant_files(mutant)
            self._mutants[mutant.id] = TrustedCode(files, probes_source(self.lab), f"{self.lab.id}-{mutant.id}")
        return self._mutants[mutant.id]

    def _value(self, mutant: Variant | None, probe: str, args: list, kwargs: dict) -> Any:
        key = call_key(probe, args, kwargs)
        self.calls[key] = (probe, args, kwargs)
        slot = (mutant.id if mutant else "", key)
        if slot not in self._cache:
            try:
                self._cache[slot] = self._code(mutant).call(probe, args, kwargs)
            except Exception as exc:  # a mutant may crash where the student crashed too
                if mutant is None:
                    raise
                self._cache[slot] = {"__raised__": type(exc).__name__}
        return self._cache[slot]

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        return self._value(None, probe, args, kwargs)

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        return [(m, self._value(m, probe, args, kwargs)) for m in self.lab.mutants]

    def reference_seconds(self, probe: str, args: list, kwargs: dict, repeat: int = 3) -> float:
        import torch

        code, threads = self._code(None), torch.get_num_threads()
        torch.set_num_threads(1)  # the sandbox runs single-threaded too
        try:
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                code.call(probe, args, kwargs)
                best = min(best, time.perf_counter() - start)
            return best
        finally:
            torch.set_num_threads(threads)

    def recording(self) -> dict:
        """Everything the public tests asked for, ready to be written as ``expected.wire``."""
        entries = {}
        for key, (probe, args, kwargs) in sorted(self.calls.items()):
            mutants = [{"id": m.id, "title": m.title, "feedback": m.feedback, "value": value}
                       for m, value in self.mutants(probe, args, kwargs)]
            entries[key] = {"probe": probe, "reference": self.reference(probe, args, kwargs), "mutants": mutants}
        return entries


class RecordedExpected:
    """Expected values recorded at release (``labs/<lab>/expected.wire``): what ``check`` uses."""

    def __init__(self, lab: Lab):
        path = lab.starter_dir / EXPECTED_FILE
        self.entries = decode(path.read_bytes()) if path.exists() else {}

    def _entry(self, probe: str, args: list, kwargs: dict) -> dict:
        try:
            return self.entries[call_key(probe, args, kwargs)]
        except KeyError:
            raise RuntimeError(f"no recorded expected value for probe {probe!r}: run 'autograder release'") from None

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        return self._entry(probe, args, kwargs)["reference"]

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        return [(Variant(m["id"], m["title"], (), m["feedback"]), m["value"])
                for m in self._entry(probe, args, kwargs)["mutants"]]

    def reference_seconds(self, probe: str, args: list, kwargs: dict) -> float:
        raise RuntimeError("timing against the reference needs the reference: make this test hidden")
