"""The softmax over the last axis, with its backward pass (given: use it, do not change it)."""
import numpy as np


class Softmax:
    """Each row z (the last axis) -> e^z / sum(e^z). ``forward`` keeps its output A for ``backward``."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        """Z (..., n) -> A (..., n), each row a probability distribution (the row's max is subtracted first,
        so a large negative mask entry becomes an exact 0, never a NaN)."""
        E = np.exp(Z - Z.max(axis=-1, keepdims=True))
        self.A = E / E.sum(axis=-1, keepdims=True)
        return self.A

    def backward(self, dLdA: np.ndarray) -> np.ndarray:
        """dL/dA (..., n) -> dL/dZ (..., n). Each row's Jacobian is diag(a) - a a^T, so
        dL/dz = a * (dL/da - sum(dL/da * a)), row by row, evaluated at the A the last forward returned."""
        return self.A * (dLdA - (dLdA * self.A).sum(axis=-1, keepdims=True))
