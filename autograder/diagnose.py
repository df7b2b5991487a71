"""How a student's value differs from the expected one, in words a student understands.

``differences(got, want)`` walks dicts and lists field by field and, for each wrong array or number,
runs generic detectors: a shape off by one or transposed, a constant factor (named: "1/32", "-1", "2"),
a constant offset, normalisation along the wrong axis, NaN or inf from an overflow, zeros from an
underflow, everything zero, the input returned unchanged, the right values in another order, a mask
in the wrong place. Each finding has an ``effect`` tag so that a test, a signature or a report can
reason about it; the sentence is what the student reads.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

MAX_FIELDS_SHOWN = 4


@dataclass(frozen=True)
class Difference:
    """One wrong field: where it is (``""`` for the whole value), what is wrong, and the effect's tag."""

    path: str
    sentence: str
    effect: str | None = None  # shape | transpose | factor | sign | offset | axis | overflow | underflow | zeros
    #                            | unchanged | order | mask | kind | keys | length | values
    factor: float | None = None


def kind_of(value: Any) -> str:
    """The kind of a value as a student would name it."""
    if type(value).__name__ == "Tensor" and type(value).__module__.startswith("torch"):
        return "a torch.Tensor"
    if type(value) is np.ndarray:
        return "a NumPy array"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    return {list: "a list", dict: "a dict", str: "a string", type(None): "None"}.get(type(value), type(value).__name__)


def differences(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-8,
                inputs: Sequence[Any] = (), sizes: dict[str, int] | None = None, path: str = "") -> list[Difference]:
    """Every wrong field of ``got`` (empty when it matches ``want``). ``inputs`` are the arrays the code
    was given (to recognise an input returned unchanged); ``sizes`` names sizes that a factor may be
    (e.g. ``{"the batch size": 32}``)."""
    if kind_of(got) != kind_of(want):
        return [Difference(path, f"expected {kind_of(want)}, got {kind_of(got)}", "kind")]
    if isinstance(want, dict):
        if set(got) != set(want):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            parts = ([f"missing {', '.join(map(str, missing))}"] if missing else []) + \
                    ([f"unexpected {', '.join(map(str, extra))}"] if extra else [])
            return [Difference(path, f"expected keys {sorted(want)}: {'; '.join(parts)}", "keys")]
        return [d for key in want
                for d in differences(got[key], want[key], rtol, atol, inputs, sizes, _join(path, str(key)))]
    if isinstance(want, list):
        if len(got) != len(want):
            return [Difference(path, f"expected {len(want)} items, got {len(got)}", "length")]
        return [d for i, (g, w) in enumerate(zip(got, want))
                for d in differences(g, w, rtol, atol, inputs, sizes, _join(path, f"[{i}]"))]
    if isinstance(want, (str, bool)) or want is None:
        return [] if got == want else [Difference(path, f"expected {want!r}, got {got!r}", "values")]
    return [d for d in [_array_difference(np.asarray(got), np.asarray(want), rtol, atol, inputs, sizes or {}, path)] if d]


def compare(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-8) -> str | None:
    """None when ``got`` matches ``want`` (same kinds, shapes, values within tolerance; NaN equals NaN),
    else one sentence saying how they differ."""
    found = differences(got, want, rtol, atol)
    return describe(found) if found else None


def describe(found: list[Difference], right: Sequence[str] = ()) -> str:
    """The differences as one message: each wrong field with its sentence, then the fields that are right."""
    if len(found) == 1 and not found[0].path:
        return found[0].sentence
    shown = [f"{d.path}: {d.sentence}" if d.path else d.sentence for d in found[:MAX_FIELDS_SHOWN]]
    if len(found) > MAX_FIELDS_SHOWN:
        shown.append(f"and {len(found) - MAX_FIELDS_SHOWN} more fields differ")
    text = "; ".join(shown)
    if right:
        text += f" ({', '.join(right)} {'is' if len(right) == 1 else 'are'} right)"
    return text


def fields(value: Any, path: str = "") -> list[str]:
    """The paths of the leaves of a value (dict keys and list indexes joined with dots)."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in fields(item, _join(path, str(key)))]
    if isinstance(value, list) and value and all(isinstance(item, (dict, list)) for item in value):
        return [leaf for i, item in enumerate(value) for leaf in fields(item, _join(path, f"[{i}]"))]
    return [path]


def _join(path: str, key: str) -> str:
    if key.startswith("["):
        return f"{path}{key}"
    return f"{path}.{key}" if path else key


# ---- arrays and numbers ------------------------------------------------------------------------------

def _array_difference(g: np.ndarray, w: np.ndarray, rtol: float, atol: float, inputs: Sequence[Any],
                      sizes: dict[str, int], path: str) -> Difference | None:
    if w.dtype.kind in "fc" and g.dtype.kind not in "fcb" and g.dtype != object:
        if g.shape == w.shape and _close(g.astype(np.float64), w.astype(np.float64), rtol, atol).all():
            return Difference(path, f"expected floating-point values, got dtype {g.dtype}", "kind")
    if g.dtype == object or w.dtype == object:
        return Difference(path, "expected numbers, got objects", "kind")
    if g.shape != w.shape:
        return _shape_difference(g.astype(np.float64), w.astype(np.float64), rtol, atol, path)
    if w.dtype.kind in "fc" and g.dtype.kind not in "fc":
        return Difference(path, f"expected floating-point values, got dtype {g.dtype}", "kind")
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    ok = _close(g64, w64, rtol, atol)
    if ok.all():
        return None
    for detector in (_non_finite, _zeros, _unchanged, _factor, _offset, _axis, _transposed, _order, _mask):
        found = detector(g64, w64, ok, rtol, atol, inputs, sizes)
        if found:
            sentence, effect, *factor = found
            return Difference(path, sentence, effect, factor[0] if factor else None)
    err = np.where(ok, 0.0, np.abs(np.nan_to_num(g64 - w64, nan=np.inf, posinf=np.inf, neginf=np.inf)))
    where = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    return Difference(path, f"values differ from the expected ones in {int((~ok).sum())} of {ok.size} entries "
                            f"(largest error {err.max():.3g} at index {list(map(int, where))})", "values")


def _close(g: np.ndarray, w: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(g, w, rtol=rtol, atol=atol) | (np.isnan(g) & np.isnan(w)) | ((g == w) & np.isinf(w))


def _shape_difference(g: np.ndarray, w: np.ndarray, rtol: float, atol: float, path: str) -> Difference:
    got, want = tuple(g.shape), tuple(w.shape)
    base = f"expected shape {want}, got shape {got}"
    if g.ndim == w.ndim and sorted(got) == sorted(want):
        for perm in itertools.permutations(range(w.ndim)):
            if tuple(want[i] for i in perm) == got and _close(g, np.transpose(w, perm), rtol, atol).all():
                return Difference(path, f"{base}: the expected values with their axes swapped (transposed)",
                                  "transpose")
    if g.size == w.size and g.size and _close(g.reshape(-1), w.reshape(-1), rtol, atol).all():
        hint = " (keepdims?)" if sorted(d for d in got if d != 1) == sorted(d for d in want if d != 1) else ""
        return Difference(path, f"{base}: the right values in the wrong shape{hint}", "shape")
    if g.ndim == w.ndim:
        off = [(axis, got[axis] - want[axis]) for axis in range(w.ndim) if got[axis] != want[axis]]
        if len(off) == 1 and abs(off[0][1]) == 1:
            axis, delta = off[0]
            more = "one more" if delta > 0 else "one fewer"
            return Difference(path, f"{base}: {more} along axis {axis} (an off-by-one in a size or a range?)", "shape")
    if g.ndim == w.ndim - 1 or g.ndim == w.ndim + 1:
        return Difference(path, f"{base}: an axis {'is missing' if g.ndim < w.ndim else 'too many'} "
                                "(a sum or mean over the wrong axis, or keepdims?)", "shape")
    return Difference(path, base, "shape")


def _non_finite(g, w, ok, rtol, atol, inputs, sizes):
    bad_g = ~np.isfinite(g) & np.isfinite(w)
    if bad_g.any() and np.all(np.isneginf(g[bad_g])):
        where = np.argwhere(bad_g)[0].tolist() if g.ndim else []
        return (f"got -inf at {int(bad_g.sum())} of {g.size} entries (first at {where}) where the expected values are "
                "finite: the log of a probability that underflowed to 0 (compute log-probabilities with log-sum-exp "
                "instead of log(softmax))", "underflow")
    if bad_g.any():
        what = "NaN" if np.isnan(g[bad_g]).any() else "inf"
        where = np.argwhere(bad_g)[0].tolist() if g.ndim else []
        return (f"got {what} at {int(bad_g.sum())} of {g.size} entries (first at {where}) where the expected values "
                "are finite: an overflow (exp of a large number? subtract the maximum first)", "overflow")
    if (np.isnan(w) & ~np.isnan(g)).any():
        return "expected NaN at some positions, got numbers", "values"
    return None


def _zeros(g, w, ok, rtol, atol, inputs, sizes):
    if not np.any(g) and np.any(w):
        return "every value is 0 (nothing computed, or a result never stored?)", "zeros"
    return None


def _unchanged(g, w, ok, rtol, atol, inputs, sizes):
    for value in inputs:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if array.shape == g.shape and np.array_equal(array, g):
            return "the input comes back unchanged (nothing applied to it)", "unchanged"
    return None


def _factor(g, w, ok, rtol, atol, inputs, sizes):
    norm = float(np.dot(w.ravel(), w.ravel()))
    if norm == 0 or not np.all(np.isfinite(g)):
        return None
    c = float(np.dot(g.ravel(), w.ravel())) / norm
    if not math.isfinite(c) or c == 0 or abs(c - 1) < 1e-9:
        return None
    if not _close(g, c * w, max(rtol, 1e-6), atol).all():
        return None
    if abs(c + 1) < 1e-6:
        return "every value has the wrong sign (a minus sign too many or missing?)", "sign", -1.0
    return f"every value is {_ratio(c, sizes)} of the expected: {_factor_hint(c, sizes)}", "factor", c


def _ratio(c: float, sizes: dict[str, int]) -> str:
    """``c`` as a person would say it: "1/32", "32 times", "-0.5 times", "√8 times"."""
    fraction = Fraction(c).limit_denominator(4096)
    if abs(float(fraction) - c) < 1e-6 * abs(c):
        if fraction.denominator == 1:
            return f"{fraction.numerator} times"
        if abs(fraction.numerator) == 1:
            return f"{'-' if fraction.numerator < 0 else ''}1/{fraction.denominator}"
    for name, size in sizes.items():
        for power, label in ((0.5, f"√{size}"), (-0.5, f"1/√{size}")):
            if size > 0 and abs(c - size ** power) < 1e-6 * abs(c):
                return label if power < 0 else f"{label} times"
    return f"{c:.4g} times"


def _factor_hint(c: float, sizes: dict[str, int]) -> str:
    for name, size in sizes.items():
        if size <= 1:
            continue
        if abs(c - size) < 1e-6 * size:
            return f"{size} is {name}: a sum where a mean belongs, or a missing 1/{size}"
        if abs(c * size - 1) < 1e-6:
            return f"{size} is {name}: divided by it once too often, or a mean where a sum belongs"
        if abs(c - math.sqrt(size)) < 1e-6 * c or abs(c * math.sqrt(size) - 1) < 1e-6:
            return f"√{size} is the square root of {name}: a missing or doubled 1/√{size} scaling"
    if abs(abs(c) - 2) < 1e-6 or abs(abs(c) - 0.5) < 1e-6:
        return "a factor 2 too many or missing (e.g. the 2 from the derivative of a square)"
    if abs(c) > 1:
        return "a sum where a mean belongs, or a missing division?"
    return "a division too many, or a mean where a sum belongs?"


def _offset(g, w, ok, rtol, atol, inputs, sizes):
    delta = g - w
    if not np.all(np.isfinite(delta)) or delta.size < 2:
        return None
    shift = float(np.median(delta))
    if shift != 0 and _close(g, w + shift, max(rtol, 1e-6), max(atol, 1e-9)).all():
        return f"every value is off by the same constant ({shift:+.4g}): a term added or missing", "offset"
    return None


def _axis(g, w, ok, rtol, atol, inputs, sizes):
    if w.ndim < 2:
        return None
    ones = [axis for axis in range(w.ndim) if np.allclose(w.sum(axis=axis), 1.0, atol=1e-5)]
    if not ones:
        return None
    for axis in range(g.ndim):
        if axis not in ones and np.allclose(g.sum(axis=axis), 1.0, atol=1e-5):
            return (f"normalised along the wrong axis: your values sum to 1 along axis {axis}, the expected ones "
                    f"along axis {ones[-1]}", "axis")
    return None


def _transposed(g, w, ok, rtol, atol, inputs, sizes):
    if w.ndim >= 2 and w.shape[-1] == w.shape[-2] and _close(g, np.swapaxes(w, -1, -2), rtol, atol).all():
        return "the expected values transposed (the last two axes swapped)", "transpose"
    return None


def _order(g, w, ok, rtol, atol, inputs, sizes):
    if g.ndim == 0 or g.size < 2:
        return None
    for axis in range(g.ndim):
        gs, ws = np.sort(g, axis=axis), np.sort(w, axis=axis)
        if _close(gs, ws, rtol, atol).all():
            return f"the right values in a different order along axis {axis} (rows or items swapped?)", "order"
    if _close(np.sort(g.ravel()), np.sort(w.ravel()), rtol, atol).all():
        return "the right values in a different order", "order"
    return None


def _mask(g, w, ok, rtol, atol, inputs, sizes):
    zero_g, zero_w = np.isclose(g, 0, atol=atol), np.isclose(w, 0, atol=atol)
    extra, lost = zero_w & ~zero_g, zero_g & ~zero_w
    if not (zero_w.any() or zero_g.any()):
        return None
    if extra.any() and not lost.any() and (ok | extra).all():
        where = np.argwhere(extra)[0].tolist()
        return (f"non-zero values at {int(extra.sum())} positions that should be 0 (first at {where}): "
                "a mask lets through what it should block", "mask")
    if lost.any() and not extra.any() and (ok | lost).all():
        where = np.argwhere(lost)[0].tolist()
        return (f"0 at {int(lost.sum())} positions that should not be (first at {where}): "
                "a mask blocks what it should let through", "mask")
    return None
