"""Expected values: the reference (and known-mistake mutants) run in the trusted process, or values
recorded at release so that students can run the public tests without the reference.

Trusted code is imported from memory, never from a folder on disk that a sandbox could write; before
the reference is imported for grading, its hash is checked against the one recorded at release.
"""
from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any, Callable

from autograder.lab import EXPECTED_FILE, Lab, LabError, Variant
from autograder.sandbox.api import LineCount, Reply, StudentError
from autograder.sandbox.wire import WireError, decode, encode, roundtrip

FORMAT = 2  # of expected.wire


def call_key(probe: str, args: list, kwargs: dict) -> str:
    """A stable key for one probe call (its name and encoded inputs)."""
    return hashlib.sha256(encode([probe, args, kwargs])).hexdigest()


def code_hash(files: dict[str, str]) -> str:
    """The sha256 of a set of source files (names and contents)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


class _MemoryFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a set of modules from source strings held in memory."""

    def __init__(self, files: dict[str, str], label: str):
        self.sources = {name.removesuffix(".py"): text for name, text in files.items() if name.endswith(".py")}
        self.label = label

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.sources:
            return importlib.util.spec_from_loader(fullname, self, origin=f"<{self.label}>/{fullname}.py")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = compile(self.sources[module.__name__], module.__spec__.origin, "exec")
        exec(code, module.__dict__)  # noqa: S102 - trusted code: the reference or an instructor's mutant


def import_from_memory(files: dict[str, str], entry: str, label: str) -> ModuleType:
    """Import ``entry`` from ``files`` (name -> source) without touching the disk and without leaving the
    modules in ``sys.modules``, so that several copies of a lab's code (reference, mutants) coexist."""
    finder = _MemoryFinder(files, label)
    stashed = {name: sys.modules.pop(name) for name in finder.sources if name in sys.modules}
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module(entry)
    finally:
        sys.meta_path.remove(finder)
        for name in finder.sources:
            sys.modules.pop(name, None)
        sys.modules.update(stashed)


class TrustedCode:
    """A lab's probes over trusted code (the reference or a mutant), imported into this process."""

    def __init__(self, files: dict[str, str], probes: str, label: str):
        self.label = label
        self.probes = import_from_memory({**files, "probes.py": probes}, "probes", label)

    def call(self, probe: str, args: list, kwargs: dict) -> Any:
        """Call a probe on wire-shaped inputs and return its result as it would cross the wire. Warnings
        (a mutant overflowing on purpose) are not the grader's output."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = getattr(self.probes, probe)(*roundtrip(args), **roundtrip(kwargs))
        return roundtrip(result)


class TrustedStudent:
    """Trusted code answering probe calls in this process, as the sandbox would: for recording
    expected values at release and for benchmarks. Never for student code."""

    def __init__(self, code: TrustedCode):
        self.code = code

    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply:
        try:
            if trace:
                return self._traced(probe, args, kwargs)
            return Reply(self.code.call(probe, args, kwargs))
        except NotImplementedError as exc:
            raise StudentError("not_implemented", "not implemented yet", detail=str(exc)) from None
        except Exception as exc:
            raise StudentError("exception", f"raised {type(exc).__name__}", detail=str(exc), where="?") from None

    def _traced(self, probe: str, args: list, kwargs: dict) -> Reply:
        """The call with its line counts, as the sandbox counts them (``expect_vectorised`` in a public test
        needs them when release records the public tests): every line of the trusted code but its probes."""
        counts: dict[tuple[str, int, str], int] = {}
        label = f"<{self.code.label}>/"

        def local(frame, event, arg):
            if event == "line":
                key = (frame.f_code.co_filename.removeprefix(label), frame.f_lineno, frame.f_code.co_qualname)
                counts[key] = counts.get(key, 0) + 1
            return local

        def tracer(frame, event, arg):
            name = frame.f_code.co_filename
            return local if name.startswith(label) and name != f"{label}probes.py" else None

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            value = self.code.call(probe, args, kwargs)
        finally:
            sys.settrace(previous)
        return Reply(value, lines=[LineCount(*key, count) for key, count in sorted(counts.items())])


def reference_hash(lab: Lab) -> str:
    """What release records of the reference: its files as graded, and its probes."""
    return code_hash({**lab.reference_files, "probes.py": lab.probes_source})


class LiveExpected:
    """Expected values of the reference, and the tests' ``@recorded`` values: read from
    ``solutions/<lab>/recorded.wire`` where release recorded them for the lab's current files, else computed
    now (always, with ``fresh``: what release records); mutants' values are computed, on first need. With
    ``recorded_hash``, the reference must hash to it (the one labs/<lab> was released from) before any of its
    values is used."""

    def __init__(self, lab: Lab, recorded_hash: str | None = None, fresh: bool = False):
        self.lab = lab
        self.recorded_hash = recorded_hash
        self._reference: TrustedCode | None = None
        self._mutants: dict[str, TrustedCode] = {}
        self._cache: dict[tuple[str, str], Any] = {}
        self.calls: dict[str, tuple[str, list, dict]] = {}
        self._record: dict[str, dict] | None = {} if fresh else None
        self._released_checked = False
        self.computed_values: dict[str, Any] = {}  # every @recorded value this grading used, by call key

    def _recorded(self, kind: str) -> dict[str, Any]:
        """The values release recorded of one kind ("reference" or "computed"), by call key."""
        if self._record is None:
            self._record = grader_record(self.lab)
        return self._record.get(kind, {})

    def _check_released(self) -> None:
        if not self._released_checked and self.recorded_hash is not None and reference_hash(self.lab) != self.recorded_hash:
            raise LabError(f"solutions/{self.lab.id} differs from what labs/{self.lab.id} was released from: "
                           f"run 'autograder release {self.lab.id}' (and commit), then grade again")
        self._released_checked = True

    def _code(self, mutant: Variant | None) -> TrustedCode:
        if mutant is None:
            if self._reference is None:
                self._reference = TrustedCode(self.lab.reference_files, self.lab.probes_source, f"{self.lab.id}-reference")
            return self._reference
        if mutant.id not in self._mutants:
            files = self.lab.variant_files(mutant)
            self._mutants[mutant.id] = TrustedCode(files, self.lab.probes_source, f"{self.lab.id}-{mutant.id}")
        return self._mutants[mutant.id]

    def _value(self, mutant: Variant | None, probe: str, args: list, kwargs: dict) -> Any:
        key = call_key(probe, args, kwargs)
        self.calls[key] = (probe, args, kwargs)
        slot = (mutant.id if mutant else "", key)
        if slot not in self._cache and mutant is None:
            self._check_released()
            found = self._recorded("reference").get(key, _MISSING)
            if found is not _MISSING:
                self._cache[slot] = found
        if slot not in self._cache:
            try:
                self._cache[slot] = self._code(mutant).call(probe, args, kwargs)
            except LabError:
                raise
            except Exception as exc:  # a mutant may crash where the student crashed too
                if mutant is None:
                    raise
                self._cache[slot] = {"__raised__": type(exc).__name__}
        return self._cache[slot]

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        return self._value(None, probe, args, kwargs)

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        return [(m, self._value(m, probe, args, kwargs)) for m in self.lab.mutants]

    def mistakes(self) -> dict[str, Variant]:
        return self.lab.mistakes

    def computed(self, name: str, args: list, kwargs: dict, compute: Callable[[], Any]) -> Any:
        key = call_key(name, args, kwargs)
        if key not in self.computed_values:
            found = self._recorded("computed").get(key, _MISSING)
            self.computed_values[key] = roundtrip(compute()) if found is _MISSING else found
        return self.computed_values[key]

    def record(self) -> bytes:
        """What ``solutions/<lab>/recorded.wire`` holds after this run: every reference value and every
        ``@recorded`` value it used, by call key, and the hash of the lab files they come from."""
        reference = {key: value for (variant, key), value in self._cache.items() if not variant}
        return encode({"format": FORMAT, "sources_sha256": self.lab.sources_hash(),
                       "reference": dict(sorted(reference.items())), "computed": dict(sorted(self.computed_values.items()))})

    def recording(self, public_tests: set[str]) -> dict:
        """What ``expected.wire`` holds: the reference hash, every value the public tests asked for, only
        the mistakes (their forms' values, titles, feedback) that a public test can name — nothing of a
        hidden-only mistake, and no hidden test's name — and the starter as released (a student's copy of
        labs/<lab> is edited in place, so the rules and the loader compare with this one). Release adds the
        thresholds the public tests used."""
        nameable = {mid: m for mid, m in self.lab.mistakes.items() if set(m.fails) & public_tests}
        calls = {}
        for key, (probe, args, kwargs) in sorted(self.calls.items()):
            forms = [{"id": form.id, "mistake": form.mistake, "value": value}
                     for form, value in self.mutants(probe, args, kwargs) if form.mistake in nameable]
            calls[key] = {"probe": probe, "reference": self.reference(probe, args, kwargs), "forms": forms}
        mistakes = {mid: {"title": m.title, "feedback": m.feedback, "fails": sorted(set(m.fails) & public_tests)}
                    for mid, m in nameable.items()}
        return {"format": FORMAT, "reference_sha256": reference_hash(self.lab), "calls": calls, "mistakes": mistakes,
                "starter": dict(self.lab.starter_files), "computed": dict(sorted(self.computed_values.items()))}


_MISSING = object()


def grader_record(lab: Lab) -> dict[str, dict]:
    """What ``solutions/<lab>/recorded.wire`` holds ("reference" and "computed" values, by call key), or
    nothing if release has not recorded it for the lab's current files (the values are then computed)."""
    path = lab.recorded_path
    if not path.exists():
        return {}
    try:
        data = decode(path.read_bytes())
    except WireError:
        raise LabError(f"{path} is damaged: run 'autograder release {lab.id}' to record it again") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("sources_sha256") != lab.sources_hash():
        return {}
    return data


class RecordedExpected:
    """Expected values recorded at release (``labs/<lab>/expected.wire``): what ``check`` uses."""

    def __init__(self, lab: Lab):
        path = lab.starter_dir / EXPECTED_FILE
        self.data = decode(path.read_bytes()) if path.exists() else {}
        if self.data and self.data.get("format") != FORMAT:
            raise LabError(f"{path} was written by another version of the autograder: run 'autograder release'")
        self._mistakes = {mid: Variant(mid, m["title"], (), m["feedback"], tuple(m["fails"]), mid)
                          for mid, m in self.data.get("mistakes", {}).items()}

    def _entry(self, probe: str, args: list, kwargs: dict) -> dict:
        try:
            return self.data["calls"][call_key(probe, args, kwargs)]
        except KeyError:
            raise LabError(f"no recorded expected value for probe {probe!r}: run 'autograder release'") from None

    def reference(self, probe: str, args: list, kwargs: dict) -> Any:
        return self._entry(probe, args, kwargs)["reference"]

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple[Variant, Any]]:
        forms = []
        for form in self._entry(probe, args, kwargs)["forms"]:
            mistake = self._mistakes[form["mistake"]]
            forms.append((Variant(form["id"], mistake.title, (), mistake.feedback, mistake.fails, mistake.id),
                          form["value"]))
        return forms

    def mistakes(self) -> dict[str, Variant]:
        return self._mistakes

    def computed(self, name: str, args: list, kwargs: dict, compute: Callable[[], Any]) -> Any:
        found = self.data.get("computed", {}).get(call_key(name, args, kwargs), _MISSING)
        return roundtrip(compute()) if found is _MISSING else found

    @property
    def reference_sha256(self) -> str | None:
        return self.data.get("reference_sha256")

    @property
    def thresholds(self) -> list[str]:
        """The thresholds the public tests used when the reference ran them at release."""
        return self.data.get("thresholds", [])
