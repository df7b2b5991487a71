"""A feed-forward network: layers applied in turn, a loss on the last layer's logits, an optimizer."""
import numpy as np

from loader import Minibatches
from logger import Logger


class NeuralNetwork:
    """``layers``: FullyConnected layers in order; ``loss``: e.g. CrossEntropy(); ``optimizer``: e.g. SGD."""

    def __init__(self, layers: list, loss, optimizer):
        self.layers = layers
        self.loss = loss
        self.optimizer = optimizer

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X (m, n_in) -> the last layer's output (m, k), the logits."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray:
        """Back-propagate the loss from the logits down to the input; every layer fills its gradients."""
        grad = self.loss.backward(Y, Y_hat)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def update(self) -> None:
        """One optimizer step on every parameter of every layer."""
        for i, layer in enumerate(self.layers):
            for name in list(layer.parameters):
                layer.parameters[name] = self.optimizer.update(f"{i}.{name}", layer.parameters[name],
                                                               layer.gradients[name])

    def train_step(self, X: np.ndarray, Y: np.ndarray) -> float:
        """One step of training on the batch (X, one-hot Y); returns the batch's loss before the step."""
        # ---- TODO begin: forward to the logits, the loss, backward, then update the parameters ----
        raise NotImplementedError('TODO: forward to the logits, the loss, backward, then update the parameters')
        # ---- TODO end ----

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most likely class of each row (m,)."""
        return self.forward(X).argmax(axis=1)

    def fit(self, X: np.ndarray, Y: np.ndarray, epochs: int, batch_size: int, seed: int = 0,
            logger: Logger | None = None) -> list[float]:
        """Minibatch training for ``epochs`` passes over (X, one-hot Y); returns the mean loss of each epoch."""
        logger = logger or Logger()
        batches = Minibatches(X, Y, batch_size, seed=seed)
        for epoch in range(epochs):
            losses = [self.train_step(Xb, Yb) for Xb, Yb in batches]
            logger.log(epoch, loss=float(np.mean(losses)))
        return [entry["loss"] for entry in logger.history]
