"""Diagnosis: how a value differs from the expected one, as a sentence and an effect tag."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from autograder.diagnose import compare, differences

NAN = float("nan")
RNG = np.random.default_rng(0)
W = RNG.normal(size=(4, 3))
P = np.exp(W) / np.exp(W).sum(axis=1, keepdims=True)  # rows sum to 1


class SubTensor(torch.Tensor):
    pass


@pytest.mark.parametrize("got, want, problem", [
    (np.zeros(2), np.zeros(2), None),
    (torch.zeros(2), np.zeros(2), "expected a NumPy array, got a torch.Tensor"),
    (np.zeros(2), torch.zeros(2), "expected a torch.Tensor, got a NumPy array"),
    (torch.zeros(2).as_subclass(SubTensor), torch.zeros(2), "expected a torch.Tensor, got SubTensor"),
    (np.zeros(1), np.zeros(()), "expected shape (), got shape (1,): the right values in the wrong shape (keepdims?)"),
    (np.array([NAN, 1.0]), np.array([NAN, 1.0]), None),
    (NAN, NAN, None),
    (torch.tensor([NAN]), torch.tensor([NAN]), None),
    (math.inf, math.inf, None),
    (1.0 + 1e-7, 1.0, None),
    (np.array([1, 2]), np.array([1.0, 2.0]), "expected floating-point values, got dtype int64"),
    (np.array([1.0, 2.0]), np.array([1, 2]), None),
    (True, 1, "expected a number, got a bool"),
    (1, True, "expected a bool, got a number"),
    (False, True, "expected True, got False"),
    (None, 0.0, "expected a number, got None"),
    ("a", "b", "expected 'b', got 'a'"),
    ({"a": 1.0}, {"a": 1.0, "b": 2.0}, "expected keys ['a', 'b']: missing b"),
    ([1.0, 2.0], [1.0, 2.0, 3.0], "expected 3 items, got 2"),
    ({"w": [np.ones(1)]}, {"w": [torch.ones(1)]}, "w[0]: expected a torch.Tensor, got a NumPy array"),
    ([], [], None),
    (np.zeros((0, 3)), np.zeros((0, 3)), None),
])
def test_compare(got: Any, want: Any, problem: str | None) -> None:
    assert compare(got, want) == problem


@pytest.mark.parametrize("rtol, atol, problem", [(1e-5, 1e-8, True), (1e-2, 0.0, False), (0.0, 0.01, False),
                                                  (0.0, 0.001, True)])
def test_compare_tolerances(rtol: float, atol: float, problem: bool) -> None:
    assert (compare(np.array([1.005, 0.0]), np.array([1.0, 0.0]), rtol=rtol, atol=atol) is not None) is problem


@pytest.mark.parametrize("got, want, effect, words", [
    (W * 32, W, "factor", "32 times"),
    (W / 32, W, "factor", "1/32"),
    (-W, W, "sign", "wrong sign"),
    (W * 2, W, "factor", "factor 2"),
    (W + 0.5, W, "offset", "+0.5"),
    (W.T, W, "transpose", "axes swapped"),
    (W[:3], W, "shape", "one fewer along axis 0"),
    (np.zeros_like(W), W, "zeros", "every value is 0"),
    (P / P.sum(axis=0, keepdims=True), P, "axis", "sum to 1 along axis 0"),
    (np.where(W > 5, np.nan, W * np.array([1, 1, np.inf])), W, "overflow", "overflow"),
    (W[::-1], W, "order", "different order along axis 0"),
    (np.triu(W[:3, :3], 1) + np.tril(W[:3, :3]), np.tril(W[:3, :3]), "mask", "should be 0"),
    (np.tril(W[:3, :3], -1), np.tril(W[:3, :3]), "mask", "should not be"),
    (np.array([-np.inf, 0.0]), np.array([-95.0, 0.0]), "underflow", "underflow"),
    (W.sum(axis=0), W, "shape", "an axis is missing"),
    (W[None], W, "shape", "wrong shape"),
])
def test_each_effect_is_recognised(got: np.ndarray, want: np.ndarray, effect: str, words: str) -> None:
    (found,) = differences(got, want)
    assert found.effect == effect and words in found.sentence, found


def test_square_transpose_and_unchanged_input() -> None:
    square = RNG.normal(size=(3, 3))
    assert differences(square.T, square)[0].effect == "transpose"
    x = RNG.normal(size=(5, 2))
    assert differences(x, np.maximum(x, 0), inputs=[x])[0].effect == "unchanged"


def test_a_factor_is_named_by_a_size_the_test_gives() -> None:
    (found,) = differences(W * 16, W, sizes={"the batch size": 16})
    assert "16 is the batch size" in found.sentence and found.factor == pytest.approx(16)
    (found,) = differences(W / 8, W, sizes={"the head size": 64})
    assert "1/8" in found.sentence and "square root of the head size" in found.sentence


def test_fields_of_a_dict_are_judged_one_by_one() -> None:
    got = {"dW": W.T @ np.eye(4)[:, :4] if False else W, "db": W[0] / 4, "loss": 1.0}
    want = {"dW": W, "db": W[0], "loss": 1.0}
    found = differences(got, want)
    assert [d.path for d in found] == ["db"] and found[0].effect == "factor"
