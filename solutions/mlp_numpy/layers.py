"""A fully connected layer: Y = f(X @ W + b) on a batch X of m rows, and its backward pass."""
import numpy as np

from activations import initialize_activation
from weights import initialize_weights


class FullyConnected:
    """A dense layer with ``n_out`` units; its input size n_in is learnt from the first batch it sees.

    parameters: {"W": (n_in, n_out), "b": (1, n_out)}
    gradients:  dL/dW and dL/db under the same keys, with the same shapes, filled by ``backward``
    cache:      whatever ``forward`` keeps for ``backward``
    """

    def __init__(self, n_out: int, activation: str = "linear", weight_init: str = "xavier_uniform"):
        self.n_in: int | None = None
        self.n_out = n_out
        self.activation = initialize_activation(activation)
        self.init_weights = initialize_weights(weight_init)
        self.parameters: dict[str, np.ndarray] = {}
        self.gradients: dict[str, np.ndarray] = {}
        self.cache: dict[str, np.ndarray] = {}

    def _init_parameters(self, X_shape: tuple[int, int]) -> None:
        """Create W (n_in, n_out) with the weight initialiser, b (1, n_out) with zeros, and gradients
        of zeros with the same shapes."""
        self.n_in = X_shape[1]
        ### BEGIN SOLUTION W from self.init_weights, b zeros; gradients: zeros of the same shapes
        W = self.init_weights((self.n_in, self.n_out))
        b = np.zeros((1, self.n_out))
        self.parameters = {"W": W, "b": b}
        self.gradients = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        ### END SOLUTION

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X (m, n_in) -> Y (m, n_out)."""
        if self.n_in is None:
            self._init_parameters(X.shape)
        ### BEGIN SOLUTION Z = X W + b (b broadcast over the rows), cache X, apply the activation
        Z = X @ self.parameters["W"] + self.parameters["b"]
        self.cache["X"] = X
        return self.activation.forward(Z)
        ### END SOLUTION

    def backward(self, dLdY: np.ndarray) -> np.ndarray:
        """dL/dY (m, n_out) -> dL/dX (m, n_in); stores dL/dW and dL/db in ``self.gradients``."""
        ### BEGIN SOLUTION back through the activation to dL/dZ; store dL/dW and dL/db (the shapes of W and b); return dL/dX
        dLdZ = self.activation.backward(dLdY)
        self.gradients["W"] = self.cache["X"].T @ dLdZ
        self.gradients["b"] = dLdZ.sum(axis=0, keepdims=True)
        return dLdZ @ self.parameters["W"].T
        ### END SOLUTION
