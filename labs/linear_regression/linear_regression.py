"""One-variable linear regression, fitted two ways: minibatch SGD with a hand-written gradient, and the
closed-form least-squares line.

The model is y_hat = w * x + b and the loss is the mean squared error L = mean((y_hat - y) ** 2).
Everything is done by hand: no torch.optim, no autograd, no least-squares solver.
"""
import torch


class LinearRegression:
    """A line y_hat = w * x + b; w and b are plain scalar tensors (no nn.Parameter, no autograd)."""

    def __init__(self) -> None:
        self.w = torch.zeros(())  # slope
        self.b = torch.zeros(())  # intercept

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The line's value at each input: x of shape (n,) -> predictions of shape (n,)."""
        # ---- TODO begin: return the line's value at every x (slope and intercept) ----
        raise NotImplementedError("TODO: return the line's value at every x (slope and intercept)")
        # ---- TODO end ----

    def fit_sgd(self, x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, batch_size: int) -> None:
        """Minibatch SGD on the MSE, starting from the current w and b.

        Every epoch visits each sample once, in a fresh random order drawn from torch's RNG, in batches of
        ``batch_size`` samples (the last batch may be smaller). Each batch takes one step
        w -= lr * dL/dw, b -= lr * dL/db, where L is the MSE averaged over that batch.
        """
        n = len(x)
        for epoch in range(epochs):
            # ---- TODO begin: draw this epoch's random order of the n samples (torch's RNG) ----
            raise NotImplementedError("TODO: draw this epoch's random order of the n samples (torch's RNG)")
            # ---- TODO end ----
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                xb, yb = x[batch], y[batch]
                # ---- TODO begin: the MSE gradient of this batch by hand, then one step on w and b ----
                raise NotImplementedError('TODO: the MSE gradient of this batch by hand, then one step on w and b')
                # ---- TODO end ----

    def fit_lse(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Set w and b to the least-squares line in closed form, with centred data:
        w = cov(x, y) / var(x) and b = mean(y) - w * mean(x)."""
        # ---- TODO begin: centre x and y, then the closed-form slope and intercept ----
        raise NotImplementedError('TODO: centre x and y, then the closed-form slope and intercept')
        # ---- TODO end ----
