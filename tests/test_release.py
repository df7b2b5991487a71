"""What ``release`` rewrites: recorded values that differ only in their last bits stay as they are (a
machine with another summation order must not churn labs/), and any real difference is rewritten."""
from __future__ import annotations

import copy

from autograder.lab import EXPECTED_FILE
from autograder.release import _same_recording
from autograder.sandbox.wire import decode, encode
from conftest import COURSE


def nudged(recording: dict, factor: float) -> dict:
    """The recording with every float of its first call's reference value multiplied by ``factor``."""
    changed = copy.deepcopy(recording)
    entry = changed["calls"][next(iter(changed["calls"]))]
    entry["reference"] = {key: value * factor if isinstance(value, float) else value
                          for key, value in entry["reference"].items()}
    return changed


def test_only_a_real_difference_in_the_recorded_values_is_rewritten() -> None:
    path = COURSE.root / "labs" / "linear_regression" / EXPECTED_FILE
    recording = decode(path.read_bytes())
    assert any(isinstance(value, float) for value in recording["calls"][next(iter(recording["calls"]))]["reference"].values())
    assert _same_recording(path, EXPECTED_FILE, encode(recording))
    assert _same_recording(path, EXPECTED_FILE, encode(nudged(recording, 1 + 1e-12)))  # the last bits
    assert not _same_recording(path, EXPECTED_FILE, encode(nudged(recording, 1.01)))
    assert not _same_recording(path, EXPECTED_FILE, encode({**recording, "thresholds": []}))
    assert not _same_recording(path, "public_tests.py", path.read_bytes())  # only recorded values are compared



def test_the_public_tests_recorded_values_are_compared_the_same_way() -> None:
    """``@recorded`` values (autograd's, here) kept in expected.wire: the last bits are not a difference."""
    path = COURSE.root / "labs" / "attention_backprop" / EXPECTED_FILE
    recording = decode(path.read_bytes())
    key = next(iter(recording["computed"]))

    def scaled(factor: float) -> dict:
        changed = copy.deepcopy(recording)
        changed["computed"][key] = {name: value * factor for name, value in changed["computed"][key].items()}
        return changed

    assert _same_recording(path, EXPECTED_FILE, encode(scaled(1 + 1e-12)))
    assert not _same_recording(path, EXPECTED_FILE, encode(scaled(1.01)))
    assert not _same_recording(path, EXPECTED_FILE, encode({**recording, "computed": {}}))
