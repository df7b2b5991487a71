"""Activation functions. Each maps a layer's pre-activations Z (m, n) to its outputs Y = f(Z), and
back-propagates: given dL/dY it returns dL/dZ. ``forward`` caches what ``backward`` needs, so call
``forward`` first. Work on whole batches at once: no Python loop over samples."""
import numpy as np


class Activation:
    """The interface: ``forward(Z) -> Y`` and ``backward(dY) -> dZ``, both of shape (m, n)."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dY: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Identity(Activation):
    """f(z) = z: the output layer's activation when the loss takes logits."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        return Z

    def backward(self, dY: np.ndarray) -> np.ndarray:
        return dY


class Sigmoid(Activation):
    """f(z) = 1 / (1 + e^-z), whose derivative f(1 - f) needs only the output."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.Y = 1.0 / (1.0 + np.exp(-Z))
        return self.Y

    def backward(self, dY: np.ndarray) -> np.ndarray:
        return dY * self.Y * (1.0 - self.Y)


class TanH(Activation):
    """f(z) = tanh z, whose derivative 1 - f^2 needs only the output."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.Y = np.tanh(Z)
        return self.Y

    def backward(self, dY: np.ndarray) -> np.ndarray:
        return dY * (1.0 - self.Y ** 2)


class ReLU(Activation):
    """f(z) = max(0, z), element by element; its derivative is 1 where z > 0 and 0 elsewhere."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        ### BEGIN SOLUTION keep Z for backward, return max(0, Z) element-wise
        self.Z = Z
        return np.maximum(Z, 0.0)
        ### END SOLUTION

    def backward(self, dY: np.ndarray) -> np.ndarray:
        ### BEGIN SOLUTION dL/dZ = dL/dY times the derivative of max(0, z), element-wise
        return dY * (self.Z > 0)
        ### END SOLUTION


class SoftMax(Activation):
    """Each row z -> e^z / sum(e^z): a probability distribution over the row's n entries."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        ### BEGIN SOLUTION subtract each row's max before exp (no overflow), normalise each row, keep Y
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        self.Y = E / E.sum(axis=1, keepdims=True)
        return self.Y
        ### END SOLUTION

    def backward(self, dY: np.ndarray) -> np.ndarray:
        ### BEGIN SOLUTION each row's Jacobian is diag(y) - y y^T: return dY @ J for every row at once
        Y = self.Y
        return Y * (dY - (dY * Y).sum(axis=1, keepdims=True))
        ### END SOLUTION


def initialize_activation(name: str) -> Activation:
    """A fresh activation object (it caches its own inputs, so every layer needs its own)."""
    kinds = {"linear": Identity, "identity": Identity, "sigmoid": Sigmoid, "tanh": TanH,
             "relu": ReLU, "softmax": SoftMax}
    if name not in kinds:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(kinds)}")
    return kinds[name]()
