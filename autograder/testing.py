"""What a lab's tests are written with: the ``@test`` decorator, ``Run`` and ``Fail``.

A test is a plain function of one argument, the ``Run`` of the submission being graded::

    @test(points=2)
    def softmax_matches_reference(run: Run):
        \"\"\"softmax equals the reference on ordinary logits\"\"\"
        run.expect_match("softmax", logits, what="softmax(X)")

It passes by returning ``None``, earns partial credit by returning a fraction in [0, 1], and fails by
raising ``Fail`` (or by the student's code failing). Student code only ever runs in the sandbox, via
probes (``probes.py``); the test sees plain data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

from autograder.sandbox.api import Reply, StudentError

if TYPE_CHECKING:
    from autograder.lab import Lab, Threshold, Variant


class Fail(Exception):
    """A failed test. ``mistake`` names a known mistake (a mutant id) the failure points to."""

    def __init__(self, message: str, mistake: str | None = None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake


@dataclass(frozen=True)
class TestSpec:
    """A registered test."""

    name: str
    func: Callable[["Run"], float | None]
    points: float
    visibility: str
    timeout: float | None
    title: str


def test(points: float, visibility: str = "public", timeout: float | None = None) -> Callable:
    """Register a function as a graded test worth ``points``."""
    if visibility not in ("public", "hidden", "after_due_date"):
        raise ValueError(f"unknown visibility {visibility!r}")

    def register(func: Callable) -> Callable:
        title = (func.__doc__ or func.__name__).strip().splitlines()[0]
        func.__autograder_test__ = TestSpec(func.__name__, func, points, visibility, timeout, title)
        return func

    return register


class Student(Protocol):
    def call(self, probe: str, args: list, kwargs: dict, timeout: float, trace: bool = False) -> Reply: ...


class Expected(Protocol):
    """Where reference values come from: the live reference, or values recorded at release."""

    def reference(self, probe: str, args: list, kwargs: dict) -> Any: ...

    def mutants(self, probe: str, args: list, kwargs: dict) -> list[tuple["Variant", Any]]: ...

    def reference_seconds(self, probe: str, args: list, kwargs: dict) -> float: ...


class Run:
    """One test's view of the submission being graded."""

    def __init__(self, lab: "Lab", student: Student, expected: Expected, timeout: float, datasets: Callable):
        self.lab = lab
        self._student = student
        self._expected = expected
        self._timeout = timeout
        self._datasets = datasets
        self.feedback: list[str] = []
        self.mistake_titles: dict[str, str] = {}

    def student(self, probe: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run a probe on the student's code in the sandbox; plain data comes back."""
        return self._student.call(probe, list(args), kwargs, timeout or self._timeout).value

    def reference(self, probe: str, *args: Any, **kwargs: Any) -> Any:
        """The same probe on the reference solution (never runs in the sandbox)."""
        return self._expected.reference(probe, list(args), kwargs)

    def expect_match(self, probe: str, *args: Any, what: str, rtol: float = 1e-5, atol: float = 1e-8,
                     timeout: float | None = None, **kwargs: Any) -> Any:
        """Fail unless the student's probe result matches the reference's; name a known mistake if it
        matches one instead."""
        got = self.student(probe, *args, timeout=timeout, **kwargs)
        want = self.reference(probe, *args, **kwargs)
        problem = compare(got, want, rtol=rtol, atol=atol)
        if problem is None:
            return got
        for mutant, value in self._expected.mutants(probe, list(args), kwargs):
            if compare(value, want, rtol=rtol, atol=atol) is not None and compare(got, value, rtol=rtol, atol=atol) is None:
                self.mistake_titles[mutant.id] = mutant.title
                raise Fail(f"{what}: {mutant.feedback}", mistake=mutant.id)
        raise Fail(f"{what}: {problem}")

    def dataset(self, name: str, **kwargs: Any) -> Any:
        """A dataset split, loaded by the grader (held-out labels stay here)."""
        return self._datasets(name, **kwargs)

    def threshold(self, name: str) -> "Threshold":
        return self.lab.threshold(name)

    def metric(self, label: str, value: float, threshold: str, fmt: str = ".4g") -> float:
        """Score a metric against the lab's threshold: the fraction of the points earned."""
        bounds = self.threshold(threshold)
        better = ">=" if bounds.higher_is_better else "<="
        worse = "<=" if bounds.higher_is_better else ">="
        self.note(f"{label} = {value:{fmt}} (full marks at {better} {bounds.full:{fmt}}, none at {worse} {bounds.zero:{fmt}})")
        return bounds.fraction(value)

    def held_out(self, probe: str, *args: Any, labels: np.ndarray, metric: Callable[[np.ndarray, np.ndarray], float],
                 label: str, threshold: str, fmt: str = ".4g", **kwargs: Any) -> float:
        """Let the student's code train and predict in the sandbox (it never sees ``labels``), then score
        the predictions here against the held-out labels: the fraction of the points earned."""
        predicted = np.asarray(self.student(probe, *args, **kwargs))
        if predicted.shape != labels.shape:
            raise Fail(f"{probe} should return one prediction per input: expected shape {labels.shape}, "
                       f"got {predicted.shape}")
        return self.metric(label, float(metric(predicted, labels)), threshold, fmt)

    def note(self, message: str) -> None:
        """Add a feedback line."""
        self.feedback.append(message)

    def time_student(self, probe: str, *args: Any, repeat: int = 3, **kwargs: Any) -> float:
        """Best-of-``repeat`` wall time of a probe on the student's code, measured from outside."""
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            self.student(probe, *args, **kwargs)
            best = min(best, time.perf_counter() - start)
        return best

    def time_reference(self, probe: str, *args: Any, **kwargs: Any) -> float:
        """Best wall time of the same probe on the reference, in this run."""
        return self._expected.reference_seconds(probe, list(args), kwargs)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of predictions equal to their label."""
    return float((predicted == labels).mean())


def _kind(value: Any) -> str:
    import torch

    if type(value) is torch.Tensor:
        return "a torch.Tensor"
    if type(value) is np.ndarray:
        return "a NumPy array"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    return {list: "a list", dict: "a dict", str: "a string", type(None): "None"}.get(type(value), type(value).__name__)


def compare(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-8) -> str | None:
    """None when ``got`` matches ``want`` (same kinds, shapes, values within tolerance; NaN equals NaN),
    else a sentence that says how they differ."""
    if _kind(got) != _kind(want):
        return f"expected {_kind(want)}, got {_kind(got)}"
    if isinstance(want, dict):
        if set(got) != set(want):
            return f"expected keys {sorted(want)}, got {sorted(got)}"
        for key in want:
            problem = compare(got[key], want[key], rtol, atol)
            if problem:
                return f"{key}: {problem}"
        return None
    if isinstance(want, list):
        if len(got) != len(want):
            return f"expected {len(want)} items, got {len(got)}"
        for i, (g, w) in enumerate(zip(got, want)):
            problem = compare(g, w, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(want, (str, bool)) or want is None:
        return None if got == want else f"expected {want!r}, got {got!r}"
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape:
        return f"expected shape {tuple(w.shape)}, got shape {tuple(g.shape)}"
    if w.dtype.kind in "fc" and g.dtype.kind not in "fc":
        return f"expected floating-point values, got dtype {g.dtype}"
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    nan_g, nan_w = np.isnan(g64), np.isnan(w64)
    if (nan_g & ~nan_w).any():
        return f"got NaN at {np.argwhere(nan_g & ~nan_w)[0].tolist()} where a number was expected (overflow?)"
    if (nan_w & ~nan_g).any():
        return "expected NaN at some positions, got numbers"
    ok = np.isclose(g64, w64, rtol=rtol, atol=atol) | (nan_g & nan_w)
    if ok.all():
        return None
    err = np.where(ok, 0.0, np.abs(np.nan_to_num(g64 - w64, nan=np.inf, posinf=np.inf, neginf=np.inf)))
    where = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    return (f"values differ from the expected ones in {int((~ok).sum())} of {ok.size} entries "
            f"(largest error {err.max():.3g} at index {list(map(int, where))})")
