"""What a lab's tests are written with: ``@test``, ``@signature``, ``@recorded``, ``Run`` and ``Fail``.

A test is a plain function of one argument, the ``Run`` of the submission being graded::

    @test(points=2)
    def softmax_matches_reference(run: Run):
        \"\"\"softmax equals the reference on ordinary logits\"\"\"
        run.expect_match("softmax", logits, what="softmax(X)")

It passes by returning ``None``, earns partial credit by returning a fraction in [0, 1], and fails by
raising ``Fail`` (or by the student's code failing). Student code only ever runs in the sandbox, via
probes (``probes.py``); the test sees plain data.

When a value is wrong, ``expect_match`` says how (``autograder.diagnose``) and names the known mistake
it recognises, by what the code does: the value of one of the mistake's forms (whole, or on the fields
that are wrong), a lab's ``@signature`` predicate, or the same error direction as a form. A test that
the lab, not the student, got wrong raises ``GraderError`` (or any other exception): the line is then
excluded from the score.
"""
from __future__ import annotations

import ast
import contextlib
import contextvars
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

import numpy as np

from autograder.diagnose import Difference, describe, differences, fields
from autograder.sandbox.api import Reply, StudentError

if TYPE_CHECKING:
    from autograder.config import Threshold
    from autograder.lab import Lab, Variant

LOOP_GROWTH = 0.5  # lines run per added sample above which a line counts as a loop over samples
DIRECTION_COSINE = 0.995  # how closely an error must point the way a known mistake's does to be named by it
MAX_OUTPUT = 4000  # characters of the student's printed output kept per test
MAX_CURVE = 10_000  # points of one curve kept for the report


class Fail(Exception):
    """A failed test. ``mistake`` names a known mistake (its id) the failure points to. ``candidates``
    are further (mistake id, message) pairs that also fit, best first, and ``fallback`` is what to say if
    the runner withdraws every name (another test shows the mistake is not there)."""

    def __init__(self, message: str, mistake: str | None = None, fallback: str | None = None,
                 candidates: list[tuple[str, str]] = ()):
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.fallback = fallback or message
        self.candidates = ([(mistake, message)] if mistake else []) + list(candidates)


class GraderError(Exception):
    """A fault of the lab or the grader (a probe that does not exist, a probe that fails on the reference
    too): the line is excluded from the score and the instructor is told."""


@dataclass(frozen=True)
class TestSpec:
    """A registered test. ``slow``: it trains a model (``verify --quick`` runs it for the reference only)."""

    name: str
    func: Callable[["Run"], float | None]
    points: float
    visibility: str
    timeout: float | None
    title: str
    slow: bool = False


@dataclass(frozen=True)
class SignatureSpec:
    """A registered signature: a predicate that recognises a known mistake from a probe's result."""

    mistake: str
    probe: str | None
    func: Callable[[Any, Any, "Call"], bool]


def test(points: float, visibility: str = "public", timeout: float | None = None, slow: bool = False) -> Callable:
    """Register a function as a graded test worth ``points``; ``slow`` marks a test that trains a model."""
    if visibility not in ("public", "hidden", "after_due_date"):
        raise ValueError(f"unknown visibility {visibility!r}")

    def register(func: Callable) -> Callable:
        title = (func.__doc__ or func.__name__).strip().splitlines()[0]
        func.__autograder_test__ = TestSpec(func.__name__, func, points, visibility, timeout, title, slow)
        return func

    return register


def signature(mistake: str, probe: str | None = None) -> Callable:
    """Register ``func(got, want, call) -> bool`` as a way to recognise the known mistake ``mistake`` in
    the result of ``probe`` (any probe if None), however the student wrote it. ``call`` has the probe's
    arguments and the differences already found."""

    def register(func: Callable) -> Callable:
        func.__autograder_signature__ = SignatureSpec(mistake, probe, func)
        return func

    return register


def recorded(func: Callable) -> Callable:
    """Mark ``func`` as a pure function of plain data that the grader computes for its tests (e.g. with a
    library the lab forbids the student, such as autograd's gradients or a PyTorch twin's predictions).
    ``autograder release`` records its value for every input the tests give it when grading the reference
    (the public tests' in ``labs/<lab>/expected.wire``, every test's in ``solutions/<lab>/recorded.wire``,
    beside the reference's own answers), and a grading reads those instead of computing them: a test that
    needs torch only to know the answer then grades without importing torch. Other inputs (a student's
    values, a real dataset) are computed as usual, and so is everything once the lab's files change."""
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def from_record_or_computed(*args: Any, **kwargs: Any) -> Any:
        expected = _grading.get()
        if expected is None:  # called outside a grading (a calibration script, a helper's own test)
            return func(*args, **kwargs)
        return expected.computed(name, list(args), kwargs, lambda: func(*args, **kwargs))

    return from_record_or_computed


@contextlib.contextmanager
def grading_with(expected: Expected) -> Iterator[None]:
    """Within this block, ``@recorded`` functions take their values from ``expected`` (the runner's)."""
    token = _grading.set(expected)
    try:
        yield
    finally:
        _grading.reset(token)


_grading: contextvars.ContextVar["Expected | None"] = contextvars.ContextVar("autograder_grading", default=None)


@dataclass
class Call:
    """What a signature sees besides the two values: the call and the differences found."""

    probe: str
    args: list
    kwargs: dict
    differences: list[Difference]

    def effect(self, path: str = "") -> str | None:
        """The effect tag found at ``path`` (a dict key, ``""`` for the whole value), or None."""
        return next((d.effect for d in self.differences if d.path == path), None)

    def factor(self, path: str = "") -> float | None:
        """The constant factor between got and want at ``path``, if that is how they differ."""
        return next((d.factor for d in self.differences if d.path == path), None)

    def wrong(self) -> set[str]:
        return {d.path for d in self.differences}


class Student(Protocol):
    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply: ...


class Expected(Protocol):
    """Where reference values come from: the live reference, or values recorded at release."""

    def reference(self, probe: str, args: list, kwargs: dict) -> Any: ...

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple["Variant", Any]]: ...

    def mistakes(self) -> dict[str, "Variant"]: ...

    def computed(self, name: str, args: list, kwargs: dict, compute: Callable[[], Any]) -> Any:
        """The value of the ``@recorded`` function ``name`` on these inputs: recorded, or ``compute()``."""


@functools.lru_cache(maxsize=64)
def probe_names(source: str) -> frozenset[str]:
    """The probes a probes.py defines: its top-level functions."""
    return frozenset(node.name for node in ast.parse(source).body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


@dataclass
class Run:
    """One test's view of the submission being graded."""

    lab: "Lab"
    _student: Student
    _expected: Expected
    _timeout: float
    _datasets: Callable
    probes: frozenset[str] | set[str]
    signatures: list[SignatureSpec] = field(default_factory=list)
    shared: dict = field(default_factory=dict)  # one grading's cached probe results, shared by its tests
    feedback: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, dict] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)

    # -- calling code

    def student(self, probe: str, *args: Any, timeout: float | None = None, cache: bool = False, **kwargs: Any) -> Any:
        """Run a probe on the student's code in the sandbox; plain data comes back. With ``cache``, a call
        with the same arguments earlier in this grading (e.g. one training shared by a public and a hidden
        test) is not run again: its value, or its failure, is reused."""
        if not cache:
            return self._call(probe, list(args), kwargs, timeout).value
        from autograder.expected import call_key  # the key of a call is the expected values' key

        key = call_key(probe, list(args), kwargs)
        if key not in self.shared:
            try:
                self.shared[key] = self._call(probe, list(args), kwargs, timeout).value
            except StudentError as error:
                self.shared[key] = error
        value = self.shared[key]
        if isinstance(value, StudentError):
            raise value
        return value

    def _call(self, probe: str, args: list, kwargs: dict, timeout: float | None, trace: bool = False) -> Reply:
        if probe not in self.probes:
            raise GraderError(f"the test calls probe {probe!r}, which probes.py does not define")
        try:
            reply = self._student.call(probe, args, kwargs, timeout or self._timeout, trace)
        except StudentError as error:
            self._keep_output(error.output)
            if error.kind == "exception" and not error.where:
                self._blame_probe(probe, args, kwargs, error)
            raise
        self._keep_output(reply.output)
        return reply

    def _blame_probe(self, probe: str, args: list, kwargs: dict, error: StudentError) -> None:
        """An exception with no frame of the student's: the probe failed on the student's result, or the
        probe is broken. The reference decides: if it fails the same way, it is the lab's fault."""
        try:
            self._expected.reference(probe, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure of the reference is the lab's
            raise GraderError(f"probe {probe!r} fails on the reference too ({type(exc).__name__}: {exc})") from None
        error.message = (f"the probe {probe!r} could not use what your code returned ({error.detail.split(':')[0]}): "
                         "check the type and shape your function returns")

    def _keep_output(self, text: str) -> None:
        if text and sum(map(len, self.output)) < MAX_OUTPUT:
            self.output.append(text[:MAX_OUTPUT])

    def reference(self, probe: str, *args: Any, **kwargs: Any) -> Any:
        """The same probe on the reference solution (never runs in the sandbox)."""
        if probe not in self.probes:
            raise GraderError(f"the test calls probe {probe!r}, which probes.py does not define")
        return self._expected.reference(probe, list(args), kwargs)

    # -- comparing

    def expect_match(self, probe: str, *args: Any, what: str, rtol: float = 1e-5, atol: float = 1e-8,
                     sizes: dict[str, int] | None = None, timeout: float | None = None, **kwargs: Any) -> Any:
        """Fail unless the student's probe result matches the reference's. The failure says how the values
        differ (``sizes`` names sizes a factor may be, e.g. ``{"the batch size": 32}``) and names the
        known mistake the result shows, if any."""
        got = self.student(probe, *args, timeout=timeout, **kwargs)
        want = self.reference(probe, *args, **kwargs)
        inputs = [value for value in [*args, *kwargs.values()] if hasattr(value, "shape")]
        found = differences(got, want, rtol, atol, inputs=inputs, sizes=sizes)
        if not found:
            return got
        wrong = {d.path for d in found}
        right = [path for path in fields(want) if path and path not in wrong] if isinstance(want, dict) else []
        message = f"{what}: {describe(found, right)}"
        mistakes = self._recognise(Call(probe, list(args), kwargs, found), got, want, rtol, atol)
        if not mistakes:
            raise Fail(message)
        raise Fail(message, fallback=message,
                   candidates=[(m.mistake, f"{message}. {m.feedback}") for m in mistakes])

    def _recognise(self, call: Call, got: Any, want: Any, rtol: float, atol: float) -> list["Variant"]:
        """The known mistakes this result shows, best first: by a form's value, by a signature, by an error's
        direction. The runner names the first one that no passing test contradicts."""
        forms = [(form, value) for form, value in self._expected.mutants(call.probe, call.args, call.kwargs)
                 if not (isinstance(value, dict) and "__raised__" in value)]
        found = [form for form, value in forms if _same_mistake(got, want, value, call, rtol, atol)]
        known = self._expected.mistakes()
        for spec in self.signatures:
            if spec.mistake in known and spec.probe in (None, call.probe):
                try:
                    if spec.func(got, want, call):
                        found.append(known[spec.mistake])
                except Exception:  # noqa: BLE001 - a signature that cannot judge this value says nothing
                    continue
        found += [form for form, value in forms if _same_direction(got, want, value, call)]
        return list({m.mistake: m for m in reversed(found)}.values())[::-1]

    def expect_close(self, got: Any, want: Any, what: str, rtol: float = 1e-5, atol: float = 1e-8,
                     sizes: dict[str, int] | None = None) -> None:
        """Fail unless ``got`` matches ``want`` (both computed by the test); the failure says how they differ."""
        found = differences(got, want, rtol, atol, sizes=sizes)
        if found:
            raise Fail(f"{what}: {describe(found)}")

    # -- vectorisation, by counting lines

    def line_counts(self, probe: str, *args: Any, **kwargs: Any) -> dict[tuple[str, int, str], int]:
        """How often each line of the student's files ran during one call of ``probe``."""
        reply = self._call(probe, list(args), kwargs, None, trace=True)
        if reply.lines is None:
            raise GraderError("the sandbox did not count lines for a traced call")
        return {(line.file, line.line, line.function): line.count for line in reply.lines}

    def expect_vectorised(self, probe: str, *args: Any, n: tuple[int, int], what: str, size: str = "n",
                          mistake: str | None = None, **kwargs: Any) -> None:
        """Fail if some line of the student's code runs more often when the probe gets more samples: the
        probe is called with ``size=n[0]`` and ``size=n[1]``; a line whose count grows with the number of
        samples is a loop over them (whatever its form). A loop over a fixed set keeps its count."""
        small_n, large_n = n
        small = self.line_counts(probe, *args, **{**kwargs, size: small_n})
        large = self.line_counts(probe, *args, **{**kwargs, size: large_n})
        if not small and not large:
            raise Fail(f"{what}: no line of your code ran, so the grader could not check it")
        loops = sorted(((count - small.get(key, 0), key) for key, count in large.items()
                        if count - small.get(key, 0) >= LOOP_GROWTH * (large_n - small_n)), reverse=True)
        if loops:
            (file, line, function) = loops[0][1]
            key = loops[0][1]
            raise Fail(f"{what}: {file} line {line} (in {function}) ran {small.get(key, 0)} times for {small_n} "
                       f"samples and {large[key]} times for {large_n}: a Python loop over the samples (whatever its "
                       "form: for, while, a comprehension, map, recursion); work on the whole batch with array "
                       "operations", mistake=mistake)

    # -- data, metrics and notes

    def dataset(self, name: str, **kwargs: Any) -> Any:
        """A dataset split, loaded by the grader (held-out labels stay here). A dataset that cannot be loaded
        is the grader's problem, reported without the grading machine's paths."""
        try:
            return self._datasets(name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever the loader raises, it is not the student's doing
            text = re.sub(r"(?:/[^/\s:'\"]+)+/([^/\s:'\"]+)", r"\1", str(exc))
            raise GraderError(f"dataset {name!r} could not be loaded ({type(exc).__name__}: {text[:300]})") from None

    def threshold(self, name: str) -> "Threshold":
        return self.lab.threshold(name)

    def metric(self, label: str, value: float, threshold: str, fmt: str = ".4g") -> float:
        """Score a metric against the lab's threshold: the fraction of the points earned."""
        bounds = self.threshold(threshold)
        self.metrics[label] = float(value)
        self.thresholds[label] = {"threshold": threshold, "full": bounds.full, "zero": bounds.zero,
                                  "higher_is_better": bounds.higher_is_better}
        better = ">=" if bounds.higher_is_better else "<="
        worse = "<=" if bounds.higher_is_better else ">="
        self.note(f"{label} = {value:{fmt}} (full marks at {better} {bounds.full:{fmt}}, none at {worse} {bounds.zero:{fmt}})")
        return bounds.fraction(value)

    def held_out(self, probe: str, *args: Any, labels: np.ndarray, metric: Callable[[np.ndarray, np.ndarray], float],
                 label: str, threshold: str, fmt: str = ".4g", **kwargs: Any) -> float:
        """Let the student's code train and predict in the sandbox (it never sees ``labels``), then score
        the predictions here against the held-out labels: the fraction of the points earned."""
        predicted = np.asarray(self.student(probe, *args, **kwargs))
        return self.score_predictions(predicted, labels=labels, metric=metric, label=label, threshold=threshold,
                                      fmt=fmt, what=probe)

    def score_predictions(self, predicted: Any, labels: np.ndarray, metric: Callable[[np.ndarray, np.ndarray], float],
                          label: str, threshold: str, fmt: str = ".4g", what: str = "the predictions") -> float:
        """Score predictions the student's code made (in the sandbox) against held-out labels kept here."""
        predicted = np.asarray(predicted)
        if predicted.shape != labels.shape:
            raise Fail(f"{what} should return one prediction per input: expected shape {labels.shape}, "
                       f"got {predicted.shape}")
        return self.metric(label, float(metric(predicted, labels)), threshold, fmt)

    def curve(self, label: str, values: Any) -> bool:
        """Attach a curve the student's code produced (e.g. each epoch's training loss, returned by a probe)
        to this test's result, for the HTML report to plot; public tests only (a hidden test's curve is
        dropped). A value that is not a list of numbers is noted, never a failure: the curve is a view, not
        a score. Returns whether the curve was kept."""
        try:
            points = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            points = None
        if points is None or points.ndim != 1 or not 0 < points.size <= MAX_CURVE:
            self.note(f"{label}: your code did not return a list of at most {MAX_CURVE} numbers, so it is not plotted")
            return False
        self.curves[label] = [float(v) for v in points]
        return True

    def note(self, message: str) -> None:
        """Add a feedback line."""
        self.feedback.append(message)


def _same_mistake(got: Any, want: Any, form_value: Any, call: Call, rtol: float, atol: float) -> bool:
    """The student's result shows this form's mistake: it equals the form's value, or, field by field,
    every field the student got wrong is wrong in the form too and equal to the form's."""
    form_wrong = {d.path for d in differences(form_value, want, rtol, atol)}
    if not form_wrong:
        return False  # this form behaves like the reference on this call: it proves nothing
    student_wrong = call.wrong()
    if not student_wrong <= form_wrong:
        return False
    unlike_form = {d.path for d in differences(got, form_value, rtol, atol)}
    return not (unlike_form & student_wrong)


def _same_direction(got: Any, want: Any, form_value: Any, call: Call) -> bool:
    """The same fields are wrong as in the form, and the error points the same way (cosine) over at
    least four numbers: the same mistake with another constant."""
    try:
        form_wrong = {d.path for d in differences(form_value, want)}
        if not form_wrong or form_wrong != call.wrong():
            return False
        g, w, m = (_flat(value) for value in (got, want, form_value))
    except (TypeError, ValueError):
        return False
    if g is None or w is None or m is None or not (g.shape == w.shape == m.shape) or g.size < 4:
        return False
    a, b = g - w, m - w
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return norm > 0 and float(a @ b) / norm >= DIRECTION_COSINE


def _flat(value: Any) -> np.ndarray | None:
    """All numbers of a value (dict values in key order, list items in order) as one float64 vector."""
    if isinstance(value, dict):
        parts = [_flat(value[key]) for key in sorted(value)]
    elif isinstance(value, list):
        parts = [_flat(item) for item in value]
    elif isinstance(value, (str, bool)) or value is None:
        return np.zeros(0)
    else:
        return np.asarray(value, dtype=np.float64).ravel()
    if any(part is None for part in parts):
        return None
    return np.concatenate(parts) if parts else np.zeros(0)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of predictions equal to their label."""
    return float((predicted == labels).mean())
