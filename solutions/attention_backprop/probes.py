"""Probes: they run your Attention on inputs the grader sends and return plain data (copies of what your
code stored). The grader compares them with PyTorch autograd run on the same inputs, on its side."""
import sys
from types import ModuleType

import numpy as np

LOADED_BEFORE_YOUR_CODE = set(sys.modules)

import attention as attention_module  # noqa: E402 - after the snapshot of the loaded modules
from attention import Attention  # noqa: E402

FORWARD = ("Q", "K", "V", "A_w", "A_sig")
GRADIENTS = ("dLdV", "dLdK", "dLdQ", "dLdWq", "dLdWk", "dLdWv")
FRAMEWORKS = ("torch", "jax", "tensorflow", "autograd")


def _array(value) -> np.ndarray | None:
    """A float64 copy of what your code stored (None stays None, so a missing attribute shows as itself)."""
    return None if value is None else np.array(value, dtype=np.float64)


def _attention(W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray) -> Attention:
    return Attention(W_k.copy(), W_q.copy(), W_v.copy())  # the constructor takes keys, queries, values


def attention_forward(X: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray) -> dict:
    """forward(X): what it returns (X_new) and what it stores."""
    attention = _attention(W_q, W_k, W_v)
    result = {"X_new": _array(attention.forward(X.copy()))}
    result.update({name: _array(getattr(attention, name, None)) for name in FORWARD})
    return result


def attention_backward(X: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray,
                       dLdXnew: np.ndarray) -> dict:
    """forward(X) then backward(dLdXnew): what backward returns (dLdX) and what it stores."""
    attention = _attention(W_q, W_k, W_v)
    attention.forward(X.copy())
    result = {"dLdX": _array(attention.backward(dLdXnew.copy()))}
    result.update({name: _array(getattr(attention, name, None)) for name in GRADIENTS})
    return result


def forward_outputs(inputs: list, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray) -> list:
    """X_new for each input of a list (the grader changes some positions between them)."""
    return [_array(_attention(W_q, W_k, W_v).forward(X.copy())) for X in inputs]


def batch_of(size: int, seed: int, T: int = 4, D: int = 3, Dk: int = 2, Dv: int = 3) -> float:
    """forward and backward on a random batch of ``size`` sequences (the grader counts the lines your code
    runs for two sizes: a line that runs more often for a larger batch is a loop over the batch)."""
    rng = np.random.default_rng(seed)
    attention = _attention(rng.normal(size=(D, Dk)), rng.normal(size=(D, Dk)), rng.normal(size=(D, Dv)))
    X_new = attention.forward(rng.normal(size=(size, T, D)))
    return float(np.sum(attention.backward(np.ones_like(X_new))))


def _framework(value) -> str | None:
    """The framework a module, function or class comes from, if it is one of FRAMEWORKS."""
    name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
    root = name.split(".")[0] if isinstance(name, str) else None
    return root if root in FRAMEWORKS else None


def frameworks_loaded(seed: int) -> list:
    """The deep-learning frameworks your code uses: those loaded since your code was imported (after a
    forward and a backward pass), and those attention.py refers to."""
    batch_of(2, seed)
    found = {name for name in set(sys.modules) - LOADED_BEFORE_YOUR_CODE if name in FRAMEWORKS}
    found |= {_framework(value) for value in vars(attention_module).values()} - {None}
    return sorted(found)
